package participation

import (
	"context"
	"fmt"
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

// day is a wall-clock time in Copenhagen, d days after 1 June 2026.
func day(d, hour int) time.Time {
	return time.Date(2026, 6, 1+d, hour, 0, 0, 0, tz.Copenhagen).UTC()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// world is an organisation (Kulturhuset AAB) with a published activity on
// three Sundays, its organiser and a service whose clock the test sets
// (08:00 on 1 June 2026).
type world struct {
	t         *testing.T
	ctx       context.Context
	db        *store.DB
	svc       *Service
	rec       *event.Recorder
	clock     *fakeClock
	orgID     int64
	act       int64
	dates     []time.Time
	organiser user.Caller
	n         atomic.Int64
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), db: db, rec: &event.Recorder{}, clock: &fakeClock{t: day(0, 8)}}
	w.svc = NewService(db, w.rec, nil, Config{Now: w.clock.now})
	now := w.clock.now()
	w.orgID = w.id(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Kulturhuset AAB', 'ASSOCIATION', ?, ?)`, now, now)
	w.dates = []time.Time{day(6, 12), day(13, 12), day(20, 12)}
	w.act = w.activity("PUBLISHED", w.dates...)
	w.organiser = w.person("Birgit")
	w.exec(`INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, w.orgID, w.organiser.UserID, now)
	w.organiser.Organises[w.orgID] = true
	return w
}

func (w *world) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := store.Exec(w.ctx, w.db, q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

func (w *world) id(q string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := store.Get(w.ctx, w.db, &id, q+" RETURNING id", args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// activity makes an activity of the world's organisation with an
// occurrence of two hours at each of dates.
func (w *world) activity(status string, dates ...time.Time) int64 {
	w.t.Helper()
	now := w.clock.now()
	id := w.id(`INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
		VALUES (?, 'Spisevenner', ?, ?, ?, ?, ?)`, w.orgID, dates[0], dates[0].Add(2*time.Hour), status, now, now)
	for _, d := range dates {
		w.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, id, d, d.Add(2*time.Hour))
	}
	return id
}

// person makes a verified resident with the app.
func (w *world) person(name string) user.Caller {
	w.t.Helper()
	n := w.n.Add(1)
	now := w.clock.now()
	id := w.id(`INSERT INTO users (firebase_uid, email, email_verified, display_name, language, role, anonymous, has_app, age_group, created_at, updated_at)
		VALUES (?, ?, TRUE, ?, 'da', 'RESIDENT', FALSE, TRUE, 'AT_LEAST_13', ?, ?)`, fmt.Sprintf("g-%d", n), fmt.Sprintf("guest%d@example.dk", n), name, now, now)
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true, Organises: map[int64]bool{}, Language: "da"}
}

func (w *world) people(n int) []user.Caller {
	out := make([]user.Caller, n)
	for i := range out {
		out[i] = w.person(fmt.Sprintf("Gæst %d", i))
	}
	return out
}

func (w *world) key() string { return fmt.Sprintf("tap-%d", w.n.Add(1)) }

func ptr[T any](v T) *T { return &v }

// seats makes the world's activity seat-limited.
func (w *world) seats(n int, mods ...func(*SettingsInput)) {
	w.t.Helper()
	in := SettingsInput{Mode: SeatLimited, Seats: &n, MaxPartySize: 6, NotifyFilling: true}
	for _, m := range mods {
		m(&in)
	}
	if _, err := w.svc.Configure(w.ctx, w.organiser, w.act, in); err != nil {
		w.t.Fatalf("Configure: %v", err)
	}
}

// going says c goes to the first date with guests.
func (w *world) going(c user.Caller, guests int) Participation {
	w.t.Helper()
	p, err := w.svc.Participate(w.ctx, c, Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, Guests: guests, IdempotencyKey: w.key()})
	if err != nil {
		w.t.Fatalf("Participate(user %d, %d guests): %v", c.UserID, guests, err)
	}
	return p
}

func (w *world) reread(p Participation) Participation {
	w.t.Helper()
	got, err := byID(w.ctx, w.db, p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	for _, ue := range apperr.UserErrors(err) {
		if ue.Code == code {
			return
		}
	}
	t.Errorf("got %v, want %s", err, code)
}

// checkInvariants holds for every occurrence with participations: the
// parties GOING hold at most the seats; nobody waits who would fit in the
// seats left (before the occurrence starts); waitlist positions are 1..n
// in queue order; one live participation per person.
func checkInvariants(t *testing.T, w *world) {
	t.Helper()
	var occs []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"occurrence_starts_at"`
	}
	if err := store.Select(w.ctx, w.db, &occs, `SELECT DISTINCT activity_id, occurrence_starts_at FROM participations`); err != nil {
		t.Fatal(err)
	}
	for _, o := range occs {
		occ := Occurrence{ActivityID: o.ActivityID, StartsAt: o.StartsAt.Time}
		st, err := settingsOf(w.ctx, w.db, o.ActivityID)
		if err != nil {
			t.Fatal(err)
		}
		var ps []Participation
		err = store.Select(w.ctx, w.db, &ps, `SELECT `+columns+` FROM participations p
			WHERE p.activity_id = ? AND p.occurrence_starts_at = ? ORDER BY p.id`, occ.ActivityID, occ.StartsAt)
		if err != nil {
			t.Fatal(err)
		}
		going, pos := 0, 0
		live := map[int64]int{}
		var waiting []Participation
		for _, p := range ps {
			if p.Status != Cancelled {
				live[p.UserID]++
			}
			switch p.Status {
			case Going:
				going += p.PartySize
			case Waitlisted:
				pos++
				if p.WaitlistPosition == nil || *p.WaitlistPosition != pos {
					t.Errorf("%v: participation %d at %v, want position %d", occ, p.ID, p.WaitlistPosition, pos)
				}
				waiting = append(waiting, p)
			default:
				if p.WaitlistPosition != nil {
					t.Errorf("participation %d is %s with a waitlist position", p.ID, p.Status)
				}
			}
		}
		for u, n := range live {
			if n > 1 {
				t.Errorf("%v: user %d has %d live participations", occ, u, n)
			}
		}
		if !st.Limited() {
			if len(waiting) > 0 && w.clock.now().Before(occ.StartsAt) {
				t.Errorf("%v: %d waiting without a seat limit", occ, len(waiting))
			}
			continue
		}
		if going > *st.Seats {
			t.Errorf("%v: %d people going on %d seats", occ, going, *st.Seats)
		}
		if w.clock.now().Before(occ.StartsAt) {
			for _, p := range waiting {
				if p.PartySize <= *st.Seats-going {
					t.Errorf("%v: party %d of %d waits with %d seats free", occ, p.ID, p.PartySize, *st.Seats-going)
				}
			}
		}
	}
}

func statuses(ps ...Participation) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Status)
	}
	return out
}
