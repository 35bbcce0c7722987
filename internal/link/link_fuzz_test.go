package link

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzNormalise checks that an accepted link is always https, points to a
// host that fits its kind, carries no credentials, and is left as it is
// when normalised again (it is stored normalised and edited later).
func FuzzNormalise(f *testing.F) {
	kinds := []Kind{Facebook, Instagram, YouTube, Web, "TIKTOK"}
	for _, s := range []struct {
		kind       uint8
		raw, label string
	}{
		{0, "https://www.facebook.com/ishoj", "Ishøj på Facebook"},
		{0, "http://FB.me/x#top", ""},
		{1, "https://instagram.com/ishoj?igsh=1", " label "},
		{2, "https://youtu.be/dQw4w9WgXcQ?t=1", ""},
		{2, "https://m.youtube.com/watch?v=x&list=y", ""},
		{3, "https://ishoj.dk/kultur/", "Kultur"},
		{3, "javascript:alert(1)", ""},
		{3, "https://user:pass@ishoj.dk/", ""},
		{3, "https://ishoj.dk:8443/a%20b", ""},
		{3, "https://[::1]:443/", ""},
		{0, "https://facebook.com.evil.example/", ""},
		{3, "//ishoj.dk/", ""},
		{3, "https://xn--ishj-3pa.dk/æøå?q=å", ""},
		{4, "https://ishoj.dk/", ""},
	} {
		f.Add(s.kind, s.raw, s.label)
	}
	f.Fuzz(func(t *testing.T, k uint8, raw, label string) {
		kind := kinds[int(k)%len(kinds)]
		l, err := Normalise(kind, raw, label, "url")
		if err != nil {
			return
		}
		u, err := url.Parse(l.URL)
		if err != nil {
			t.Fatalf("Normalise(%s, %q) = %q, which does not parse: %v", kind, raw, l.URL, err)
		}
		if u.Scheme != "https" || u.Host == "" || u.User != nil {
			t.Fatalf("Normalise(%s, %q) = %q: not an https URL with a host and no credentials", kind, raw, l.URL)
		}
		if kind != Web {
			host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
			if !slices.Contains(hostsByKind[kind], host) {
				t.Fatalf("Normalise(%s, %q) = %q: host %q is not one for the kind", kind, raw, l.URL, host)
			}
		}
		if l.Kind != kind || l.Label != strings.TrimSpace(l.Label) {
			t.Fatalf("Normalise(%s, %q, %q) = %+v", kind, raw, label, l)
		}
		again, err := Normalise(kind, l.URL, l.Label, "url")
		if err != nil {
			t.Fatalf("Normalise(%s, %q) = %q, which is then refused: %v", kind, raw, l.URL, err)
		}
		if again != l {
			t.Fatalf("Normalise(%s, %q) = %+v, then %+v: not idempotent", kind, raw, l, again)
		}
	})
}
