package activity

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetCreatorTx keeps the activities a person made, which belong to
// their organisation, without naming them, inside the transaction that
// deletes their account.
func ForgetCreatorTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `UPDATE activities SET created_by = NULL WHERE created_by = ?`, userID); err != nil {
		return fmt.Errorf("forget activities made by %d: %w", userID, err)
	}
	return nil
}
