package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

type syncOptions struct {
	DB         string // database; seeded here when empty
	Activities int    // seeded activities; stories are a tenth
	Changed    float64
	Runs       int
	Manifest   string // the trusted documents, for the app's Sync document
}

type syncFigure struct {
	Activities, Changed     int
	Full, Delta             syncCost
	DeltaObjects, FullPages int
}

// syncCost is one sync to its end: the bytes of every answer, its wall
// time and CPU time (medians over the runs), and its pages.
type syncCost struct {
	Bytes     int
	Pages     int
	Objects   int
	Time, CPU time.Duration
	lastToken string
}

func runSyncDelta(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ExitOnError)
	var o syncOptions
	fs.StringVar(&o.DB, "db", "", "SQLite path or postgres:// URL (seeded when empty)")
	fs.IntVar(&o.Activities, "activities", 1000, "activities to seed (and a tenth as many stories)")
	fs.Float64Var(&o.Changed, "changed", 0.01, "share of the activities an organiser edits between the syncs")
	fs.IntVar(&o.Runs, "runs", 5, "syncs of each kind measured (the median is printed)")
	fs.StringVar(&o.Manifest, "manifest", "mobile-contract/trusted-documents.json", "the trusted documents holding the app's Sync operation")
	_ = fs.Parse(args)
	if o.DB == "" {
		return fmt.Errorf("sync needs --db")
	}
	_, err := syncRun(ctx, o, func(format string, a ...any) { fmt.Printf(format, a...) })
	return err
}

// syncDocument is the app's Sync document as the manifest holds it: the
// bytes measured are those of the answer the app really gets.
func syncDocument(manifest string) (string, error) {
	b, err := os.ReadFile(manifest)
	if err != nil {
		return "", err
	}
	var docs map[string]string
	if err := json.Unmarshal(b, &docs); err != nil {
		return "", fmt.Errorf("%s: %w", manifest, err)
	}
	for _, d := range docs {
		if strings.HasPrefix(d, "query Sync ") || strings.HasPrefix(d, "query Sync(") {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s holds no Sync operation", manifest)
}

// syncRun seeds the database if empty and measures, through the server,
// the app's first sync (what a phone without a store, or one told to
// resync, fetches) against the delta after an organiser edited a share of
// the activities, as a resident's phone sees both.
func syncRun(ctx context.Context, o syncOptions, printf func(string, ...any)) (syncFigure, error) {
	doc, err := syncDocument(o.Manifest)
	if err != nil {
		return syncFigure{}, err
	}
	if err := seedIfEmpty(ctx, o.DB, o.Activities, printf); err != nil {
		return syncFigure{}, err
	}
	srv, err := startServer(ctx, o.DB, nil)
	if err != nil {
		return syncFigure{}, err
	}
	defer srv.Close()
	d := srv.App.Domain()
	// Every 1/changed-th activity of all of them is edited; the seed's
	// drafts and cancelled ones are not, as no phone hears of a draft.
	var ids []int64
	if err := store.Select(ctx, srv.DB, &ids, `SELECT id FROM activities ORDER BY id`); err != nil {
		return syncFigure{}, err
	}
	if err := settleLog(ctx, srv.DB); err != nil {
		return syncFigure{}, err
	}
	sync := func(since string) (syncCost, error) {
		var c syncCost
		var times, cpus []time.Duration
		for run := 0; run < o.Runs; run++ {
			c.Bytes, c.Pages, c.Objects = 0, 0, 0
			start, cpu0 := time.Now(), cpuTime()
			token := since
			for {
				vars := map[string]any{"first": 100}
				if token != "" {
					vars["since"] = token
				}
				body, _ := json.Marshal(map[string]any{"operationName": "Sync", "query": doc, "variables": vars})
				b, err := post(http.DefaultClient, srv.URL+"/graphql", body, "")
				if err != nil {
					return c, err
				}
				var resp struct {
					Data struct {
						Sync struct {
							Changed []json.RawMessage
							Removed []string
							HasMore bool
							Token   string
						}
					}
					Errors []json.RawMessage
				}
				if err := json.Unmarshal(b, &resp); err != nil || len(resp.Errors) > 0 {
					return c, fmt.Errorf("sync answer: %v %s", err, b[:min(len(b), 300)])
				}
				c.Bytes += len(b)
				c.Pages++
				c.Objects += len(resp.Data.Sync.Changed) + len(resp.Data.Sync.Removed)
				token = resp.Data.Sync.Token
				if !resp.Data.Sync.HasMore {
					break
				}
			}
			times, cpus = append(times, time.Since(start)), append(cpus, cpuTime()-cpu0)
			c.lastToken = token
		}
		c.Time, c.CPU = median(times), median(cpus)
		return c, nil
	}
	fig := syncFigure{Activities: len(ids)}
	if fig.Full, err = sync(""); err != nil {
		return fig, err
	}
	// The phone keeps the token of its first sync; then an organiser
	// edits every 1/changed-th activity (its title and text; the slots
	// are logged with it).
	token := fig.Full.lastToken
	boss := user.Caller{UserID: 1, Verified: true, Secretariat: true}
	step := max(1, int(1/o.Changed))
	want := len(ids) / step
	var edited []activity.Activity
	as, err := d.Activities.ByIDs(ctx, boss, ids)
	if err != nil {
		return fig, err
	}
	sort.Slice(as, func(i, j int) bool { return as[i].ID < as[j].ID })
	for i := 0; i < len(as) && len(edited) < want; i += step {
		// The next published one from here.
		for i < len(as) && as[i].Status != activity.Published {
			i++
		}
		if i < len(as) {
			edited = append(edited, as[i])
		}
	}
	for _, a := range edited {
		_, err := d.Activities.Update(ctx, boss, a.ID, activity.Input{OrganisationID: a.OrganisationID, PlaceID: a.PlaceID,
			Title: a.Title + " (ændret)", Description: a.Description + " Nyt tidspunkt for kaffen.",
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, Recurrence: a.Recurrence, KeepSlots: true})
		if err != nil {
			return fig, fmt.Errorf("edit activity %d: %w", a.ID, err)
		}
	}
	fig.Changed = len(edited)
	if err := settleLog(ctx, srv.DB); err != nil {
		return fig, err
	}
	if fig.Delta, err = sync(token); err != nil {
		return fig, err
	}
	fig.DeltaObjects, fig.FullPages = fig.Delta.Objects, fig.Full.Pages
	printf("sync %s: %d activities (with the seed's slots, stories, organisations, places), %d of them edited (%.1f %%); median of %d syncs each, the app's Sync operation in pages of 100, as a visitor's phone\n",
		srv.DB.Dialect, fig.Activities, fig.Changed, 100*float64(fig.Changed)/float64(max(1, fig.Activities)), o.Runs)
	printf("  full refetch: %d objects in %d pages, %d bytes, %s, %s CPU\n", fig.Full.Objects, fig.Full.Pages, fig.Full.Bytes, ms(fig.Full.Time), ms(fig.Full.CPU))
	printf("  delta:        %d objects in %d pages, %d bytes, %s, %s CPU\n", fig.Delta.Objects, fig.Delta.Pages, fig.Delta.Bytes, ms(fig.Delta.Time), ms(fig.Delta.CPU))
	printf("  full/delta: %s× the bytes (goal >= 20), %s× the time, %s× the CPU\n",
		ratio(float64(fig.Full.Bytes), float64(fig.Delta.Bytes)), ratio(float64(fig.Full.Time), float64(fig.Delta.Time)),
		ratio(float64(fig.Full.CPU), float64(fig.Delta.CPU)))
	return fig, nil
}

// settleLog waits until every change written so far lies below the change
// log's horizon (on PostgreSQL an open transaction anywhere holds it
// back), so the delta measured holds all the edits.
func settleLog(ctx context.Context, db *store.DB) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var last int64
		if err := store.Get(ctx, db, &last, `SELECT COALESCE(MAX(tx), 0) FROM changes`); err != nil {
			return err
		}
		h, err := changelog.Horizon(ctx, db)
		if err != nil {
			return err
		}
		if h > last {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("change log horizon %d still at or below %d after a minute", h, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
