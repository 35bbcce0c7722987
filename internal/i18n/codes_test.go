package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// Every user error code the code base can raise must have a message, or a
// person would see a bare code. The codes are found in the source: they
// are string literals given to apperr.New / List.Add, or Code* constants.
func TestEveryCodeHasAMessage(t *testing.T) {
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
	if len(found) < 20 {
		t.Fatalf("found only %d codes; is the scan broken?", len(found))
	}
	// The codes of extensions.code name a kind of GraphQL error; the
	// presenter shows a message from the catalogue for four of them, and
	// the others carry the message of the user error or of the limit that
	// refused the request.
	fromCatalogue := map[string]bool{apperr.CodeUnauthenticated: true, apperr.CodeForbidden: true,
		apperr.CodeNotFound: true, apperr.CodeInternal: true}
	for _, code := range apperr.ClientCodes {
		if !fromCatalogue[code] {
			delete(found, code)
		}
	}
	for code := range fromCatalogue {
		found[code] = "internal/apperr/codes.go"
	}
	for code, path := range found {
		for _, lang := range Supported() {
			if msg := Text(lang, code, nil); msg == code {
				t.Errorf("%s (raised in %s) has no %s message", code, path, lang)
			}
		}
	}
}
