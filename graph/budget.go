package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/ishoj/voresishoj/internal/i18n"
)

// documentBudget refuses a document whose validation would cost too much,
// before gqlgen validates it. Validation cannot be interrupted and some of
// its rules are quadratic: OverlappingFieldsCanBeMerged compares every
// pair of fields that answer under the same name, so 14,000 `__typename`
// took 6 s of CPU, whatever the request's deadline. Parsing is linear and
// bounded by the token limit, so the document is parsed here once more and
// measured in the work validation will do; documents already validated
// (in the query cache) are not measured again.
type documentBudget struct {
	maxFields int
	maxTokens int
	cache     graphql.Cache[*ast.QueryDocument]
}

func (documentBudget) ExtensionName() string                   { return "DocumentBudget" }
func (documentBudget) Validate(graphql.ExecutableSchema) error { return nil }

func (b documentBudget) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil
	}
	if _, ok := b.cache.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, b.maxTokens)
	if err != nil {
		// gqlgen parses again and reports the error in its usual form.
		return nil
	}
	c := measureDocument(doc, b.maxFields)
	lang := i18n.Language(ctx)
	if c.fields > b.maxFields {
		return codedError(codeFieldLimit, "%s", i18n.Text(lang, codeFieldLimit, map[string]any{"Count": c.fields, "Max": b.maxFields}))
	}
	if c.comparisons > b.maxFields {
		return codedError(codeFieldLimit, "%s", i18n.Text(lang, "FIELD_LIMIT_SAME_NAME", map[string]any{"Count": c.comparisons, "Max": b.maxFields}))
	}
	return nil
}

// documentCost is the work validating a document takes.
type documentCost struct {
	// fields counts fields, inline fragments and fragment spreads with
	// every spread replaced by its fragment, in every operation and
	// fragment definition: validation visits each of them.
	fields int
	// comparisons counts the pairs of fields answering under the same
	// response path, and of fragment spreads in the same selection set:
	// the pairs OverlappingFieldsCanBeMerged compares.
	comparisons int
}

// measureDocument measures doc without validating it: fragment spreads are
// resolved by name here, cycles and unknown fragments (which validation
// then refuses) count as nothing more. The expanded size is computed
// first, once per fragment, so a fragment spreading another twice at each
// of thirty levels costs thirty steps; only a document within maxFields is
// then walked in full to count the comparisons.
func measureDocument(doc *ast.QueryDocument, maxFields int) documentCost {
	frags := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := frags[f.Name]; !dup {
			frags[f.Name] = f
		}
	}

	sizes := map[string]int{}
	var size func(ast.SelectionSet) int
	size = func(set ast.SelectionSet) int {
		n := 0
		for _, s := range set {
			n = add(n, 1)
			switch s := s.(type) {
			case *ast.Field:
				n = add(n, size(s.SelectionSet))
			case *ast.InlineFragment:
				n = add(n, size(s.SelectionSet))
			case *ast.FragmentSpread:
				f := frags[s.Name]
				if f == nil {
					continue
				}
				m, ok := sizes[s.Name]
				if !ok {
					sizes[s.Name] = 0 // a cycle counts nothing more
					m = size(f.SelectionSet)
					sizes[s.Name] = m
				}
				n = add(n, m)
			}
		}
		return n
	}
	var c documentCost
	for _, op := range doc.Operations {
		c.fields = add(c.fields, size(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		c.fields = add(c.fields, size(f.SelectionSet))
	}
	if c.fields > maxFields {
		return c
	}

	// Response paths are numbered; a field's path is its parent's number
	// and its response name.
	type step struct {
		parent int
		name   string
	}
	paths := map[step]int{}
	fieldsAt := map[int]int{}
	spreadsAt := map[int]int{}
	inside := map[string]bool{}
	var walk func(set ast.SelectionSet, path int)
	walk = func(set ast.SelectionSet, path int) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				id, ok := paths[step{path, name}]
				if !ok {
					id = len(paths) + 1
					paths[step{path, name}] = id
				}
				fieldsAt[id]++
				walk(s.SelectionSet, id)
			case *ast.InlineFragment:
				walk(s.SelectionSet, path)
			case *ast.FragmentSpread:
				spreadsAt[path]++
				f := frags[s.Name]
				if f == nil || inside[s.Name] {
					continue
				}
				inside[s.Name] = true
				walk(f.SelectionSet, path)
				delete(inside, s.Name)
			}
		}
	}
	root := 0
	for _, op := range doc.Operations {
		root--
		walk(op.SelectionSet, root)
	}
	for _, f := range doc.Fragments {
		root--
		walk(f.SelectionSet, root)
	}
	for _, m := range fieldsAt {
		c.comparisons = add(c.comparisons, m*(m-1)/2)
	}
	for _, m := range spreadsAt {
		c.comparisons = add(c.comparisons, m*(m-1)/2)
	}
	return c
}
