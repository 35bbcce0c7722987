package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// owners says which package writes each table. Every other package that
// must change a table calls its owner's functions (most take the caller's
// transaction: user.CreatePlaceholderTx, organisation.CreateTx,
// activity.Service.ImportTx, ...), so each table's rules and defaults live
// in one place. README's "Which package writes which table" is this map.
var owners = map[string]string{
	"users":              "internal/user",
	"secretariat_grants": "internal/user",

	"organisations":         "internal/organisation",
	"organisers":            "internal/organisation",
	"organiser_invitations": "internal/organisation",

	"places": "internal/place",

	"activities":      "internal/activity",
	"activity_themes": "internal/activity",
	"occurrences":     "internal/activity",

	"volunteer_slots":     "internal/volunteer",
	"slot_claims":         "internal/volunteer",
	"user_qualifications": "internal/volunteer",
	"idempotency_keys":    "internal/volunteer",

	"participation_settings":  "internal/participation",
	"participations":          "internal/participation",
	"participation_keys":      "internal/participation",
	"participation_alerts":    "internal/participation",
	"participation_reminders": "internal/participation",

	"stories":              "internal/story",
	"story_photos":         "internal/story",
	"story_reactions":      "internal/story",
	"story_reports":        "internal/story",
	"story_reporter_marks": "internal/story",
	"story_themes":         "internal/story",
	"calls":                "internal/story",
	"media_pickups":        "internal/story",
	"moderation_log":       "internal/story",

	"initiatives":        "internal/initiative",
	"initiative_members": "internal/initiative",
	"initiative_reports": "internal/initiative",
	"initiative_themes":  "internal/initiative",

	"calendar_sources":       "internal/calimport",
	"calendar_source_themes": "internal/calimport",

	"channel_links": "internal/link",
	"themes":        "internal/theme", // the vocabulary comes with the migrations

	"devices":                  "internal/notify",
	"follows":                  "internal/notify",
	"notification_preferences": "internal/notify",
	"notifications":            "internal/notify",
	"deliveries":               "internal/notify",
	"announcements":            "internal/notify",
	"reminders_sent":           "internal/notify",

	"media_deletions": "internal/media",
	"media_secrets":   "internal/media",
	"data_exports":    "internal/privacy",

	"changes": "internal/changelog", // each owner above calls changelog.Record in its own transaction
}

// bulkLoaders may write any table. They fill an empty database with
// fixtures and never run beside the server's own writes: rows in states no
// domain function makes (published and featured stories, shifts already
// worked with attendance, slots whose taken counts match seeded claims),
// with ids chosen up front, by the hundred thousand in multi-row INSERTs
// for the load tool. Going through the domain would make the demo a
// replay of a season of clicks and the load data minutes slower to seed.
var bulkLoaders = map[string]string{
	"internal/demo":       "the demo data of `serve` on an empty database",
	"internal/loadgen":    "load-test data at any scale",
	"cmd/voresishoj-load": "the load tool's fixtures and the bare INSERT its claim scenario is measured against",
}

var (
	writeSQL   = regexp.MustCompile(`\b(INSERT\s+INTO|DELETE\s+FROM|UPDATE)(\s+([A-Za-z_][A-Za-z0-9_]*)|\s*$)`)
	notAWrite  = regexp.MustCompile(`\b(FOR|DO|ON)\s+$`)
	createdSQL = regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	// A table rebuilt on SQLite (to change a CHECK) is made under a
	// scratch name and renamed into place in the same file: the scratch
	// name is not a table.
	renamedSQL = regexp.MustCompile(`(?i)ALTER TABLE ([a-z_]+) RENAME TO ([a-z_]+)`)
)

type write struct {
	table string // "" when the statement names its table at run time
	pkg   string
	pos   string
}

// TestOneWriterPerTable reads every non-test Go file and fails when a
// table is written outside its owner package.
func TestOneWriterPerTable(t *testing.T) {
	root := filepath.Join("..", "..")
	tables := migratedTables(t, root)
	for table, owner := range owners {
		if !tables[table] {
			t.Errorf("owners names %s, which no migration creates", table)
		}
		if _, err := os.Stat(filepath.Join(root, owner)); err != nil {
			t.Errorf("owner of %s: %v", table, err)
		}
	}
	for table := range tables {
		if owners[table] == "" {
			t.Errorf("table %s has no owner: add it to owners and to README's map", table)
		}
	}

	writes := sqlWrites(t, root)
	if len(writes) < 100 {
		t.Fatalf("found only %d writes; is the scan broken?", len(writes))
	}
	written := map[string]bool{}
	for _, w := range writes {
		written[w.table] = true
		if _, ok := bulkLoaders[w.pkg]; ok {
			continue
		}
		switch {
		case w.table == "":
			t.Errorf("%s: a write whose table is chosen at run time; name the table in the SQL", w.pos)
		case owners[w.table] == "":
			// A table of River's or a CTE; not ours to police.
		case owners[w.table] != w.pkg:
			t.Errorf("%s: %s writes %s, which %s owns; call a function of %s instead", w.pos, w.pkg, w.table, owners[w.table], owners[w.table])
		}
	}
	for table, owner := range owners {
		if !written[table] && table != "themes" {
			t.Errorf("%s: no write found in its owner %s; is the scan broken?", table, owner)
		}
	}
}

// The scan sees the shapes SQL is written in here.
func TestWriteScan(t *testing.T) {
	for sql, want := range map[string]string{
		"INSERT INTO users (id) VALUES (?)":                  "users",
		"INSERT INTO\n\t\tusers (id)":                        "users",
		"UPDATE stories SET x = 1":                           "stories",
		"DELETE FROM organisers WHERE user_id = ?":           "organisers",
		"SELECT id FROM users WHERE id = ? FOR UPDATE":       "-",
		"ON CONFLICT (user_id) DO UPDATE SET x = excluded.x": "-",
		"REFERENCES users (id) ON UPDATE CASCADE":            "-",
		"INSERT INTO ": "",
		"SELECT 1 FROM slot_claims WHERE status = 'CANCELLED' ": "-",
	} {
		got := "-"
		for _, m := range writeSQL.FindAllStringSubmatchIndex(sql, -1) {
			if notAWrite.MatchString(sql[:m[0]]) {
				continue
			}
			got = ""
			if m[6] >= 0 {
				got = sql[m[6]:m[7]]
			}
		}
		if got != want {
			t.Errorf("%q: table %q, want %q", sql, got, want)
		}
	}
}

// The README's map of who writes what is the owners map.
func TestReadmeNamesOwners(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Which package writes which table")
	if !ok {
		t.Fatal(`README has no "### Which package writes which table"`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	byOwner := map[string][]string{}
	for table, owner := range owners {
		byOwner[owner] = append(byOwner[owner], table)
	}
	for owner, tables := range byOwner {
		sort.Strings(tables)
		line := ""
		for _, l := range strings.Split(section, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, "| `"), owner) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("README's map has no line for %s (%s)", owner, strings.Join(tables, ", "))
			continue
		}
		for _, table := range tables {
			if !regexp.MustCompile(`\b` + table + `\b`).MatchString(line) {
				t.Errorf("README's line for %s does not name %s", owner, table)
			}
		}
	}
	for pkg := range bulkLoaders {
		if !strings.Contains(section, pkg) {
			t.Errorf("README's map does not say that %s writes fixtures", pkg)
		}
	}
}

func migratedTables(t *testing.T, root string) map[string]bool {
	t.Helper()
	tables := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(root, "internal", "store", "migrations", "*", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		created := map[string]bool{}
		for _, m := range createdSQL.FindAllStringSubmatch(string(b), -1) {
			created[m[1]] = true
		}
		for _, m := range renamedSQL.FindAllStringSubmatch(string(b), -1) {
			if created[m[1]] {
				delete(created, m[1])
			}
		}
		for table := range created {
			tables[table] = true
		}
	}
	return tables
}

// sqlWrites finds the INSERT, UPDATE and DELETE statements in the string
// literals of every non-test Go file below root.
func sqlWrites(t *testing.T, root string) []write {
	t.Helper()
	var out []write
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if slices.Contains([]string{"node_modules", ".git", "testdata"}, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, m := range writeSQL.FindAllStringSubmatchIndex(s, -1) {
				if notAWrite.MatchString(s[:m[0]]) {
					continue
				}
				w := write{pkg: pkg, pos: fset.Position(lit.Pos()).String()}
				if m[6] >= 0 {
					w.table = s[m[6]:m[7]]
				}
				out = append(out, w)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
