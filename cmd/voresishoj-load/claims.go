package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/store"
)

// answerAge says the person signed in with token is 13 or older (updateMe
// ageGroup), as the app asks at sign-up: until then a claim answers
// AGE_REQUIRED.
func answerAge(client *http.Client, url, token string) error {
	b, err := post(client, url, []byte(`{"query":"mutation UpdateMe { updateMe(input: {ageGroup: AT_LEAST_13}) { userErrors { code } } }"}`), token)
	if err != nil {
		return fmt.Errorf("answer the age question: %w", err)
	}
	if bytes.Contains(b, []byte(`"code"`)) {
		return fmt.Errorf("answer the age question: %s", b)
	}
	return nil
}

const claimSlot = `mutation ClaimSlot($input: ClaimSlotInput!) {
  claimSlot(input: $input) {
    claim { id status slot { id taken spotsLeft waitlistLength } }
    userErrors { code }
  }
}`

func runClaims(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("claims", flag.ExitOnError)
	dbURL := fs.String("db", "", "seeded SQLite path or postgres:// URL")
	n := fs.Int("n", 1000, "distinct volunteers")
	capacity := fs.Int("capacity", 10, "capacity of each slot")
	nslots := fs.Int("slots", 1, "slots the volunteers claim, volunteer i the slot i mod slots (1: one hot slot)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the claim storm to this file")
	statements := fs.Bool("statements", false, "print the statements the storm sent, most frequent first")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("claims needs --db")
	}
	srv, err := startServer(ctx, *dbURL, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	db := srv.DB
	now := time.Now().UTC().Truncate(time.Second)
	slotIDs := make([]int64, max(*nslots, 1))
	for i := range slotIDs {
		if slotIDs[i], err = newSlot(ctx, db, now, *capacity); err != nil {
			return err
		}
	}
	local, err := auth.NewLocal(srv.DataDir, srv.App.Domain().Users)
	if err != nil {
		return err
	}
	tokens := make([]string, *n)
	run := now.UnixNano()
	for i := range tokens {
		if tokens[i], err = local.IssueForEmail(ctx, fmt.Sprintf("claimer%d-%d@example.org", run, i), fmt.Sprintf("Claimer %d", i)); err != nil {
			return err
		}
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n, MaxConnsPerHost: *n}}
	// Each claimer answers the age question first, as the app asks at
	// sign-up; it is not part of what is timed.
	for _, token := range tokens {
		if err := answerAge(client, srv.URL+"/graphql", token); err != nil {
			return err
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lat     latencies
		errs    []error
		byState = map[string]int{}
		ready   = make(chan struct{})
	)
	for i := range tokens {
		body, _ := json.Marshal(map[string]any{"query": claimSlot, "variables": map[string]any{
			"input": map[string]any{"slotId": gid.Encode("VolunteerSlot", slotIDs[i%len(slotIDs)]), "idempotencyKey": fmt.Sprintf("k%d", i)}}})
		wg.Add(1)
		go func(token string) {
			defer wg.Done()
			<-ready
			t := time.Now()
			b, err := post(client, srv.URL+"/graphql", body, token)
			d := time.Since(t)
			var resp struct {
				Data struct {
					ClaimSlot struct {
						Claim      *struct{ Status string }
						UserErrors []struct{ Code string }
					}
				}
			}
			_ = json.Unmarshal(b, &resp)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			lat = append(lat, d)
			switch {
			case resp.Data.ClaimSlot.Claim != nil:
				byState[resp.Data.ClaimSlot.Claim.Status]++
			case len(resp.Data.ClaimSlot.UserErrors) > 0:
				byState["error "+resp.Data.ClaimSlot.UserErrors[0].Code]++
			}
		}(tokens[i])
	}
	stopProfile := func() {}
	if *cpuprofile != "" {
		if stopProfile, err = profileCPU(*cpuprofile, 10*time.Minute); err != nil {
			return err
		}
	}
	load0 := loadAverage()
	cpu0, pg0 := cpuTime(), backendCPU(ctx, db)
	srv.Count.record.Store(*statements)
	stmts0 := srv.Count.n.Load()
	start := time.Now()
	close(ready)
	wg.Wait()
	took := time.Since(start)
	cpu, pg := cpuTime()-cpu0, backendCPU(ctx, db).since(pg0)
	stmts := srv.Count.n.Load() - stmts0
	srv.Count.record.Store(false)
	stopProfile()

	var over []int64
	for _, slotID := range slotIDs {
		var confirmed, taken, capa int
		if err := store.Get(ctx, db, &confirmed, `SELECT COUNT(*) FROM slot_claims WHERE slot_id = ? AND status = 'CONFIRMED'`, slotID); err != nil {
			return err
		}
		if err := db.QueryRowxContext(ctx, db.Rebind(`SELECT taken, capacity FROM volunteer_slots WHERE id = ?`), slotID).Scan(&taken, &capa); err != nil {
			return err
		}
		if confirmed > capa || taken != confirmed {
			over = append(over, slotID)
		}
	}

	// Baseline: the same number of bare INSERTs, each in its own
	// transaction, fired at once the same way, without any rule.
	baseSlot, err := newSlot(ctx, db, now, *capacity)
	if err != nil {
		return err
	}
	var ids []int64
	if err := store.Select(ctx, db, &ids, `SELECT id FROM users ORDER BY id DESC LIMIT ?`, *n); err != nil {
		return err
	}
	var (
		blat  latencies
		berrs int
		go2   = make(chan struct{})
	)
	for _, uid := range ids {
		wg.Add(1)
		go func(uid int64) {
			defer wg.Done()
			<-go2
			t := time.Now()
			err := db.Transact(ctx, func(tx *sqlx.Tx) error {
				_, err := store.Exec(ctx, tx, `INSERT INTO slot_claims (slot_id, user_id, status, created_at) VALUES (?, ?, 'WAITLISTED', ?)`, baseSlot, uid, now)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				berrs++
				return
			}
			blat = append(blat, time.Since(t))
		}(uid)
	}
	bcpu0, bpg0 := cpuTime(), backendCPU(ctx, db)
	bstart := time.Now()
	close(go2)
	wg.Wait()
	btook := time.Since(bstart)
	bcpu, bpg := cpuTime()-bcpu0, backendCPU(ctx, db).since(bpg0)

	ours := float64(len(lat)) / took.Seconds()
	base := float64(len(blat)) / btook.Seconds()
	per := func(d time.Duration, k int) string { return ms(d / time.Duration(max(k, 1))) }
	fmt.Printf("claims %s: %d distinct verified volunteers claim %d slot(s) of capacity %d at once; load average %s\n",
		db.Dialect, *n, len(slotIDs), *capacity, load0)
	fmt.Printf("  ours (GraphQL claimSlot): %d answered, %d failed, in %s = %.0f claims/s, p50 %s, p99 %s; CPU per claim: this process %s (server and clients), database backends %s; outcomes %v\n",
		len(lat), len(errs), took.Round(time.Millisecond), ours, ms(lat.pct(0.5)), ms(lat.pct(0.99)), per(cpu, len(lat)), per(pg, len(lat)), byState)
	fmt.Printf("  SQL statements per claim (requests and batches, BEGIN/COMMIT not counted): %.1f\n", float64(stmts)/float64(max(len(lat), 1)))
	if *statements {
		printStatements(srv.Count)
	}
	fmt.Printf("  baseline (bare INSERT, one transaction each): %d done, %d failed, in %s = %.0f inserts/s, p50 %s, p99 %s; CPU per insert: this process %s, database backends %s\n",
		len(blat), berrs, btook.Round(time.Millisecond), base, ms(blat.pct(0.5)), ms(blat.pct(0.99)), per(bcpu, len(blat)), per(bpg, len(blat)))
	fmt.Printf("  ratio ours/baseline: %s (target on PostgreSQL: >= 1500 claims/s on one slot, >= 3000 on 100; SQLite >= 1000)\n", ratio(ours, base))
	fmt.Printf("  after, from the database: %d slot(s) overbooked or miscounted; load average %s\n", len(over), loadAverage())
	if len(errs) > 0 {
		fmt.Printf("  first error: %v\n", errs[0])
	}
	if len(over) > 0 {
		return fmt.Errorf("slots %v overbooked or miscounted", over)
	}
	return nil
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// backends is the CPU time used so far by each server process serving
// db's database (PostgreSQL; none on SQLite, which runs in this process).
type backends map[int]time.Duration

func backendCPU(ctx context.Context, db *store.DB) backends {
	out := backends{}
	if db.Dialect != store.Postgres {
		return out
	}
	var pids []int
	if err := store.Select(ctx, db, &pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`); err != nil {
		return out
	}
	for _, pid := range pids {
		out[pid] = procCPU(pid)
	}
	return out
}

// since is the CPU the backends used after before (a backend started
// since counts from zero).
func (b backends) since(before backends) time.Duration {
	var d time.Duration
	for pid, t := range b {
		d += t - before[pid]
	}
	return d
}

// newSlot adds a published activity a week ahead with one open slot.
func newSlot(ctx context.Context, db *store.DB, now time.Time, capacity int) (int64, error) {
	var id, slot int64
	start := now.Add(7 * 24 * time.Hour)
	err := db.Transact(ctx, func(tx *sqlx.Tx) error {
		var org int64
		if err := store.Get(ctx, tx, &org, `SELECT MIN(id) FROM organisations`); err != nil {
			return fmt.Errorf("an organisation (seed first): %w", err)
		}
		if err := store.Get(ctx, tx, &id, `INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at, published_at)
			VALUES (?, 'Claim storm', ?, ?, 'PUBLISHED', ?, ?, ?) RETURNING id`, org, start, start.Add(time.Hour), now, now, now); err != nil {
			return err
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, id, start, start.Add(time.Hour)); err != nil {
			return err
		}
		return store.Get(ctx, tx, &slot, `INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, created_at)
			VALUES (?, 'Hjælper', ?, ?, ?, ?) RETURNING id`, id, start, start.Add(time.Hour), capacity, now)
	})
	return slot, err
}

// printStatements prints the recorded statements by frequency, each by its
// first line.
func printStatements(c *counter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := map[string]int{}
	for _, st := range c.seen {
		q := strings.TrimSpace(st.query)
		if i := strings.IndexByte(q, '\n'); i > 0 {
			q = q[:i]
		}
		n[q[:min(len(q), 100)]]++
	}
	type row struct {
		q string
		n int
	}
	var rows []row
	for q, k := range n {
		rows = append(rows, row{q, k})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	for _, r := range rows[:min(len(rows), 15)] {
		fmt.Printf("    %6d  %s\n", r.n, r.q)
	}
}
