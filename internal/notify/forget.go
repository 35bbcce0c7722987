package notify

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetPersonTx removes, inside the transaction that deletes an account,
// everything this package holds about the person: their devices (so no
// push reaches the phone again, including one already queued: a delivery
// job finds no row and sends nothing), follows, preferences, inbox and the
// deliveries with their copies of the device tokens. Announcements they
// sent stay for their recipients, without the sender.
func ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	steps := []struct{ what, query string }{
		{"deliveries", `DELETE FROM deliveries WHERE notification_id IN (SELECT id FROM notifications WHERE user_id = ?)
			OR device_id IN (SELECT id FROM devices WHERE user_id = ?)`},
		{"inbox", `DELETE FROM notifications WHERE user_id = ?`},
		{"devices", `DELETE FROM devices WHERE user_id = ?`},
		{"follows", `DELETE FROM follows WHERE user_id = ?`},
		{"preferences", `DELETE FROM notification_preferences WHERE user_id = ?`},
		{"announcement sender", `UPDATE announcements SET sender_id = NULL WHERE sender_id = ?`},
	}
	for _, st := range steps {
		args := []any{userID}
		if st.what == "deliveries" {
			args = append(args, userID)
		}
		if _, err := store.Exec(ctx, tx, st.query, args...); err != nil {
			return fmt.Errorf("forget %s of user %d: %w", st.what, userID, err)
		}
	}
	return nil
}
