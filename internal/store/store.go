// Package store opens the database (embedded SQLite or PostgreSQL), runs the
// embedded migrations, maps driver errors to shared sentinels, runs
// transactions and names each difference between the two dialects
// (dialect.go), so no other package asks which one it runs on. The SQL
// itself lives next to the domain code that uses it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL flavour of a database.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

var (
	// ErrNotFound is returned when a row that was asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists is returned when a unique constraint refuses a row.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict is returned when a foreign key or check constraint refuses a change.
	ErrConflict = errors.New("store: conflict")
)

func init() {
	// modernc registers itself as "sqlite"; sqlx must know it takes '?'.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// DB is the application's database handle.
type DB struct {
	*sqlx.DB
	Dialect Dialect
}

// Open connects to the database named by url: a postgres:// URL selects
// PostgreSQL, anything else is a SQLite file path (or "file:" URI).
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	if IsPostgresURL(dsn) {
		db, err := open("postgres", PostgresDSN(dsn), opts)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		return &DB{DB: db, Dialect: Postgres}, nil
	}
	return openSQLite(ctx, dsn, opts)
}

func openSQLite(ctx context.Context, path string, opts []Option) (*DB, error) {
	path = sqliteFile(path)
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	db, err := open("sqlite", SQLiteDSN(path), opts)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One writer at a time is SQLite's nature; a few connections let reads
	// run beside it in WAL mode.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{DB: db, Dialect: SQLite}, nil
}

// PostgresDSN returns the connection string for a postgres:// URL with
// lib/pq's single round-trip mode on (binary_parameters=yes) unless the URL
// says otherwise. Without it every statement with arguments costs two
// round trips (parse, then bind and execute); inside a transaction that
// holds a lock, such as a volunteer claim on its slot, the second trip is
// time everyone queued behind it waits.
func PostgresDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // lib/pq reports the malformed URL
	}
	q := u.Query()
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// SQLiteDSN returns the connection string for the SQLite file at path.
func SQLiteDSN(path string) string {
	q := url.Values{}
	// Times are written in one fixed UTC format so that comparing them as
	// text in SQL orders them correctly.
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	// Writers take the lock when the transaction begins, not at the first
	// write, so two read-then-write transactions cannot deadlock.
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	return "file:" + path + "?" + q.Encode()
}

// New wraps an open connection pool; tests use it to put a counting driver
// underneath.
func New(db *sqlx.DB, dialect Dialect) *DB {
	return &DB{DB: db, Dialect: dialect}
}

// Querier is what both *sqlx.DB and *sqlx.Tx offer; store functions take it
// so they run inside or outside a transaction alike.
type Querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// Transact runs fn in a transaction, committing when it returns nil. On
// PostgreSQL a serialisation failure or deadlock is retried a few times.
func (db *DB) Transact(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		err = db.transactOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) transactOnce(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", MapError(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", MapError(err))
	}
	return nil
}

func retryable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40001" || pqErr.Code == "40P01"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// MapError turns driver errors into the shared sentinels, wrapping the
// original so logs keep the detail.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s", ErrAlreadyExists, pqErr.Message)
		case "23503", "23514":
			return fmt.Errorf("%w: %s", ErrConflict, pqErr.Message)
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", ErrAlreadyExists, sqErr.Error())
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return fmt.Errorf("%w: %s", ErrConflict, sqErr.Error())
		}
	}
	return err
}

// Get runs a query expected to return one row, mapping "no rows" to ErrNotFound.
func Get(ctx context.Context, q Querier, dest any, query string, args ...any) error {
	return MapError(q.GetContext(ctx, dest, q.Rebind(query), args...))
}

// Select runs a query returning many rows into dest.
func Select(ctx context.Context, q Querier, dest any, query string, args ...any) error {
	return MapError(q.SelectContext(ctx, dest, q.Rebind(query), args...))
}

// Exec runs a statement and returns the number of rows it changed.
func Exec(ctx context.Context, q Querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return 0, MapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

// In expands slice arguments (x IN (?)); Get, Select and Exec rebind after.
func In(query string, args ...any) (string, []any, error) {
	return sqlx.In(query, args...)
}

// LikePattern escapes s for use in a LIKE pattern with ESCAPE '\'.
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// IsAlreadyExists reports whether err is a unique violation.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsNotFound reports whether err means the row does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
