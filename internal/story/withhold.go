package story

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/store"
)

// WithholdAuthorTx takes a person's stories out of everyone else's sight,
// inside the transaction that restricts them as a child under 13 without
// a guardian's consent. Published, waiting and sent-back stories (and
// those hidden by reports) become HIDDEN, remembering the status they had
// (withheld_status): off the feed, search and phones, their photos behind
// signed URLs, out of the review queue, and not to be published by anyone
// until RestoreAuthorTx. Nothing is deleted: the author still sees them.
func WithholdAuthorTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error {
	var ids []int64
	err := store.Select(ctx, tx, &ids, `SELECT id FROM stories WHERE author_id = ? AND withheld_status IS NULL
		AND status IN ('PUBLISHED', 'PENDING_REVIEW', 'CHANGES_REQUESTED', 'HIDDEN') ORDER BY id`, userID)
	if err != nil {
		return fmt.Errorf("stories of %d to withhold: %w", userID, err)
	}
	for _, id := range ids {
		var was Status
		if err := store.Get(ctx, tx, &was, `SELECT status FROM stories WHERE id = ?`, id); err != nil {
			return fmt.Errorf("story %d: %w", id, err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET withheld_status = status, status = ?, updated_at = ? WHERE id = ?`,
			Hidden, now, id); err != nil {
			return fmt.Errorf("withhold story %d: %w", id, err)
		}
		// Phones hold published stories only: this one leaves them.
		if was == Published {
			if err := changelog.Record(ctx, tx, now, changelog.Story, id); err != nil {
				return err
			}
		}
		if err := logModeration(ctx, tx, id, nil, "WITHHOLD", "guardian consent required", now); err != nil {
			return err
		}
	}
	return nil
}

// RestoreAuthorTx gives a person's withheld stories back the status they
// had, inside the transaction that records their guardian's consent.
func RestoreAuthorTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error {
	var withheld []struct {
		ID  int64  `db:"id"`
		Was Status `db:"withheld_status"`
	}
	err := store.Select(ctx, tx, &withheld, `SELECT id, withheld_status FROM stories
		WHERE author_id = ? AND withheld_status IS NOT NULL ORDER BY id`, userID)
	if err != nil {
		return fmt.Errorf("withheld stories of %d: %w", userID, err)
	}
	for _, st := range withheld {
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET status = withheld_status, withheld_status = NULL, updated_at = ? WHERE id = ?`,
			now, st.ID); err != nil {
			return fmt.Errorf("restore story %d: %w", st.ID, err)
		}
		if st.Was == Published {
			if err := changelog.Record(ctx, tx, now, changelog.Story, st.ID); err != nil {
				return err
			}
		}
		if err := logModeration(ctx, tx, st.ID, nil, "RESTORE_WITHHELD", "guardian consent recorded", now); err != nil {
			return err
		}
	}
	return nil
}
