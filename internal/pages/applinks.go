package pages

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/httpcache"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// appPaths are the paths the app opens itself when it is installed:
// every page of an object and the app page. The lists and the front page
// stay in the browser.
var appPaths = []string{weblink.Activities + "/*", weblink.Stories + "/*", weblink.Organisations + "/*",
	weblink.Places + "/*", weblink.Calls + "/*", weblink.Slots + "/*", weblink.App}

// appleAssociation serves apple-app-site-association: which iOS apps may
// open which paths of this host as universal links. Without APPLE_APP_IDS
// there is no app to name, and it answers 404.
func (s *Service) appleAssociation(w http.ResponseWriter, r *http.Request) {
	ids := s.opts.Apps.AppleAppIDs
	if len(ids) == 0 {
		http.NotFound(w, r)
		return
	}
	var components []map[string]string
	for _, p := range appPaths {
		components = append(components, map[string]string{"/": p})
	}
	var paths []string
	paths = append(paths, appPaths...)
	doc := map[string]any{
		"applinks": map[string]any{
			// The current form (iOS 13 and later) and the older one.
			"apps":    []string{},
			"details": []map[string]any{{"appIDs": ids, "components": components, "appID": ids[0], "paths": paths}},
		},
	}
	s.writeJSON(w, r, doc)
}

// assetLinks serves Digital Asset Links: the Android app (package and
// signing certificates) that may open this host's links (App Links).
func (s *Service) assetLinks(w http.ResponseWriter, r *http.Request) {
	a := s.opts.Apps
	if a.AndroidPackage == "" || len(a.AndroidFingerprints) == 0 {
		http.NotFound(w, r)
		return
	}
	doc := []map[string]any{{
		"relation": []string{"delegate_permission/common.handle_all_urls"},
		"target": map[string]any{"namespace": "android_app", "package_name": a.AndroidPackage,
			"sha256_cert_fingerprints": a.AndroidFingerprints},
	}}
	s.writeJSON(w, r, doc)
}

func (s *Service) writeJSON(w http.ResponseWriter, r *http.Request, doc any) {
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.log.ErrorContext(r.Context(), "encode app links", slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	_ = httpcache.Write(w, r, append(body, '\n'), "application/json", "public, max-age=3600", time.Time{})
}

// robots lets search engines read the pages and nothing else, and names
// the sitemap.
func (s *Service) robots(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	for _, p := range []string{"/graphql", "/ical/me/", "/explorer/", "/embeds/"} {
		b.WriteString("Disallow: " + p + "\n")
	}
	b.WriteString("Allow: /\n\nSitemap: " + s.links.URL("/sitemap.xml") + "\n")
	_ = httpcache.Write(w, r, []byte(b.String()), "text/plain; charset=utf-8", "public, max-age=3600", time.Time{})
}

type urlset struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemapMax keeps the sitemap one file: the protocol allows 50,000
// addresses in one.
const sitemapMax = 50000

// sitemap lists every public page: upcoming activities, published
// stories, organisations, places and calls, each read as a visitor.
func (s *Service) sitemap(w http.ResponseWriter, r *http.Request) {
	body, last, err := s.buildSitemap(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "build sitemap", slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	_ = httpcache.Write(w, r, body, "application/xml; charset=utf-8", "public, max-age=3600", last)
}

func (s *Service) buildSitemap(r *http.Request) ([]byte, time.Time, error) {
	set := urlset{}
	add := func(loc string, mod time.Time) {
		u := sitemapURL{Loc: loc}
		if !mod.IsZero() {
			u.LastMod = mod.UTC().Format(time.RFC3339)
		}
		set.URLs = append(set.URLs, u)
	}
	add(s.frontURL(), time.Time{})
	add(s.links.URL(weblink.Activities), time.Time{})
	add(s.links.URL(weblink.Stories), time.Time{})

	var after *activity.Key
	for len(set.URLs) < sitemapMax {
		as, err := s.d.Activities.List(ctx(r), anonymous, activity.Filter{From: s.opts.Now()}, after, 500)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, a := range as {
			add(s.links.Activity(a.ID), a.UpdatedAt)
		}
		if len(as) < 500 {
			break
		}
		last := as[len(as)-1]
		after = &activity.Key{StartsAt: last.Occurrence.StartsAt, ID: last.ID}
	}
	var safter *story.Key
	for len(set.URLs) < sitemapMax {
		sts, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{}, safter, 500)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, st := range sts {
			add(s.links.Story(st.ID), st.UpdatedAt)
		}
		if len(sts) < 500 {
			break
		}
		last := sts[len(sts)-1]
		safter = &story.Key{PublishedAt: *last.PublishedAt, ID: last.ID}
	}
	var oafter *organisation.Key
	for len(set.URLs) < sitemapMax {
		os, err := s.d.Organisations.List(ctx(r), anonymous, organisation.Filter{}, oafter, 500)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, o := range os {
			add(s.links.Organisation(o.ID), o.UpdatedAt)
		}
		if len(os) < 500 {
			break
		}
		oafter = &organisation.Key{Name: os[len(os)-1].Name, ID: os[len(os)-1].ID}
	}
	var pafter *place.Key
	for len(set.URLs) < sitemapMax {
		ps, err := s.d.Places.List(ctx(r), anonymous, place.Filter{}, pafter, 500)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, p := range ps {
			add(s.links.Place(p.ID), time.Time{})
		}
		if len(ps) < 500 {
			break
		}
		pafter = &place.Key{Name: ps[len(ps)-1].Name, ID: ps[len(ps)-1].ID}
	}
	calls, err := s.d.Stories.Calls(ctx(r), anonymous, false)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, c := range calls {
		add(s.links.Call(c.ID), time.Time{})
	}
	if len(set.URLs) > sitemapMax {
		set.URLs = set.URLs[:sitemapMax]
	}
	out, err := xml.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("encode sitemap: %w", err)
	}
	// Activities come and go with the clock, so the sitemap has no
	// Last-Modified, only its ETag.
	return append([]byte(xml.Header), append(out, '\n')...), time.Time{}, nil
}
