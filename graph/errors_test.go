package graph

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

type gqlErrors []struct {
	Message    string
	Extensions map[string]any
	Path       []any            `json:"path,omitempty"`
	Locations  []map[string]any `json:"locations,omitempty"`
}

func postErrors(t *testing.T, ts *testServer, query string) gqlErrors {
	t.Helper()
	var resp struct{ Errors gqlErrors }
	w := ts.raw(http.MethodPost, "application/json", mustJSON(map[string]any{"query": query}))
	if w.Code >= 500 {
		t.Fatalf("status %d for %q", w.Code, query)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response is not JSON: %s", w.Body.String())
	}
	return resp.Errors
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestUserMistakesInQueries(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	cases := []struct {
		query, code, userCode, danish string
	}{
		{`{ activities(after: "not-a-cursor") { edges { cursor } } }`, apperr.CodeBadUserInput, "INVALID_CURSOR", "Sidemarkøren er ikke gyldig"},
		{`{ activities(first: 1000) { edges { cursor } } }`, apperr.CodeBadUserInput, "INVALID_PAGE_SIZE", "mellem 1 og 100"},
		{`{ activity(id: "bm9wZQ") { id } }`, apperr.CodeBadUserInput, "INVALID_ID", "Id'et er ikke gyldigt"},
		{`{ activities(filter: {themes: ["ukendt"]}) { edges { cursor } } }`, apperr.CodeBadUserInput, "UNKNOWN_THEME", "findes ikke"},
		{`{ organisation(id: "` + globalID(typePlace, 1) + `") { id } }`, apperr.CodeBadUserInput, "INVALID_ID", ""},
	}
	for _, c := range cases {
		errs := postErrors(t, ts, c.query)
		if len(errs) != 1 {
			t.Errorf("%s: %d errors %+v", c.query, len(errs), errs)
			continue
		}
		e := errs[0]
		if e.Extensions["code"] != c.code || e.Extensions["userErrorCode"] != c.userCode || !strings.Contains(e.Message, c.danish) {
			t.Errorf("%s: got %q %v", c.query, e.Message, e.Extensions)
		}
	}

	// English when asked for.
	var resp struct{ Errors gqlErrors }
	err := ts.client.Post(`{ activities(after: "x") { edges { cursor } } }`, &resp, lang("en-GB,en;q=0.8"))
	if err == nil || !strings.Contains(err.Error(), "The page cursor is not valid") {
		t.Errorf("English error: %v", err)
	}
}

func TestBadGraphQLGetsAGraphQLError(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	for _, q := range []string{`{ activities { nope } }`, `{ activities(`, `query { __typename `} {
		errs := postErrors(t, ts, q)
		if len(errs) == 0 {
			t.Errorf("%q: no error", q)
		}
	}
	if w := ts.raw(http.MethodPost, "application/json", `{"query": `); w.Code != http.StatusBadRequest {
		t.Errorf("broken JSON: status %d", w.Code)
	}
}

// A fault inside a resolver (here: a missing service, i.e. a nil pointer)
// reaches the client as a generic error with a code, never as a crash or a
// stack trace.
func TestPanicIsRecovered(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	ts.resolver.Domain.Places = nil
	errs := postErrors(t, ts, `{ places { edges { cursor } } }`)
	if len(errs) != 1 || errs[0].Extensions["code"] != apperr.CodeInternal || !strings.Contains(errs[0].Message, "Der skete en fejl hos os") {
		t.Fatalf("got %+v", errs)
	}
	if strings.Contains(errs[0].Message, "nil pointer") {
		t.Error("internal detail leaked")
	}
}

func TestNodeRoundTrip(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	w := makeWorld(t, ts, 1)
	for _, id := range []string{
		globalID(typeActivity, w.monthly.ID), globalID(typeOrganisation, w.history.ID), globalID(typePlace, w.farm.ID),
	} {
		var resp struct{ Node *struct{ ID string } }
		ts.client.MustPost(`query($id: ID!) { node(id: $id) { id } }`, &resp, vars("id", id))
		if resp.Node == nil || resp.Node.ID != id {
			t.Errorf("node(%s) = %+v", id, resp.Node)
		}
	}
	var resp struct{ Nodes []*struct{ ID string } }
	ts.client.MustPost(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, &resp,
		vars("ids", []string{globalID(typeActivity, w.draft.ID), "garbage", globalID(typePlace, 999)}))
	if len(resp.Nodes) != 3 || resp.Nodes[0] != nil || resp.Nodes[1] != nil || resp.Nodes[2] != nil {
		t.Errorf("hidden/garbage/missing nodes = %+v", resp.Nodes)
	}
}
