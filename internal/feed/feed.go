// Package feed serves Atom and RSS 2.0 feeds of published stories, so the
// municipality's website and ordinary feed readers can follow what residents
// write without the app. The feeds are built with gorilla/feeds; the few
// things it cannot express (several categories per item, the author's name
// without an e-mail address, the feed's language and self link) are added to
// the structures it produces before they are written out.
package feed

import (
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/feeds"

	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/weblink"
)

const (
	// maxStories is how many stories one feed carries; readers only look
	// at the newest, and the feed is rebuilt on every poll.
	maxStories = 50
	// summaryLen is roughly how many characters of the body the summary keeps.
	summaryLen = 300

	feedTitle     = "Vores Ishøj – historier"
	anonymous     = "Anonym"
	xmlNamespace  = "http://www.w3.org/XML/1998/namespace"
	atomNamespace = "http://www.w3.org/2005/Atom"
	dcNamespace   = "http://purl.org/dc/elements/1.1/"
)

// emptyUpdated stands in for the newest story's time when a feed has none:
// Atom requires <updated>, and taking the clock would change the body, and
// so the ETag, on every poll.
var emptyUpdated = time.Unix(0, 0).UTC()

// Service renders the story feeds.
type Service struct {
	db        *store.DB
	publicURL string
	log       *slog.Logger
}

// NewService returns a Service whose links point at publicURL, the address
// the app and website are reached at (e.g. https://voresishoj.dk).
func NewService(db *store.DB, publicURL string) *Service {
	return &Service{db: db, publicURL: strings.TrimRight(publicURL, "/"), log: slog.Default()}
}

// Filter narrows a feed. Zero values mean "any".
type Filter struct {
	OrganisationID int64
	Theme          string
	FeaturedOnly   bool
}

// Format is the kind of feed document.
type Format string

const (
	Atom Format = "atom"
	RSS  Format = "rss"
)

// rendered is a feed document and the time its content last changed.
type rendered struct {
	body         []byte
	lastModified time.Time // zero when nothing matches the filter
}

// story is one published story of a feed.
type story struct {
	ID          int64      `db:"id"`
	Title       string     `db:"title"`
	Body        string     `db:"body"`
	AuthorName  string     `db:"author_name"`
	PublishedAt store.Time `db:"published_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
}

type photo struct {
	StoryID  int64  `db:"story_id"`
	AltText  string `db:"alt_text"`
	KeyLarge string `db:"key_large"`
}

// errUnknown means the filter names an organisation or theme that does not
// exist; the handler answers 404 rather than an empty feed that would look
// like a working subscription.
type errUnknown struct{ what string }

func (e errUnknown) Error() string { return "feed: unknown " + e.what }

// render builds the feed document of format for the stories matching f.
func (s *Service) render(ctx context.Context, format Format, f Filter) (rendered, error) {
	title := feedTitle
	if f.OrganisationID != 0 {
		var name string
		err := store.Get(ctx, s.db, &name, `SELECT name FROM organisations WHERE id = ?`, f.OrganisationID)
		if store.IsNotFound(err) {
			return rendered{}, errUnknown{"organisation"}
		}
		if err != nil {
			return rendered{}, fmt.Errorf("organisation %d of story feed: %w", f.OrganisationID, err)
		}
		title += " – " + name
	}
	if f.Theme != "" {
		var n int
		if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM themes WHERE slug = ?`, f.Theme); err != nil {
			return rendered{}, fmt.Errorf("theme %q of story feed: %w", f.Theme, err)
		}
		if n == 0 {
			return rendered{}, errUnknown{"theme"}
		}
	}

	stories, err := s.stories(ctx, f)
	if err != nil {
		return rendered{}, err
	}
	lastModified, err := s.lastModified(ctx, f)
	if err != nil {
		return rendered{}, err
	}
	ids := make([]int64, len(stories))
	for i, st := range stories {
		ids[i] = st.ID
	}
	themes, err := s.themesOf(ctx, ids)
	if err != nil {
		return rendered{}, err
	}
	photos, err := s.firstPhotos(ctx, ids)
	if err != nil {
		return rendered{}, err
	}

	// The feed's own time comes from its stories, never the clock, so an
	// unchanged feed renders to the same bytes and keeps its ETag.
	updated := emptyUpdated
	feed := &feeds.Feed{
		Title:       title,
		Link:        &feeds.Link{Href: s.publicURL + weblink.Stories, Rel: "alternate"},
		Description: "Historier fra fællesskabet i Ishøj",
	}
	for _, st := range stories {
		changed := latest(st.UpdatedAt, st.PublishedAt.Time)
		updated = latest(updated, changed)
		link := s.storyURL(st.ID)
		item := &feeds.Item{
			Title:       st.Title,
			Link:        &feeds.Link{Href: link},
			Id:          link,
			IsPermaLink: "true",
			Author:      &feeds.Author{Name: authorName(st.AuthorName)},
			Description: summary(st.Body),
			Created:     st.PublishedAt.UTC(),
			Updated:     changed.UTC(),
		}
		if p, ok := photos[st.ID]; ok {
			// The size of the rendition is not stored; RSS asks for 0 then.
			item.Enclosure = &feeds.Enclosure{Url: s.publicURL + "/media/" + p.KeyLarge, Type: imageType(p.KeyLarge), Length: "0"}
		}
		feed.Add(item)
	}
	feed.Updated = updated.UTC()
	feed.Created = updated.UTC()

	var doc any
	self := s.feedURL(format, f)
	switch format {
	case Atom:
		doc = atomDoc(feed, self, stories, themes)
	case RSS:
		doc = rssDoc(feed, self, stories, themes)
	default:
		return rendered{}, fmt.Errorf("feed: unknown format %q", format)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return rendered{}, fmt.Errorf("marshal %s story feed: %w", format, err)
	}
	body := append([]byte(xml.Header), out...)
	return rendered{body: append(body, '\n'), lastModified: lastModified}, nil
}

// storyFilter returns the WHERE conditions of f beyond the status, and
// their arguments; both the feed and its Last-Modified use it.
func storyFilter(f Filter) (string, []any) {
	var where string
	var args []any
	if f.OrganisationID != 0 {
		where += ` AND s.organisation_id = ?`
		args = append(args, f.OrganisationID)
	}
	if f.FeaturedOnly {
		where += ` AND s.featured = ?`
		args = append(args, true)
	}
	if f.Theme != "" {
		where += ` AND EXISTS (SELECT 1 FROM story_themes t WHERE t.story_id = s.id AND t.theme = ?)`
		args = append(args, f.Theme)
	}
	return where, args
}

// stories returns the newest published stories matching f, newest first.
func (s *Service) stories(ctx context.Context, f Filter) ([]story, error) {
	where, args := storyFilter(f)
	// published_at is set whenever a story is published; the fallback keeps
	// a row written some other way from sorting as NULL (first on PostgreSQL).
	query := `SELECT s.id, s.title, s.body, s.author_name,
			COALESCE(s.published_at, s.updated_at) AS published_at, s.updated_at
		FROM stories s
		WHERE s.status = 'PUBLISHED'` + where + `
		ORDER BY COALESCE(s.published_at, s.updated_at) DESC, s.id DESC
		LIMIT ?`
	var out []story
	if err := store.Select(ctx, s.db, &out, query, append(args, maxStories)...); err != nil {
		return nil, fmt.Errorf("stories for feed: %w", err)
	}
	return out, nil
}

// lastModified is the newest change to any story the filter matches,
// whatever its status: hiding or withdrawing a story takes it out of the
// feed, and a client that only sends If-Modified-Since must see that as a
// change. Every status change sets updated_at.
func (s *Service) lastModified(ctx context.Context, f Filter) (time.Time, error) {
	where, args := storyFilter(f)
	var t struct {
		Updated   store.Time `db:"updated"`
		Published store.Time `db:"published"`
	}
	query := `SELECT MAX(s.updated_at) AS updated, MAX(s.published_at) AS published
		FROM stories s WHERE 1 = 1` + where
	if err := store.Get(ctx, s.db, &t, query, args...); err != nil {
		return time.Time{}, fmt.Errorf("last change of story feed: %w", err)
	}
	return latest(t.Updated.Time, t.Published.Time), nil
}

// themesOf returns the theme slugs of each story, in slug order.
func (s *Service) themesOf(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT story_id, theme FROM story_themes
		WHERE story_id IN (?) ORDER BY story_id, theme`, ids)
	if err != nil {
		return nil, fmt.Errorf("build story themes query: %w", err)
	}
	var rows []struct {
		StoryID int64  `db:"story_id"`
		Theme   string `db:"theme"`
	}
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("themes of stories: %w", err)
	}
	for _, r := range rows {
		out[r.StoryID] = append(out[r.StoryID], r.Theme)
	}
	return out, nil
}

// firstPhotos returns the first photo of each story that has one.
func (s *Service) firstPhotos(ctx context.Context, ids []int64) (map[int64]photo, error) {
	out := make(map[int64]photo, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT story_id, alt_text, key_large FROM story_photos
		WHERE story_id IN (?) ORDER BY story_id, position, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("build story photos query: %w", err)
	}
	var rows []photo
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("photos of stories: %w", err)
	}
	for _, p := range rows {
		if _, seen := out[p.StoryID]; !seen {
			out[p.StoryID] = p
		}
	}
	return out, nil
}

// storyURL is where the app and website show a story; it is also the
// item's id, which therefore never changes.
func (s *Service) storyURL(id int64) string {
	return weblink.New(s.publicURL).Story(id)
}

// feedURL is the canonical address of the feed of f, its Atom id and
// self link: the filters in a fixed order and in global-id form.
func (s *Service) feedURL(format Format, f Filter) string {
	u := s.publicURL + "/feeds/stories." + string(format)
	var q []string
	if f.FeaturedOnly {
		q = append(q, "featured=true")
	}
	if f.OrganisationID != 0 {
		q = append(q, "organisation="+gid.Encode("Organisation", f.OrganisationID))
	}
	if f.Theme != "" {
		q = append(q, "theme="+f.Theme)
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return u
}

func authorName(name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return anonymous
}

// summary is the start of body as one line of plain text, cut at a word
// boundary near summaryLen characters.
func summary(body string) string {
	text := strings.Join(strings.FieldsFunc(body, unicode.IsSpace), " ")
	if utf8.RuneCountInString(text) <= summaryLen {
		return text
	}
	r := []rune(text)[:summaryLen]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > summaryLen/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsPunct(c) }) + "…"
}

func imageType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "image/jpeg"
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// The Atom document: gorilla/feeds' entries with categories as
// <category term="..."/>, a publication time, plain-text summaries and
// the feed's language and self link.

type atomFeed struct {
	*feeds.AtomFeed
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	// Links replaces the library's single <link> so the feed can name both
	// the website and itself.
	Links   []feeds.AtomLink `xml:"link"`
	Entries []*atomEntry     `xml:"entry"`
}

type atomEntry struct {
	*feeds.AtomEntry
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

func atomDoc(feed *feeds.Feed, self string, stories []story, themes map[int64][]string) *atomFeed {
	af := (&feeds.Atom{Feed: feed}).AtomFeed()
	af.Id = self
	doc := &atomFeed{
		AtomFeed: af,
		Lang:     "da",
		Links: []feeds.AtomLink{
			{Href: feed.Link.Href, Rel: "alternate", Type: "text/html"},
			{Href: self, Rel: "self", Type: "application/atom+xml"},
		},
	}
	af.Link = nil
	for i, e := range af.Entries {
		st := stories[i]
		e.Published = st.PublishedAt.UTC().Format(time.RFC3339)
		if e.Summary != nil {
			e.Summary.Type = "text"
		}
		for j := range e.Links {
			// Atom's length is optional; RSS's required 0 would mislead here.
			if e.Links[j].Rel == "enclosure" {
				e.Links[j].Length = ""
			}
		}
		entry := &atomEntry{AtomEntry: e}
		for _, slug := range themes[st.ID] {
			entry.Categories = append(entry.Categories, atomCategory{Term: slug})
		}
		doc.Entries = append(doc.Entries, entry)
	}
	af.Entries = nil
	return doc
}

// The RSS 2.0 document: gorilla/feeds' channel with a category element per
// theme, the author's name in dc:creator (RSS's <author> must be an e-mail
// address), the language, and an atom:link to itself.

type rssRoot struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	DC      string     `xml:"xmlns:dc,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	*feeds.RssFeed
	SelfLink rssSelfLink `xml:"atom:link"`
	Items    []*rssItem  `xml:"item"`
}

type rssSelfLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	*feeds.RssItem
	Creator    string   `xml:"dc:creator,omitempty"`
	Categories []string `xml:"category"`
}

func rssDoc(feed *feeds.Feed, self string, stories []story, themes map[int64][]string) *rssRoot {
	ch := (&feeds.Rss{Feed: feed}).RssFeed()
	ch.Language = "da"
	doc := &rssRoot{
		Version: "2.0",
		DC:      dcNamespace,
		Atom:    atomNamespace,
		Channel: rssChannel{
			RssFeed:  ch,
			SelfLink: rssSelfLink{Href: self, Rel: "self", Type: "application/rss+xml"},
		},
	}
	for i, it := range ch.Items {
		st := stories[i]
		it.Author = ""
		// Readers treat <description> as HTML; the summary is plain text.
		it.Description = html.EscapeString(it.Description)
		doc.Channel.Items = append(doc.Channel.Items, &rssItem{
			RssItem:    it,
			Creator:    authorName(st.AuthorName),
			Categories: themes[st.ID],
		})
	}
	ch.Items = nil
	return doc
}
