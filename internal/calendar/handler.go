package calendar

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/httpcache"
	"github.com/ishoj/voresishoj/internal/urlparam"
)

// Handler serves the feeds under /ical/; the app mounts it there as is:
//
//	GET /ical/me/{token}.ics
//	GET /ical/activities.ics?organisation=<id>&place=<id>&theme=<slug>
//
// Calendar apps cannot sign in, so neither route reads the caller.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	// "{token}.ics" is not a valid pattern segment, so the segment is
	// matched whole and the suffix taken off here.
	mux.HandleFunc("GET /ical/me/{file}", s.servePersonal)
	mux.HandleFunc("GET /ical/activities.ics", s.servePublic)
	return mux
}

func (s *Service) servePersonal(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || !wellFormedToken(token) {
		notFound(w)
		return
	}
	body, err := s.personalFeed(r.Context(), token)
	if errors.Is(err, errNoFeed) {
		notFound(w)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The feed is one person's: shared caches must not keep it.
	s.write(w, r, body, "private, max-age=300")
}

func (s *Service) servePublic(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f Filter
	var ok bool
	if v := q.Get("organisation"); v != "" {
		if f.OrganisationID, ok = urlparam.ID(v, "Organisation"); !ok {
			http.Error(w, "invalid organisation", http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("place"); v != "" {
		if f.PlaceID, ok = urlparam.ID(v, "Place"); !ok {
			http.Error(w, "invalid place", http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("theme"); v != "" {
		if f.Theme, ok = urlparam.Theme(v); !ok {
			http.Error(w, "invalid theme", http.StatusBadRequest)
			return
		}
	}
	body, err := s.publicFeed(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.write(w, r, body, "public, max-age=300")
}

// write sends body with an ETag of its content, answering a matching
// If-None-Match with 304 so polling calendar apps cost little bandwidth.
func (s *Service) write(w http.ResponseWriter, r *http.Request, body []byte, cacheControl string) {
	if err := httpcache.Write(w, r, body, "text/calendar; charset=utf-8", cacheControl, time.Time{}); err != nil {
		s.log.DebugContext(r.Context(), "write calendar feed", "error", err)
	}
}

// notFound says nothing about why: an unknown, revoked and malformed token
// look the same to whoever holds it.
func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.ErrorContext(r.Context(), "render calendar feed", "path", r.URL.Path, "error", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
