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
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// Kind is the kind of object a change is about.
type Kind string

// The kinds the app keeps offline. Claims, follows and notifications
// are personal: their rows name the person (RecordFor) and go to no one
// else's phone. A change of the theme vocabulary (only ever a migration)
// writes one row of kind Theme with object_id 0, so phones fetch the list
// again.
const (
	Activity     Kind = "activity"
	Story        Kind = "story"
	Slot         Kind = "slot"
	Claim        Kind = "claim"
	Organisation Kind = "organisation"
	Place        Kind = "place"
	Theme        Kind = "theme"
	Follow       Kind = "follow"
	Notification Kind = "notification"
)

// Retention is how long rows are kept: long enough for a phone that was
// offline for weeks (a holiday, a broken screen). A token older than that
// is expired and the app syncs from scratch.
const Retention = 60 * 24 * time.Hour

// Record notes, inside tx, that the objects of kind with ids changed
// (created, edited, cancelled, hidden, deleted: the sync reads what they
// now are). now is the writer's clock.
//
// A change of an activity is also one of its slots: they are seen with it
// (a draft's slots by nobody's phone), so a phone that learns of the
// activity must hear of them too, and each row stays one object.
func Record(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, ids ...int64) error {
	if err := record(ctx, tx, now, kind, nil, ids); err != nil {
		return err
	}
	if kind != Activity {
		return nil
	}
	for _, id := range ids {
		if _, err := store.Exec(ctx, tx, `INSERT INTO changes (tx, kind, object_id, changed_at)
			SELECT `+store.ChangeTx(tx)+`, ?, id, ? FROM volunteer_slots WHERE activity_id = ?`, Slot, now, id); err != nil {
			return fmt.Errorf("record change of the slots of activity %d: %w", id, err)
		}
	}
	return nil
}

// RecordFor notes, inside tx, that person's own objects of kind with ids
// changed (their claims, follows, inbox entries): only person's syncs read
// these rows.
func RecordFor(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, person int64, ids ...int64) error {
	return record(ctx, tx, now, kind, &person, ids)
}

// Owned is a personal object and the person it belongs to.
type Owned struct {
	ID     int64
	Person int64
}

// RecordEach is RecordFor for many objects of many people at once (a
// town-wide announcement fills 100,000 inboxes), a thousand rows a
// statement.
func RecordEach(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, objects []Owned) error {
	for start := 0; start < len(objects); start += 1000 {
		chunk := objects[start:min(start+1000, len(objects))]
		row := `(` + store.ChangeTx(tx) + `, ?, ?, ?, ?)`
		args := make([]any, 0, 4*len(chunk))
		for _, o := range chunk {
			args = append(args, kind, o.ID, now, o.Person)
		}
		q := `INSERT INTO changes (tx, kind, object_id, changed_at, person_id) VALUES ` +
			strings.Repeat(row+`, `, len(chunk)-1) + row
		if _, err := store.Exec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("record changes of %d %s: %w", len(chunk), kind, err)
		}
	}
	return nil
}

func record(ctx context.Context, tx *sqlx.Tx, now time.Time, kind Kind, person *int64, ids []int64) error {
	for _, id := range ids {
		if _, err := store.Exec(ctx, tx, `INSERT INTO changes (tx, kind, object_id, changed_at, person_id)
			VALUES (`+store.ChangeTx(tx)+`, ?, ?, ?, ?)`, kind, id, now, person); err != nil {
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
// position (afterTx, afterSeq), in (tx, seq) order: the public ones and
// person's own (person 0, a visitor, has none).
func Read(ctx context.Context, db *store.DB, person, from, to, afterTx, afterSeq int64, limit int) ([]Change, error) {
	var cs []Change
	err := store.Select(ctx, db, &cs, `SELECT seq, tx, kind, object_id FROM changes
		WHERE tx >= ? AND tx < ? AND (tx > ? OR (tx = ? AND seq > ?))
		AND (person_id IS NULL OR person_id = ?)
		ORDER BY tx, seq LIMIT ?`, from, to, afterTx, afterTx, afterSeq, person, limit)
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

// ForgetPersonTx removes, inside the deletion of userID's account, the
// rows that name them: which of their claims, follows and inbox entries
// changed when. Their objects are gone with the account, and their phones
// with their sign-in.
func ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM changes WHERE person_id = ?`, userID); err != nil {
		return fmt.Errorf("forget change log of user %d: %w", userID, err)
	}
	return nil
}
