package participation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
)

// What guests and organisers are told is written in the transaction of
// the change that causes it (Notifier, the outbox): a promotion that
// commits always reaches its person, one rolled back never does.

// urgentWithin: news of something starting sooner than this may break
// quiet hours, as for volunteer shifts.
const urgentWithin = 12 * time.Hour

// tellPromoted tells each promoted party's person that they have seats;
// the person whose own change promoted them (actor) sees it in the
// answer.
func (s *Service) tellPromoted(ctx context.Context, tx *sqlx.Tx, a activityInfo, occ Occurrence, chosen []seat.Waiting,
	actor int64, now time.Time) error {
	if s.notify == nil || len(chosen) == 0 {
		return nil
	}
	ns := make([]notify.NewNotification, 0, len(chosen))
	for _, w := range chosen {
		if w.UserID == actor {
			continue
		}
		ns = append(ns, notify.NewNotification{
			UserID: w.UserID, Kind: notify.KindSeatPromoted,
			Params:     map[string]any{"Activity": a.Title, "Time": occ.StartsAt, "Guests": w.Size - 1},
			ActivityID: a.ID, ParticipationID: w.ID,
			Urgent:    occ.StartsAt.Sub(now) < urgentWithin,
			ExpiresAt: occ.StartsAt,
		})
	}
	if err := s.notify.Notify(ctx, tx, ns...); err != nil {
		return fmt.Errorf("tell promoted guests of activity %d: %w", a.ID, err)
	}
	return nil
}

// fillingLevels are the shares of the seats at which organisers are told,
// highest first.
var fillingLevels = []struct {
	percent int
	kind    notify.Kind
}{{100, notify.KindActivityFull}, {80, notify.KindActivityFilling}}

// tellFilling tells the activity's organisers when the sign-up that just
// happened took the occurrence from goingBefore to or past 80 % or 100 %
// of its seats, once per occurrence and level (participation_alerts): a
// party that cancels and signs up again at the mark does not tell them
// twice. When one sign-up passes both, only 100 % is told.
func (s *Service) tellFilling(ctx context.Context, tx *sqlx.Tx, a activityInfo, st Settings, occ Occurrence,
	goingBefore int, actor int64, now time.Time) error {
	if s.notify == nil || !st.Limited() || !st.NotifyFilling {
		return nil
	}
	going, err := seatsGoing(ctx, tx, occ)
	if err != nil {
		return err
	}
	seats := *st.Seats
	told := false
	for _, l := range fillingLevels {
		mark := (seats*l.percent + 99) / 100 // the first head count at or past the share
		if goingBefore >= mark || going < mark {
			continue
		}
		n, err := store.Exec(ctx, tx, `INSERT INTO participation_alerts (activity_id, occurrence_starts_at, level, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (activity_id, occurrence_starts_at, level) DO NOTHING`, occ.ActivityID, occ.StartsAt, l.percent, now)
		if err != nil {
			return fmt.Errorf("record %d %% of activity %d: %w", l.percent, occ.ActivityID, err)
		}
		if n == 0 || told {
			continue
		}
		told = true
		var organisers []int64
		err = store.Select(ctx, tx, &organisers, `SELECT user_id FROM organisers WHERE organisation_id = ? ORDER BY user_id`, a.OrganisationID)
		if err != nil {
			return fmt.Errorf("organisers of %d: %w", a.OrganisationID, err)
		}
		ns := make([]notify.NewNotification, 0, len(organisers))
		for _, u := range organisers {
			if u == actor {
				continue
			}
			ns = append(ns, notify.NewNotification{UserID: u, Kind: l.kind,
				Params:     map[string]any{"Activity": a.Title, "Time": occ.StartsAt, "Going": going, "Seats": seats},
				ActivityID: a.ID, ExpiresAt: occ.StartsAt})
		}
		if err := s.notify.Notify(ctx, tx, ns...); err != nil {
			return fmt.Errorf("tell organisers of activity %d: %w", a.ID, err)
		}
	}
	return nil
}

// CancelActivityTx cancels every live participation in occurrences of
// the activity that have not started, inside the transaction that
// cancels the activity (activity.Service's participation hook). The
// events name each person whose sign-up went, so the cancellation's
// notification reaches them although the database no longer links them
// to it.
func (s *Service) CancelActivityTx(ctx context.Context, tx *sqlx.Tx, activityID int64, now time.Time) ([]event.Event, error) {
	now = now.UTC()
	if _, err := s.lockActivity(ctx, tx, activityID, now); err != nil {
		return nil, err
	}
	var org int64
	if err := store.Get(ctx, tx, &org, `SELECT organisation_id FROM activities WHERE id = ?`, activityID); err != nil {
		return nil, fmt.Errorf("activity %d: %w", activityID, err)
	}
	var people []int64
	err := store.Select(ctx, tx, &people, `SELECT DISTINCT user_id FROM participations
		WHERE activity_id = ? AND occurrence_starts_at > ? AND status <> 'CANCELLED' ORDER BY user_id`, activityID, now)
	if err != nil {
		return nil, fmt.Errorf("guests of activity %d: %w", activityID, err)
	}
	if len(people) == 0 {
		return nil, nil
	}
	_, err = store.Exec(ctx, tx, `UPDATE participations SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?
		WHERE activity_id = ? AND occurrence_starts_at > ? AND status <> 'CANCELLED'`, now, now, activityID, now)
	if err != nil {
		return nil, fmt.Errorf("cancel guests of activity %d: %w", activityID, err)
	}
	events := make([]event.Event, 0, len(people))
	for _, u := range people {
		events = append(events, event.Event{Kind: event.ParticipationChanged, ActivityID: activityID, OrganisationID: org, UserID: u})
	}
	return events, nil
}

// MoveActivityTx moves the sign-ups of occurrences that have not started
// by offset, inside the transaction that moved the activity (its
// participation hook): the guests keep their seats at the same
// occurrence at its new time, and are told by the activity's change.
// Dates are moved one at a time, the latest first when moving later and
// the earliest first when moving earlier, so a sign-up never lands on a
// date another still holds (a weekly activity moved by a week).
func (s *Service) MoveActivityTx(ctx context.Context, tx *sqlx.Tx, activityID int64, offset time.Duration, now time.Time) ([]event.Event, error) {
	now = now.UTC()
	if offset == 0 {
		return nil, nil
	}
	if _, err := s.lockActivity(ctx, tx, activityID, now); err != nil {
		return nil, err
	}
	// The reminders of the dates that move were about the old times.
	_, err := store.Exec(ctx, tx, `DELETE FROM participation_reminders WHERE participation_id IN
		(SELECT id FROM participations WHERE activity_id = ? AND occurrence_starts_at > ?)`, activityID, now)
	if err != nil {
		return nil, fmt.Errorf("forget reminders of activity %d: %w", activityID, err)
	}
	moves := []struct{ what, dates, move string }{
		{"sign-ups", `SELECT DISTINCT occurrence_starts_at FROM participations
			WHERE activity_id = ? AND occurrence_starts_at > ? ORDER BY occurrence_starts_at`,
			`UPDATE participations SET occurrence_starts_at = ? WHERE activity_id = ? AND occurrence_starts_at = ?`},
		{"alerts", `SELECT DISTINCT occurrence_starts_at FROM participation_alerts
			WHERE activity_id = ? AND occurrence_starts_at > ? ORDER BY occurrence_starts_at`,
			`UPDATE participation_alerts SET occurrence_starts_at = ? WHERE activity_id = ? AND occurrence_starts_at = ?`},
	}
	for _, m := range moves {
		var starts []store.Time
		if err := store.Select(ctx, tx, &starts, m.dates, activityID, now); err != nil {
			return nil, fmt.Errorf("dates of %s of activity %d: %w", m.what, activityID, err)
		}
		if offset > 0 {
			slices.Reverse(starts)
		}
		for _, t := range starts {
			if _, err := store.Exec(ctx, tx, m.move, t.Add(offset).UTC(), activityID, t.UTC()); err != nil {
				return nil, fmt.Errorf("move %s of activity %d from %s: %w", m.what, activityID, t.Time, err)
			}
		}
	}
	return nil, nil
}

// The reminder windows before an occurrence, as for shifts: a party that
// signs up less than three hours ahead gets only the 2-hour reminder.
var reminderWindows = []struct {
	kind     notify.Kind
	key      string
	from, to time.Duration
}{
	{notify.KindGuestReminder24h, "24H", 3 * time.Hour, 24 * time.Hour},
	{notify.KindGuestReminder2h, "2H", 0, 2 * time.Hour},
}

// CreateReminders tells every GOING party of a published activity 24
// hours and 2 hours before its occurrence, each once
// (participation_reminders), and returns how many it told. The push
// carries participationId, so the app can offer to give the seats back
// in one tap (cancelParticipation). The server runs it every few minutes
// as a housekeeping task; a run repeated after a crash tells no one
// twice.
func (s *Service) CreateReminders(ctx context.Context) (int, error) {
	if s.notify == nil {
		return 0, nil
	}
	total := 0
	for _, w := range reminderWindows {
		now := s.clock()
		var due []struct {
			ID         int64      `db:"id"`
			UserID     int64      `db:"user_id"`
			PartySize  int        `db:"party_size"`
			StartsAt   store.Time `db:"occurrence_starts_at"`
			ActivityID int64      `db:"activity_id"`
			Title      string     `db:"title"`
		}
		err := store.Select(ctx, s.db, &due, `SELECT p.id, p.user_id, p.party_size, p.occurrence_starts_at, a.id AS activity_id, a.title
			FROM participations p JOIN activities a ON a.id = p.activity_id
			WHERE p.status = 'GOING' AND a.status = 'PUBLISHED'
				AND p.occurrence_starts_at > ? AND p.occurrence_starts_at <= ?
				AND NOT EXISTS (SELECT 1 FROM participation_reminders r WHERE r.participation_id = p.id AND r.kind = ?)
			ORDER BY p.occurrence_starts_at, p.id LIMIT 500`, now.Add(w.from), now.Add(w.to), w.key)
		if err != nil {
			return total, fmt.Errorf("due %s guest reminders: %w", w.key, err)
		}
		if len(due) == 0 {
			continue
		}
		var told int
		err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
			told = 0
			var ns []notify.NewNotification
			for _, d := range due {
				// The row is the "once": a second run finds it.
				n, err := store.Exec(ctx, tx, `INSERT INTO participation_reminders (participation_id, kind, created_at)
					VALUES (?, ?, ?) ON CONFLICT (participation_id, kind) DO NOTHING`, d.ID, w.key, now)
				if err != nil {
					return fmt.Errorf("record %s reminder of participation %d: %w", w.key, d.ID, err)
				}
				if n == 0 {
					continue
				}
				ns = append(ns, notify.NewNotification{UserID: d.UserID, Kind: w.kind,
					Params:     map[string]any{"Activity": d.Title, "Time": d.StartsAt.Time, "Guests": d.PartySize - 1},
					ActivityID: d.ActivityID, ParticipationID: d.ID,
					// The 2-hour reminder must arrive before the doors open.
					Urgent: w.kind == notify.KindGuestReminder2h, ExpiresAt: d.StartsAt.Time})
			}
			told = len(ns)
			return s.notify.Notify(ctx, tx, ns...)
		})
		if err != nil {
			return total, fmt.Errorf("guest reminders: %w", err)
		}
		total += told
	}
	return total, nil
}

// CancelPersonTx cancels a person's live sign-ups to occurrences that
// have not started, inside the transaction of the caller (a child under
// 13 whose guardian's consent is missing or withdrawn must not stand on a
// guest list). Freed seats go to the waitlists at once, as when the
// person cancels; past sign-ups stay as they were. It returns the events
// to publish once that transaction has committed.
func (s *Service) CancelPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) ([]event.Event, error) {
	now = now.UTC()
	var held []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"occurrence_starts_at"`
	}
	err := store.Select(ctx, tx, &held, `SELECT DISTINCT activity_id, occurrence_starts_at FROM participations
		WHERE user_id = ? AND status <> 'CANCELLED' AND occurrence_starts_at > ? ORDER BY activity_id, occurrence_starts_at`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("sign-ups of user %d: %w", userID, err)
	}
	var events []event.Event
	for _, h := range held {
		st, err := s.lockActivity(ctx, tx, h.ActivityID, now)
		if err != nil {
			return nil, err
		}
		var a activityInfo
		if err := store.Get(ctx, tx, &a, `SELECT id, title, organisation_id, status FROM activities WHERE id = ?`, h.ActivityID); err != nil {
			return nil, fmt.Errorf("activity %d: %w", h.ActivityID, err)
		}
		_, err = store.Exec(ctx, tx, `UPDATE participations SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?
			WHERE user_id = ? AND activity_id = ? AND occurrence_starts_at = ? AND status <> 'CANCELLED'`,
			now, now, userID, h.ActivityID, h.StartsAt.Time)
		if err != nil {
			return nil, fmt.Errorf("cancel sign-up of user %d to activity %d: %w", userID, h.ActivityID, err)
		}
		if err := s.promote(ctx, tx, a, st, Occurrence{ActivityID: h.ActivityID, StartsAt: h.StartsAt.Time}, userID, now); err != nil {
			return nil, err
		}
		events = append(events, event.Event{Kind: event.ParticipationChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID, UserID: userID})
	}
	return events, nil
}
