package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// FuzzGlobalID checks that any string a client sends as an id is either
// refused or read as a type and a positive key, and that every id the
// server hands out reads back as what it was made from.
func FuzzGlobalID(f *testing.F) {
	for _, s := range []struct {
		typ string
		id  int64
		gid string
	}{
		{"Activity", 1, globalID("Activity", 1)},
		{"Slot", 9223372036854775807, "U2xvdDow"},
		{"Story:x", 42, "QWN0aXZpdHk6LTE"},
		{"", 0, "QWN0aXZpdHk6MQ=="},
		{"Ørsted", -1, "not base64!"},
		{"Activity", 7, strings.Repeat("QUFB", 40)},
	} {
		f.Add(s.typ, s.id, s.gid)
	}
	f.Fuzz(func(t *testing.T, typ string, id int64, gid string) {
		if gotTyp, gotID, ok := parseGlobalID(gid); ok && gotID <= 0 {
			t.Fatalf("parseGlobalID(%q) = %q, %d: key not positive", gid, gotTyp, gotID)
		}
		if id <= 0 || strings.Contains(typ, ":") {
			return
		}
		enc := globalID(typ, id)
		gotTyp, gotID, ok := parseGlobalID(enc)
		if len(enc) > 100 {
			// Type names are short; a long one is refused, not misread.
			if ok {
				t.Fatalf("parseGlobalID accepted a %d-character id", len(enc))
			}
			return
		}
		if !ok || gotTyp != typ || gotID != id {
			t.Fatalf("globalID(%q, %d) = %q, read back as %q, %d, %v", typ, id, enc, gotTyp, gotID, ok)
		}
		if n, err := idOf(typ, enc); err != nil || n != id {
			t.Fatalf("idOf(%q, %q) = %d, %v", typ, enc, n, err)
		}
	})
}

// FuzzCursor checks that any string sent as `after` is either refused with
// INVALID_CURSOR or read as a position, and that every cursor the server
// hands out reads back as the same position. Names in cursors are those of
// organisations and places, at most 120 characters.
func FuzzCursor(f *testing.F) {
	for _, s := range []struct {
		sec, nsec int64
		useT      bool
		s         string
		useS      bool
		id        int64
		raw       string
	}{
		{1783324800, 0, true, "", false, 1, ""},
		{1783324800, 123456789, true, "", false, 9223372036854775807, "eyJpIjoxfQ"},
		{0, 0, false, "Ishøj Idrætsforening", true, 3, "eyJpIjowfQ"},
		{0, 0, false, strings.Repeat("æ", 120), true, 12, "bm90IGpzb24"},
		{0, 0, false, strings.Repeat("<", 120), true, 12, strings.Repeat("A", 201)},
		{-62135596800, 0, true, "\u2028\x00\"", true, 5, `eyJ0IjoiMjAyNi0wNy0wNlQxMDowMDowMCswMjowMCIsImkiOjF9`},
	} {
		f.Add(s.sec, s.nsec, s.useT, s.s, s.useS, s.id, s.raw)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64, useT bool, s string, useS bool, id int64, raw string) {
		if c, err := decodeCursor(&raw); err != nil {
			if !isUserError(err, "INVALID_CURSOR") {
				t.Fatalf("decodeCursor(%q) = %v, not INVALID_CURSOR", raw, err)
			}
		} else if c != nil && c.ID <= 0 {
			t.Fatalf("decodeCursor(%q) = %+v: id not positive", raw, c)
		} else if c == nil && raw != "" {
			t.Fatalf("decodeCursor(%q) = nil, nil", raw)
		}

		if id <= 0 || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 120 {
			return
		}
		want := cursor{ID: id}
		if useT {
			// Times the server stores: years 1900 to 9998, as the Time
			// scalar accepts them.
			ts := time.Unix(sec%(253370764800-(-2208988800))+253370764800, nsec%1e9).UTC()
			if ts.Year() < 1900 || ts.Year() > 9998 {
				return
			}
			want.T = &ts
		}
		if useS {
			want.S = &s
		}
		enc := encodeCursor(want)
		got, err := decodeCursor(&enc)
		if err != nil {
			t.Fatalf("encodeCursor(%+v) = %q (%d characters), which is refused: %v", want, enc, len(enc), err)
		}
		if got.ID != want.ID || (got.T == nil) != (want.T == nil) || (got.S == nil) != (want.S == nil) ||
			(got.T != nil && !got.T.Equal(*want.T)) || (got.S != nil && *got.S != *want.S) {
			t.Fatalf("encodeCursor(%+v) read back as %+v", want, got)
		}
	})
}

func isUserError(err error, code string) bool {
	ues := apperr.UserErrors(err)
	return len(ues) == 1 && ues[0].Code == code
}

// FuzzGraphQLHandler sends arbitrary bodies, with a method, content type,
// Accept header and caller picked from mode, through the real handler.
// Whatever arrives, the server must answer below 500, with valid JSON when
// it says JSON, and without a resolver failing or panicking.
func FuzzGraphQLHandler(f *testing.F) {
	fs := newFuzzServer(f)
	for _, body := range contractBodies(f) {
		f.Add(uint8(0), body)
		f.Add(uint8(2<<3), body)
	}
	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		fs.errors.reset()
		req := fuzzRequest(mode, body)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		switch (mode >> 3) & 3 {
		case 1:
			ctx = user.WithCaller(ctx, fs.resident)
		case 2:
			ctx = user.WithCaller(ctx, fs.secretariat)
		case 3:
			req.Header.Set("Authorization", "Bearer not-a-token")
		}
		w := httptest.NewRecorder()
		fs.handler.ServeHTTP(w, req.WithContext(ctx))
		timedOut := ctx.Err() != nil

		res := w.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (%s): status %d: %s", req.Method, req.URL, req.Header.Get("Content-Type"), res.StatusCode, w.Body)
		}
		ct := res.Header.Get("Content-Type")
		if strings.Contains(ct, "json") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: Content-Type %s but the body is not JSON: %q", req.Method, req.URL, ct, w.Body)
		}
		if timedOut {
			return
		}
		if logged := fs.errors.get(); logged != "" {
			t.Fatalf("%s %s (%s) %q: the server logged an error: %s", req.Method, req.URL, req.Header.Get("Content-Type"), body, logged)
		}
		if bytes.Contains(w.Body.Bytes(), []byte(apperr.CodeInternal)) {
			t.Fatalf("%s %s %q: internal error: %s", req.Method, req.URL, body, w.Body)
		}
	})
}

// fuzzRequest builds the request mode asks for: the low three bits pick
// the method and how the body travels, bit 5 asks for server-sent events.
func fuzzRequest(mode uint8, body []byte) *http.Request {
	var req *http.Request
	switch mode & 7 {
	case 0:
		req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	case 1:
		req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Accept", "application/graphql-response+json")
	case 2:
		req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
	case 3:
		req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	case 4:
		// The body as the query of a GET request.
		req = httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {string(body)}}.Encode(), nil)
	case 5:
		// The body as the raw query string of a GET request.
		req = httptest.NewRequest(http.MethodGet, "/graphql", nil)
		req.URL.RawQuery = string(body)
	case 6:
		req = httptest.NewRequest(http.MethodPut, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	case 7:
		req = httptest.NewRequest(http.MethodOptions, "/graphql", bytes.NewReader(body))
	}
	if mode&(1<<5) != 0 {
		req.Header.Set("Accept", "text/event-stream")
	}
	if mode&(1<<6) != 0 {
		req.Header.Set("Accept-Language", "en")
	}
	return req
}

// contractBodies are the operations the app ships, one request per
// operation, with the fragments they use.
func contractBodies(f *testing.F) [][]byte {
	f.Helper()
	dir := filepath.Join("..", "mobile-contract", "operations")
	fragments, err := os.ReadFile(filepath.Join(dir, "fragments.graphql"))
	if err != nil {
		f.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.graphql"))
	if err != nil {
		f.Fatal(err)
	}
	opName := regexp.MustCompile(`(?m)^(?:query|mutation|subscription)\s+(\w+)`)
	var bodies [][]byte
	for _, file := range files {
		if filepath.Base(file) == "fragments.graphql" {
			continue
		}
		doc, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range opName.FindAllSubmatch(doc, -1) {
			b, err := json.Marshal(map[string]any{
				"query":         string(doc) + "\n" + string(fragments),
				"operationName": string(m[1]),
				"variables":     map[string]any{},
			})
			if err != nil {
				f.Fatal(err)
			}
			bodies = append(bodies, b)
		}
	}
	if len(bodies) == 0 {
		f.Fatal("no operations found in mobile-contract/operations")
	}
	return bodies
}

type fuzzServer struct {
	handler     http.Handler
	errors      *errorLog
	resident    user.Caller
	secretariat user.Caller
}

// newFuzzServer wires the handler as newTestServer does, once per fuzz
// target: building it per input would make the fuzzer crawl.
// newTestServer takes a *testing.T, which a fuzz target does not have
// outside f.Fuzz, hence this copy for testing.TB.
func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	logged := &errorLog{}
	ts := newTestServerLogging(tb, storetest.SQLite(tb), Options{Development: true, ComplexityLimit: 1000}, slog.New(logged))
	fs := &fuzzServer{handler: ts.handler, errors: logged}
	ctx := context.Background()
	var err error
	_, fs.resident = ts.signUp("token-fuzz", user.Identity{UID: "uid-fuzz", Email: "fuzz@test.example", EmailVerified: true, Name: "Fuzz"})
	u, _, err := ts.resolver.Domain.Users.GrantSecretariat(ctx, "", "uid-fixture-secretariat")
	if err != nil {
		tb.Fatal(err)
	}
	fs.secretariat = user.Caller{UserID: u.ID, Verified: true, Secretariat: true, Language: "da"}
	return fs
}

// errorLog is a slog handler that keeps the first error logged, so a
// resolver that fails or panics fails the fuzz input even though the
// client only sees a generic message.
type errorLog struct {
	mu    sync.Mutex
	first string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }

func (l *errorLog) Handle(_ context.Context, rec slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == "" {
		var b strings.Builder
		b.WriteString(rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		l.first = b.String()
	}
	return nil
}

func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) reset() {
	l.mu.Lock()
	l.first = ""
	l.mu.Unlock()
}

func (l *errorLog) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
