package graph

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// The app's activity list (mobile-contract/operations/activity-list.graphql)
// costs five statements whoever asks, however long the page: the list,
// then one each for organisations, places, themes and slots. Reading as
// the caller may see (drafts' slots hidden, rosters only for organisers)
// adds none per item.
func TestActivityListStatements(t *testing.T) {
	db, counter := storetest.CountingSQLite(t)
	ts := newCountedServer(t, db)
	ts.resolver.LoaderWait = 50 * time.Millisecond
	w := makeWorld(t, ts, 20)
	for i, a := range w.oneOffs[:10] {
		start := a.StartsAt
		if _, err := ts.resolver.Domain.Volunteer.AddSlot(context.Background(), w.boss, volunteer.NewSlot{ActivityID: a.ID,
			Title: "Hjælper", StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 1 + i}); err != nil {
			t.Fatal(err)
		}
	}
	token, mette := ts.person("mette", true)
	makeOrganiser(t, db, &mette, w.history.ID)
	roster := `query($first: Int) { activities(first: $first) { edges { node { id slots { id myClaim { id } claims { id } } } }
		pageInfo { hasNextPage } } }`
	q := `query($first: Int) { activities(first: $first) { edges { cursor occurrence { startsAt endsAt }
		node { id title startsAt endsAt recurrence status themes place { id name } organisation { id name kind }
		slots { id spotsLeft } } } pageInfo { hasNextPage endCursor } } }`
	countOf := func(q string, first int, token string) int64 {
		var resp struct {
			Activities struct {
				Edges    []map[string]any
				PageInfo map[string]any
			}
		}
		counter.Reset()
		ts.client.MustPost(q, &resp, vars("first", first), bearer(token))
		if len(resp.Activities.Edges) != first {
			t.Fatalf("asked for %d, got %d", first, len(resp.Activities.Edges))
		}
		return counter.Count()
	}
	count := func(first int, token string) int64 { return countOf(q, first, token) }
	// An organiser's rosters and own claims: one batch each, whatever the page.
	if small, large := countOf(roster, 5, token), countOf(roster, 20, token); small != large {
		t.Errorf("an organiser's rosters: a page of 5 cost %d statements, a page of 20 cost %d", small, large)
	}
	// A signed-in person costs the sign-in's own statements on top
	// (finding the person and their organisations), the same for any page.
	signIn := count(1, token) - count(1, "")
	for _, first := range []int{5, 20} {
		if n := count(first, ""); n != 5 {
			t.Errorf("a visitor's page of %d cost %d statements, want 5", first, n)
		}
		if n := count(first, token) - signIn; n != 5 {
			t.Errorf("a signed-in page of %d cost %d statements beyond signing in, want 5", first, n)
		}
	}
}

// The initiatives and the stories feed cost the same statements for a
// page of 5 and of 20, signed in, with what is the caller's own in them
// (joinedByMe, myReaction): one batch each, not one per item.
func TestListsDoNotReadPerItem(t *testing.T) {
	db, counter := storetest.CountingSQLite(t)
	ts := newCountedServer(t, db)
	ts.resolver.LoaderWait = 50 * time.Millisecond
	ctx := context.Background()
	d := ts.resolver.Domain
	boss := secretariat(t, db)
	token, reader := ts.person("rasmus", true)
	_, author := ts.person("vera", true)
	for i := 0; i < 20; i++ {
		// One proposal each: a person may only have a few open.
		_, proposer := ts.person(fmt.Sprintf("forslagsstiller%d", i), true)
		in, err := d.Initiatives.Propose(ctx, proposer, initiative.Input{Name: fmt.Sprintf("Forslag %d", i), Description: "Lad os mødes.",
			Themes: []string{"natur"}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := d.Initiatives.Join(ctx, reader, in.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		st, err := d.Stories.Submit(ctx, author, story.Input{Title: fmt.Sprintf("Historie %d", i), Body: "Vi mødtes.", Themes: []string{"natur"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Stories.Review(ctx, boss, st.ID, story.ActionPublish, ""); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := d.Stories.React(ctx, reader, st.ID, story.Heart); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, q := range map[string]string{
		"initiatives": `query($first: Int) { initiatives(first: $first) { edges { node { id name themes memberCount joinedByMe proposedByMe } } } }`,
		"stories":     `query($first: Int) { stories(first: $first) { edges { node { id title themes photos { smallUrl } reactions { kind count } myReaction } } } }`,
	} {
		count := func(first int) int64 {
			var resp map[string]struct{ Edges []map[string]any }
			counter.Reset()
			ts.client.MustPost(q, &resp, vars("first", first), bearer(token))
			if len(resp[name].Edges) != first {
				t.Fatalf("%s: asked for %d, got %d", name, first, len(resp[name].Edges))
			}
			return counter.Count()
		}
		if small, large := count(5), count(20); small != large {
			t.Errorf("%s: a page of 5 cost %d statements, a page of 20 cost %d", name, small, large)
		}
	}
}
