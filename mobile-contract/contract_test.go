// Package mobilecontract holds what the phone app relies on: the GraphQL
// operations it ships (operations/*.graphql), grouped by screen. The test
// here fails when the schema no longer accepts one of them.
package mobilecontract

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "schema", "*.graphqls"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("schema: %v", gerr)
	}
	return schema
}

type opFile struct {
	name  string
	text  string
	first int // first line in the combined document
	lines int
}

// The operations share fragments across files, so they are validated as
// the one document the app compiles them into; errors are traced back to
// their file.
func TestOperationsValidate(t *testing.T) {
	schema := loadSchema(t)
	paths, err := filepath.Glob(filepath.Join("operations", "*.graphql"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no operations: %v", err)
	}
	sort.Strings(paths)
	var files []opFile
	var doc strings.Builder
	line := 1
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.TrimRight(string(b), "\n") + "\n"
		n := strings.Count(text, "\n")
		files = append(files, opFile{name: p, text: text, first: line, lines: n})
		doc.WriteString(text)
		line += n
	}
	where := func(l int) string {
		for _, f := range files {
			if l >= f.first && l < f.first+f.lines {
				return fmt.Sprintf("%s:%d", f.name, l-f.first+1)
			}
		}
		return fmt.Sprintf("line %d", l)
	}

	query, errs := gqlparser.LoadQueryWithRules(schema, doc.String(), nil)
	for _, e := range errs {
		l := 0
		if len(e.Locations) > 0 {
			l = e.Locations[0].Line
		}
		t.Errorf("%s: %s", where(l), e.Message)
	}
	if len(errs) > 0 {
		return
	}
	if len(query.Operations) < 20 {
		t.Errorf("only %d operations; did a file stop being read?", len(query.Operations))
	}
	for _, op := range query.Operations {
		if op.Name == "" {
			t.Errorf("an anonymous operation at %s: the app names every operation", where(op.Position.Line))
		}
	}
}
