package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The sync scenario, small, on both databases: it seeds, the full sync
// and the delta answer without errors through the app's own Sync
// document, and the delta holds the edited activities (with their slots)
// and is far smaller than the full sync.
func TestSyncScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database and starts a server")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sync.db")
			if name == "postgres" {
				db = storetest.PostgresSchemaURL(t)
			}
			var out strings.Builder
			fig, err := syncRun(t.Context(), syncOptions{DB: db, Activities: 300, Changed: 0.01, Runs: 1,
				Manifest: "../../mobile-contract/trusted-documents.json"}, func(f string, a ...any) { fmt.Fprintf(&out, f, a...) })
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if fig.Changed == 0 || fig.DeltaObjects < fig.Changed || fig.Delta.Bytes*5 > fig.Full.Bytes {
				t.Errorf("%d edited: the delta holds %d objects in %d bytes, the full sync %d bytes", fig.Changed, fig.DeltaObjects,
					fig.Delta.Bytes, fig.Full.Bytes)
			}
		})
	}
}
