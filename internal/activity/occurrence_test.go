package activity

import (
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/tz"
)

func local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, tz.Copenhagen)
}

// Aktiviteter for børn is on the first Sunday of each month at 10:00; the
// clock must say 10:00 in Ishøj on both sides of the change to winter time
// on 25 October 2026.
func TestExpandKeepsLocalTimeAcrossDaylightSaving(t *testing.T) {
	rule := "FREQ=MONTHLY;BYDAY=1SU"
	a := Activity{ID: 7, StartsAt: local(2026, 9, 6, 10, 0).UTC(), EndsAt: local(2026, 9, 6, 14, 0).UTC(), Recurrence: &rule}
	occ, err := Expand(a, local(2027, 4, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []int{6, 4, 1, 6, 3, 7, 7} // Sep 6, Oct 4, Nov 1, Dec 6, Jan 3, Feb 7, Mar 7
	if len(occ) != len(wantDays) {
		t.Fatalf("got %d occurrences, want %d: %v", len(occ), len(wantDays), occ)
	}
	for i, o := range occ {
		l := o.StartsAt.In(tz.Copenhagen)
		if l.Hour() != 10 || l.Minute() != 0 || l.Weekday() != time.Sunday || l.Day() != wantDays[i] {
			t.Errorf("occurrence %d starts %v, want Sunday %d at 10:00 local", i, l, wantDays[i])
		}
		if got := o.EndsAt.Sub(o.StartsAt); got != 4*time.Hour {
			t.Errorf("occurrence %d lasts %v, want 4h", i, got)
		}
		if o.ActivityID != 7 {
			t.Errorf("occurrence %d has activity %d", i, o.ActivityID)
		}
	}
	// UTC offsets differ across the change: +02:00 in September, +01:00 in November.
	if _, off := occ[0].StartsAt.In(tz.Copenhagen).Zone(); off != 2*3600 {
		t.Errorf("September offset = %d", off)
	}
	if _, off := occ[2].StartsAt.In(tz.Copenhagen).Zone(); off != 3600 {
		t.Errorf("November offset = %d", off)
	}
}

func TestExpandOneOffAndLimits(t *testing.T) {
	a := Activity{ID: 1, StartsAt: local(2026, 7, 6, 10, 0), EndsAt: local(2026, 7, 6, 16, 0)}
	occ, err := Expand(a, local(2030, 1, 1, 0, 0))
	if err != nil || len(occ) != 1 || !occ[0].StartsAt.Equal(a.StartsAt) {
		t.Fatalf("one-off: %v %v", occ, err)
	}

	daily := "FREQ=DAILY"
	a.Recurrence = &daily
	occ, err = Expand(a, local(2040, 1, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != maxOccurrences {
		t.Errorf("unbounded daily rule gave %d occurrences, want the cap %d", len(occ), maxOccurrences)
	}

	count := "FREQ=WEEKLY;COUNT=3"
	a.Recurrence = &count
	occ, err = Expand(a, local(2040, 1, 1, 0, 0))
	if err != nil || len(occ) != 3 {
		t.Errorf("COUNT=3 gave %d occurrences (%v)", len(occ), err)
	}
}

func TestParseRuleRejects(t *testing.T) {
	start := local(2026, 7, 6, 10, 0)
	for _, rule := range []string{
		"", "FREQ=HOURLY", "FREQ=MINUTELY", "BYDAY=MO", "FREQ=WEEKLY;BYDAY=XX",
		"DTSTART:20260101T000000Z\nFREQ=DAILY", "FREQ=DAILY\r\nX", "nonsense",
	} {
		if _, err := parseRule(rule, start); err == nil {
			t.Errorf("parseRule(%q) accepted", rule)
		}
	}
	if _, err := parseRule("RRULE:FREQ=WEEKLY;BYDAY=SA,SU", start); err != nil {
		t.Errorf("RRULE: prefix refused: %v", err)
	}
}
