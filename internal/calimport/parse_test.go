package calimport

import (
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/tz"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT1H30M": 90 * time.Minute,
		"P1D":     24 * time.Hour,
		"P2W":     14 * 24 * time.Hour,
		"P1DT2H":  26 * time.Hour,
		"+PT45S":  45 * time.Second,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1H", "-PT1H", "PT1", "P1H", "PTXM"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}

// Oddities real feeds contain: Windows zone names, repeated UIDs,
// overridden instances, private events, rules we cannot expand.
func TestParseOddities(t *testing.T) {
	f, err := parse([]byte(calendar(
		vevent("w@x", "Windows", "DTSTART;TZID=Romance Standard Time:20270301T100000"),
		vevent("d@x", "First", "DTSTART:20270301T100000Z"),
		vevent("d@x", "Second", "DTSTART:20270302T100000Z"),
		vevent("r@x", "Override", "RECURRENCE-ID:20270301T100000Z", "DTSTART:20270301T120000Z"),
		vevent("p@x", "Private", "CLASS:PRIVATE", "DTSTART:20270301T100000Z"),
		vevent("h@x", "Hourly", "DTSTART:20270301T100000Z", "RRULE:FREQ=HOURLY"),
		vevent("n@x", "No start"),
		"BEGIN:VEVENT\r\nUID:t@x\r\nDTSTART:20270301T100000Z\r\nEND:VEVENT",
	)))
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[string]item{}
	for _, it := range f.Items {
		byUID[it.UID] = it
	}
	if len(f.Items) != 3 {
		t.Fatalf("items = %+v", f.Items)
	}
	if w := byUID["w@x"]; !w.StartsAt.Equal(time.Date(2027, 3, 1, 10, 0, 0, 0, tz.Copenhagen)) {
		t.Errorf("unknown zone read as %s, want Copenhagen time", w.StartsAt)
	}
	if d := byUID["d@x"]; d.Title != "Second" {
		t.Errorf("repeated UID: %q, want the later entry", d.Title)
	}
	if h := byUID["h@x"]; h.Recurrence != nil {
		t.Errorf("hourly rule kept: %v", *h.Recurrence)
	}
	for _, uid := range []string{"n@x", "t@x"} {
		if !f.Skipped[uid] {
			t.Errorf("%s not marked skipped: %v", uid, f.Skipped)
		}
	}
	for _, uid := range []string{"r@x", "p@x"} {
		if _, ok := f.Skipped[uid]; ok {
			t.Errorf("%s counts as skipped; it should be absent", uid)
		}
	}
}
