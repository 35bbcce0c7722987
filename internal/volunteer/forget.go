package volunteer

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetPersonTx deletes, inside the transaction that deletes their
// account and after CancelUserClaims, what this package holds about a
// person: the qualifications recorded for them, the idempotency keys of
// their claims, and every claim that gives no hours (cancelled, still
// waiting, or a no-show), with the slot's counts kept true. Confirmed
// claims on slots that have started stay with the anonymous tombstone, so
// hours given keep counting without saying by whom. Where they acted for
// others (a slot made, a claim entered, a qualification recorded) the
// record stays without them.
func ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	steps := []struct{ what, query string }{
		{"qualifications", `DELETE FROM user_qualifications WHERE user_id = ?`},
		{"idempotency keys", `DELETE FROM idempotency_keys WHERE user_id = ?`},
		// CancelUserClaims left only claims on slots that have started.
		{"waitlist counts", `UPDATE volunteer_slots SET waitlisted = waitlisted - 1
			WHERE id IN (SELECT slot_id FROM slot_claims WHERE user_id = ? AND status = 'WAITLISTED')`},
		{"no-show counts", `UPDATE volunteer_slots SET taken = taken - 1
			WHERE id IN (SELECT slot_id FROM slot_claims WHERE user_id = ? AND status = 'CONFIRMED' AND attendance = 'NO_SHOW')`},
		{"claims without hours", `DELETE FROM slot_claims WHERE user_id = ?
			AND (status <> 'CONFIRMED' OR attendance = 'NO_SHOW')`},
		{"claims entered", `UPDATE slot_claims SET created_by = NULL WHERE created_by = ?`},
		{"slots made", `UPDATE volunteer_slots SET created_by = NULL WHERE created_by = ?`},
		{"qualifications recorded", `UPDATE user_qualifications SET recorded_by = NULL WHERE recorded_by = ?`},
	}
	for _, st := range steps {
		if _, err := store.Exec(ctx, tx, st.query, userID); err != nil {
			return fmt.Errorf("forget %s of user %d: %w", st.what, userID, err)
		}
	}
	return nil
}

// ForgetQualificationsTx deletes, inside tx, the qualifications recorded
// for a person whose record is being erased while their claims stay (a
// resident without the app, after user.WithoutAppRetention): nobody can
// be matched to the record any more.
func ForgetQualificationsTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM user_qualifications WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("forget qualifications of user %d: %w", userID, err)
	}
	return nil
}
