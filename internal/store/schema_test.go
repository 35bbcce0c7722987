package store_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The SQLite and PostgreSQL migrations are two hand-written files per
// step, "kept equivalent". This test migrates both databases and compares
// what they made, table by table and column by column: a column missing on
// one side, NULL allowed on one side only, another default or another kind
// of type, a primary key over other columns, a UNIQUE constraint or a
// named index on one side only.
// Differences that are the dialects' nature are normalised away below
// (BIGINT identity vs INTEGER AUTOINCREMENT, TIMESTAMPTZ vs TIMESTAMP,
// 'x'::text vs 'x'); anything else fails unless listed in allowedDiffs,
// with the reason.
var allowedDiffs = map[string]string{
	// SQLite lets a PRIMARY KEY column that is not the rowid (INTEGER
	// PRIMARY KEY) hold NULL unless it says NOT NULL, a quirk it keeps for
	// compatibility (sqlite.org/lang_createtable.html). Both keys are
	// written by one package each, never with NULL: themes by the
	// migrations, notification_preferences by notify with the caller's id.
	// Rebuilding themes on SQLite to add NOT NULL would mean recreating
	// every table that refers to it.
	"themes.slug nullability":                      "SQLite primary key quirk",
	"notification_preferences.user_id nullability": "SQLite primary key quirk",
}

// searchIndex names PostgreSQL's GIN indexes of search (migrations 00015
// and 00029), which do what SQLite's FTS5 tables do there and have no
// namesake on SQLite.
var searchIndex = regexp.MustCompile(`^[a-z_]+_search_(trgm|danish|title_trgm)_idx$`)

type column struct {
	Type    string // the kind of type: integer, text, boolean, timestamp, real
	NotNull bool
	Default string // normalised; "" for none
	PK      int    // position in the primary key, 0 if not part of it
}

type schema struct {
	Columns map[string]map[string]column // table → column → what it is
	Indexes map[string]string            // index name → its table
	Unique  map[string]bool              // "table(col, col)" of each UNIQUE constraint
}

func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite := sqliteSchema(ctx, t, storetest.SQLite(t))
	pg := postgresSchema(ctx, t, storetest.Postgres(t))

	if len(lite.Columns) < 30 {
		t.Fatalf("SQLite schema has only %d tables; is the query broken?", len(lite.Columns))
	}
	seen := map[string]bool{}
	for _, d := range diffSchemas(lite, pg) {
		seen[d.key] = true
		if _, ok := allowedDiffs[d.key]; !ok {
			t.Errorf("%s: %s", d.key, d.what)
		}
	}
	for key := range allowedDiffs {
		if !seen[key] {
			t.Errorf("allowedDiffs[%q]: the schemas no longer differ there; remove it", key)
		}
	}
}

type difference struct{ key, what string }

// diffSchemas lists what differs between the two schemas.
func diffSchemas(lite, pg schema) []difference {
	var diffs []difference
	report := func(key, format string, args ...any) {
		diffs = append(diffs, difference{key, fmt.Sprintf(format, args...)})
	}
	for _, table := range union(keys(lite.Columns), keys(pg.Columns)) {
		lc, lok := lite.Columns[table]
		pc, pok := pg.Columns[table]
		switch {
		case !pok:
			report(table, "table only on SQLite")
			continue
		case !lok:
			report(table, "table only on PostgreSQL")
			continue
		}
		for _, name := range union(keys(lc), keys(pc)) {
			l, lok := lc[name]
			p, pok := pc[name]
			key := table + "." + name
			switch {
			case !pok:
				report(key, "column only on SQLite")
				continue
			case !lok:
				report(key, "column only on PostgreSQL")
				continue
			}
			if l.Type != p.Type {
				report(key+" type", "SQLite %s, PostgreSQL %s", l.Type, p.Type)
			}
			if l.NotNull != p.NotNull {
				report(key+" nullability", "NOT NULL on SQLite %v, on PostgreSQL %v", l.NotNull, p.NotNull)
			}
			if l.Default != p.Default {
				report(key+" default", "SQLite %q, PostgreSQL %q", l.Default, p.Default)
			}
			if l.PK != p.PK {
				report(key+" primary key", "position on SQLite %d, on PostgreSQL %d", l.PK, p.PK)
			}
		}
	}
	for _, name := range union(keys(lite.Indexes), keys(pg.Indexes)) {
		l, lok := lite.Indexes[name]
		p, pok := pg.Indexes[name]
		switch {
		case !pok:
			report("index "+name, "only on SQLite (on %s)", l)
		case !lok:
			report("index "+name, "only on PostgreSQL (on %s)", p)
		case l != p:
			report("index "+name, "on %s in SQLite, on %s in PostgreSQL", l, p)
		}
	}
	for _, u := range union(keys(lite.Unique), keys(pg.Unique)) {
		switch {
		case !pg.Unique[u]:
			report("unique "+u, "only on SQLite")
		case !lite.Unique[u]:
			report("unique "+u, "only on PostgreSQL")
		}
	}
	return diffs
}

// The comparison reports what it should: a column on one side only,
// another nullability, default, type or key, and an index or UNIQUE on
// one side only.
func TestSchemaDiffSeesDifferences(t *testing.T) {
	base := func() schema {
		return schema{
			Columns: map[string]map[string]column{"places": {
				"id":   {Type: "integer", NotNull: true, PK: 1},
				"name": {Type: "text", NotNull: true, Default: "''"},
			}},
			Indexes: map[string]string{"places_name_idx": "places"},
			Unique:  map[string]bool{"places(name)": true},
		}
	}
	if d := diffSchemas(base(), base()); len(d) != 0 {
		t.Fatalf("equal schemas differ: %v", d)
	}
	changes := map[string]func(s *schema){
		"column only on SQLite": func(s *schema) { s.Columns["places"]["extra"] = column{Type: "text"} },
		"nullability":           func(s *schema) { c := s.Columns["places"]["name"]; c.NotNull = false; s.Columns["places"]["name"] = c },
		"default":               func(s *schema) { c := s.Columns["places"]["name"]; c.Default = "'x'"; s.Columns["places"]["name"] = c },
		"type":                  func(s *schema) { c := s.Columns["places"]["name"]; c.Type = "integer"; s.Columns["places"]["name"] = c },
		"primary key":           func(s *schema) { c := s.Columns["places"]["name"]; c.PK = 2; s.Columns["places"]["name"] = c },
		"table only on SQLite":  func(s *schema) { s.Columns["more"] = map[string]column{"id": {Type: "integer"}} },
		"index":                 func(s *schema) { delete(s.Indexes, "places_name_idx") },
		"unique":                func(s *schema) { s.Unique["places(id, name)"] = true },
	}
	for what, change := range changes {
		lite := base()
		change(&lite)
		if d := diffSchemas(lite, base()); len(d) != 1 {
			t.Errorf("%s: got %d differences %v, want 1", what, len(d), d)
		}
	}
}

// TestSchemaNormalisation shows that the comparison above sees what it
// must: the normalisation makes equal what only the dialects spell apart,
// and leaves apart what differs.
func TestSchemaNormalisation(t *testing.T) {
	same := [][2]string{
		{"''", "''::text"},
		{"'da'", "'da'::text"},
		{"FALSE", "false"},
		{"0", "0"},
		{"CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"},
		{"'{}'", "'{}'::jsonb"},
	}
	for _, c := range same {
		if a, b := normaliseDefault(c[0]), normaliseDefault(c[1]); a != b {
			t.Errorf("defaults %q and %q normalise to %q and %q, want equal", c[0], c[1], a, b)
		}
	}
	apart := [][2]string{{"''", "'da'::text"}, {"FALSE", "true"}, {"0", "1"}, {"", "''::text"}}
	for _, c := range apart {
		if normaliseDefault(c[0]) == normaliseDefault(c[1]) {
			t.Errorf("defaults %q and %q normalise alike", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"BIGINT", "bigint"}, {"INTEGER", "integer"}, {"TIMESTAMP", "timestamp with time zone"}, {"TEXT", "text"}, {"BOOLEAN", "boolean"}} {
		if a, b := typeKind(c[0]), typeKind(c[1]); a != b {
			t.Errorf("types %q and %q are kinds %q and %q", c[0], c[1], a, b)
		}
	}
	if typeKind("TEXT") == typeKind("timestamp with time zone") || typeKind("BOOLEAN") == typeKind("integer") {
		t.Error("different kinds of type compare equal")
	}
}

func sqliteSchema(ctx context.Context, t *testing.T, db *store.DB) schema {
	t.Helper()
	s := schema{Columns: map[string]map[string]column{}, Indexes: map[string]string{}, Unique: map[string]bool{}}
	var tables []string
	// The FTS5 tables of search (migration 00015) and their shadow tables
	// are SQLite's way of indexing text, as PostgreSQL's GIN indexes are
	// its own (see searchIndex); pragma_table_list names them "virtual"
	// and "shadow", apart from ordinary tables.
	err := store.Select(ctx, db, &tables, `SELECT name FROM pragma_table_list
		WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatalf("SQLite tables: %v", err)
	}
	for _, table := range tables {
		var cols []struct {
			CID     int     `db:"cid"`
			Name    string  `db:"name"`
			Type    string  `db:"type"`
			NotNull bool    `db:"notnull"`
			Default *string `db:"dflt_value"`
			PK      int     `db:"pk"`
		}
		// table comes from sqlite_master, not from input.
		if err := store.Select(ctx, db, &cols, `SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info('`+table+`')`); err != nil {
			t.Fatalf("SQLite columns of %s: %v", table, err)
		}
		pkCols := 0
		for _, c := range cols {
			if c.PK > 0 {
				pkCols++
			}
		}
		m := map[string]column{}
		for _, c := range cols {
			col := column{Type: typeKind(c.Type), NotNull: c.NotNull, PK: c.PK}
			// INTEGER PRIMARY KEY is the rowid: never NULL, and numbered by
			// SQLite as an identity column is by PostgreSQL.
			if c.PK == 1 && pkCols == 1 && strings.EqualFold(c.Type, "INTEGER") {
				col.NotNull = true
			}
			if c.Default != nil {
				col.Default = normaliseDefault(*c.Default)
			}
			m[c.Name] = col
		}
		s.Columns[table] = m
	}
	var idx []struct {
		Name  string `db:"name"`
		Table string `db:"tbl_name"`
	}
	// Indexes SQLite makes for UNIQUE and PRIMARY KEY are named
	// sqlite_autoindex_*; PostgreSQL's are *_pkey and *_key (skipped there).
	err = store.Select(ctx, db, &idx, `SELECT name, tbl_name FROM sqlite_master
		WHERE type = 'index' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		t.Fatalf("SQLite indexes: %v", err)
	}
	for _, i := range idx {
		if searchIndex.MatchString(i.Name) {
			continue
		}
		s.Indexes[i.Name] = i.Table
	}
	var uniq []struct {
		Table   string `db:"tbl"`
		Columns string `db:"cols"`
	}
	err = store.Select(ctx, db, &uniq, `SELECT tbl, group_concat(col, ', ') AS cols FROM (
			SELECT m.name AS tbl, il.name AS idx, ii.name AS col FROM sqlite_master m
			JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
			WHERE m.type = 'table' AND il.origin = 'u' ORDER BY m.name, il.name, ii.seqno)
		GROUP BY tbl, idx`)
	if err != nil {
		t.Fatalf("SQLite unique constraints: %v", err)
	}
	for _, u := range uniq {
		s.Unique[u.Table+"("+u.Columns+")"] = true
	}
	return s
}

func postgresSchema(ctx context.Context, t *testing.T, db *store.DB) schema {
	t.Helper()
	s := schema{Columns: map[string]map[string]column{}, Indexes: map[string]string{}, Unique: map[string]bool{}}
	var cols []struct {
		Table    string  `db:"table_name"`
		Name     string  `db:"column_name"`
		Type     string  `db:"data_type"`
		Nullable string  `db:"is_nullable"`
		Default  *string `db:"column_default"`
		Identity string  `db:"is_identity"`
	}
	err := store.Select(ctx, db, &cols, `SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatalf("PostgreSQL columns: %v", err)
	}
	var pks []struct {
		Table    string `db:"table_name"`
		Column   string `db:"column_name"`
		Position int    `db:"ordinal_position"`
	}
	err = store.Select(ctx, db, &pks, `SELECT k.table_name, k.column_name, k.ordinal_position
		FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k
		  ON k.constraint_name = c.constraint_name AND k.constraint_schema = c.constraint_schema
		WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()`)
	if err != nil {
		t.Fatalf("PostgreSQL primary keys: %v", err)
	}
	pk := map[string]int{}
	for _, k := range pks {
		pk[k.Table+"."+k.Column] = k.Position
	}
	for _, c := range cols {
		m := s.Columns[c.Table]
		if m == nil {
			m = map[string]column{}
			s.Columns[c.Table] = m
		}
		col := column{Type: typeKind(c.Type), NotNull: c.Nullable == "NO", PK: pk[c.Table+"."+c.Name]}
		if c.Default != nil && c.Identity != "YES" {
			col.Default = normaliseDefault(*c.Default)
		}
		m[c.Name] = col
	}
	var idx []struct {
		Name  string `db:"indexname"`
		Table string `db:"tablename"`
	}
	// Constraint indexes (primary keys, UNIQUE) are named by each
	// database its own way; they are compared as primary key positions
	// and as Unique, and only the indexes the migrations name are
	// compared by name.
	err = store.Select(ctx, db, &idx, `SELECT i.indexname, i.tablename FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename <> 'goose_db_version'
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname
		                  AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))`)
	if err != nil {
		t.Fatalf("PostgreSQL indexes: %v", err)
	}
	for _, i := range idx {
		if searchIndex.MatchString(i.Name) {
			continue
		}
		s.Indexes[i.Name] = i.Table
	}
	var uniq []struct {
		Table   string `db:"tbl"`
		Columns string `db:"cols"`
	}
	err = store.Select(ctx, db, &uniq, `SELECT cl.relname AS tbl, string_agg(a.attname, ', ' ORDER BY k.ord) AS cols
		FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid
		CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
		WHERE c.contype = 'u' AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		GROUP BY c.oid, cl.relname`)
	if err != nil {
		t.Fatalf("PostgreSQL unique constraints: %v", err)
	}
	for _, u := range uniq {
		s.Unique[u.Table+"("+u.Columns+")"] = true
	}
	return s
}

// typeKind reduces a declared type to the kind both databases agree on.
func typeKind(declared string) string {
	d := strings.ToLower(strings.TrimSpace(declared))
	switch {
	case strings.Contains(d, "int"):
		return "integer"
	case strings.HasPrefix(d, "timestamp"):
		return "timestamp"
	case d == "date":
		return "date"
	case d == "boolean" || d == "bool":
		return "boolean"
	case d == "real" || strings.HasPrefix(d, "double") || d == "float" || strings.HasPrefix(d, "numeric"):
		return "real"
	case d == "text" || strings.Contains(d, "char") || d == "json" || d == "jsonb":
		return "text"
	case d == "blob" || d == "bytea":
		return "bytes"
	}
	return d
}

var castSuffix = regexp.MustCompile(`::[a-z ]+(\[\])?$`)

// normaliseDefault writes a default the same whichever database reports it:
// PostgreSQL adds a cast ('da'::text) and spells booleans in lower case.
func normaliseDefault(d string) string {
	d = strings.TrimSpace(d)
	for strings.HasPrefix(d, "(") && strings.HasSuffix(d, ")") {
		d = strings.TrimSpace(d[1 : len(d)-1])
	}
	d = castSuffix.ReplaceAllString(d, "")
	if !strings.HasPrefix(d, "'") {
		d = strings.ToLower(d)
	}
	switch d {
	case "now()", "current_timestamp":
		return "current_timestamp"
	}
	if d == "" {
		return "(none)"
	}
	return d
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(a, b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
