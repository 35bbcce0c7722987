package ratelimit

import (
	"math"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// Quota is at most N actions per Per for one person, counted from the
// rows the actions left in the database (stories, reports, claims) rather
// than from buckets: the rows are the truth on every replica, with or
// without Redis, and only an action that happened counts, not one that
// was refused or failed. The zero Quota limits nothing.
type Quota struct {
	N   int
	Per time.Duration
}

// Enabled reports whether q limits anything.
func (q Quota) Enabled() bool { return q.N > 0 && q.Per > 0 }

// Since is the start of the window that ends at now.
func (q Quota) Since(now time.Time) time.Time { return now.Add(-q.Per) }

// Check is given the times of the person's latest actions inside the
// window, newest first, at most N of them (ORDER BY created_at DESC LIMIT
// N). With N of them one more must wait until the oldest leaves the
// window: Check then returns the user error code, saying the limit and
// the wait (Max, Hours, WaitHours, WaitMinutes for the message;
// RetryAfterSeconds for the app).
func (q Quota) Check(code string, latest []time.Time, now time.Time) error {
	if !q.Enabled() || len(latest) < q.N {
		return nil
	}
	wait := latest[len(latest)-1].Add(q.Per).Sub(now)
	if wait <= 0 {
		return nil
	}
	minutes := int(math.Ceil(wait.Minutes()))
	return apperr.New(code).
		With("Max", q.N).
		With("Hours", int(math.Round(q.Per.Hours()))).
		With("WaitHours", minutes/60).
		With("WaitMinutes", minutes%60).
		With("RetryAfterSeconds", int(math.Ceil(wait.Seconds())))
}
