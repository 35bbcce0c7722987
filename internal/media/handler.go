package media

import (
	"context"
	"errors"
	"fmt"
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

// PublicMaxAge is how long browsers and proxies may keep a public blob (a
// photo of a published story). Keys are never reused, so a year would be
// safe for the bytes; but a story that is hidden, rejected or deleted must
// stop being shown, and an hour is how long a copy may outlive that.
const PublicMaxAge = time.Hour

// Access decides who may fetch a blob.
type Access struct {
	// Public reports whether anyone may fetch the blob at key (a photo of
	// a published story). It is asked on every request without a
	// signature; blobs it does not know are answered 404.
	Public func(ctx context.Context, key string) (bool, error)
	// Signer checks the signed URLs through which the rest is served to
	// those the domain allows (see Signer.Sign).
	Signer *Signer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Handler serves the blobs of s at /media/<key>. A public blob (a.Public)
// is served to anyone and may be cached for PublicMaxAge. Any other blob
// is served only at a URL a.Signer signed, privately and for no longer
// than the signature holds; without a signature it is a 404, so nobody
// learns it exists, and with a wrong or expired one a 403. Only known
// image types are served; anything else is a 404, and there are no
// directory listings.
//
// With w (and h and fit) in the query the handler serves a resized copy
// (Image.Path), made on the first request and cached in s: only the
// variants of Widths and Ratios, anything else is a 400. Who may fetch a
// variant is who may fetch its source, by the same URL rules.
func Handler(s Store, a Access) http.Handler {
	if a.Public == nil || a.Signer == nil {
		panic("media: Handler needs Access.Public and Access.Signer")
	}
	now := a.Now
	if now == nil {
		now = time.Now
	}
	vs := &variants{store: s}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, ok := strings.CutPrefix(r.URL.Path, Prefix)
		ctype := contentTypes[strings.ToLower(path.Ext(key))]
		if !ok || ctype == "" || !ValidKey(key) || isVariantKey(key) {
			refuse(w, http.StatusNotFound)
			return
		}
		var cacheControl string
		if q := r.URL.Query(); q.Has("sig") || q.Has("exp") {
			left, err := a.Signer.Check(key, q, now())
			if err != nil {
				refuse(w, http.StatusForbidden)
				return
			}
			cacheControl = fmt.Sprintf("private, max-age=%d", int(left/time.Second))
		} else {
			public, err := a.Public(r.Context(), key)
			if err != nil {
				slog.ErrorContext(r.Context(), "may media be shown", slog.String("key", key), slog.Any("error", err))
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if !public {
				refuse(w, http.StatusNotFound)
				return
			}
			cacheControl = fmt.Sprintf("public, max-age=%d", int(PublicMaxAge/time.Second))
		}
		v, err := parseVariant(r.URL.Query())
		if err != nil {
			refuse(w, http.StatusBadRequest)
			return
		}
		var rc io.ReadCloser
		etag := path.Base(key)
		if v.IsSource() {
			rc, err = s.Open(r.Context(), key)
		} else {
			rc, _, err = vs.open(r.Context(), key, v)
			etag = strings.TrimSuffix(path.Base(variantKey(key, v)), ".jpg") + "-" + etag
			ctype = ContentType
		}
		if errors.Is(err, ErrNotFound) {
			refuse(w, http.StatusNotFound)
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
		h.Set("Cache-Control", cacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+etag+`"`)
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

// refuse answers a blob that is not there or not for this request. The
// answer is not to be kept: a photo refused now may be published in a
// minute.
func refuse(w http.ResponseWriter, code int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(code), code)
}
