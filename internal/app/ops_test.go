package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// The names README lists under "Metrics", each present at the first
// scrape of a server that has answered a few requests.
var metricNames = []string{
	"voresishoj_http_requests_total",
	"voresishoj_http_request_duration_seconds_bucket",
	"voresishoj_graphql_operations_total",
	"voresishoj_graphql_operation_duration_seconds_bucket",
	"voresishoj_graphql_errors_total",
	"voresishoj_graphql_user_errors_total",
	"voresishoj_volunteer_claims_total",
	"voresishoj_volunteer_waitlist_promotions_total",
	"voresishoj_live_connections",
	"voresishoj_jobs",
	"voresishoj_job_failures_total",
	"voresishoj_push_deliveries_total",
	"voresishoj_redis_fallbacks_total",
	"go_sql_open_connections",
	"go_sql_wait_count_total",
	"go_goroutines",
	"process_resident_memory_bytes",
}

// A test scrapes /metrics on its own address (not the API's) after
// queries, a refused document, a claim with a userError and an open
// websocket, and finds every name with the counts those requests make.
func TestMetrics(t *testing.T) {
	s := start(t, nil)
	addr := metricsAddr(t, s)
	if resp, err := http.Get(s.url + "/metrics"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("/metrics is served on the public address")
		}
		resp.Body.Close()
	}
	volunteer := tokenFor(t, s, "ny-metrics@example.dk")

	s.gql(t, "", `query Upcoming { activities(first: 3) { edges { node { id } } } }`, nil)
	s.gql(t, "", `query Broken { activities(`, nil)
	slotID := openSlot(t, s, 1)
	claim := `mutation Claim($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { code } } }`
	_, out := s.gql(t, volunteer, claim, map[string]any{"i": map[string]any{"slotId": slotID, "idempotencyKey": "m1"}})
	if !strings.Contains(mustJSON(out), "CONFIRMED") {
		t.Fatalf("claim: %v", out)
	}
	// Claiming the same slot again with another key is the person's
	// mistake, answered in userErrors (ALREADY_CLAIMED).
	_, out = s.gql(t, volunteer, claim, map[string]any{"i": map[string]any{"slotId": slotID, "idempotencyKey": "m2"}})
	if !strings.Contains(mustJSON(out), `"code"`) {
		t.Fatalf("second claim: %v", out)
	}

	conn := openWebsocket(t, s.url, volunteer)
	defer conn.CloseNow()

	body := scrape(t, addr)
	for _, name := range metricNames {
		if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(body) {
			t.Errorf("metric %s missing", name)
		}
	}
	for _, want := range []string{
		`voresishoj_graphql_operations_total{operation="Upcoming",outcome="ok",type="query"} 1`,
		`voresishoj_graphql_operations_total{operation="anonymous",outcome="refused",type="unknown"} 1`,
		`voresishoj_graphql_operations_total{operation="Claim",outcome="ok",type="mutation"} 2`,
		`voresishoj_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"} 1`,
		`voresishoj_volunteer_claims_total{status="confirmed"} 1`,
		`voresishoj_live_connections{transport="websocket"} 1`,
		`voresishoj_http_requests_total{code="200",route="graphql"}`,
		`voresishoj_jobs{kind="notify_deliver",state="available"}`,
		`voresishoj_job_failures_total{final="true",kind="notify_deliver"} 0`,
		`voresishoj_push_deliveries_total{status="sent"}`,
		`voresishoj_redis_fallbacks_total{component="pubsub"}`,
		`go_sql_open_connections{db_name="sqlite"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(body, want[:strings.IndexAny(want, "{ ")]))
		}
	}
	if !regexp.MustCompile(`voresishoj_graphql_user_errors_total\{code="[A-Z_]+"\} 1`).MatchString(body) {
		t.Errorf("the second claim's userError is not counted:\n%s", grepLines(body, "user_errors"))
	}
}

// Readiness answers JSON and stays 200 while only a dependency the
// replica can do without is missing; a database it cannot use is 503.
func TestReadyzBody(t *testing.T) {
	s := start(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:" + freePort(t) + "/0"})
	code, r := readyz(t, s.url)
	if code != http.StatusOK || r.Status != "degraded" || r.Checks["database"].Status != "ok" || r.Checks["redis"].Status != "degraded" {
		t.Fatalf("readyz without Redis = %d %+v, want 200 degraded", code, r)
	}
	// A schema behind the binary's migrations makes the replica useless.
	if _, err := s.app.db.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if code, r := readyz(t, s.url); code != http.StatusServiceUnavailable || r.Status != "unavailable" || r.Checks["database"].Status != "down" {
		t.Errorf("readyz with the schema not current = %d %+v, want 503 unavailable", code, r)
	}
}

// A hung Redis (SIGSTOP) holds no request up: every query and claim
// answers, the slowest few pay the Redis deadline until the breaker
// opens. /readyz says degraded and stays 200; when Redis resumes the
// replica uses it again. Then a Redis that refuses connections, and a
// replica that starts while Redis is down.
func TestRedisPausedOrDown(t *testing.T) {
	bin := redisBin(t)
	port := freePort(t)
	rds := startRedis(t, bin, port)
	s := start(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:" + port + "/0",
		"RATE_LIMIT_IP": "100000", "RATE_LIMIT_PERSON": "100000"})
	volunteer := tokenFor(t, s, demo.VolunteerEmail)
	query := `query Upcoming { activities(first: 5) { edges { node { id title } } } }`
	me := `query Me { me { id claims { id status } } }`
	for range 5 { // warm up: connections, caches
		s.gql(t, "", query, nil)
		s.gql(t, volunteer, me, nil)
	}

	// measure runs queries, anonymous and signed in by turns, for d
	// with gap between them.
	measure := func(label string, d, gap time.Duration) []time.Duration {
		t.Helper()
		var took []time.Duration
		failed := 0
		end := time.Now().Add(d)
		for i := 0; time.Now().Before(end); i++ {
			time.Sleep(gap)
			token, q := "", query
			if i%2 == 1 {
				token, q = volunteer, me
			}
			start := time.Now()
			status, out := s.gql(t, token, q, nil)
			took = append(took, time.Since(start))
			if status != http.StatusOK || out["errors"] != nil || out["data"] == nil {
				if failed++; failed == 1 {
					t.Logf("%s: %d %v", label, status, out)
				}
			}
		}
		if failed > 0 {
			t.Errorf("%s: %d of %d queries failed", label, failed, len(took))
		}
		slices.Sort(took)
		p := func(q float64) time.Duration { return took[int(float64(len(took)-1)*q)] }
		t.Logf("%s: %d queries in %s, p50 %s, p99 %s, max %s", label, len(took), d, p(.5), p(.99), took[len(took)-1])
		// The target is p99 ≤ 300ms (README); asserted generously so a
		// loaded CI machine does not fail it: no query may wait anything
		// like go-redis' own timeouts (seconds).
		slow, over := 0, 0
		for _, d := range took {
			if d > time.Second {
				slow++
			}
			if d > 250*time.Millisecond {
				over++
			}
		}
		t.Logf("%s: %d over 250ms", label, over)
		if slow > 2 {
			t.Errorf("%s: %d queries took over a second", label, slow)
		}
		return took
	}

	measure("redis up", time.Second, 10*time.Millisecond)
	if err := rds.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	// Longer than two of the breaker's 5s open periods, so its probes
	// of the hung Redis are in the figures.
	measure("redis paused", 11*time.Second, 10*time.Millisecond)
	// A claim is written and answered; its live update reaches this
	// replica's subscribers only.
	_, out := s.gql(t, tokenFor(t, s, "ny-paused@example.dk"), `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } userErrors { code } } }`,
		map[string]any{"i": map[string]any{"slotId": openSlot(t, s, 1), "idempotencyKey": "paused"}})
	if !strings.Contains(mustJSON(out), "CONFIRMED") {
		t.Errorf("claim while Redis is paused: %v", out)
	}
	code, r := readyz(t, s.url)
	if code != http.StatusOK || r.Status != "degraded" || r.Checks["redis"].Breaker != "open" {
		t.Errorf("readyz with Redis paused = %d %+v, want 200, degraded, breaker open", code, r)
	}
	body := scrape(t, metricsAddr(t, s))
	if !strings.Contains(body, "voresishoj_redis_available 0") {
		t.Errorf("metrics do not say Redis is unavailable:\n%s", grepLines(body, "redis"))
	}
	if m := regexp.MustCompile(`voresishoj_redis_fallbacks_total\{component="ratelimit"\} (\d+)`).FindStringSubmatch(body); m == nil || m[1] == "0" {
		t.Errorf("rate-limit fallbacks not counted:\n%s", grepLines(body, "fallbacks"))
	}
	t.Logf("paused for %s", time.Since(paused))

	if err := rds.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s.url, "ready", 10*time.Second)

	rds.stop()
	measure("redis refusing", 2*time.Second, 10*time.Millisecond)
	if code, r := readyz(t, s.url); code != http.StatusOK || r.Checks["redis"].Status != "degraded" {
		t.Errorf("readyz with Redis refusing = %d %+v", code, r)
	}

	// A replica started while Redis is down starts, serves, and takes
	// Redis up when it comes.
	b := start(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:" + port + "/0", "DATABASE_URL": s.cfg.DatabaseURL})
	if status, out := b.gql(t, "", query, nil); status != http.StatusOK || out["data"] == nil {
		t.Fatalf("replica started without Redis: %d %v", status, out)
	}
	startRedis(t, bin, port)
	waitReady(t, b.url, "ready", 10*time.Second)
	waitReady(t, s.url, "ready", 10*time.Second)
}

// SIGTERM with an event stream and a websocket open: /readyz fails at
// once while requests are still served for DRAIN_DELAY, the job queue
// takes no more jobs, the websocket gets close 1001, the event stream
// ends, and the server is gone well before SHUTDOWN_TIMEOUT.
func TestShutdownDrains(t *testing.T) {
	s := start(t, map[string]string{"DRAIN_DELAY": "1500ms", "SHUTDOWN_TIMEOUT": "20s"})
	volunteer := tokenFor(t, s, demo.VolunteerEmail)

	// The event stream: a subscription over SSE.
	sub, _ := json.Marshal(map[string]any{"query": `subscription { notificationReceived { id } }`})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(sub))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+volunteer)
	sse, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	if sse.StatusCode != http.StatusOK || !strings.HasPrefix(sse.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %d %s", sse.StatusCode, sse.Header.Get("Content-Type"))
	}
	sseDone := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(sse.Body)
		sseDone <- string(b)
	}()

	conn := openWebsocket(t, s.url, volunteer)
	defer conn.CloseNow()
	wsDone := make(chan error, 1)
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				wsDone <- err
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)

	sigterm := time.Now()
	s.cancel()
	waitReady(t, s.url, "draining", time.Second)
	if d := time.Since(sigterm); d > 500*time.Millisecond {
		t.Errorf("readiness took %s to fail", d)
	}
	// Still serving while the load balancer catches up.
	if status, _ := s.gql(t, "", `{ activities(first: 1) { edges { node { id } } } }`, nil); status != http.StatusOK {
		t.Errorf("query during the drain = %d", status)
	}
	// A job enqueued now waits for another replica: this one's queue has
	// stopped fetching (it polls every second).
	var userID int64
	if err := store.Get(context.Background(), s.app.db, &userID, `SELECT id FROM users WHERE email = ?`, demo.VolunteerEmail); err != nil {
		t.Fatal(err)
	}
	if err := s.app.db.Transact(context.Background(), func(tx *sqlx.Tx) error {
		return s.app.notifier.Notify(context.Background(), tx, notify.NewNotification{UserID: userID, Kind: notify.KindAnnouncement, Title: "t", Body: "b"})
	}); err != nil {
		t.Fatal(err)
	}

	select {
	case err := <-wsDone:
		if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
			t.Errorf("websocket ended with %v (status %d), want close 1001", err, code)
		}
		if d := time.Since(sigterm); d < 1400*time.Millisecond {
			t.Errorf("websocket closed %s after SIGTERM, before DRAIN_DELAY", d)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("no close frame on the websocket")
	}
	select {
	case body := <-sseDone:
		if !strings.Contains(body, "event: complete") {
			t.Errorf("event stream ended without complete: %q", body)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the event stream did not end")
	}
	select {
	case err := <-s.done:
		took := time.Since(sigterm)
		t.Logf("stopped %s after SIGTERM (DRAIN_DELAY 1.5s, SHUTDOWN_TIMEOUT 20s)", took)
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
		if took > 5*time.Second {
			t.Errorf("shutdown took %s with one event stream and one websocket open", took)
		}
		s.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
	var state string
	if err := store.Get(context.Background(), s.app.db, &state, `SELECT state FROM river_job WHERE kind = ? ORDER BY id DESC LIMIT 1`,
		notify.DeliverArgs{}.Kind()); err != nil {
		t.Fatal(err)
	}
	// Scheduled when the push falls in the volunteer's quiet hours
	// (22–07 in Copenhagen by default): it waits for the morning, on
	// another replica too. Either way the stopping replica did not take it.
	if state != "available" && state != "scheduled" {
		t.Errorf("the job enqueued during the drain is %s, want available or scheduled (not taken by the stopping replica)", state)
	}
}

func redisBin(t *testing.T) string {
	const bin = "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing", bin)
		}
		t.Skipf("%s not available", bin)
	}
	return bin
}

func tokenFor(t *testing.T, s *started, email string) string {
	t.Helper()
	local, err := auth.NewLocal(s.cfg.DataDir, user.NewService(s.app.db, s.app.now))
	if err != nil {
		t.Fatal(err)
	}
	// The token has a name, as Firebase's for a Google or Apple sign-in
	// have: a new person may claim at once (a known one keeps theirs).
	tok, err := local.IssueForEmail(context.Background(), email, "Ny Frivillig")
	if err != nil {
		t.Fatal(err)
	}
	answerAge(t, s, tok)
	return tok
}

// answerAge answers the age question (13 or older) for the person signed
// in with token, as the app asks at sign-up: until then claiming and
// writing answer AGE_REQUIRED.
func answerAge(t *testing.T, s *started, token string) {
	t.Helper()
	_, out := s.gql(t, token, `mutation { updateMe(input: {ageGroup: AT_LEAST_13}) { me { ageRequired } userErrors { code } } }`, nil)
	if !strings.Contains(mustJSON(out), `"ageRequired":false`) {
		t.Fatalf("answering the age question: %s", mustJSON(out))
	}
}

// openSlot returns the global id of a published slot open for signing up
// now with room for n more.
func openSlot(t *testing.T, s *started, n int) string {
	t.Helper()
	now := s.app.now()
	var id int64
	if err := store.Get(context.Background(), s.app.db, &id, `SELECT s.id FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE a.status = 'PUBLISHED' AND s.requirement IS NULL AND s.starts_at > ? AND s.taken + ? <= s.capacity
			AND (s.signup_opens_at IS NULL OR s.signup_opens_at <= ?) AND (s.signup_closes_at IS NULL OR s.signup_closes_at > ?)
			AND NOT EXISTS (SELECT 1 FROM slot_claims c WHERE c.slot_id = s.id)
		ORDER BY s.starts_at DESC LIMIT 1`, now, n, now, now); err != nil {
		t.Fatal(err)
	}
	return globalIDFor("VolunteerSlot", id)
}

func openWebsocket(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	var ack map[string]any
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := wsjson.Read(rctx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
		t.Fatalf("websocket init: %v %v", ack, err)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": `subscription { notificationReceived { id } }`}}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// metricsAddr waits for the server to listen for metrics.
func metricsAddr(t *testing.T, s *started) string {
	t.Helper()
	for range 200 {
		if a := s.app.MetricsAddr(); a != "" {
			return a
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no metrics address")
	return ""
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func grepLines(body, sub string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) && !strings.HasPrefix(sc.Text(), "#") {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

func readyz(t *testing.T, url string) (int, Readiness) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	return resp.StatusCode, r
}

// waitReady polls /readyz until its status is want.
func waitReady(t *testing.T, url, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last Readiness
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&last)
			resp.Body.Close()
			if last.Status == want {
				return
			}
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("readyz did not become %s within %s: %+v", want, within, last)
}

// A query that merely accepts an event stream, as urql's do, is an
// ordinary request: answered JSON, timed, not counted as a live
// connection; a subscription over server-sent events is one.
func TestQueriesAcceptingEventStreamsAreNotStreams(t *testing.T) {
	s := start(t, nil)
	addr := metricsAddr(t, s)
	volunteer := tokenFor(t, s, "ny-urql@example.dk")
	post := func(accept, query string) *http.Response {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Bearer "+volunteer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	sse := post("text/event-stream, multipart/mixed", `subscription { notificationReceived { id } }`)
	defer sse.Body.Close()
	if !strings.HasPrefix(sse.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("subscription: %s", sse.Header.Get("Content-Type"))
	}
	before := grepLines(scrape(t, addr), `voresishoj_http_request_duration_seconds_count{route="graphql"}`)
	for range 3 {
		resp := post("application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed",
			`query Themes { themes { slug } }`)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			t.Errorf("query with urql's Accept: %s", resp.Header.Get("Content-Type"))
		}
	}
	body := scrape(t, addr)
	if !strings.Contains(body, `voresishoj_live_connections{transport="sse"} 1`) {
		t.Errorf("live event streams, want the one subscription:\n%s", grepLines(body, "live_connections"))
	}
	if after := grepLines(body, `voresishoj_http_request_duration_seconds_count{route="graphql"}`); after == before {
		t.Errorf("urql's queries were not timed as requests: %s", after)
	}
}
