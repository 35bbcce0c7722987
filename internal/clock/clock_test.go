package clock

import (
	"testing"
	"time"
)

func TestFromRunsOnFromStart(t *testing.T) {
	start := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	now := From(start)
	first := now()
	if first.Before(start) || first.Sub(start) > time.Second {
		t.Fatalf("first reading %s, want just after %s", first, start)
	}
	time.Sleep(20 * time.Millisecond)
	if second := now(); second.Sub(first) < 20*time.Millisecond {
		t.Errorf("clock moved %s in 20ms of real time", second.Sub(first))
	}
	if first.Location() != time.UTC {
		t.Errorf("reading in %s, want UTC", first.Location())
	}
}
