package volunteer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// 1,000 people tap one slot of 10 places at once, through two services
// on one database standing in for two replicas (each with its own
// writer for the slot), some tapping twice with the same key. The
// database's locks keep the two writers' batches apart: 10 confirmed,
// every other person told a distinct waitlist position 1..990, a retry
// told the same claim, and the counters agree with the claims.
func TestBatchTwoReplicasStorm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := NewService(db, f.rec, Config{Now: f.clock.Now})
		replicas := []*Service{f.svc, other}
		sl := f.slot(at(1, 10, 0), at(1, 14, 0), 10)
		vols := f.users(1000)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(vols))
		claims := make([]Claim, len(vols))
		retries := make([]Claim, len(vols))
		retryErrs := make([]error, len(vols))
		for i, v := range vols {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				key := fmt.Sprintf("tap-%d", i)
				claims[i], errs[i] = replicas[i%2].Claim(f.ctx, v, sl.ID, key)
				if i%10 == 0 {
					// The phone retries on the other replica.
					retries[i], retryErrs[i] = replicas[(i+1)%2].Claim(f.ctx, v, sl.ID, key)
				}
			}()
		}
		close(start)
		wg.Wait()

		confirmed := 0
		told := map[int]int{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("claim %d: %v", i, err)
			}
			switch claims[i].Status {
			case Confirmed:
				confirmed++
			case Waitlisted:
				told[*claims[i].WaitlistPosition]++
			default:
				t.Fatalf("claim %d is %s", i, claims[i].Status)
			}
			if i%10 == 0 {
				if retryErrs[i] != nil || retries[i].ID != claims[i].ID {
					t.Errorf("retry of claim %d: %v, claim %d; want claim %d", i, retryErrs[i], retries[i].ID, claims[i].ID)
				}
			}
		}
		if confirmed != 10 {
			t.Errorf("%d confirmed, want 10", confirmed)
		}
		for p := 1; p <= 990; p++ {
			if told[p] != 1 {
				t.Errorf("waitlist position %d told %d times, want once", p, told[p])
			}
		}
		if len(told) != 990 {
			t.Errorf("%d distinct positions told, want 990", len(told))
		}
		// What each caller was told is what the database holds.
		roster, err := f.svc.Roster(f.ctx, f.organiser, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(roster) != 1000 {
			t.Errorf("%d claims in the database, want 1000", len(roster))
		}
		stored := map[int64]Claim{}
		for _, c := range roster {
			stored[c.ID] = c
		}
		for i, c := range claims {
			db, ok := stored[c.ID]
			if !ok || db.Status != c.Status || db.UserID != c.UserID || !equalPtr(db.WaitlistPosition, c.WaitlistPosition) ||
				!db.CreatedAt.Equal(c.CreatedAt) || !equalTime(db.ConfirmedAt, c.ConfirmedAt) || !equalPtr(db.CreatedBy, c.CreatedBy) {
				t.Errorf("claim %d told %+v, stored %+v", i, c, db)
			}
		}
		if got := len(f.events(event.ClaimConfirmed)); got != 10 {
			t.Errorf("%d ClaimConfirmed events, want 10", got)
		}
		if got := len(f.events(event.ClaimWaitlisted)); got != 990 {
			t.Errorf("%d ClaimWaitlisted events, want 990", got)
		}
		checkInvariants(t, f)
	})
}

// One batch, judged in arrival order: a person's second tap with the same
// key is answered as the first; a second tap with a new key, a deleted
// account and a key already used elsewhere are refused without touching
// the claims around them; the batch after answers retries from the
// database the same way.
func TestBatchMixedAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(1, 10, 0), at(1, 14, 0), 2)
		elsewhere := f.slot(at(2, 10, 0), at(2, 14, 0), 2)
		vols := f.users(5)
		gone := f.user("Slettet")
		f.exec(`UPDATE users SET deleted_at = ? WHERE id = ?`, f.clock.Now(), gone.UserID)
		if _, err := f.svc.Claim(f.ctx, vols[4], elsewhere.ID, "used"); err != nil {
			t.Fatal(err)
		}

		req := func(c user.Caller, key string) *claimRequest {
			return &claimRequest{caller: c, key: key, answer: make(chan claimAnswer, 1)}
		}
		batch := []*claimRequest{
			req(vols[0], "a"),    // confirmed
			req(vols[0], "a"),    // the same tap again: the same claim
			req(vols[0], "a2"),   // a new tap by the same person: ALREADY_CLAIMED
			req(gone, "g"),       // USER_NOT_FOUND
			req(vols[4], "used"), // key used for another slot
			req(vols[1], "b"),    // confirmed
			req(vols[2], "c"),    // waitlisted, position 1
			req(vols[3], "d"),    // waitlisted, position 2
		}
		f.svc.admit(f.ctx, sl.ID, batch)
		got := make([]claimAnswer, len(batch))
		for i, r := range batch {
			got[i] = <-r.answer
		}
		for _, i := range []int{0, 1, 5} {
			if got[i].err != nil || got[i].claim.Status != Confirmed {
				t.Errorf("claim %d: %v %s, want CONFIRMED", i, got[i].err, got[i].claim.Status)
			}
		}
		if got[0].claim.ID != got[1].claim.ID {
			t.Errorf("the same tap got claims %d and %d", got[0].claim.ID, got[1].claim.ID)
		}
		wantCode(t, got[2].err, CodeAlreadyClaimed)
		wantCode(t, got[3].err, CodeUserNotFound)
		wantCode(t, got[4].err, CodeIdempotencyKeyReused)
		for i, pos := range map[int]int{6: 1, 7: 2} {
			if got[i].err != nil || got[i].claim.Status != Waitlisted || *got[i].claim.WaitlistPosition != pos {
				t.Errorf("claim %d: %v %s %v, want WAITLISTED at %d", i, got[i].err, got[i].claim.Status, got[i].claim.WaitlistPosition, pos)
			}
		}

		// Retries, in a batch of their own, and alone.
		again := []*claimRequest{req(vols[3], "d"), req(vols[0], "a2"), req(vols[0], "a")}
		f.svc.admit(f.ctx, sl.ID, again)
		if a := <-again[0].answer; a.err != nil || a.claim.ID != got[7].claim.ID || *a.claim.WaitlistPosition != 2 {
			t.Errorf("retry of d: %v claim %d, want claim %d", a.err, a.claim.ID, got[7].claim.ID)
		}
		wantCode(t, (<-again[1].answer).err, CodeAlreadyClaimed)
		if a := <-again[2].answer; a.err != nil || a.claim.ID != got[0].claim.ID {
			t.Errorf("retry of a: %v claim %d, want claim %d", a.err, a.claim.ID, got[0].claim.ID)
		}
		c, err := f.svc.Claim(f.ctx, vols[2], sl.ID, "c")
		if err != nil || c.ID != got[6].claim.ID {
			t.Errorf("retry of c alone: %v claim %d, want %d", err, c.ID, got[6].claim.ID)
		}
		checkInvariants(t, f)
	})
}

// A caller that gives up waiting still has its claim made; Close waits
// for it, and the retry with the same key is told that claim.
func TestBatchCallerGoneClaimStands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(1, 10, 0), at(1, 14, 0), 1)
		v := f.user("Utålmodig")
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, err := f.svc.Claim(ctx, v, sl.ID, "tap")
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("claim of a caller gone: %v", err)
		}
		f.svc.Close()
		var status string
		if err := store.Get(f.ctx, db, &status, `SELECT status FROM slot_claims WHERE slot_id = ? AND user_id = ?`, sl.ID, v.UserID); err != nil {
			t.Fatalf("the claim of the caller gone: %v", err)
		}
		if status != Confirmed {
			t.Errorf("status %s, want CONFIRMED", status)
		}
		// After Close claims are judged one by one, and still answered.
		c, err := f.svc.Claim(f.ctx, v, sl.ID, "tap")
		if err != nil || c.Status != Confirmed {
			t.Fatalf("retry: %v %s", err, c.Status)
		}
		_, err = f.svc.Claim(f.ctx, v, sl.ID, "tap2")
		if ue := apperr.UserErrors(err); ue == nil || ue[0].Code != CodeAlreadyClaimed {
			t.Errorf("a new tap after the claim: %v, want ALREADY_CLAIMED", err)
		}
		checkInvariants(t, f)
	})
}

// panicky is a bus whose handlers panic after the commit.
type panicky struct{ event.Discard }

func (panicky) Publish(context.Context, ...event.Event) { panic("handler bug") }

// A panic in a batch writer has no request to be recovered by: the
// callers get an internal error instead of waiting forever or the server
// going down, and the writer takes the next batch.
func TestBatchPanicAnswersCallers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svc := NewService(db, panicky{}, Config{Now: f.clock.Now})
		sl := f.slot(at(1, 10, 0), at(1, 14, 0), 5)
		for _, v := range f.users(2) {
			_, err := svc.Claim(f.ctx, v, sl.ID, "tap")
			if err == nil || isUserError(err) {
				t.Fatalf("claim with a panicking handler: %v, want an internal error", err)
			}
			// Committed before the handlers ran: the retry is told the claim.
			c, err := f.svc.Claim(f.ctx, v, sl.ID, "tap")
			if err != nil || c.Status != Confirmed {
				t.Fatalf("retry: %v %s", err, c.Status)
			}
		}
		svc.Close()
		checkInvariants(t, f)
	})
}
