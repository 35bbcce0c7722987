package activity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/teambition/rrule-go"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
)

const (
	// Horizon is how far ahead recurring activities are expanded; a daily
	// refresh moves it along.
	Horizon = 400 * 24 * time.Hour
	// maxOccurrences bounds one activity's expansion, e.g. a daily rule.
	maxOccurrences = 800
)

var errBadRule = errors.New("invalid recurrence rule")

// parseRule reads an RRULE for an activity starting at start. The rule is
// evaluated in tz.Copenhagen local time, so 10:00 stays 10:00 across daylight
// saving changes.
func parseRule(rule string, start time.Time) (*rrule.RRule, error) {
	rule = strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:")
	if rule == "" || strings.ContainsAny(rule, "\r\n") || strings.Contains(strings.ToUpper(rule), "DTSTART") {
		return nil, errBadRule
	}
	opt, err := rrule.StrToROptionInLocation(rule, tz.Copenhagen)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRule, err)
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		// More often than daily is not an activity people come to.
		return nil, fmt.Errorf("%w: frequency %s", errBadRule, opt.Freq)
	}
	opt.Dtstart = start.In(tz.Copenhagen)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRule, err)
	}
	return r, nil
}

// Expand returns the occurrences of a that start before until. The first
// occurrence is always the activity's own start, as RFC 5545 has it.
func Expand(a Activity, until time.Time) ([]Occurrence, error) {
	first := Occurrence{ActivityID: a.ID, StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC()}
	if a.Recurrence == nil || *a.Recurrence == "" {
		return []Occurrence{first}, nil
	}
	r, err := parseRule(*a.Recurrence, a.StartsAt)
	if err != nil {
		return nil, err
	}
	d := a.Duration()
	out := []Occurrence{first}
	next := r.Iterator()
	for len(out) < maxOccurrences {
		t, ok := next()
		if !ok || !t.Before(until) {
			break
		}
		t = t.UTC()
		if !t.After(first.StartsAt) {
			continue
		}
		out = append(out, Occurrence{ActivityID: a.ID, StartsAt: t, EndsAt: t.Add(d)})
	}
	return out, nil
}

// materialise rewrites the stored occurrences of a, inside tx. Past
// occurrences are kept as they were so history does not move when a rule
// changes; from now on the rule decides.
func materialise(ctx context.Context, tx *sqlx.Tx, a Activity, now time.Time) error {
	occ, err := Expand(a, now.Add(Horizon))
	if err != nil {
		return fmt.Errorf("expand activity %d: %w", a.ID, err)
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM occurrences WHERE activity_id = ? AND ends_at > ?`, a.ID, now); err != nil {
		return fmt.Errorf("clear occurrences of %d: %w", a.ID, err)
	}
	for _, o := range occ {
		if !o.EndsAt.After(now) {
			continue
		}
		_, err := store.Exec(ctx, tx, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)
			ON CONFLICT (activity_id, starts_at) DO NOTHING`, a.ID, o.StartsAt, o.EndsAt)
		if err != nil {
			return fmt.Errorf("insert occurrence of %d: %w", a.ID, err)
		}
	}
	return nil
}

// RefreshOccurrences expands every activity that has no occurrences yet
// (new demo data, imports) and moves the horizon of recurring ones along.
// It runs at start-up and daily.
func (s *Service) RefreshOccurrences(ctx context.Context) (int, error) {
	now := s.now()
	var ids []int64
	err := store.Select(ctx, s.db, &ids, `SELECT a.id FROM activities a
		WHERE a.status <> 'CANCELLED'
		AND (a.recurrence IS NOT NULL OR NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = a.id))
		ORDER BY a.id`)
	if err != nil {
		return 0, fmt.Errorf("activities to expand: %w", err)
	}
	for _, id := range ids {
		err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
			a, err := activityByID(ctx, tx, id)
			if err != nil {
				return err
			}
			if a.Recurrence == nil {
				// A one-off is stored even when past, so it can be listed in
				// a window that reaches back.
				_, err := store.Exec(ctx, tx, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)
					ON CONFLICT (activity_id, starts_at) DO NOTHING`, a.ID, a.StartsAt, a.EndsAt)
				return err
			}
			return materialise(ctx, tx, a, now)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
