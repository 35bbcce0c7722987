// Package changelog is the log of changes the app's delta sync reads
// (internal/offline): the owner of an object the app keeps offline calls
// Record in the transaction that changes it, so a change and its log row
// commit together or not at all. A row says only which object changed;
// what the object now is, and whether the caller may still see it, the
// sync asks the owner.
package changelog

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// Kind is the kind of object a change is about.
type Kind string

// The kinds the app keeps offline.
const (
	Activity Kind = "activity"
	Story    Kind = "story"
)

// Retention is how long rows are kept: long enough for a phone that was
// offline for weeks (a holiday, a broken screen). A token older than that
// is expired and the app syncs from scratch.
const Retention = 60 * 24 * time.Hour

// Record notes, inside tx, that the objects of kind with ids changed
// (created, edited, cancelled, hidden, deleted: the sync reads what they
// now are). now is the writer's clock.
func Record(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, ids ...int64) error {
	return record(ctx, tx, now, kind, ids)
}

func record(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, ids []int64) error {
	for _, id := range ids {
		if _, err := store.Exec(ctx, tx, `INSERT INTO changes (tx, kind, object_id, changed_at)
			VALUES (`+store.ChangeTx(tx)+`, ?, ?, ?)`, kind, id, now); err != nil {
			return fmt.Errorf("record change of %s %d: %w", kind, id, err)
		}
	}
	return nil
}

// Change is one row of the log.
type Change struct {
	Seq      int64 `db:"seq"`
	Tx       int64 `db:"tx"`
	Kind     Kind  `db:"kind"`
	ObjectID int64 `db:"object_id"`
}

// Horizon returns the log's position now: every row below it is
// committed, and every row committed from now on lies at or above it
// (store.ChangeTx says why that needs care on PostgreSQL).
func Horizon(ctx context.Context, db *store.DB) (int64, error) {
	var h int64
	if err := store.Get(ctx, db, &h, `SELECT `+db.ChangeHorizon()); err != nil {
		return 0, fmt.Errorf("change log horizon: %w", err)
	}
	return h, nil
}

// Read returns up to limit changes with tx in [from, to) after the
// position (afterTx, afterSeq), in (tx, seq) order.
func Read(ctx context.Context, db *store.DB, from, to, afterTx, afterSeq int64, limit int) ([]Change, error) {
	var cs []Change
	err := store.Select(ctx, db, &cs, `SELECT seq, tx, kind, object_id FROM changes
		WHERE tx >= ? AND tx < ? AND (tx > ? OR (tx = ? AND seq > ?))
		ORDER BY tx, seq LIMIT ?`, from, to, afterTx, afterTx, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read change log: %w", err)
	}
	return cs, nil
}

// Purge removes rows older than Retention plus a day; the day covers a
// transaction that wrote its row with an earlier clock than it committed,
// and clocks of replicas a little apart. Tokens expire at Retention
// (internal/offline), so no token still valid needs a purged row.
func Purge(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	n, err := store.Exec(ctx, db, `DELETE FROM changes WHERE changed_at < ?`, now.Add(-Retention-24*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("purge change log: %w", err)
	}
	return n, nil
}
