package explorer

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The page names only files the server has, each with the integrity of
// the embedded bytes; nothing comes from another host.
func TestPageLoadsOnlyEmbeddedFiles(t *testing.T) {
	w := httptest.NewRecorder()
	Page("Vores Ishøj", "/graphql").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(page, `id="graphiql"`) {
		t.Fatalf("page: %d %.200s", w.Code, page)
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page loads from another host: %s", m)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/explorer/[^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 4 {
		t.Fatalf("want 4 embedded files on the page, found %d: %q", len(refs), refs)
	}
	assets := Assets()
	for _, ref := range refs {
		path, sri := ref[1], html.UnescapeString(ref[2])
		if want := integrity(strings.TrimPrefix(path, Prefix)); sri != want {
			t.Errorf("%s: integrity %s, want %s", path, sri, want)
		}
		w := httptest.NewRecorder()
		assets.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK || w.Body.Len() < 1000 {
			t.Errorf("%s: %d, %d bytes", path, w.Code, w.Body.Len())
		}
		ct := w.Header().Get("Content-Type")
		if (strings.HasSuffix(path, ".js") && !strings.Contains(ct, "javascript")) || (strings.HasSuffix(path, ".css") && !strings.HasPrefix(ct, "text/css")) {
			t.Errorf("%s: content type %q", path, ct)
		}
		// A browser that has the file gets a 304.
		again := httptest.NewRequest(http.MethodGet, path, nil)
		again.Header.Set("If-None-Match", w.Header().Get("ETag"))
		w = httptest.NewRecorder()
		assets.ServeHTTP(w, again)
		if w.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, w.Code)
		}
	}
	w = httptest.NewRecorder()
	assets.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Prefix+"nope.js", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("unknown file: %d", w.Code)
	}
}
