package httpcache

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMatches(t *testing.T) {
	etag := ETag([]byte("BEGIN:VCALENDAR"))
	if etag != ETag([]byte("BEGIN:VCALENDAR")) || etag == ETag([]byte("BEGIN:VCALENDAR\r\n")) {
		t.Fatal("ETag is not a function of the bytes")
	}
	for header, want := range map[string]bool{
		etag:                     true,
		"W/" + etag:              true,
		`"other", ` + etag:       true,
		`"other", W/` + etag:     true,
		"*":                      true,
		"":                       false,
		`"other"`:                false,
		etag[:len(etag)-2] + `"`: false,
	} {
		if got := Matches(header, etag); got != want {
			t.Errorf("Matches(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestWrite(t *testing.T) {
	body := []byte("<feed/>")
	modified := time.Date(2026, 7, 6, 10, 0, 0, 500, time.UTC)
	get := func(h http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/feeds/stories.atom", nil)
		r.Header = h
		w := httptest.NewRecorder()
		if err := Write(w, r, body, "application/atom+xml", "public, max-age=300", modified); err != nil {
			t.Fatal(err)
		}
		return w
	}
	first := get(http.Header{})
	if first.Code != http.StatusOK || first.Body.String() != string(body) || first.Header().Get("ETag") != ETag(body) ||
		first.Header().Get("Last-Modified") != "Mon, 06 Jul 2026 10:00:00 GMT" || first.Header().Get("Content-Length") != "7" {
		t.Fatalf("first GET: %d %q %v", first.Code, first.Body, first.Header())
	}
	for name, h := range map[string]http.Header{
		"If-None-Match":     {"If-None-Match": {ETag(body)}},
		"If-Modified-Since": {"If-Modified-Since": {"Mon, 06 Jul 2026 10:00:00 GMT"}},
	} {
		if w := get(h); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("%s: %d, want 304", name, w.Code)
		}
	}
	// If-None-Match decides when present, even with a later If-Modified-Since.
	stale := http.Header{"If-None-Match": {`"old"`}, "If-Modified-Since": {"Tue, 07 Jul 2026 10:00:00 GMT"}}
	if w := get(stale); w.Code != http.StatusOK {
		t.Errorf("stale ETag: %d, want 200", w.Code)
	}
}
