package graph

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// busyPerson is someone who has done everything the app offers, for the
// export and deletion tests.
type busyPerson struct {
	token  string
	caller user.Caller
	// photoKeys are the blob keys of the photos of their stories.
	photoKeys []string
	// publishedStory and pendingStory are two of their stories, with a
	// photo each.
	publishedStory, pendingStory int64
	proposal                     int64
	pastClaim                    int64
	deviceToken                  string
}

// testJPEG returns a small JPEG photo.
func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for x := range 320 {
		img.Set(x, x%240, color.RGBA{30, 90, 200, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeBusyPerson makes "dorte" in the town and has her claim slots (one
// shift already worked), write stories with photos (one published), react
// to and report a story, propose, join and report initiatives, register
// a phone, follow an organisation, set her preferences, get an
// announcement in her inbox, make a calendar feed, and, as organiser of
// orgB, make an activity and record someone's qualification.
func makeBusyPerson(t *testing.T, ts *testServer, tw town) busyPerson {
	t.Helper()
	ctx := context.Background()
	d := ts.resolver.Domain
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	boss := tw.callers[secretariatRol]
	var p busyPerson
	p.token, p.caller = ts.person("dorte", true)
	dorte := p.caller

	_, err := d.Volunteer.Claim(ctx, dorte, tw.slot.ID, "dorte-1")
	must(err)
	must(store.Get(ctx, ts.db, &p.pastClaim, `INSERT INTO slot_claims (slot_id, user_id, status, created_at, confirmed_at)
		VALUES (?, ?, 'CONFIRMED', ?, ?) RETURNING id`, tw.pastSlot.ID, dorte.UserID, ts.now().Add(-3*time.Hour), ts.now().Add(-3*time.Hour)))
	_, err = store.Exec(ctx, ts.db, `UPDATE volunteer_slots SET taken = taken + 1 WHERE id = ?`, tw.pastSlot.ID)
	must(err)

	photo := testJPEG(t)
	pub, err := d.Stories.Submit(ctx, dorte, story.Input{Title: "Strandrensning", Body: "Vi samlede 40 kg affald.",
		OrganisationID: &tw.orgA.ID, ConsentPeople: true, Photos: []story.PhotoInput{{Reader: bytes.NewReader(photo), Alt: "Affaldssække"}}})
	must(err)
	_, err = d.Stories.Review(ctx, boss, pub.ID, story.ActionPublish, "")
	must(err)
	pending, err := d.Stories.Submit(ctx, dorte, story.Input{Title: "Børnenes dag", Body: "Ansigtsmaling og bål.",
		OrganisationID: &tw.orgA.ID, ConsentPeople: true, Photos: []story.PhotoInput{{Reader: bytes.NewReader(photo), Alt: "Bål"}}})
	must(err)
	p.publishedStory, p.pendingStory = pub.ID, pending.ID
	must(store.Select(ctx, ts.db, &p.photoKeys, `SELECT key_small FROM story_photos WHERE story_id IN (?, ?)
		UNION ALL SELECT key_large FROM story_photos WHERE story_id IN (?, ?)`, pub.ID, pending.ID, pub.ID, pending.ID))
	if len(p.photoKeys) != 4 {
		t.Fatalf("photo keys %v, want 4", p.photoKeys)
	}
	must(d.Stories.React(ctx, dorte, tw.published, story.Heart))
	_, err = d.Stories.Report(ctx, dorte, tw.published, "Forkert dato")
	must(err)

	prop, err := d.Initiatives.Propose(ctx, dorte, initiative.Input{Name: "Lektiecafé i Strandgården", Description: "Hjælp til lektier tirsdag."})
	must(err)
	p.proposal = prop.ID
	_, err = d.Initiatives.Join(ctx, dorte, tw.initiative, "Jeg kan tirsdage")
	must(err)
	_, err = d.Initiatives.Report(ctx, dorte, tw.proposal, "Reklame")
	must(err)

	p.deviceToken = "fcm-token-of-dortes-phone"
	_, err = d.Notify.RegisterDevice(ctx, dorte, p.deviceToken, notify.PlatformAndroid, "da-DK", "1.4.0")
	must(err)
	must(d.Notify.Follow(ctx, dorte, notify.Target{Kind: notify.TargetOrganisation, OrganisationID: tw.orgA.ID}))
	prefs := notify.DefaultPreferences(dorte.UserID)
	prefs.Stories = false
	_, err = d.Notify.UpdatePreferences(ctx, dorte, prefs)
	must(err)
	_, err = d.Notify.SendAnnouncement(ctx, boss, notify.Audience{Kind: notify.AudienceFollowers, OrganisationID: tw.orgA.ID},
		"Sommerfest", "Kom til sommerfest i Strandparken.")
	must(err)
	_, err = d.Calendar.CreateFeed(ctx, dorte)
	must(err)

	makeOrganiser(t, ts.db, &dorte, tw.orgB.ID)
	start := ts.now().Add(96 * time.Hour).Truncate(time.Hour)
	_, err = d.Activities.Create(ctx, dorte, activity.Input{OrganisationID: tw.orgB.ID, Title: "Ungeråd-møde",
		StartsAt: start, EndsAt: start.Add(time.Hour)}, true)
	must(err)
	_, err = d.Volunteer.RecordQualification(ctx, dorte, volunteer.QualificationInput{UserID: tw.vera, OrganisationID: tw.orgB.ID,
		Requirement: volunteer.ChildCertificate})
	must(err)
	p.caller = dorte
	return p
}

// userColumn is a column that refers to users (id).
type userColumn struct {
	Table  string `db:"table_name"`
	Column string `db:"column_name"`
}

// userColumns reads from the migrated schema every column with a foreign
// key to users (id).
func userColumns(t *testing.T, db *store.DB) []userColumn {
	t.Helper()
	ctx := context.Background()
	var cols []userColumn
	var err error
	if db.Dialect == store.Postgres {
		err = store.Select(ctx, db, &cols, `SELECT kcu.table_name, kcu.column_name
			FROM information_schema.referential_constraints rc
			JOIN information_schema.key_column_usage kcu
				ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema
			JOIN information_schema.constraint_column_usage ccu
				ON ccu.constraint_name = rc.unique_constraint_name AND ccu.constraint_schema = rc.unique_constraint_schema
			WHERE ccu.table_name = 'users' AND kcu.table_schema = current_schema()
			ORDER BY kcu.table_name, kcu.column_name`)
	} else {
		err = store.Select(ctx, db, &cols, `SELECT m.name AS table_name, f."from" AS column_name
			FROM sqlite_master m, pragma_foreign_key_list(m.name) f
			WHERE m.type = 'table' AND f."table" = 'users'
			ORDER BY m.name, f."from"`)
	}
	if err != nil {
		t.Fatalf("columns referring to users: %v", err)
	}
	if len(cols) < 20 {
		t.Fatalf("found only %d columns referring to users: %v", len(cols), cols)
	}
	return cols
}

// Deleting the account of someone who did everything leaves no row that
// points to them but their anonymous tombstone and the shift they worked
// (its hours keep counting); their photo files are gone, their phone gets
// no more pushes, and their old token can neither sign in nor make the
// account again.
func TestDeletionLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		p := makeBusyPerson(t, ts, tw)
		id := p.caller.UserID

		// Everything above really is on record before the deletion.
		refs := map[string]int{}
		for _, c := range userColumns(t, db) {
			var n int
			if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM `+c.Table+` WHERE `+c.Column+` = ?`, id); err != nil {
				t.Fatal(err)
			}
			refs[c.Table+"."+c.Column] = n
		}
		for _, want := range []string{"devices.user_id", "follows.user_id", "notification_preferences.user_id", "notifications.user_id",
			"story_reactions.user_id", "story_reports.user_id", "initiative_members.user_id", "initiative_reports.user_id",
			"initiatives.proposer_id", "stories.author_id", "slot_claims.user_id", "organisers.user_id", "activities.created_by",
			"user_qualifications.recorded_by"} {
			if refs[want] == 0 {
				t.Errorf("before deletion: no row in %s points to the person; the test person should have one", want)
			}
		}
		// The announcement's push, as the push job queues it before
		// sending, where the job has not yet done so.
		if _, err := store.Exec(ctx, db, `INSERT INTO deliveries (notification_id, device_id, token, platform, status, created_at)
			SELECT n.id, d.id, d.token, d.platform, 'PENDING', ? FROM notifications n JOIN devices d ON d.user_id = n.user_id
			WHERE n.user_id = ? AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.notification_id = n.id AND x.device_id = d.id)`,
			ts.now(), id); err != nil {
			t.Fatal(err)
		}
		var deliveries int
		store.Get(ctx, db, &deliveries, `SELECT COUNT(*) FROM deliveries WHERE token = ?`, p.deviceToken)
		if deliveries == 0 {
			t.Error("before deletion: no delivery to the person's phone")
		}
		for _, k := range p.photoKeys {
			rc, err := ts.blobs.Open(ctx, k)
			if err != nil {
				t.Fatalf("photo %s before deletion: %v", k, err)
			}
			rc.Close()
		}

		var del struct {
			DeleteMyAccount struct {
				Deleted    bool
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted userErrors { code } } }`, &del,
			vars("i", map[string]any{"stories": "DELETE", "confirm": true}), bearer(p.token))
		if !del.DeleteMyAccount.Deleted {
			t.Fatalf("delete: %+v", del)
		}

		for _, c := range userColumns(t, db) {
			var n int
			if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM `+c.Table+` WHERE `+c.Column+` = ?`, id); err != nil {
				t.Fatal(err)
			}
			if c.Table == "slot_claims" && c.Column == "user_id" {
				// The shift worked, kept for the hours and nothing else.
				var kept []int64
				store.Select(ctx, db, &kept, `SELECT id FROM slot_claims WHERE user_id = ?`, id)
				if len(kept) != 1 || kept[0] != p.pastClaim {
					t.Errorf("claims left %v, want only the worked shift %d", kept, p.pastClaim)
				}
				continue
			}
			if n != 0 {
				t.Errorf("after deletion %d rows of %s.%s point to the person", n, c.Table, c.Column)
			}
		}
		store.Get(ctx, db, &deliveries, `SELECT COUNT(*) FROM deliveries WHERE token = ?`, p.deviceToken)
		if deliveries != 0 {
			t.Errorf("%d deliveries still hold the person's device token", deliveries)
		}
		var tomb struct {
			Email, Phone, UID, ICal *string
			Name                    string `db:"display_name"`
			Deleted                 *time.Time
		}
		if err := store.Get(ctx, db, &tomb, `SELECT email, phone, firebase_uid AS uid, ical_token AS ical, display_name, deleted_at AS deleted
			FROM users WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		if tomb.Email != nil || tomb.Phone != nil || tomb.UID != nil || tomb.ICal != nil || tomb.Name != "" || tomb.Deleted == nil {
			t.Errorf("tombstone %+v still says something", tomb)
		}
		for _, k := range p.photoKeys {
			if _, err := ts.blobs.Open(ctx, k); !errors.Is(err, media.ErrNotFound) {
				t.Errorf("photo %s after deletion: %v, want it gone", k, err)
			}
			srv := httptest.NewServer(media.Handler(ts.blobs, ts.resolver.Domain.Stories.MediaAccess()))
			resp, err := http.Get(srv.URL + media.Prefix + k)
			srv.Close()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s after deletion: %d, want 404", k, resp.StatusCode)
			}
		}
		var queued int
		store.Get(ctx, db, &queued, `SELECT COUNT(*) FROM media_deletions`)
		if queued != 0 {
			t.Errorf("%d photo removals still waiting", queued)
		}

		// The token from before the deletion is refused; it does not make
		// a new account either.
		var users int
		store.Get(ctx, db, &users, `SELECT COUNT(*) FROM users`)
		resp, err := ts.client.RawPost(`{ me { id } }`, bearer(p.token))
		if err == nil && !strings.Contains(string(resp.Errors), "UNAUTHENTICATED") {
			t.Errorf("old token after deletion: %s %s, want UNAUTHENTICATED", resp.Data, resp.Errors)
		}
		if err != nil && !strings.Contains(err.Error(), "UNAUTHENTICATED") {
			t.Errorf("old token after deletion: %v, want UNAUTHENTICATED", err)
		}
		var after int
		store.Get(ctx, db, &after, `SELECT COUNT(*) FROM users`)
		if after != users {
			t.Errorf("the old token made %d accounts", after-users)
		}
	})
}
