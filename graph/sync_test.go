package graph

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
)

const syncQuery = `query($since: SyncToken, $first: Int) { sync(since: $since, first: $first) {
	changed { __typename ... on Activity { id title status updatedAt } ... on Story { id title storyStatus: status updatedAt } }
	removed hasMore token } }`

type syncAnswer struct {
	Sync struct {
		Changed []struct {
			Typename    string `json:"__typename"`
			ID          string
			Title       string
			Status      string
			StoryStatus string
			UpdatedAt   string
		}
		Removed []string
		HasMore bool
		Token   string
	}
}

// syncAll runs a sync to its end in pages of first and returns the ids
// changed and removed, each sorted, and the last token.
func syncAll(t *testing.T, ts *testServer, token, since string, first int) (changed, removed []string, next string) {
	t.Helper()
	for range 100 {
		var a syncAnswer
		ts.client.MustPost(syncQuery, &a, vars("first", first, "since", nullable(since)), bearer(token))
		if len(a.Sync.Changed)+len(a.Sync.Removed) > first {
			t.Fatalf("a page of %d holds %d changed and %d removed", first, len(a.Sync.Changed), len(a.Sync.Removed))
		}
		for _, c := range a.Sync.Changed {
			// This test is about activities and stories; the other
			// kinds have TestSyncCarriesEveryKind.
			if c.Typename == typeActivity || c.Typename == typeStory {
				changed = append(changed, c.ID)
			}
		}
		for _, id := range a.Sync.Removed {
			if typ, _, _ := parseGlobalID(id); typ == typeActivity || typ == typeStory {
				removed = append(removed, id)
			}
		}
		since = a.Sync.Token
		if !a.Sync.HasMore {
			slices.Sort(changed)
			slices.Sort(removed)
			return slices.Compact(changed), slices.Compact(removed), since
		}
	}
	t.Fatal("sync did not end in 100 pages")
	return nil, nil, ""
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// settle waits until every change committed so far lies below the change
// log's horizon. On PostgreSQL the horizon is the oldest running
// transaction of the whole server, so another test's open transaction may
// hold it back a moment; the sync then delivers later, never less.
func settle(t *testing.T, db *store.DB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var last int64
		if err := store.Get(context.Background(), db, &last, `SELECT COALESCE(MAX(tx), 0) FROM changes`); err != nil {
			t.Fatal(err)
		}
		h, err := changelog.Horizon(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if h > last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("change log horizon %d still at or below %d after 60s", h, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// A phone records a token, the town changes in every way the sync must
// carry (a new activity, an edit, a cancellation, a draft published, a
// story hidden by reports, a story deleted with its author's account, and
// changes no phone may hear of), and the next sync holds exactly those.
func TestSyncCarriesEveryKindOfChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		d := ts.resolver.Domain
		boss := tw.callers[secretariatRol]
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		start := ts.now().Add(48 * time.Hour).Truncate(time.Hour)
		cancelled, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID, Title: "Loppemarked",
			StartsAt: start, EndsAt: start.Add(time.Hour)}, true)
		must(err)
		_, dora := ts.person("dora", true)
		gone, err := d.Stories.Submit(ctx, dora, story.Input{Title: "Strandrensning", Body: "Vi samlede 40 kg affald."})
		must(err)
		_, err = d.Stories.Review(ctx, boss, gone.ID, story.ActionPublish, "")
		must(err)
		hidden, err := d.Stories.Submit(ctx, dora, story.Input{Title: "Naboskab", Body: "Kaffe i gården."})
		must(err)
		_, err = d.Stories.Review(ctx, boss, hidden.ID, story.ActionPublish, "")
		must(err)

		reader := tw.tokens[resident]
		// A token's horizon stops below any transaction still open on the
		// server (another test's, under load), and a later sync then hands
		// on again what came after it: settle first, so the next sync has
		// nothing to repeat.
		settle(t, db)
		changed, removed, token := syncAll(t, ts, reader, "", 2)
		want := sorted(globalID(typeActivity, tw.activity.ID), globalID(typeActivity, cancelled.ID),
			globalID(typeStory, tw.published), globalID(typeStory, gone.ID), globalID(typeStory, hidden.ID))
		if !slices.Equal(changed, want) || len(removed) != 0 {
			t.Fatalf("first sync: changed %v removed %v, want changed %v", changed, removed, want)
		}
		settle(t, db)
		if c, r, _ := syncAll(t, ts, reader, token, 10); len(c)+len(r) != 0 {
			t.Fatalf("a sync right after the first: changed %v removed %v, want nothing", c, r)
		}

		// Every kind of change.
		created, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgB.ID, Title: "Ungdomsmøde",
			StartsAt: start, EndsAt: start.Add(2 * time.Hour)}, true)
		must(err)
		in := activity.Input{OrganisationID: tw.orgA.ID, PlaceID: &tw.farm.ID, Title: "Byttemarked og kaffe",
			StartsAt: tw.activity.StartsAt, EndsAt: tw.activity.EndsAt}
		_, err = d.Activities.Update(ctx, boss, tw.activity.ID, in)
		must(err)
		_, err = d.Activities.Cancel(ctx, boss, cancelled.ID)
		must(err)
		_, err = d.Activities.Publish(ctx, boss, tw.draft.ID)
		must(err)
		for _, name := range []string{"r1", "r2", "r3"} {
			_, c := ts.person(name, true)
			_, err := d.Stories.Report(ctx, c, hidden.ID, "Viser børn uden samtykke")
			must(err)
		}
		must(d.Privacy.DeleteAccount(ctx, dora, privacy.DeleteStories))
		// What no phone holds: a draft edited, a pending story.
		draft2, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID, Title: "Hemmeligt udkast",
			StartsAt: start, EndsAt: start.Add(time.Hour)}, false)
		must(err)
		_, err = d.Activities.Update(ctx, boss, draft2.ID, activity.Input{Title: "Stadig udkast", StartsAt: start, EndsAt: start.Add(time.Hour)})
		must(err)
		_, err = d.Stories.Submit(ctx, tw.callers[resident], story.Input{Title: "Min historie", Body: "Endnu ikke udgivet."})
		must(err)
		settle(t, db)

		wantChanged := sorted(globalID(typeActivity, created.ID), globalID(typeActivity, tw.activity.ID),
			globalID(typeActivity, cancelled.ID), globalID(typeActivity, tw.draft.ID))
		wantRemoved := sorted(globalID(typeStory, hidden.ID), globalID(typeStory, gone.ID))
		for _, first := range []int{100, 1} {
			changed, removed, next := syncAll(t, ts, reader, token, first)
			if !slices.Equal(changed, wantChanged) || !slices.Equal(removed, wantRemoved) {
				t.Errorf("delta in pages of %d: changed %v removed %v, want changed %v removed %v",
					first, changed, removed, wantChanged, wantRemoved)
			}
			if c, r, _ := syncAll(t, ts, reader, next, first); len(c)+len(r) != 0 {
				t.Errorf("the sync after the delta: changed %v removed %v, want nothing", c, r)
			}
		}

		// The nodes are what the caller may see now.
		var a syncAnswer
		ts.client.MustPost(syncQuery, &a, vars("since", token, "first", 100), bearer(reader))
		for _, c := range a.Sync.Changed {
			if c.ID == globalID(typeActivity, cancelled.ID) && c.Status != "CANCELLED" {
				t.Errorf("cancelled activity synced as %s", c.Status)
			}
			if c.ID == globalID(typeActivity, tw.activity.ID) && c.Title != "Byttemarked og kaffe" {
				t.Errorf("edited activity synced with title %q", c.Title)
			}
			if (c.Typename == typeActivity || c.Typename == typeStory) && c.UpdatedAt == "" {
				t.Errorf("%s synced without updatedAt", c.ID)
			}
		}
		// The secretariat still sees the hidden story; phones keep only
		// published ones, so it is removed for them too.
		if _, r, _ := syncAll(t, ts, tw.tokens[secretariatRol], token, 100); !slices.Equal(r, wantRemoved) {
			t.Errorf("secretariat's delta removed %v, want %v", r, wantRemoved)
		}
		// Anyone may sync, signed in or not.
		if c, _, _ := syncAll(t, ts, "", token, 100); !slices.Equal(c, wantChanged) {
			t.Errorf("visitor's delta changed %v, want %v", c, wantChanged)
		}
	})
}

// A token that is not one answers INVALID_SYNC_TOKEN, one too old
// SYNC_TOKEN_EXPIRED, a bad page size
// INVALID_PAGE_SIZE: user errors in the caller's language, never internal
// ones.
func TestSyncRefusesBadInput(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	for _, tc := range []struct{ args, code, danish string }{
		{`since: "nonsense"`, "INVALID_SYNC_TOKEN", "ikke gyldigt"},
		{`since: "czIuMS4yLjMuNC41LjYuMC4wLjA"`, "SYNC_TOKEN_EXPIRED", "for gammel"},    // "s2.1.2.3.4.5.6.0.0.0": a sync begun in 1970
		{`since: "czIuMS4yLjMuNC41LjYuMC45OS4w"`, "INVALID_SYNC_TOKEN", "ikke gyldigt"}, // kind 99: none such
		// "s1.9999999999.1893456000.0.0.0.0.0.0.0": from before phones kept slots, claims, the directory,
		// follows and the inbox, so the phone lacks them: sync from scratch.
		{`since: "czEuOTk5OTk5OTk5OS4xODkzNDU2MDAwLjAuMC4wLjAuMC4wLjA"`, "SYNC_TOKEN_EXPIRED", "for gammel"},
		{`since: "czIuLTEuMi4zLjQuNS42LjAuMC4w"`, "INVALID_SYNC_TOKEN", "ikke gyldigt"}, // a negative position
		{`since: ""`, "INVALID_SYNC_TOKEN", "ikke gyldigt"},
		{`first: 0`, "INVALID_PAGE_SIZE", "mellem 1 og 100"},
		{`first: 101`, "INVALID_PAGE_SIZE", "mellem 1 og 100"},
		{`first: 1000000000`, "INVALID_PAGE_SIZE", "mellem 1 og 100"},
		{`first: -1`, "INVALID_PAGE_SIZE", "mellem 1 og 100"},
	} {
		errs := postErrors(t, ts, `{ sync(`+tc.args+`) { token } }`)
		if len(errs) != 1 || errs[0].Extensions["code"] != apperr.CodeBadUserInput ||
			errs[0].Extensions["userErrorCode"] != tc.code || !strings.Contains(errs[0].Message, tc.danish) {
			t.Errorf("sync(%s): %+v, want %s", tc.args, errs, tc.code)
		}
	}
}
