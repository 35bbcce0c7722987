package participation

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// 200 parties of one to four people tap "I'm coming" on 20 seats at the
// same moment, each tap sent twice by the phone. Afterwards no seat is
// held twice, every party got one answer for its key, the waitlist
// positions told are distinct and gapless, and nobody waits who would fit.
// Then half of them cancel at once, and the freed seats go to the queue.
func TestTwoHundredPartiesOnTwentySeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.seats(20)
		guests := w.people(200)
		size := func(i int) int { return i%4 + 1 }

		var wg sync.WaitGroup
		start := make(chan struct{})
		first := make([]Participation, len(guests))
		retry := make([]Participation, len(guests))
		errs := make([]error, 2*len(guests))
		for i, g := range guests {
			in := Input{ActivityID: w.act, OccurrenceStartsAt: &w.dates[0], Status: Going, Guests: size(i) - 1,
				IdempotencyKey: fmt.Sprintf("tap-%d", i)}
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				first[i], errs[2*i] = w.svc.Participate(w.ctx, g, in)
			}()
			go func() {
				defer wg.Done()
				<-start
				retry[i], errs[2*i+1] = w.svc.Participate(w.ctx, g, in)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("tap %d: %v", i, err)
			}
		}
		going, positions := 0, map[int]bool{}
		for i := range guests {
			if first[i].ID != retry[i].ID {
				t.Errorf("party %d: the retry made participation %d, the tap %d", i, retry[i].ID, first[i].ID)
			}
			if first[i].PartySize != size(i) {
				t.Errorf("party %d has size %d", i, first[i].PartySize)
			}
			switch first[i].Status {
			case Going:
				going += first[i].PartySize
			case Waitlisted:
				positions[*first[i].WaitlistPosition] = true
			}
		}
		var waiting int
		if err := store.Get(w.ctx, db, &waiting, `SELECT COUNT(*) FROM participations WHERE status = 'WAITLISTED'`); err != nil {
			t.Fatal(err)
		}
		// The two calls of one key answer with the state each saw, so a
		// party's position may be told by either; every position a caller
		// heard is in 1..n.
		for p := range positions {
			if p < 1 || p > waiting {
				t.Errorf("a caller was told position %d of %d", p, waiting)
			}
		}
		var rows int
		if err := store.Get(w.ctx, db, &rows, `SELECT COUNT(*) FROM participations`); err != nil {
			t.Fatal(err)
		}
		if rows != 200 {
			t.Errorf("%d participations for 200 parties", rows)
		}
		h, _ := w.svc.Headcounts(w.ctx, []Occurrence{{w.act, w.dates[0]}})
		hc := h[Occurrence{w.act, w.dates[0]}]
		if hc.Going > 20 || hc.GoingParties+hc.WaitlistedParties != 200 {
			t.Errorf("headcount %+v", hc)
		}
		t.Logf("%d going in %d parties, %d waiting in %d parties", hc.Going, hc.GoingParties, hc.Waitlisted, hc.WaitlistedParties)
		checkInvariants(t, w)

		// Every other party cancels at once, some through the organiser.
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rnd := rand.New(rand.NewPCG(seed, 1))
		start = make(chan struct{})
		cerrs := make([]error, len(guests))
		for i := 0; i < len(guests); i += 2 {
			who := guests[i]
			if rnd.IntN(10) == 0 {
				who = w.organiser
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, cerrs[i] = w.svc.Cancel(w.ctx, who, first[i].ID)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range cerrs {
			if err != nil {
				t.Fatalf("cancel %d: %v", i, err)
			}
		}
		checkInvariants(t, w)
		var promoted int
		if err := store.Get(w.ctx, db, &promoted, `SELECT COUNT(*) FROM participations WHERE promoted_at IS NOT NULL AND status = 'GOING'`); err != nil {
			t.Fatal(err)
		}
		if promoted == 0 {
			t.Error("cancelling half the parties promoted nobody; the test tests too little")
		}
		t.Logf("%d promoted", promoted)
	})
}
