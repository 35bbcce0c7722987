package ratelimit

import (
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
)

func TestQuota(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	q := Quota{N: 3, Per: 24 * time.Hour}
	if q.Since(now) != now.Add(-24*time.Hour) {
		t.Errorf("since = %v", q.Since(now))
	}
	two := []time.Time{now.Add(-time.Minute), now.Add(-time.Hour)}
	if err := q.Check("TOO_MANY", two, now); err != nil {
		t.Errorf("2 of 3: %v", err)
	}
	// The oldest of the three was 22 h 30 min ago: one more in 1 h 30 min.
	three := append(two, now.Add(-22*time.Hour-30*time.Minute))
	err := q.Check("TOO_MANY", three, now)
	ue := apperr.UserErrors(err)
	if len(ue) != 1 || ue[0].Code != "TOO_MANY" {
		t.Fatalf("3 of 3: %v", err)
	}
	p := ue[0].Params
	if p["Max"] != 3 || p["Hours"] != 24 || p["WaitHours"] != 1 || p["WaitMinutes"] != 30 || p["RetryAfterSeconds"] != 5400 {
		t.Errorf("params = %v", p)
	}
	if err := (Quota{}).Check("TOO_MANY", three, now); err != nil {
		t.Errorf("the zero quota limited: %v", err)
	}
	// A wait of seconds is a minute in the message and exact for the app.
	err = Quota{N: 1, Per: time.Hour}.Check("TOO_MANY", []time.Time{now.Add(-time.Hour + 10*time.Second)}, now)
	if p := apperr.UserErrors(err)[0].Params; p["WaitHours"] != 0 || p["WaitMinutes"] != 1 || p["RetryAfterSeconds"] != 10 {
		t.Errorf("short wait params = %v", p)
	}
}
