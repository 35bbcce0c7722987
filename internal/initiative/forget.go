package initiative

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetPersonTx deals with a person's initiatives inside the transaction
// that deletes their account, as their stories are dealt with: with
// keepContent false their proposals that never became an organisation
// (open or closed) go; with it true they stay without the proposer, and
// an open one is closed, since nobody is left to carry it. Proposals that
// became or joined an organisation stay, without the proposer. Their
// "count me in"s and reports go.
func ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64, keepContent bool, now time.Time) error {
	var steps []struct {
		what, query string
		args        []any
	}
	add := func(what, query string, args ...any) {
		steps = append(steps, struct {
			what, query string
			args        []any
		}{what, query, args})
	}
	if !keepContent {
		// The covers of the proposals that go go with them.
		var covers []string
		if err := store.Select(ctx, tx, &covers, `SELECT cover_key FROM initiatives
			WHERE proposer_id = ? AND status IN ('PROPOSED', 'CLOSED') AND cover_key IS NOT NULL`, userID); err != nil {
			return fmt.Errorf("covers of the proposals of user %d: %w", userID, err)
		}
		if err := media.DiscardTx(ctx, tx, now, covers...); err != nil {
			return err
		}
		add("proposals", `DELETE FROM initiatives WHERE proposer_id = ? AND status IN ('PROPOSED', 'CLOSED')`, userID)
	}
	add("open proposals", `UPDATE initiatives SET status = 'CLOSED', close_reason = 'PROPOSER', closed_at = ?, updated_at = ?
		WHERE proposer_id = ? AND status = 'PROPOSED'`, now, now, userID)
	add("proposer", `UPDATE initiatives SET proposer_id = NULL WHERE proposer_id = ?`, userID)
	add("memberships", `DELETE FROM initiative_members WHERE user_id = ?`, userID)
	add("reports", `DELETE FROM initiative_reports WHERE user_id = ?`, userID)
	for _, st := range steps {
		if _, err := store.Exec(ctx, tx, st.query, st.args...); err != nil {
			return fmt.Errorf("forget %s of user %d: %w", st.what, userID, err)
		}
	}
	return nil
}
