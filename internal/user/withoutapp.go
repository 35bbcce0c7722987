package user

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// WithoutAppRetention is how long the name and phone of a resident
// without the app (signed up by an organiser, WithoutAppTx) are kept after
// the last shift or occurrence they were signed up for ended: long enough
// for the organiser to ring about a lost umbrella or mark attendance late,
// short enough that a one-off guest is not kept on file. Their claims and
// participations stay with the anonymous tombstone, so hours and
// headcounts still count.
const WithoutAppRetention = 14 * 24 * time.Hour

// idleWithoutApp is the condition on users row u: a resident without the
// app whose every sign-up ended before the first parameter and whose row
// was last touched (made, or signed up again) before the second.
const idleWithoutApp = `u.has_app = FALSE AND u.firebase_uid IS NULL AND u.email IS NULL AND u.deleted_at IS NULL
	AND NOT EXISTS (SELECT 1 FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id = u.id AND s.ends_at >= ?)
	AND NOT EXISTS (SELECT 1 FROM participations p
		LEFT JOIN occurrences o ON o.activity_id = p.activity_id AND o.starts_at = p.occurrence_starts_at
		WHERE p.user_id = u.id AND COALESCE(o.ends_at, p.occurrence_starts_at) >= ?)
	AND u.updated_at < ?`

// IdleWithoutApp returns up to limit residents without the app whose
// sign-ups all ended before before (see WithoutAppRetention).
func IdleWithoutApp(ctx context.Context, q store.Querier, before time.Time, limit int) ([]int64, error) {
	before = before.UTC()
	var ids []int64
	err := store.Select(ctx, q, &ids, `SELECT u.id FROM users u WHERE `+idleWithoutApp+` ORDER BY u.id LIMIT ?`,
		before, before, before, limit)
	if err != nil {
		return nil, fmt.Errorf("residents without the app to forget: %w", err)
	}
	return ids, nil
}

// EraseWithoutAppTx erases the resident without the app userID, as
// EraseTx does, if they are still idle since before once their row is
// locked: an organiser signing them up at this moment (WithoutAppTx)
// either finishes first, and they are kept, or finds them gone. It
// reports whether it erased them. Their qualifications, which belong to
// the volunteer package, are the caller's to remove in the same tx.
func EraseWithoutAppTx(ctx context.Context, db *store.DB, tx *sqlx.Tx, userID int64, before, now time.Time) (bool, error) {
	if err := db.LockRows(ctx, tx, `SELECT id FROM users WHERE id = ?`, userID); err != nil {
		return false, fmt.Errorf("lock resident without the app %d: %w", userID, err)
	}
	before = before.UTC()
	var n int
	if err := store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM users u WHERE u.id = ? AND `+idleWithoutApp,
		userID, before, before, before); err != nil {
		return false, fmt.Errorf("check resident without the app %d: %w", userID, err)
	}
	if n == 0 {
		return false, nil
	}
	if err := EraseTx(ctx, tx, userID, now); err != nil {
		return false, err
	}
	return true, nil
}
