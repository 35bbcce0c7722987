package feed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

const publicURL = "https://voresishoj.example"

var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

type fixture struct {
	db  *store.DB
	srv *httptest.Server

	roedeKors, aeldre int64
	// market and choir are published; market is featured with a photo,
	// choir has no author name, essay has a long body; draft, pending and
	// hidden are not published.
	market, choir, essay, draft, pending, hidden int64
}

func insert(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := store.Get(context.Background(), db, &id, query+" RETURNING id", args...); err != nil {
		t.Fatalf("insert: %v\n%s", err, query)
	}
	return id
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := store.Exec(context.Background(), db, query, args...); err != nil {
		t.Fatalf("exec: %v\n%s", err, query)
	}
}

const essayBody = `Ishøj Havn har forandret sig meget.   Da jeg var barn, lå der kun et par joller ved broen,
og vi fiskede krabber med en snor og et stykke bacon. I dag er her cafeer, kajakklub og
vinterbadere hele året. <b>Men</b> det bedste er stadig at sidde på molen en stille aften og se solen gå ned
bag Køge Bugt, mens fiskerne kommer ind. Jeg håber, at mine børnebørn også vil finde den ro her, for
den slags steder bliver der færre af, og de skal passes på af os alle sammen.`

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db}
	created := now.Add(-400 * 24 * time.Hour)
	author := insert(t, db, `INSERT INTO users (firebase_uid, email, email_verified, display_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, "uid-1", "fatma@example.dk", true, "Fatma", created, created)
	f.roedeKors = insert(t, db, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`,
		"Røde Kors", created, created)
	f.aeldre = insert(t, db, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`,
		"Ældre i bevægelse", created, created)

	story := func(org int64, authorName, title, body, status string, featured bool, published *time.Time, updated time.Time) int64 {
		return insert(t, db, `INSERT INTO stories (author_id, author_name, title, body, status, organisation_id, featured,
				created_at, updated_at, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			author, authorName, title, body, status, org, featured, created, updated, published)
	}
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour

	f.market = story(f.roedeKors, "Fatma", "Byttemarked var en succes", "Over 200 kom forbi.\nTak til alle!", "PUBLISHED", true, at(3*day), *at(3 * day))
	f.choir = story(f.aeldre, "", "Koret synger igen", "Vi øver hver tirsdag.", "PUBLISHED", false, at(day), *at(day))
	f.essay = story(f.roedeKors, "Jens", "Havnen dengang", essayBody, "PUBLISHED", false, at(5*day), *at(5 * day))
	f.draft = story(f.roedeKors, "Fatma", "Kladde om loppemarked", "Ikke færdig", "DRAFT", false, nil, *at(20 * day))
	f.pending = story(f.roedeKors, "Fatma", "Venter på godkendelse", "Tekst", "PENDING_REVIEW", true, nil, *at(20 * day))
	f.hidden = story(f.roedeKors, "Fatma", "Skjult historie", "Tekst", "HIDDEN", true, at(30*day), *at(20 * day))

	exec(t, db, `INSERT INTO story_themes (story_id, theme) VALUES (?, 'kultur'), (?, 'boern')`, f.market, f.market)
	exec(t, db, `INSERT INTO story_themes (story_id, theme) VALUES (?, 'faellesskab')`, f.choir)
	exec(t, db, `INSERT INTO story_themes (story_id, theme) VALUES (?, 'kultur'), (?, 'kultur'), (?, 'kultur')`, f.draft, f.pending, f.hidden)
	// Two photos: the one at position 0 is the enclosure.
	exec(t, db, `INSERT INTO story_photos (story_id, position, alt_text, key_small, key_large, width, height, created_at)
		VALUES (?, 1, 'Bord med bøger', 'b-320.jpg', 'b-1280.jpg', 1280, 960, ?), (?, 0, 'Kø ved indgangen', 'a-320.jpg', 'a-1280.jpg', 1280, 960, ?)`,
		f.market, created, f.market, created)

	f.srv = httptest.NewServer(NewService(db, publicURL+"/").Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func storyLink(id int64) string {
	return publicURL + "/stories/" + gid.EncodeKey("Story", formatInt(id))
}

func formatInt(id int64) string { return strconv.FormatInt(id, 10) }

func (f *fixture) get(t *testing.T, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// parse fetches path, checks the response headers and parses the body the
// way a feed reader would.
func (f *fixture) parse(t *testing.T, path string) *gofeed.Feed {
	t.Helper()
	res, body := f.get(t, path, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, body)
	}
	want := "application/atom+xml; charset=utf-8"
	if strings.Contains(path, ".rss") {
		want = "application/rss+xml; charset=utf-8"
	}
	if got := res.Header.Get("Content-Type"); got != want {
		t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("GET %s: Cache-Control %q", path, got)
	}
	feed, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", path, err, body)
	}
	return feed
}

func titles(feed *gofeed.Feed) []string {
	var out []string
	for _, it := range feed.Items {
		out = append(out, it.Title)
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestFeedContent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		for _, format := range []string{"atom", "rss"} {
			t.Run(format, func(t *testing.T) {
				feed := f.parse(t, "/feeds/stories."+format)
				wantType := map[string]string{"atom": "atom", "rss": "rss"}[format]
				if feed.FeedType != wantType {
					t.Errorf("feed type %q, want %q", feed.FeedType, wantType)
				}
				if feed.Title != "Vores Ishøj – historier" {
					t.Errorf("title %q", feed.Title)
				}
				if feed.Language != "da" {
					t.Errorf("language %q, want da", feed.Language)
				}
				want := []string{"Koret synger igen", "Byttemarked var en succes", "Havnen dengang"}
				if got := titles(feed); !equal(got, want) {
					t.Fatalf("items %q, want only the published stories newest first %q", got, want)
				}
				choir, market, essay := feed.Items[0], feed.Items[1], feed.Items[2]

				if choir.Link != storyLink(f.choir) || market.Link != storyLink(f.market) {
					t.Errorf("links %q, %q; want %q, %q", choir.Link, market.Link, storyLink(f.choir), storyLink(f.market))
				}
				if market.GUID != storyLink(f.market) {
					t.Errorf("guid %q, want the story's link", market.GUID)
				}
				if len(choir.Authors) != 1 || choir.Authors[0].Name != "Anonym" {
					t.Errorf("choir authors %+v, want Anonym", choir.Authors)
				}
				if len(market.Authors) != 1 || market.Authors[0].Name != "Fatma" {
					t.Errorf("market authors %+v, want Fatma", market.Authors)
				}
				if !equal(market.Categories, []string{"boern", "kultur"}) {
					t.Errorf("market categories %q", market.Categories)
				}
				if !equal(choir.Categories, []string{"faellesskab"}) || len(essay.Categories) != 0 {
					t.Errorf("categories %q and %q", choir.Categories, essay.Categories)
				}
				if market.PublishedParsed == nil || !market.PublishedParsed.Equal(now.Add(-3*24*time.Hour)) {
					t.Errorf("market published %v, want %v", market.PublishedParsed, now.Add(-3*24*time.Hour))
				}
				if market.Description != "Over 200 kom forbi. Tak til alle!" {
					t.Errorf("market summary %q", market.Description)
				}

				if len(market.Enclosures) != 1 {
					t.Fatalf("market enclosures %+v, want the first photo", market.Enclosures)
				}
				if enc := market.Enclosures[0]; enc.URL != publicURL+"/media/a-1280.jpg" || enc.Type != "image/jpeg" {
					t.Errorf("enclosure %+v", enc)
				}
				if len(choir.Enclosures) != 0 {
					t.Errorf("choir has no photo but enclosures %+v", choir.Enclosures)
				}

				// The summary is the start of the body, cut at a word, with
				// markup shown as text rather than interpreted.
				sum := essay.Description
				if format == "rss" {
					sum = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(sum)
				}
				if !strings.HasPrefix(sum, "Ishøj Havn har forandret sig meget. Da jeg var barn") || !strings.HasSuffix(sum, "…") {
					t.Errorf("essay summary %q", sum)
				}
				if n := len([]rune(sum)); n > 301 || n < 200 {
					t.Errorf("essay summary has %d characters, want about 300", n)
				}
				if !strings.Contains(sum, "<b>Men</b>") {
					t.Errorf("essay summary lost its text: %q", sum)
				}
			})
		}
	})
}

func TestFeedFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		orgGlobal := gid.EncodeKey("Organisation", formatInt(f.roedeKors))
		cases := []struct {
			query, title string
			want         []string
		}{
			{"?organisation=" + formatInt(f.roedeKors), "Vores Ishøj – historier – Røde Kors", []string{"Byttemarked var en succes", "Havnen dengang"}},
			{"?organisation=" + orgGlobal, "Vores Ishøj – historier – Røde Kors", []string{"Byttemarked var en succes", "Havnen dengang"}},
			{"?theme=kultur", "Vores Ishøj – historier", []string{"Byttemarked var en succes"}},
			{"?featured=true", "Vores Ishøj – historier", []string{"Byttemarked var en succes"}},
			{"?featured=false", "Vores Ishøj – historier", []string{"Koret synger igen", "Byttemarked var en succes", "Havnen dengang"}},
			{"?organisation=" + formatInt(f.aeldre) + "&theme=faellesskab", "Vores Ishøj – historier – Ældre i bevægelse", []string{"Koret synger igen"}},
			{"?organisation=" + formatInt(f.aeldre) + "&featured=true", "Vores Ishøj – historier – Ældre i bevægelse", nil},
		}
		for _, format := range []string{"atom", "rss"} {
			for _, c := range cases {
				feed := f.parse(t, "/feeds/stories."+format+c.query)
				if got := titles(feed); !equal(got, c.want) {
					t.Errorf("%s%s: items %q, want %q", format, c.query, got, c.want)
				}
				if feed.Title != c.title {
					t.Errorf("%s%s: title %q, want %q", format, c.query, feed.Title, c.title)
				}
			}
		}

		for _, q := range []string{
			"?organisation=abc",
			"?organisation=0",
			"?organisation=-3",
			"?organisation=" + gid.EncodeKey("Story", formatInt(f.market)),
			"?theme=Kultur!",
			"?featured=maybe",
		} {
			for _, format := range []string{"atom", "rss"} {
				if res, body := f.get(t, "/feeds/stories."+format+q, nil); res.StatusCode != http.StatusBadRequest {
					t.Errorf("%s%s: status %d (%s), want 400", format, q, res.StatusCode, body)
				}
			}
		}
		for _, q := range []string{"?organisation=99999", "?theme=ukendt"} {
			if res, _ := f.get(t, "/feeds/stories.atom"+q, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", q, res.StatusCode)
			}
		}
	})
}

func TestFeedCaching(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		for _, format := range []string{"atom", "rss"} {
			t.Run(format, func(t *testing.T) {
				path := "/feeds/stories." + format
				res, body := f.get(t, path, nil)
				etag := res.Header.Get("ETag")
				if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
					t.Fatalf("ETag %q, want a strong tag", etag)
				}
				lastModified := res.Header.Get("Last-Modified")
				// The choir story, published a day ago, is the newest change.
				if want := now.Add(-24 * time.Hour).Format(http.TimeFormat); lastModified != want {
					t.Fatalf("Last-Modified %q, want %q", lastModified, want)
				}

				// Same content, same bytes.
				res2, body2 := f.get(t, path, nil)
				if res2.Header.Get("ETag") != etag || body2 != body {
					t.Fatalf("second fetch differs: ETag %q vs %q", res2.Header.Get("ETag"), etag)
				}

				for name, h := range map[string]map[string]string{
					"If-None-Match":           {"If-None-Match": etag},
					"If-None-Match list":      {"If-None-Match": `"other", W/` + etag},
					"If-Modified-Since":       {"If-Modified-Since": lastModified},
					"If-Modified-Since later": {"If-Modified-Since": now.Format(http.TimeFormat)},
				} {
					res, body := f.get(t, path, h)
					if res.StatusCode != http.StatusNotModified || body != "" {
						t.Errorf("%s: status %d with %d bytes, want 304 without a body", name, res.StatusCode, len(body))
					}
					if res.Header.Get("ETag") != etag {
						t.Errorf("%s: 304 carries ETag %q, want %q", name, res.Header.Get("ETag"), etag)
					}
				}
				for name, h := range map[string]map[string]string{
					"stale If-None-Match":       {"If-None-Match": `"stale"`},
					"earlier If-Modified-Since": {"If-Modified-Since": now.Add(-48 * time.Hour).Format(http.TimeFormat)},
					// If-None-Match wins over If-Modified-Since.
					"stale tag, recent date": {"If-None-Match": `"stale"`, "If-Modified-Since": lastModified},
				} {
					if res, _ := f.get(t, path, h); res.StatusCode != http.StatusOK {
						t.Errorf("%s: status %d, want 200", name, res.StatusCode)
					}
				}
			})
		}

		// Publishing the draft changes the feed: a poller's old validators
		// no longer match.
		atomRes, _ := f.get(t, "/feeds/stories.atom", nil)
		rssRes, _ := f.get(t, "/feeds/stories.rss", nil)
		published := now.Add(time.Hour)
		exec(t, db, `UPDATE stories SET status = 'PUBLISHED', published_at = ?, updated_at = ? WHERE id = ?`, published, published, f.draft)
		for _, old := range []*http.Response{atomRes, rssRes} {
			path := old.Request.URL.Path
			res, _ := f.get(t, path, map[string]string{"If-None-Match": old.Header.Get("ETag")})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s after publishing: status %d, want 200", path, res.StatusCode)
			}
			if res.Header.Get("ETag") == old.Header.Get("ETag") {
				t.Errorf("%s: ETag unchanged after publishing", path)
			}
			if got, want := res.Header.Get("Last-Modified"), published.Format(http.TimeFormat); got != want {
				t.Errorf("%s: Last-Modified %q, want %q", path, got, want)
			}
			if res, _ := f.get(t, path, map[string]string{"If-Modified-Since": old.Header.Get("Last-Modified")}); res.StatusCode != http.StatusOK {
				t.Errorf("%s: If-Modified-Since before publishing gave %d, want 200", path, res.StatusCode)
			}
			if feed := f.parse(t, path); len(feed.Items) == 0 || feed.Items[0].Title != "Kladde om loppemarked" {
				t.Errorf("%s: newly published story not first: %q", path, titles(feed))
			}
		}

		// Hiding a story takes it out of the feed; a client that only sends
		// If-Modified-Since must not be told nothing changed.
		before, _ := f.get(t, "/feeds/stories.atom", nil)
		hiddenAt := now.Add(2 * time.Hour)
		exec(t, db, `UPDATE stories SET status = 'HIDDEN', updated_at = ? WHERE id = ?`, hiddenAt, f.market)
		res, _ := f.get(t, "/feeds/stories.atom", map[string]string{"If-Modified-Since": before.Header.Get("Last-Modified")})
		if res.StatusCode != http.StatusOK {
			t.Errorf("after hiding a story: status %d, want 200", res.StatusCode)
		}
		if feed := f.parse(t, "/feeds/stories.atom"); strings.Contains(strings.Join(titles(feed), "|"), "Byttemarked") {
			t.Errorf("hidden story still in feed: %q", titles(feed))
		}
	})
}

func TestSummary(t *testing.T) {
	if got := summary("  Kort\n\ttekst  "); got != "Kort tekst" {
		t.Errorf("short summary %q", got)
	}
	long := strings.Repeat("ø", 400)
	if got := summary(long); len([]rune(got)) != summaryLen+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("unbroken text cut to %d runes", len([]rune(got)))
	}
}
