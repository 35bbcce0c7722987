package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/loadgen"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// pushKillOptions configure the crash scenario: a town-wide announcement,
// the server process killed with SIGKILL partway through its fan-out, and
// a new process started on the same database.
type pushKillOptions struct {
	DB      string // "" is a new temporary SQLite file
	Devices int
	Latency time.Duration
	Lease   time.Duration
	KillAt  float64 // share of the devices the fake has accepted when the server is killed
	Timeout time.Duration
	Server  string // a built server binary; "" builds one
}

// pushKillReport is what one crash run found.
type pushKillReport struct {
	Dialect store.Dialect
	Devices int

	KilledAfter    time.Duration // from the announcement to the SIGKILL
	AcceptedAtKill int           // sends the fake had accepted when the server died
	Restart        time.Duration // the second process became ready, from the kill
	AllReached     time.Duration // every device had the push, from the second process's start
	Recorded       time.Duration // every delivery SENT and every delivery job done, from the second start

	Missed, Twice, Strangers int
	// Repeats whose collapse identity differs from the first message's
	// (or differs between platforms): a phone would show those twice.
	BadCollapse int
	Statuses    map[string]int
}

func runPushKill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pushkill", flag.ExitOnError)
	var o pushKillOptions
	fs.StringVar(&o.DB, "db", "", "SQLite path (default: a new temporary file) or postgres:// URL (the run gets a schema of its own, dropped afterwards)")
	fs.IntVar(&o.Devices, "devices", 20000, "residents, each with one registered device")
	fs.DurationVar(&o.Latency, "latency", 20*time.Millisecond, "the fake FCM's latency per request")
	fs.DurationVar(&o.Lease, "lease", 5*time.Second, "PUSH_LEASE of both server processes")
	fs.Float64Var(&o.KillAt, "kill-at", 1.0/3, "kill the server when the fake has accepted this share of the devices")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up waiting after this")
	fs.StringVar(&o.Server, "server", "", "server binary (default: build ./cmd/voresishoj)")
	_ = fs.Parse(args)
	rep, err := pushKillRun(ctx, o, os.Stdout)
	if err != nil {
		return err
	}
	if rep.Missed > 0 || rep.Strangers > 0 || rep.BadCollapse > 0 {
		return fmt.Errorf("crash run wrong: %d devices missed, %d unknown tokens, %d repeats with another collapse identity", rep.Missed, rep.Strangers, rep.BadCollapse)
	}
	if rep.AllReached > time.Minute {
		return fmt.Errorf("crash run too slow: every device reached %s after the restart, want ≤ 60 s", rep.AllReached.Round(time.Millisecond))
	}
	return nil
}

func pushKillRun(ctx context.Context, o pushKillOptions, out io.Writer) (pushKillReport, error) {
	rep := pushKillReport{Devices: o.Devices}
	if o.Devices <= 0 || o.KillAt <= 0 || o.KillAt >= 1 {
		return rep, errors.New("pushkill needs --devices > 0 and 0 < --kill-at < 1")
	}
	dir, err := os.MkdirTemp("", "voresishoj-pushkill-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	bin := o.Server
	if bin == "" {
		bin = filepath.Join(dir, "voresishoj")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ishoj/voresishoj/cmd/voresishoj")
		if b, err := build.CombinedOutput(); err != nil {
			return rep, fmt.Errorf("build server: %w\n%s", err, b)
		}
	}

	dsn, dropDB, err := pushDatabase(ctx, o.DB)
	if err != nil {
		return rep, err
	}
	defer dropDB()
	db, err := app.OpenDB(ctx, config.Config{DatabaseURL: dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return rep, err
	}
	defer db.Close()
	rep.Dialect = db.Dialect
	if err := loadgen.SeedDevices(ctx, db, loadgen.Devices{N: o.Devices}, time.Now()); err != nil {
		return rep, err
	}
	if _, _, err := user.NewService(db, time.Now).GrantSecretariat(ctx, "", pushSecretariat); err != nil {
		return rep, err
	}
	var tokens []string
	if err := store.Select(ctx, db, &tokens, `SELECT token FROM devices ORDER BY id`); err != nil {
		return rep, fmt.Errorf("seeded tokens: %w", err)
	}
	if len(tokens) != o.Devices {
		return rep, fmt.Errorf("database holds %d devices, want %d: use a fresh database", len(tokens), o.Devices)
	}
	fmt.Fprintf(out, "pushkill: %d residents with one device each on %s; PUSH_LEASE %s; fake FCM latency %s\n",
		o.Devices, rep.Dialect, o.Lease, o.Latency)

	fake := fcmtest.Start()
	defer fake.Close()
	fake.DiscardRequests()
	fake.SetLatency(o.Latency)
	authSrv := startPushAuth()
	defer authSrv.Close()
	env := []string{
		"DATA_DIR=" + filepath.Join(dir, "data"), "DATABASE_URL=" + dsn, "DEMO_DATA=false", "LOG_LEVEL=warn",
		"RATE_LIMIT_IP=0", "RATE_LIMIT_PERSON=0", "ANONYMOUS_CONNECTIONS_PER_IP=0", "REDIS_URL=",
		"FIREBASE_PROJECT_ID=" + pushProject, "FCM_ENDPOINT=" + fake.URL(),
		"FIREBASE_AUTH_EMULATOR_HOST=" + strings.TrimPrefix(authSrv.URL, "http://"),
		"PUSH_LEASE=" + o.Lease.String(),
	}

	first, err := startChild(ctx, bin, []string{"serve"}, env, filepath.Join(dir, "first.log"))
	if err != nil {
		return rep, fmt.Errorf("first server: %w", err)
	}
	start := time.Now()
	if err := pushKillAnnounce(first.url); err != nil {
		first.stop()
		return rep, fmt.Errorf("%w (server log: %s)", err, first.tail())
	}
	killAt := int(float64(o.Devices) * o.KillAt)
	deadline := time.Now().Add(o.Timeout)
	for fake.Stats().Accepted < killAt {
		if time.Now().After(deadline) || ctx.Err() != nil {
			first.stop()
			return rep, fmt.Errorf("the fake accepted only %d of %d sends before the kill (server log: %s)", fake.Stats().Accepted, killAt, first.tail())
		}
		time.Sleep(pushWaitInterval)
	}
	// SIGKILL: no shutdown, no lease handed back, whatever batch is at
	// the fake is never recorded.
	_ = first.cmd.Process.Signal(syscall.SIGKILL)
	<-first.done
	killed := time.Now()
	rep.KilledAfter = killed.Sub(start)
	rep.AcceptedAtKill = fake.Stats().Accepted

	second, err := startChild(ctx, bin, []string{"serve"}, env, filepath.Join(dir, "second.log"))
	if err != nil {
		return rep, fmt.Errorf("second server: %w", err)
	}
	defer second.stop()
	restarted := time.Now()
	rep.Restart = restarted.Sub(killed)
	for {
		got := fake.Delivered()
		reached := 0
		for _, t := range tokens {
			if got[t] > 0 {
				reached++
			}
		}
		if reached == len(tokens) {
			rep.AllReached = time.Since(restarted)
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return rep, fmt.Errorf("%s after the restart %d of %d devices had the push (server log: %s)",
				time.Since(restarted).Round(time.Second), reached, len(tokens), second.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		var st struct {
			Unsent int `db:"unsent"`
			Open   int `db:"open"`
		}
		err := store.Get(ctx, db, &st, `SELECT
			(SELECT COUNT(*) FROM deliveries WHERE status NOT IN ('SENT', 'FAILED', 'UNREGISTERED', 'UNKNOWN')) AS unsent,
			(SELECT COUNT(*) FROM river_job WHERE kind IN ('notify_deliver', 'notify_announce') AND state <> 'completed'
				AND NOT (state = 'scheduled' AND attempt = 0)) AS open`)
		if err != nil {
			return rep, fmt.Errorf("delivery progress: %w", err)
		}
		// The secretariat's own notification has no device and may be held
		// by quiet hours; it is not a delivery the fan-out waits for.
		if st.Unsent == 0 && st.Open == 0 {
			rep.Recorded = time.Since(restarted)
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return rep, fmt.Errorf("every device reached, but %d deliveries not SENT and %d jobs open", st.Unsent, st.Open)
		}
		time.Sleep(50 * time.Millisecond)
	}

	got := fake.Delivered()
	for _, t := range tokens {
		switch n := got[t]; {
		case n == 0:
			rep.Missed++
		case n > 1:
			rep.Twice++
		}
		delete(got, t)
		cs := fake.Collapses(t)
		for _, c := range cs {
			if c.One() == "" || c != cs[0] {
				rep.BadCollapse++
			}
		}
	}
	rep.Strangers = len(got)
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := store.Select(ctx, db, &rows, `SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`); err != nil {
		return rep, fmt.Errorf("delivery statuses: %w", err)
	}
	rep.Statuses = map[string]int{}
	for _, r := range rows {
		rep.Statuses[r.Status] = r.N
	}
	printPushKill(out, rep)
	return rep, nil
}

func pushKillAnnounce(url string) error {
	body, _ := json.Marshal(map[string]any{"operationName": "SendAnnouncement", "query": sendAnnouncementOp,
		"variables": map[string]any{"input": map[string]any{"audience": "TOWN", "title": pushTitle, "body": pushBody}}})
	b, err := post(&http.Client{Timeout: time.Minute}, url+"/graphql", body, pushEmulatorToken(pushSecretariat, time.Now()))
	if err != nil {
		return fmt.Errorf("sendAnnouncement: %w", err)
	}
	var resp struct {
		Data struct {
			SendAnnouncement struct {
				Announcement *struct{ Recipients int }
				UserErrors   []struct{ Code, Message string }
			}
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("sendAnnouncement answer: %w", err)
	}
	if resp.Data.SendAnnouncement.Announcement == nil {
		return fmt.Errorf("sendAnnouncement refused: %+v", resp.Data.SendAnnouncement.UserErrors)
	}
	return nil
}

func printPushKill(out io.Writer, r pushKillReport) {
	fmt.Fprintf(out, "  killed (SIGKILL) %s after the announcement, with %d of %d sends accepted (%.0f %%)\n",
		r.KilledAfter.Round(time.Millisecond), r.AcceptedAtKill, r.Devices, 100*float64(r.AcceptedAtKill)/float64(r.Devices))
	fmt.Fprintf(out, "  second process ready %s after the kill\n", r.Restart.Round(time.Millisecond))
	fmt.Fprintf(out, "  every device reached %s after the restart; all deliveries recorded after %s\n",
		r.AllReached.Round(time.Millisecond), r.Recorded.Round(time.Millisecond))
	fmt.Fprintf(out, "  missed %d, received more than once %d (%.1f %%), repeats with another collapse identity %d, unknown tokens %d\n",
		r.Missed, r.Twice, 100*float64(r.Twice)/float64(r.Devices), r.BadCollapse, r.Strangers)
	fmt.Fprintf(out, "  deliveries by status: %v\n", r.Statuses)
}
