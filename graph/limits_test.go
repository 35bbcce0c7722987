package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// reply is a response as a client sees it.
type reply struct {
	status int
	header http.Header
	Data   map[string]any
	Errors gqlErrors
}

func (r reply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do sends a request through the test server's full handler (sign-in
// middleware included) and fails the test on a 5xx or a slow answer.
func (ts *testServer) do(req *http.Request) reply {
	ts.t.Helper()
	start := time.Now()
	w := httptest.NewRecorder()
	ts.handler.ServeHTTP(w, req)
	if d := time.Since(start); d > 3*time.Second {
		ts.t.Errorf("%s %s took %v", req.Method, req.URL, d)
	}
	if w.Code >= 500 {
		ts.t.Errorf("%s %s: status %d: %s", req.Method, req.URL, w.Code, w.Body.String())
	}
	r := reply{status: w.Code, header: w.Header()}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			ts.t.Errorf("%s %s: status %d, body is not JSON: %.200s", req.Method, req.URL, w.Code, w.Body.String())
		}
	}
	return r
}

func postJSON(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func postQuery(query string, extensions map[string]any) *http.Request {
	body := map[string]any{}
	if query != "" {
		body["query"] = query
	}
	if extensions != nil {
		body["extensions"] = extensions
	}
	return postJSON(mustJSON(body))
}

func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

func sha(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// stillServing checks that a normal query works.
func (ts *testServer) stillServing() {
	ts.t.Helper()
	r := ts.do(postQuery(`{ themes { slug } }`, nil))
	if r.status != http.StatusOK || len(r.Errors) > 0 || r.Data["themes"] == nil {
		ts.t.Fatalf("a normal query after abuse: status %d, %+v", r.status, r.Errors)
	}
}

// deepQuery nests activity → organisation → activities until depth.
func deepQuery(depth int) string {
	var b strings.Builder
	b.WriteString("{ activities(first: 1) { edges { node { ")
	n := 4
	closing := 3
	for n+4 <= depth {
		b.WriteString("organisation { activities(first: 1) { edges { node { ")
		n += 4
		closing += 4
	}
	b.WriteString("id ")
	b.WriteString(strings.Repeat("} ", closing))
	b.WriteString("}")
	return b.String()
}

func aliasQuery(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: __typename ", i)
	}
	b.WriteString("}")
	return b.String()
}

func TestAbusiveRequestsAreRefusedQuickly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{ComplexityLimit: 1000})
		bigBody := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 10<<20) + `"}}`
		chunked := postJSON(bigBody)
		chunked.ContentLength = -1 // as a client streaming without a length
		getMutation := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { markAllRead { unreadCount } }`), nil)
		cases := []struct {
			name string
			req  *http.Request
			code string // GraphQL error code, if the answer has one
		}{
			{"depth 50", postQuery(deepQuery(50), nil), codeDepthLimit},
			{"1000 aliases", postQuery(aliasQuery(1000), nil), codeAliasLimit},
			{"list sizes multiply", postQuery(`{ activities(first: 100) { edges { node { organisation {
				activities(first: 100) { edges { node { id title } } } } } } } }`, nil), codeComplexityLimit},
			{"20000 tokens", postQuery("{ "+strings.Repeat("__typename ", 20000)+"}", nil), "GRAPHQL_PARSE_FAILED"},
			{"10 MB body", postJSON(bigBody), codePayloadTooLarge},
			{"10 MB body without a length", chunked, codePayloadTooLarge},
			{"invalid JSON", postJSON(`{"query": "{ __typename }"`), ""},
			{"JSON that is not an object", postJSON(`[1, 2, 3]`), ""},
			{"text/plain", withType(postJSON(`{"query":"{ __typename }"}`), "text/plain"), codeUnsupportedMediaType},
			{"form", withType(postJSON(`query=%7B__typename%7D`), "application/x-www-form-urlencoded"), codeUnsupportedMediaType},
			{"xml", withType(postJSON(`<query/>`), "application/xml"), codeUnsupportedMediaType},
			{"no content type", withType(postJSON(`{"query":"{ __typename }"}`), ""), codeUnsupportedMediaType},
			{"mutation over GET", getMutation, ""},
			{"PUT", httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{}`)), codeMethodNotAllowed},
			{"DELETE", httptest.NewRequest(http.MethodDelete, "/graphql", nil), codeMethodNotAllowed},
			{"HEAD", httptest.NewRequest(http.MethodHead, "/graphql", nil), ""},
		}
		for _, c := range cases {
			start := time.Now()
			r := ts.do(c.req)
			t.Logf("%s: %d %s in %v", c.name, r.status, r.code(), time.Since(start).Round(time.Millisecond))
			refused := r.status >= 400 && r.status < 500
			if !refused && len(r.Errors) == 0 {
				t.Errorf("%s: status %d and no error", c.name, r.status)
			}
			if c.code != "" && r.code() != c.code {
				t.Errorf("%s: status %d, code %q, want %s: %+v", c.name, r.status, r.code(), c.code, r.Errors)
			}
			// Every refusal is JSON in the GraphQL error shape, labelled so.
			if ct := r.header.Get("Content-Type"); refused && c.req.Method != http.MethodHead && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
				t.Errorf("%s: status %d labelled %q", c.name, r.status, ct)
			}
			if refused && c.code != "" {
				for _, e := range r.Errors {
					if e.Message == "" || strings.Contains(e.Message, "transport not supported") || strings.Contains(e.Message, "could not read request body") {
						t.Errorf("%s: message %q", c.name, e.Message)
					}
				}
			}
			if r.Data["activities"] != nil {
				t.Errorf("%s: executed", c.name)
			}
			ts.stillServing()
		}
		// The refusals of the transport say what to do, with the status
		// HTTP has for them.
		if r := ts.do(httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{}`))); r.status != http.StatusMethodNotAllowed ||
			r.header.Get("Allow") != "GET, POST, OPTIONS" || !strings.Contains(r.Errors[0].Message, "GET, POST") {
			t.Errorf("PUT: %d Allow %q %+v", r.status, r.header.Get("Allow"), r.Errors)
		}
		en := withType(postJSON(`{"query":"{ __typename }"}`), "text/plain")
		en.Header.Set("Accept-Language", "en")
		if r := ts.do(en); r.status != http.StatusUnsupportedMediaType || r.Errors[0].Message != "Send the request as application/json (or multipart/form-data with files)." {
			t.Errorf("text/plain in English: %d %+v", r.status, r.Errors)
		}
		// Too large is 413 whether the client says so up front or not.
		for _, length := range []int64{int64(len(bigBody)), -1} {
			req := postJSON(bigBody)
			req.ContentLength = length
			if r := ts.do(req); r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("10 MB body, length %d: status %d", length, r.status)
			}
		}
	})
}

func withType(r *http.Request, contentType string) *http.Request {
	if contentType == "" {
		r.Header.Del("Content-Type")
	} else {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestLimitsAreConfigurable(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{MaxDepth: 5, MaxAliases: 2}, ComplexityLimit: 15})
	if r := ts.do(postQuery(deepQuery(4), nil)); len(r.Errors) > 0 {
		t.Errorf("depth 4 under a limit of 5: %+v", r.Errors)
	}
	if r := ts.do(postQuery(deepQuery(8), nil)); r.code() != codeDepthLimit || r.status != http.StatusUnprocessableEntity {
		t.Errorf("depth 8: status %d %+v", r.status, r.Errors)
	}
	if r := ts.do(postQuery(aliasQuery(2), nil)); len(r.Errors) > 0 {
		t.Errorf("2 aliases: %+v", r.Errors)
	}
	if r := ts.do(postQuery(aliasQuery(3), nil)); r.code() != codeAliasLimit {
		t.Errorf("3 aliases: %+v", r.Errors)
	}
	// activities(first: n) { edges { cursor } } holds 1 + n objects;
	// `first` counts from a variable as from a literal, and without it the
	// default page size (20) does.
	const q = `query($n: Int) { activities(first: $n) { edges { cursor } } }`
	for n, want := range map[int]string{1: "", 14: "", 15: codeComplexityLimit, 1000: codeComplexityLimit} {
		req := postJSON(mustJSON(map[string]any{"query": q, "variables": map[string]any{"n": n}}))
		if r := ts.do(req); r.code() != want {
			t.Errorf("first %d: code %q, want %q (%+v)", n, r.code(), want, r.Errors)
		}
	}
	if r := ts.do(postQuery(`{ activities { edges { cursor } } }`, nil)); r.code() != codeComplexityLimit {
		t.Errorf("default page size of 20 not counted: %+v", r.Errors)
	}
}

// Every operation the app ships must pass the default limits, or the
// limits would break the app.
func TestAppOperationsFitTheDefaultLimits(t *testing.T) {
	docs, err := LoadTrustedDocuments(filepath.Join("..", "mobile-contract", "trusted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	schema := NewExecutableSchema(Config{}).Schema()
	limits := Limits{}.withDefaults()
	for _, doc := range docs {
		q, errs := gqlparser.LoadQueryWithRules(schema, doc, nil)
		if errs != nil {
			t.Fatalf("%v in %q", errs, doc)
		}
		op := q.Operations[0]
		// Lists count at their default page size, as the app mostly sends.
		c := (&walker{vars: map[string]any{}, frags: map[string]cost{}}).selectionSet(op.SelectionSet)
		if c.depth > limits.MaxDepth || c.aliases > limits.MaxAliases || c.complexity > 1000 {
			t.Errorf("%s: depth %d, aliases %d, complexity %d", op.Name, c.depth, c.aliases, c.complexity)
		}
	}
}

func loadManifest(t *testing.T) (map[string]string, string, string) {
	t.Helper()
	docs, err := LoadTrustedDocuments(filepath.Join("..", "mobile-contract", "trusted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	for hash, doc := range docs {
		if strings.HasPrefix(doc, "query Themes ") {
			return docs, hash, doc
		}
	}
	t.Fatal("no Themes query in the manifest")
	return nil, "", ""
}

func TestTrustedDocuments(t *testing.T) {
	docs, hash, doc := loadManifest(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{TrustedDocuments: docs})
		r := ts.do(postQuery("", persisted(hash)))
		if r.status != http.StatusOK || len(r.Errors) > 0 || r.Data["themes"] == nil {
			t.Fatalf("known hash: status %d %+v", r.status, r.Errors)
		}
		// Apollo sends hashed queries over GET too.
		get := httptest.NewRequest(http.MethodGet, "/graphql?extensions="+url.QueryEscape(mustJSON(persisted(hash))), nil)
		if r := ts.do(get); len(r.Errors) > 0 || r.Data["themes"] == nil {
			t.Errorf("known hash over GET: %+v", r.Errors)
		}
		if r := ts.do(postQuery(doc, persisted(hash))); len(r.Errors) > 0 {
			t.Errorf("known hash with its own text: %+v", r.Errors)
		}
		if r := ts.do(postQuery("", persisted(sha("{ __typename }")))); r.code() != codePersistedQueryNotFound || r.status < 400 {
			t.Errorf("unknown hash: status %d %+v", r.status, r.Errors)
		}
		if r := ts.do(postQuery(`{ themes { slug } }`, nil)); r.code() != codePersistedQueryRequired || r.status < 400 {
			t.Errorf("free text: status %d %+v", r.status, r.Errors)
		}
		if r := ts.do(postQuery(`{ me { id } }`, persisted(hash))); r.code() != codePersistedQueryRequired {
			t.Errorf("another text under a known hash: %+v", r.Errors)
		}
		// Automatic persisted queries cannot sneak a document in.
		q := `{ __typename }`
		if r := ts.do(postQuery(q, persisted(sha(q)))); r.code() != codePersistedQueryNotFound {
			t.Errorf("APQ registration with trusted documents on: %+v", r.Errors)
		}
	})
}

func TestAutomaticPersistedQueriesWithoutTrustedDocuments(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Development: true})
	if r := ts.do(postQuery(`{ themes { slug } }`, nil)); len(r.Errors) > 0 {
		t.Fatalf("free text in development: %+v", r.Errors)
	}
	apqRoundTrip(t, ts, ts)
}

// apqRoundTrip registers a query on one server and runs it by hash on
// another (the same one, or a replica sharing Redis).
func apqRoundTrip(t *testing.T, first, second *testServer) {
	t.Helper()
	q := fmt.Sprintf(`{ themes { slug } __typename } # %d`, rand.Int64())
	hash := sha(q)
	if r := first.do(postQuery("", persisted(hash))); r.code() != codePersistedQueryNotFound {
		t.Fatalf("unregistered hash: %+v", r.Errors)
	}
	if r := first.do(postQuery(q, persisted(hash))); len(r.Errors) > 0 {
		t.Fatalf("registering: %+v", r.Errors)
	}
	if r := second.do(postQuery("", persisted(hash))); len(r.Errors) > 0 || r.Data["themes"] == nil {
		t.Fatalf("registered hash: %+v", r.Errors)
	}
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: Redis tests must run in CI")
		}
		t.Skip("TEST_REDIS_URL not set; Redis half of the suite not run")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisSharesPersistedQueriesAndRateLimits(t *testing.T) {
	rdb := redisClient(t)
	db := storetest.SQLite(t)
	opts := Options{Development: true, Redis: rdb, RateLimits: RateLimits{PerIP: ratelimit.Limit{Rate: 3, Per: time.Minute, Burst: 3}}}
	a, b := newTestServerWith(t, db, opts), newTestServerWith(t, db, opts)
	ip := fmt.Sprintf("10.%d.%d.%d:1234", rand.IntN(256), rand.IntN(256), rand.IntN(256))
	from := func(r *http.Request) *http.Request { r.RemoteAddr = ip; return r }
	// Three requests across two replicas use up the burst...
	a.do(from(postQuery(`{ __typename }`, nil)))
	b.do(from(postQuery(`{ __typename }`, nil)))
	a.do(from(postQuery(`{ __typename }`, nil)))
	// ...so the fourth is refused wherever it lands.
	if r := b.do(from(postQuery(`{ __typename }`, nil))); r.status != http.StatusTooManyRequests || r.code() != codeRateLimited {
		t.Errorf("fourth request across replicas: status %d %+v", r.status, r.Errors)
	}
	opts.RateLimits = RateLimits{}
	apqRoundTrip(t, newTestServerWith(t, db, opts), newTestServerWith(t, db, opts))
}

func TestRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{RateLimits: RateLimits{
			PerIP:     ratelimit.Limit{Rate: 3, Per: time.Minute, Burst: 3},
			PerPerson: ratelimit.Limit{Rate: 2, Per: time.Minute, Burst: 2},
			IPHeader:  "X-Real-IP",
		}})
		from := func(ip, token string) *http.Request {
			r := postQuery(`{ themes { slug } }`, nil)
			r.Header.Set("X-Real-IP", ip)
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return r
		}
		for i := range 3 {
			if r := ts.do(from("192.0.2.1", "")); r.status != http.StatusOK {
				t.Fatalf("request %d from an IP: status %d %+v", i+1, r.status, r.Errors)
			}
		}
		r := ts.do(from("192.0.2.1", ""))
		if r.status != http.StatusTooManyRequests || r.code() != codeRateLimited {
			t.Fatalf("fourth request from an IP: status %d %+v", r.status, r.Errors)
		}
		if s := r.header.Get("Retry-After"); s != "20" {
			t.Errorf("Retry-After = %q, want 20 (a minute / 3)", s)
		}
		if r := ts.do(from("192.0.2.2", "")); r.status != http.StatusOK {
			t.Errorf("another IP: status %d", r.status)
		}

		// A person is limited whatever address they come from.
		token, _ := ts.person("mette", true)
		ts.do(from("198.51.100.1", token))
		ts.do(from("198.51.100.2", token))
		if r := ts.do(from("198.51.100.3", token)); r.status != http.StatusTooManyRequests || r.code() != codeRateLimited {
			t.Errorf("third request of a person from a third IP: status %d", r.status)
		}
		other, _ := ts.person("jonas", true)
		if r := ts.do(from("198.51.100.3", other)); r.status != http.StatusOK {
			t.Errorf("another person: status %d", r.status)
		}
	})
}

func TestCORS(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{CORSOrigins: []string{"https://voresishoj.dk"}})
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		w := httptest.NewRecorder()
		ts.handler.ServeHTTP(w, req)
		return w
	}
	w := preflight("https://voresishoj.dk")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://voresishoj.dk" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("allowed preflight: %d %v", w.Code, w.Header())
	}
	w = preflight("https://evil.example")
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v", w.Code, w.Header())
	}

	req := postQuery(`{ __typename }`, nil)
	req.Header.Set("Origin", "https://voresishoj.dk")
	if r := ts.do(req); r.header.Get("Access-Control-Allow-Origin") != "https://voresishoj.dk" || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Errorf("allowed origin's request: %v", r.header)
	}
	req = postQuery(`{ __typename }`, nil)
	req.Header.Set("Origin", "https://evil.example")
	if r := ts.do(req); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin got CORS headers: %v", r.header)
	}
	// Phones send no Origin and need nothing.
	if r := ts.do(postQuery(`{ __typename }`, nil)); r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("request without Origin: %d %v", r.status, r.header)
	}

	// The same origins may open a websocket for subscriptions.
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()
	wsDial := func(origin string) error {
		h := http.Header{}
		h.Set("Origin", origin)
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{"graphql-transport-ws"}})
		if err == nil {
			c.CloseNow()
		}
		return err
	}
	if err := wsDial("https://voresishoj.dk"); err != nil {
		t.Errorf("websocket from an allowed origin: %v", err)
	}
	if err := wsDial("https://evil.example"); err == nil {
		t.Error("websocket from a refused origin accepted")
	}
}

func uploadRequest(t *testing.T, sizes ...int) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var photos []map[string]any
	files := map[string][]string{}
	for i := range sizes {
		photos = append(photos, map[string]any{"file": nil})
		files[fmt.Sprint(i)] = []string{fmt.Sprintf("variables.input.photos.%d.file", i)}
	}
	ops := map[string]any{
		"query": `mutation($input: SubmitStoryInput!) { submitStory(input: $input) { story { id } } }`,
		"variables": map[string]any{"input": map[string]any{
			"title": "t", "body": "b", "consentPeople": true, "hasChildren": false, "photos": photos,
		}},
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mw.WriteField("operations", mustJSON(ops)))
	must(mw.WriteField("map", mustJSON(files)))
	for i, n := range sizes {
		fw, err := mw.CreateFormFile(fmt.Sprint(i), fmt.Sprintf("photo%d.jpg", i))
		must(err)
		_, err = io.CopyN(fw, zeros{}, int64(n))
		must(err)
	}
	must(mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestUploadLimits(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{
		MaxBodyBytes: 1 << 10, MaxUploadFileBytes: 8 << 10, MaxUploadBytes: 20 << 10,
	}})
	// Uploads have their own limits, above the JSON body limit: a small
	// file reaches the resolver (which wants a signed-in person).
	if r := ts.do(uploadRequest(t, 4<<10)); r.status == http.StatusRequestEntityTooLarge || r.code() == codePayloadTooLarge {
		t.Errorf("4 KB file refused: %d %+v", r.status, r.Errors)
	}
	if r := ts.do(uploadRequest(t, 10<<10)); r.status != http.StatusRequestEntityTooLarge || r.code() != codePayloadTooLarge {
		t.Errorf("10 KB file over an 8 KB limit: %d %+v", r.status, r.Errors)
	}
	if r := ts.do(uploadRequest(t, 7<<10, 7<<10, 7<<10)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("21 KB in all over a 20 KB limit: %d %+v", r.status, r.Errors)
	}
	// Without a Content-Length the form is found too large only while it
	// is read: still 413, coded, with the limit in the message.
	for _, sizes := range [][]int{{7 << 10, 7 << 10, 7 << 10}, {30 << 10}} {
		req := uploadRequest(t, sizes...)
		req.ContentLength = -1
		req.Header.Set("Accept-Language", "en")
		if r := ts.do(req); r.status != http.StatusRequestEntityTooLarge || r.code() != codePayloadTooLarge || len(r.Errors) == 0 ||
			!strings.Contains(r.Errors[0].Message, "MB") && !strings.Contains(r.Errors[0].Message, "KB") {
			t.Errorf("%v without a length: %d %+v", sizes, r.status, r.Errors)
		}
	}
	// A file over its own limit keeps the operation's coded error.
	if r := ts.do(uploadRequest(t, 10<<10)); r.code() != codePayloadTooLarge || !strings.Contains(r.Errors[0].Message, "fil") {
		t.Errorf("10 KB file: %+v", r.Errors)
	}
	if r := ts.do(postJSON(`{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 2<<10) + `"}}`)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 KB JSON over a 1 KB limit: %d", r.status)
	}
	ts.stillServing()
}

func TestRequestDeadline(t *testing.T) {
	g := newGuard(nil, Options{}, Limits{Timeout: 5 * time.Second}.withDefaults())
	var deadline time.Time
	var has bool
	h := g.wrap(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, has = r.Context().Deadline()
	}))
	h.ServeHTTP(httptest.NewRecorder(), postQuery(`{ __typename }`, nil))
	if !has || time.Until(deadline) > 5*time.Second || time.Until(deadline) < 4*time.Second {
		t.Errorf("query deadline = %v, %v; want in 5s", deadline, has)
	}
	ws := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	ws.Header.Set("Upgrade", "websocket")
	h.ServeHTTP(httptest.NewRecorder(), ws)
	if has {
		t.Error("a websocket got a deadline: subscriptions would end after it")
	}

	// A resolver past the deadline answers with an error, not a hang.
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{Timeout: time.Nanosecond}})
	r := ts.do(postQuery(`{ themes { slug } }`, nil))
	if r.code() != codeTimeout {
		t.Errorf("past the deadline: %+v %+v", r.Data, r.Errors)
	}
}

// A query sent over a websocket or as server-sent events is bound by the
// request timeout as one over POST is; a subscription is not.
func TestDeadlineOnEveryTransport(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{Timeout: time.Nanosecond}})
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	c := dial(t, srv.URL, "graphql-transport-ws")
	c.init("")
	c.send(map[string]any{"id": "q", "type": "subscribe", "payload": map[string]any{"query": `{ themes { slug } }`}})
	m, err := c.next(3 * time.Second)
	if err != nil || m["type"] != "next" || !strings.Contains(mustJSON(m), codeTimeout) {
		t.Errorf("query over a websocket past the deadline: %v %v", m, err)
	}
	c.send(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{"query": `subscription { storyPublished { id } }`}})
	for {
		m, err = c.next(300 * time.Millisecond)
		if err != nil {
			break // still open and quiet: not cut off by the deadline
		}
		if m["id"] == "s" {
			t.Fatalf("subscription ended by the query deadline: %v", m)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{ themes { slug } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), codeTimeout) {
		t.Errorf("query as server-sent events past the deadline: %d %s", resp.StatusCode, body)
	}
}

// Weak spot: nodes(ids:) and lists without `first` counted as one object
// whatever their length. Every list whose items hold objects has a size
// for the complexity (unpagedListSizes), so a new one cannot count as 1.
func TestEveryListHasASize(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	// An interface's items hold what its implementations' fragments
	// select (a sync's `changed` is a list of Node).
	var holdsObjects func(typ string) bool
	holdsObjects = func(typ string) bool {
		for _, f := range schema.Types[typ].Fields {
			if k := schema.Types[f.Type.Name()].Kind; k == ast.Object || k == ast.Interface || k == ast.Union {
				return true
			}
		}
		if def := schema.Types[typ]; def.Kind == ast.Interface || def.Kind == ast.Union {
			for _, impl := range schema.PossibleTypes[typ] {
				if holdsObjects(impl.Name) {
					return true
				}
			}
		}
		return false
	}
	needed := map[string]bool{}
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			key := name + "." + f.Name
			item := f.Type.Name()
			paged := f.Arguments.ForName("first") != nil || f.Arguments.ForName("ids") != nil ||
				(f.Name == "edges" && strings.HasSuffix(name, "Connection"))
			if f.Type.Elem == nil || paged || !holdsObjects(item) {
				continue
			}
			needed[key] = true
			if _, ok := unpagedListSizes[key]; !ok {
				t.Errorf("%s is a list of %s without first: give it its largest length in unpagedListSizes", key, item)
			}
		}
	}
	for key := range unpagedListSizes {
		if !needed[key] {
			t.Errorf("unpagedListSizes names %s, which is not a list of objects without first", key)
		}
	}
}

func TestComplexityCountsListLengths(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{ComplexityLimit: 60})
	// nodes (1) holding an organisation per activity: 1 + n.
	ids := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = globalID(typeActivity, int64(i+1))
		}
		return out
	}
	const q = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Activity { organisation { id } } } }`
	for n, want := range map[int]string{1: "", 59: "", 60: codeComplexityLimit, 100: codeComplexityLimit} {
		req := postJSON(mustJSON(map[string]any{"query": q, "variables": map[string]any{"ids": ids(n)}}))
		if r := ts.do(req); r.code() != want {
			t.Errorf("nodes of %d ids: code %q, want %q (%+v)", n, r.code(), want, r.Errors)
		}
	}
	literal := `{ nodes(ids: [` + strings.Repeat(`"x" `, 70) + `]) { ... on Activity { organisation { id } } } }`
	if r := ts.do(postQuery(literal, nil)); r.code() != codeComplexityLimit {
		t.Errorf("nodes of 70 literal ids: %+v", r.Errors)
	}
	// A list without first counts as its largest length (a page, 20):
	// me (1) + claims (1 + 20 × (slot 1 + activity 1)) = 42; nested in an
	// activity's slots it is 20 × 20. A list of scalar-only items is 1.
	schema := NewExecutableSchema(Config{}).Schema()
	for doc, want := range map[string]int{
		`{ me { claims { slot { activity { id } } } } }`:                                       42,
		`{ activity(id: "x") { slots { claims { volunteer { id } } } } }`:                      1 + 1 + 20*(1+20*1),
		`{ story(id: "x") { photos { id } } }`:                                                 2,
		`query($i: [ID!]!) { nodes(ids: $i) { ... on Story { photos { id } } } }`:              1 + 3*1,
		`query($i: [ID!]!) { nodes(ids: $i) { ... on Activity { slots { claims { id } } } } }`: 1 + 3*(1+20*1),
		// An item is one of the object types its fragments are on, so it
		// costs the dearest of them; a fragment on an interface may
		// overlap the others, so it adds up.
		`query($i: [ID!]!) { nodes(ids: $i) { ... on Story { photos { id } } ... on Activity { slots { claims { id } } } } }`:        1 + 3*(1+20*1),
		`query($i: [ID!]!) { nodes(ids: $i) { ... on Node { ... on Activity { slots { id } } } ... on Activity { slots { id } } } }`: 1 + 3*(1+1),
		`query($i: [ID!]!) { nodes(ids: $i) { ... on Activity { place { id } } ... on Activity { organisation { id } } } }`:          1 + 3*2,
		// A sync's page holds its first objects: the sync counts them.
		`{ sync(first: 100) { changed { ... on Activity { place { id } } ... on Story { activity { id } organisation { id } } } } }`: 1 + 100*(1+2),
	} {
		q, errs := gqlparser.LoadQueryWithRules(schema, doc, nil)
		if errs != nil {
			t.Fatalf("%s: %v", doc, errs)
		}
		c := (&walker{vars: map[string]any{"i": []any{"a", "b", "c"}}, frags: map[string]cost{}}).selectionSet(q.Operations[0].SelectionSet)
		if c.complexity != want {
			t.Errorf("%s: complexity %d, want %d", doc, c.complexity, want)
		}
	}
}

// Documents released app versions still send, after their operation
// changed, stay executable under their old hashes.
func TestRetiredDocumentsStayTrusted(t *testing.T) {
	docs, _, _ := loadManifest(t)
	b, err := os.ReadFile(filepath.Join("..", "mobile-contract", RetiredDocumentsFile))
	if err != nil {
		t.Fatal(err)
	}
	var retired map[string]string
	if err := json.Unmarshal(b, &retired); err != nil {
		t.Fatal(err)
	}
	if len(retired) == 0 {
		t.Fatal("no retired documents to try")
	}
	ts := newTestServerWith(t, storetest.SQLite(t), Options{TrustedDocuments: docs})
	for hash := range retired {
		if docs[hash] == "" {
			t.Errorf("retired document %s is not trusted", hash)
			continue
		}
		// Found and run: a mutation's missing $input, or a visitor's want
		// of a sign-in for one that takes none, is the only complaint.
		r := ts.do(postQuery("", persisted(hash)))
		if c := r.code(); c == codePersistedQueryNotFound || c == codePersistedQueryRequired ||
			(c != "" && c != apperr.CodeUnauthenticated && !strings.Contains(mustJSON(r.Errors), "variable")) {
			t.Errorf("retired document %s: status %d %+v", hash, r.status, r.Errors)
		}
	}
}

// A refused request says why in the caller's language, Danish unless
// asked otherwise, on HTTP and on a websocket.
func TestLimitMessagesInTheCallersLanguage(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{ComplexityLimit: 10, Limits: Limits{MaxBodyBytes: 1 << 10}})
	complex := `{ activities(first: 50) { edges { node { id title } } } }`
	for _, c := range []struct{ lang, want string }{
		{"", "kompleksitet"}, {"da", "kompleksitet"}, {"en", "complexity"},
	} {
		req := postQuery(complex, nil)
		if c.lang != "" {
			req.Header.Set("Accept-Language", c.lang)
		}
		r := ts.do(req)
		if r.code() != codeComplexityLimit || !strings.Contains(r.Errors[0].Message, c.want) {
			t.Errorf("Accept-Language %q: %+v, want a message with %q", c.lang, r.Errors, c.want)
		}
	}
	for _, c := range []struct{ lang, want string }{{"", "højst"}, {"en", "at most"}} {
		req := postJSON(`{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 2<<10) + `"}}`)
		req.Header.Set("Accept-Language", c.lang)
		if r := ts.do(req); r.code() != codePayloadTooLarge || !strings.Contains(r.Errors[0].Message, c.want) {
			t.Errorf("too large, Accept-Language %q: %+v", c.lang, r.Errors)
		}
	}

	srv := httptest.NewServer(ts.handler)
	defer srv.Close()
	h := http.Header{}
	h.Set("Accept-Language", "en")
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	send := func(v any) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(mustJSON(v))); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init"})
	send(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": `subscription { activityPublished { id slots { id } place { activities(first: 50) { edges { node { id } } } } } }`}})
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no answer to a subscription over the limit: %v", err)
		}
		var msg struct {
			Type    string `json:"type"`
			Payload gqlErrors
		}
		_ = json.Unmarshal(b, &msg)
		if msg.Type != "error" {
			continue
		}
		if len(msg.Payload) == 0 || !strings.Contains(msg.Payload[0].Message, "complexity") {
			t.Errorf("websocket refusal: %s", b)
		}
		break
	}
}

// GraphiQL (development) loads the schema with the standard introspection
// query: it fits the default limits.
func TestIntrospectionFitsTheDefaultLimits(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Development: true, ComplexityLimit: 1000})
	r := ts.do(postQuery(introspection.Query, nil))
	if r.status != http.StatusOK || len(r.Errors) > 0 || r.Data["__schema"] == nil {
		t.Errorf("introspection: status %d %+v", r.status, r.Errors)
	}
}
