// Package storetest hands each test its own migrated database: a fresh
// SQLite file always, and a fresh PostgreSQL schema when TEST_DATABASE_URL
// is set. With CI=true a missing TEST_DATABASE_URL fails the test rather
// than quietly testing one database.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/ishoj/voresishoj/internal/store"
)

// Each runs fn once per configured database, as subtests named after the dialect.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachUnmigrated is Each with empty databases, for tests of the
// migrations themselves.
func EachUnmigrated(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t)) })
}

// SQLite returns a migrated database in a file under t.TempDir(): a
// copy of one the test process migrated once. Under -race the SQLite
// engine (C translated to Go, every memory access instrumented) takes
// ~0.7 s to run the migrations; a copy of the file takes milliseconds.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	tmpl, err := sqliteTemplate()
	if err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, tmpl, 0o600); err != nil {
		t.Fatalf("copy migrated sqlite: %v", err)
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteTemplate is the file of a freshly migrated SQLite database, made
// once per test process and kept in memory, so no file outlives the tests.
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "migrated.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Closing the last connection checkpoints the WAL into the file and
	// removes it: the file alone is the database.
	if err := db.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, errors.New("the migrated database kept its WAL after closing")
	}
	return os.ReadFile(path)
})

func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL returns TEST_DATABASE_URL, skipping the test when it is unset
// outside CI and failing it inside CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI")
		}
		t.Skip("TEST_DATABASE_URL not set; PostgreSQL half of the suite not run")
	}
	return u
}

// Postgres returns a migrated database in a schema of its own, dropped
// when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db := openPostgres(t)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

func openPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("open postgres schema: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresSchemaURL returns the URL of an empty schema of its own in
// TEST_DATABASE_URL's database, dropped when the test ends: for tests
// that start a whole server on PostgreSQL (DATABASE_URL).
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()

	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Open("postgres", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.RawQuery = testQuery(u.Query(), schema).Encode()
	return u.String()
}

// testQuery sets the connection parameters of a test database: its
// schema, and synchronous_commit off, because the tests commit tens of
// thousands of small transactions and would otherwise spend half their
// time waiting for WAL flushes. A commit is still atomic and seen by every
// connection at once; only a crash of PostgreSQL itself could lose the
// last ones, and no test crashes PostgreSQL. The load tool, which measures
// commits, runs with the server's own setting.
func testQuery(q url.Values, schema string) url.Values {
	q.Set("search_path", schema)
	if !q.Has("synchronous_commit") {
		q.Set("synchronous_commit", "off")
	}
	return q
}

// Name is a short label for log lines in tests.
func Name(db *store.DB) string { return fmt.Sprint(db.Dialect) }

// Unmigrated returns another empty database of the dialect d, for tests
// that migrate several databases along different paths and compare them.
func Unmigrated(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	if d == store.Postgres {
		return openPostgres(t)
	}
	return openSQLite(t)
}

// Reopen returns a second connection pool on the same database as db,
// closed when the test ends: a test may close it to play a process that
// lost its database at once (killed), while db stays open.
func Reopen(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	again, err := store.Open(context.Background(), URL(t, db))
	if err != nil {
		t.Fatalf("reopen database: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	return again
}

// URL is what DATABASE_URL would be to reach db: its file, or the
// PostgreSQL URL with its schema; for tests that start whole servers on a
// test database.
func URL(t testing.TB, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	var dsn string
	if db.Dialect == store.Postgres {
		var schema string
		if err := db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
			t.Fatalf("current schema: %v", err)
		}
		u, err := url.Parse(PostgresURL(t))
		if err != nil {
			t.Fatalf("parse TEST_DATABASE_URL: %v", err)
		}
		u.RawQuery = testQuery(u.Query(), schema).Encode()
		dsn = u.String()
	} else {
		var files []struct {
			Seq  int    `db:"seq"`
			Name string `db:"name"`
			File string `db:"file"`
		}
		if err := db.SelectContext(ctx, &files, `PRAGMA database_list`); err != nil || len(files) == 0 {
			t.Fatalf("sqlite file: %v", err)
		}
		dsn = files[0].File
	}
	return dsn
}
