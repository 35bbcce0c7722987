package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()

		current, err := db.SchemaCurrent(ctx)
		if err != nil || !current {
			t.Fatalf("SchemaCurrent = %v, %v; want true", current, err)
		}
		if n, err := db.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("second Migrate ran %d migrations (err %v); want 0", n, err)
		}

		// Times come back as the same instant, in UTC, on both databases.
		at := time.Date(2026, 7, 6, 10, 0, 0, 123456000, time.FixedZone("CEST", 2*3600))
		var id int64
		err = store.Get(ctx, db, &id, `INSERT INTO places (name, created_at) VALUES (?, ?) RETURNING id`, "Bredekærgård", at)
		if err != nil {
			t.Fatalf("insert place: %v", err)
		}
		var got time.Time
		if err := store.Get(ctx, db, &got, `SELECT created_at FROM places WHERE id = ?`, id); err != nil {
			t.Fatalf("read back: %v", err)
		}
		if !got.Equal(at) {
			t.Errorf("created_at = %v, want %v", got, at)
		}

		// Unique violations map to ErrAlreadyExists.
		err = store.Get(ctx, db, &id, `INSERT INTO places (name, created_at) VALUES (?, ?) RETURNING id`, "Bredekærgård", at)
		if !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("duplicate insert: got %v, want ErrAlreadyExists", err)
		}
		// Foreign keys are enforced (SQLite needs the pragma) and map to ErrConflict.
		_, err = store.Exec(ctx, db, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, ?)`, 999, "kultur")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("foreign key violation: got %v, want ErrConflict", err)
		}
		// Missing rows map to ErrNotFound.
		if err := store.Get(ctx, db, &got, `SELECT created_at FROM places WHERE id = ?`, -1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing row: got %v, want ErrNotFound", err)
		}

		// A failing transaction leaves nothing behind.
		boom := errors.New("boom")
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			if _, err := store.Exec(ctx, tx, `INSERT INTO places (name, created_at) VALUES (?, ?)`, "Havhytten", at); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact returned %v, want boom", err)
		}
		var n int
		if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM places WHERE name = ?`, "Havhytten"); err != nil || n != 0 {
			t.Errorf("rolled-back row visible: n=%d err=%v", n, err)
		}

		// Slice arguments expand.
		q, args, err := store.In(`SELECT COUNT(*) FROM themes WHERE slug IN (?)`, []string{"kultur", "natur", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Get(ctx, db, &n, q, args...); err != nil || n != 2 {
			t.Errorf("IN query: n=%d err=%v, want 2", n, err)
		}
	})
}

func TestLikePattern(t *testing.T) {
	if got := store.LikePattern(`50%_\x`); got != `%50\%\_\\x%` {
		t.Errorf("LikePattern = %q", got)
	}
}
