package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var root = filepath.Join("..", "..")

// The committed manifest must be what the operations produce today, or
// the app would ship hashes the server does not know.
func TestManifestIsCurrent(t *testing.T) {
	docs, err := Documents(filepath.Join(root, "mobile-contract", "operations"), filepath.Join(root, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(docs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "mobile-contract", "trusted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("mobile-contract/trusted-documents.json is stale: run `go run ./cmd/voresishoj-manifest` and commit it")
	}
	if len(docs) < 20 {
		t.Errorf("only %d documents", len(docs))
	}
}

func TestDocumentsCarryTheirFragmentsOnly(t *testing.T) {
	docs, err := Documents(filepath.Join(root, "mobile-contract", "operations"), filepath.Join(root, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	for hash, doc := range docs {
		if Hash(doc) != hash {
			t.Errorf("key %s is not the hash of its document", hash)
		}
		if strings.HasPrefix(doc, "fragment") || strings.HasPrefix(doc, "#") || strings.HasSuffix(doc, "\n") {
			t.Errorf("document does not start with its operation or ends with a newline: %.60q", doc)
		}
		if strings.Contains(doc, "query ActivityList ") && !strings.Contains(doc, "fragment ActivityCard on Activity") {
			t.Error("ActivityList lacks the ActivityCard fragment it spreads")
		}
		if strings.Contains(doc, "query Themes") && strings.Contains(doc, "fragment") {
			t.Errorf("Themes carries fragments it does not use: %q", doc)
		}
	}
}

func TestDocumentRule(t *testing.T) {
	dir := t.TempDir()
	schemaDir := filepath.Join(dir, "schema")
	opsDir := filepath.Join(dir, "ops")
	for _, d := range []string{schemaDir, opsDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(schemaDir, "s.graphqls"), "type Query { a(s: String): A }\ntype A { b: String c: A }\n")
	write(filepath.Join(opsDir, "a.graphql"), "# comment { not a brace\nquery Q {\n  a(s: \"}{\") { ...Z }\n}\n")
	write(filepath.Join(opsDir, "b.graphql"), "fragment Z on A { c { ...Y } }\n\n# between\nfragment Y on A { b }\nfragment Unused on A { b }\n")
	docs, err := Documents(opsDir, schemaDir)
	if err != nil {
		t.Fatal(err)
	}
	// The operation, then its fragments by name, with __typename in every
	// selection set but the operation's own, printed canonically.
	want := "query Q {\n\ta(s: \"}{\") {\n\t\t... Z\n\t\t__typename\n\t}\n}\n" +
		"fragment Y on A {\n\tb\n\t__typename\n}\n" +
		"fragment Z on A {\n\tc {\n\t\t... Y\n\t\t__typename\n\t}\n\t__typename\n}"
	if len(docs) != 1 || docs[Hash(want)] != want {
		t.Errorf("documents = %q, want only %q", docs, want)
	}

	write(filepath.Join(opsDir, "c.graphql"), "query R { a { ...Missing } }\n")
	if _, err := Documents(opsDir, schemaDir); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("unknown fragment: err = %v", err)
	}
	write(filepath.Join(opsDir, "c.graphql"), "query R { a { nope } }\n")
	if _, err := Documents(opsDir, schemaDir); err == nil || !strings.Contains(err.Error(), "does not validate") {
		t.Errorf("invalid operation: err = %v", err)
	}
}

// Documents that left the manifest stay served for released app versions,
// and must keep validating.
func TestRetiredDocumentsStillValidate(t *testing.T) {
	retired, err := Read(filepath.Join(root, "mobile-contract", "retired-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckRetired(retired, filepath.Join(root, "schema")); err != nil {
		t.Fatal(err)
	}
	current, err := Read(filepath.Join(root, "mobile-contract", "trusted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	for h := range retired {
		if _, ok := current[h]; ok {
			t.Errorf("document %s is both current and retired", h)
		}
	}
}

func TestRetire(t *testing.T) {
	previous := map[string]string{"a": "A", "b": "B"}
	current := map[string]string{"b": "B", "c": "C"}
	retired := map[string]string{"c": "C", "z": "Z"}
	got := Retire(previous, current, retired)
	if len(got) != 2 || got["a"] != "A" || got["z"] != "Z" {
		t.Errorf("Retire = %v, want a (left the manifest) and z (already retired); c is current again", got)
	}
	// A schema change that breaks a retired document fails the build.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.graphqls"), []byte("type Query { a: String }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckRetired(map[string]string{Hash("{ a }"): "{ a }"}, dir); err != nil {
		t.Errorf("a valid retired document: %v", err)
	}
	if err := CheckRetired(map[string]string{Hash("{ b }"): "{ b }"}, dir); err == nil || !strings.Contains(err.Error(), "no longer validates") {
		t.Errorf("a retired document the schema breaks: %v", err)
	}
	if err := CheckRetired(map[string]string{"x": "{ a }"}, dir); err == nil {
		t.Error("a retired document under another hash passed")
	}
}
