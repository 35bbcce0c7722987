package pages

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/ishoj/voresishoj/internal/i18n"
)

//go:embed templates/*.html templates/style.css
var files embed.FS

// page is what every template gets: the frame (head, header, footer)
// and the Body of its kind.
type page struct {
	Kind        string // the template: activity, story, …
	Title       string
	Description string
	// Canonical is the page's address without ?lang=; render adds the
	// language when the address chose it.
	Canonical string
	// Image is the preview image (Open Graph, Twitter), absolute.
	Image               *image
	OGType              string // "website", "article"
	JSONLD              template.JS
	NoIndex             bool
	LastModified        time.Time
	OpenInApp           template.URL // the app's own link to this page's object
	Published, Modified time.Time
	Body                any

	// Filled by render.
	Lang, Dir                                   string
	Site                                        string
	FrontURL, ActivitiesURL, StoriesURL, AppURL string
	FeedURL, CalendarURL                        string
	Languages                                   []languageLink
	Stores                                      []storeLink
	AppStoreID                                  string
}

type image struct {
	URL           string
	Alt           string
	Width, Height int
}

type storeLink struct{ Name, URL string }

// kinds are the page templates, each file defining "content".
var kinds = []string{"front", "activity", "story", "organisation", "place", "call", "activities", "stories", "app", "message"}

// templates holds each kind of page in each language: the message
// function is bound to the language when the set is cloned.
type templates struct {
	byLang map[string]map[string]*template.Template
}

func parseTemplates() (*templates, error) {
	style, err := files.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	t := &templates{byLang: map[string]map[string]*template.Template{}}
	langs := append([]string{}, i18n.Supported()...)
	for _, code := range langs {
		l := &lang{Code: code}
		funcs := template.FuncMap{
			"t":     l.T,
			"tp":    func(key string, kv ...any) string { return l.TP(key, pairs(kv)) },
			"date":  l.Date,
			"clock": l.Clock,
			"when":  l.When,
			"iso":   func(t time.Time) string { return t.Format(time.RFC3339) },
			"style": func() template.CSS { return template.CSS(style) },
		}
		base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		t.byLang[code] = map[string]*template.Template{}
		for _, k := range kinds {
			c, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := c.ParseFS(files, "templates/"+k+".html"); err != nil {
				return nil, fmt.Errorf("parse %s: %w", k, err)
			}
			t.byLang[code][k] = c
		}
	}
	return t, nil
}

// pairs makes a map of alternating keys and values.
func pairs(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

func (t *templates) execute(w io.Writer, code string, p *page) error {
	set, ok := t.byLang[code]
	if !ok {
		set = t.byLang[i18n.Default]
	}
	tmpl, ok := set[p.Kind]
	if !ok {
		return fmt.Errorf("no template %q", p.Kind)
	}
	return tmpl.ExecuteTemplate(w, "layout.html", p)
}
