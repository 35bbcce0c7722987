package feed

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/ishoj/voresishoj/internal/httpcache"
	"github.com/ishoj/voresishoj/internal/urlparam"
)

// Handler serves the story feeds under /feeds/; the app mounts it there as is:
//
//	GET /feeds/stories.atom?organisation=<id>&theme=<slug>&featured=true
//	GET /feeds/stories.rss?organisation=<id>&theme=<slug>&featured=true
//
// organisation takes a database id or a GraphQL global id; featured=false
// is the same as leaving it out. Feed readers cannot sign in, so nothing
// here reads the caller, and only published stories are shown.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/stories.atom", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, Atom, "application/atom+xml; charset=utf-8")
	})
	mux.HandleFunc("GET /feeds/stories.rss", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, RSS, "application/rss+xml; charset=utf-8")
	})
	return mux
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request, format Format, contentType string) {
	f, msg := parseFilter(r)
	if msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	doc, err := s.render(r.Context(), format, f)
	var unknown errUnknown
	if errors.As(err, &unknown) {
		http.Error(w, unknown.what+" not found", http.StatusNotFound)
		return
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.ErrorContext(r.Context(), "render story feed", "path", r.URL.Path, "error", err)
		}
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}

	if err := httpcache.Write(w, r, doc.body, contentType, "public, max-age=300", doc.lastModified); err != nil {
		s.log.DebugContext(r.Context(), "write story feed", "error", err)
	}
}

// parseFilter reads the query string, returning a message for the client
// when a value is malformed.
func parseFilter(r *http.Request) (Filter, string) {
	q := r.URL.Query()
	var f Filter
	var ok bool
	if v := q.Get("organisation"); v != "" {
		if f.OrganisationID, ok = urlparam.ID(v, "Organisation"); !ok {
			return f, "invalid organisation"
		}
	}
	if v := q.Get("theme"); v != "" {
		if f.Theme, ok = urlparam.Theme(v); !ok {
			return f, "invalid theme"
		}
	}
	if v := q.Get("featured"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, "invalid featured: want true or false"
		}
		f.FeaturedOnly = b
	}
	return f, ""
}
