package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"testing"
	"time"
)

// TestMain lets the test binary play the scenario's child servers, as the
// load tool's own binary does.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err := runChild(ctx, role)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Every subscriber gets the claim's change exactly once, anonymous or
// signed in, from the real server in a process of its own. Timing and
// memory are the tool's to report, not the test's to judge.
func TestSubscribersEachGetOneMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	variants := []string{"memory"}
	if os.Getenv("TEST_REDIS_URL") != "" {
		variants = append(variants, "redis")
	}
	bin := t.TempDir() + "/voresishoj"
	if b, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/ishoj/voresishoj/cmd/voresishoj").CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, b)
	}
	for _, people := range []int{0, 3} {
		t.Run(fmt.Sprintf("people=%d", people), func(t *testing.T) {
			var out bytes.Buffer
			rep, err := subscribers(t.Context(), subscribersOptions{
				n: 20, dial: 5, people: people, idle: 100 * time.Millisecond, deadline: 10 * time.Second,
				redis: os.Getenv("TEST_REDIS_URL"), variants: variants, server: bin,
			}, &out)
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Variants) != len(variants) {
				t.Fatalf("%d variants measured, want %d", len(rep.Variants), len(variants))
			}
			for _, r := range append(rep.Variants, rep.Baseline) {
				if r.Failed != 0 || r.Received != r.N || r.Duplicates != 0 || r.Bad != 0 || len(r.Delivery) != r.N {
					t.Errorf("%s: %d subscribers, %d failed to connect, %d received, %d duplicates, %d bad",
						r.Name, r.N, r.Failed, r.Received, r.Duplicates, r.Bad)
				}
			}
		})
	}
}
