package graph

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

func measure(t *testing.T, query string) documentCost {
	t.Helper()
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, 15000)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	// Comparisons are counted only within the budget; 1<<20 admits every
	// shape below but the one that expands to 2^41 fields.
	return measureDocument(doc, 1<<20)
}

// nestedFragments spreads F0 → F1 twice → F2 twice ... → F<levels>: a
// document of a few hundred bytes that stands for 2^levels fields.
func nestedFragments(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }")
	for i := range levels {
		fmt.Fprintf(&b, " fragment F%d on Query { __typename ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", levels)
	return b.String()
}

// The attack shapes of hole 7, each measured in the work validation would
// do. The measure is the proof: a document over the budget is refused
// before gqlgen's validation, whose cost grows with these numbers.
func TestDocumentBudgetMeasure(t *testing.T) {
	cases := []struct {
		name                string
		query               string
		fields, comparisons int
	}{
		{"one field", `{ __typename }`, 1, 0},
		// 14,000 fields answering under one name: 14,000·13,999/2 pairs
		// for OverlappingFieldsCanBeMerged.
		{"14,000 __typename", "{" + strings.Repeat(" __typename", 14000) + " }", 14000, 14000 * 13999 / 2},
		{"100 __typename", "{" + strings.Repeat(" __typename", 100) + " }", 100, 4950},
		// 1,000 fields under one alias with different arguments: each pair
		// is compared and each is a conflict with its own error message.
		{"1,000 of one alias, different args", "{" + repeatf(1000, ` a: node(id: "x%d") { id }`) + " }", 2000, 1000*999/2 + 1000*999/2},
		// Distinct aliases compare nothing but are still fields.
		{"1,000 aliases with different args", "{" + repeatf(1000, ` a%[1]d: node(id: "x%[1]d") { id }`) + " }", 2000, 0},
		// 3,000 spreads of one fragment: the spreads are compared pairwise
		// and each is walked for its fields.
		{"3,000 fragment spreads", "query {" + strings.Repeat(" ...F", 3000) + " } fragment F on Query { __typename }",
			3000 + 3000 + 1, 3000*2999/2 + 3000*2999/2},
		// Fragments nested 40 deep, each spreading the next twice: 2^41
		// fields when expanded, counted in 41 steps and saturating.
		{"fragments nested 40 deep", nestedFragments(40), saturated, -1},
		// F4 is 1 field, F3 is 1 + 2·(1 + 1) = 5, then 13, 29, 61; the
		// operation spreads F0 (62) and the five definitions add 109.
		{"fragments nested 4 deep", nestedFragments(4), 62 + 109, -1},
	}
	for _, c := range cases {
		got := measure(t, c.query)
		if got.fields != c.fields {
			t.Errorf("%s: %d fields counted, want %d", c.name, got.fields, c.fields)
		}
		if c.comparisons >= 0 && got.comparisons != c.comparisons {
			t.Errorf("%s: %d comparisons counted, want %d", c.name, got.comparisons, c.comparisons)
		}
		t.Logf("%s (%d bytes): %+v", c.name, len(c.query), got)
	}

	// A fragment counts where it is used, and once on its own (validation
	// walks fragment definitions by themselves too).
	if got := measure(t, `query { ...F ...F } fragment F on Query { a b }`); got.fields != 2+2*2+2 || got.comparisons != 1+1+1 {
		t.Errorf("two spreads of a two-field fragment: %+v, want 8 fields and 3 pairs (a, b, the spreads)", got)
	}
	// A cycle (which validation refuses) does not loop here.
	if got := measure(t, `query { ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }`); got.fields > 20 {
		t.Errorf("fragment cycle: %+v", got)
	}
}

func repeatf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// The app's documents and GraphiQL's introspection query fit the default
// budget with room to spare.
func TestDocumentBudgetFitsTheApp(t *testing.T) {
	docs, err := LoadTrustedDocuments(filepath.Join("..", "mobile-contract", "trusted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	limit := Limits{}.withDefaults().MaxFields
	docs["introspection"] = introspection.Query
	for name, doc := range docs {
		c := measure(t, doc)
		if c.fields > limit/2 || c.comparisons > limit/2 {
			t.Errorf("%s (%.40s): %+v, more than half the default budget of %d", name, doc, c, limit)
		}
	}
}

// Every refused shape is refused before validation, over every transport.
// The documents below also ask for a field that does not exist: had
// validation run, the answer would be GRAPHQL_VALIDATION_FAILED.
func TestDocumentBudgetRefusesBeforeValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{Development: true})
		attacks := map[string]string{
			"14,000 __typename":         "{ nope" + strings.Repeat(" __typename", 14000) + " }",
			"1,001 distinct fields":     "{ nope" + repeatf(1001, " a%d: __typename") + " }",
			"46 of one name":            "{ nope" + strings.Repeat(" __typename", 46) + " }",
			"one alias, different args": "{ nope" + repeatf(400, ` a: node(id: "x%d") { id }`) + " }",
			"3,000 spreads":             "query { nope" + strings.Repeat(" ...F", 3000) + " } fragment F on Query { __typename }",
			"fragments nested 40 deep":  strings.Replace(nestedFragments(40), "query { ", "query { nope ", 1),
		}
		for name, q := range attacks {
			r := ts.do(postQuery(q, nil))
			if r.status != http.StatusUnprocessableEntity || r.code() != codeFieldLimit {
				t.Errorf("%s: status %d, %+v; want 422 %s", name, r.status, r.Errors, codeFieldLimit)
			}
		}
		// Within the budget, validation runs as before.
		if r := ts.do(postQuery("{ nope"+strings.Repeat(" __typename", 10)+" }", nil)); r.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("small invalid document: %+v", r.Errors)
		}
		ts.stillServing()

		// The same over a websocket (whose messages are at most 64 KB):
		// an error for that operation.
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		c := dial(t, srv.URL, "graphql-transport-ws")
		c.init("")
		for i, q := range []string{"{ nope" + strings.Repeat(" __typename", 5000) + " }", attacks["46 of one name"], attacks["fragments nested 40 deep"]} {
			id := fmt.Sprint(i)
			c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": q}})
			m, err := c.next(3 * time.Second)
			for err == nil && m["type"] == "complete" {
				m, err = c.next(3 * time.Second)
			}
			if err != nil || m["type"] != "error" || m["id"] != id || !strings.Contains(mustJSON(m), codeFieldLimit) {
				t.Errorf("over a websocket, %d: %v %v", i, m, err)
			}
		}
	})
}

func TestDocumentBudgetIsConfigurable(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{MaxFields: 5}})
	if r := ts.do(postQuery(`{ a: __typename b: __typename c: __typename d: __typename e: __typename }`, nil)); len(r.Errors) > 0 {
		t.Errorf("5 fields under a budget of 5: %+v", r.Errors)
	}
	r := ts.do(postQuery(`{ a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename }`, nil))
	if r.code() != codeFieldLimit || !strings.Contains(r.Errors[0].Message, "6") {
		t.Errorf("6 fields over a budget of 5: %+v", r.Errors)
	}
	// Same-named pairs: 4 × __typename is 6 pairs.
	if r := ts.do(postQuery(`{ __typename __typename __typename __typename }`, nil)); r.code() != codeFieldLimit {
		t.Errorf("6 pairs over a budget of 5: %+v", r.Errors)
	}
}
