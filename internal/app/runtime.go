package app

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// The server's live heap is small (the data lives in the database) while
// each GraphQL response allocates a few hundred kilobytes of short-lived
// objects, so with Go's default of 100 the collector runs every few
// requests; at 400 it runs a quarter as often for a heap that stays in
// the tens of megabytes. The load tool's feed scenario shows the effect
// (README, Performance).
const defaultGCPercent = 400

// TuneRuntime applies the server's garbage-collector default unless the
// operator chose one with GOGC. GOMEMLIMIT, if set, still caps the heap.
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
