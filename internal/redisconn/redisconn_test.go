package redisconn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A hung Redis (SIGSTOP) costs one call the deadline; the breaker then
// opens and calls fail at once; after the open period one probe finds
// Redis back (SIGCONT) and calls go through again.
func TestPausedRedis(t *testing.T) {
	cmd, url := privateRedis(t)
	c, err := New(url, Options{Timeout: 100 * time.Millisecond, OpenFor: 300 * time.Millisecond, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// A missing key and a Redis error reply are answers, not failures.
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("Get(missing) = %v", err)
	}
	for range 5 {
		_ = c.Do(ctx, "NOSUCHCOMMAND").Err()
	}
	if !c.Available() {
		t.Fatal("error replies opened the breaker")
	}

	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)

	start := time.Now()
	err = c.Get(ctx, "k").Err()
	first := time.Since(start)
	if err == nil || first > time.Second {
		t.Fatalf("first call to a hung Redis: %v after %s, want an error within the deadline", err, first)
	}
	if c.Available() {
		t.Fatal("a timeout did not open the breaker")
	}
	start = time.Now()
	for range 100 {
		if err := c.Get(ctx, "k").Err(); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("call with the breaker open = %v, want ErrUnavailable", err)
		}
	}
	t.Logf("first call %s; 100 calls with the breaker open %s", first, time.Since(start))
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("100 calls with the breaker open took %s", d)
	}
	// The breaker's state is Redis-independent: a pipeline is refused too.
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error { p.Get(ctx, "k"); return nil }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("pipeline with the breaker open = %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Get(ctx, "k").Val() != "v" {
		if time.Now().After(deadline) {
			t.Fatalf("calls did not resume after Redis did: breaker %s", c.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.State() != "closed" {
		t.Errorf("breaker %s after a successful call", c.State())
	}
}

// A refused connection fails fast and opens the breaker after three.
func TestRefusedRedis(t *testing.T) {
	c, err := New("redis://127.0.0.1:"+freePort(t)+"/0", Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for range 3 {
		if err := c.Ping(context.Background()).Err(); err == nil {
			t.Fatal("ping of nothing succeeded")
		}
	}
	if c.Available() {
		t.Error("three refusals did not open the breaker")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("three refused calls took %s", d)
	}
	if _, err := New("redis://:secret@127.0.0.1:1/x", Options{}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad URL: %v, want an error without the password", err)
	}
}

// A caller whose request ended says nothing about Redis.
func TestCancelledCallerDoesNotTrip(t *testing.T) {
	cmd, url := privateRedis(t)
	c, err := New(url, Options{Timeout: time.Second, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = cmd.Process.Signal(syscall.SIGSTOP)
	defer cmd.Process.Signal(syscall.SIGCONT)
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_ = c.Get(ctx, "k").Err()
		cancel()
	}
	if !c.Available() {
		t.Error("callers' own deadlines opened the breaker")
	}
}

func TestFallbackCounts(t *testing.T) {
	before := Fallbacks()[APQ]
	Fallback(context.Background(), quiet(), APQ, errors.New("x"))
	Fallback(context.Background(), quiet(), APQ, errors.New("y"))
	if got := Fallbacks()[APQ] - before; got != 2 {
		t.Errorf("counted %d fallbacks, want 2", got)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// privateRedis starts a redis-server of the test's own, which it may pause.
func privateRedis(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	const bin = "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing", bin)
		}
		t.Skipf("%s not available", bin)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "redis://127.0.0.1:" + port + "/0"
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 100 {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd, url
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
