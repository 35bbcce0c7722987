package calimport

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/tz"
)

// item is one VEVENT read from a feed, in the shape of an activity.
type item struct {
	UID         string
	Title       string
	Description string
	Location    string
	URL         string
	StartsAt    time.Time
	EndsAt      time.Time
	Recurrence  *string
	Cancelled   bool
}

// feed is what a calendar file holds for us: the events to import, and the
// UIDs of events that are present but could not be imported, which must
// not be taken for removed.
type feed struct {
	Items   []item
	Skipped map[string]bool
}

var errInvalid = errors.New("invalid calendar")

const (
	maxTitle       = 200
	maxDescription = 10000
	defaultLength  = time.Hour
)

// parse reads an iCalendar file. It fails as a whole when the file is not
// a complete calendar, so a truncated download never looks like a calendar
// whose events were removed.
func parse(body []byte) (feed, error) {
	trimmed := bytes.TrimSpace(body)
	// The parser accepts a file that stops before END:VCALENDAR; we do not.
	if !bytes.HasPrefix(bytes.ToUpper(trimmed), []byte("BEGIN:VCALENDAR")) ||
		!bytes.HasSuffix(bytes.ToUpper(trimmed), []byte("END:VCALENDAR")) {
		return feed{}, fmt.Errorf("%w: not a complete VCALENDAR", errInvalid)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		return feed{}, fmt.Errorf("%w: %v", errInvalid, err)
	}
	f := feed{Skipped: map[string]bool{}}
	seen := map[string]int{}
	for _, ev := range cal.Events() {
		uid := strings.TrimSpace(propValue(&ev.ComponentBase, ics.ComponentPropertyUniqueId))
		if uid == "" {
			continue
		}
		// An overridden instance of a recurring event shares the series'
		// UID; activities have no per-instance exceptions, so the series
		// stands as its rule says.
		if ev.HasProperty(ics.ComponentPropertyRecurrenceId) {
			continue
		}
		// A private event is treated as absent, so one that turns private
		// after it was imported is withdrawn from public view.
		switch strings.ToUpper(propValue(&ev.ComponentBase, ics.ComponentPropertyClass)) {
		case "PRIVATE", "CONFIDENTIAL":
			continue
		}
		it, ok := readEvent(ev, uid)
		if !ok {
			f.Skipped[uid] = true
			continue
		}
		// A UID given twice is one event; the later entry wins.
		if i, dup := seen[uid]; dup {
			f.Items[i] = it
			continue
		}
		seen[uid] = len(f.Items)
		f.Items = append(f.Items, it)
	}
	for uid := range f.Skipped {
		if _, ok := seen[uid]; ok {
			delete(f.Skipped, uid)
		}
	}
	return f, nil
}

// readEvent turns a VEVENT into an item; ok is false when it cannot be
// imported (no title, no start).
func readEvent(ev *ics.VEvent, uid string) (item, bool) {
	cb := &ev.ComponentBase
	start, allDay, err := readTime(cb.GetProperty(ics.ComponentPropertyDtStart))
	if err != nil {
		return item{}, false
	}
	it := item{
		UID:         uid,
		Title:       clip(oneLine(propValue(cb, ics.ComponentPropertySummary)), maxTitle),
		Description: strings.TrimSpace(propValue(cb, ics.ComponentPropertyDescription)),
		Location:    oneLine(propValue(cb, ics.ComponentPropertyLocation)),
		URL:         strings.TrimSpace(propValue(cb, ics.ComponentPropertyUrl)),
		StartsAt:    start,
		Cancelled:   strings.EqualFold(propValue(cb, ics.ComponentPropertyStatus), "CANCELLED"),
	}
	if it.Title == "" {
		return item{}, false
	}
	if end, _, err := readTime(cb.GetProperty(ics.ComponentPropertyDtEnd)); err == nil && end.After(start) {
		it.EndsAt = end
	} else if d, err := parseDuration(propValue(cb, ics.ComponentPropertyDuration)); err == nil && d > 0 {
		it.EndsAt = start.Add(d)
	} else if allDay {
		it.EndsAt = start.In(tz.Copenhagen).AddDate(0, 0, 1)
	} else {
		it.EndsAt = start.Add(defaultLength)
	}
	it.StartsAt = it.StartsAt.UTC().Truncate(time.Second)
	it.EndsAt = it.EndsAt.UTC().Truncate(time.Second)
	if !it.EndsAt.After(it.StartsAt) {
		it.EndsAt = it.StartsAt.Add(defaultLength)
	}
	if it.EndsAt.Sub(it.StartsAt) > activity.LongestOccurrence {
		// Listing relies on that bound; a months-long "event" is an
		// exhibition period, shown for its first month.
		it.EndsAt = it.StartsAt.Add(activity.LongestOccurrence)
	}
	if rule := strings.TrimSpace(strings.TrimPrefix(propValue(cb, ics.ComponentPropertyRrule), "RRULE:")); rule != "" {
		// A rule our calendar cannot expand (hourly, malformed) would stop
		// occurrences being refreshed for every activity; the event is
		// imported as its first date instead.
		probe := activity.Activity{StartsAt: it.StartsAt, EndsAt: it.EndsAt, Recurrence: &rule}
		if _, err := activity.Expand(probe, it.StartsAt.Add(24*time.Hour)); err == nil && len(rule) <= 500 {
			it.Recurrence = &rule
		}
	}
	it.Description = clip(it.Description, maxDescription)
	return it, true
}

func propValue(cb *ics.ComponentBase, p ics.ComponentProperty) string {
	prop := cb.GetProperty(p)
	if prop == nil {
		return ""
	}
	return prop.Value
}

// readTime reads DTSTART or DTEND: UTC ("…Z"), local time in a TZID, or
// floating and all-day values, which are Ishøj's local time.
func readTime(prop *ics.IANAProperty) (t time.Time, allDay bool, err error) {
	if prop == nil {
		return time.Time{}, false, errors.New("missing")
	}
	v := strings.TrimSpace(prop.Value)
	loc := tz.Copenhagen
	if tzid := prop.ICalParameters[string(ics.ParameterTzid)]; len(tzid) > 0 {
		name := strings.TrimPrefix(strings.Trim(tzid[0], `"`), "/")
		// Names the Go database does not know (Windows zone names) are
		// almost always the calendar's own zone, i.e. ours.
		if l, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
			loc = l
		}
	}
	switch {
	case len(v) == 8:
		t, err = time.ParseInLocation("20060102", v, tz.Copenhagen)
		return t, true, err
	case strings.HasSuffix(v, "Z"):
		t, err = time.Parse("20060102T150405Z", v)
		return t, false, err
	default:
		t, err = time.ParseInLocation("20060102T150405", v, loc)
		return t, false, err
	}
}

// parseDuration reads an RFC 5545 duration such as PT1H30M, P1D or P2W.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	s = strings.TrimPrefix(s, "+")
	if s == "" || strings.HasPrefix(s, "-") || !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	s = s[1:]
	var d time.Duration
	inTime := false
	num := ""
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			num += string(r)
			continue
		case r == 'T':
			inTime = true
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		num = ""
		switch {
		case r == 'W' && !inTime:
			d += time.Duration(n) * 7 * 24 * time.Hour
		case r == 'D' && !inTime:
			d += time.Duration(n) * 24 * time.Hour
		case r == 'H' && inTime:
			d += time.Duration(n) * time.Hour
		case r == 'M' && inTime:
			d += time.Duration(n) * time.Minute
		case r == 'S' && inTime:
			d += time.Duration(n) * time.Second
		default:
			return 0, fmt.Errorf("invalid duration %q", s)
		}
	}
	if num != "" {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return strings.TrimSpace(string(r[:max-1])) + "…"
}
