package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

// opener opens a broker for the running test. Redis brokers opened by the
// same test share a channel prefix, so they behave like replicas of one app.
type opener func(t *testing.T, log *slog.Logger, opts Options) Broker

// eachBroker runs fn against Memory and, when TEST_REDIS_URL is set,
// against Redis, the way storetest.Each runs against both databases.
func eachBroker(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(t *testing.T, log *slog.Logger, opts Options) Broker {
			b := NewMemory(log, opts)
			t.Cleanup(func() { b.Close() })
			return b
		})
	})
	t.Run("redis", func(t *testing.T) {
		url := redisURL(t)
		prefix := testPrefix(t)
		fn(t, func(t *testing.T, log *slog.Logger, opts Options) Broker {
			opts.Prefix = prefix
			return openRedis(t, url, log, opts)
		})
	})
}

// redisURL returns TEST_REDIS_URL, failing the test under CI=true when it
// is unset and skipping it otherwise.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: Redis tests must run in CI")
		}
		t.Skip("TEST_REDIS_URL not set; Redis half of the suite not run")
	}
	return u
}

// testPrefix isolates a test's channels from other tests and packages
// sharing the same Redis.
func testPrefix(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "voresishoj-test:" + hex.EncodeToString(b[:]) + ":"
}

func openRedis(t *testing.T, url string, log *slog.Logger, opts Options) *Redis {
	t.Helper()
	c, err := redisconn.New(url, redisconn.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRedis(context.Background(), c.Client, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func subscribe(t *testing.T, b Broker, ctx context.Context, topic string) *Subscription {
	t.Helper()
	s, err := b.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	t.Cleanup(s.Close)
	return s
}

func publish(t *testing.T, b Broker, topic, payload string) {
	t.Helper()
	if err := b.Publish(context.Background(), topic, []byte(payload)); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// receive waits up to two seconds for the next payload on s.
func receive(t *testing.T, s *Subscription) string {
	t.Helper()
	select {
	case p, ok := <-s.C:
		if !ok {
			t.Fatalf("subscription to %s closed, want a message", s.Topic())
		}
		return string(p)
	case <-time.After(2 * time.Second):
		t.Fatalf("no message on %s within 2s", s.Topic())
		return ""
	}
}

// quiet checks that nothing arrives on s for a short while.
func quiet(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case p, ok := <-s.C:
		t.Fatalf("got %q (open %v) on %s, want nothing", p, ok, s.Topic())
	case <-time.After(100 * time.Millisecond):
	}
}

// closed waits for s.C to be closed, discarding buffered messages.
func closed(t *testing.T, s *Subscription) {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-s.C:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("subscription to %s not closed within 2s", s.Topic())
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type dropCounter interface{ Dropped() int64 }

func TestPublishSubscribe(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		s := subscribe(t, b, t.Context(), TopicSlotChanged(42))

		for _, p := range []string{"one", "two", "three"} {
			publish(t, b, TopicSlotChanged(42), p)
		}
		for _, want := range []string{"one", "two", "three"} {
			if got := receive(t, s); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	})
}

func TestPublishCopiesPayload(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		s := subscribe(t, b, t.Context(), "t")
		buf := []byte("first")
		if err := b.Publish(t.Context(), "t", buf); err != nil {
			t.Fatal(err)
		}
		copy(buf, "XXXXX") // the caller reuses its buffer
		if got := receive(t, s); got != "first" {
			t.Fatalf("got %q, want %q", got, "first")
		}
	})
}

func TestMultipleSubscribers(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		var subs []*Subscription
		for range 5 {
			subs = append(subs, subscribe(t, b, t.Context(), TopicActivityPublished()))
		}
		publish(t, b, TopicActivityPublished(), "new")
		for i, s := range subs {
			if got := receive(t, s); got != "new" {
				t.Fatalf("subscriber %d got %q", i, got)
			}
		}
	})
}

func TestTopicIsolation(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		slots1 := subscribe(t, b, t.Context(), TopicSlotChanged(1))
		slots2 := subscribe(t, b, t.Context(), TopicSlotChanged(2))
		user := subscribe(t, b, t.Context(), TopicNotification(1))

		publish(t, b, TopicSlotChanged(2), "for 2")
		publish(t, b, TopicSlotChanged(1), "for 1")

		if got := receive(t, slots1); got != "for 1" {
			t.Fatalf("activity 1 got %q", got)
		}
		if got := receive(t, slots2); got != "for 2" {
			t.Fatalf("activity 2 got %q", got)
		}
		quiet(t, slots1)
		quiet(t, slots2)
		quiet(t, user)
	})
}

func TestUnsubscribeOnContextEnd(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		ctx, cancel := context.WithCancel(t.Context())
		gone := subscribe(t, b, ctx, "t")
		stays := subscribe(t, b, t.Context(), "t")

		cancel()
		closed(t, gone)

		publish(t, b, "t", "after")
		if got := receive(t, stays); got != "after" {
			t.Fatalf("remaining subscriber got %q", got)
		}
	})
}

func TestSubscribeWithEndedContext(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := b.Subscribe(ctx, "t"); err == nil {
			t.Fatal("Subscribe with an ended context succeeded")
		}
	})
}

func TestSubscriptionClose(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		s := subscribe(t, b, t.Context(), "t")
		other := subscribe(t, b, t.Context(), "t")

		s.Close()
		s.Close() // idempotent
		closed(t, s)

		publish(t, b, "t", "x")
		if got := receive(t, other); got != "x" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestBrokerClose(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{})
		s := subscribe(t, b, t.Context(), "t")

		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		closed(t, s)
		s.Close() // after the broker closed it: harmless

		if err := b.Publish(t.Context(), "t", []byte("x")); err != ErrClosed {
			t.Fatalf("Publish after Close: got %v, want ErrClosed", err)
		}
		if _, err := b.Subscribe(t.Context(), "t"); err != ErrClosed {
			t.Fatalf("Subscribe after Close: got %v, want ErrClosed", err)
		}
	})
}

func TestSlowSubscriber(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		logs := &recordHandler{}
		b := open(t, slog.New(logs), Options{Buffer: 2})
		slow := subscribe(t, b, t.Context(), "t") // never reads
		fast := subscribe(t, b, t.Context(), "t")

		const n = 20
		for i := range n {
			want := fmt.Sprint(i)
			publish(t, b, "t", want)
			// The fast subscriber keeps up: every message reaches it even
			// though the slow one's buffer has long been full.
			if got := receive(t, fast); got != want {
				t.Fatalf("fast subscriber got %q, want %q", got, want)
			}
		}

		eventually(t, "drops counted", func() bool { return b.(dropCounter).Dropped() == n-2 })
		if got := slow.Dropped(); got != n-2 {
			t.Fatalf("slow subscriber dropped %d, want %d", got, n-2)
		}
		if got := fast.Dropped(); got != 0 {
			t.Fatalf("fast subscriber dropped %d, want 0", got)
		}
		// The slow subscriber still has the first messages, in order.
		for _, want := range []string{"0", "1"} {
			if got := receive(t, slow); got != want {
				t.Fatalf("slow subscriber got %q, want %q", got, want)
			}
		}
		// 18 drops within a few milliseconds: warned once, not 18 times.
		if got := logs.count(slog.LevelWarn, "dropping"); got != 1 {
			t.Fatalf("logged %d drop warnings, want 1", got)
		}
	})
}

func TestConcurrentPublishSubscribe(t *testing.T) {
	eachBroker(t, func(t *testing.T, open opener) {
		b := open(t, testLog(t), Options{Buffer: 4})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		topics := []string{"a", "b", "c"}

		var wg sync.WaitGroup
		var received atomic.Int64
		stop := make(chan struct{})
		for i := range 20 {
			wg.Go(func() {
				// Subscribe, read a little, leave; again and again.
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					default:
					}
					sctx, scancel := context.WithCancel(ctx)
					s, err := b.Subscribe(sctx, topics[(i+j)%len(topics)])
					if err != nil {
						scancel()
						t.Errorf("subscribe: %v", err)
						return
					}
					select {
					case <-s.C:
						received.Add(1)
					case <-time.After(5 * time.Millisecond):
					}
					if j%2 == 0 {
						scancel()
					} else {
						s.Close()
						scancel()
					}
				}
			})
		}
		for i := range 4 {
			wg.Go(func() {
				for j := range 200 {
					if err := b.Publish(ctx, topics[(i+j)%len(topics)], []byte("x")); err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		if received.Load() == 0 {
			t.Fatal("no subscriber received anything")
		}

		// The broker is still consistent afterwards.
		s := subscribe(t, b, t.Context(), "a")
		publish(t, b, "a", "final")
		for {
			if got := receive(t, s); got == "final" {
				break
			}
		}
	})
}

// recordHandler is a slog.Handler that keeps the records it is given.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) count(level slog.Level, contains string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level && strings.Contains(r.Message, contains) {
			n++
		}
	}
	return n
}
