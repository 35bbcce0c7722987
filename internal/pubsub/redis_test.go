package pubsub

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

// numSub returns how many Redis connections subscribe to topic's channel.
func numSub(t *testing.T, rdb *redis.Client, channel string) int64 {
	t.Helper()
	n, err := rdb.PubSubNumSub(t.Context(), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n[channel]
}

func adminClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestRedisOneConnectionPerReplica(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t)
	b := openRedis(t, url, testLog(t), Options{Prefix: prefix})
	rdb := adminClient(t, url)
	channel := prefix + TopicSlotChanged(7)

	ctxA, cancelA := context.WithCancel(t.Context())
	var subs []*Subscription
	for range 50 {
		subs = append(subs, subscribe(t, b, ctxA, TopicSlotChanged(7)))
	}
	last := subscribe(t, b, t.Context(), TopicSlotChanged(7))
	// Other topics use the same connection too.
	for i := range 20 {
		subscribe(t, b, t.Context(), TopicNotification(int64(i)))
	}

	if n := numSub(t, rdb, channel); n != 1 {
		t.Fatalf("51 local subscribers: %d Redis subscribers, want 1", n)
	}
	publish(t, b, TopicSlotChanged(7), "x")
	for _, s := range append(subs, last) {
		if got := receive(t, s); got != "x" {
			t.Fatalf("got %q", got)
		}
	}

	// Leaving one by one keeps the channel until the last one goes.
	cancelA()
	for _, s := range subs {
		closed(t, s)
	}
	if n := numSub(t, rdb, channel); n != 1 {
		t.Fatalf("one local subscriber left: %d Redis subscribers, want 1", n)
	}
	last.Close()
	eventually(t, "channel unsubscribed", func() bool { return numSub(t, rdb, channel) == 0 })

	// And a new subscriber subscribes it again.
	again := subscribe(t, b, t.Context(), TopicSlotChanged(7))
	if n := numSub(t, rdb, channel); n != 1 {
		t.Fatalf("resubscribed: %d Redis subscribers, want 1", n)
	}
	publish(t, b, TopicSlotChanged(7), "y")
	if got := receive(t, again); got != "y" {
		t.Fatalf("got %q", got)
	}
}

func TestRedisUnsubscribeOnContextEnd(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t)
	b := openRedis(t, url, testLog(t), Options{Prefix: prefix})
	rdb := adminClient(t, url)

	ctx, cancel := context.WithCancel(t.Context())
	s := subscribe(t, b, ctx, "t")
	if n := numSub(t, rdb, prefix+"t"); n != 1 {
		t.Fatalf("%d Redis subscribers, want 1", n)
	}
	cancel()
	closed(t, s)
	eventually(t, "channel unsubscribed", func() bool { return numSub(t, rdb, prefix+"t") == 0 })
}

func TestRedisTwoReplicas(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t)
	a := openRedis(t, url, testLog(t), Options{Prefix: prefix})
	b := openRedis(t, url, testLog(t), Options{Prefix: prefix})

	onA := subscribe(t, a, t.Context(), TopicSlotChanged(1))
	onB := subscribe(t, b, t.Context(), TopicSlotChanged(1))

	publish(t, b, TopicSlotChanged(1), "from B")
	if got := receive(t, onA); got != "from B" {
		t.Fatalf("replica A got %q", got)
	}
	if got := receive(t, onB); got != "from B" {
		t.Fatalf("replica B got %q", got)
	}

	// A different prefix is a different app: it hears nothing.
	other := openRedis(t, url, testLog(t), Options{Prefix: testPrefix(t)})
	stranger := subscribe(t, other, t.Context(), TopicSlotChanged(1))
	publish(t, a, TopicSlotChanged(1), "from A")
	if got := receive(t, onB); got != "from A" {
		t.Fatalf("replica B got %q", got)
	}
	quiet(t, stranger)
}

// A replica starts while Redis is down: the broker works for this
// replica at once (publish and subscribe within the Redis deadline), and
// once Redis is up the subscription made meanwhile hears other replicas.
func TestNewRedisWhileRedisIsDown(t *testing.T) {
	bin := redisServerBin(t)
	port := freePort(t)
	url := "redis://127.0.0.1:" + port + "/0"
	b := openRedis(t, url, testLog(t), Options{})

	start := time.Now()
	s := subscribe(t, b, t.Context(), TopicSlotChanged(1))
	publish(t, b, TopicSlotChanged(1), "local")
	if got := receive(t, s); got != "local" {
		t.Fatalf("got %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("subscribe and publish without Redis took %s", d)
	}

	startRedis(t, bin, port)
	other := openRedis(t, url, testLog(t), Options{})
	// go-redis redials every 100ms and then subscribes the channel.
	deadline := time.After(8 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case p := <-s.C:
			if strings.HasPrefix(string(p), "remote") {
				t.Logf("heard the other replica after %d publishes", i)
				return
			}
		case <-tick.C:
			publish(t, other, TopicSlotChanged(1), fmt.Sprint("remote ", i))
		case <-deadline:
			t.Fatal("the subscription made without Redis never heard another replica")
		}
	}
}

func redisServerBin(t *testing.T) string {
	const bin = "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing: %v", bin, err)
		}
		t.Skipf("%s not available: %v", bin, err)
	}
	return bin
}

// TestRedisRestart restarts a Redis of its own (never the shared one) under
// a subscribed broker: while it is down publishing reaches this replica's
// subscribers and subscribing works locally; once it is back go-redis has
// re-subscribed and new messages reach the old subscription.
func TestRedisRestart(t *testing.T) {
	bin := redisServerBin(t)
	port := freePort(t)
	url := "redis://127.0.0.1:" + port + "/0"

	srv := startRedis(t, bin, port)
	b := openRedis(t, url, testLog(t), Options{})
	s := subscribe(t, b, t.Context(), TopicSlotChanged(1))
	publish(t, b, TopicSlotChanged(1), "before")
	if got := receive(t, s); got != "before" {
		t.Fatalf("got %q", got)
	}

	srv.stop(t)

	before := redisconn.Fallbacks()[redisconn.PubSub]
	start := time.Now()
	publish(t, b, TopicSlotChanged(1), "during")
	if got := receive(t, s); got != "during" {
		t.Fatalf("while Redis is down the local subscriber got %q", got)
	}
	s3 := subscribe(t, b, t.Context(), TopicSlotChanged(3))
	publish(t, b, TopicSlotChanged(3), "local")
	if got := receive(t, s3); got != "local" {
		t.Fatalf("a subscription made while Redis is down got %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing and subscribing without Redis took %s", d)
	}
	if after := redisconn.Fallbacks()[redisconn.PubSub]; after <= before {
		t.Errorf("fallbacks counted %d → %d, want more", before, after)
	}

	startRedis(t, bin, port)
	// Only Redis carries another replica's messages to this one.
	other := openRedis(t, url, testLog(t), Options{})

	// Messages published before go-redis has re-subscribed are lost (at
	// most once), so keep publishing until one arrives.
	deadline := time.After(8 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case p, ok := <-s.C:
			if !ok {
				t.Fatal("subscription closed by the restart")
			}
			if strings.HasPrefix(string(p), "after") {
				t.Logf("delivered through Redis again after %d publishes", i)
				goto delivered
			}
		case <-tick.C:
			publish(t, other, TopicSlotChanged(1), fmt.Sprint("after ", i))
		case <-deadline:
			t.Fatal("no message after Redis came back")
		}
	}
delivered:
	// New subscriptions work too.
	s2 := subscribe(t, b, t.Context(), TopicSlotChanged(2))
	publish(t, other, TopicSlotChanged(2), "new")
	if got := receive(t, s2); got != "new" {
		t.Fatalf("got %q", got)
	}
}

type redisServer struct{ cmd *exec.Cmd }

func startRedis(t *testing.T, bin, port string) *redisServer {
	t.Helper()
	cmd := exec.Command(bin, "--save", "", "--appendonly", "no",
		"--bind", "127.0.0.1", "--port", port)
	cmd.Stdout = t.Output()
	cmd.Stderr = t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &redisServer{cmd: cmd}
	t.Cleanup(func() { srv.stop(t) })

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	defer rdb.Close()
	eventually(t, "redis-server up", func() bool {
		return rdb.Ping(t.Context()).Err() == nil
	})
	return srv
}

func (s *redisServer) stop(t *testing.T) {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
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

func TestRedisTenThousandSubscribers(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t)
	b := openRedis(t, url, testLog(t), Options{Prefix: prefix, Buffer: 1})
	rdb := adminClient(t, url)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subs := make([]*Subscription, 10_000)
	for i := range subs {
		s, err := b.Subscribe(ctx, TopicActivityPublished())
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	if n := numSub(t, rdb, prefix+TopicActivityPublished()); n != 1 {
		t.Fatalf("10,000 local subscribers: %d Redis subscribers, want 1", n)
	}
	publish(t, b, TopicActivityPublished(), "x")
	for _, s := range subs {
		if got := receive(t, s); got != "x" {
			t.Fatalf("got %q", got)
		}
	}
	cancel()
	eventually(t, "channel unsubscribed", func() bool {
		return numSub(t, rdb, prefix+TopicActivityPublished()) == 0
	})
}
