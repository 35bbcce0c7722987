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
	"strconv"
	"sync"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
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
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("feed needs --db")
	}
	_, _, err := feed(ctx, *dbURL, *c, *d, true)
	return err
}

// feed measures the real server and the baseline handler on one database
// and returns both p50s.
func feed(ctx context.Context, dsn string, c int, d time.Duration, print bool) (ours, base result, err error) {
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
	bsrv := &http.Server{Handler: baseline{db: srv.DB}}
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
	before := srv.Count.n.Load()
	ours = drive(ctx, srv.URL+"/graphql", body, c, d)
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

type result struct {
	n, errors int
	rps       float64
	p50, p99  time.Duration
	stmts     float64
}

func (r result) String() string {
	return fmt.Sprintf("%d requests, %d errors, %.0f req/s, p50 %s, p99 %s", r.n, r.errors, r.rps, ms(r.p50), ms(r.p99))
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
	start := time.Now()
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
	took := time.Since(start)
	return result{n: len(all), errors: errs, rps: float64(len(all)) / took.Seconds(), p50: all.pct(0.5), p99: all.pct(0.99)}
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
// benchmark code only: no GraphQL, no loaders, no middleware.
type baseline struct{ db *store.DB }

var copenhagen, _ = time.LoadLocation("Europe/Copenhagen")

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

func gid(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

func ts(t time.Time) string { return t.In(copenhagen).Format(time.RFC3339) }

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
	now := time.Now().UTC()
	var rows []struct {
		ID             int64      `db:"id"`
		OrganisationID int64      `db:"organisation_id"`
		PlaceID        *int64     `db:"place_id"`
		Title          string     `db:"title"`
		StartsAt       store.Time `db:"starts_at"`
		EndsAt         store.Time `db:"ends_at"`
		Recurrence     *string    `db:"recurrence"`
		Status         string     `db:"status"`
		FirstStart     store.Time `db:"first_start"`
	}
	err := store.Select(ctx, h.db, &rows, `SELECT a.id, a.organisation_id, a.place_id, a.title, a.starts_at, a.ends_at,
			a.recurrence, a.status, MIN(o.starts_at) AS first_start
		FROM activities a JOIN occurrences o ON o.activity_id = a.id
		WHERE a.status = 'PUBLISHED' AND o.ends_at > ?
		GROUP BY a.id
		ORDER BY first_start, a.id
		LIMIT ?`, now, limit+1)
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
	orgs := map[int64]*bRef{}
	places := map[int64]*bRef{}
	themes := map[int64][]string{}
	slots := map[int64][]bSlot{}
	if len(ids) > 0 {
		var os []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
			Kind string `db:"kind"`
		}
		q, args, _ := store.In(`SELECT id, name, kind FROM organisations WHERE id IN (?)`, orgIDs)
		if err := store.Select(ctx, h.db, &os, q, args...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, o := range os {
			orgs[o.ID] = &bRef{ID: gid("Organisation", o.ID), Name: o.Name, Kind: o.Kind}
		}
		if len(placeIDs) > 0 {
			var ps []struct {
				ID   int64  `db:"id"`
				Name string `db:"name"`
			}
			q, args, _ = store.In(`SELECT id, name FROM places WHERE id IN (?)`, placeIDs)
			if err := store.Select(ctx, h.db, &ps, q, args...); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			for _, p := range ps {
				places[p.ID] = &bRef{ID: gid("Place", p.ID), Name: p.Name}
			}
		}
		var ts []struct {
			ActivityID int64  `db:"activity_id"`
			Theme      string `db:"theme"`
		}
		q, args, _ = store.In(`SELECT activity_id, theme FROM activity_themes WHERE activity_id IN (?) ORDER BY theme`, ids)
		if err := store.Select(ctx, h.db, &ts, q, args...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, t := range ts {
			themes[t.ActivityID] = append(themes[t.ActivityID], t.Theme)
		}
		var ss []struct {
			ID         int64 `db:"id"`
			ActivityID int64 `db:"activity_id"`
			Capacity   int   `db:"capacity"`
			Taken      int   `db:"taken"`
		}
		q, args, _ = store.In(`SELECT id, activity_id, capacity, taken FROM volunteer_slots WHERE activity_id IN (?) ORDER BY starts_at, id`, ids)
		if err := store.Select(ctx, h.db, &ss, q, args...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, s := range ss {
			slots[s.ActivityID] = append(slots[s.ActivityID], bSlot{ID: gid("VolunteerSlot", s.ID), SpotsLeft: s.Capacity - s.Taken})
		}
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
		n := &bNode{ID: gid("Activity", a.ID), Title: a.Title, StartsAt: ts(a.StartsAt.Time), EndsAt: ts(a.EndsAt.Time),
			Recurrence: a.Recurrence, Status: a.Status, Themes: th, Organisation: orgs[a.OrganisationID], Slots: sl}
		if a.PlaceID != nil {
			n.Place = places[*a.PlaceID]
		}
		first := a.FirstStart.Time
		c, _ := json.Marshal(struct {
			T  *time.Time `json:"t,omitempty"`
			ID int64      `json:"i"`
		}{&first, a.ID})
		cur := base64.RawURLEncoding.EncodeToString(c)
		end = &cur
		edges = append(edges, bEdge{Cursor: cur, Node: n, Occurrence: map[string]string{
			"startsAt": ts(first), "endsAt": ts(first.Add(a.EndsAt.Sub(a.StartsAt.Time)))}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"activities": map[string]any{
		"edges": edges, "pageInfo": map[string]any{"hasNextPage": hasNext, "endCursor": end}}}})
}
