package volunteer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

var cph = tz.Copenhagen

// at is a wall-clock time in Copenhagen, day days after 1 June 2026.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 6, 1+day, hour, minute, 0, 0, cph)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fixture is one organisation with a published activity, its organiser and
// a service whose clock the test controls (08:00 on 1 June 2026).
type fixture struct {
	t          *testing.T
	ctx        context.Context
	db         *store.DB
	svc        *Service
	rec        *event.Recorder
	clock      *testClock
	orgID      int64
	activityID int64
	organiser  user.Caller
	seq        atomic.Int64
	mark       int // events before it are ignored
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: db, rec: &event.Recorder{}, clock: &testClock{t: at(0, 8, 0)}}
	f.svc = NewService(db, f.rec, Config{Now: f.clock.Now})
	f.orgID = f.org("Røde Kors")
	f.activityID = f.activity(f.orgID, "PUBLISHED")
	f.organiser = f.user("Organiser")
	f.makeOrganiser(&f.organiser, f.orgID)
	return f
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := store.Exec(f.ctx, f.db, query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

func (f *fixture) insert(query string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := store.Get(f.ctx, f.db, &id, query+" RETURNING id", args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return id
}

func (f *fixture) org(name string) int64 {
	now := f.clock.Now()
	return f.insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`, name, now, now)
}

// activity takes place every day from 08:00 to 20:00 for over a year, so
// a test may put a slot on any day (slots must lie near an occurrence).
func (f *fixture) activity(orgID int64, status string) int64 {
	now := f.clock.Now()
	id := f.insert(`INSERT INTO activities (organisation_id, title, starts_at, ends_at, recurrence, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'FREQ=DAILY', ?, ?, ?)`, orgID, "HavhyttenFri", at(-2, 8, 0).UTC(), at(-2, 20, 0).UTC(), status, now, now)
	const days, batch = 410, 100
	for from := -2; from < days; from += batch {
		var values []string
		var args []any
		for d := from; d < min(from+batch, days); d++ {
			values = append(values, "(?, ?, ?)")
			args = append(args, id, at(d, 8, 0).UTC(), at(d, 20, 0).UTC())
		}
		f.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES `+strings.Join(values, ", "), args...)
	}
	return id
}

// user creates a verified resident with the app.
func (f *fixture) user(name string) user.Caller {
	f.t.Helper()
	n := f.seq.Add(1)
	now := f.clock.Now()
	id := f.insert(`INSERT INTO users (firebase_uid, email, email_verified, display_name, language, role, anonymous, has_app, age_group, created_at, updated_at)
		VALUES (?, ?, TRUE, ?, 'da', 'RESIDENT', FALSE, TRUE, 'AT_LEAST_13', ?, ?)`,
		fmt.Sprintf("uid-%d", n), fmt.Sprintf("person%d@example.dk", n), name, now, now)
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true, Organises: map[int64]bool{}, Language: "da"}
}

// users creates n verified residents.
func (f *fixture) users(n int) []user.Caller {
	f.t.Helper()
	out := make([]user.Caller, n)
	for i := range out {
		out[i] = f.user(fmt.Sprintf("Frivillig %d", i))
	}
	return out
}

func (f *fixture) makeOrganiser(c *user.Caller, orgID int64) {
	f.exec(`INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, orgID, c.UserID, f.clock.Now())
	c.Organises[orgID] = true
}

// slot adds a slot on the fixture's activity through the service.
func (f *fixture) slot(start, end time.Time, capacity int, mods ...func(*NewSlot)) Slot {
	f.t.Helper()
	in := NewSlot{ActivityID: f.activityID, Title: "Åbn Havhytten", StartsAt: start, EndsAt: end, Capacity: capacity}
	for _, m := range mods {
		m(&in)
	}
	sl, err := f.svc.AddSlot(f.ctx, f.organiser, in)
	if err != nil {
		f.t.Fatalf("AddSlot: %v", err)
	}
	return sl
}

func (f *fixture) key() string { return fmt.Sprintf("key-%d", f.seq.Add(1)) }

func (f *fixture) claim(c user.Caller, slotID int64) Claim {
	f.t.Helper()
	cl, err := f.svc.Claim(f.ctx, c, slotID, f.key())
	if err != nil {
		f.t.Fatalf("Claim(user %d, slot %d): %v", c.UserID, slotID, err)
	}
	return cl
}

// recent returns the events published since the last resetEvents.
func (f *fixture) recent() []event.Event {
	return f.rec.Snapshot()[f.mark:]
}

func (f *fixture) events(kind event.Kind) []event.Event {
	var out []event.Event
	for _, e := range f.recent() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (f *fixture) resetEvents() { f.mark = len(f.rec.Snapshot()) }

// wantCode fails unless err holds a user error with code about field.
func wantCode(t *testing.T, err error, code string, field ...string) {
	t.Helper()
	for _, ue := range apperr.UserErrors(err) {
		if ue.Code == code && (len(field) == 0 || slices.Equal(ue.Field, field)) {
			return
		}
	}
	t.Errorf("got error %v, want %s %v", err, code, field)
}

// checkInvariants asserts, for every slot, the counters against the
// claims, capacity, and gapless waitlist positions; and that nobody holds
// two confirmed claims that overlap in time.
func checkInvariants(t *testing.T, f *fixture) {
	t.Helper()
	var slots []Slot
	if err := store.Select(f.ctx, f.db, &slots, `SELECT `+slotColumns+` FROM volunteer_slots s ORDER BY s.id`); err != nil {
		t.Fatal(err)
	}
	for _, sl := range slots {
		var counts struct {
			Confirmed  int `db:"confirmed"`
			Waitlisted int `db:"waitlisted"`
		}
		err := store.Get(f.ctx, f.db, &counts, `SELECT
			COALESCE(SUM(CASE WHEN status = 'CONFIRMED' THEN 1 ELSE 0 END), 0) AS confirmed,
			COALESCE(SUM(CASE WHEN status = 'WAITLISTED' THEN 1 ELSE 0 END), 0) AS waitlisted
			FROM slot_claims WHERE slot_id = ?`, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sl.Taken != counts.Confirmed || sl.Taken > sl.Capacity {
			t.Errorf("slot %d: taken %d, confirmed claims %d, capacity %d", sl.ID, sl.Taken, counts.Confirmed, sl.Capacity)
		}
		if sl.Waitlisted != counts.Waitlisted {
			t.Errorf("slot %d: waitlisted %d, waitlisted claims %d", sl.ID, sl.Waitlisted, counts.Waitlisted)
		}
		roster, err := f.svc.Roster(f.ctx, f.organiser, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		pos := 0
		for _, c := range roster {
			if c.Status != Waitlisted {
				if c.WaitlistPosition != nil {
					t.Errorf("claim %d is %s with a waitlist position", c.ID, c.Status)
				}
				continue
			}
			pos++
			if c.WaitlistPosition == nil || *c.WaitlistPosition != pos {
				t.Errorf("slot %d: claim %d has position %v, want %d", sl.ID, c.ID, c.WaitlistPosition, pos)
			}
		}
	}
	var double int
	err := store.Get(f.ctx, f.db, &double, `SELECT COUNT(*) FROM slot_claims c1
		JOIN volunteer_slots s1 ON s1.id = c1.slot_id
		JOIN slot_claims c2 ON c2.user_id = c1.user_id AND c2.id > c1.id AND c2.status = 'CONFIRMED'
		JOIN volunteer_slots s2 ON s2.id = c2.slot_id
		WHERE c1.status = 'CONFIRMED' AND s1.starts_at < s2.ends_at AND s2.starts_at < s1.ends_at`)
	if err != nil {
		t.Fatal(err)
	}
	if double != 0 {
		t.Errorf("%d pairs of overlapping confirmed claims of one person", double)
	}
}

func isUserError(err error) bool { return err != nil && apperr.UserErrors(err) != nil }
