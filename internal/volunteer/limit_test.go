package volunteer

import (
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The review made 350 claim/cancel cycles in 5 s, each one moving the
// waitlist and telling people. A person takes at most Config.Claims
// places in a while; the error says the limit and the wait. Cancelling is
// never limited (a place given back is a place for someone else), but
// each new cycle needs a claim.
func TestClaimLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.claims = ratelimit.Quota{N: 5, Per: time.Hour}
		sl := f.slot(at(1, 10, 0), at(1, 12, 0), 3)
		vera := f.user("Vera")
		cycles := 0
		var limited error
		for range 20 {
			c, err := f.svc.Claim(f.ctx, vera, sl.ID, f.key())
			if err != nil {
				limited = err
				break
			}
			if _, err := f.svc.CancelClaim(f.ctx, vera, c.ID); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			cycles++
		}
		ue := apperr.UserErrors(limited)
		if cycles != 5 || len(ue) != 1 || ue[0].Code != CodeTooManyClaims || ue[0].Params["Max"] != 5 ||
			ue[0].Params["RetryAfterSeconds"] != 3600 {
			t.Fatalf("%d cycles, then %v %+v; want 5 and %s", cycles, limited, ue, CodeTooManyClaims)
		}
		// A retry of the refused tap is not replayed as refused: after the
		// wait the same key claims.
		key := f.key()
		_, err := f.svc.Claim(f.ctx, vera, sl.ID, key)
		wantCode(t, err, CodeTooManyClaims)
		// Others are not limited by Vera, nor are organisers signing
		// people up at the desk.
		f.claim(f.user("Bo"), sl.ID)
		if _, err := f.svc.SignUpOnBehalf(f.ctx, f.organiser, sl.ID, "Grethe", "12345678"); err != nil {
			t.Errorf("sign-up on behalf: %v", err)
		}
		f.clock.Set(f.clock.Now().Add(time.Hour + time.Second))
		if _, err := f.svc.Claim(f.ctx, vera, sl.ID, key); err != nil {
			t.Errorf("an hour later: %v", err)
		}
		checkInvariants(t, f)
	})
}

// Claims sent at once cannot pass the limit together.
func TestClaimLimitConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.claims = ratelimit.Quota{N: 3, Per: time.Hour}
		vera := f.user("Vera")
		var slots []Slot
		for i := range 8 {
			slots = append(slots, f.slot(at(1+i, 10, 0), at(1+i, 11, 0), 5))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(slots))
		for i, sl := range slots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.Claim(f.ctx, vera, sl.ID, f.key())
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if ue := apperr.UserErrors(err); len(ue) != 1 || ue[0].Code != CodeTooManyClaims {
				t.Errorf("claim: %v", err)
			}
		}
		if ok != 3 {
			t.Errorf("%d claims passed a limit of 3", ok)
		}
	})
}
