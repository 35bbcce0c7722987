package store_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A migration that has shipped is never edited: a database that ran it
// does not run it again, so an edit reaches only fresh databases and the
// two drift apart (00006 did; 00007 repairs it). migrations/SHA256SUMS
// records every migration file's hash, and this test fails when a file
// changes, disappears or is added without its hash. To add a migration,
// append its line (see migrations/README.md); never change a line.
func TestShippedMigrationsUnchanged(t *testing.T) {
	f, err := os.Open(filepath.Join("migrations", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recorded := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		// sha256sum's format, so `sha256sum -c SHA256SUMS` checks it too.
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS line %d: %q is not \"<sha256>  <dialect>/<file>\"", n, sc.Text())
		}
		if _, dup := recorded[name]; dup {
			t.Errorf("SHA256SUMS lists %s twice", name)
		}
		recorded[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	files := map[string][]string{} // dialect → migration file names
	paths, err := filepath.Glob(filepath.Join("migrations", "*", "*.sql"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	for _, p := range paths {
		name := filepath.ToSlash(strings.TrimPrefix(p, "migrations"+string(filepath.Separator)))
		dialect, file, _ := strings.Cut(name, "/")
		files[dialect] = append(files[dialect], file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		got := hex.EncodeToString(h[:])
		want, ok := recorded[name]
		switch {
		case !ok:
			t.Errorf("%s has no line in migrations/SHA256SUMS: append %q", name, got+"  "+name)
		case got != want:
			t.Errorf("%s changed after it was recorded (sha256 %s, recorded %s). A shipped migration is never edited: "+
				"restore it and write the change as a new migration", name, got, want)
		}
		delete(recorded, name)
	}
	for name := range recorded {
		t.Errorf("migrations/SHA256SUMS lists %s, which is gone: a shipped migration is never removed", name)
	}

	// Both dialects have the same steps, so a database of either kind is
	// at the same version after the same release.
	if len(files) != 2 {
		t.Fatalf("migrations for %d dialects, want 2 (sqlite, postgres)", len(files))
	}
	for _, names := range files {
		sort.Strings(names)
	}
	if a, b := strings.Join(files["sqlite"], "\n"), strings.Join(files["postgres"], "\n"); a != b {
		t.Errorf("sqlite and postgres migrations differ:\nsqlite:\n%s\npostgres:\n%s", a, b)
	}
}
