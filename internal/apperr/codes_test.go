package apperr_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// The schema tells the app which codes extensions.code can hold; the list
// there is this package's.
func TestSchemaListsClientCodes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range apperr.ClientCodes {
		if !regexp.MustCompile(`#.*\b` + code + `\b`).Match(b) {
			t.Errorf("schema/schema.graphqls does not list %s among the codes of extensions.code", code)
		}
	}
	seen := map[string]bool{}
	for _, code := range apperr.ClientCodes {
		if seen[code] {
			t.Errorf("%s twice in ClientCodes", code)
		}
		seen[code] = true
	}
}
