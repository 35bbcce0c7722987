package participation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// told records what the service asks to be told, inside which
// transaction; fail makes the outbox refuse, as a database error would.
type told struct {
	mu   sync.Mutex
	ns   []notify.NewNotification
	fail bool
}

func (r *told) Notify(_ context.Context, tx *sqlx.Tx, ns ...notify.NewNotification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tx == nil {
		return errors.New("told outside a transaction")
	}
	if r.fail {
		return errors.New("outbox down")
	}
	r.ns = append(r.ns, ns...)
	return nil
}

func (r *told) take() []notify.NewNotification {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ns
	r.ns = nil
	return out
}

func withOutbox(w *world) *told {
	r := &told{}
	w.svc = NewService(w.db, w.rec, r, Config{Now: w.clock.now})
	return r
}

func TestPromotionTellsTheGuest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		out := withOutbox(w)
		w.seats(4)
		ps := w.people(4)
		a, b := w.going(ps[0], 1), w.going(ps[1], 1)
		c, d := w.going(ps[2], 1), w.going(ps[3], 0)
		if got := statuses(a, b, c, d); got[2] != Waitlisted || got[3] != Waitlisted {
			t.Fatalf("statuses %v", got)
		}
		out.take()

		// a's couple cancels: c's couple, first in line, gets the seats.
		if _, err := w.svc.Cancel(w.ctx, ps[0], a.ID); err != nil {
			t.Fatal(err)
		}
		ns := out.take()
		if len(ns) != 1 || ns[0].Kind != notify.KindSeatPromoted || ns[0].UserID != ps[2].UserID ||
			ns[0].ParticipationID != c.ID || ns[0].ActivityID != w.act || ns[0].Params["Guests"] != 1 ||
			!ns[0].ExpiresAt.Equal(w.dates[0]) || ns[0].Urgent {
			t.Errorf("after a cancelled: %+v", ns)
		}
		// b comes alone now: the seat freed goes to d, who is told.
		if _, err := w.svc.Participate(w.ctx, ps[1], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going,
			IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		if ns := out.take(); len(ns) != 1 || ns[0].UserID != ps[3].UserID || ns[0].Params["Guests"] != 0 {
			t.Errorf("after b came alone: %+v", ns)
		}
		if w.reread(d).Status != Going {
			t.Errorf("d is %s", w.reread(d).Status)
		}

		// Someone whose own change promotes them sees it in the answer,
		// not in a push.
		e := w.person("Eva")
		pe := w.going(e, 1) // full: waits
		if _, err := w.svc.Cancel(w.ctx, ps[3], d.ID); err != nil {
			t.Fatal(err)
		}
		out.take()
		p, err := w.svc.Participate(w.ctx, e, Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going,
			IdempotencyKey: w.key()})
		if err != nil || p.ID != pe.ID || p.Status != Going {
			t.Fatalf("Eva alone: %+v, %v", p, err)
		}
		if ns := out.take(); len(ns) != 0 {
			t.Errorf("Eva was told of her own promotion: %+v", ns)
		}

		// The promotion and its notification commit together: when the
		// outbox refuses, the cancellation that would promote is undone.
		f := w.person("Frida")
		pf := w.going(f, 0) // full again: waits
		out.fail = true
		if _, err := w.svc.Cancel(w.ctx, e, pe.ID); err == nil {
			t.Fatal("cancel committed without its notification")
		}
		if w.reread(pe).Status != Going || w.reread(pf).Status != Waitlisted {
			t.Errorf("after a refused outbox: Eva %s, Frida %s", w.reread(pe).Status, w.reread(pf).Status)
		}
		checkInvariants(t, w)
	})
}

func TestOrganisersAreToldAt80And100PercentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		out := withOutbox(w)
		w.seats(10)
		ps := w.people(11)
		for i := 0; i < 7; i++ {
			w.going(ps[i], 0)
		}
		if ns := out.take(); len(ns) != 0 {
			t.Fatalf("told below 80 %%: %+v", ns)
		}
		w.going(ps[7], 0) // 8 of 10
		ns := out.take()
		if len(ns) != 1 || ns[0].Kind != notify.KindActivityFilling || ns[0].UserID != w.organiser.UserID ||
			ns[0].Params["Going"] != 8 || ns[0].Params["Seats"] != 10 || ns[0].ActivityID != w.act {
			t.Errorf("at 80 %%: %+v", ns)
		}
		w.going(ps[8], 0)
		last := w.going(ps[9], 0) // 10 of 10
		if ns := out.take(); len(ns) != 1 || ns[0].Kind != notify.KindActivityFull {
			t.Errorf("at 100 %%: %+v", ns)
		}
		// Down and up again at the mark: told once is enough.
		if _, err := w.svc.Cancel(w.ctx, ps[9], last.ID); err != nil {
			t.Fatal(err)
		}
		w.going(ps[10], 0)
		if ns := out.take(); len(ns) != 0 {
			t.Errorf("told again: %+v", ns)
		}
		// Another date has its own alerts; one sign-up passing both marks
		// tells only 100 %.
		small := w.activity("PUBLISHED", day(8, 12))
		five := 5
		if _, err := w.svc.Configure(w.ctx, w.organiser, small, SettingsInput{Mode: SeatLimited, Seats: &five, MaxPartySize: 6, NotifyFilling: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Participate(w.ctx, ps[0], Input{ActivityID: small, Status: Going, Guests: 2, IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Participate(w.ctx, ps[1], Input{ActivityID: small, Status: Going, Guests: 1, IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		if ns := out.take(); len(ns) != 1 || ns[0].Kind != notify.KindActivityFull || ns[0].ActivityID != small {
			t.Errorf("3 to 5 of 5: %+v", ns)
		}
		// Switched off, and an organiser's own sign-up of a resident: not
		// told to the one who did it.
		off := w.activity("PUBLISHED", day(9, 12))
		two := 2
		if _, err := w.svc.Configure(w.ctx, w.organiser, off, SettingsInput{Mode: SeatLimited, Seats: &two, MaxPartySize: 6}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Participate(w.ctx, ps[0], Input{ActivityID: off, Status: Going, Guests: 1, IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		if ns := out.take(); len(ns) != 0 {
			t.Errorf("told with notifyFilling off: %+v", ns)
		}
		mine := w.activity("PUBLISHED", day(10, 12))
		if _, err := w.svc.Configure(w.ctx, w.organiser, mine, SettingsInput{Mode: SeatLimited, Seats: &two, MaxPartySize: 6, NotifyFilling: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SignUpOnBehalf(w.ctx, w.organiser, mine, nil, "Grethe", "20304050", 2); err != nil {
			t.Fatal(err)
		}
		if ns := out.take(); len(ns) != 0 {
			t.Errorf("the organiser was told of their own sign-up: %+v", ns)
		}
	})
}

func TestActivityHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ps := w.people(3)
		// Sign-ups on the first two dates of the weekly activity.
		p0 := w.going(ps[0], 1)
		p1, err := w.svc.Participate(w.ctx, ps[0], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[1], Status: Going, IdempotencyKey: w.key()})
		if err != nil {
			t.Fatal(err)
		}
		q1, err := w.svc.Participate(w.ctx, ps[1], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[1], Status: Interested, IdempotencyKey: w.key()})
		if err != nil {
			t.Fatal(err)
		}
		// Moved a week later: each sign-up keeps its occurrence, now a
		// week on, although that is where the next one was.
		err = db.Transact(w.ctx, func(tx *sqlx.Tx) error {
			_, err := w.svc.MoveActivityTx(w.ctx, tx, w.act, 7*24*time.Hour, w.clock.now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			p    Participation
			want time.Time
		}{{p0, w.dates[1]}, {p1, w.dates[2]}, {q1, w.dates[2]}} {
			if got := w.reread(c.p).OccurrenceStartsAt; !got.Equal(c.want) {
				t.Errorf("participation %d at %s, want %s", c.p.ID, got, c.want)
			}
		}
		// And back: the earliest first.
		err = db.Transact(w.ctx, func(tx *sqlx.Tx) error {
			_, err := w.svc.MoveActivityTx(w.ctx, tx, w.act, -7*24*time.Hour, w.clock.now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.reread(p0).OccurrenceStartsAt; !got.Equal(w.dates[0]) {
			t.Errorf("moved back to %s", got)
		}

		// Cancelled: every live sign-up goes, and the events name the
		// people so the cancellation reaches them.
		var people []int64
		err = db.Transact(w.ctx, func(tx *sqlx.Tx) error {
			evs, err := w.svc.CancelActivityTx(w.ctx, tx, w.act, w.clock.now())
			for _, e := range evs {
				people = append(people, e.UserID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(people) != 2 || people[0] != ps[0].UserID || people[1] != ps[1].UserID {
			t.Errorf("released %v", people)
		}
		for _, p := range []Participation{p0, p1, q1} {
			if got := w.reread(p); got.Status != Cancelled || got.CancelledAt == nil {
				t.Errorf("participation %d: %s", p.ID, got.Status)
			}
		}
		checkInvariants(t, w)
	})
}

func TestReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		out := withOutbox(w)
		w.seats(4)
		ps := w.people(4)
		going := w.going(ps[0], 1)
		if _, err := w.svc.Participate(w.ctx, ps[1], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Interested,
			IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		w.going(ps[2], 1)
		w.going(ps[3], 1) // waits: only the two going parties are reminded
		out.take()
		remind := func(at time.Time) []notify.NewNotification {
			t.Helper()
			w.clock.set(at)
			if _, err := w.svc.CreateReminders(w.ctx); err != nil {
				t.Fatal(err)
			}
			return out.take()
		}
		if ns := remind(w.dates[0].Add(-25 * time.Hour)); len(ns) != 0 {
			t.Errorf("25 h before: %+v", ns)
		}
		ns := remind(w.dates[0].Add(-23 * time.Hour))
		if len(ns) != 2 || ns[0].Kind != notify.KindGuestReminder24h || ns[0].UserID != ps[0].UserID ||
			ns[0].ParticipationID != going.ID || ns[0].Params["Guests"] != 1 || ns[0].Urgent {
			t.Errorf("23 h before: %+v", ns)
		}
		if ns := remind(w.dates[0].Add(-22 * time.Hour)); len(ns) != 0 {
			t.Errorf("told twice: %+v", ns)
		}
		// The one-tap release: the push's participation is cancelled and
		// its seats go to the waitlist; the 2-hour reminder then goes to
		// the party promoted, not to the one that left.
		if _, err := w.svc.Cancel(w.ctx, ps[0], going.ID); err != nil {
			t.Fatal(err)
		}
		out.take()
		ns = remind(w.dates[0].Add(-90 * time.Minute))
		got := map[int64]bool{}
		for _, n := range ns {
			if n.Kind != notify.KindGuestReminder2h || !n.Urgent {
				t.Errorf("2 h reminder %+v", n)
			}
			got[n.UserID] = true
		}
		if len(ns) != 2 || !got[ps[2].UserID] || !got[ps[3].UserID] {
			t.Errorf("2 h before: %+v", ns)
		}
	})
}
