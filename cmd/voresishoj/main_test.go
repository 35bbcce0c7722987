package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/store"
)

// syncBuffer is stderr shared by the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The server, run as `voresishoj serve`, writes only JSON lines to stderr:
// its own, the log package's, go-redis' (here: a Redis that is not
// there). Lines of a request carry its id, a refused sign-in's included;
// request lines name the operation, its codes and a pseudonym of the
// caller; and no line holds an e-mail address, a phone number or a token.
// A misspelt setting is warned of at start.
func TestLogsAreJSON(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	for k, v := range map[string]string{
		"DATA_DIR": dir, "LISTEN_ADDR": addr, "METRICS_ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug",
		"REDIS_URL":    "redis://127.0.0.1:" + strings.Split(freeAddr(t), ":")[1] + "/0",
		"REDIS_URI":    "redis://typo:6379", // not a setting
		"DATABASE_URL": filepath.Join(dir, "voresishoj.db"),
		"DRAIN_DELAY":  "0s",
	} {
		t.Setenv(k, v)
	}
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, &stderr) }()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	waitFor(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var tokenOut bytes.Buffer
	if err := run(ctx, []string{"token", "--email", demo.VolunteerEmail}, &tokenOut, &stderr); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(tokenOut.String())

	post := func(token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	post("", `{"query":"query Upcoming { activities(first: 2) { edges { node { id } } } }"}`)
	post(token, `{"query":"query Mine { me { id email phone claims { id } } }"}`)
	post(token, `{"query":"mutation Claim { claimSlot(input: {slotId: \"Vm9sdW50ZWVyU2xvdDo5OTk5OTk\", idempotencyKey: \"k\"}) { claim { id } userErrors { code } } }"}`)
	bogus := token[:len(token)-4] + "AAAA"
	// In plain JSON a refused token is a 200 with UNAUTHENTICATED in the
	// body (internal/auth's writeError, as the GraphQL over HTTP spec asks).
	if code := post(bogus, `{"query":"{ me { id } }"}`); code != http.StatusOK {
		t.Errorf("tampered token answered %d", code)
	}
	post("", `{"query":"query Broken { activities("}`)
	calendarToken := "secretcalendartoken0123456789"
	if resp, err := http.Get(base + "/ical/me/" + calendarToken + ".ics"); err == nil {
		resp.Body.Close()
	}
	// A websocket whose token is refused.
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil {
		_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + bogus}})
		_, _, _ = conn.Read(ctx)
		conn.CloseNow()
	}
	log.Printf("a line from the log package")
	time.Sleep(300 * time.Millisecond) // the websocket's request line
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	done <- nil

	// What the log must not hold: everyone's e-mail and phone from the
	// database, the tokens, and anything shaped like them.
	db, err := store.Open(context.Background(), filepath.Join(dir, "voresishoj.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var people []struct {
		Email *string `db:"email"`
		Phone *string `db:"phone"`
	}
	if err := store.Select(context.Background(), db, &people, `SELECT email, phone FROM users`); err != nil {
		t.Fatal(err)
	}
	secrets := []string{token, bogus, calendarToken, "Bearer"}
	for _, p := range people {
		if p.Email != nil {
			secrets = append(secrets, *p.Email)
		}
		if p.Phone != nil {
			secrets = append(secrets, *p.Phone, strings.TrimPrefix(*p.Phone, "+45"))
		}
	}
	email := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+`)
	phone := regexp.MustCompile(`\+45 ?\d{2} ?\d{2} ?\d{2} ?\d{2}`)

	var lines []map[string]any
	for i, line := range strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %d is not JSON: %q", i+1, line)
			continue
		}
		lines = append(lines, m)
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("line %d holds %q: %s", i+1, s, line)
			}
		}
		if email.MatchString(line) || phone.MatchString(line) {
			t.Errorf("line %d holds an address or a phone number: %s", i+1, line)
		}
	}
	t.Logf("%d lines, all JSON", len(lines))
	if testing.Verbose() {
		t.Log(stderr.String())
	}

	find := func(what string, match func(m map[string]any) bool) map[string]any {
		for _, m := range lines {
			if match(m) {
				return m
			}
		}
		t.Errorf("no log line %s", what)
		return nil
	}
	msg := func(m map[string]any) string { s, _ := m["msg"].(string); return s }
	find("warns of REDIS_URI", func(m map[string]any) bool {
		return strings.Contains(msg(m), "REDIS_URI") && strings.Contains(msg(m), "REDIS_URL")
	})
	find("from the log package", func(m map[string]any) bool { return msg(m) == "a line from the log package" })
	find("from go-redis", func(m map[string]any) bool { return m["component"] == "redis" })
	if m := find("refusing the tampered token", func(m map[string]any) bool { return msg(m) == "sign-in token refused" }); m != nil && m["request_id"] == nil {
		t.Errorf("the refused sign-in has no request id: %v", m)
	}
	pseudonym := regexp.MustCompile(`^[0-9a-f]{16}$`)
	if m := find("for the signed-in query", func(m map[string]any) bool {
		ops, _ := m["operations"].([]any)
		return msg(m) == "request" && len(ops) == 1 && ops[0] == "Mine"
	}); m != nil {
		if c, _ := m["caller"].(string); !pseudonym.MatchString(c) || m["request_id"] == nil || m["route"] != "graphql" {
			t.Errorf("request line without pseudonym, id or route: %v", m)
		}
	}
	find("with the claim's userError", func(m map[string]any) bool {
		ues, _ := m["user_errors"].([]any)
		return msg(m) == "request" && len(ues) > 0
	})
	find("with the parse error's code", func(m map[string]any) bool {
		codes, _ := m["codes"].([]any)
		return msg(m) == "request" && len(codes) == 1 && codes[0] == "GRAPHQL_PARSE_FAILED"
	})
	find("for the personal calendar, without its token", func(m map[string]any) bool {
		return msg(m) == "request" && m["path"] == "/ical/me/{token}"
	})
	// Every line logged while a request ran carries its id.
	for _, m := range lines {
		if msg(m) == "domain event" || msg(m) == "sign-in token refused" || msg(m) == "request" {
			if m["request_id"] == nil {
				t.Errorf("line of a request without request_id: %v", m)
			}
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitFor polls until ok. The bound is generous on purpose: a fresh start
// migrates and seeds the demo data (generating its cover images), which
// under -race on a loaded two-core machine took longer than the 15 s this
// used to allow; it is a wait for readiness, not a measure of start-up
// time (the load tool's coldstart scenario measures that).
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the server did not become ready")
}
