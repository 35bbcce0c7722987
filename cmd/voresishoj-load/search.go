package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/loadgen"
	"github.com/ishoj/voresishoj/internal/store"
)

// searchOperation is the app's Search operation
// (mobile-contract/operations/search.graphql).
const searchOperation = `query Search($query: String!, $kinds: [SearchKind!], $first: Int, $after: String) {
  search(query: $query, kinds: $kinds, first: $first, after: $after) {
    edges {
      cursor
      kind
      inTitle
      node {
        ... on Activity { id title nextOccurrence { startsAt endsAt } place { id name } organisation { id name } }
        ... on Organisation { id name kind }
        ... on Place { id name address latitude longitude }
        ... on Story { id title authorName publishedAt }
        ... on Initiative { id name status neighbourhood }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// searchQueries are what people type: a word many rows hold, a word
// typed halfway, a folded Danish word, a word with a one-letter one, a word
// in Arabic script, and a word nothing holds.
var searchQueries = []string{"cafe", "strik", "born", "yoga 1", "المتطوعين", "zyxwv"}

type searchOptions struct {
	Small, Large           string // databases; seeded here when empty
	SmallScale, LargeScale int    // activities; stories are a tenth
	Clients                int
	Duration               time.Duration // per query and scale
}

type searchFigure struct {
	Query                string
	SmallHits, LargeHits int // on the first page
	Small, Large         result
}

func runSearch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("search", flag.ExitOnError)
	var o searchOptions
	fs.StringVar(&o.Small, "small", "", "SQLite path or postgres:// URL of the small database (seeded when empty)")
	fs.StringVar(&o.Large, "large", "", "the same for the large database")
	fs.IntVar(&o.SmallScale, "small-activities", 1000, "activities of the small database (and a tenth as many stories)")
	fs.IntVar(&o.LargeScale, "large-activities", 100000, "activities of the large database (and a tenth as many stories)")
	fs.IntVar(&o.Clients, "c", 4, "concurrent clients")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "duration of each query's run at each scale")
	_ = fs.Parse(args)
	if o.Small == "" || o.Large == "" {
		return fmt.Errorf("search needs --small and --large")
	}
	_, err := searchRun(ctx, o, func(format string, a ...any) { fmt.Printf(format, a...) })
	return err
}

// searchRun seeds both databases if they are empty, then measures the
// app's Search operation through the server on each, query by query,
// small then large, and prints the p50 and CPU ratios large/small.
func searchRun(ctx context.Context, o searchOptions, printf func(string, ...any)) ([]searchFigure, error) {
	for _, db := range []struct {
		dsn string
		n   int
	}{{o.Small, o.SmallScale}, {o.Large, o.LargeScale}} {
		if err := seedIfEmpty(ctx, db.dsn, db.n, printf); err != nil {
			return nil, err
		}
	}
	small, err := startServer(ctx, o.Small, nil)
	if err != nil {
		return nil, err
	}
	defer small.Close()
	large, err := startServer(ctx, o.Large, nil)
	if err != nil {
		return nil, err
	}
	defer large.Close()
	printf("search %s: %d clients, %s per query and scale; %d vs %d activities (and a tenth as many stories)\n",
		small.DB.Dialect, o.Clients, o.Duration, o.SmallScale, o.LargeScale)
	var figs []searchFigure
	for _, q := range searchQueries {
		body, _ := json.Marshal(map[string]any{"operationName": "Search", "query": searchOperation,
			"variables": map[string]any{"query": q, "first": 20}})
		// Warm both, then measure small and large back to back.
		drive(ctx, small.URL+"/graphql", body, o.Clients, o.Duration/5)
		drive(ctx, large.URL+"/graphql", body, o.Clients, o.Duration/5)
		f := searchFigure{Query: q}
		if f.SmallHits, err = searchHits(small.URL, body); err != nil {
			return figs, err
		}
		if f.LargeHits, err = searchHits(large.URL, body); err != nil {
			return figs, err
		}
		f.Small = drive(ctx, small.URL+"/graphql", body, o.Clients, o.Duration)
		f.Large = drive(ctx, large.URL+"/graphql", body, o.Clients, o.Duration)
		if f.Small.errors > 0 || f.Large.errors > 0 || f.Small.n == 0 || f.Large.n == 0 {
			return figs, fmt.Errorf("search %q: %d and %d errors", q, f.Small.errors, f.Large.errors)
		}
		printf("  %-12q (%d and %d hits on the first page) small: p50 %s, %s CPU/req, %.0f req/s; large: p50 %s, %s CPU/req, %.0f req/s; p50 ratio %s, CPU ratio %s\n",
			q, f.SmallHits, f.LargeHits, ms(f.Small.p50), ms(f.Small.cpu), f.Small.rps, ms(f.Large.p50), ms(f.Large.cpu), f.Large.rps,
			ratio(float64(f.Large.p50), float64(f.Small.p50)), ratio(float64(f.Large.cpu), float64(f.Small.cpu)))
		figs = append(figs, f)
	}
	rs := make([]float64, len(figs))
	for i, f := range figs {
		rs[i] = float64(f.Large.p50) / float64(f.Small.p50)
	}
	sort.Float64s(rs)
	printf("  median p50 ratio large/small over the queries: %.2f (target <= 1.5); worst %.2f\n", rs[len(rs)/2], rs[len(rs)-1])
	return figs, nil
}

// searchHits is how many hits the first page of a search holds.
func searchHits(url string, body []byte) (int, error) {
	b, err := post(http.DefaultClient, url+"/graphql", body, "")
	if err != nil {
		return 0, err
	}
	var resp struct {
		Data struct {
			Search struct{ Edges []json.RawMessage }
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return 0, fmt.Errorf("search answer: %w", err)
	}
	return len(resp.Data.Search.Edges), nil
}

// seedIfEmpty fills dsn with n activities and n/10 stories unless it
// already holds activities.
func seedIfEmpty(ctx context.Context, dsn string, n int, printf func(string, ...any)) error {
	db, err := app.OpenDB(ctx, config.Config{DatabaseURL: dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	var have int
	if err := store.Get(ctx, db, &have, `SELECT COUNT(*) FROM activities`); err != nil {
		return err
	}
	if have > 0 {
		printf("search: %s already holds %d activities; not seeded\n", redact(dsn), have)
		return nil
	}
	start := time.Now()
	c, err := loadgen.Seed(ctx, db, loadgen.Scale{Activities: n, Stories: n / 10}, time.Now())
	if err != nil {
		return err
	}
	printf("search: seeded %s with %d activities, %d stories in %s\n", db.Dialect, c.Activities, c.Stories, time.Since(start).Round(time.Second))
	return nil
}

// redact drops a URL's password from what is printed.
func redact(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 && strings.Contains(dsn, "://") {
		return dsn[:strings.Index(dsn, "://")+3] + "…" + dsn[at:]
	}
	return dsn
}
