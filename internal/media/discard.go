package media

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// DiscardTx records, inside the transaction that deletes the rows naming
// them, that the blobs at keys must go. The blob store is not part of the
// transaction, so the record is what makes the removal certain: Sweep
// removes the blobs and the records, right after the commit and again in
// the housekeeping should the store have failed.
func DiscardTx(ctx context.Context, tx *sqlx.Tx, now time.Time, keys ...string) error {
	for _, k := range keys {
		if _, err := store.Exec(ctx, tx, `INSERT INTO media_deletions (key, created_at) VALUES (?, ?)
			ON CONFLICT (key) DO NOTHING`, k, now); err != nil {
			return fmt.Errorf("discard blob %s: %w", k, err)
		}
	}
	return nil
}

// Sweep removes the blobs DiscardTx recorded from s, with their cached
// variants, and then their records, at most limit of them; it returns how many went. A blob the
// store cannot remove now stays recorded for the next sweep.
func Sweep(ctx context.Context, db *store.DB, s Store, limit int) (int, error) {
	var keys []string
	if err := store.Select(ctx, db, &keys, `SELECT key FROM media_deletions ORDER BY created_at, key LIMIT ?`, limit); err != nil {
		return 0, fmt.Errorf("blobs to remove: %w", err)
	}
	n := 0
	for _, k := range keys {
		// The source first, then its variants: a variant being made
		// right now checks for its source after storing itself (see
		// variants.make), so none outlives the sweep.
		if err := s.Delete(ctx, k); err != nil {
			slog.ErrorContext(ctx, "remove discarded blob; kept for the next sweep", slog.String("key", k), slog.Any("error", err))
			continue
		}
		if err := deleteVariants(ctx, s, k); err != nil {
			slog.ErrorContext(ctx, "remove variants of a discarded blob; kept for the next sweep", slog.String("key", k), slog.Any("error", err))
			continue
		}
		if _, err := store.Exec(ctx, db, `DELETE FROM media_deletions WHERE key = ?`, k); err != nil {
			return n, fmt.Errorf("forget removed blob %s: %w", k, err)
		}
		n++
	}
	return n, nil
}
