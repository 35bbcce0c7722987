package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The search scenario itself, small, on both databases: it seeds, every
// query answers without errors at both scales, and the words the seed
// writes are found. The figures are the tool's to report.
func TestSearchScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds two databases and starts two servers")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			small, large := filepath.Join(t.TempDir(), "small.db"), filepath.Join(t.TempDir(), "large.db")
			if name == "postgres" {
				small, large = storetest.PostgresSchemaURL(t), storetest.PostgresSchemaURL(t)
			}
			var out strings.Builder
			figs, err := searchRun(t.Context(), searchOptions{Small: small, Large: large, SmallScale: 100, LargeScale: 1000,
				Clients: 2, Duration: 200 * time.Millisecond}, func(f string, a ...any) { fmt.Fprintf(&out, f, a...) })
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(figs) != len(searchQueries) {
				t.Fatalf("%d figures for %d queries", len(figs), len(searchQueries))
			}
			for _, f := range figs {
				found := f.Query != "zyxwv"
				if (f.LargeHits > 0) != found || (f.Query == "cafe" && f.SmallHits == 0) {
					t.Errorf("%q: %d and %d hits", f.Query, f.SmallHits, f.LargeHits)
				}
			}
		})
	}
}
