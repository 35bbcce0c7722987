// Package clock is the domain's idea of now. Every domain service that
// reads the time is given a clock when it is built; the server builds one
// (internal/app) and hands the same one to all of them, so development and
// CI can run the whole server "at" a chosen date (DEV_NOW) while tokens
// and timeouts keep the real time.
package clock

import "time"

// Real reads the wall clock in UTC, the way the domain stores times.
func Real() time.Time { return time.Now().UTC() }

// From returns a clock that reads start at the moment it is made and runs
// on at the real rate from there, so deadlines and "in two hours" behave
// as they would on that day.
func From(start time.Time) func() time.Time {
	start = start.UTC()
	began := time.Now()
	return func() time.Time { return start.Add(time.Since(began)) }
}
