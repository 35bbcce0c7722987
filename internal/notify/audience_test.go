package notify_test

// Who is told of each change, through the real domain services, the
// outbox and River, and the real Admin SDK against a fake FCM: for every
// change the people who must hear of it get one inbox entry and one push,
// and everyone else gets neither.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

// world is the server's domain on one database, wired as internal/app
// wires it, with River running.
type world struct {
	t           *testing.T
	db          *store.DB
	fcm         *fcmtest.Server
	bus         *event.Bus
	notifier    *notify.Service
	activities  *activity.Service
	volunteers  *volunteer.Service
	stories     *story.Service
	initiatives *initiative.Service
	now         func() time.Time

	org, place int64
	names      map[int64]string
	baseline   map[string]int
	keys       int
}

// middayClock runs at real speed from the last 12:00 Copenhagen time, so
// quiet hours never hold a push.
func middayClock() func() time.Time {
	now := time.Now().In(tz.Copenhagen)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, tz.Copenhagen)
	if noon.After(now) {
		noon = noon.AddDate(0, 0, -1)
	}
	offset := noon.Sub(now)
	return func() time.Time { return time.Now().Add(offset) }
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	fcm := fcmtest.New(t)
	sender, err := push.NewFCM(ctx, "vores-ishoj-test", push.FCMOptions{Endpoint: fcm.URL(), HTTPClient: fcm.Client()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := middayClock()
	w := &world{t: t, db: db, fcm: fcm, bus: event.NewBus(log), now: now, names: map[int64]string{}}
	w.notifier, err = notify.New(db, sender, log, notify.Config{Now: now, FetchPollInterval: 20 * time.Millisecond,
		RetryBase: 50 * time.Millisecond, RetryMax: 400 * time.Millisecond, JobRetryPolicy: quickRetry{},
		ReminderInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	w.bus.SetOutbox(w.notifier)
	themes := theme.NewService(db)
	w.volunteers = volunteer.NewService(db, w.bus, volunteer.Config{Now: now})
	w.activities = activity.NewService(db, themes, w.bus, now)
	w.activities.SetCancelHook(w.volunteers.CancelActivityClaims)
	w.activities.SetMoveHook(w.volunteers.MoveActivitySlots)
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.stories = story.NewService(db, w.bus, blobs, themes, now, w.notifier, story.Limits{})
	w.initiatives = initiative.NewService(db, themes, w.notifier, now)
	if err := w.notifier.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.notifier.Stop(sctx)
	})
	at := time.Now().UTC()
	w.org = w.insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('HavhyttenFri', 'ASSOCIATION', ?, ?) RETURNING id`, at, at)
	w.place = w.insert(`INSERT INTO places (name, created_at) VALUES ('Havhytten', ?) RETURNING id`, at)
	return w
}

func (w *world) insert(query string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := store.Get(context.Background(), w.db, &id, query, args...); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return id
}

func (w *world) exec(query string, args ...any) {
	w.t.Helper()
	if _, err := store.Exec(context.Background(), w.db, query, args...); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
}

// person creates a verified resident with a device whose token is name.
func (w *world) person(name string) int64 {
	w.t.Helper()
	at := time.Now().UTC()
	id := w.insert(`INSERT INTO users (display_name, email_verified, language, created_at, updated_at) VALUES (?, ?, 'da', ?, ?) RETURNING id`,
		name, true, at, at)
	w.exec(`INSERT INTO devices (token, user_id, platform, created_at, last_seen_at) VALUES (?, ?, 'ANDROID', ?, ?)`, name, id, at, at)
	w.names[id] = name
	return id
}

func (w *world) organiser(name string) (int64, user.Caller) {
	id := w.person(name)
	w.exec(`INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, w.org, id, time.Now().UTC())
	return id, user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true, Organises: map[int64]bool{w.org: true}}
}

func (w *world) follower(name string) int64 {
	id := w.person(name)
	w.exec(`INSERT INTO follows (user_id, kind, organisation_id, created_at) VALUES (?, 'ORGANISATION', ?, ?)`, id, w.org, time.Now().UTC())
	return id
}

func resident(id int64) user.Caller {
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true}
}

// activity creates a published activity of the organisation through the
// domain, starting at start for three hours.
func (w *world) activity(c user.Caller, title string, start time.Time) activity.Activity {
	w.t.Helper()
	a, err := w.activities.Create(context.Background(), c, activity.Input{OrganisationID: w.org, PlaceID: &w.place,
		Title: title, StartsAt: start, EndsAt: start.Add(3 * time.Hour)}, true)
	if err != nil {
		w.t.Fatalf("create activity: %v", err)
	}
	return a
}

func (w *world) slot(c user.Caller, activityID int64, title string, start time.Time, capacity int) volunteer.Slot {
	w.t.Helper()
	sl, err := w.volunteers.AddSlot(context.Background(), c, volunteer.NewSlot{ActivityID: activityID, Title: title,
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: capacity})
	if err != nil {
		w.t.Fatalf("add slot: %v", err)
	}
	return sl
}

func (w *world) claim(userID, slotID int64) volunteer.Claim {
	w.t.Helper()
	w.keys++
	cl, err := w.volunteers.Claim(context.Background(), resident(userID), slotID, fmt.Sprintf("tap-%d", w.keys))
	if err != nil {
		w.t.Fatalf("claim slot %d for %s: %v", slotID, w.names[userID], err)
	}
	return cl
}

// settle waits until River has no job left to run, then forgets what was
// told so far: the next check sees only what the change under test made.
func (w *world) settle() {
	w.t.Helper()
	w.idle()
	w.exec(`UPDATE notifications SET read_at = ? WHERE read_at IS NULL`, time.Now().UTC())
	w.fcm.DiscardRequests()
	w.baseline = w.fcm.Delivered()
}

// idle waits until every job is done.
func (w *world) idle() {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := store.Get(context.Background(), w.db, &n,
			`SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')`); err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			var jobs []struct {
				Kind   string `db:"kind"`
				State  string `db:"state"`
				Errors string `db:"errors"`
			}
			_ = store.Select(context.Background(), w.db, &jobs, `SELECT kind, state, COALESCE(CAST(errors AS TEXT), '') AS errors FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')`)
			w.t.Fatalf("%d jobs still waiting after 30s: %+v", n, jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// told returns, per person, the kinds of the unread notifications they
// got since the last settle, and checks each has had exactly one push of
// its own per notification.
func (w *world) told() map[string][]notify.Kind {
	w.t.Helper()
	w.idle()
	var rows []struct {
		UserID int64       `db:"user_id"`
		Kind   notify.Kind `db:"kind"`
		Body   string      `db:"body"`
	}
	if err := store.Select(context.Background(), w.db, &rows,
		`SELECT user_id, kind, body FROM notifications WHERE read_at IS NULL ORDER BY user_id, id`); err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]notify.Kind{}
	for _, r := range rows {
		out[w.names[r.UserID]] = append(out[w.names[r.UserID]], r.Kind)
	}
	delivered := w.fcm.Delivered()
	for id, name := range w.names {
		if got, want := delivered[name]-w.baseline[name], len(out[name]); got != want {
			w.t.Errorf("%s (user %d) has %d new pushes for %d new inbox entries", name, id, got, want)
		}
	}
	return out
}

// expect checks that exactly the people in want were told, each once, of
// kind, and then settles; with no one in want, nobody was told anything.
func (w *world) expect(what string, kind notify.Kind, want ...string) {
	w.t.Helper()
	defer w.settle()
	got := w.told()
	for _, name := range want {
		if ks := got[name]; len(ks) != 1 || ks[0] != kind {
			w.t.Errorf("%s: %s was told %v, want one %s", what, name, ks, kind)
		}
		delete(got, name)
	}
	for name, ks := range got {
		w.t.Errorf("%s: %s was told %v and should not have been", what, name, ks)
	}
}

// body returns the text of name's latest notification.
func (w *world) body(name string) string {
	w.t.Helper()
	var b string
	for id, n := range w.names {
		if n == name {
			if err := store.Get(context.Background(), w.db, &b, `SELECT body FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1`, id); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	return b
}

// cast is the people around one activity: two organisers, volunteers in
// every state, a follower, and people who have nothing to do with it.
type cast struct {
	mette              user.Caller
	act                activity.Activity
	slot, otherSlot    volunteer.Slot
	confirmed, waiting int64
}

func newCast(w *world) cast {
	w.t.Helper()
	var c cast
	_, c.mette = w.organiser("mette")
	w.organiser("ali") // co-organiser
	w.follower("follower")
	w.person("stranger")
	start := w.now().Add(72 * time.Hour).Truncate(time.Hour)
	c.act = w.activity(c.mette, "Havnedag", start)
	other := w.activity(c.mette, "Loppemarked", start.Add(24*time.Hour))
	c.slot = w.slot(c.mette, c.act.ID, "Kaffebod", start, 1)
	c.otherSlot = w.slot(c.mette, other.ID, "Bod", start.Add(24*time.Hour), 5)
	c.confirmed = w.person("confirmed")
	c.waiting = w.person("waitlisted")
	gone := w.person("gave-up")
	w.claim(c.confirmed, c.slot.ID)
	w.claim(c.waiting, c.slot.ID)
	// gave-up waited for a place here once and gave it back.
	given := w.claim(gone, c.slot.ID)
	if _, err := w.volunteers.CancelClaim(context.Background(), resident(gone), given.ID); err != nil {
		w.t.Fatal(err)
	}
	w.claim(w.person("elsewhere"), c.otherSlot.ID)
	w.settle()
	return c
}

func TestActivityCancelledTellsEveryoneAffected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		c := newCast(w)
		if _, err := w.activities.Cancel(context.Background(), c.mette, c.act.ID); err != nil {
			t.Fatal(err)
		}
		// Mette cancelled it herself; gave-up and elsewhere are on another
		// activity, stranger follows nothing.
		w.expect("activity cancelled", notify.KindActivityCancelled, "confirmed", "waitlisted", "ali", "follower")
		var live int
		if err := store.Get(context.Background(), db, &live, `SELECT COUNT(*) FROM slot_claims WHERE slot_id = ? AND status <> 'CANCELLED'`, c.slot.ID); err != nil || live != 0 {
			t.Errorf("%d claims still live on the cancelled activity's slot (%v)", live, err)
		}
	})
}

// The client goes away the moment the change is committed: every
// notification is made all the same, because it was promised in the
// change's transaction and is made by a job that never sees the request.
func TestClientGoneRightAfterCommitStillTellsEveryone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		c := newCast(w)
		const followers = 300
		at := time.Now().UTC()
		for i := range followers {
			id := w.insert(`INSERT INTO users (display_name, email_verified, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
				fmt.Sprintf("f%d", i), true, at, at)
			w.exec(`INSERT INTO follows (user_id, kind, place_id, created_at) VALUES (?, 'PLACE', ?, ?)`, id, w.place, at)
			w.exec(`INSERT INTO devices (token, user_id, platform, created_at, last_seen_at) VALUES (?, ?, 'IOS', ?, ?)`,
				fmt.Sprintf("f%d", i), id, at, at)
			w.names[id] = fmt.Sprintf("f%d", i)
		}
		ctx, cancel := context.WithCancel(context.Background())
		// The bus hears of the change right after the commit, before the
		// request does anything else: the client hangs up there.
		w.bus.Subscribe(func(context.Context, event.Event) { cancel() })
		_, err := w.activities.Cancel(ctx, c.mette, c.act.ID)
		if err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
		var status string
		if err := store.Get(context.Background(), db, &status, `SELECT status FROM activities WHERE id = ?`, c.act.ID); err != nil || status != "CANCELLED" {
			t.Fatalf("activity is %q (%v), want CANCELLED", status, err)
		}
		want := []string{"confirmed", "waitlisted", "ali", "follower"}
		for i := range followers {
			want = append(want, fmt.Sprintf("f%d", i))
		}
		w.expect("activity cancelled, client gone", notify.KindActivityCancelled, want...)
	})
}

// Moving an activity moves its slots by the same offset and tells its
// volunteers and followers the new time; with moveSlots false the slots
// stay. A corrected description tells nobody.
func TestActivityMovedTellsVolunteersAndMovesSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		c := newCast(w)
		ctx := context.Background()
		in := activity.Input{PlaceID: &w.place, Title: c.act.Title, StartsAt: c.act.StartsAt, EndsAt: c.act.EndsAt,
			Description: "Kom og vær med."}
		if _, err := w.activities.Update(ctx, c.mette, c.act.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("description corrected", "")

		in.StartsAt, in.EndsAt = c.act.StartsAt.Add(26*time.Hour), c.act.EndsAt.Add(26*time.Hour)
		if _, err := w.activities.Update(ctx, c.mette, c.act.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("activity moved", notify.KindActivityChanged, "confirmed", "waitlisted", "follower")
		sl, err := w.volunteers.Slot(ctx, c.mette, c.slot.ID)
		if err != nil || !sl.StartsAt.Equal(c.slot.StartsAt.Add(26*time.Hour)) || !sl.EndsAt.Equal(c.slot.EndsAt.Add(26*time.Hour)) {
			t.Errorf("slot at %s–%s after the activity moved 26h from %s (%v)", sl.StartsAt, sl.EndsAt, c.slot.StartsAt, err)
		}
		newTime := i18n.FormatTime("da", sl.StartsAt)
		if b := w.body("confirmed"); !strings.Contains(b, newTime) {
			t.Errorf("volunteer told %q, without the new time %s", b, newTime)
		}

		in.StartsAt, in.EndsAt, in.KeepSlots = in.StartsAt.Add(time.Hour), in.EndsAt.Add(time.Hour), true
		if _, err := w.activities.Update(ctx, c.mette, c.act.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("activity moved, slots kept", notify.KindActivityChanged, "confirmed", "waitlisted", "follower")
		if kept, _ := w.volunteers.Slot(ctx, c.mette, c.slot.ID); !kept.StartsAt.Equal(sl.StartsAt) {
			t.Errorf("slot moved to %s although kept at %s", kept.StartsAt, sl.StartsAt)
		}
	})
}

// A slot moved or shortened tells its volunteers, confirmed and
// waitlisted, the new times; a slot removed tells them it is gone and
// releases their claims. Nobody else hears of either.
func TestSlotChangesTellItsVolunteers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		c := newCast(w)
		ctx := context.Background()
		in := volunteer.NewSlot{Title: c.slot.Title, StartsAt: c.slot.StartsAt.Add(time.Hour), EndsAt: c.slot.EndsAt.Add(time.Hour),
			Capacity: c.slot.Capacity}
		// Each is told the time in their own language.
		for id, n := range w.names {
			if n == "waitlisted" {
				if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE users SET language = 'tr', language_chosen = TRUE WHERE id = ?`), id); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := w.volunteers.UpdateSlot(ctx, c.mette, c.slot.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("slot moved", notify.KindSlotChanged, "confirmed", "waitlisted")
		if b, want := w.body("waitlisted"), i18n.FormatTime("tr", in.StartsAt); !strings.Contains(b, want) {
			t.Errorf("Turkish volunteer told %q, without the new start %s", b, want)
		}
		if b, want := w.body("confirmed"), i18n.FormatTime("da", in.StartsAt); !strings.Contains(b, want) {
			t.Errorf("Danish volunteer told %q, without the new start %s", b, want)
		}

		in.EndsAt = in.EndsAt.Add(-time.Hour)
		if _, err := w.volunteers.UpdateSlot(ctx, c.mette, c.slot.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("slot shortened", notify.KindSlotChanged, "confirmed", "waitlisted")

		in.Description = "Husk forklæde."
		if _, err := w.volunteers.UpdateSlot(ctx, c.mette, c.slot.ID, in); err != nil {
			t.Fatal(err)
		}
		w.expect("slot description changed", "")

		if err := w.volunteers.RemoveSlot(ctx, c.mette, c.slot.ID); err != nil {
			t.Fatal(err)
		}
		w.expect("slot removed", notify.KindSlotCancelled, "confirmed", "waitlisted")
		var live int
		if err := store.Get(ctx, db, &live, `SELECT COUNT(*) FROM slot_claims WHERE slot_id = ?`, c.slot.ID); err != nil || live != 0 {
			t.Errorf("%d claims left on the removed slot (%v)", live, err)
		}
	})
}

// The author hears of every answer to their story, with the reviewer's
// reason; nobody else does.
func TestStoryReviewTellsTheAuthor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		author := w.person("author")
		w.follower("follower")
		secID := w.person("secretariat")
		w.exec(`UPDATE users SET role = 'SECRETARIAT' WHERE id = ?`, secID)
		sec := user.Caller{UserID: secID, Verified: true, Named: true, AgeAnswered: true, Secretariat: true}
		submit := func(title string) story.Story {
			t.Helper()
			st, err := w.stories.Submit(ctx, resident(author), story.Input{Title: title, Body: "Vi ryddede stranden.", OrganisationID: &w.org})
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			return st
		}
		w.settle()

		st := submit("Strandrydning")
		const why = "Skriv gerne hvornår det var."
		if _, err := w.stories.Review(ctx, sec, st.ID, story.ActionRequestChanges, why); err != nil {
			t.Fatal(err)
		}
		w.expect("changes requested", notify.KindStoryChangesRequested, "author")
		if b := w.body("author"); !strings.Contains(b, why) {
			t.Errorf("author told %q, without the reason", b)
		}
		if _, err := w.stories.Review(ctx, sec, st.ID, story.ActionPublish, ""); err != nil {
			t.Fatal(err)
		}
		w.expect("published", notify.KindStoryPublished, "author")

		other := submit("Loppemarked")
		const no = "Billederne viser børn uden samtykke."
		if _, err := w.stories.Review(ctx, sec, other.ID, story.ActionReject, no); err != nil {
			t.Fatal(err)
		}
		w.expect("rejected", notify.KindStoryRejected, "author")
		if b := w.body("author"); !strings.Contains(b, no) {
			t.Errorf("author told %q, without the reason", b)
		}
	})
}

// Initiative events tell the people internal/initiative names for each:
// joining tells the proposer, approval the proposer, the joiners and the
// new organisers, closing the joiners; never the one who acted, never
// anyone else.
func TestInitiativeEventsTellWhomTheyConcern(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		proposer, joiner, other := w.person("proposer"), w.person("joiner"), w.person("bystander")
		w.follower("follower")
		w.names[other] = "bystander"
		secID := w.person("secretariat")
		w.exec(`UPDATE users SET role = 'SECRETARIAT' WHERE id = ?`, secID)
		sec := user.Caller{UserID: secID, Verified: true, Named: true, AgeAnswered: true, Secretariat: true}
		in, err := w.initiatives.Propose(ctx, resident(proposer), initiative.Input{Name: "Fællesspisning i Vildtbanegård",
			Description: "Vi laver mad sammen hver anden torsdag."})
		if err != nil {
			t.Fatal(err)
		}
		w.expect("proposed", "")
		if _, err := w.initiatives.Join(ctx, resident(joiner), in.ID, "Jeg kan lave dessert."); err != nil {
			t.Fatal(err)
		}
		w.expect("joined", notify.Kind(initiative.EventJoined), "proposer")
		if _, err := w.initiatives.RequestApproval(ctx, resident(proposer), in.ID); err != nil {
			t.Fatal(err)
		}
		w.expect("approval requested", notify.Kind(initiative.EventApprovalRequested), "secretariat")
		if _, err := w.initiatives.Approve(ctx, sec, in.ID, nil); err != nil {
			t.Fatal(err)
		}
		w.expect("approved", notify.Kind(initiative.EventApproved), "proposer", "joiner")

		second, err := w.initiatives.Propose(ctx, resident(proposer), initiative.Input{Name: "Byttemarked",
			Description: "Tøj og legetøj skifter ejer."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.initiatives.Join(ctx, resident(joiner), second.ID, ""); err != nil {
			t.Fatal(err)
		}
		w.settle()
		if _, err := w.initiatives.Close(ctx, resident(proposer), second.ID); err != nil {
			t.Fatal(err)
		}
		w.expect("closed by the proposer", notify.Kind(initiative.EventClosed), "joiner")
	})
}
