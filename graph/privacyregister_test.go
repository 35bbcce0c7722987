package graph

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// personalColumn is the name of a column that may hold something that
// identifies a person.
var personalColumn = regexp.MustCompile(`email|phone|name|device|token|uid`)

// Every table of the migrated schema that has a column pointing to users,
// or an e-mail, phone, name, device, token or uid column, is in the
// register of personal data (privacy.Tables) and in PRIVACY.md; the
// register names, for each column pointing to users, the export section
// that holds its rows (TestExportHasEverything checks they are there) and
// the function of DeleteAccount that deals with the table.
func TestPrivacyRegister(t *testing.T) {
	doc, err := os.ReadFile("../PRIVACY.md")
	if err != nil {
		t.Fatal(err)
	}
	deletion, err := os.ReadFile("../internal/privacy/privacy.go")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		_, someone := ts.person("registret", true)
		x, err := ts.resolver.Domain.Privacy.Export(ctx, someone)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(x)
		var sections map[string]any
		if err := json.Unmarshal(b, &sections); err != nil {
			t.Fatal(err)
		}

		var cols []struct {
			Table  string `db:"table_name"`
			Column string `db:"column_name"`
		}
		if db.Dialect == store.Postgres {
			err = store.Select(ctx, db, &cols, `SELECT c.table_name, c.column_name FROM information_schema.columns c
				JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
				WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`)
		} else {
			err = store.Select(ctx, db, &cols, `SELECT m.name AS table_name, p.name AS column_name
				FROM sqlite_master m, pragma_table_info(m.name) p
				WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
		}
		if err != nil {
			t.Fatal(err)
		}
		register := map[string]privacy.Table{}
		for _, tb := range privacy.Tables {
			register[tb.Name] = tb
		}
		schema := map[string]bool{}
		personal := map[string]string{}
		for _, c := range cols {
			schema[c.Table] = true
			if personalColumn.MatchString(c.Column) && !strings.HasPrefix(c.Table, "river_") && !strings.HasPrefix(c.Table, "goose_") {
				personal[c.Table] = c.Column
			}
		}
		refs := userColumns(t, db)
		for _, c := range refs {
			personal[c.Table] = c.Column
			tb, ok := register[c.Table]
			if ok && tb.NotPersonal == "" && len(privacy.ExportSections(c.Table, c.Column)) == 0 {
				t.Errorf("%s.%s points to users but the register names no export section for it", c.Table, c.Column)
			}
		}
		for table, col := range personal {
			if _, ok := register[table]; !ok {
				t.Errorf("table %s (column %s) may hold personal data but is not in privacy.Tables", table, col)
			}
		}
		for _, tb := range privacy.Tables {
			if !schema[tb.Name] {
				t.Errorf("privacy.Tables names %s, which the schema does not have", tb.Name)
			}
			if !strings.Contains(string(doc), "\n| `"+tb.Name+"` |") {
				t.Errorf("PRIVACY.md has no row for table %s in its table of tables", tb.Name)
			}
			if tb.NotPersonal != "" {
				continue
			}
			if tb.Deletion == "" || !strings.Contains(string(deletion), tb.Deletion) {
				t.Errorf("%s: deletion by %q, which DeleteAccount does not call", tb.Name, tb.Deletion)
			}
			for col := range tb.Export {
				for _, s := range privacy.ExportSections(tb.Name, col) {
					if _, ok := sections[s]; !ok {
						t.Errorf("%s.%s: export section %q is not in the export", tb.Name, col, s)
					}
				}
			}
		}
	})
}
