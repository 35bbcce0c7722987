package main

import (
	"path/filepath"
	"sort"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// mutationsWithoutDocument are the mutations no trusted document carries,
// each with the reason. With TRUSTED_DOCUMENTS=true (production) a
// mutation missing here and from the manifest can only be run through
// SQL, which is how the secretariat was locked out of createOrganisation.
var mutationsWithoutDocument = map[string]string{}

// Every mutation the schema offers must be reachable in production: the
// app's and the back office's operations together name each one at least
// once. A new mutation therefore comes with its operation in
// mobile-contract/operations and a regenerated manifest.
func TestEveryMutationHasADocument(t *testing.T) {
	schema, err := loadSchema(filepath.Join(root, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := Documents(filepath.Join(root, "mobile-contract", "operations"), filepath.Join(root, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, doc := range docs {
		q, errs := gqlparser.LoadQueryWithRules(schema, doc, nil)
		if errs != nil {
			t.Fatalf("document does not validate: %v", errs)
		}
		for _, op := range q.Operations {
			if op.Operation == ast.Mutation {
				for _, f := range rootFields(op.SelectionSet) {
					covered[f] = true
				}
			}
		}
	}
	if schema.Mutation == nil {
		t.Fatal("the schema has no Mutation type")
	}
	var missing []string
	for _, f := range schema.Mutation.Fields {
		if _, allowed := mutationsWithoutDocument[f.Name]; allowed {
			if covered[f.Name] {
				t.Errorf("mutationsWithoutDocument lists %s, but a document carries it now; remove it from the list", f.Name)
			}
			continue
		}
		if !covered[f.Name] {
			missing = append(missing, f.Name)
		}
	}
	for name := range mutationsWithoutDocument {
		if schema.Mutation.Fields.ForName(name) == nil {
			t.Errorf("mutationsWithoutDocument lists %s, which the schema no longer has", name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		t.Errorf("no trusted document uses Mutation.%s: add an operation to mobile-contract/operations and run `go run ./cmd/voresishoj-manifest`", name)
	}
	if len(covered) < 10 {
		t.Errorf("only %d mutations covered; are the documents read?", len(covered))
	}
}

// rootFields names the fields a root selection set selects, through
// inline fragments and fragment spreads.
func rootFields(set ast.SelectionSet) []string {
	var out []string
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out = append(out, s.Name)
		case *ast.InlineFragment:
			out = append(out, rootFields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			out = append(out, rootFields(s.Definition.SelectionSet)...)
		}
	}
	return out
}
