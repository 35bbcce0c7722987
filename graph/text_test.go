package graph

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/graph/scalar"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

func (r reply) extension(name string) any {
	if len(r.Errors) == 0 {
		return nil
	}
	return r.Errors[0].Extensions[name]
}

// Weak spot: a Time without an offset answered INTERNAL_SERVER_ERROR and
// logged an ERROR. It is the client's mistake: BAD_USER_INPUT saying what
// is expected, in the caller's language, and nothing logged as a fault.
func TestMalformedTimeIsUserInput(t *testing.T) {
	var logs bytes.Buffer
	// No job runner: River would log into the buffer while the test reads it.
	ts := newTestServerJobs(t, storetest.SQLite(t), Options{}, slog.New(slog.NewTextHandler(&logs, nil)), false)
	filter := func(from, lang string) *http.Request {
		req := postJSON(mustJSON(map[string]any{
			"query":     `query($f: ActivityFilter) { activities(first: 1, filter: $f) { edges { cursor } } }`,
			"variables": map[string]any{"f": map[string]any{"from": from}},
		}))
		req.Header.Set("Accept-Language", lang)
		return req
	}
	for _, c := range []struct {
		name, lang, code, text string
		req                    *http.Request
	}{
		{"no offset, in a variable", "da", scalar.CodeInvalidTime, "fx 2026-07-06T10:00:00+02:00", filter("2026-07-06T10:00:00", "da")},
		{"a date, in English", "en", scalar.CodeInvalidTime, "e.g. 2026-07-06T10:00:00+02:00", filter("2026-07-06", "en")},
		{"the year 1", "en", scalar.CodeTimeOutOfRange, "between the years 1900 and 9998", filter("0001-01-01T00:00:00Z", "en")},
		{"a literal argument", "da", scalar.CodeInvalidTime, "RFC 3339", postQuery(`{ openSlots(from: "2026-07-06 10:00") { edges { cursor } } }`, nil)},
		{"a number", "da", scalar.CodeInvalidTime, "RFC 3339", postQuery(`{ openSlots(from: 1751796000) { edges { cursor } } }`, nil)},
	} {
		r := ts.do(c.req)
		if r.code() != apperr.CodeBadUserInput || r.extension("userErrorCode") != c.code || !strings.Contains(r.Errors[0].Message, c.text) {
			t.Errorf("%s: status %d, %+v; want %s %s saying %q", c.name, r.status, r.Errors, apperr.CodeBadUserInput, c.code, c.text)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client's bad time was logged as an error:\n%s", logs.String())
	}
}

// Weak spot: a NUL character in text was a 500 on PostgreSQL and matched
// everything in a search on SQLite; bytes that are not UTF-8 (which a GET
// can carry) were refused by PostgreSQL alone. Every string is refused
// once at the transport, in variables and literals, on any transport.
func TestNULAndInvalidUTF8AreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		search := func(q string) *http.Request {
			return postJSON(mustJSON(map[string]any{
				"query":     `query($q: String) { activities(first: 5, filter: {search: $q}) { edges { node { title } } } }`,
				"variables": map[string]any{"q": q},
			}))
		}
		refused := func(name string, r reply, path string) {
			t.Helper()
			if r.code() != apperr.CodeBadUserInput || r.extension("userErrorCode") != CodeInvalidCharacter || r.Data["activities"] != nil {
				t.Errorf("%s: status %d, data %v, errors %+v; want %s %s", name, r.status, r.Data, r.Errors, apperr.CodeBadUserInput, CodeInvalidCharacter)
				return
			}
			if path != "" && !strings.Contains(mustJSON(r.Errors[0]), path) {
				t.Errorf("%s: error %s does not name %s", name, mustJSON(r.Errors[0]), path)
			}
		}
		refused("NUL in a search", ts.do(search("\x00")), `"path":["variable","q"]`)
		refused("NUL inside a word", ts.do(search("Spise\x00venner")), "")
		refused("NUL escaped in a literal", ts.do(postQuery(`{ activities(first: 5, filter: {search: "a\u0000b"}) { edges { cursor } } }`, nil)), `"locations"`)
		get := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ activities(first: 5, filter: {search: "`)+"%FF%FE"+url.QueryEscape(`"}) { edges { cursor } } }`), nil)
		refused("bytes that are not UTF-8, over GET", ts.do(get), "")

		// In a mutation's input: refused, and nothing changed.
		update := func(name string) *http.Request {
			req := postJSON(mustJSON(map[string]any{
				"query":     `mutation($i: UpdateMeInput!) { updateMe(input: $i) { me { displayName } userErrors { code } } }`,
				"variables": map[string]any{"i": map[string]any{"displayName": name}},
			}))
			req.Header.Set("Authorization", "Bearer "+tw.tokens[resident])
			return req
		}
		refused("NUL in a display name", ts.do(update("Rasmus\x00")), `"path":["variable","i","displayName"]`)
		mine, err := ts.resolver.Domain.Users.ByIDs(context.Background(), tw.callers[resident], []int64{tw.callers[resident].UserID})
		if err != nil || len(mine) != 1 || strings.ContainsRune(mine[0].DisplayName, 0) {
			t.Errorf("display name after a refused update: %+v %v", mine, err)
		}
		// Real text in any script passes.
		if r := ts.do(update("Fatima علي 🌻")); len(r.Errors) > 0 {
			t.Errorf("a name in Arabic script with an emoji: %+v", r.Errors)
		}
		if r := ts.do(search("Spisevenner")); len(r.Errors) > 0 || r.Data["activities"] == nil {
			t.Errorf("a plain search: %+v", r.Errors)
		}

		// Over a websocket too.
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		c := dial(t, srv.URL, "graphql-transport-ws")
		c.init("")
		c.send(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{
			"query":     `query($q: String) { activities(first: 5, filter: {search: $q}) { edges { cursor } } }`,
			"variables": map[string]any{"q": "\x00"},
		}})
		m, err := c.next(3 * time.Second)
		if err != nil || !strings.Contains(mustJSON(m), CodeInvalidCharacter) || strings.Contains(mustJSON(m), "cursor") {
			t.Errorf("NUL over a websocket: %v %v", m, err)
		}
	})
}
