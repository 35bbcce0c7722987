package apperr_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// raisedCodes finds the user error codes in the source the way
// internal/i18n's TestEveryCodeHasAMessage does: string literals given to
// apperr.New or List.Add, and Code* constants.
func raisedCodes(t *testing.T) map[string]string {
	t.Helper()
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`apperr\.New\("([A-Z_]+)"`),
		regexp.MustCompile(`\.Add\("([A-Z_]+)"`),
		regexp.MustCompile(`\bCode[A-Za-z]+\s*=\s*"([A-Z_]+)"`),
	}
	found := map[string]string{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range patterns {
			for _, m := range p.FindAllStringSubmatch(string(b), -1) {
				found[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 50 {
		t.Fatalf("found only %d codes; is the scan broken?", len(found))
	}
	return found
}

// UserCodes lists every user error code the code base raises, and no
// other; the schema's UserErrorCode enum has exactly these values, so
// the app can switch on UserError.errorCode (issue 18).
func TestUserCodesMatchCodeAndSchema(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range apperr.UserCodes {
		if listed[c] {
			t.Errorf("%s twice in UserCodes", c)
		}
		listed[c] = true
	}
	client := map[string]bool{}
	for _, c := range apperr.ClientCodes {
		client[c] = true
	}
	raised := raisedCodes(t)
	for code, path := range raised {
		if !listed[code] && !client[code] {
			t.Errorf("%s (raised in %s) is not in apperr.UserCodes nor the schema's UserErrorCode enum: "+
				"add it to both (schema/errors.graphqls, described by its English message)", code, path)
		}
	}
	for _, code := range apperr.UserCodes {
		if _, ok := raised[code]; !ok {
			t.Errorf("%s is in UserCodes but nothing raises it any more", code)
		}
	}

	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "errors.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)enum UserErrorCode \{(.*?)\n\}`).FindSubmatch(b)
	if body == nil {
		t.Fatal("schema/errors.graphqls has no enum UserErrorCode")
	}
	inSchema := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([A-Z_]+)$`).FindAllSubmatch(body[1], -1) {
		inSchema[string(m[1])] = true
	}
	for _, code := range apperr.UserCodes {
		if !inSchema[code] {
			t.Errorf("%s is in UserCodes but not in the schema's UserErrorCode enum", code)
		}
	}
	for code := range inSchema {
		if !listed[code] {
			t.Errorf("the schema's UserErrorCode has %s, which UserCodes does not list", code)
		}
	}
}
