package media_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

func TestSignedURLs(t *testing.T) {
	ctx := context.Background()
	d, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	public, private := media.NewKey("-320.jpg"), media.NewKey("-320.jpg")
	for _, k := range []string{public, private} {
		if err := d.Put(ctx, k, strings.NewReader("\xFF\xD8\xFF"+k), "image/jpeg"); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 16, 2, 30, 0, time.UTC)
	signer := media.RandomSigner()
	srv := httptest.NewServer(media.Handler(d, media.Access{
		Public: func(_ context.Context, key string) (bool, error) { return key == public, nil },
		Signer: signer,
		Now:    func() time.Time { return now },
	}))
	defer srv.Close()
	get := func(path string) (int, string, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Cache-Control"), string(b)
	}

	if code, cc, body := get("/media/" + public); code != 200 || cc != "public, max-age=3600" || body != "\xFF\xD8\xFF"+public {
		t.Errorf("public blob = %d %q %q", code, cc, body)
	}
	if code, cc, _ := get("/media/" + private); code != 404 || cc != "no-store" {
		t.Errorf("private blob without a signature = %d %q, want 404 no-store", code, cc)
	}

	// Signed at 16:02:30 for the window 16:00–16:05: good until 16:10.
	q := signer.Sign(private, now)
	if again := signer.Sign(private, now.Add(2*time.Minute)); again != q {
		t.Errorf("signed again within the window: %q, want the same %q", again, q)
	}
	code, cc, body := get("/media/" + private + "?" + q)
	if code != 200 || body != "\xFF\xD8\xFF"+private || cc != "private, max-age=450" {
		t.Errorf("signed = %d %q %q, want 200 private, max-age=450", code, cc, body)
	}

	v, _ := url.ParseQuery(q)
	tampered := func(f func(v url.Values)) string {
		w := url.Values{}
		for k, x := range v {
			w[k] = append([]string(nil), x...)
		}
		f(w)
		return w.Encode()
	}
	for name, query := range map[string]string{
		"another key's signature": signer.Sign(public, now),
		"later expiry":            tampered(func(w url.Values) { w.Set("exp", "9999999999") }),
		"changed signature":       tampered(func(w url.Values) { s := w.Get("sig"); w.Set("sig", "A"+s[1:]) }),
		"no signature":            tampered(func(w url.Values) { w.Del("sig") }),
		"no expiry":               tampered(func(w url.Values) { w.Del("exp") }),
		"another secret":          media.RandomSigner().Sign(private, now),
	} {
		if code, cc, _ := get("/media/" + private + "?" + query); code != 403 || cc != "no-store" {
			t.Errorf("%s: %d %q, want 403 no-store", name, code, cc)
		}
	}

	now = now.Add(7*time.Minute + 30*time.Second) // 16:10:00
	if code, _, _ := get("/media/" + private + "?" + q); code != 403 {
		t.Errorf("expired signature = %d, want 403", code)
	}
}

// Replicas share the secret through the database: a URL one signs is
// good on another, and a second load keeps the first secret.
func TestLoadSignerSharesTheSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		a, err := media.LoadSigner(ctx, db, now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := media.LoadSigner(ctx, db, now)
		if err != nil {
			t.Fatal(err)
		}
		q := a.Sign("ab/abcd-320.jpg", now)
		v, _ := url.ParseQuery(q)
		if _, err := b.Check("ab/abcd-320.jpg", v, now); err != nil {
			t.Errorf("a URL signed by one replica, checked by another: %v", err)
		}
		if _, err := media.RandomSigner().Check("ab/abcd-320.jpg", v, now); err == nil {
			t.Error("a signer with another secret accepted the URL")
		}
	})
}
