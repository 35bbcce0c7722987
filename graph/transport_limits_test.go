package graph

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// dialFrom opens a graphql-transport-ws connection as a client at ip
// (the servers below trust X-Real-IP).
func dialFrom(t *testing.T, url, ip string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	h.Set("X-Real-IP", ip)
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial from %s: %v (status %d)", ip, err, status)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}
}

// initAnswer sends connection_init and returns the close code it gets, or
// 0 when it is acknowledged.
func (c *wsClient) initAnswer(token string) websocket.StatusCode {
	c.t.Helper()
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	m, err := c.next(3 * time.Second)
	if err != nil {
		return closeCode(err)
	}
	if m["type"] != "connection_ack" {
		c.t.Fatalf("init: %v", m)
	}
	return 0
}

// operation sends one query over the connection and returns its first
// answer that is not a complete.
func (c *wsClient) operation(id, query string) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
	for {
		m, err := c.next(3 * time.Second)
		if err != nil {
			c.t.Fatalf("operation %s: %v", id, err)
		}
		if m["type"] != "complete" {
			return m
		}
	}
}

func randomIP() string {
	return fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), rand.IntN(256))
}

func sseRequest(t *testing.T, ctx context.Context, url, ip, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", strings.NewReader(`{"query":"subscription { storyPublished { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-Real-IP", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Hole 6: every operation over a websocket counts against the same
// per-person and per-IP limits as HTTP requests do, one bucket for both.
func TestWebsocketOperationsShareTheRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{RateLimits: RateLimits{
			PerPerson: ratelimit.Limit{Rate: 5, Per: time.Minute, Burst: 5},
			PerIP:     ratelimit.Limit{Rate: 4, Per: time.Minute, Burst: 4},
			IPHeader:  "X-Real-IP",
		}})
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		token, _ := ts.person("mette", true)

		// A person: five operations, over one socket opened from each of
		// several addresses so the per-IP limit does not come first.
		var answered, refused int
		var refusal map[string]any
		for i := range 10 {
			c := dialFrom(t, srv.URL, randomIP())
			c.init(token)
			m := c.operation("q", `{ themes { slug } }`)
			switch m["type"] {
			case "next":
				answered++
			case "error":
				refused++
				refusal = m
				// The connection lives on after a refused operation.
				if m := c.operation("again", `{ __typename }`); m["type"] != "error" {
					t.Fatalf("connection after a refused operation: %v", m)
				}
			default:
				t.Fatalf("operation %d: %v", i, m)
			}
			c.conn.Close(websocket.StatusNormalClosure, "")
		}
		if answered != 5 || refused != 5 {
			t.Errorf("a person's 10 operations over websockets (and 5 more after refusals): %d answered, %d refused; want 5 and 5", answered, refused)
		}
		b := mustJSON(refusal)
		if !strings.Contains(b, `"code":"RATE_LIMITED"`) || !strings.Contains(b, `"retryAfter":12`) || !strings.Contains(b, "om 12 s)") {
			t.Errorf("refusal: %s", b)
		}
		// The same bucket holds for the person's HTTP requests.
		req := postQuery(`{ themes { slug } }`, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Real-IP", randomIP())
		if r := ts.do(req); r.status != http.StatusTooManyRequests {
			t.Errorf("the person's HTTP request after their websocket operations: status %d", r.status)
		}

		// An address: the upgrade request and three operations use up its
		// four; a fourth operation, anonymous, is refused.
		ip := randomIP()
		c := dialFrom(t, srv.URL, ip)
		c.init("")
		for i := range 3 {
			if m := c.operation(fmt.Sprint(i), `{ __typename }`); m["type"] != "next" {
				t.Fatalf("anonymous operation %d: %v", i, m)
			}
		}
		if m := c.operation("3", `{ __typename }`); m["type"] != "error" || !strings.Contains(mustJSON(m), "RATE_LIMITED") {
			t.Errorf("the address's fifth request (fourth operation): %v", m)
		}
		req = postQuery(`{ __typename }`, nil)
		req.Header.Set("X-Real-IP", ip)
		if r := ts.do(req); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("HTTP from the address after its websocket operations: status %d", r.status)
		}
	})
}

// Hole 6: anonymous live connections are capped per address; a signed-in
// person's count toward their own cap instead.
func TestAnonymousConnectionsAreCappedPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{MaxAnonymousConnectionsPerIP: 3, RateLimits: RateLimits{IPHeader: "X-Real-IP"}})
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		ip := randomIP()
		var open []*wsClient
		for i := range 3 {
			c := dialFrom(t, srv.URL, ip)
			if code := c.initAnswer(""); code != 0 {
				t.Fatalf("anonymous socket %d: close %d", i+1, code)
			}
			open = append(open, c)
		}
		if code := dialFrom(t, srv.URL, ip).initAnswer(""); code != closeTooManyInitRequest {
			t.Errorf("fourth anonymous socket from one address: close %d, want 4429", code)
		}
		// A stream of server-sent events counts too.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if resp := sseRequest(t, ctx, srv.URL, ip, ""); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("anonymous SSE stream beyond the cap: status %d", resp.StatusCode)
		}
		if code := dialFrom(t, srv.URL, randomIP()).initAnswer(""); code != 0 {
			t.Errorf("another address: close %d", code)
		}
		token, _ := ts.person("jonas", true)
		if code := dialFrom(t, srv.URL, ip).initAnswer(token); code != 0 {
			t.Errorf("a signed-in person at a full address: close %d", code)
		}
		// A closed connection gives its slot back.
		open[0].conn.Close(websocket.StatusNormalClosure, "")
		deadline := time.Now().Add(3 * time.Second)
		for {
			code := dialFrom(t, srv.URL, ip).initAnswer("")
			if code == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("slot not given back after a close: %d", code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// Hole 6: streams of server-sent events count toward the person's cap of
// live connections, beside their websockets.
func TestServerSentEventsCountTowardTheConnectionCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{MaxConnectionsPerPerson: 2, RateLimits: RateLimits{IPHeader: "X-Real-IP"}})
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		token, _ := ts.person("mette", true)

		c := dialFrom(t, srv.URL, randomIP())
		c.init(token)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first := sseRequest(t, ctx, srv.URL, randomIP(), token)
		if first.StatusCode != http.StatusOK || first.Header.Get("Cache-Control") != "no-store" || first.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("first stream: %d %v", first.StatusCode, first.Header)
		}
		second := sseRequest(t, ctx, srv.URL, randomIP(), token)
		body, _ := io.ReadAll(second.Body)
		if second.StatusCode != http.StatusTooManyRequests || second.Header.Get("Retry-After") == "" || !strings.Contains(string(body), codeTooManyConnections) {
			t.Errorf("third live connection as a stream: %d %s", second.StatusCode, body)
		}
		if code := dialFrom(t, srv.URL, randomIP()).initAnswer(token); code != closeTooManyInitRequest {
			t.Errorf("third live connection as a websocket: close %d, want 4429", code)
		}
		// A stream that ends gives its slot back.
		sctx, scancel := context.WithCancel(context.Background())
		defer scancel()
		c.conn.Close(websocket.StatusNormalClosure, "")
		deadline := time.Now().Add(3 * time.Second)
		for {
			resp := sseRequest(t, sctx, srv.URL, randomIP(), token)
			if resp.StatusCode == http.StatusOK {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("websocket's slot not given back: %d", resp.StatusCode)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// Hole 6 across replicas: two servers sharing Redis share the caps and
// the rate limits of websocket operations.
func TestLiveLimitsHoldAcrossReplicas(t *testing.T) {
	rdb := redisClient(t)
	db := storetest.SQLite(t)
	opts := Options{Redis: rdb, RedisPrefix: fmt.Sprintf("test:%d:", rand.Int64()), MaxConnectionsPerPerson: 2, MaxAnonymousConnectionsPerIP: 1, RateLimits: RateLimits{
		PerPerson: ratelimit.Limit{Rate: 3, Per: time.Minute, Burst: 3}, IPHeader: "X-Real-IP",
	}}
	a, b := newTestServerWith(t, db, opts), newTestServerWith(t, db, opts)
	sa, sb := httptest.NewServer(a.handler), httptest.NewServer(b.handler)
	defer sa.Close()
	defer sb.Close()
	// Both replicas know the same person (one database).
	token, _ := a.person(fmt.Sprintf("replica-%d", rand.Int64()), true)
	b.tokens.identities[token] = a.tokens.identities[token]

	ca := dialFrom(t, sa.URL, randomIP())
	ca.init(token)
	cb := dialFrom(t, sb.URL, randomIP())
	cb.init(token)
	if code := dialFrom(t, sa.URL, randomIP()).initAnswer(token); code != closeTooManyInitRequest {
		t.Errorf("third websocket of a person across replicas: close %d, want 4429", code)
	}
	ip := randomIP()
	dialFrom(t, sa.URL, ip).init("")
	if code := dialFrom(t, sb.URL, ip).initAnswer(""); code != closeTooManyInitRequest {
		t.Errorf("second anonymous socket of an address across replicas: close %d, want 4429", code)
	}
	// Three operations across the two replicas use up the person's three.
	for i, c := range []*wsClient{ca, cb, ca} {
		if m := c.operation(fmt.Sprint(i), `{ __typename }`); m["type"] != "next" {
			t.Fatalf("operation %d: %v", i, m)
		}
	}
	if m := cb.operation("3", `{ __typename }`); m["type"] != "error" || !strings.Contains(mustJSON(m), "RATE_LIMITED") {
		t.Errorf("fourth operation across replicas: %v", m)
	}
}

// Weak spot: a refused token is an HTTP request like any other and counts
// against the per-IP limit (it answered 401 for ever before).
func TestBadTokensAreRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{RateLimits: RateLimits{
			PerIP: ratelimit.Limit{Rate: 3, Per: time.Minute, Burst: 3}, IPHeader: "X-Real-IP",
		}})
		ip := randomIP()
		for i := range 5 {
			req := postQuery(`{ __typename }`, nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer forged-%d", i))
			req.Header.Set("X-Real-IP", ip)
			// Apollo's Accept: a refused token is a 401 in this media type.
			req.Header.Set("Accept", "application/graphql-response+json,application/json;q=0.9")
			r := ts.do(req)
			want := http.StatusUnauthorized
			if i >= 3 {
				want = http.StatusTooManyRequests
			}
			if r.status != want {
				t.Errorf("bad token %d: status %d, want %d", i+1, r.status, want)
			}
		}
	})
}

// IPv6 clients count by their /64: every home has at least that many
// addresses to rotate through.
func TestIPv6AddressesCountByPrefix(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{RateLimits: RateLimits{
		PerIP: ratelimit.Limit{Rate: 2, Per: time.Minute, Burst: 2}, IPHeader: "X-Real-IP",
	}})
	from := func(ip string) int {
		req := postQuery(`{ __typename }`, nil)
		req.Header.Set("X-Real-IP", ip)
		return ts.do(req).status
	}
	from("2001:db8:0:1::1")
	from("2001:db8:0:1::2")
	if s := from("2001:db8:0:1:ffff::3"); s != http.StatusTooManyRequests {
		t.Errorf("third address of one /64: status %d", s)
	}
	if s := from("2001:db8:0:2::1"); s != http.StatusOK {
		t.Errorf("another /64: status %d", s)
	}
	for ip, want := range map[string]string{"192.0.2.1": "192.0.2.1", "::ffff:192.0.2.1": "::ffff:192.0.2.1",
		"2001:db8::1": "2001:db8::/64", "not an address": "not an address"} {
		if got := addressKey(ip); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// Weak spot: every answer of /graphql says not to store it nor sniff it,
// whatever its status.
func TestEveryAnswerIsNotStoredNorSniffed(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{RateLimits: RateLimits{
		PerIP: ratelimit.Limit{Rate: 6, Per: time.Minute, Burst: 6}, IPHeader: "X-Real-IP",
	}, Limits: Limits{MaxBodyBytes: 10 << 10}})
	ip := randomIP()
	forged := postQuery(`{ __typename }`, nil)
	forged.Header.Set("Authorization", "Bearer forged")
	get := httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D", nil)
	reqs := map[string]*http.Request{
		"200":         postQuery(`{ __typename }`, nil),
		"GET":         get,
		"422":         postQuery(`{ nope }`, nil),
		"401":         forged,
		"413":         postJSON(`{"query":"{ __typename }","x":"` + strings.Repeat("a", 20<<10) + `"}`),
		"bad request": postJSON(`{`),
	}
	check := func(name string, h http.Header) {
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Cache-Control %q, X-Content-Type-Options %q", name, h.Get("Cache-Control"), h.Get("X-Content-Type-Options"))
		}
	}
	for name, req := range reqs {
		req.Header.Set("X-Real-IP", ip)
		check(name, ts.do(req).header)
	}
	// The bucket of six is now empty: a 429.
	req := postQuery(`{ __typename }`, nil)
	req.Header.Set("X-Real-IP", ip)
	r := ts.do(req)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("seventh request: %d", r.status)
	}
	check("429", r.header)
}
