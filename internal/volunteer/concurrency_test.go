package volunteer

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// 200 people tap the same slot of capacity 5 at the same moment.
func TestClaimRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(1, 10, 0), at(1, 14, 0), 5)
		vols := f.users(200)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(vols))
		claims := make([]Claim, len(vols))
		for i, v := range vols {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				claims[i], errs[i] = f.svc.Claim(f.ctx, v, sl.ID, "tap")
			}()
		}
		close(start)
		wg.Wait()

		confirmed, waitlisted := 0, 0
		positions := map[int]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("claim %d: %v", i, err)
			}
			switch claims[i].Status {
			case Confirmed:
				confirmed++
			case Waitlisted:
				waitlisted++
				positions[*claims[i].WaitlistPosition] = true
			}
		}
		if confirmed != 5 || waitlisted != 195 {
			t.Errorf("%d confirmed, %d waitlisted; want 5 and 195", confirmed, waitlisted)
		}
		// Each caller was told a distinct place in the queue.
		for p := 1; p <= 195; p++ {
			if !positions[p] {
				t.Errorf("no claim was told waitlist position %d", p)
			}
		}
		roster, err := f.svc.Roster(f.ctx, f.organiser, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(roster) != 200 {
			t.Fatalf("roster has %d claims", len(roster))
		}
		for i, c := range roster[5:] {
			if c.Status != Waitlisted || *c.WaitlistPosition != i+1 {
				t.Fatalf("roster[%d] = %s at %v, want WAITLISTED at %d", i+5, c.Status, c.WaitlistPosition, i+1)
			}
		}
		sl, _ = f.svc.Slot(f.ctx, f.organiser, sl.ID)
		if sl.Taken != 5 || sl.Waitlisted != 195 || sl.SpotsLeft() != 0 {
			t.Errorf("slot counters taken %d waitlisted %d", sl.Taken, sl.Waitlisted)
		}
		if n := len(f.events(event.ClaimConfirmed)); n != 5 {
			t.Errorf("%d ClaimConfirmed events", n)
		}
		checkInvariants(t, f)
	})
}

// A storm of claims, retries and cancellations from many goroutines on a
// few slots, two of which overlap in time, with some people acting from
// two phones at once. Afterwards the counters match the claims, nobody is
// double booked, every freed place went to exactly one waiting person, and
// a free place is left only when everyone waiting is busy at that time.
func TestStorm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		slots := []Slot{
			f.slot(at(1, 10, 0), at(1, 12, 0), 3),
			f.slot(at(1, 11, 0), at(1, 13, 0), 3), // overlaps the first
			f.slot(at(2, 10, 0), at(2, 12, 0), 2),
			f.slot(at(3, 10, 0), at(3, 12, 0), 4),
		}
		vols := f.users(40)
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)

		const goroutines, ops = 50, 30
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			faults []error
		)
		fault := func(format string, args ...any) {
			mu.Lock()
			faults = append(faults, fmt.Errorf(format, args...))
			mu.Unlock()
		}
		expected := map[string]bool{CodeAlreadyClaimed: true, CodeOverlapsOtherClaim: true}
		start := make(chan struct{})
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(seed, uint64(g)))
				me := vols[g%len(vols)]
				type tap struct {
					key    string
					slotID int64
					claim  int64
				}
				var taps []tap
				var mine []int64
				<-start
				for op := range ops {
					switch r := rnd.IntN(100); {
					case r < 50 || len(taps) == 0:
						sl := slots[rnd.IntN(len(slots))]
						key := fmt.Sprintf("g%d-op%d", g, op)
						c, err := f.svc.Claim(f.ctx, me, sl.ID, key)
						if err != nil {
							if ue := apperr.UserErrors(err); ue == nil || !expected[ue[0].Code] {
								fault("claim: %v", err)
							}
							continue
						}
						taps = append(taps, tap{key, sl.ID, c.ID})
						mine = append(mine, c.ID)
					case r < 65:
						// The phone lost the answer and sends the same tap again.
						tp := taps[rnd.IntN(len(taps))]
						c, err := f.svc.Claim(f.ctx, me, tp.slotID, tp.key)
						if err != nil || c.ID != tp.claim {
							fault("retry of %s: claim %d, %v; want claim %d", tp.key, c.ID, err, tp.claim)
						}
					case len(mine) > 0:
						i := rnd.IntN(len(mine))
						canceller := me
						if r >= 95 {
							canceller = f.organiser
						}
						if _, err := f.svc.CancelClaim(f.ctx, canceller, mine[i]); err != nil {
							fault("cancel %d: %v", mine[i], err)
						}
						mine = append(mine[:i], mine[i+1:]...)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range faults {
			t.Error(err)
		}
		checkInvariants(t, f)

		// Every promotion happened once and is in an event.
		var promotedIDs []int64
		if err := store.Select(f.ctx, db, &promotedIDs, `SELECT id FROM slot_claims WHERE promoted_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		promotedEvents := map[int64]int{}
		perSlot := map[int64]int{} // confirmations announced per slot
		cancelledEvents := 0
		for _, e := range f.recent() {
			switch e.Kind {
			case event.ClaimPromoted:
				promotedEvents[e.ClaimID]++
				perSlot[e.SlotID]++
			case event.ClaimConfirmed:
				perSlot[e.SlotID]++
			case event.ClaimCancelled:
				cancelledEvents++
			}
		}
		if len(promotedIDs) != len(promotedEvents) {
			t.Errorf("%d promoted claims, %d claims with promotion events", len(promotedIDs), len(promotedEvents))
		}
		for _, id := range promotedIDs {
			if promotedEvents[id] != 1 {
				t.Errorf("claim %d promoted, %d events", id, promotedEvents[id])
			}
		}
		var cancelled int
		if err := store.Get(f.ctx, db, &cancelled, `SELECT COUNT(*) FROM slot_claims WHERE status = 'CANCELLED'`); err != nil {
			t.Fatal(err)
		}
		if cancelled != cancelledEvents {
			t.Errorf("%d cancelled claims, %d ClaimCancelled events", cancelled, cancelledEvents)
		}
		for _, sl := range slots {
			var everConfirmed int
			if err := store.Get(f.ctx, db, &everConfirmed, `SELECT COUNT(*) FROM slot_claims WHERE slot_id = ? AND confirmed_at IS NOT NULL`, sl.ID); err != nil {
				t.Fatal(err)
			}
			if everConfirmed != perSlot[sl.ID] {
				t.Errorf("slot %d: %d claims were confirmed, %d confirmations announced", sl.ID, everConfirmed, perSlot[sl.ID])
			}
			// A free place with people waiting is only allowed when each of
			// them holds a confirmed claim at an overlapping time.
			var stuck int
			err := store.Get(f.ctx, db, &stuck, `SELECT COUNT(*) FROM slot_claims w
				JOIN volunteer_slots s ON s.id = w.slot_id
				WHERE w.slot_id = ? AND w.status = 'WAITLISTED' AND s.taken < s.capacity
				AND NOT EXISTS (SELECT 1 FROM slot_claims c JOIN volunteer_slots o ON o.id = c.slot_id
					WHERE c.user_id = w.user_id AND c.status = 'CONFIRMED'
					AND o.starts_at < s.ends_at AND s.starts_at < o.ends_at)`, sl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stuck != 0 {
				t.Errorf("slot %d has a free place and %d people waiting who could take it", sl.ID, stuck)
			}
		}
		var total int
		_ = store.Get(f.ctx, db, &total, `SELECT COUNT(*) FROM slot_claims`)
		t.Logf("%d claims, %d promotions, %d cancellations", total, len(promotedIDs), cancelled)
		if len(promotedIDs) == 0 {
			t.Errorf("the storm promoted nobody; it tests too little")
		}
	})
}
