package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
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
	so, sb, err := feed(ctx, *small, *c, *d, false)
	if err != nil {
		return err
	}
	lo, lb, err := feed(ctx, *large, *c, *d, false)
	if err != nil {
		return err
	}
	fmt.Printf("growth: %d clients, %s per run\n", *c, *d)
	fmt.Printf("  small ours: %s\n  small baseline: %s\n", so, sb)
	fmt.Printf("  large ours: %s\n  large baseline: %s\n", lo, lb)
	fmt.Printf("  p50 ratio large/small, ours: %s (target <= 1.3); baseline (same SQL): %s\n",
		ratio(float64(lo.p50), float64(so.p50)), ratio(float64(lb.p50), float64(sb.p50)))
	db, err := store.Open(ctx, *large)
	if err != nil {
		return err
	}
	defer db.Close()
	plan, err := explainList(ctx, db)
	if err != nil {
		return err
	}
	fmt.Printf("  plan of the list query on the large database (%s):\n%s\n", db.Dialect, plan)
	return nil
}

// explainList shows how the database runs activity.Service.List without
// filters: the statement the feed sends first.
func explainList(ctx context.Context, db *store.DB) (string, error) {
	const list = `SELECT a.id, a.organisation_id, a.place_id, a.title, a.description, a.starts_at, a.ends_at,
	a.recurrence, a.status, a.created_by, a.created_at, a.updated_at, a.published_at, a.cancelled_at, MIN(o.starts_at) AS first_start
		FROM activities a JOIN occurrences o ON o.activity_id = a.id
		WHERE a.status = 'PUBLISHED' AND o.ends_at > ?
		GROUP BY a.id
		ORDER BY first_start, a.id
		LIMIT ?`
	now := time.Now().UTC()
	var lines []string
	if db.Dialect == store.Postgres {
		var rows []string
		if err := store.Select(ctx, db, &rows, `EXPLAIN (ANALYZE, BUFFERS) `+list, now, 21); err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		lines = rows
	} else {
		var rows []struct {
			ID      int    `db:"id"`
			Parent  int    `db:"parent"`
			NotUsed int    `db:"notused"`
			Detail  string `db:"detail"`
		}
		if err := store.Select(ctx, db, &rows, `EXPLAIN QUERY PLAN `+list, now, 21); err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		for _, r := range rows {
			lines = append(lines, r.Detail)
		}
		t := time.Now()
		var n []int64
		if err := store.Select(ctx, db, &n, `SELECT id FROM (`+list+`) x`, now, 21); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprintf("(one run of the query alone: %s)", ms(time.Since(t))))
	}
	return "    " + strings.Join(lines, "\n    "), nil
}
