// Command voresishoj-manifest builds the trusted-documents manifest
// (mobile-contract/trusted-documents.json) from the operations the app
// ships (mobile-contract/operations/*.graphql). In production with
// TRUSTED_DOCUMENTS=true the server executes only these documents.
//
// The manifest is a JSON object from the lowercase hex SHA-256 of a
// document to the document. A document is what the app sends for one
// operation, and is built by this rule, which the app's build must follow
// too so its hashes match:
//
//   - the operation's source text, exactly as written in its .graphql file
//     from the first character of the definition to its closing brace
//     (comments outside the definition are not part of it);
//   - then every fragment the operation uses, directly or through other
//     fragments, each as its own source text, sorted by fragment name;
//   - with __typename added to every selection set but the operation's
//     own, as Apollo Client adds it, so answers carry what its cache needs;
//   - printed by gqlparser's formatter, with no newline at the end.
//
// The app finds an operation's hash in the manifest by operation name (as
// Apollo's persisted-query-lists do) and sends it in the Apollo
// persisted-query form,
// {"extensions":{"persistedQuery":{"version":1,"sha256Hash":"<hash>"}}},
// with no query text.
//
// Run it from the repository root after changing an operation:
//
//	go run ./cmd/voresishoj-manifest
//
// A test in this package fails while the committed manifest is stale.
//
// Released app versions keep sending the hashes they were built with, so
// a document that leaves the manifest (its operation changed or went) is
// moved to mobile-contract/retired-documents.json, in the same form. The
// server executes those too (graph.LoadTrustedDocuments reads the file
// beside the manifest), and every one must still validate against the
// schema. Remove one by hand once no app version in use sends it.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

func main() {
	ops := flag.String("operations", "mobile-contract/operations", "directory of the app's .graphql operations")
	schema := flag.String("schema", "schema", "directory of the server's .graphqls schema")
	out := flag.String("out", "mobile-contract/trusted-documents.json", "manifest to write")
	retiredPath := flag.String("retired", "mobile-contract/retired-documents.json", "documents released app versions still send")
	flag.Parse()
	docs, err := Documents(*ops, *schema)
	if err != nil {
		log.Fatal(err)
	}
	previous, err := Read(*out)
	if err != nil {
		log.Fatal(err)
	}
	retired, err := Read(*retiredPath)
	if err != nil {
		log.Fatal(err)
	}
	retired = Retire(previous, docs, retired)
	if err := CheckRetired(retired, *schema); err != nil {
		log.Fatal(err)
	}
	for path, m := range map[string]map[string]string{*out: docs, *retiredPath: retired} {
		if len(m) == 0 && path == *retiredPath {
			continue
		}
		b, err := Encode(m)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%s: %d documents; %s: %d retired documents\n", *out, len(docs), *retiredPath, len(retired))
}

// Read reads a manifest; a missing file is an empty one.
func Read(path string) (map[string]string, error) {
	docs := map[string]string{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return docs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", path, err)
	}
	return docs, nil
}

// Retire returns the retired documents after the manifest went from
// previous to current: those already retired, and those that left it,
// less any that are current again.
func Retire(previous, current, retired map[string]string) map[string]string {
	out := map[string]string{}
	for h, d := range retired {
		out[h] = d
	}
	for h, d := range previous {
		out[h] = d
	}
	for h := range current {
		delete(out, h)
	}
	return out
}

// CheckRetired fails when a retired document is not under its own hash or
// no longer validates against the schema in schemaDir: the app versions
// that send it would break.
func CheckRetired(retired map[string]string, schemaDir string) error {
	schema, err := loadSchema(schemaDir)
	if err != nil {
		return err
	}
	for _, h := range slices.Sorted(maps.Keys(retired)) {
		doc := retired[h]
		if Hash(doc) != h {
			return fmt.Errorf("retired document %s is not under its own hash", h)
		}
		if _, errs := gqlparser.LoadQueryWithRules(schema, doc, nil); errs != nil {
			return fmt.Errorf("retired document %s (%.40q…), which released app versions send, no longer validates: %w", h, doc, errs)
		}
	}
	return nil
}

// Encode renders the manifest: keys sorted, one per line, so a change to
// one operation is a small diff.
func Encode(docs map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(docs); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// Hash is the manifest key of a document.
func Hash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

type definition struct {
	file string
	text string
	name string
	// spreads are the fragments it names directly.
	spreads []string
}

// Documents reads the operations in opsDir and returns hash → document,
// each document checked against the schema in schemaDir.
func Documents(opsDir, schemaDir string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(opsDir, "*.graphql"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no operations in %s: %v", opsDir, err)
	}
	sort.Strings(paths)
	var ops []definition
	fragments := map[string]definition{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read operations: %w", err)
		}
		texts, err := splitDefinitions(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, text := range texts {
			doc, err := parser.ParseQuery(&ast.Source{Name: p, Input: text})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			switch {
			case len(doc.Operations) == 1 && len(doc.Fragments) == 0:
				op := doc.Operations[0]
				if op.Name == "" {
					return nil, fmt.Errorf("%s: an anonymous operation; the app names every operation", p)
				}
				ops = append(ops, definition{file: p, text: text, name: op.Name, spreads: spreads(op.SelectionSet)})
			case len(doc.Fragments) == 1 && len(doc.Operations) == 0:
				f := doc.Fragments[0]
				if prev, ok := fragments[f.Name]; ok {
					return nil, fmt.Errorf("%s: fragment %s is also defined in %s", p, f.Name, prev.file)
				}
				fragments[f.Name] = definition{file: p, text: text, name: f.Name, spreads: spreads(f.SelectionSet)}
			default:
				return nil, fmt.Errorf("%s: could not split %q into one definition", p, text)
			}
		}
	}

	schema, err := loadSchema(schemaDir)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	names := map[string]string{}
	for _, op := range ops {
		if prev, ok := names[op.name]; ok {
			return nil, fmt.Errorf("%s: operation %s is also defined in %s", op.file, op.name, prev)
		}
		names[op.name] = op.file
		used := map[string]bool{}
		if err := collect(op.spreads, fragments, used); err != nil {
			return nil, fmt.Errorf("%s: operation %s: %w", op.file, op.name, err)
		}
		parts := []string{op.text}
		for _, name := range sortedKeys(used) {
			parts = append(parts, fragments[name].text)
		}
		doc, err := withTypename(strings.Join(parts, "\n\n"))
		if err != nil {
			return nil, fmt.Errorf("%s: operation %s: %w", op.file, op.name, err)
		}
		if _, errs := gqlparser.LoadQueryWithRules(schema, doc, nil); errs != nil {
			return nil, fmt.Errorf("%s: operation %s does not validate: %w", op.file, op.name, errs)
		}
		docs[Hash(doc)] = doc
	}
	return docs, nil
}

// collect adds the fragments that names use, transitively.
func collect(names []string, fragments map[string]definition, used map[string]bool) error {
	for _, n := range names {
		if used[n] {
			continue
		}
		f, ok := fragments[n]
		if !ok {
			return fmt.Errorf("unknown fragment %s", n)
		}
		used[n] = true
		if err := collect(f.spreads, fragments, used); err != nil {
			return err
		}
	}
	return nil
}

// withTypename adds __typename to every selection set but the operation's
// own, as Apollo Client does to every document it sends so its cache can
// tell objects apart, and prints the result in gqlparser's canonical form.
func withTypename(src string) (string, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: src})
	if err != nil {
		return "", err
	}
	var add func(set ast.SelectionSet) ast.SelectionSet
	add = func(set ast.SelectionSet) ast.SelectionSet {
		has := false
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == "__typename" && s.Alias == s.Name {
					has = true
				}
				if len(s.SelectionSet) > 0 {
					s.SelectionSet = add(s.SelectionSet)
				}
			case *ast.InlineFragment:
				s.SelectionSet = add(s.SelectionSet)
			}
		}
		if !has {
			set = append(set, &ast.Field{Name: "__typename", Alias: "__typename"})
		}
		return set
	}
	for _, op := range doc.Operations {
		for _, sel := range op.SelectionSet {
			switch s := sel.(type) {
			case *ast.Field:
				if len(s.SelectionSet) > 0 {
					s.SelectionSet = add(s.SelectionSet)
				}
			case *ast.InlineFragment:
				s.SelectionSet = add(s.SelectionSet)
			}
		}
	}
	for _, f := range doc.Fragments {
		f.SelectionSet = add(f.SelectionSet)
	}
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(doc)
	return strings.TrimSpace(buf.String()), nil
}

// spreads lists the fragments a selection set names, inline fragments
// included.
func spreads(set ast.SelectionSet) []string {
	var out []string
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, spreads(s.SelectionSet)...)
		case *ast.InlineFragment:
			out = append(out, spreads(s.SelectionSet)...)
		case *ast.FragmentSpread:
			out = append(out, s.Name)
		}
	}
	return out
}

// splitDefinitions cuts a .graphql file into the source text of its
// top-level definitions, leaving out the comments and blank lines between
// them. It only needs to know braces, comments and strings.
func splitDefinitions(src string) ([]string, error) {
	var defs []string
	depth, start := 0, -1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case strings.HasPrefix(src[i:], `"""`):
			end := strings.Index(src[i+3:], `"""`)
			if end < 0 {
				return nil, errors.New("unterminated block string")
			}
			if start < 0 {
				start = i
			}
			i += 3 + end + 2
			continue
		case c == '"':
			if start < 0 {
				start = i
			}
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			continue
		}
		if start < 0 {
			start = i
		}
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced }")
			}
			if depth == 0 {
				defs = append(defs, src[start:i+1])
				start = -1
			}
		}
	}
	if start >= 0 {
		return nil, errors.New("definition without a closing }")
	}
	return defs, nil
}

func loadSchema(dir string) (*ast.Schema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.graphqls"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no schema in %s: %v", dir, err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		return nil, fmt.Errorf("schema: %w", gerr)
	}
	return schema, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
