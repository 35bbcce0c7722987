package app

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Two replicas share one database and one Redis. A volunteer's app holds
// its websocket on replica A; a claim made through replica B reaches it
// within a second, and again after Redis restarts.
func TestTwoReplicasShareLiveUpdates(t *testing.T) {
	const bin = "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing", bin)
		}
		t.Skipf("%s not available", bin)
	}
	port := freePort(t)
	redisSrv := startRedis(t, bin, port)

	dir := t.TempDir()
	env := map[string]string{
		"DEV_NOW":      clocktest.Now(t).Format(time.RFC3339Nano),
		"DATA_DIR":     dir,
		"DATABASE_URL": filepath.Join(dir, "shared.db"),
		"REDIS_URL":    "redis://127.0.0.1:" + port + "/0",
	}
	a := start(t, env)
	b := start(t, env)

	ctx := context.Background()
	now := a.app.now()
	local, err := auth.NewLocal(dir, user.NewService(a.app.db, a.app.now))
	if err != nil {
		t.Fatal(err)
	}
	volunteer, err := local.IssueForEmail(ctx, demo.VolunteerEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	// An open slot on a published activity from the demo data, open for
	// signing up at the server's now, and a few new people (who have no
	// shifts to overlap) to claim it.
	var slot struct {
		ID         int64 `db:"id"`
		ActivityID int64 `db:"activity_id"`
	}
	if err := store.Get(ctx, a.app.db, &slot, `SELECT s.id, s.activity_id FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE a.status = 'PUBLISHED' AND s.requirement IS NULL AND s.starts_at > ? AND s.taken + 3 <= s.capacity
			AND (s.signup_opens_at IS NULL OR s.signup_opens_at <= ?) AND (s.signup_closes_at IS NULL OR s.signup_closes_at > ?)
		ORDER BY s.starts_at LIMIT 1`, now, now, now); err != nil {
		t.Fatal(err)
	}
	claimers := make([]string, 3)
	for i := range claimers {
		if claimers[i], err = local.IssueForEmail(ctx, "ny"+strconv.Itoa(i)+"@example.dk", "Ny "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		answerAge(t, b, claimers[i])
	}

	wsURL := "ws" + strings.TrimPrefix(a.url, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	write := func(v any) {
		if err := wsjson.Write(ctx, conn, v); err != nil {
			t.Fatal(err)
		}
	}
	// One reader for the connection's life: coder/websocket closes a
	// connection whose read is cancelled, so reads are not timed out.
	incoming := make(chan map[string]any, 16)
	go func() {
		defer close(incoming)
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				return
			}
			if m["type"] == "ping" {
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong"})
				continue
			}
			incoming <- m
		}
	}()
	read := func(timeout time.Duration) (map[string]any, error) {
		select {
		case m, ok := <-incoming:
			if !ok {
				return nil, errors.New("connection closed")
			}
			return m, nil
		case <-time.After(timeout):
			return nil, errors.New("timed out")
		}
	}
	write(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + volunteer}})
	if m, err := read(3 * time.Second); err != nil || m["type"] != "connection_ack" {
		t.Fatalf("init: %v %v", m, err)
	}
	activityID := globalIDFor("Activity", slot.ActivityID)
	write(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($a: ID!) { slotChanged(activityId: $a) { id taken spotsLeft } }`,
		"variables": map[string]any{"a": activityID},
	}})
	time.Sleep(200 * time.Millisecond)

	claimThroughB := func(token, key string) (time.Time, string) {
		t.Helper()
		_, out := b.gql(t, token, `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { code } } }`,
			map[string]any{"i": map[string]any{"slotId": globalIDFor("VolunteerSlot", slot.ID), "idempotencyKey": key}})
		if !strings.Contains(mustJSON(out), "CONFIRMED") {
			t.Fatalf("claim through B: %v", out)
		}
		claim := out["data"].(map[string]any)["claimSlot"].(map[string]any)["claim"].(map[string]any)
		return time.Now(), claim["id"].(string)
	}

	at, _ := claimThroughB(claimers[0], "a")
	m, err := read(time.Second)
	if err != nil || m["type"] != "next" {
		t.Fatalf("no slotChanged on A within a second of the claim on B: %v %v", m, err)
	}
	t.Logf("delivered across replicas in %v", time.Since(at))

	// Redis restarts: no replica crashes, go-redis re-subscribes, and the
	// next change arrives again.
	redisSrv.stop()
	time.Sleep(300 * time.Millisecond)
	startRedis(t, bin, port)
	// go-redis reconnects with backoff; a change made before it has
	// re-subscribed is lost (at most once), so keep changing the slot
	// (claim, give back, claim again) until a change arrives.
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatal("live updates did not resume after the Redis restart")
		}
		_, claimID := claimThroughB(claimers[1], "after-"+strconv.Itoa(i))
		if m, err := read(time.Second); err == nil && m["type"] == "next" {
			break
		}
		b.gql(t, claimers[1], `mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { claim { status } } }`,
			map[string]any{"i": map[string]any{"claimId": claimID}})
		drain(read)
	}
	if resp, err := httpGet(a.url + "/readyz"); err != nil || resp != 200 {
		t.Errorf("replica A not ready after the restart: %d %v", resp, err)
	}
}

// drain reads what a cancel sent, so the next read sees the next claim.
func drain(read func(time.Duration) (map[string]any, error)) {
	for {
		if _, err := read(200 * time.Millisecond); err != nil {
			return
		}
	}
}

func globalIDFor(typ string, id int64) string {
	return base64URL(typ + ":" + strconv.FormatInt(id, 10))
}

type redisProc struct {
	t   *testing.T
	cmd *exec.Cmd
}

func startRedis(t *testing.T, bin, port string) *redisProc {
	t.Helper()
	cmd := exec.Command(bin, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &redisProc{t: t, cmd: cmd}
	t.Cleanup(p.stop)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	defer rdb.Close()
	for i := 0; ; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return p
		}
		if i > 100 {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *redisProc) stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
