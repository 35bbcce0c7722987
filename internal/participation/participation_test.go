package participation

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func TestOpenActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		anna := w.person("Anna")

		// No date named: the next one. An open activity takes everyone.
		p, err := w.svc.Participate(w.ctx, anna, Input{ActivityID: w.act, Status: Going, Guests: 2, IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != Going || p.PartySize != 3 || p.Guests() != 2 || !p.OccurrenceStartsAt.Equal(w.dates[0]) || p.ConfirmedAt == nil {
			t.Errorf("participation %+v", p)
		}
		// The retry of the tap returns the same, and does nothing again.
		again, err := w.svc.Participate(w.ctx, anna, Input{ActivityID: w.act, Status: Going, Guests: 2, IdempotencyKey: "k1"})
		if err != nil || again.ID != p.ID {
			t.Errorf("retry: %v, %v", again.ID, err)
		}
		// The same key for another activity is a mistake.
		other := w.activity("PUBLISHED", day(3, 10))
		_, err = w.svc.Participate(w.ctx, anna, Input{ActivityID: other, Status: Going, IdempotencyKey: "k1"})
		wantCode(t, err, seat.CodeKeyReused)

		// A new tap changes the answer: interested, with one guest.
		p2, err := w.svc.Participate(w.ctx, anna, Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Interested, Guests: 1, IdempotencyKey: "k2"})
		if err != nil || p2.ID != p.ID || p2.Status != Interested || p2.PartySize != 2 {
			t.Errorf("change: %+v, %v", p2, err)
		}
		h, err := w.svc.Headcounts(w.ctx, []Occurrence{{w.act, w.dates[0]}})
		if err != nil {
			t.Fatal(err)
		}
		if got := h[Occurrence{w.act, w.dates[0]}]; got.Interested != 2 || got.Going != 0 || got.Seats != nil || got.SeatsLeft() != nil {
			t.Errorf("headcount %+v", got)
		}

		// Rules.
		cases := []struct {
			name string
			c    user.Caller
			in   Input
			code string
		}{
			{"party above the activity's limit", anna, Input{ActivityID: w.act, Status: Going, Guests: DefaultMaxPartySize}, CodePartyTooLarge},
			{"negative guests", anna, Input{ActivityID: w.act, Status: Going, Guests: -1}, CodeOutOfRange},
			{"unknown status", anna, Input{ActivityID: w.act, Status: "MAYBE"}, apperr.CodeInvalid},
			{"unknown date", anna, Input{ActivityID: w.act, OccurrenceStartsAt: ptr(day(7, 12)), Status: Going}, CodeOccurrenceNotFound},
			{"draft", anna, Input{ActivityID: w.activity("DRAFT", day(5, 10)), Status: Going}, CodeActivityNotFound},
			{"cancelled", anna, Input{ActivityID: w.activity("CANCELLED", day(5, 10)), Status: Going}, CodeActivityCancelled},
			{"started", anna, Input{ActivityID: w.activity("PUBLISHED", day(0, 7)), OccurrenceStartsAt: ptr(day(0, 7)), Status: Going}, CodeOccurrenceStarted},
			{"no key", anna, Input{ActivityID: w.act, Status: Going}, apperr.CodeRequired},
		}
		for _, c := range cases {
			if c.code != apperr.CodeRequired {
				c.in.IdempotencyKey = w.key()
			}
			_, err := w.svc.Participate(w.ctx, c.c, c.in)
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			wantCode(t, err, c.code)
		}
		// A refusal is remembered under its key.
		key := w.key()
		tooMany := Input{ActivityID: w.act, Status: Going, Guests: DefaultMaxPartySize, IdempotencyKey: key}
		_, err = w.svc.Participate(w.ctx, anna, tooMany)
		wantCode(t, err, CodePartyTooLarge)
		tooMany.Guests = 0
		_, err = w.svc.Participate(w.ctx, anna, tooMany)
		wantCode(t, err, CodePartyTooLarge)

		if _, err := w.svc.Participate(w.ctx, user.Caller{}, Input{ActivityID: w.act, Status: Going, IdempotencyKey: "v"}); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor: %v", err)
		}

		// Private: the person and the organisers see it, others do not.
		stranger := w.person("Stranger")
		for _, c := range []struct {
			who  user.Caller
			sees bool
		}{{anna, true}, {w.organiser, true}, {stranger, false}, {user.Caller{}, false}} {
			got, err := w.svc.ByIDs(w.ctx, c.who, []int64{p.ID})
			if err != nil || (len(got) == 1) != c.sees {
				t.Errorf("user %d sees %d participations (%v), want %v", c.who.UserID, len(got), err, c.sees)
			}
		}
		if _, err := w.svc.Cancel(w.ctx, stranger, p.ID); err == nil {
			t.Error("a stranger cancelled someone's participation")
		} else {
			wantCode(t, err, CodeParticipationNotFound)
		}
		c, err := w.svc.Cancel(w.ctx, anna, p.ID)
		if err != nil || c.Status != Cancelled || c.CancelledAt == nil {
			t.Errorf("cancel: %+v %v", c, err)
		}
		if c2, err := w.svc.Cancel(w.ctx, anna, p.ID); err != nil || c2.Status != Cancelled {
			t.Errorf("cancel again: %v", err)
		}
		// After cancelling, a new sign-up is a new participation.
		if n := w.going(anna, 0); n.ID == p.ID || n.Status != Going {
			t.Errorf("after cancel: %+v", n)
		}
		checkInvariants(t, w)
	})
}

func TestRegistrationWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// Opens 3 days before each date, closes an hour before, cancelling
		// later than a day before is late.
		_, err := w.svc.Configure(w.ctx, w.organiser, w.act, SettingsInput{Mode: Registration, MaxPartySize: 4,
			OpensMinutesBefore: ptr(3 * 24 * 60), ClosesMinutesBefore: ptr(60), CancelMinutesBefore: ptr(24 * 60)})
		if err != nil {
			t.Fatal(err)
		}
		anna := w.person("Anna")
		in := Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, IdempotencyKey: w.key()}
		_, err = w.svc.Participate(w.ctx, anna, in)
		wantCode(t, err, CodeRegistrationNotOpen)

		w.clock.set(w.dates[0].Add(-48 * time.Hour))
		in.IdempotencyKey = w.key()
		p, err := w.svc.Participate(w.ctx, anna, in)
		if err != nil || p.Status != Going {
			t.Fatalf("in the window: %+v %v", p, err)
		}
		w.clock.set(w.dates[0].Add(-2 * time.Hour))
		c, err := w.svc.Cancel(w.ctx, anna, p.ID)
		if err != nil || !c.LateCancel {
			t.Errorf("late cancel: %+v %v", c, err)
		}
		w.clock.set(w.dates[0].Add(-30 * time.Minute))
		in.IdempotencyKey = w.key()
		_, err = w.svc.Participate(w.ctx, anna, in)
		wantCode(t, err, CodeRegistrationClosed)

		bad := []struct {
			in    SettingsInput
			code  string
			field string
		}{
			{SettingsInput{Mode: SeatLimited, MaxPartySize: 2}, apperr.CodeRequired, "seats"},
			{SettingsInput{Mode: SeatLimited, Seats: ptr(0), MaxPartySize: 2}, CodeOutOfRange, "seats"},
			{SettingsInput{Mode: "VIP", MaxPartySize: 2}, apperr.CodeInvalid, "mode"},
			{SettingsInput{Mode: Open, MaxPartySize: 0}, CodeOutOfRange, "maxPartySize"},
			{SettingsInput{Mode: Open, MaxPartySize: 2, OpensMinutesBefore: ptr(60), ClosesMinutesBefore: ptr(60)}, CodeInvalidWindow, "closesMinutesBefore"},
		}
		for _, b := range bad {
			_, err := w.svc.Configure(w.ctx, w.organiser, w.act, b.in)
			ok := false
			for _, ue := range apperr.UserErrors(err) {
				ok = ok || (ue.Code == b.code && slices.Equal(ue.Field, []string{b.field}))
			}
			if !ok {
				t.Errorf("%+v: %v, want %s on %s", b.in, err, b.code, b.field)
			}
		}
		if _, err := w.svc.Configure(w.ctx, anna, w.act, SettingsInput{Mode: Open, MaxPartySize: 2}); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("a resident configured an activity: %v", err)
		}
	})
}

// Seats count whole parties; a freed seat goes to the first waiting party
// that fits, and a party too big for the seats free keeps its place.
func TestSeatsAndWaitlist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.seats(6)
		ps := w.people(6)
		a := w.going(ps[0], 2) // 3 seats
		b := w.going(ps[1], 1) // 5
		c := w.going(ps[2], 1) // 2 more do not fit: waits
		d := w.going(ps[3], 0) // fits: the 6th seat, although c waits
		e := w.going(ps[4], 0) // full: waits behind c
		if got := statuses(a, b, c, d, e); !slices.Equal(got, []string{Going, Going, Waitlisted, Going, Waitlisted}) {
			t.Fatalf("statuses %v", got)
		}
		if *c.WaitlistPosition != 1 || *e.WaitlistPosition != 2 {
			t.Errorf("positions %v %v", *c.WaitlistPosition, *e.WaitlistPosition)
		}
		h, _ := w.svc.Headcounts(w.ctx, []Occurrence{{w.act, w.dates[0]}})
		if got := h[Occurrence{w.act, w.dates[0]}]; got.Going != 6 || got.GoingParties != 3 || got.Waitlisted != 3 || got.WaitlistedParties != 2 || *got.SeatsLeft() != 0 {
			t.Errorf("headcount %+v", got)
		}

		// d leaves: one seat, c (2) does not fit and keeps position 1, e
		// (1) takes it.
		if _, err := w.svc.Cancel(w.ctx, ps[3], d.ID); err != nil {
			t.Fatal(err)
		}
		c, e = w.reread(c), w.reread(e)
		if c.Status != Waitlisted || *c.WaitlistPosition != 1 || e.Status != Going || e.PromotedAt == nil {
			t.Errorf("after d left: c %s %v, e %s", c.Status, c.WaitlistPosition, e.Status)
		}
		// a comes with one guest fewer: one seat, still not enough for c.
		a2, err := w.svc.Participate(w.ctx, ps[0], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, Guests: 1, IdempotencyKey: w.key()})
		if err != nil || a2.PartySize != 2 || w.reread(c).Status != Waitlisted {
			t.Errorf("a smaller: %+v %v, c %s", a2, err, w.reread(c).Status)
		}
		// a wants two guests again: one seat is free, two are needed.
		_, err = w.svc.Participate(w.ctx, ps[0], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, Guests: 3, IdempotencyKey: w.key()})
		wantCode(t, err, CodeNotEnoughSeats)
		if got := w.reread(a); got.PartySize != 2 || got.Status != Going {
			t.Errorf("a after refused growth: %+v", got)
		}
		// b only interested now: two more seats, c (2) is promoted.
		if _, err := w.svc.Participate(w.ctx, ps[1], Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Interested, Guests: 1, IdempotencyKey: w.key()}); err != nil {
			t.Fatal(err)
		}
		if got := w.reread(c); got.Status != Going {
			t.Errorf("c not promoted: %s", got.Status)
		}
		checkInvariants(t, w)

		// Seats below those going are refused; more seats promote.
		f := w.going(ps[5], 3)
		if f.Status != Waitlisted {
			t.Fatalf("f %s", f.Status)
		}
		_, err = w.svc.Configure(w.ctx, w.organiser, w.act, SettingsInput{Mode: SeatLimited, Seats: ptr(4), MaxPartySize: 6})
		wantCode(t, err, CodeSeatsBelowGoing)
		w.seats(10)
		if got := w.reread(f); got.Status != Going {
			t.Errorf("more seats did not promote f: %s", got.Status)
		}
		// A waitlisted party that shrinks keeps its place.
		g, hh := w.going(w.person("G"), 5), w.going(w.person("H"), 0)
		if g.Status != Waitlisted || hh.Status != Going {
			t.Fatalf("g %s h %s", g.Status, hh.Status)
		}
		g2, err := w.svc.Participate(w.ctx, w.reread(g).person(w), Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, Guests: 4, IdempotencyKey: w.key()})
		if err != nil || g2.Status != Waitlisted || *g2.WaitlistPosition != 1 || g2.PartySize != 5 {
			t.Errorf("g smaller: %+v %v", g2, err)
		}
		// Opening the activity up takes everyone waiting.
		if _, err := w.svc.Configure(w.ctx, w.organiser, w.act, SettingsInput{Mode: Open, MaxPartySize: 6}); err != nil {
			t.Fatal(err)
		}
		if got := w.reread(g); got.Status != Going {
			t.Errorf("opened up, g %s", got.Status)
		}
		checkInvariants(t, w)

		// Nobody is promoted once the date has started.
		w.act, w.dates = w.activity("PUBLISHED", day(30, 12)), []time.Time{day(30, 12)}
		w.seats(1)
		x, y := w.going(ps[0], 0), w.going(ps[1], 0)
		w.clock.set(day(30, 12).Add(time.Minute))
		if _, err := w.svc.Cancel(w.ctx, ps[0], x.ID); err == nil {
			t.Error("cancelled after the start")
		}
		if _, err := w.svc.Cancel(w.ctx, w.organiser, x.ID); err != nil {
			t.Fatal(err)
		}
		if got := w.reread(y); got.Status != Waitlisted {
			t.Errorf("promoted after the start: %s", got.Status)
		}
		checkInvariants(t, w)
	})
}

// person is the caller of p's person, for tests.
func (p Participation) person(w *world) user.Caller {
	return user.Caller{UserID: p.UserID, Verified: true, Named: true, AgeAnswered: true, Organises: map[int64]bool{}}
}
