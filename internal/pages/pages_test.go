package pages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/net/html"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/pages"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

const publicURL = "https://voresishoj.example"

type fixture struct {
	db      *store.DB
	srv     *httptest.Server
	domain  pages.Domain
	now     time.Time
	oembed  *httptest.Server
	embeds  *pages.Embeds
	hits    int
	callID  int64
	secID   int64
	photoOf int64 // a published story with a photo
	// secretariat counts what the secretariat is told (a story hidden
	// after reports); the outbox is notify's to test.
	secretariat told
}

type told struct{ kinds []notify.Kind }

func (t *told) NotifySecretariat(_ context.Context, _ *sqlx.Tx, n notify.NewNotification) error {
	t.kinds = append(t.kinds, n.Kind)
	return nil
}

func setup(t *testing.T, db *store.DB, apps pages.AppLinks) *fixture {
	t.Helper()
	ctx := context.Background()
	now := clocktest.Now(t)
	clock := func() time.Time { return now }
	if err := demo.Load(ctx, db, now); err != nil {
		t.Fatalf("demo data: %v", err)
	}
	bus := event.NewBus(slog.New(slog.NewTextHandler(io.Discard, nil)))
	themes := theme.NewService(db)
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	activities := activity.NewService(db, themes, bus, clock)
	if _, err := activities.RefreshOccurrences(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, now: now}
	f.domain = pages.Domain{
		Activities:    activities,
		Stories:       story.NewService(db, bus, blobs, themes, clock, &f.secretariat, story.Limits{}),
		Organisations: organisation.NewService(db, clock),
		Places:        place.NewService(db, clock),
		Volunteer:     volunteer.NewService(db, bus, volunteer.Config{Now: clock}),
		Links:         link.NewService(db),
	}

	// A fake YouTube oEmbed endpoint and thumbnail host.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oembed", func(w http.ResponseWriter, r *http.Request) {
		f.hits++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"title": "En lørdag i Havhytten (video)", "type": "video",
			"thumbnail_url": "http://" + r.Host + "/thumb.jpg", "thumbnail_width": 480, "thumbnail_height": 360})
	})
	mux.HandleFunc("GET /thumb.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("\xff\xd8\xff\xe0 fake jpeg"))
	})
	f.oembed = httptest.NewServer(mux)
	t.Cleanup(f.oembed.Close)
	f.embeds = pages.NewEmbeds(calimport.PublicClient(5*time.Second, true),
		pages.Providers{YouTube: f.oembed.URL + "/oembed"}, nil, clock)

	p, err := pages.New(f.domain, pages.Options{PublicURL: publicURL, Now: clock, Apps: apps, Embeds: f.embeds})
	if err != nil {
		t.Fatal(err)
	}
	served := http.NewServeMux()
	p.Register(served)
	f.srv = httptest.NewServer(served)
	t.Cleanup(f.srv.Close)

	// A call for contributions, and a photo on a published story.
	if err := store.Get(ctx, db, &f.secID, `SELECT id FROM users WHERE email = ?`, demo.SecretariatEmail); err != nil {
		t.Fatal(err)
	}
	call, err := f.domain.Stories.OpenCall(ctx, user.Caller{UserID: f.secID, Secretariat: true, Verified: true},
		story.CallInput{Title: "Min vinter i Ishøj", Description: "Send et billede fra vinteren.", Deadline: now.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.callID = call.ID
	f.photoOf = f.storyID(t, "Første høst i Dyrk Ishøj: squash, bønner og nye naboer")
	if _, err := store.Exec(ctx, db, `INSERT INTO story_photos (story_id, position, alt_text, key_small, key_large, width, height, created_at)
		VALUES (?, 0, ?, ?, ?, 1280, 960, ?)`, f.photoOf, "Seks højbede med squash bag Glashuset",
		"ab/abcdef-320.jpg", "ab/abcdef-1280.jpg", now); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) storyID(t *testing.T, title string) int64 {
	t.Helper()
	var id int64
	if err := store.Get(context.Background(), f.db, &id, `SELECT id FROM stories WHERE title = ?`, title); err != nil {
		t.Fatalf("story %q: %v", title, err)
	}
	return id
}

func (f *fixture) activityID(t *testing.T, title string) int64 {
	t.Helper()
	var id int64
	if err := store.Get(context.Background(), f.db, &id, `SELECT id FROM activities WHERE title = ?`, title); err != nil {
		t.Fatalf("activity %q: %v", title, err)
	}
	return id
}

// get fetches a path (or a full public URL, whose path is fetched) and
// returns the answer and its body.
func (f *fixture) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	path = strings.TrimPrefix(path, publicURL)
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// doc is a parsed page: its meta tags, JSON-LD and text.
type doc struct {
	lang, dir string
	meta      map[string]string // property or name → content
	canonical string
	jsonld    []map[string]any
	text      string
	links     []string
}

func parse(t *testing.T, body string) doc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	d := doc{meta: map[string]string{}}
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		attr := func(k string) string {
			for _, a := range n.Attr {
				if a.Key == k {
					return a.Val
				}
			}
			return ""
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				d.lang, d.dir = attr("lang"), attr("dir")
			case "meta":
				if k := attr("property"); k != "" {
					d.meta[k] = attr("content")
				} else if k := attr("name"); k != "" {
					d.meta[k] = attr("content")
				}
			case "link":
				if attr("rel") == "canonical" {
					d.canonical = attr("href")
				}
			case "a":
				d.links = append(d.links, attr("href"))
			case "script":
				if attr("type") == "application/ld+json" && n.FirstChild != nil {
					raw := n.FirstChild.Data
					var one map[string]any
					var many []map[string]any
					if err := json.Unmarshal([]byte(raw), &one); err == nil {
						d.jsonld = append(d.jsonld, one)
					} else if err := json.Unmarshal([]byte(raw), &many); err == nil {
						d.jsonld = append(d.jsonld, many...)
					} else {
						t.Fatalf("JSON-LD does not parse: %v\n%s", err, raw)
					}
				}
				return
			case "style":
				return
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	d.text = strings.Join(strings.Fields(text.String()), " ")
	return d
}

// page fetches path, wants 200 and returns the parsed page.
func (f *fixture) page(t *testing.T, path string, header ...string) (doc, string) {
	t.Helper()
	resp, body := f.get(t, path, header...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("GET %s: content type %q", path, ct)
	}
	return parse(t, body), body
}

func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()

		var activityIDs, storyIDs, orgIDs, placeIDs []int64
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(store.Select(ctx, db, &activityIDs, `SELECT id FROM activities WHERE status <> 'DRAFT' ORDER BY id`))
		must(store.Select(ctx, db, &storyIDs, `SELECT id FROM stories WHERE status = 'PUBLISHED' ORDER BY id`))
		must(store.Select(ctx, db, &orgIDs, `SELECT id FROM organisations ORDER BY id`))
		must(store.Select(ctx, db, &placeIDs, `SELECT id FROM places ORDER BY id`))
		var hiddenTitles []string
		must(store.Select(ctx, db, &hiddenTitles, `SELECT title FROM stories WHERE status <> 'PUBLISHED'`))
		var draftTitles []string
		must(store.Select(ctx, db, &draftTitles, `SELECT title FROM activities WHERE status = 'DRAFT'`))
		if len(hiddenTitles) == 0 || len(draftTitles) == 0 {
			t.Fatal("the demo data has no unpublished story or draft activity to test with")
		}

		var all []string // every page's body
		check := func(path string, wantType string) doc {
			t.Helper()
			d, body := f.page(t, path)
			all = append(all, body)
			if d.lang != "da" || d.dir != "ltr" {
				t.Errorf("%s: lang=%q dir=%q, want da ltr", path, d.lang, d.dir)
			}
			for _, k := range []string{"og:title", "og:type", "og:site_name", "twitter:card", "twitter:title"} {
				if d.meta[k] == "" {
					t.Errorf("%s: no %s", path, k)
				}
			}
			if d.canonical == "" || !strings.HasPrefix(d.canonical, publicURL+"/") || d.meta["og:url"] != d.canonical {
				t.Errorf("%s: canonical %q, og:url %q", path, d.canonical, d.meta["og:url"])
			}
			if wantType != "" {
				found := false
				for _, ld := range d.jsonld {
					if ld["@type"] == wantType && ld["@context"] == "https://schema.org" {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no schema.org %s in %v", path, wantType, d.jsonld)
				}
			}
			return d
		}

		check(pages.FrontPath, "WebSite")
		check("/activities", "")
		check("/stories", "")
		check("/app", "")
		for _, id := range activityIDs {
			d := check("/activities/"+gid.Encode("Activity", id), "Event")
			for _, ev := range d.jsonld {
				checkEvent(t, ev)
			}
		}
		for _, id := range storyIDs {
			d := check("/stories/"+gid.Encode("Story", id), "Article")
			if d.meta["og:type"] != "article" {
				t.Errorf("story %d: og:type %q", id, d.meta["og:type"])
			}
			checkArticle(t, d.jsonld[0])
		}
		for _, id := range orgIDs {
			check("/organisations/"+gid.Encode("Organisation", id), "Organization")
		}
		for _, id := range placeIDs {
			check("/places/"+gid.Encode("Place", id), "Place")
		}
		d := check("/calls/"+gid.Encode("Call", f.callID), "")
		if !strings.Contains(d.text, "Min vinter i Ishøj") || !strings.Contains(d.text, "Åben for bidrag") {
			t.Errorf("call page: %s", d.text)
		}

		// Every link the pages hand out to a page answers 200, in every
		// language (the language menu's links too); a slot's after its
		// redirect.
		seen := map[string]bool{}
		for _, body := range all {
			for _, u := range parse(t, body).links {
				u, _, _ = strings.Cut(u, "#")
				if !strings.HasPrefix(u, publicURL+"/") || seen[u] {
					continue
				}
				seen[u] = true
				path := strings.TrimPrefix(u, publicURL)
				if strings.HasPrefix(path, "/feeds/") || strings.HasPrefix(path, "/ical/") || strings.HasPrefix(path, "/media/") {
					continue // not served here: TestHandedOutLinksResolve (internal/app) fetches those
				}
				resp, _ := f.get(t, path)
				if resp.StatusCode == http.StatusMovedPermanently && strings.HasPrefix(path, "/slots/") {
					resp, _ = f.get(t, strings.SplitN(resp.Header.Get("Location"), "#", 2)[0])
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("a page links %s, which answers %d", u, resp.StatusCode)
				}
			}
		}
		if len(seen) < 100 {
			t.Errorf("only %d distinct links on the pages", len(seen))
		}

		// Nothing unpublished renders anywhere.
		for _, body := range all {
			for _, title := range append(hiddenTitles, draftTitles...) {
				if strings.Contains(body, title) || strings.Contains(body, html.EscapeString(title)) {
					t.Errorf("a page shows the unpublished %q", title)
				}
			}
		}
		var unpublished []int64
		must(store.Select(ctx, db, &unpublished, `SELECT id FROM stories WHERE status <> 'PUBLISHED'`))
		for _, id := range unpublished {
			if resp, body := f.get(t, "/stories/"+gid.Encode("Story", id)); resp.StatusCode != http.StatusNotFound {
				t.Errorf("unpublished story %d: status %d, want 404", id, resp.StatusCode)
			} else if strings.Contains(body, "Småkager") {
				t.Errorf("the 404 shows the story")
			}
		}
		var drafts []int64
		must(store.Select(ctx, db, &drafts, `SELECT id FROM activities WHERE status = 'DRAFT'`))
		for _, id := range drafts {
			if resp, _ := f.get(t, "/activities/"+gid.Encode("Activity", id)); resp.StatusCode != http.StatusNotFound {
				t.Errorf("draft activity %d: status %d, want 404", id, resp.StatusCode)
			}
		}
	})
}

// checkEvent holds an Event to what Google's event rich results require
// (name, startDate, location with an address) and recommend (endDate with
// the offset, eventStatus, organizer).
func checkEvent(t *testing.T, ev map[string]any) {
	t.Helper()
	for _, k := range []string{"name", "startDate", "endDate", "location", "eventStatus", "organizer", "url"} {
		if ev[k] == nil || ev[k] == "" {
			t.Errorf("Event %v lacks %s", ev["name"], k)
		}
	}
	for _, k := range []string{"startDate", "endDate"} {
		s, _ := ev[k].(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil || !(strings.HasSuffix(s, "+01:00") || strings.HasSuffix(s, "+02:00")) {
			t.Errorf("Event %v: %s %q is not a time with Ishøj's offset", ev["name"], k, s)
		}
	}
	loc, _ := ev["location"].(map[string]any)
	addr, _ := loc["address"].(map[string]any)
	if loc["@type"] != "Place" || loc["name"] == "" || addr["@type"] != "PostalAddress" || addr["addressCountry"] != "DK" {
		t.Errorf("Event %v: location %v", ev["name"], loc)
	}
	if geo, ok := loc["geo"].(map[string]any); ok && (geo["@type"] != "GeoCoordinates" || geo["latitude"] == nil) {
		t.Errorf("Event %v: geo %v", ev["name"], geo)
	}
	switch ev["eventStatus"] {
	case "https://schema.org/EventScheduled", "https://schema.org/EventCancelled", "https://schema.org/EventRescheduled":
	default:
		t.Errorf("Event %v: eventStatus %v", ev["name"], ev["eventStatus"])
	}
	if org, _ := ev["organizer"].(map[string]any); org["@type"] != "Organization" || org["name"] == "" {
		t.Errorf("Event %v: organizer %v", ev["name"], org)
	}
}

// checkArticle holds an Article to Google's article properties.
func checkArticle(t *testing.T, a map[string]any) {
	t.Helper()
	for _, k := range []string{"headline", "datePublished", "dateModified", "author", "publisher", "mainEntityOfPage"} {
		if a[k] == nil || a[k] == "" {
			t.Errorf("Article %v lacks %s", a["headline"], k)
		}
	}
	if h, _ := a["headline"].(string); len([]rune(h)) > 110 {
		t.Errorf("headline longer than 110: %q", h)
	}
	if au, _ := a["author"].(map[string]any); au["@type"] != "Person" || au["name"] == "" {
		t.Errorf("Article %v: author %v", a["headline"], au)
	}
}

func TestCancelledActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		id := f.activityID(t, "Fællessang med Ældresagen")
		d, _ := f.page(t, "/activities/"+gid.Encode("Activity", id))
		if !strings.Contains(d.text, "Aflyst") || !strings.Contains(d.text, "Aktiviteten er aflyst") {
			t.Errorf("cancelled activity not marked: %s", d.text)
		}
		if !strings.HasPrefix(d.meta["og:title"], "Aflyst: ") {
			t.Errorf("og:title %q does not say cancelled", d.meta["og:title"])
		}
		if len(d.jsonld) == 0 {
			t.Fatal("no JSON-LD")
		}
		for _, ev := range d.jsonld {
			if ev["eventStatus"] != "https://schema.org/EventCancelled" {
				t.Errorf("eventStatus %v, want EventCancelled", ev["eventStatus"])
			}
		}
		if strings.Contains(d.text, "Frivillige søges") {
			t.Error("a cancelled activity offers shifts")
		}
		// In English too.
		d, _ = f.page(t, "/activities/"+gid.Encode("Activity", id)+"?lang=en")
		if d.lang != "en" || !strings.Contains(d.text, "Cancelled") || !strings.HasSuffix(d.canonical, "?lang=en") {
			t.Errorf("English page: lang %q canonical %q text %s", d.lang, d.canonical, d.text)
		}
	})
}

func TestActivityPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{AppStoreID: "1234567890", AndroidPackage: "dk.ishoj.voresishoj"})
		ctx := context.Background()
		var id int64
		// An activity with an open slot.
		if err := store.Get(ctx, db, &id, `SELECT a.id FROM activities a JOIN volunteer_slots s ON s.activity_id = a.id
			WHERE a.status = 'PUBLISHED' AND s.taken < s.capacity AND s.starts_at > ? ORDER BY a.id LIMIT 1`, f.now); err != nil {
			t.Fatalf("an activity with an open slot: %v", err)
		}
		a, err := f.domain.Activities.Activity(ctx, user.Caller{}, id)
		if err != nil {
			t.Fatal(err)
		}
		path := "/activities/" + gid.Encode("Activity", id)
		d, body := f.page(t, path)
		if !strings.Contains(d.text, a.Title) || !strings.Contains(d.text, "Frivillige søges") || !strings.Contains(d.text, "Ledige pladser") {
			t.Errorf("activity page lacks title or open slots: %s", d.text)
		}
		if !strings.Contains(body, `href="voresishoj://activity/`+gid.Encode("Activity", id)+`"`) {
			t.Error("no open-in-app link")
		}
		if !strings.Contains(body, `href="voresishoj://slot/`) {
			t.Error("no link to take a slot in the app")
		}
		if !strings.Contains(body, "https://apps.apple.com/dk/app/id1234567890") ||
			!strings.Contains(body, "https://play.google.com/store/apps/details?id=dk.ishoj.voresishoj") ||
			d.meta["apple-itunes-app"] != "app-id=1234567890, app-argument="+publicURL+path {
			t.Errorf("store links: %q", d.meta["apple-itunes-app"])
		}
		if !strings.Contains(body, "<time datetime=") {
			t.Error("dates are not marked up as <time>")
		}

		// The address the calendar feeds handed out before global ids
		// leads to the page.
		resp, _ := f.get(t, "/activities/"+itoa(id))
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != publicURL+path {
			t.Errorf("numeric id: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, bad := range []string{"/activities/nonsense", "/activities/" + gid.Encode("Story", id), "/activities/" + gid.Encode("Activity", 999999)} {
			if resp, _ := f.get(t, bad); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
			}
		}

		// A slot's address leads to its activity, at the slot.
		var slot int64
		if err := store.Get(ctx, db, &slot, `SELECT id FROM volunteer_slots WHERE activity_id = ? ORDER BY id LIMIT 1`, id); err != nil {
			t.Fatal(err)
		}
		resp, _ = f.get(t, "/slots/"+gid.Encode("VolunteerSlot", slot))
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != publicURL+path+"#slot-"+gid.Encode("VolunteerSlot", slot) {
			t.Errorf("slot: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}

		// Conditional GET.
		resp, _ = f.get(t, path)
		etag := resp.Header.Get("ETag")
		if etag == "" || resp.Header.Get("Vary") != "Accept-Language" {
			t.Fatalf("ETag %q, Vary %q", etag, resp.Header.Get("Vary"))
		}
		if resp, _ := f.get(t, path, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
		}
		if resp, _ := f.get(t, path, "If-None-Match", etag, "Accept-Language", "en"); resp.StatusCode != http.StatusOK {
			t.Errorf("another language with the Danish ETag: %d, want 200", resp.StatusCode)
		}
	})
}

func TestStoryPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		path := "/stories/" + gid.Encode("Story", f.photoOf)
		d, body := f.page(t, path)
		if d.meta["og:image"] != publicURL+"/media/ab/abcdef-1280.jpg" || d.meta["og:image:alt"] != "Seks højbede med squash bag Glashuset" ||
			d.meta["og:image:width"] != "1280" || d.meta["twitter:card"] != "summary_large_image" {
			t.Errorf("preview image: %v", d.meta)
		}
		if !strings.Contains(body, `alt="Seks højbede med squash bag Glashuset"`) {
			t.Error("the photo has not its alt text")
		}
		if !strings.Contains(d.text, "Instagram") || !strings.Contains(d.text, "Høsten på Instagram") {
			t.Errorf("no link card for the Instagram post: %s", d.text)
		}
		if strings.Contains(body, "<iframe") || strings.Contains(body, "<script src") {
			t.Error("the page loads third-party content")
		}
		resp, _ := f.get(t, path)
		if resp.Header.Get("Last-Modified") == "" || resp.Header.Get("ETag") == "" {
			t.Errorf("Last-Modified %q, ETag %q", resp.Header.Get("Last-Modified"), resp.Header.Get("ETag"))
		}
		if resp, _ := f.get(t, path, "If-Modified-Since", resp.Header.Get("Last-Modified")); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-Modified-Since: %d, want 304", resp.StatusCode)
		}

		// A YouTube link gets its title and thumbnail through oEmbed, once
		// the background lookup is done; the thumbnail is served from here.
		yt := "/stories/" + gid.Encode("Story", f.storyID(t, "Fire timer i Havhytten giver mere, end de tager"))
		d, _ = f.page(t, yt)
		if !strings.Contains(d.text, "Se en lørdag i Havhytten") {
			t.Errorf("before oEmbed answers, the card shows the link's label: %s", d.text)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := f.embeds.Wait(wctx); err != nil {
			t.Fatal(err)
		}
		d, body = f.page(t, yt)
		if !strings.Contains(d.text, "En lørdag i Havhytten (video)") {
			t.Errorf("oEmbed title not shown: %s", d.text)
		}
		i := strings.Index(body, publicURL+"/embeds/")
		if i < 0 {
			t.Fatal("no thumbnail from /embeds/")
		}
		thumb := body[i:]
		thumb = thumb[:strings.IndexByte(thumb, '"')]
		if resp, img := f.get(t, thumb); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(img, "\xff\xd8") {
			t.Errorf("thumbnail: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(body, f.oembed.URL) {
			t.Error("the page links the provider's thumbnail directly")
		}
		f.page(t, yt)
		if f.hits != 1 {
			t.Errorf("oEmbed asked %d times, want once (cached)", f.hits)
		}

		// Hidden after reports: it was public, so 410; never published: 404.
		if _, err := store.Exec(ctx, db, `UPDATE stories SET status = 'HIDDEN' WHERE id = ?`, f.photoOf); err != nil {
			t.Fatal(err)
		}
		resp, body = f.get(t, path)
		if resp.StatusCode != http.StatusGone || strings.Contains(body, "Første høst") {
			t.Errorf("hidden story: %d", resp.StatusCode)
		}
		if resp, _ := f.get(t, "/stories/"+gid.Encode("Story", f.storyID(t, "Småkager til hele opgangen"))); resp.StatusCode != http.StatusNotFound {
			t.Errorf("story pending review: %d, want 404", resp.StatusCode)
		}
	})
}

// Every language of the catalogue, by ?lang= and by Accept-Language, on
// every kind of page: its lang and dir (right to left for Arabic and
// Urdu), a heading in that language, and the hreflang alternates.
func TestEveryLanguage(t *testing.T) {
	f := setup(t, storetest.SQLite(t), pages.AppLinks{})
	langs := i18n.Supported()
	if len(langs) < 5 {
		t.Fatalf("the catalogue has %v", langs)
	}
	paths := []string{pages.FrontPath, "/activities", "/stories", "/app",
		"/activities/" + gid.Encode("Activity", f.activityID(t, "Fællessang med Ældresagen")),
		"/stories/" + gid.Encode("Story", f.photoOf), "/calls/" + gid.Encode("Call", f.callID)}
	danish, _ := f.page(t, pages.FrontPath)
	for _, code := range langs {
		wantDir := "ltr"
		if code == "ar" || code == "ur" {
			wantDir = "rtl"
		}
		for _, path := range paths {
			byQuery, body := f.page(t, path+"?lang="+code)
			byHeader, _ := f.page(t, path, "Accept-Language", code+";q=0.9, da;q=0.1")
			for how, d := range map[string]doc{"?lang": byQuery, "Accept-Language": byHeader} {
				if d.lang != code || d.dir != wantDir {
					t.Errorf("%s by %s %s: lang %q dir %q, want %s %s", path, how, code, d.lang, d.dir, code, wantDir)
				}
			}
			for _, other := range langs {
				if !strings.Contains(body, `hreflang="`+other+`"`) {
					t.Errorf("%s in %s: no hreflang alternate for %s", path, code, other)
				}
			}
		}
		if front, _ := f.page(t, pages.FrontPath+"?lang="+code); code != "da" && front.meta["og:title"] == danish.meta["og:title"] {
			t.Errorf("the front page in %s has the Danish title %q", code, front.meta["og:title"])
		}
	}
}

func TestLanguages(t *testing.T) {
	f := setup(t, storetest.SQLite(t), pages.AppLinks{})
	d, _ := f.page(t, pages.FrontPath)
	if d.lang != "da" || !strings.Contains(d.text, "Det sker i Ishøj") {
		t.Errorf("default: %q %s", d.lang, d.text)
	}
	d, _ = f.page(t, pages.FrontPath, "Accept-Language", "en-GB,en;q=0.9,da;q=0.5")
	if d.lang != "en" || !strings.Contains(d.text, "What's on in Ishøj") || strings.Contains(d.canonical, "lang=") {
		t.Errorf("Accept-Language en: %q %q %s", d.lang, d.canonical, d.text)
	}
	d, _ = f.page(t, pages.FrontPath+"?lang=en", "Accept-Language", "da")
	if d.lang != "en" || d.canonical != publicURL+pages.FrontPath+"?lang=en" {
		t.Errorf("?lang=en: %q %q", d.lang, d.canonical)
	}
	d, _ = f.page(t, pages.FrontPath+"?lang=xx")
	if d.lang != "da" {
		t.Errorf("unknown ?lang: %q", d.lang)
	}
	for _, code := range []string{"ar", "ur"} {
		d, _ = f.page(t, pages.FrontPath+"?lang="+code)
		if d.lang == code && d.dir != "rtl" {
			t.Errorf("%s: dir %q, want rtl", code, d.dir)
		}
	}
	resp, body := f.get(t, "/stories/"+gid.Encode("Story", 999999), "Accept-Language", "en")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") || !strings.Contains(body, `lang="en"`) {
		t.Errorf("404 in English: %d", resp.StatusCode)
	}
}

func TestAppLinksAndSitemap(t *testing.T) {
	f := setup(t, storetest.SQLite(t), pages.AppLinks{
		AppleAppIDs: []string{"ABCDE12345.dk.ishoj.voresishoj"}, AndroidPackage: "dk.ishoj.voresishoj",
		AndroidFingerprints: []string{"14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"}})
	resp, body := f.get(t, "/.well-known/apple-app-site-association")
	var aasa struct {
		Applinks struct {
			Details []struct {
				AppIDs     []string            `json:"appIDs"`
				Components []map[string]string `json:"components"`
			} `json:"details"`
		} `json:"applinks"`
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &aasa) != nil ||
		len(aasa.Applinks.Details) != 1 || aasa.Applinks.Details[0].AppIDs[0] != "ABCDE12345.dk.ishoj.voresishoj" {
		t.Fatalf("apple-app-site-association: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	paths := map[string]bool{}
	for _, c := range aasa.Applinks.Details[0].Components {
		paths[c["/"]] = true
	}
	for _, p := range []string{"/activities/*", "/stories/*", "/slots/*", "/app"} {
		if !paths[p] {
			t.Errorf("apple-app-site-association lacks %s", p)
		}
	}
	resp, body = f.get(t, "/.well-known/assetlinks.json")
	var al []struct {
		Relation []string `json:"relation"`
		Target   struct {
			Namespace    string   `json:"namespace"`
			PackageName  string   `json:"package_name"`
			Fingerprints []string `json:"sha256_cert_fingerprints"`
		} `json:"target"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &al) != nil || len(al) != 1 ||
		al[0].Target.PackageName != "dk.ishoj.voresishoj" || len(al[0].Target.Fingerprints) != 1 ||
		al[0].Relation[0] != "delegate_permission/common.handle_all_urls" {
		t.Fatalf("assetlinks.json: %d %s", resp.StatusCode, body)
	}

	resp, body = f.get(t, "/robots.txt")
	if resp.StatusCode != 200 || !strings.Contains(body, "Sitemap: "+publicURL+"/sitemap.xml") || !strings.Contains(body, "Disallow: /graphql") {
		t.Errorf("robots.txt: %s", body)
	}

	// Every address in the sitemap answers 200.
	resp, body = f.get(t, "/sitemap.xml")
	var set struct {
		URLs []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if resp.StatusCode != 200 || xml.Unmarshal([]byte(body), &set) != nil || len(set.URLs) < 30 {
		t.Fatalf("sitemap: %d, %d addresses", resp.StatusCode, len(set.URLs))
	}
	kinds := map[string]int{}
	for _, u := range set.URLs {
		if !strings.HasPrefix(u.Loc, publicURL+"/") {
			t.Errorf("sitemap address %q is not under PUBLIC_URL", u.Loc)
			continue
		}
		if resp, _ := f.get(t, u.Loc); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", u.Loc, resp.StatusCode)
		}
		kinds[strings.Split(strings.TrimPrefix(u.Loc, publicURL+"/"), "/")[0]]++
	}
	for _, k := range []string{"activities", "stories", "organisations", "places", "calls"} {
		if kinds[k] < 2 && k != "calls" || kinds[k] < 1 {
			t.Errorf("sitemap has %d %s", kinds[k], k)
		}
	}

	// Without the settings there is nothing to associate.
	g := setup(t, storetest.SQLite(t), pages.AppLinks{})
	for _, p := range []string{"/.well-known/apple-app-site-association", "/.well-known/assetlinks.json"} {
		if resp, _ := g.get(t, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without settings: %d, want 404", p, resp.StatusCode)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// What people typed is text wherever it lands: in the HTML, the meta
// tags and the JSON-LD, a title that tries to close the script element
// or add an attribute stays a title.
func TestHostileText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		hostile := `Loppemarked</script><script>alert(1)</script>" onmouseover="x`
		id := f.activityID(t, "Fællessang med Ældresagen")
		if _, err := store.Exec(ctx, db, `UPDATE activities SET title = ?, description = ? WHERE id = ?`, hostile, hostile+"\n\n<img src=x onerror=alert(2)>", id); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(ctx, db, `UPDATE stories SET title = ?, author_name = ? WHERE id = ?`, hostile, hostile, f.photoOf); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/activities/" + gid.Encode("Activity", id), "/stories/" + gid.Encode("Story", f.photoOf), pages.FrontPath} {
			d, body := f.page(t, path)
			for _, bad := range []string{"<script>alert", "<img src=x", `" onmouseover="`} {
				if strings.Contains(body, bad) {
					t.Errorf("%s: %q came through unescaped", path, bad)
				}
			}
			if path != pages.FrontPath {
				if !strings.Contains(d.meta["og:title"], hostile) {
					t.Errorf("%s: og:title %q does not read as the title", path, d.meta["og:title"])
				}
				if len(d.jsonld) == 0 {
					t.Fatalf("%s: JSON-LD does not parse", path)
				}
				name, _ := d.jsonld[0]["name"].(string)
				if name == "" {
					name, _ = d.jsonld[0]["headline"].(string)
				}
				if !strings.HasPrefix(hostile, strings.TrimSuffix(name, "…")) {
					t.Errorf("%s: JSON-LD name %q", path, name)
				}
			}
		}
		// A hostile ?lang= or id is no language and no page.
		d, body := f.page(t, pages.FrontPath+`?lang="><script>`)
		if d.lang != "da" || strings.Contains(body, `"><script>`) {
			t.Errorf("?lang: %q", d.lang)
		}
		for _, p := range []string{"/stories/" + strings.Repeat("A", 5000), "/stories/%00", "/activities/-1", "/activities/0", "/calls/" + gid.Encode("Call", 1<<62)} {
			if resp, _ := f.get(t, p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, resp.StatusCode)
			}
		}
		// HEAD answers like GET, without a body.
		req, _ := http.NewRequest(http.MethodHead, f.srv.URL+pages.FrontPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			t.Errorf("HEAD: %d", resp.StatusCode)
		}
		if resp, _ := f.get(t, pages.FrontPath); resp.StatusCode != http.StatusOK {
			t.Errorf("GET after HEAD: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodPost, f.srv.URL+pages.FrontPath, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %v %v", resp.StatusCode, err)
		}
	})
}

// In production GraphiQL is off and "/" is the front page, its canonical
// address; /forside answers too.
func TestProductionFrontPage(t *testing.T) {
	db := storetest.SQLite(t)
	f := setup(t, db, pages.AppLinks{})
	p, err := pages.New(f.domain, pages.Options{PublicURL: publicURL, Production: true, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/", pages.FrontPath} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := parse(t, string(b))
		if resp.StatusCode != http.StatusOK || d.canonical != publicURL+"/" || !strings.Contains(d.text, "Det sker i Ishøj") {
			t.Errorf("%s: %d, canonical %q", path, resp.StatusCode, d.canonical)
		}
	}
	if resp, err := http.Get(srv.URL + "/nothing-here"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown path: %v", resp.StatusCode)
	}
}

// An activity its organiser moves is marked moved on its page and
// EventRescheduled in its JSON-LD, each date with the start it had
// before (previousStartDate); moved back, it is plainly scheduled again.
func TestRescheduledActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		sec := user.Caller{UserID: f.secID, Secretariat: true, Verified: true}
		move := func(id int64, by time.Duration) activity.Activity {
			t.Helper()
			a, err := f.domain.Activities.Activity(ctx, sec, id)
			if err != nil {
				t.Fatal(err)
			}
			themes, err := f.domain.Activities.ThemesByIDs(ctx, []int64{id})
			if err != nil {
				t.Fatal(err)
			}
			moved, err := f.domain.Activities.Update(ctx, sec, id, activity.Input{PlaceID: a.PlaceID, Title: a.Title,
				Description: a.Description, StartsAt: a.StartsAt.Add(by), EndsAt: a.EndsAt.Add(by), Recurrence: a.Recurrence, Themes: themes[id]})
			if err != nil {
				t.Fatalf("move %q: %v", a.Title, err)
			}
			return moved
		}
		for _, kind := range []struct {
			name, where string
			by          time.Duration
		}{
			{"one-off", "recurrence IS NULL", 7 * 24 * time.Hour},
			{"recurring", "recurrence IS NOT NULL", time.Hour},
		} {
			var id int64
			if err := store.Get(ctx, db, &id, `SELECT id FROM activities WHERE status = 'PUBLISHED' AND `+kind.where+`
				AND starts_at > ? ORDER BY id LIMIT 1`, f.now.Add(24*time.Hour)); err != nil {
				t.Fatalf("a published %s activity: %v", kind.name, err)
			}
			path := "/activities/" + gid.Encode("Activity", id)
			d, _ := f.page(t, path)
			if strings.Contains(d.text, "Flyttet") {
				t.Errorf("%s: marked moved before it was: %s", kind.name, d.text)
			}
			before, err := f.domain.Activities.Activity(ctx, sec, id)
			if err != nil {
				t.Fatal(err)
			}
			a := move(id, kind.by)
			if a.RescheduledFrom == nil || !a.RescheduledFrom.Equal(before.StartsAt) {
				t.Fatalf("%s: rescheduled from %v, want %v", kind.name, a.RescheduledFrom, before.StartsAt)
			}
			d, _ = f.page(t, path)
			if !strings.Contains(d.text, "Flyttet") || !strings.Contains(d.text, "Aktiviteten er flyttet") {
				t.Errorf("%s: moved activity not marked: %s", kind.name, d.text)
			}
			// The old first date is written as the page writes dates.
			en, _ := f.page(t, path+"?lang=en")
			if !strings.Contains(en.text, "This activity has been moved") || !strings.Contains(en.text, "moved from ") {
				t.Errorf("%s: English page: %s", kind.name, en.text)
			}
			if len(d.jsonld) == 0 {
				t.Fatalf("%s: no JSON-LD", kind.name)
			}
			for _, ev := range d.jsonld {
				checkEvent(t, ev)
				if ev["eventStatus"] != "https://schema.org/EventRescheduled" {
					t.Errorf("%s: eventStatus %v, want EventRescheduled", kind.name, ev["eventStatus"])
				}
				start, err1 := time.Parse(time.RFC3339, ev["startDate"].(string))
				prevS, _ := ev["previousStartDate"].(string)
				prev, err2 := time.Parse(time.RFC3339, prevS)
				if err1 != nil || err2 != nil || !strings.HasSuffix(prevS, "+01:00") && !strings.HasSuffix(prevS, "+02:00") ||
					start.Sub(prev) != kind.by {
					t.Errorf("%s: startDate %v, previousStartDate %q: want %v earlier with Ishøj's offset", kind.name, ev["startDate"], prevS, kind.by)
				}
			}
			if kind.name == "one-off" {
				first := d.jsonld[0]["previousStartDate"].(string)
				if p, _ := time.Parse(time.RFC3339, first); !p.Equal(before.StartsAt) {
					t.Errorf("one-off: previousStartDate %s, want %v", first, before.StartsAt)
				}
			}

			// Moved back to where it was, it is no longer moved.
			if a := move(id, -kind.by); a.RescheduledFrom != nil {
				t.Errorf("%s: moved back, still rescheduled from %v", kind.name, a.RescheduledFrom)
			}
			d, _ = f.page(t, path)
			if strings.Contains(d.text, "Flyttet") {
				t.Errorf("%s: moved back, still marked moved", kind.name)
			}
			for _, ev := range d.jsonld {
				if ev["eventStatus"] != "https://schema.org/EventScheduled" || ev["previousStartDate"] != nil {
					t.Errorf("%s: moved back: eventStatus %v previousStartDate %v", kind.name, ev["eventStatus"], ev["previousStartDate"])
				}
			}
		}

		// A draft's moves are nobody's news.
		var draft int64
		if err := store.Get(ctx, db, &draft, `SELECT id FROM activities WHERE status = 'DRAFT' AND starts_at > ? ORDER BY id LIMIT 1`, f.now); err != nil {
			t.Fatal(err)
		}
		if a := move(draft, 24*time.Hour); a.RescheduledFrom != nil {
			t.Errorf("a moved draft is rescheduled from %v", a.RescheduledFrom)
		}
	})
}

// Facebook and Instagram links get their titles from Meta's oEmbed when a
// token is set, through the same public-addresses-only client, with the
// token as access_token; the embed HTML Meta returns is never used, links
// that are no single post (groups, profiles) are not asked about, and the
// token never reaches the log. Without a token (setup's Embeds) nothing
// is asked and the card shows the link's label.
func TestMetaEmbeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		const token = "1234567890|app-secret-value"
		var mu sync.Mutex
		asked := map[string][]string{} // endpoint → urls asked about
		mux := http.NewServeMux()
		for _, ep := range []string{"instagram_oembed", "oembed_post", "oembed_video"} {
			mux.HandleFunc("GET /v26.0/"+ep, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				asked[ep] = append(asked[ep], r.URL.Query().Get("url"))
				mu.Unlock()
				if r.URL.Query().Get("access_token") != token || r.URL.Query().Get("omitscript") != "true" {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"type": "rich", "version": "1.0", "provider_name": "Instagram",
					"title": "Høsten i bedene (" + ep + ")", "width": 480,
					"html":          `<blockquote class="instagram-media"></blockquote><script async src="//www.instagram.com/embed.js"></script>`,
					"thumbnail_url": "http://" + r.Host + "/thumb.jpg", "thumbnail_width": 480, "thumbnail_height": 480})
			})
		}
		mux.HandleFunc("GET /thumb.jpg", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write([]byte("\xff\xd8\xff\xe0 fake jpeg"))
		})
		meta := httptest.NewServer(mux)
		defer meta.Close()

		// A Facebook video and a group on the story with the Instagram post.
		for i, u := range []string{"https://www.facebook.com/dyrkishoj/videos/987654321/", "https://www.facebook.com/groups/dyrkishoj"} {
			if _, err := store.Exec(ctx, db, `INSERT INTO channel_links (story_id, kind, url, label, position) VALUES (?, 'FACEBOOK', ?, ?, ?)`,
				f.photoOf, u, "Facebook "+itoa(int64(i)), 10+i); err != nil {
				t.Fatal(err)
			}
		}
		path := "/stories/" + gid.Encode("Story", f.photoOf)

		// Without a token: the label, and Meta is not asked.
		f.page(t, path)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := f.embeds.Wait(wctx); err != nil {
			t.Fatal(err)
		}
		d, _ := f.page(t, path)
		if !strings.Contains(d.text, "Høsten på Instagram") || strings.Contains(d.text, "Høsten i bedene") {
			t.Errorf("without a token the card shows the label: %s", d.text)
		}

		var logged bytes.Buffer
		embeds := pages.NewEmbeds(calimport.PublicClient(5*time.Second, true), pages.Providers{
			Instagram: meta.URL + "/v26.0/instagram_oembed", FacebookPost: meta.URL + "/v26.0/oembed_post",
			FacebookVideo: meta.URL + "/v26.0/oembed_video", MetaToken: token,
		}, slog.New(slog.NewTextHandler(&logged, nil)), func() time.Time { return f.now })
		p, err := pages.New(f.domain, pages.Options{PublicURL: publicURL, Now: func() time.Time { return f.now }, Embeds: embeds})
		if err != nil {
			t.Fatal(err)
		}
		served := http.NewServeMux()
		p.Register(served)
		srv := httptest.NewServer(served)
		defer srv.Close()
		g := *f
		g.srv = srv
		g.page(t, path)
		if err := embeds.Wait(wctx); err != nil {
			t.Fatal(err)
		}
		d, body := g.page(t, path)
		if !strings.Contains(d.text, "Høsten i bedene (instagram_oembed)") || !strings.Contains(d.text, "Høsten i bedene (oembed_video)") {
			t.Errorf("Meta's titles not shown: %s", d.text)
		}
		if !strings.Contains(d.text, "Facebook 1") {
			t.Errorf("the group's card lost its label: %s", d.text)
		}
		if strings.Contains(body, "instagram-media") || strings.Contains(body, "embed.js") || strings.Contains(body, "<iframe") || strings.Contains(body, meta.URL) {
			t.Error("the page carries Meta's embed HTML or links its thumbnail")
		}
		if !strings.Contains(body, publicURL+"/embeds/") {
			t.Error("no thumbnail served from /embeds/")
		}
		mu.Lock()
		if len(asked["instagram_oembed"]) != 1 || asked["instagram_oembed"][0] != "https://www.instagram.com/p/dyrkishoj_hoest_demo/" ||
			len(asked["oembed_video"]) != 1 || len(asked["oembed_post"]) != 0 {
			t.Errorf("asked %v; want the Instagram post and the video once, never the group", asked)
		}
		mu.Unlock()

		// A provider that does not answer: the error is logged without
		// the token, and the card keeps its label.
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL
		dead.Close()
		logged.Reset()
		broken := pages.NewEmbeds(calimport.PublicClient(2*time.Second, true), pages.Providers{
			Instagram: deadURL + "/v26.0/instagram_oembed", MetaToken: token}, slog.New(slog.NewTextHandler(&logged, nil)), nil)
		if _, ok := broken.Lookup(link.Instagram, "https://www.instagram.com/p/abc/"); ok {
			t.Error("a first lookup is known at once")
		}
		if err := broken.Wait(wctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := broken.Lookup(link.Instagram, "https://www.instagram.com/p/abc/"); ok {
			t.Error("a failed lookup counts as known")
		}
		if !strings.Contains(logged.String(), "oembed lookup failed") || strings.Contains(logged.String(), "app-secret") ||
			strings.Contains(logged.String(), "access_token") {
			t.Errorf("log: %s", logged.String())
		}
	})
}

// The pages are limited per client address: past the burst a reader gets
// 429 with Retry-After and a page in their language (right to left in
// Arabic); another address, or the proxy's header naming one, has its
// own bucket, and an IPv6 address counts by its /64.
func TestRateLimit(t *testing.T) {
	f := setup(t, storetest.SQLite(t), pages.AppLinks{})
	limit := ratelimit.Limit{Rate: 6, Per: time.Minute, Burst: 3}
	p, err := pages.New(f.domain, pages.Options{PublicURL: publicURL, Now: func() time.Time { return f.now },
		RateLimit: ratelimit.NewMemory(limit), ClientIPHeader: "X-Real-IP"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	g := *f
	g.srv = srv

	from := func(ip, path string, header ...string) (*http.Response, string) {
		return g.get(t, path, append([]string{"X-Real-IP", ip}, header...)...)
	}
	for i := 0; i < limit.Burst; i++ {
		if resp, _ := from("203.0.113.7", pages.FrontPath); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := from("203.0.113.7", "/sitemap.xml")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d, want 429", resp.StatusCode)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 10 {
		t.Errorf("Retry-After %q, want about 10 s", resp.Header.Get("Retry-After"))
	}
	d := parse(t, body)
	if d.lang != "da" || !strings.Contains(d.text, "For mange sidevisninger") || !strings.Contains(d.text, "om "+strconv.Itoa(secs)+" s") ||
		resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || d.meta["robots"] != "noindex" {
		t.Errorf("429 page: %q %q robots %q: %s", d.lang, resp.Header.Get("Content-Type"), d.meta["robots"], d.text)
	}
	resp, body = from("203.0.113.7", "/stories", "Accept-Language", "en")
	if d := parse(t, body); resp.StatusCode != http.StatusTooManyRequests || d.lang != "en" || !strings.Contains(d.text, "Too many page views") {
		t.Errorf("429 in English: %d %q %s", resp.StatusCode, d.lang, d.text)
	}
	resp, body = from("203.0.113.7", pages.FrontPath+"?lang=ar")
	if d := parse(t, body); resp.StatusCode != http.StatusTooManyRequests || d.lang != "ar" || d.dir != "rtl" {
		t.Errorf("429 in Arabic: %d lang %q dir %q", resp.StatusCode, d.lang, d.dir)
	}

	// Another address is another reader.
	if resp, _ := from("198.51.100.1", pages.FrontPath); resp.StatusCode != http.StatusOK {
		t.Errorf("another address: %d", resp.StatusCode)
	}
	// One IPv6 subscriber's addresses share a bucket.
	for i := 0; i < limit.Burst; i++ {
		from("2001:db8:1:2::"+strconv.Itoa(i+1), "/robots.txt")
	}
	if resp, _ := from("2001:db8:1:2:ffff::9", "/robots.txt"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the same /64: %d, want 429", resp.StatusCode)
	}
	if resp, _ := from("2001:db8:1:3::1", "/robots.txt"); resp.StatusCode != http.StatusOK {
		t.Errorf("another /64: %d", resp.StatusCode)
	}
}

// The front page shows what is coming up (the next activities as the app
// lists them) and the featured stories, the open calls for contributions,
// and nothing of stories that are not featured while some are.
func TestFrontPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		section := func(body, id string) string {
			i := strings.Index(body, `id="`+id+`"`)
			if i < 0 {
				t.Fatalf("the front page has no section %s", id)
			}
			rest := body[i:]
			return rest[:strings.Index(rest, "</section>")]
		}
		_, body := f.page(t, pages.FrontPath)
		next, err := f.domain.Activities.List(ctx, user.Caller{}, activity.Filter{From: f.now}, nil, 6)
		if err != nil || len(next) == 0 {
			t.Fatalf("upcoming: %v %d", err, len(next))
		}
		coming := section(body, "coming")
		for _, a := range next {
			if !strings.Contains(coming, html.EscapeString(a.Title)) {
				t.Errorf("coming up lacks %q", a.Title)
			}
		}
		var featured, plain []string
		if err := store.Select(ctx, db, &featured, `SELECT title FROM stories WHERE status = 'PUBLISHED' AND featured`); err != nil {
			t.Fatal(err)
		}
		if err := store.Select(ctx, db, &plain, `SELECT title FROM stories WHERE status = 'PUBLISHED' AND NOT featured`); err != nil {
			t.Fatal(err)
		}
		if len(featured) == 0 || len(plain) == 0 {
			t.Fatalf("the demo data has %d featured and %d other stories", len(featured), len(plain))
		}
		got := section(body, "featured")
		for _, title := range featured {
			if !strings.Contains(got, html.EscapeString(title)) {
				t.Errorf("featured lacks %q", title)
			}
		}
		for _, title := range plain {
			if strings.Contains(got, html.EscapeString(title)) {
				t.Errorf("featured shows the story %q, which is not featured", title)
			}
		}
		if calls := section(body, "calls"); !strings.Contains(calls, "Min vinter i Ishøj") || !strings.Contains(calls, "/calls/"+gid.Encode("Call", f.callID)) {
			t.Errorf("the open call is not on the front page: %s", calls)
		}

		// With nothing featured, the latest stories stand in.
		if _, err := store.Exec(ctx, db, `UPDATE stories SET featured = FALSE`); err != nil {
			t.Fatal(err)
		}
		_, body = f.page(t, pages.FrontPath)
		if got := section(body, "featured"); !strings.Contains(got, "/stories/") {
			t.Errorf("with nothing featured the section is empty: %s", got)
		}
	})
}

// A story taken down after it was public answers 410 Gone, in the
// reader's language and not to be indexed: rejected by the secretariat,
// or hidden by readers' reports (the domain's own ways); one never
// published answers 404.
func TestWithdrawnStory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		sec := user.Caller{UserID: f.secID, Secretariat: true, Verified: true}
		var ids []int64
		if err := store.Select(ctx, db, &ids, `SELECT id FROM stories WHERE status = 'PUBLISHED' AND id <> ? ORDER BY id LIMIT 2`, f.photoOf); err != nil || len(ids) < 2 {
			t.Fatalf("two published stories: %v", err)
		}
		rejected, reported := ids[0], ids[1]
		var title string
		if err := store.Get(ctx, db, &title, `SELECT title FROM stories WHERE id = ?`, rejected); err != nil {
			t.Fatal(err)
		}
		if _, err := f.domain.Stories.Review(ctx, sec, rejected, story.ActionReject, "Krænker en persons privatliv."); err != nil {
			t.Fatalf("reject a published story: %v", err)
		}
		var readers []int64
		if err := store.Select(ctx, db, &readers, `SELECT id FROM users WHERE id <> ? ORDER BY id LIMIT ?`, f.secID, story.ReportThreshold); err != nil || len(readers) < story.ReportThreshold {
			t.Fatalf("readers to report: %v", err)
		}
		for _, u := range readers {
			if _, err := f.domain.Stories.Report(ctx, user.Caller{UserID: u, Verified: true}, reported, "Upassende"); err != nil {
				t.Fatalf("report: %v", err)
			}
		}
		if len(f.secretariat.kinds) != 1 || f.secretariat.kinds[0] != notify.KindStoryHidden {
			t.Errorf("the secretariat was told %v, want that the story was hidden", f.secretariat.kinds)
		}
		for _, id := range []int64{rejected, reported} {
			path := "/stories/" + gid.Encode("Story", id)
			resp, body := f.get(t, path, "Accept-Language", "en")
			d := parse(t, body)
			if resp.StatusCode != http.StatusGone || d.lang != "en" || !strings.Contains(d.text, "This page has been removed") || d.meta["robots"] != "noindex" {
				t.Errorf("story %d taken down: %d lang %q robots %q %s", id, resp.StatusCode, d.lang, d.meta["robots"], d.text)
			}
			if id == rejected && strings.Contains(body, html.EscapeString(title)) {
				t.Error("the 410 page shows the story's title")
			}
		}
		// Gone from the lists and the sitemap too.
		_, sitemap := f.get(t, "/sitemap.xml")
		_, list := f.get(t, "/stories")
		for _, id := range []int64{rejected, reported} {
			if strings.Contains(sitemap, gid.Encode("Story", id)) || strings.Contains(list, gid.Encode("Story", id)) {
				t.Errorf("story %d is still listed", id)
			}
		}
		var pending int64
		if err := store.Get(ctx, db, &pending, `SELECT id FROM stories WHERE status = 'PENDING_REVIEW' AND published_at IS NULL ORDER BY id LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		if resp, _ := f.get(t, "/stories/"+gid.Encode("Story", pending)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a story never published: %d, want 404", resp.StatusCode)
		}
	})
}

// Every page has a description for its preview, also an activity or an
// organisation whose own description is empty: an activity's says when
// and where it is.
func TestEmptyDescriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, pages.AppLinks{})
		ctx := context.Background()
		id := f.activityID(t, "Fællessang med Ældresagen")
		var org int64
		if err := store.Get(ctx, db, &org, `SELECT organisation_id FROM activities WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		var upcoming int64
		if err := store.Get(ctx, db, &upcoming, `SELECT id FROM activities WHERE status = 'PUBLISHED' AND place_id IS NOT NULL AND starts_at > ? ORDER BY id LIMIT 1`, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(ctx, db, `UPDATE activities SET description = '' WHERE id IN (?, ?)`, id, upcoming); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(ctx, db, `UPDATE organisations SET description = '' WHERE id = ?`, org); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/activities/" + gid.Encode("Activity", id), "/activities/" + gid.Encode("Activity", upcoming), "/organisations/" + gid.Encode("Organisation", org)} {
			d, _ := f.page(t, path)
			for _, k := range []string{"description", "og:description", "twitter:description"} {
				if strings.TrimSpace(d.meta[k]) == "" {
					t.Errorf("%s: no %s", path, k)
				}
			}
		}
		d, _ := f.page(t, "/activities/"+gid.Encode("Activity", upcoming))
		if !strings.Contains(d.meta["og:description"], " · ") || !strings.Contains(d.meta["og:description"], "kl. ") {
			t.Errorf("an activity's own preview says when and where: %q", d.meta["og:description"])
		}
	})
}
