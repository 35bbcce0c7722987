package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
)

func runGrowth(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("growth", flag.ExitOnError)
	small := fs.String("small", "", "database seeded with 1k activities")
	large := fs.String("large", "", "database seeded at a large scale")
	c := fs.Int("c", 50, "concurrent clients")
	d := fs.Duration("d", 10*time.Second, "duration of each run")
	_ = fs.Parse(args)
	if *small == "" || *large == "" {
		return fmt.Errorf("growth needs --small and --large")
	}
	so, sb, err := feed(ctx, *small, *c, *d, false, "")
	if err != nil {
		return err
	}
	lo, lb, err := feed(ctx, *large, *c, *d, false, "")
	if err != nil {
		return err
	}
	fmt.Printf("growth: %d clients, %s per run\n", *c, *d)
	fmt.Printf("  small ours: %s\n  small baseline: %s\n", so, sb)
	fmt.Printf("  large ours: %s\n  large baseline: %s\n", lo, lb)
	fmt.Printf("  p50 ratio large/small, ours: %s (target <= 1.3); baseline (same SQL): %s\n",
		ratio(float64(lo.p50), float64(so.p50)), ratio(float64(lb.p50), float64(sb.p50)))
	// CPU time per request holds when other processes take turns on the
	// machine, which moves latencies.
	fmt.Printf("  CPU per request ratio large/small, ours: %s; baseline: %s\n",
		ratio(float64(lo.cpu), float64(so.cpu)), ratio(float64(lb.cpu), float64(sb.cpu)))
	plan, dialect, err := explainList(ctx, *large)
	if err != nil {
		return err
	}
	fmt.Printf("  plan of the list query on the large database (%s):\n%s\n", dialect, plan)
	return nil
}

// explainList shows how the database runs activity.Service.List without
// filters, the statement the feed sends first: the statement is recorded
// as List sends it, then explained.
func explainList(ctx context.Context, dsn string) (string, store.Dialect, error) {
	db, c, err := openCounted(ctx, dsn)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	svc := activity.NewService(db, theme.NewService(db), &event.Recorder{}, clock.Real)
	c.record.Store(true)
	t := time.Now()
	if _, err := svc.List(ctx, activity.Filter{From: time.Now().UTC()}, nil, 21); err != nil {
		return "", "", err
	}
	took := time.Since(t)
	c.record.Store(false)
	if len(c.seen) != 1 {
		return "", "", fmt.Errorf("activity list sent %d statements, want 1", len(c.seen))
	}
	list := c.seen[0]
	lines, err := db.Explain(ctx, list.query, list.args...)
	if err != nil {
		return "", "", fmt.Errorf("explain: %w", err)
	}
	lines = append(lines, fmt.Sprintf("(one run of List alone, first after opening: %s)", ms(took)))
	return "    " + strings.Join(lines, "\n    "), db.Dialect, nil
}
