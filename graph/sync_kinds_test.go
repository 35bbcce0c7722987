package graph

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

const syncKindsQuery = `query($since: SyncToken, $first: Int) { sync(since: $since, first: $first) {
	changed { __typename
		... on Activity { id status updatedAt }
		... on VolunteerSlot { id taken updatedAt }
		... on SlotClaim { id claimStatus: status updatedAt }
		... on Story { id updatedAt }
		... on Organisation { id name updatedAt }
		... on Place { id name updatedAt }
		... on Follow { id updatedAt }
		... on Notification { id readAt updatedAt } }
	removed themes { slug name } hasMore token } }`

type syncKindsAnswer struct {
	Sync struct {
		Changed []struct {
			Typename    string `json:"__typename"`
			ID          string
			Status      string
			ClaimStatus string
			Taken       int
			ReadAt      *string
			Name        string
			UpdatedAt   string
		}
		Removed []string
		Themes  []struct{ Slug, Name string }
		HasMore bool
		Token   string
	}
}

// syncKinds runs a sync to its end in pages of first: the ids changed
// and removed, sorted, whether the theme vocabulary came, and the token.
func syncKinds(t *testing.T, ts *testServer, bearerToken, since string, first int) (changed, removed []string, themes bool, next string) {
	t.Helper()
	for range 200 {
		var a syncKindsAnswer
		ts.client.MustPost(syncKindsQuery, &a, vars("first", first, "since", nullable(since)), bearer(bearerToken))
		if len(a.Sync.Changed)+len(a.Sync.Removed) > first {
			t.Fatalf("a page of %d holds %d changed and %d removed", first, len(a.Sync.Changed), len(a.Sync.Removed))
		}
		for _, c := range a.Sync.Changed {
			if c.UpdatedAt == "" {
				t.Errorf("%s synced without updatedAt", c.ID)
			}
			changed = append(changed, c.ID)
		}
		removed = append(removed, a.Sync.Removed...)
		themes = themes || len(a.Sync.Themes) > 0
		since = a.Sync.Token
		if !a.Sync.HasMore {
			slices.Sort(changed)
			slices.Sort(removed)
			return slices.Compact(changed), slices.Compact(removed), themes, since
		}
	}
	t.Fatal("sync did not end in 200 pages")
	return nil, nil, false, ""
}

// The sync carries every kind the app keeps offline, and a person's own
// things (claims, follows, inbox) to that person alone: a phone records a
// token, the town changes every kind in every way (created, edited,
// cancelled, deleted, released, read, unfollowed), and the next sync of
// the resident holds exactly those, while a stranger's, the
// secretariat's and a visitor's hold exactly the public ones.
func TestSyncCarriesEveryKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		d := ts.resolver.Domain
		boss := tw.callers[secretariatRol]
		me := tw.callers[resident]
		myToken := tw.tokens[resident]
		strangerToken, stranger := ts.person("sofie", true)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		inbox := func(userID int64, kind notify.Kind, title string) {
			t.Helper()
			must(ts.db.Transact(ctx, func(tx *sqlx.Tx) error {
				return d.Notify.Notify(ctx, tx, notify.NewNotification{UserID: userID, Kind: kind, Title: title, Body: title})
			}))
		}
		lastNotification := func(userID int64) int64 {
			t.Helper()
			var id int64
			must(store.Get(ctx, db, &id, `SELECT COALESCE(MAX(id), 0) FROM notifications WHERE user_id = ?`, userID))
			return id
		}
		start := tw.activity.EndsAt.Add(48 * time.Hour).Truncate(time.Hour)

		// Before the token: a slot the resident claims (released later),
		// a slot removed later, an activity cancelled later with the
		// resident's claim on it, follows, a note in each inbox.
		released, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: "Kaffe",
			StartsAt: tw.activity.StartsAt, EndsAt: tw.activity.StartsAt.Add(time.Hour), Capacity: 3})
		must(err)
		myReleased, err := d.Volunteer.Claim(ctx, me, released.ID, "sync-1")
		must(err)
		gone, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: "Oprydning",
			StartsAt: tw.activity.StartsAt, EndsAt: tw.activity.StartsAt.Add(time.Hour), Capacity: 2})
		must(err)
		doomed, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID, Title: "Sankthans",
			StartsAt: start, EndsAt: start.Add(3 * time.Hour)}, true)
		must(err)
		bonfire, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: doomed.ID, Title: "Bål",
			StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 2})
		must(err)
		myBonfire, err := d.Volunteer.Claim(ctx, me, bonfire.ID, "sync-2")
		must(err)
		must(d.Notify.Follow(ctx, me, notify.Target{Kind: notify.TargetOrganisation, OrganisationID: tw.orgA.ID}))
		must(d.Notify.Follow(ctx, stranger, notify.Target{Kind: notify.TargetPlace, PlaceID: tw.farm.ID}))
		myFollows, err := d.Notify.Follows(ctx, me)
		must(err)
		strangerFollows, err := d.Notify.Follows(ctx, stranger)
		must(err)
		inbox(me.UserID, notify.KindAnnouncement, "Velkommen")
		inbox(stranger.UserID, notify.KindAnnouncement, "Velkommen")
		ts.drain()
		myNote, strangerNote := lastNotification(me.UserID), lastNotification(stranger.UserID)

		gid := globalID
		mine := []string{gid(typeClaim, myReleased.ID), gid(typeClaim, myBonfire.ID), gid(typeFollow, myFollows[0].ID),
			gid(typeNotification, myNote)}
		theirs := []string{gid(typeFollow, strangerFollows[0].ID), gid(typeNotification, strangerNote), gid(typeClaim, tw.veraClaim.ID)}
		public := []string{gid(typeActivity, tw.activity.ID), gid(typeActivity, doomed.ID), gid(typeSlot, released.ID),
			gid(typeSlot, gone.ID), gid(typeSlot, bonfire.ID), gid(typeSlot, tw.slot.ID), gid(typeOrganisation, tw.orgA.ID),
			gid(typeOrganisation, tw.orgB.ID), gid(typePlace, tw.farm.ID), gid(typeStory, tw.published)}
		never := []string{gid(typeActivity, tw.draft.ID), gid(typeStory, tw.pendingStory)}

		// The first sync: all of it, as each may see it. (Once the
		// town's making lies below the log's horizon: on PostgreSQL
		// another test's open transaction may hold the horizon back, and
		// what the first sync read would come again in the delta.)
		settle(t, db)
		changed, removed, themes, myStart := syncKinds(t, ts, myToken, "", 7)
		for _, id := range append(append([]string{}, mine...), public...) {
			if !slices.Contains(changed, id) {
				t.Errorf("the resident's first sync lacks %s", id)
			}
		}
		for _, id := range append(append([]string{}, theirs...), never...) {
			if slices.Contains(changed, id) {
				t.Errorf("the resident's first sync holds %s", id)
			}
		}
		if len(removed) != 0 || !themes {
			t.Errorf("the resident's first sync: removed %v, themes %v; want none and the vocabulary", removed, themes)
		}
		changed, _, _, strangerStart := syncKinds(t, ts, strangerToken, "", 100)
		for _, id := range append(append([]string{}, mine...), never...) {
			if slices.Contains(changed, id) {
				t.Errorf("a stranger's first sync holds %s", id)
			}
		}
		if !slices.Contains(changed, gid(typeFollow, strangerFollows[0].ID)) || !slices.Contains(changed, gid(typeNotification, strangerNote)) {
			t.Errorf("a stranger's first sync lacks their own follow or note: %v", changed)
		}
		_, _, _, bossStart := syncKinds(t, ts, tw.tokens[secretariatRol], "", 100)
		_, _, _, visitorStart := syncKinds(t, ts, "", "", 100)
		settle(t, db)

		// Every kind of change.
		added, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: "Musik",
			StartsAt: tw.activity.StartsAt, EndsAt: tw.activity.StartsAt.Add(time.Hour), Capacity: 1})
		must(err) // created
		_, err = d.Volunteer.CancelClaim(ctx, me, myReleased.ID)
		must(err) // released: gone from the resident's phone; the slot's count changed
		myAdded, err := d.Volunteer.Claim(ctx, me, added.ID, "sync-3")
		must(err) // a claim created, the slot's count changed
		must(d.Volunteer.RemoveSlot(ctx, boss, gone.ID))
		_, err = d.Activities.Cancel(ctx, boss, doomed.ID)
		must(err) // cancelled: changed with its status; its slot changed, the resident's claim on it cancelled
		_, err = d.Organisations.Update(ctx, boss, tw.orgB.ID, organisation.Input{Name: "Ungdomsrådet", Kind: organisation.Council})
		must(err)
		harbour, err := d.Places.Create(ctx, boss, place.Input{Name: "Ishøj Havn"})
		must(err)
		_, err = d.Places.Update(ctx, boss, tw.farm.ID, place.Input{Name: "Bredekærgård", Address: "Bredekærgårdsvej 4"})
		must(err)
		ok, err := d.Notify.Unfollow(ctx, me, notify.Target{Kind: notify.TargetOrganisation, OrganisationID: tw.orgA.ID})
		must(err)
		if !ok {
			t.Fatal("unfollow did nothing")
		}
		must(d.Notify.Follow(ctx, me, notify.Target{Kind: notify.TargetPlace, PlaceID: harbour.ID}))
		_, err = d.Notify.MarkRead(ctx, me, []int64{myNote}, false)
		must(err)
		// What no phone may hear of: a draft and a slot on it.
		draft2, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID, Title: "Hemmeligt udkast",
			StartsAt: start, EndsAt: start.Add(time.Hour)}, false)
		must(err)
		_, err = d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: draft2.ID, Title: "Hemmelig vagt",
			StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 1})
		must(err)
		ts.drain()
		settle(t, db)

		oldFollow := myFollows[0].ID
		myFollows, err = d.Notify.Follows(ctx, me)
		must(err)
		var myNotes, strangerNotes []string
		var ids []int64
		must(store.Select(ctx, db, &ids, `SELECT id FROM notifications WHERE user_id = ? AND id >= ?`, me.UserID, myNote))
		for _, id := range ids {
			myNotes = append(myNotes, gid(typeNotification, id))
		}
		ids = nil
		must(store.Select(ctx, db, &ids, `SELECT id FROM notifications WHERE user_id = ? AND id > ?`, stranger.UserID, strangerNote))
		for _, id := range ids {
			strangerNotes = append(strangerNotes, gid(typeNotification, id))
		}
		if len(myNotes) < 2 {
			t.Errorf("the resident's inbox after the cancellation: %v, want the read note and the cancellation", myNotes)
		}
		publicChanged := []string{gid(typeSlot, added.ID), gid(typeSlot, released.ID), gid(typeActivity, doomed.ID),
			gid(typeSlot, bonfire.ID), gid(typeOrganisation, tw.orgB.ID), gid(typePlace, harbour.ID), gid(typePlace, tw.farm.ID)}
		publicRemoved := []string{gid(typeSlot, gone.ID)}
		wantMine := sorted(append(append([]string{gid(typeClaim, myAdded.ID), gid(typeFollow, myFollows[0].ID)}, myNotes...), publicChanged...)...)
		wantMineRemoved := sorted(append([]string{gid(typeClaim, myReleased.ID), gid(typeClaim, myBonfire.ID),
			gid(typeFollow, oldFollow)}, publicRemoved...)...)
		for _, first := range []int{100, 1} {
			changed, removed, themes, next := syncKinds(t, ts, myToken, myStart, first)
			if !slices.Equal(changed, wantMine) || !slices.Equal(removed, wantMineRemoved) || themes {
				t.Errorf("resident's delta in pages of %d:\n changed %v\n removed %v\n themes %v\nwant changed %v\n removed %v",
					first, changed, removed, themes, wantMine, wantMineRemoved)
			}
			if c, r, _, _ := syncKinds(t, ts, myToken, next, first); len(c)+len(r) != 0 {
				t.Errorf("the resident's sync after the delta: changed %v removed %v, want nothing", c, r)
			}
		}
		wantPublic := sorted(append([]string{}, publicChanged...)...)
		for name, tc := range map[string]struct {
			token, since string
			own          []string
		}{
			"stranger":    {strangerToken, strangerStart, strangerNotes},
			"secretariat": {tw.tokens[secretariatRol], bossStart, nil},
			"visitor":     {"", visitorStart, nil},
		} {
			changed, removed, _, _ := syncKinds(t, ts, tc.token, tc.since, 100)
			want := sorted(append(append([]string{}, wantPublic...), tc.own...)...)
			if name == "secretariat" {
				// The secretariat's own inbox hears of things too.
				changed = slices.DeleteFunc(changed, func(id string) bool {
					typ, _, _ := parseGlobalID(id)
					return typ == typeNotification
				})
			}
			if !slices.Equal(changed, want) || !slices.Equal(removed, publicRemoved) {
				t.Errorf("%s's delta:\n changed %v\n removed %v\nwant changed %v\n removed %v", name, changed, removed, want, publicRemoved)
			}
		}

		// The nodes are what the caller may see now.
		var a syncKindsAnswer
		ts.client.MustPost(syncKindsQuery, &a, vars("since", myStart, "first", 100), bearer(myToken))
		for _, c := range a.Sync.Changed {
			if c.ID == gid(typeActivity, doomed.ID) && c.Status != "CANCELLED" {
				t.Errorf("cancelled activity synced as %s", c.Status)
			}
			if c.ID == gid(typeClaim, myAdded.ID) && c.ClaimStatus != "CONFIRMED" {
				t.Errorf("new claim synced as %s", c.ClaimStatus)
			}
		}
	})
}
