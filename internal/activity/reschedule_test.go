package activity

import (
	"testing"
	"time"
)

// rescheduledFrom keeps the start a published activity had before its
// latest move, forgets it when the activity moves back, and ignores the
// moves of drafts and edits that keep the start.
func TestRescheduledFrom(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	ptr := func(t time.Time) *time.Time { return &t }
	for _, c := range []struct {
		name  string
		old   Activity
		start time.Time
		want  *time.Time
	}{
		{"published, moved", Activity{Status: Published, StartsAt: t0}, t1, ptr(t0)},
		{"published, same start", Activity{Status: Published, StartsAt: t0}, t0, nil},
		{"moved again: the latest start before", Activity{Status: Published, StartsAt: t1, RescheduledFrom: ptr(t0)}, t2, ptr(t1)},
		{"moved back", Activity{Status: Published, StartsAt: t1, RescheduledFrom: ptr(t0)}, t0, nil},
		{"edited, not moved", Activity{Status: Published, StartsAt: t1, RescheduledFrom: ptr(t0)}, t1, ptr(t0)},
		{"draft", Activity{Status: Draft, StartsAt: t0}, t1, nil},
		{"same instant in another zone", Activity{Status: Published, StartsAt: t0}, t0.In(time.FixedZone("CET", 3600)), nil},
	} {
		got := rescheduledFrom(c.old, c.start)
		if (got == nil) != (c.want == nil) || got != nil && !got.Equal(*c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	a := Activity{Status: Published, StartsAt: t1, RescheduledFrom: ptr(t0)}
	if prev, ok := a.PreviousStart(Occurrence{StartsAt: t2.Add(7 * 24 * time.Hour)}); !ok || !prev.Equal(t1.Add(7*24*time.Hour)) {
		t.Errorf("PreviousStart of a later date: %v %v", prev, ok)
	}
	if _, ok := (Activity{StartsAt: t0}).PreviousStart(Occurrence{StartsAt: t0}); ok {
		t.Error("an activity never moved has a previous start")
	}
}
