package volunteer

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetPersonTx deletes, inside the transaction that deletes their
// account, the qualifications recorded for a person and the idempotency
// keys of their claims. Their claims stay (cancelled by
// CancelUserClaims) so that hours given keep counting.
func ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM user_qualifications WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete qualifications of %d: %w", userID, err)
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM idempotency_keys WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete idempotency keys of %d: %w", userID, err)
	}
	return nil
}
