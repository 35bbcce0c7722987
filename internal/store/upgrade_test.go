package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A database upgraded release by release must end with the schema a fresh
// one gets. Migration 00006 was changed after it shipped, so databases
// migrated at aad304c kept a narrower occurrences_long_idx while reporting
// a current schema; 00007 repairs them. testdata/aad304c holds the
// migrations exactly as they were at that commit (00001–00005 are also
// the first release's, round one's, set; they never changed). Each path is
// migrated, then the current migrations run on it, and the schemas are
// compared object by object, index definitions included.
func TestUpgradesEndWithTheFreshSchema(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, fresh *store.DB) {
		ctx := context.Background()
		old := os.DirFS("testdata/aad304c/" + string(fresh.Dialect))
		if _, err := fresh.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		want := dumpSchema(ctx, t, fresh)
		if len(want) < 40 {
			t.Fatalf("fresh schema has only %d objects; is the dump broken?\n%s", len(want), strings.Join(want, "\n"))
		}

		paths := map[string]int64{
			"round one (00001-00005)":              5,
			"aad304c (00001-00006 before 386740a)": 6,
		}
		for name, upTo := range paths {
			t.Run(name, func(t *testing.T) {
				db := storetest.Unmigrated(t, fresh.Dialect)
				migrateWith(ctx, t, db, old, upTo)
				if upTo == 6 {
					// The drift itself: the old 00006 and the current one
					// leave different schemas, and the database is no
					// longer reported current.
					ref := storetest.Unmigrated(t, fresh.Dialect)
					migrateWith(ctx, t, ref, os.DirFS("migrations/"+string(fresh.Dialect)), 6)
					if d := diffLines(dumpSchema(ctx, t, ref), dumpSchema(ctx, t, db)); !strings.Contains(d, "occurrences_long_idx") {
						t.Errorf("the old and the changed 00006 should leave different occurrences_long_idx; differences:\n%s", d)
					}
					if current, err := db.SchemaCurrent(ctx); err != nil || current {
						t.Errorf("a database at the old 00006: SchemaCurrent = %v, %v; want false", current, err)
					}
				}
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatalf("upgrade: %v", err)
				}
				if d := diffLines(want, dumpSchema(ctx, t, db)); d != "" {
					t.Errorf("upgraded schema differs from a fresh one (- fresh, + upgraded):\n%s", d)
				}
				if current, err := db.SchemaCurrent(ctx); err != nil || !current {
					t.Errorf("after the upgrade SchemaCurrent = %v, %v; want true", current, err)
				}
			})
		}
	})
}

// The dump sees what the drift changed: an index over other columns or
// with another condition, a column's type, nullability or default.
func TestSchemaDumpSeesChanges(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustExec := func(q string) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		mustExec(`CREATE TABLE t (a INTEGER NOT NULL, b TEXT DEFAULT 'x')`)
		mustExec(`CREATE INDEX t_idx ON t (a) WHERE a > 1`)
		before := dumpSchema(ctx, t, db)
		changes := []string{
			`DROP INDEX t_idx; CREATE INDEX t_idx ON t (a, b) WHERE a > 1`,
			`DROP INDEX t_idx; CREATE INDEX t_idx ON t (a) WHERE a > 2`,
			`DROP INDEX t_idx; CREATE UNIQUE INDEX t_idx ON t (a) WHERE a > 1`,
			`DROP INDEX t_idx; CREATE INDEX t_idx ON t (a, b) WHERE a > 1`,
			`DROP INDEX t_idx; CREATE INDEX t_idx ON t (a) WHERE a > 1; ALTER TABLE t ADD COLUMN c TEXT`,
		}
		for _, change := range changes {
			for _, q := range strings.Split(change, "; ") {
				mustExec(q)
			}
			after := dumpSchema(ctx, t, db)
			if diffLines(before, after) == "" {
				t.Errorf("%s: dump unchanged", change)
			}
			before = after
		}
	})
}

// migrateWith applies the migrations in fsys up to version upTo, as an
// older release of the server would have.
func migrateWith(ctx context.Context, t *testing.T, db *store.DB, fsys fs.FS, upTo int64) {
	t.Helper()
	dialect := goose.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.DB.DB, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, upTo); err != nil {
		t.Fatalf("migrate to %d: %v", upTo, err)
	}
}

var spaces = regexp.MustCompile(`\s+`)

// dumpSchema lists every object of the database's schema, one line each,
// sorted: tables with their columns, constraints, indexes with their full
// definition, views and triggers. goose's own table is left out; its rows
// differ by path, not its shape.
func dumpSchema(ctx context.Context, t *testing.T, db *store.DB) []string {
	t.Helper()
	var lines []string
	if db.Dialect == store.SQLite {
		// SQLite keeps each object as the statement that made it (ALTER
		// TABLE rewrites it), which is its whole definition: columns,
		// CHECK and foreign keys, an index's columns and condition.
		var objs []struct {
			Type string `db:"type"`
			Name string `db:"name"`
			SQL  string `db:"sql"`
		}
		err := store.Select(ctx, db, &objs, `SELECT type, name, COALESCE(sql, '') AS sql FROM sqlite_master
			WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version' ORDER BY type, name`)
		if err != nil {
			t.Fatalf("read sqlite_master: %v", err)
		}
		for _, o := range objs {
			lines = append(lines, fmt.Sprintf("%s %s: %s", o.Type, o.Name, strings.TrimSpace(spaces.ReplaceAllString(o.SQL, " "))))
		}
		return lines
	}

	var schema string
	if err := store.Get(ctx, db, &schema, `SELECT current_schema()`); err != nil {
		t.Fatal(err)
	}
	// Definitions name the schema (t_1234.occurrences); each test has its
	// own, so it is taken out.
	unschema := func(s string) string { return strings.ReplaceAll(s, schema+".", "") }
	var cols []struct {
		Table    string  `db:"table_name"`
		Column   string  `db:"column_name"`
		Type     string  `db:"data_type"`
		Nullable string  `db:"is_nullable"`
		Default  *string `db:"column_default"`
		Identity string  `db:"is_identity"`
	}
	// Column order is left out: a repair that adds a column puts it last,
	// and every statement names its columns.
	err := store.Select(ctx, db, &cols, `SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatalf("read columns: %v", err)
	}
	for _, c := range cols {
		def := "(none)"
		if c.Default != nil {
			def = unschema(*c.Default)
		}
		lines = append(lines, fmt.Sprintf("column %s.%s: %s nullable=%s default=%s identity=%s",
			c.Table, c.Column, c.Type, c.Nullable, def, c.Identity))
	}
	var defs []struct {
		Kind string `db:"kind"`
		Name string `db:"name"`
		Def  string `db:"def"`
	}
	err = store.Select(ctx, db, &defs, `
		SELECT 'constraint' AS kind, cl.relname || '.' || c.conname AS name, pg_get_constraintdef(c.oid) AS def
		  FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
		 WHERE c.connamespace = current_schema()::regnamespace AND cl.relname <> 'goose_db_version'
		UNION ALL
		SELECT 'index', indexname, indexdef FROM pg_indexes
		 WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'
		UNION ALL
		SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = current_schema()
		UNION ALL
		SELECT 'trigger', tg.tgname, pg_get_triggerdef(tg.oid) FROM pg_trigger tg
		  JOIN pg_class cl ON cl.oid = tg.tgrelid
		 WHERE cl.relnamespace = current_schema()::regnamespace AND NOT tg.tgisinternal
		UNION ALL
		SELECT 'function', p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
		 WHERE p.pronamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatalf("read definitions: %v", err)
	}
	for _, d := range defs {
		lines = append(lines, fmt.Sprintf("%s %s: %s", d.Kind, d.Name, unschema(spaces.ReplaceAllString(d.Def, " "))))
	}
	sort.Strings(lines)
	return lines
}

// diffLines lists the lines only in want (-) or only in got (+).
func diffLines(want, got []string) string {
	in := func(lines []string) map[string]bool {
		m := map[string]bool{}
		for _, l := range lines {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range want {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range got {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
