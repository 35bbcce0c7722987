package demo

import (
	"fmt"
	"time"

	"github.com/teambition/rrule-go"
)

// calendar places demo times in Copenhagen wall-clock time relative to
// now, so "Saturday 10:00" stays 10:00 whichever side of a daylight
// saving change it falls on.
type calendar struct {
	now time.Time
	loc *time.Location
}

func (c calendar) today() time.Time {
	l := c.now.In(c.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, c.loc)
}

// clock returns hh:mm local on the given day.
func clock(day time.Time, hh, mm int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, day.Location())
}

// next returns the first wd at least minDays after today, at hh:mm local.
// With minDays ≥ 1 the result is always in the future.
func (c calendar) next(wd time.Weekday, minDays, hh, mm int) time.Time {
	d := c.today().AddDate(0, 0, minDays)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, 1)
	}
	// Nobody in Ishøj holds a debate evening on Christmas Eve.
	for holiday(d) {
		d = d.AddDate(0, 0, 7)
	}
	return clock(d, hh, mm).UTC()
}

// holiday reports whether d falls in the Christmas and New Year days,
// when one-off demo activities would look odd.
func holiday(d time.Time) bool {
	return (d.Month() == time.December && d.Day() >= 24) || (d.Month() == time.January && d.Day() == 1)
}

// ago returns hh:mm local on the wd that is at least days before today.
func (c calendar) ago(wd time.Weekday, days, hh, mm int) time.Time {
	d := c.today().AddDate(0, 0, -days)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, -1)
	}
	return clock(d, hh, mm).UTC()
}

// lastDate returns the most recent month/day before today, at hh:mm local:
// this year's when it has passed, otherwise last year's.
func (c calendar) lastDate(month time.Month, day, hh, mm int) time.Time {
	t := c.today()
	d := time.Date(t.Year(), month, day, hh, mm, 0, 0, c.loc)
	if !d.Before(t) {
		d = d.AddDate(-1, 0, 0)
	}
	return d.UTC()
}

// occurrences returns the first n starts of rule at hh:mm local that begin
// after now. The first is what the activity stores as starts_at; the rest
// are computed the way the activity package expands them, from that start,
// so a slot's occurrence_starts_at always names a real occurrence.
func (c calendar) occurrences(rule string, hh, mm, n int) ([]time.Time, error) {
	opt, err := rrule.StrToROptionInLocation(rule, c.loc)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", rule, err)
	}
	opt.Dtstart = clock(c.today(), hh, mm)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", rule, err)
	}
	first := r.After(c.now, false)
	if first.IsZero() {
		return nil, fmt.Errorf("rule %q has no occurrence after %s", rule, c.now)
	}
	opt.Dtstart = first
	r, err = rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", rule, err)
	}
	out := []time.Time{first.UTC()}
	next := r.Iterator()
	for len(out) < n {
		t, ok := next()
		if !ok {
			break
		}
		if t.After(first) {
			out = append(out, t.UTC())
		}
	}
	return out, nil
}
