// Package clocktest gives tests that depend on the calendar (demo data,
// weekdays, daylight saving, year end) the instant to run at, so CI can
// run them at chosen dates as well as today.
package clocktest

import (
	"os"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/clock"
)

// Env names the variable that fixes the date: an RFC 3339 instant such as
// 2027-03-28T00:59:30Z. Unset, tests run at the real time.
const Env = "TEST_NOW"

// Now returns TEST_NOW when it is set and the real time otherwise, in UTC.
// A TEST_NOW that does not parse fails the test rather than quietly
// running today.
func Now(t testing.TB) time.Time {
	t.Helper()
	v := os.Getenv(Env)
	if v == "" {
		return time.Now().UTC()
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("%s=%q is not an RFC 3339 time such as 2027-03-28T00:59:30Z: %v", Env, v, err)
	}
	t.Logf("running at %s (%s)", at.UTC().Format(time.RFC3339), Env)
	return at.UTC()
}

// Clock returns a clock that starts at Now(t) and runs on at the real
// rate, for services under test.
func Clock(t testing.TB) func() time.Time {
	t.Helper()
	return clock.From(Now(t))
}
