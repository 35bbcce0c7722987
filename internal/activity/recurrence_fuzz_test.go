package activity

import (
	"testing"
	"time"
)

// FuzzExpand checks that any rule an organiser types expands to at most
// maxOccurrences occurrences, in order, none before the activity's own
// start, each as long as the activity, and none at or after until.
func FuzzExpand(f *testing.F) {
	for _, s := range []struct {
		rule             string
		startMin, durMin int64
		untilDays        uint16
	}{
		{"FREQ=MONTHLY;BYDAY=1SU", 0, 240, 400},
		{"RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270101T000000Z", 600, 90, 400},
		{"FREQ=DAILY", -60, 30, 400},
		{"FREQ=DAILY;COUNT=3", 0, 0, 10},
		{"FREQ=HOURLY", 0, 60, 400},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 0, 60, 2000},
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 0, 60, 400},
		{"FREQ=WEEKLY;DTSTART=20200101T000000Z", 0, 60, 400},
		{"FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", 0, 60, 400},
		{"FREQ=WEEKLY;INTERVAL=0", 0, 60, 400},
		{"FREQ=DAILY;BYHOUR=2;BYMINUTE=30", 0, 60, 400},
		{"FREQ=WEEKLY\r\nRDATE:20260101", 0, 60, 400},
		{"", 0, 60, 400},
	} {
		f.Add(s.rule, s.startMin, s.durMin, s.untilDays)
	}
	base := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, rule string, startMin, durMin int64, untilDays uint16) {
		// Starts within about 20 years of 2026, lasting up to a week; until
		// reaches up to about 5 years past the start (Horizon is 400 days).
		start := base.Add(time.Duration(startMin%(20*366*24*60)) * time.Minute)
		dur := time.Duration(durMin%(7*24*60)) * time.Minute
		if dur < 0 {
			dur = -dur
		}
		until := start.Add(time.Duration(untilDays%2000) * 24 * time.Hour)
		a := Activity{ID: 1, StartsAt: start, EndsAt: start.Add(dur), Recurrence: &rule}
		occ, err := Expand(a, until)
		if err != nil {
			if occ != nil {
				t.Fatalf("Expand(%q) returned %d occurrences with error %v", rule, len(occ), err)
			}
			return
		}
		if len(occ) == 0 || len(occ) > maxOccurrences {
			t.Fatalf("Expand(%q) returned %d occurrences, want 1 to %d", rule, len(occ), maxOccurrences)
		}
		if !occ[0].StartsAt.Equal(start) {
			t.Fatalf("Expand(%q): first occurrence %v, want the activity's start %v", rule, occ[0].StartsAt, start)
		}
		for i, o := range occ {
			if o.ActivityID != 1 || o.EndsAt.Sub(o.StartsAt) != dur || o.StartsAt.Location() != time.UTC {
				t.Fatalf("Expand(%q): occurrence %d is %+v, want activity 1 lasting %v in UTC", rule, i, o, dur)
			}
			if i == 0 {
				continue
			}
			if !o.StartsAt.After(occ[i-1].StartsAt) {
				t.Fatalf("Expand(%q): occurrence %d at %v is not after %v", rule, i, o.StartsAt, occ[i-1].StartsAt)
			}
			if !o.StartsAt.Before(until) {
				t.Fatalf("Expand(%q): occurrence %d at %v is not before until %v", rule, i, o.StartsAt, until)
			}
		}
	})
}
