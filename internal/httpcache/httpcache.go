// Package httpcache answers the conditional GETs of clients that poll: an
// ETag made from the body, and RFC 9110's If-None-Match and
// If-Modified-Since checks, so calendar apps, feed readers and the app's
// image cache get a 304 for what has not changed.
package httpcache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ETag is a strong validator of body: a quoted hash of its bytes, so the
// same bytes always carry the same tag.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// Matches reports whether an If-None-Match header value names etag, by
// the weak comparison RFC 9110 prescribes for it ("*" matches anything).
func Matches(ifNoneMatch, etag string) bool {
	for _, candidate := range strings.Split(ifNoneMatch, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}

// NotModified reports whether r may be answered 304 Not Modified, in RFC
// 9110's order: If-None-Match decides when present, and only without it
// is If-Modified-Since compared with lastModified (when known).
func NotModified(r *http.Request, etag string, lastModified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return Matches(inm, etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || lastModified.IsZero() {
		return false
	}
	since, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	// The header has whole seconds only.
	return !lastModified.Truncate(time.Second).After(since)
}

// Write sends body as a GET or HEAD answer with its ETag, and
// Last-Modified when lastModified is known, or 304 Not Modified when the
// client has it already. The error is the client's connection's.
func Write(w http.ResponseWriter, r *http.Request, body []byte, contentType, cacheControl string, lastModified time.Time) error {
	etag := ETag(body)
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	if !lastModified.IsZero() {
		h.Set("Last-Modified", lastModified.UTC().Format(http.TimeFormat))
	}
	if NotModified(r, etag, lastModified) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(body)
	return err
}
