package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// world is a small town made through the real domain writes.
type world struct {
	boss             user.Caller
	history, garden  organisation.Organisation
	farm, harbour    place.Place
	monthly, draft   activity.Activity
	oneOffs          []activity.Activity
	cancelled        activity.Activity
	firstSundayLocal time.Time
}

func nextLocal(from time.Time, wd time.Weekday, hour int) time.Time {
	l := from.In(tz.Copenhagen).AddDate(0, 0, 1)
	for l.Weekday() != wd {
		l = l.AddDate(0, 0, 1)
	}
	return time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, tz.Copenhagen)
}

func firstSundayAfter(from time.Time) time.Time {
	l := from.In(tz.Copenhagen)
	for m := 0; ; m++ {
		d := time.Date(l.Year(), l.Month()+time.Month(m), 1, 10, 0, 0, 0, tz.Copenhagen)
		for d.Weekday() != time.Sunday {
			d = d.AddDate(0, 0, 1)
		}
		if d.After(from) {
			return d
		}
	}
}

func makeWorld(t *testing.T, ts *testServer, oneOffs int) world {
	t.Helper()
	ctx := context.Background()
	d := ts.resolver.Domain
	w := world{boss: secretariat(t, ts.db)}
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.history, err = d.Organisations.Create(ctx, w.boss, organisation.Input{Name: "Thorslunde-Ishøj Lokalhistoriske Forening", Kind: organisation.Association,
		Links: []organisation.LinkInput{{Kind: "FACEBOOK", URL: "https://www.facebook.com/lokalhistorie"}}})
	must(err)
	w.garden, err = d.Organisations.Create(ctx, w.boss, organisation.Input{Name: "Dyrk Ishøj", Kind: organisation.InformalInitiative})
	must(err)
	w.farm, err = d.Places.Create(ctx, w.boss, place.Input{Name: "Bredekærgård", Address: "Bredekærgårdsvej 20, 2635 Ishøj"})
	must(err)
	w.harbour, err = d.Places.Create(ctx, w.boss, place.Input{Name: "Ishøj Havn"})
	must(err)

	now := ts.now()
	w.firstSundayLocal = firstSundayAfter(now)
	rule := "FREQ=MONTHLY;BYDAY=1SU"
	w.monthly, err = d.Activities.Create(ctx, w.boss, activity.Input{
		OrganisationID: w.history.ID, PlaceID: &w.farm.ID, Title: "Aktiviteter for børn",
		Description: "Værksted, lege og bålmad på Bredekærgård.", StartsAt: w.firstSundayLocal, EndsAt: w.firstSundayLocal.Add(4 * time.Hour),
		Recurrence: &rule, Themes: []string{"boern", "historie"},
		Links: []activity.LinkInput{{Kind: "WEB", URL: "https://example.org/boern"}},
	}, true)
	must(err)
	for i := 0; i < oneOffs; i++ {
		start := nextLocal(now, time.Saturday, 10).AddDate(0, 0, 7*(i%8)).Add(time.Duration(i) * time.Minute)
		org, plc, themes := w.garden.ID, &w.harbour.ID, []string{"natur"}
		if i%2 == 0 {
			org, plc, themes = w.history.ID, &w.farm.ID, []string{"historie"}
		}
		a, err := d.Activities.Create(ctx, w.boss, activity.Input{
			OrganisationID: org, PlaceID: plc, Title: fmt.Sprintf("Havedag %d", i), Description: "Vi sår og høster sammen.",
			StartsAt: start, EndsAt: start.Add(3 * time.Hour), Themes: themes,
			Links: []activity.LinkInput{{Kind: "YOUTUBE", URL: "https://youtu.be/abc"}},
		}, true)
		must(err)
		w.oneOffs = append(w.oneOffs, a)
	}
	start := nextLocal(now, time.Monday, 18)
	w.draft, err = d.Activities.Create(ctx, w.boss, activity.Input{OrganisationID: w.garden.ID, Title: "Hemmeligt udkast",
		StartsAt: start, EndsAt: start.Add(time.Hour)}, false)
	must(err)
	w.cancelled, err = d.Activities.Create(ctx, w.boss, activity.Input{OrganisationID: w.garden.ID, Title: "Aflyst grilldag",
		StartsAt: start, EndsAt: start.Add(time.Hour)}, true)
	must(err)
	_, err = d.Activities.Cancel(ctx, w.boss, w.cancelled.ID)
	must(err)
	return w
}

type activityPage struct {
	Activities struct {
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Title, StartsAt string
				Recurrence          *string
				Place               *struct{ Name string }
				Organisation        struct{ Name string }
				Themes              []string
				Links               []struct{ Kind, URL string }
			}
			Occurrence struct{ StartsAt, EndsAt string }
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
	}
}

const activitiesQuery = `query($first: Int, $after: String, $filter: ActivityFilter) {
  activities(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id title startsAt recurrence place { name } organisation { name } themes links { kind url } }
            occurrence { startsAt endsAt } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
  }
}`

func TestActivitiesPagingAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		w := makeWorld(t, ts, 11)

		// Paging with `after` walks every published activity once, in order.
		var titles []string
		var after *string
		var lastStart string
		for page := 0; ; page++ {
			var resp activityPage
			ts.client.MustPost(activitiesQuery, &resp, vars("first", 5, "after", after))
			// Relay's page info: the first and last edge's cursors, and
			// no previous page when paging forward.
			info, edges := resp.Activities.PageInfo, resp.Activities.Edges
			if len(edges) == 0 || info.StartCursor == nil || *info.StartCursor != edges[0].Cursor ||
				info.EndCursor == nil || *info.EndCursor != edges[len(edges)-1].Cursor || info.HasPreviousPage {
				t.Errorf("page %d: pageInfo %+v does not match its %d edges", page, info, len(edges))
			}
			for _, e := range resp.Activities.Edges {
				titles = append(titles, e.Node.Title)
				if e.Occurrence.StartsAt < lastStart {
					t.Errorf("out of order: %s before %s", e.Occurrence.StartsAt, lastStart)
				}
				lastStart = e.Occurrence.StartsAt
			}
			if !resp.Activities.PageInfo.HasNextPage {
				break
			}
			after = resp.Activities.PageInfo.EndCursor
			if page > 10 {
				t.Fatal("paging does not end")
			}
		}
		if len(titles) != 12 {
			t.Errorf("listed %d activities, want 12 (11 one-offs + 1 recurring): %v", len(titles), titles)
		}
		seen := map[string]bool{}
		for _, title := range titles {
			if seen[title] {
				t.Errorf("%q listed twice", title)
			}
			seen[title] = true
		}
		if seen["Hemmeligt udkast"] || seen["Aflyst grilldag"] {
			t.Error("draft or cancelled activity listed")
		}

		// The recurring activity is listed with its first occurrence in the
		// window; a window a month later moves it to the next first Sunday.
		from := w.firstSundayLocal.Add(24 * time.Hour)
		var resp activityPage
		ts.client.MustPost(activitiesQuery, &resp, vars("filter", map[string]any{
			"from": from.Format(time.RFC3339), "themes": []string{"boern"}}))
		if len(resp.Activities.Edges) != 1 {
			t.Fatalf("themes=boern from %v: %d edges", from, len(resp.Activities.Edges))
		}
		e := resp.Activities.Edges[0]
		occ, _ := time.Parse(time.RFC3339, e.Occurrence.StartsAt)
		if l := occ.In(tz.Copenhagen); l.Weekday() != time.Sunday || l.Hour() != 10 || l.Day() > 7 || !occ.After(from) {
			t.Errorf("next occurrence %v is not a first Sunday at 10:00 after %v", l, from)
		}
		if e.Node.Recurrence == nil || *e.Node.Recurrence != "FREQ=MONTHLY;BYDAY=1SU" || e.Node.Place.Name != "Bredekærgård" ||
			e.Node.Organisation.Name != "Thorslunde-Ishøj Lokalhistoriske Forening" || len(e.Node.Links) != 1 {
			t.Errorf("recurring activity fields: %+v", e.Node)
		}
		if !strings.HasSuffix(e.Occurrence.StartsAt, "+01:00") && !strings.HasSuffix(e.Occurrence.StartsAt, "+02:00") {
			t.Errorf("time not in Copenhagen offset: %s", e.Occurrence.StartsAt)
		}

		// Filters: organisation, place, search (case-insensitive, Danish letters), a closed window.
		count := func(filter map[string]any) int {
			var resp activityPage
			ts.client.MustPost(activitiesQuery, &resp, vars("first", 100, "filter", filter))
			return len(resp.Activities.Edges)
		}
		if n := count(map[string]any{"organisationId": globalID(typeOrganisation, w.garden.ID)}); n != 5 {
			t.Errorf("garden organisation: %d, want 5", n)
		}
		if n := count(map[string]any{"placeId": globalID(typePlace, w.farm.ID)}); n != 7 {
			t.Errorf("farm place: %d, want 7", n)
		}
		if n := count(map[string]any{"search": "BÅLMAD"}); n != 1 {
			t.Errorf("search BÅLMAD: %d, want 1", n)
		}
		if n := count(map[string]any{"search": "100%_"}); n != 0 {
			t.Errorf("search with LIKE wildcards: %d, want 0", n)
		}
		if n := count(map[string]any{"themes": []string{"natur", "historie"}}); n != 12 {
			t.Errorf("themes natur|historie: %d, want 12", n)
		}
		past := ts.now().Add(-48 * time.Hour)
		if n := count(map[string]any{"from": past.Format(time.RFC3339), "to": past.Add(time.Hour).Format(time.RFC3339)}); n != 0 {
			t.Errorf("window in the past: %d, want 0", n)
		}

		// Drafts are visible to their organisers only.
		var one struct{ Activity *struct{ Title string } }
		q := `query($id: ID!) { activity(id: $id) { title } }`
		ts.client.MustPost(q, &one, vars("id", globalID(typeActivity, w.draft.ID)))
		if one.Activity != nil {
			t.Error("draft visible to a visitor")
		}
		ts.client.MustPost(q, &one, vars("id", globalID(typeActivity, w.draft.ID)), as(w.boss))
		if one.Activity == nil || one.Activity.Title != "Hemmeligt udkast" {
			t.Error("draft not visible to the secretariat")
		}
	})
}

// The count of SQL statements for a page must not grow with the page.
func TestNoNPlusOne(t *testing.T) {
	db, counter := storetest.CountingSQLite(t)
	ts := newCountedServer(t, db)
	// The test is about whether every relation goes through a batching
	// loader, not about the batch window; a wide window keeps a slow
	// machine (-race) from splitting a batch.
	ts.resolver.LoaderWait = 50 * time.Millisecond
	makeWorld(t, ts, 30)
	q := `query($first: Int) { activities(first: $first) { edges { node {
		id title place { name } organisation { name links { url } } themes links { url }
		nextOccurrence { startsAt } occurrences(first: 3) { startsAt } } } } }`
	statements := func(first int) int64 {
		var resp struct {
			Activities struct{ Edges []map[string]any }
		}
		counter.Reset()
		ts.client.MustPost(q, &resp, vars("first", first))
		if len(resp.Activities.Edges) != first {
			t.Fatalf("asked for %d, got %d", first, len(resp.Activities.Edges))
		}
		return counter.Count()
	}
	small, large := statements(5), statements(20)
	if small != large {
		t.Errorf("a page of 5 cost %d statements, a page of 20 cost %d: the count grows with the page", small, large)
	}
	if large > 8 {
		t.Errorf("a page of 20 cost %d statements, want at most 8", large)
	}
	t.Logf("statements per page: %d", large)
}
