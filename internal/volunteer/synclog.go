package volunteer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
)

// logChanges notes inside tx, for the app's delta sync
// (internal/changelog), the slots and claims the events of a change name,
// and stamps their updated_at with now. Every change here already
// describes itself as events for the outbox, so the events are the one
// list of what changed. A slot's waitlisted claims come along: their
// positions move with any change of it. A claim goes to its volunteer's
// phone only.
func logChanges(ctx context.Context, tx *sqlx.Tx, now time.Time, events []event.Event) error {
	var slots []int64
	owners := map[int64]int64{} // claim id -> volunteer
	for _, e := range events {
		if e.SlotID != 0 {
			slots = append(slots, e.SlotID)
		}
		if e.ClaimID != 0 && e.Kind != event.SlotRemoved {
			owners[e.ClaimID] = e.UserID
		}
	}
	slices.Sort(slots)
	for _, id := range slices.Compact(slots) {
		if _, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET updated_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("stamp slot %d: %w", id, err)
		}
		// A draft's slots are no phone's business, as the draft is not
		// (a log row would tell everyone it exists); publishing the draft
		// logs them (changelog.Record).
		var status []string
		if err := store.Select(ctx, tx, &status, `SELECT a.status FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
			WHERE s.id = ?`, id); err != nil {
			return fmt.Errorf("activity status of slot %d: %w", id, err)
		}
		if len(status) == 0 || status[0] != "DRAFT" {
			if err := changelog.Record(ctx, tx, now, changelog.Slot, id); err != nil {
				return err
			}
		}
		var waiting []struct {
			ID     int64 `db:"id"`
			UserID int64 `db:"user_id"`
		}
		if err := store.Select(ctx, tx, &waiting, `SELECT id, user_id FROM slot_claims WHERE slot_id = ? AND status = 'WAITLISTED'`, id); err != nil {
			return fmt.Errorf("waitlist of slot %d: %w", id, err)
		}
		for _, w := range waiting {
			owners[w.ID] = w.UserID
		}
	}
	claims := make([]int64, 0, len(owners))
	for id := range owners {
		claims = append(claims, id)
	}
	slices.Sort(claims)
	for _, id := range claims {
		// A claim deleted with its slot is gone: the event still names
		// its volunteer, whose phone drops it.
		if _, err := store.Exec(ctx, tx, `UPDATE slot_claims SET updated_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("stamp claim %d: %w", id, err)
		}
		if owners[id] == 0 {
			continue
		}
		if err := changelog.RecordFor(ctx, tx, now, changelog.Claim, owners[id], id); err != nil {
			return err
		}
	}
	return nil
}
