// Command voresishoj-load measures the server against baselines measured in
// the same run on the same machine. Machines are shared and noisy, so every
// figure is printed with its ratio to its baseline.
//
//	voresishoj-load seed --db URL --activities N
//	voresishoj-load feed --db URL [--c 50] [--d 30s]
//	voresishoj-load growth --small URL --large URL [--c 50] [--d 10s]
//	voresishoj-load claims --db URL [--n 1000]
//	voresishoj-load coldstart [--runs 10]
//	voresishoj-load sync --db URL [--activities 1000] [--changed 0.01] [--runs 5]
//	voresishoj-load search --small URL --large URL [--small-activities 1000] [--large-activities 100000] [--c 4] [--d 5s]
//	voresishoj-load pushkill [--db URL] [--devices 20000] [--lease 5s] [--kill-at 0.33]
//	voresishoj-load push [--db URL] [--devices 100000] [--latency 20ms] [--cpuprofile FILE] [--memprofile FILE]
//	voresishoj-load subscribers [--db URL] [--n 10000] [--people 0] [--variants memory,redis] [--redis URL] [--server BIN] [--profile DIR]
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/ishoj/voresishoj/internal/app"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: voresishoj-load seed|feed|growth|claims|subscribers|push|pushkill|coldstart|search|sync [flags]")
		os.Exit(2)
	}
	// The server runs in this process, so it gets its runtime settings;
	// the baselines share them.
	app.TuneRuntime()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The server's own request log would drown the figures.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	cmds := map[string]func(context.Context, []string) error{
		"push": runPush, "pushkill": runPushKill,
		"seed": runSeed, "feed": runFeed, "growth": runGrowth, "claims": runClaims, "coldstart": runColdstart,
		"subscribers": runSubscribers, "search": runSearch, "sync": runSyncDelta,
	}
	fn, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := fn(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "voresishoj-load:", err)
		os.Exit(1)
	}
}

// latencies summarises a run.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}
