package app

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// Every link the server hands out answers: the URL: lines of the
// calendar feeds (public and personal), the story feeds' channel, self
// and entry links, and the sitemap. They all start with PUBLIC_URL and
// carry global ids. Run on both databases with the demo data.
func TestHandedOutLinksResolve(t *testing.T) {
	const public = "https://voresishoj.example"
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			// Every link, hundreds, from one address: more than a reader's
			// rate limit lets through (TestPagesRateLimit has it on).
			env := map[string]string{"PUBLIC_URL": public, "DEMO_DATA": "true", "PAGES_RATE_LIMIT_IP": "0"}
			if db == "postgres" {
				env["DATABASE_URL"] = storetest.PostgresSchemaURL(t)
			}
			s := start(t, env)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			fetch := func(u string) (int, string) {
				t.Helper()
				if !strings.HasPrefix(u, public+"/") {
					t.Errorf("link %q is not under PUBLIC_URL", u)
					return 0, ""
				}
				resp, err := client.Get(s.url + strings.TrimPrefix(u, public))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			checked := 0
			resolve := func(from, u string) {
				t.Helper()
				if code, _ := fetch(u); code != http.StatusOK {
					t.Errorf("%s hands out %s, which answers %d", from, u, code)
				}
				checked++
			}

			urlLine := regexp.MustCompile(`(?m)^URL:(.*?)\r?$`)
			_, ics := fetch(public + "/ical/activities.ics")
			lines := urlLine.FindAllStringSubmatch(ics, -1)
			if len(lines) < 10 {
				t.Fatalf("public calendar has %d URL: lines", len(lines))
			}
			for _, m := range lines {
				resolve("the public calendar", m[1])
			}

			// A volunteer's own calendar.
			var email string
			if err := store.Get(context.Background(), s.app.db, &email, `SELECT u.email FROM slot_claims c
				JOIN users u ON u.id = c.user_id JOIN volunteer_slots vs ON vs.id = c.slot_id
				WHERE c.status = 'CONFIRMED' AND vs.starts_at > ? ORDER BY u.id LIMIT 1`, s.app.now()); err != nil {
				t.Fatalf("a volunteer with an upcoming shift: %v", err)
			}
			_, out := s.gql(t, tokenFor(t, s, email), `mutation { createCalendarFeed { url userErrors { code } } }`, nil)
			feedURL, _ := out["data"].(map[string]any)["createCalendarFeed"].(map[string]any)["url"].(string)
			code, personal := fetch(feedURL)
			if code != http.StatusOK {
				t.Fatalf("personal calendar %s: %d", feedURL, code)
			}
			mine := urlLine.FindAllStringSubmatch(personal, -1)
			if len(mine) == 0 {
				t.Fatalf("the personal calendar has no URL: lines:\n%s", personal)
			}
			for _, m := range mine {
				resolve("the personal calendar", m[1])
			}

			// The story feeds: channel, self and entry links.
			for _, path := range []string{"/feeds/stories.atom", "/feeds/stories.rss", "/feeds/stories.atom?featured=true"} {
				code, body := fetch(public + path)
				if code != http.StatusOK {
					t.Fatalf("%s: %d", path, code)
				}
				f, err := gofeed.NewParser().ParseString(body)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				resolve(path+" (channel link)", f.Link)
				if f.FeedLink != "" {
					resolve(path+" (self link)", f.FeedLink)
				}
				if len(f.Items) == 0 {
					t.Fatalf("%s has no entries", path)
				}
				for _, it := range f.Items {
					resolve(path, it.Link)
					if strings.HasPrefix(it.GUID, "http") {
						resolve(path+" (id)", it.GUID)
					}
				}
			}

			// The API's webUrl of what the app shares.
			_, out = s.gql(t, "", `{ activities(first: 5) { edges { node { webUrl place { webUrl } organisation { webUrl } } } }
				stories(first: 5) { edges { node { webUrl } } } }`, nil)
			data, _ := out["data"].(map[string]any)
			if data == nil {
				t.Fatalf("webUrl query: %v", out)
			}
			var urls []string
			var collect func(v any)
			collect = func(v any) {
				switch v := v.(type) {
				case map[string]any:
					for k, x := range v {
						if s, ok := x.(string); ok && k == "webUrl" {
							urls = append(urls, s)
						}
						collect(x)
					}
				case []any:
					for _, x := range v {
						collect(x)
					}
				}
			}
			collect(data)
			if len(urls) < 15 {
				t.Fatalf("webUrl: %d addresses in %v", len(urls), data)
			}
			for _, u := range urls {
				resolve("webUrl", u)
			}

			// The https fallbacks of push deep links, in every format PUSH.md
			// gives, and those of the notifications the demo data holds; a
			// slot's leads by a redirect to its activity.
			ctx := context.Background()
			var ids struct {
				Activity int64 `db:"activity"`
				Story    int64 `db:"story"`
				Slot     int64 `db:"slot"`
			}
			if err := store.Get(ctx, s.app.db, &ids, `SELECT
				(SELECT MIN(id) FROM activities WHERE status = 'PUBLISHED') AS activity,
				(SELECT MIN(id) FROM stories WHERE status = 'PUBLISHED') AS story,
				(SELECT MIN(vs.id) FROM volunteer_slots vs JOIN activities a ON a.id = vs.activity_id WHERE a.status = 'PUBLISHED') AS slot`); err != nil {
				t.Fatal(err)
			}
			deepLinks := []string{"voresishoj://activity/" + strconv.FormatInt(ids.Activity, 10),
				"voresishoj://story/" + strconv.FormatInt(ids.Story, 10), "voresishoj://slot/" + strconv.FormatInt(ids.Slot, 10),
				"voresishoj://announcement/1", "voresishoj://notifications"}
			var stored []string
			if err := store.Select(ctx, s.app.db, &stored, `SELECT DISTINCT deep_link FROM notifications`); err != nil {
				t.Fatal(err)
			}
			for _, dl := range append(deepLinks, stored...) {
				u := weblink.New(public).FromDeepLink(dl)
				// One redirect is followed, to an address under PUBLIC_URL.
				for hop := 0; ; hop++ {
					if !strings.HasPrefix(u, public+"/") {
						t.Errorf("push %s falls back to %q, not under PUBLIC_URL", dl, u)
						break
					}
					resp, err := client.Get(s.url + strings.TrimPrefix(u, public))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusMovedPermanently && hop == 0 {
						u = resp.Header.Get("Location")
						continue
					}
					if resp.StatusCode != http.StatusOK {
						t.Errorf("push %s falls back to %s, which answers %d", dl, u, resp.StatusCode)
					}
					break
				}
				checked++
			}

			// The sitemap, and robots.txt pointing at it.
			code, robots := fetch(public + "/robots.txt")
			if code != http.StatusOK || !strings.Contains(robots, "Sitemap: "+public+"/sitemap.xml") {
				t.Fatalf("robots.txt: %d %s", code, robots)
			}
			_, sm := fetch(public + "/sitemap.xml")
			var set struct {
				URLs []struct {
					Loc string `xml:"loc"`
				} `xml:"url"`
			}
			if err := xml.Unmarshal([]byte(sm), &set); err != nil || len(set.URLs) < 30 {
				t.Fatalf("sitemap: %v, %d addresses", err, len(set.URLs))
			}
			for _, u := range set.URLs {
				resolve("the sitemap", u.Loc)
			}
			t.Logf("%d handed-out links answered 200", checked)
		})
	}
}

// The export download links are behind a per-address limit like the
// public pages (EXPORT_RATE_LIMIT_IP, 10 a minute with a burst of 5):
// building a ZIP of photos is work, and a link is a secret nobody should
// be trying many of.
func TestExportDownloadsAreRateLimited(t *testing.T) {
	statuses := func(s *started, n int) (codes []int, limited *http.Response, body string) {
		for range n {
			req, _ := http.NewRequest(http.MethodGet, s.url+"/export/"+strings.Repeat("a", 43)+".zip", nil)
			req.Header.Set("Accept-Language", "en")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			codes = append(codes, resp.StatusCode)
			if resp.StatusCode == http.StatusTooManyRequests && limited == nil {
				limited, body = resp, string(b)
			}
		}
		return codes, limited, body
	}

	s := start(t, nil)
	codes, limited, body := statuses(s, 8)
	if codes[0] != http.StatusNotFound || limited == nil {
		t.Fatalf("8 downloads at once: %v, want 404 then 429", codes)
	}
	if limited.Header.Get("Retry-After") == "" || !strings.HasPrefix(body, "Too many requests") || limited.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("refusal: Retry-After %q, Cache-Control %q, body %q", limited.Header.Get("Retry-After"), limited.Header.Get("Cache-Control"), body)
	}

	off := start(t, map[string]string{"EXPORT_RATE_LIMIT_IP": "0"})
	if codes, limited, _ := statuses(off, 8); limited != nil {
		t.Errorf("EXPORT_RATE_LIMIT_IP=0: %v", codes)
	}
}
