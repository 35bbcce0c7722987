package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

func TestIsPostgresURL(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@db/x":              true,
		"postgresql://u@db/x?sslmode=on": true,
		"data/voresishoj.db":             false,
		"file:data/x.db?_pragma=x":       false,
		"sqlite://data/x.db":             false,
		"/var/lib/postgres/x.db":         false,
	} {
		if got := store.IsPostgresURL(dsn); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", dsn, got, want)
		}
	}
}

// The partial index only serves List if List's condition is the index's
// predicate, character for character.
func TestLongOccurrenceMatchesIndex(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		sql, err := os.ReadFile("migrations/" + string(d) + "/00006_long_occurrences.sql")
		if err != nil {
			t.Fatal(err)
		}
		expr := strings.ReplaceAll(store.New(nil, d).LongOccurrence("o"), "o.", "")
		if !strings.Contains(string(sql), "WHERE "+expr+";") {
			t.Errorf("%s: LongOccurrence gives %q, which is not the predicate of occurrences_long_idx", d, expr)
		}
	}
}

func TestDialectHelpers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()

		// A bulk load with its own ids, then the ids the database hands out
		// go on after them.
		if _, err := store.Exec(ctx, db, `INSERT INTO places (id, name, created_at) VALUES (?, ?, ?)`, 100, "Strandparken", now); err != nil {
			t.Fatal(err)
		}
		if err := db.MoveIDSequences(ctx, "places"); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := store.Get(ctx, db, &id, `INSERT INTO places (name, created_at) VALUES (?, ?) RETURNING id`, "Havhytten", now); err != nil {
			t.Fatal(err)
		}
		if id != 101 {
			t.Errorf("id after MoveIDSequences = %d, want 101", id)
		}

		// ForUpdate and LockRows are valid SQL on both, and on PostgreSQL
		// they hold the row: another transaction cannot take it.
		err := db.Transact(ctx, func(tx *sqlx.Tx) error {
			var name string
			if err := store.Get(ctx, tx, &name, `SELECT name FROM places WHERE id = ?`+db.ForUpdate(), 100); err != nil {
				return err
			}
			if err := db.LockRows(ctx, tx, `SELECT id FROM places WHERE id IN (?, ?) ORDER BY id`, 100, 101); err != nil {
				return err
			}
			if db.Dialect != store.Postgres {
				return nil
			}
			other, err := db.BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer other.Rollback()
			_, err = other.ExecContext(ctx, `SELECT id FROM places WHERE id = 101 FOR UPDATE NOWAIT`)
			var pqErr *pq.Error
			if !errors.As(err, &pqErr) || pqErr.Code != "55P03" {
				t.Errorf("second transaction locking a row LockRows holds: %v, want lock_not_available", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		lines, err := db.Explain(ctx, `SELECT id FROM places WHERE name = ?`, "Havhytten")
		if err != nil || len(lines) == 0 {
			t.Fatalf("Explain = %v, %v", lines, err)
		}
	})
}
