// Package pages serves the public web pages of Vores Ishøj: one address
// to share for every published activity, story, organisation, place and
// open call for contributions, plus a small front page. They are
// rendered on the server with html/template and need no JavaScript;
// they carry Open Graph and Twitter card tags for previews on Facebook
// and elsewhere, schema.org JSON-LD for search engines, and links that
// open the app (the app claims the same paths, see applinks.go).
//
// Everything is read through the domain's reads with an anonymous
// caller, so a page shows exactly what a visitor who has not signed in
// may see in the app: nothing unpublished, draft, hidden or private.
package pages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/httpcache"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// Domain is what the pages read, all through reads that take the caller.
type Domain struct {
	Activities    *activity.Service
	Stories       *story.Service
	Organisations *organisation.Service
	Places        *place.Service
	Volunteer     *volunteer.Service
	Links         *link.Service
}

// AppLinks describe the app for the files that let it open links
// (apple-app-site-association, assetlinks.json) and for the pages'
// "get the app" links; empty fields leave out what needs them.
type AppLinks struct {
	// AppleAppIDs are "TEAMID.bundle.id" of the iOS app (APPLE_APP_IDS).
	AppleAppIDs []string
	// AppStoreID is the numeric App Store id (APP_STORE_ID), for the
	// store link and Safari's smart app banner.
	AppStoreID string
	// AndroidPackage is the Android application id (ANDROID_PACKAGE).
	AndroidPackage string
	// AndroidFingerprints are the SHA-256 fingerprints of the signing
	// certificates, "AB:CD:…" (ANDROID_CERT_FINGERPRINTS).
	AndroidFingerprints []string
}

// Options configure the pages.
type Options struct {
	// PublicURL is where people reach the server; every link, canonical
	// address and image URL starts with it.
	PublicURL string
	// Production serves the front page at "/" (GraphiQL has it in
	// development); it is at /forside in both.
	Production bool
	Now        func() time.Time
	Apps       AppLinks
	// Embeds fetches the titles and thumbnails of YouTube links; nil
	// shows link cards without them.
	Embeds *Embeds
	// RateLimit counts every request to the pages per client address
	// (ClientIPHeader as for /graphql); over it a page answers 429 with
	// Retry-After, in the reader's language. nil limits nothing.
	RateLimit      ratelimit.Limiter
	ClientIPHeader string
	Log            *slog.Logger
}

// Service renders the pages.
type Service struct {
	d     Domain
	opts  Options
	links weblink.Links
	tmpl  *templates
	log   *slog.Logger
}

// anonymous is the caller every page reads as: a visitor not signed in.
var anonymous = user.Caller{}

// cacheControl lets browsers and proxies keep a page five minutes; the
// ETag makes the next look a 304 when nothing changed.
const cacheControl = "public, max-age=300"

// FrontPath is the front page's own path in every environment.
const FrontPath = "/forside"

// New returns the pages of d.
func New(d Domain, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Service{d: d, opts: opts, links: weblink.New(opts.PublicURL), tmpl: t, log: opts.Log}, nil
}

// Register adds the pages' routes to mux, each behind the rate limit.
func (s *Service) Register(mux *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, ratelimit.PerAddress(s.opts.RateLimit, s.opts.ClientIPHeader, s.log, s.refuse, h))
	}
	handle("GET "+weblink.Activities+"/{id}", s.serve(s.activityPage))
	handle("GET "+weblink.Stories+"/{id}", s.serve(s.storyPage))
	handle("GET "+weblink.Organisations+"/{id}", s.serve(s.organisationPage))
	handle("GET "+weblink.Places+"/{id}", s.serve(s.placePage))
	handle("GET "+weblink.Calls+"/{id}", s.serve(s.callPage))
	handle("GET "+weblink.Slots+"/{id}", s.slotRedirect)
	handle("GET "+weblink.Activities+"/{$}", s.serve(s.activitiesPage))
	handle("GET "+weblink.Activities, s.serve(s.activitiesPage))
	handle("GET "+weblink.Stories+"/{$}", s.serve(s.storiesPage))
	handle("GET "+weblink.Stories, s.serve(s.storiesPage))
	handle("GET "+weblink.App, s.serve(s.appPage))
	handle("GET "+FrontPath, s.serve(s.frontPage))
	if s.opts.Production {
		handle("GET /{$}", s.serve(s.frontPage))
	}
	handle("GET /sitemap.xml", s.sitemap)
	handle("GET /robots.txt", s.robots)
	handle("GET /.well-known/apple-app-site-association", s.appleAssociation)
	handle("GET /apple-app-site-association", s.appleAssociation)
	handle("GET /.well-known/assetlinks.json", s.assetLinks)
	if s.opts.Embeds != nil {
		handle("GET "+embedPrefix+"{key}", s.opts.Embeds.serveThumb)
	}
}

// refuse answers a request over the rate limit with a page saying when
// to try again, in the reader's language.
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, retryAfter int) {
	s.writeStatus(w, r, s.language(r), http.StatusTooManyRequests, map[string]any{"Seconds": retryAfter})
}

// frontURL is the canonical address of the front page.
func (s *Service) frontURL() string {
	if s.opts.Production {
		return s.links.URL("/")
	}
	return s.links.URL(FrontPath)
}

// errGone marks something that was public once and is not any more.
var errGone = errors.New("no longer public")

// redirect is a page that answers with a redirect instead.
type redirect struct{ to string }

func (r redirect) Error() string { return "redirect to " + r.to }

// renderFunc builds one page for a request in a language.
type renderFunc func(r *http.Request, l *lang) (*page, error)

// serve runs fn and answers its page, or 404, 410 or a redirect.
func (s *Service) serve(fn renderFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.language(r)
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		p, err := fn(r, l)
		var re redirect
		switch {
		case err == nil:
		case errors.As(err, &re):
			to := re.to
			if strings.HasPrefix(to, "/") {
				to = s.links.URL(to)
			}
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		case store.IsNotFound(err):
			s.writeError(w, r, l, http.StatusNotFound)
			return
		case errors.Is(err, errGone):
			s.writeError(w, r, l, http.StatusGone)
			return
		default:
			s.log.ErrorContext(r.Context(), "render page", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
			s.writeError(w, r, l, http.StatusInternalServerError)
			return
		}
		body, err := s.render(p, l)
		if err != nil {
			s.log.ErrorContext(r.Context(), "render page", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
			s.writeError(w, r, l, http.StatusInternalServerError)
			return
		}
		if err := httpcache.Write(w, r, body, "text/html; charset=utf-8", cacheControl, p.LastModified); err != nil {
			s.log.DebugContext(r.Context(), "write page", slog.String("error", err.Error()))
		}
	}
}

// writeError answers status with a small page in the reader's language.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, l *lang, status int) {
	s.writeStatus(w, r, l, status, nil)
}

// writeStatus is writeError with the parameters of the message.
func (s *Service) writeStatus(w http.ResponseWriter, r *http.Request, l *lang, status int, params map[string]any) {
	key := "pages.not_found"
	switch status {
	case http.StatusGone:
		key = "pages.gone"
	case http.StatusTooManyRequests:
		key = "pages.rate_limited"
	case http.StatusInternalServerError:
		key = "pages.error"
	}
	p := &page{Kind: "message", Title: l.T(key + ".title"), Description: l.TP(key+".body", params), NoIndex: true}
	p.Body = p.Description
	var body []byte
	b, err := s.render(p, l)
	if err == nil {
		body = b
	} else {
		body = []byte(p.Title)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// idOf reads the global id of typ in the path, or for links handed out
// before global ids, a plain number: those answer with a redirect to the
// global-id address, so one address stays canonical.
func idOf(r *http.Request, typ, path string) (int64, error) {
	raw := r.PathValue("id")
	if t, id, ok := gid.Decode(raw); ok && t == typ {
		return id, nil
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n > 0 && len(raw) < 20 {
		return 0, redirect{to: path + "/" + gid.Encode(typ, n) + query(r)}
	}
	return 0, fmt.Errorf("page id %q: %w", raw, store.ErrNotFound)
}

// query is the request's query string with its question mark, or "".
func query(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

func (s *Service) render(p *page, l *lang) ([]byte, error) {
	p.Lang, p.Dir = l.Code, l.Dir
	if p.Description == "" {
		// Previews want a description; a thing without one of its own
		// gets the site's.
		p.Description = l.T("pages.front.intro")
	}
	p.Site = l.T("pages.site_name")
	p.FrontURL = s.frontURL()
	p.ActivitiesURL = s.links.URL(weblink.Activities)
	p.StoriesURL = s.links.URL(weblink.Stories)
	p.AppURL = s.links.URL(weblink.App)
	p.FeedURL = s.links.URL("/feeds/stories.atom")
	p.CalendarURL = s.links.URL("/ical/activities.ics")
	p.Stores = s.stores()
	p.AppStoreID = s.opts.Apps.AppStoreID
	if p.Canonical != "" {
		p.Languages = languageLinks(p.Canonical, l.Code)
		p.Canonical = withLang(p.Canonical, l.explicit)
	}
	var buf bytes.Buffer
	if err := s.tmpl.execute(&buf, l.Code, p); err != nil {
		return nil, fmt.Errorf("page %s: %w", p.Kind, err)
	}
	return buf.Bytes(), nil
}

// stores are the app's store pages, as far as the settings name them.
func (s *Service) stores() []storeLink {
	var out []storeLink
	if s.opts.Apps.AppStoreID != "" {
		out = append(out, storeLink{Name: "App Store", URL: "https://apps.apple.com/dk/app/id" + s.opts.Apps.AppStoreID})
	}
	if s.opts.Apps.AndroidPackage != "" {
		out = append(out, storeLink{Name: "Google Play", URL: "https://play.google.com/store/apps/details?id=" + s.opts.Apps.AndroidPackage})
	}
	return out
}

// withLang adds ?lang= to u for a language asked for in the address, so
// each language version is its own canonical page.
func withLang(u, explicit string) string {
	if explicit == "" {
		return u
	}
	return u + "?lang=" + explicit
}

// ctx is the request's context; named so the page builders read well.
func ctx(r *http.Request) context.Context { return r.Context() }

// paragraphs splits text at blank lines, for bodies written in the app.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// summary is the start of text as one line, for descriptions and cards.
func summary(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= max {
		return text
	}
	cut := string(r[:max])
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:–-") + "…"
}

// Route reports whether path is one of the pages' (for the route label
// of metrics and traces).
func Route(path string) bool {
	switch path {
	case FrontPath, "/sitemap.xml", "/robots.txt", "/.well-known/apple-app-site-association",
		"/apple-app-site-association", "/.well-known/assetlinks.json", weblink.App:
		return true
	}
	for p := range weblink.Types {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return strings.HasPrefix(path, embedPrefix)
}
