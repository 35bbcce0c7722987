package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/ishoj/voresishoj/internal/store"
)

// ReminderArgs is the periodic River job that creates shift reminders.
type ReminderArgs struct{}

// Kind is River's name for the job.
func (ReminderArgs) Kind() string { return "notify_reminders" }

type reminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	s *Service
}

func (w *reminderWorker) Work(ctx context.Context, _ *river.Job[ReminderArgs]) error {
	_, err := w.s.CreateReminders(ctx)
	return err
}

// The reminder windows. A shift claimed less than three hours ahead gets
// only the 2-hour reminder rather than two pushes minutes apart.
var reminderWindows = []struct {
	kind     Kind
	key      string
	from, to time.Duration
}{
	{KindReminder24h, "24H", 3 * time.Hour, 24 * time.Hour},
	{KindReminder2h, "2H", 0, 2 * time.Hour},
}

// CreateReminders creates the 24-hour and 2-hour reminders due now for
// confirmed claims, each once per claim (reminders_sent), and returns how
// many it created. The periodic job calls it every few minutes.
func (s *Service) CreateReminders(ctx context.Context) (int, error) {
	total := 0
	for _, w := range reminderWindows {
		now := s.now()
		var due []claimInfo
		err := store.Select(ctx, s.db, &due, `
			SELECT c.id AS claim_id, c.user_id, u.display_name AS volunteer, vs.id AS slot_id, vs.title AS slot,
				vs.starts_at, a.id AS activity_id, a.title AS activity, a.organisation_id
			FROM slot_claims c
			JOIN users u ON u.id = c.user_id
			JOIN volunteer_slots vs ON vs.id = c.slot_id
			JOIN activities a ON a.id = vs.activity_id
			WHERE c.status = 'CONFIRMED' AND a.status = 'PUBLISHED'
				AND vs.starts_at > ? AND vs.starts_at <= ?
				AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.claim_id = c.id AND r.kind = ?)
			ORDER BY vs.starts_at, c.id`, now.Add(w.from), now.Add(w.to), w.key)
		if err != nil {
			return total, fmt.Errorf("due %s reminders: %w", w.key, err)
		}
		for start := 0; start < len(due); start += 500 {
			chunk := due[start:min(start+500, len(due))]
			n, err := s.remind(ctx, w.kind, w.key, chunk, now)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (s *Service) remind(ctx context.Context, kind Kind, key string, claims []claimInfo, now time.Time) (int, error) {
	var created int
	err := s.transact(ctx, func(tx *sqlx.Tx, add func([]NewNotification) error) error {
		created = 0
		var ns []NewNotification
		for _, c := range claims {
			// The row is the "once": a second leader or a retried job finds
			// it and creates nothing.
			n, err := store.Exec(ctx, tx, `INSERT INTO reminders_sent (claim_id, kind, created_at) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, c.ClaimID, key, now)
			if err != nil {
				return fmt.Errorf("record %s reminder for claim %d: %w", key, c.ClaimID, err)
			}
			if n == 0 {
				continue
			}
			ns = append(ns, NewNotification{
				UserID: c.UserID, Kind: kind,
				Params:     map[string]any{"Activity": c.Activity, "Slot": c.Slot, "Time": c.StartsAt.Time},
				ActivityID: c.ActivityID, SlotID: c.SlotID, ClaimID: c.ClaimID,
				// The 2-hour reminder must arrive before the shift, so it
				// breaks quiet hours; the 24-hour one can wait for morning.
				Urgent:    kind == KindReminder2h,
				ExpiresAt: c.StartsAt.Time,
			})
		}
		created = len(ns)
		return add(ns)
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}
