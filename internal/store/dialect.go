package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// Where SQLite and PostgreSQL differ, the difference is named here, so
// the domain's SQL reads the same on both and no package outside store
// asks which database it runs on.

// IsPostgresURL reports whether dsn names a PostgreSQL database; anything
// else is a SQLite file path (or "file:"/"sqlite://" URI).
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// ForUpdate is the clause that ends a SELECT whose rows the transaction
// must hold until it ends: FOR UPDATE on PostgreSQL; nothing on SQLite,
// which has no row locks and needs none, because its write transactions
// begin IMMEDIATE and so hold the database's single write lock from the
// start.
func (db *DB) ForUpdate() string {
	if db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// LockRows locks the rows query selects until tx ends, for a transaction
// that must serialise with others on rows it does not otherwise read. On
// SQLite it sends nothing (see ForUpdate).
func (db *DB) LockRows(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	if db.Dialect != Postgres {
		return nil
	}
	rows, err := tx.QueryContext(ctx, tx.Rebind(query+" FOR UPDATE"), args...)
	if err != nil {
		return MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	return MapError(rows.Err())
}

// LongOccurrence is the condition "lasts more than 12 hours" on the
// occurrences row named alias, written exactly as the predicate of the
// partial index occurrences_long_idx (migration 00006) so the planner
// uses that index; TestLongOccurrenceMatchesIndex holds the two together.
func (db *DB) LongOccurrence(alias string) string {
	if db.Dialect == Postgres {
		return alias + `.ends_at - ` + alias + `.starts_at > interval '12 hours'`
	}
	return `julianday(` + alias + `.ends_at) - julianday(` + alias + `.starts_at) > 0.5`
}

// RiverDriver returns River's driver for the database: database/sql over
// lib/pq for PostgreSQL (the pool the rest of the app uses, so InsertTx
// joins our transactions) and River's SQLite driver over modernc.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Dialect == Postgres {
		return riverdatabasesql.New(db.DB.DB)
	}
	return riversqlite.New(db.DB.DB)
}

// MoveIDSequences makes the next generated id of each table follow the
// largest id in it, after a bulk load that chose its ids itself.
// PostgreSQL's identity sequences do not notice such rows; SQLite picks
// max(rowid)+1 anyway, so there it does nothing. tables are constants of
// the caller, never input.
func (db *DB) MoveIDSequences(ctx context.Context, tables ...string) error {
	if db.Dialect != Postgres {
		return nil
	}
	for _, t := range tables {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)`, t, t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("move %s sequence: %w", t, err)
		}
	}
	return nil
}

// AfterBulkLoad brings the planner's statistics and the indexes up to
// date after many rows went in at once (the load tool's seed). On
// PostgreSQL that is VACUUM ANALYZE: a GIN index takes bulk inserts into
// a pending list that every search then reads through and that the
// planner prices so high it scans the table instead, until a vacuum
// merges it (autovacuum would, some minutes later). SQLite needs only
// ANALYZE.
func (db *DB) AfterBulkLoad(ctx context.Context) error {
	q := `ANALYZE`
	if db.Dialect == Postgres {
		q = `VACUUM ANALYZE`
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// Explain returns the plan the database chooses for query, a line a
// step: PostgreSQL's EXPLAIN (ANALYZE, BUFFERS), which also runs it, or
// SQLite's EXPLAIN QUERY PLAN. It is for the load tool's reports.
func (db *DB) Explain(ctx context.Context, query string, args ...any) ([]string, error) {
	var lines []string
	if db.Dialect == Postgres {
		err := Select(ctx, db, &lines, `EXPLAIN (ANALYZE, BUFFERS) `+query, args...)
		return lines, err
	}
	var rows []struct {
		ID      int    `db:"id"`
		Parent  int    `db:"parent"`
		NotUsed int    `db:"notused"`
		Detail  string `db:"detail"`
	}
	if err := Select(ctx, db, &rows, `EXPLAIN QUERY PLAN `+query, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		lines = append(lines, r.Detail)
	}
	return lines, nil
}

// ChangeTx is the SQL expression for the tx column of a change log row
// (migration 00021) written in tx, and ChangeHorizon the one readers
// compare it with: every row whose tx is below a horizon read now is
// committed, and no row committed later can fall below it.
//
// On PostgreSQL sequence order is not commit order: a transaction may take
// seq 10 and commit after another took 11 and committed. The row's tx is
// its transaction's id, and the horizon the xmin of the reader's snapshot,
// the oldest transaction still running: everything older has settled.
// On SQLite writers take turns, so the next value of the table's
// AUTOINCREMENT is both: a row's own seq and, for a reader, one past the
// last committed row. tx picks by driver because the domain writes the
// log with the transaction it has.
func ChangeTx(tx *sqlx.Tx) string {
	if sqlx.BindType(tx.DriverName()) == sqlx.DOLLAR {
		return `pg_current_xact_id()::text::bigint`
	}
	return sqliteNextChange
}

// ChangeHorizon: see ChangeTx.
func (db *DB) ChangeHorizon() string {
	if db.Dialect == Postgres {
		return `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
	}
	return sqliteNextChange
}

const sqliteNextChange = `(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0) + 1)`
