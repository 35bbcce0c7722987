package media

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/httpcache"
)

// Prefix is where the handler is mounted.
const Prefix = "/media/"

var contentTypes = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".webp": "image/webp",
}

// Handler serves the blobs of s at /media/<key>. Keys are never reused, so
// responses may be cached for a year without revalidation. Only known
// image types are served; anything else is a 404, and there are no
// directory listings.
func Handler(s Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, ok := strings.CutPrefix(r.URL.Path, Prefix)
		ctype := contentTypes[strings.ToLower(path.Ext(key))]
		if !ok || ctype == "" || !ValidKey(key) {
			http.NotFound(w, r)
			return
		}
		rc, err := s.Open(r.Context(), key)
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			slog.ErrorContext(r.Context(), "open media", slog.String("key", key), slog.Any("error", err))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+path.Base(key)+`"`)
		if rs, ok := rc.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", time.Time{}, rs)
			return
		}
		if httpcache.Matches(r.Header.Get("If-None-Match"), h.Get("ETag")) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		if _, err := io.Copy(w, rc); err != nil {
			slog.DebugContext(r.Context(), "serve media", slog.String("key", key), slog.Any("error", err))
		}
	})
}
