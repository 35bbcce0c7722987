package calimport

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetCreatorTx keeps the calendar sources a person added, which belong
// to their organisation, without naming them, inside the transaction that
// deletes their account.
func ForgetCreatorTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `UPDATE calendar_sources SET created_by = NULL WHERE created_by = ?`, userID); err != nil {
		return fmt.Errorf("forget calendar sources added by %d: %w", userID, err)
	}
	return nil
}
