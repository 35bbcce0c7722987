package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/ishoj/voresishoj/graph"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// activityList is the app's ActivityList operation
// (mobile-contract/operations/activity-list.graphql) with the one fragment
// it uses.
const activityList = `query ActivityList($first: Int, $after: String, $filter: ActivityFilter) {
  activities(first: $first, after: $after, filter: $filter) {
    edges {
      cursor
      occurrence { startsAt endsAt }
      node {
        ...ActivityCard
        slots { id spotsLeft }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}

fragment ActivityCard on Activity {
  id
  title
  startsAt
  endsAt
  recurrence
  status
  themes
  place { id name }
  organisation { id name kind }
}`

func feedBody() []byte {
	b, _ := json.Marshal(map[string]any{"operationName": "ActivityList", "query": activityList,
		"variables": map[string]any{"first": 20}})
	return b
}

func runFeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("feed", flag.ExitOnError)
	dbURL := fs.String("db", "", "seeded SQLite path or postgres:// URL")
	c := fs.Int("c", 50, "concurrent clients")
	d := fs.Duration("d", 30*time.Second, "duration of each run")
	cpuprofile := fs.String("cpuprofile", "", "write CPU and allocation profiles of the server's run (not the baseline's) to this file and this file + .allocs")
	rounds := fs.Int("rounds", 1, "interleaved rounds of baseline and server after the first (CPU per request from /proc, server's and PostgreSQL's)")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("feed needs --db")
	}
	if *rounds > 1 {
		return feedRounds(ctx, *dbURL, *c, *d, *rounds)
	}
	_, _, err := feed(ctx, *dbURL, *c, *d, true, *cpuprofile)
	return err
}

// feedRounds runs the baseline, the server and a static handler that
// writes the server's answer as recorded (the load generator's and
// net/http's own share, so what the server adds is ours - static) in
// turn, rounds times, and prints each round's CPU per request: this
// process's, and the PostgreSQL backends' read from /proc. Machines are
// shared: compare within a round.
func feedRounds(ctx context.Context, dsn string, c int, d time.Duration, rounds int) error {
	srv, err := startServer(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	body := feedBody()
	answer, err := post(http.DefaultClient, srv.URL+"/graphql", body, "")
	if err != nil {
		return err
	}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bsrv := &http.Server{Handler: baseline{domain: srv.App.Domain()}}
	go bsrv.Serve(bl)
	defer bsrv.Close()
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ssrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})}
	go ssrv.Serve(sl)
	defer ssrv.Close()
	targets := []struct{ name, url string }{
		{"static", "http://" + sl.Addr().String() + "/graphql"},
		{"baseline", "http://" + bl.Addr().String() + "/graphql"},
		{"ours", srv.URL + "/graphql"},
	}
	fmt.Printf("feed %s: %d clients, %s each, %d rounds, load average %s\n", srv.DB.Dialect, c, d, rounds, loadAverage())
	for _, t := range targets {
		drive(ctx, t.url, body, c, time.Second)
	}
	for round := 1; round <= rounds; round++ {
		got := map[string]result{}
		for _, t := range targets {
			pg0 := backendCPU(ctx, srv.DB)
			r := drive(ctx, t.url, body, c, d)
			r.pg = backendCPU(ctx, srv.DB).since(pg0) / time.Duration(max(r.n, 1))
			got[t.name] = r
		}
		st, b, o := got["static"], got["baseline"], got["ours"]
		fmt.Printf("round %d (load %s)\n", round, loadAverage())
		for _, name := range []string{"static", "baseline", "ours"} {
			r := got[name]
			fmt.Printf("  %-8s %6.0f req/s, p50 %s, process CPU %s, minus static %s, PostgreSQL %s, server+PostgreSQL %s per request\n",
				name, r.rps, ms(r.p50), ms(r.cpu), ms(r.cpu-st.cpu), ms(r.pg), ms(r.cpu-st.cpu+r.pg))
		}
		oursAll, baseAll := o.cpu-st.cpu+o.pg, b.cpu-st.cpu+b.pg
		fmt.Printf("  ours/baseline: throughput %s, server CPU %s, server+PostgreSQL CPU %s (efficiency %s, target >= 0.7)\n",
			ratio(o.rps, b.rps), ratio(float64(o.cpu-st.cpu), float64(b.cpu-st.cpu)),
			ratio(float64(oursAll), float64(baseAll)), ratio(float64(baseAll), float64(oursAll)))
	}
	return nil
}

// feed measures the real server and the baseline handler on one database
// and returns both p50s.
func feed(ctx context.Context, dsn string, c int, d time.Duration, print bool, cpuprofile string) (ours, base result, err error) {
	srv, err := startServer(ctx, dsn, nil)
	if err != nil {
		return ours, base, err
	}
	defer srv.Close()
	body := feedBody()

	// Statements per request, one request at a time so nothing else counts.
	var perReq []int64
	for i := 0; i < 5; i++ {
		before := srv.Count.n.Load()
		if _, err := post(http.DefaultClient, srv.URL+"/graphql", body, ""); err != nil {
			return ours, base, err
		}
		perReq = append(perReq, srv.Count.n.Load()-before)
	}

	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ours, base, err
	}
	bsrv := &http.Server{Handler: baseline{domain: srv.App.Domain()}}
	go bsrv.Serve(bl)
	defer bsrv.Close()
	burl := "http://" + bl.Addr().String()
	var bPerReq []int64
	for i := 0; i < 3; i++ {
		before := srv.Count.n.Load()
		if _, err := post(http.DefaultClient, burl+"/graphql", body, ""); err != nil {
			return ours, base, err
		}
		bPerReq = append(bPerReq, srv.Count.n.Load()-before)
	}
	if err := sameShape(srv.URL, burl, body); err != nil {
		return ours, base, err
	}

	// Warm both, then measure the baseline first and ours second.
	drive(ctx, burl+"/graphql", body, c, time.Second)
	drive(ctx, srv.URL+"/graphql", body, c, time.Second)
	base = drive(ctx, burl+"/graphql", body, c, d)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return ours, base, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return ours, base, err
		}
		// Allocations are counted since the process started; the profile
		// taken now is the base to subtract (go tool pprof -diff_base).
		if err := writeAllocs(cpuprofile + ".allocs.base"); err != nil {
			return ours, base, err
		}
	}
	before := srv.Count.n.Load()
	ours = drive(ctx, srv.URL+"/graphql", body, c, d)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
		if err := writeAllocs(cpuprofile + ".allocs"); err != nil {
			return ours, base, err
		}
	}
	ours.stmts = float64(srv.Count.n.Load()-before) / float64(max(ours.n, 1))
	if print {
		fmt.Printf("feed %s: %d clients, %s each\n", srv.DB.Dialect, c, d)
		fmt.Printf("  baseline net/http: %s\n", base)
		fmt.Printf("  ours (GraphQL):    %s\n", ours)
		fmt.Printf("  throughput ratio ours/baseline: %s (target >= 0.7)\n", ratio(ours.rps, base.rps))
		fmt.Printf("  p50 ratio ours/baseline: %s, p99 ratio: %s\n",
			ratio(float64(ours.p50), float64(base.p50)), ratio(float64(ours.p99), float64(base.p99)))
		fmt.Printf("  SQL statements per request, ours one at a time: %v; under load: %.2f; baseline: %v (target constant <= 5)\n",
			perReq, ours.stmts, bPerReq)
	}
	return ours, base, nil
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

type result struct {
	n, errors int
	rps       float64
	p50, p99  time.Duration
	stmts     float64
	// cpu is the process's CPU time per request (server and load
	// generator together; the generator's share is the same for both).
	cpu  time.Duration
	busy float64       // CPU time over wall time: 2 is both cores busy
	pg   time.Duration // PostgreSQL backends' CPU time per request (feedRounds)
}

func (r result) String() string {
	return fmt.Sprintf("%d requests, %d errors, %.0f req/s, p50 %s, p99 %s, %s CPU per request, %.2f cores busy",
		r.n, r.errors, r.rps, ms(r.p50), ms(r.p99), ms(r.cpu), r.busy)
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drive posts body from c clients for d and summarises the latencies.
func drive(ctx context.Context, url string, body []byte, c int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(d)
	var (
		mu   sync.Mutex
		all  latencies
		errs int
		wg   sync.WaitGroup
	)
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			bad := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if _, err := post(client, url, body, ""); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	took, cpu := time.Since(start), cpuTime()-cpu0
	return result{n: len(all), errors: errs, rps: float64(len(all)) / took.Seconds(), p50: all.pct(0.5), p99: all.pct(0.99),
		cpu: cpu / time.Duration(max(len(all), 1)), busy: cpu.Seconds() / took.Seconds()}
}

// post sends a GraphQL request and fails on transport errors, non-200
// answers and GraphQL errors.
func post(client *http.Client, url string, body []byte, token string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors":`)) {
		return b, fmt.Errorf("%s: %d %.300s", url, resp.StatusCode, b)
	}
	return b, nil
}

// sameShape checks that the baseline answers with the same JSON as the
// server, so the comparison is fair.
func sameShape(ours, base string, body []byte) error {
	a, err := post(http.DefaultClient, ours+"/graphql", body, "")
	if err != nil {
		return err
	}
	b, err := post(http.DefaultClient, base+"/graphql", body, "")
	if err != nil {
		return err
	}
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	if !bytes.Equal(xa, yb) {
		return fmt.Errorf("baseline answers differently:\nours: %.600s\nbase: %.600s", xa, yb)
	}
	return nil
}

// baseline is a minimal hand-written handler running the same SQL as the
// server for the ActivityList operation and writing the same JSON. It is
// benchmark code only: no GraphQL, no loaders, no middleware. It calls the
// domain methods the resolvers and loaders call, so its statements are the
// server's by construction.
type baseline struct{ domain graph.Domain }

type (
	bRef struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	}
	bSlot struct {
		ID        string `json:"id"`
		SpotsLeft int    `json:"spotsLeft"`
	}
	bNode struct {
		ID           string   `json:"id"`
		Title        string   `json:"title"`
		StartsAt     string   `json:"startsAt"`
		EndsAt       string   `json:"endsAt"`
		Recurrence   *string  `json:"recurrence"`
		Status       string   `json:"status"`
		Themes       []string `json:"themes"`
		Place        *bRef    `json:"place"`
		Organisation *bRef    `json:"organisation"`
		Slots        []bSlot  `json:"slots"`
	}
	bEdge struct {
		Cursor     string            `json:"cursor"`
		Occurrence map[string]string `json:"occurrence"`
		Node       *bNode            `json:"node"`
	}
)

func ts(t time.Time) string { return t.In(tz.Copenhagen).Format(time.RFC3339) }

func (h baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variables struct{ First int } `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	limit := req.Variables.First
	if limit == 0 {
		limit = 20
	}
	ctx := r.Context()
	// The operation is a visitor's, as the load tool sends it.
	var visitor user.Caller
	rows, err := h.domain.Activities.List(ctx, visitor, activity.Filter{From: time.Now().UTC()}, nil, limit+1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hasNext := len(rows) > limit
	if hasNext {
		rows = rows[:limit]
	}
	var ids, orgIDs, placeIDs []int64
	for _, a := range rows {
		ids = append(ids, a.ID)
		orgIDs = append(orgIDs, a.OrganisationID)
		if a.PlaceID != nil {
			placeIDs = append(placeIDs, *a.PlaceID)
		}
	}
	// The same domain calls the server's loaders make, so the same SQL.
	d := h.domain
	orgs := map[int64]*bRef{}
	places := map[int64]*bRef{}
	slots := map[int64][]bSlot{}
	os, err := d.Organisations.ByIDs(ctx, visitor, orgIDs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, o := range os {
		orgs[o.ID] = &bRef{ID: gid.Encode("Organisation", o.ID), Name: o.Name, Kind: string(o.Kind)}
	}
	ps, err := d.Places.ByIDs(ctx, visitor, placeIDs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, p := range ps {
		places[p.ID] = &bRef{ID: gid.Encode("Place", p.ID), Name: p.Name}
	}
	themes, err := d.Activities.ThemesByIDs(ctx, ids)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ss, err := d.Volunteer.SlotsByActivityIDs(ctx, visitor, ids)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, s := range ss {
		slots[s.ActivityID] = append(slots[s.ActivityID], bSlot{ID: gid.Encode("VolunteerSlot", s.ID), SpotsLeft: s.SpotsLeft()})
	}
	edges := make([]bEdge, 0, len(rows))
	var end *string
	for _, a := range rows {
		th := themes[a.ID]
		if th == nil {
			th = []string{}
		}
		sl := slots[a.ID]
		if sl == nil {
			sl = []bSlot{}
		}
		n := &bNode{ID: gid.Encode("Activity", a.ID), Title: a.Title, StartsAt: ts(a.StartsAt), EndsAt: ts(a.EndsAt),
			Recurrence: a.Recurrence, Status: string(a.Status), Themes: th, Organisation: orgs[a.OrganisationID], Slots: sl}
		if a.PlaceID != nil {
			n.Place = places[*a.PlaceID]
		}
		first := a.Occurrence.StartsAt
		c, _ := json.Marshal(struct {
			T  *time.Time `json:"t,omitempty"`
			ID int64      `json:"i"`
		}{&first, a.ID})
		cur := base64.RawURLEncoding.EncodeToString(c)
		end = &cur
		edges = append(edges, bEdge{Cursor: cur, Node: n, Occurrence: map[string]string{
			"startsAt": ts(first), "endsAt": ts(a.Occurrence.EndsAt)}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"activities": map[string]any{
		"edges": edges, "pageInfo": map[string]any{"hasNextPage": hasNext, "endCursor": end}}}})
}
