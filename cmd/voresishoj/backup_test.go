package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// useDataDir points the commands' configuration at dir, as an operator's
// environment would.
func useDataDir(t *testing.T, dir string) config.Config {
	t.Helper()
	t.Setenv("DATA_DIR", dir)
	t.Setenv("DATABASE_URL", filepath.Join(dir, "voresishoj.db"))
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("DEV_NOW", clocktest.Now(t).Format(time.RFC3339Nano))
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startApp(ctx context.Context, t *testing.T, cfg config.Config) *app.App {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	db, err := app.OpenDB(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return a
}

// `voresishoj backup` taken while volunteers claim and cancel slots and
// the secretariat creates places, then `voresishoj restore` into a new
// data folder: the restored server holds exactly the backup's moment,
// which lies between the backup's start and end, and every slot's
// counters agree with its claims.
func TestBackupWhileClaimingThenRestore(t *testing.T) {
	ctx := context.Background()
	live := useDataDir(t, t.TempDir())
	a := startApp(ctx, t, live)
	defer a.Close()
	d := a.Domain()

	var slotIDs []int64
	db, err := store.Open(ctx, live.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Select(ctx, db, &slotIDs, `SELECT id FROM volunteer_slots ORDER BY id`); err != nil || len(slotIDs) < 5 {
		t.Fatalf("demo slots: %v %v", slotIDs, err)
	}
	boss, err := d.Users.Resolve(ctx, user.Identity{UID: "local:" + demo.SecretariatEmail, Email: demo.SecretariatEmail, EmailVerified: true})
	if err != nil || !boss.Secretariat {
		t.Fatalf("secretariat caller: %+v %v", boss, err)
	}

	// Each writer records, in order, what it committed: the slots its
	// claims were made on (a cancelled claim stays a row) or the places
	// it created. One moment of the database holds a prefix of each.
	const volunteers = 8
	// kept counts claims not given back: the backup must hold some for the
	// restored server to be asked about.
	var started, committed, kept atomic.Int64
	done := make([][]string, volunteers+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < volunteers; i++ {
		vol, err := d.Users.Resolve(ctx, user.Identity{UID: fmt.Sprintf("local:frivillig%d@example.dk", i),
			Email: fmt.Sprintf("frivillig%d@example.dk", i), EmailVerified: true, Name: fmt.Sprintf("Frivillig %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		// They answered the age question at sign-up, as the app asks.
		adult := user.AgeAtLeast13
		if _, err := d.Users.UpdateProfile(ctx, vol, user.ProfileInput{AgeGroup: &adult}, nil); err != nil {
			t.Fatal(err)
		}
		if vol, err = d.Users.Caller(ctx, vol.UserID); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				slot := slotIDs[r.IntN(len(slotIDs))]
				started.Add(1)
				c, err := d.Volunteer.Claim(ctx, vol, slot, fmt.Sprintf("k-%d-%d", i, n))
				if err != nil {
					continue // full, overlapping, already claimed: refused, nothing written
				}
				done[i] = append(done[i], fmt.Sprint(slot))
				committed.Add(1)
				if r.IntN(3) == 0 { // and sometimes changes their mind, which promotes the waitlist
					_, _ = d.Volunteer.CancelClaim(ctx, vol, c.ID)
				} else {
					kept.Add(1)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("Backup-sted %05d", n)
			started.Add(1)
			if _, err := d.Places.Create(ctx, boss, place.Input{Name: name}); err != nil {
				t.Errorf("create place: %v", err)
				return
			}
			done[volunteers] = append(done[volunteers], name)
			committed.Add(1)
		}
	}()

	for deadline := time.Now().Add(30 * time.Second); committed.Load() < 60 || kept.Load() < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s only %d writes committed, %d claims kept", committed.Load(), kept.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	file := filepath.Join(t.TempDir(), "voresishoj-backup.db")
	var out, errOut bytes.Buffer
	lo := committed.Load()
	err = run(ctx, []string{"backup", file}, &out, &errOut)
	hi, during := started.Load(), committed.Load()-lo
	time.Sleep(50 * time.Millisecond) // writes go on after the backup
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "written to "+file) || !strings.Contains(out.String(), "media") {
		t.Errorf("backup said %q", out.String())
	}

	// The live database is in use: restoring over it is refused.
	out.Reset()
	if err := run(ctx, []string{"restore", "--replace", file}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("restore over the running server's database: %v", err)
	}

	fresh := useDataDir(t, t.TempDir())
	out.Reset()
	if err := run(ctx, []string{"restore", file}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "restored "+file) {
		t.Errorf("restore said %q", out.String())
	}
	r := startApp(ctx, t, fresh)
	defer r.Close()
	rdb, err := store.Open(ctx, fresh.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	// One moment: each writer's rows are a prefix of what it committed.
	var total int64
	for i := 0; i <= volunteers; i++ {
		var got []string
		if i < volunteers {
			err = store.Select(ctx, rdb, &got, `SELECT CAST(c.slot_id AS TEXT) FROM slot_claims c JOIN users u ON u.id = c.user_id
				WHERE u.email = ? ORDER BY c.id`, fmt.Sprintf("frivillig%d@example.dk", i))
		} else {
			err = store.Select(ctx, rdb, &got, `SELECT name FROM places WHERE name LIKE 'Backup-sted %' ORDER BY id`)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > len(done[i]) || strings.Join(got, ",") != strings.Join(done[i][:len(got)], ",") {
			t.Errorf("writer %d: the restored database holds %v, which is not a prefix of what it committed %v", i, got, done[i])
		}
		total += int64(len(got))
	}
	if total < lo || total > hi {
		t.Errorf("the restored database holds %d writes; %d were committed before the backup began and %d begun before it ended", total, lo, hi)
	}
	t.Logf("restored %d writes (committed before the backup: %d, while it ran: %d, begun before its end: %d, in all: %d)",
		total, lo, during, hi, committed.Load())

	// Every slot's counters agree with its claims.
	var bad []struct {
		ID         int64 `db:"id"`
		Taken      int   `db:"taken"`
		Confirmed  int   `db:"confirmed"`
		Waitlisted int   `db:"waitlisted"`
		Queue      int   `db:"queue"`
		Capacity   int   `db:"capacity"`
	}
	err = store.Select(ctx, rdb, &bad, `SELECT s.id, s.taken, s.capacity, s.waitlisted,
			(SELECT COUNT(*) FROM slot_claims c WHERE c.slot_id = s.id AND c.status = 'CONFIRMED') AS confirmed,
			(SELECT COUNT(*) FROM slot_claims c WHERE c.slot_id = s.id AND c.status = 'WAITLISTED') AS queue
		FROM volunteer_slots s`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range bad {
		if s.Taken != s.Confirmed || s.Taken > s.Capacity || s.Waitlisted != s.Queue {
			t.Errorf("slot %d: taken %d, confirmed claims %d, capacity %d, waitlisted %d, waitlisted claims %d",
				s.ID, s.Taken, s.Confirmed, s.Capacity, s.Waitlisted, s.Queue)
		}
	}

	// The server on the restored database answers a volunteer with their
	// claims from the backup.
	local, err := auth.NewLocal(fresh.DataDir, r.Domain().Users)
	if err != nil {
		t.Fatal(err)
	}
	var busiest struct {
		Email  string `db:"email"`
		Claims int    `db:"claims"`
	}
	if err := store.Get(ctx, rdb, &busiest, `SELECT u.email, COUNT(*) AS claims FROM slot_claims c JOIN users u ON u.id = c.user_id
		WHERE u.email LIKE 'frivillig%' AND c.status <> 'CANCELLED' GROUP BY u.email ORDER BY claims DESC, u.email LIMIT 1`); err != nil {
		t.Fatalf("no volunteer with a claim in the backup: %v", err)
	}
	want := busiest.Claims
	token, err := local.IssueForEmail(ctx, busiest.Email, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"query": `{ me { email claims { id status } } }`})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data struct {
			Me struct {
				Email  string
				Claims []struct{ ID, Status string }
			}
		}
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || len(answer.Errors) > 0 {
		t.Fatalf("me on the restored server: %v %v", err, answer.Errors)
	}
	if answer.Data.Me.Email != busiest.Email || len(answer.Data.Me.Claims) != want {
		t.Errorf("me on the restored server: %+v; want %d claims", answer.Data.Me, want)
	}
}
