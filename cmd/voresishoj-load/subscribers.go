package main

import (
	"bufio"
	"bytes"
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
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// slotChangedOp is the app's SlotChanged subscription
// (mobile-contract/operations/live.graphql) with the fragment it uses.
const slotChangedOp = `subscription SlotChanged($activityId: ID!) {
  slotChanged(activityId: $activityId) { id taken spotsLeft waitlistLength myClaim { ...MyClaim } }
}

fragment MyClaim on SlotClaim {
  id
  status
  waitlistPosition
  createdAt
}`

// childEnv makes the load tool (or its test binary) play a server in a
// process of its own, so that the server's resident memory is measured
// alone: "ws-baseline" is the trivial websocket server, "app" the real
// application with heap profiles on SIGUSR1.
const (
	childEnv      = "VORESISHOJ_LOAD_CHILD"
	profileDirEnv = "VORESISHOJ_LOAD_PROFILE_DIR"
)

// capacity of the slot claimed; the claim leaves spotsLeft at capacity-1.
const subscribersSlotCapacity = 10

type subscribersOptions struct {
	db       string
	n        int
	dial     int
	people   int
	idle     time.Duration
	deadline time.Duration
	redis    string
	variants []string
	profile  string
	server   string
}

func runSubscribers(ctx context.Context, args []string) error {
	if role := os.Getenv(childEnv); role != "" {
		return runChild(ctx, role)
	}
	fs := flag.NewFlagSet("subscribers", flag.ExitOnError)
	var o subscribersOptions
	fs.StringVar(&o.db, "db", "", "seeded SQLite path or postgres:// URL; empty: a fresh SQLite with the demo data")
	fs.IntVar(&o.n, "n", 10000, "websocket subscribers")
	fs.IntVar(&o.dial, "dial", 200, "connections opened at a time")
	fs.IntVar(&o.people, "people", 0, "distinct signed-in people the subscribers are spread over; 0: anonymous")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "how long the subscribers sit idle before memory is read and the claim is made")
	fs.DurationVar(&o.deadline, "deadline", 10*time.Second, "how long after the claim every subscriber must have its message")
	fs.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/15", "Redis URL for the redis variant")
	variants := fs.String("variants", "memory,redis", "server variants to run: memory (in-process pub/sub), redis")
	fs.StringVar(&o.profile, "profile", "", "directory for heap and goroutine profiles of the server before and while the subscribers are idle, and a CPU profile of the delivery; the server then runs inside this tool instead of the built binary")
	fs.StringVar(&o.server, "server", "", "a built voresishoj binary; empty: build ./cmd/voresishoj")
	_ = fs.Parse(args)
	for _, v := range strings.Split(*variants, ",") {
		if v = strings.TrimSpace(v); v != "" {
			if v != "memory" && v != "redis" {
				return fmt.Errorf("unknown variant %q (memory, redis)", v)
			}
			o.variants = append(o.variants, v)
		}
	}
	_, err := subscribers(ctx, o, os.Stdout)
	return err
}

// subscribersReport is what one run measured, for the test and the summary.
type subscribersReport struct {
	Baseline subscriberRun
	Variants []subscriberRun
}

// subscriberRun is one server holding n subscribers and sending them one
// change.
type subscriberRun struct {
	Name      string
	N         int
	Failed    int           // connections that could not be opened and subscribed
	Connect   time.Duration // to open and subscribe all of them
	RSSBefore int64         // KiB, warmed, nobody connected
	RSSConn   int64         // KiB, right after the last subscribed
	RSSIdle   int64         // KiB, after the idle wait
	RSSAfter  int64         // KiB, after the delivery
	Threads   int
	// The server's own view before and while idle, only when profiling.
	GoBefore, GoIdle runtimeSnapshot
	Trigger          time.Duration // the claim's (or publish's) round trip
	// CPU time the server spent, less noisy than wall time on a shared
	// machine: opening and subscribing all, and from the trigger until
	// every subscriber had its message.
	ConnectCPU, DeliveryCPU time.Duration
	Delivery                latencies // per subscriber, from sending the claim to its message
	Received                int       // subscribers with at least one message
	Late                    int       // of those, received after the deadline
	Duplicates              int       // subscribers with more than one message
	Bad                     int       // messages that were not the expected payload
	Errors                  []string  // a few of the connection errors, for the report
	Warnings                int       // warn/error lines the server logged
	FirstWarning            string
}

func (r subscriberRun) perSub(rss int64) float64 {
	if r.N-r.Failed <= 0 {
		return 0
	}
	return float64(rss-r.RSSBefore) / float64(r.N-r.Failed)
}

func (r subscriberRun) missed() int { return r.N - r.Received }

func subscribers(ctx context.Context, o subscribersOptions, out io.Writer) (subscribersReport, error) {
	var rep subscribersReport
	raiseFileLimit(2*o.n + 1000)
	dir, err := os.MkdirTemp("", "voresishoj-subscribers-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return rep, err
	}
	serverBin := o.server
	if o.profile == "" && serverBin == "" {
		serverBin = filepath.Join(dir, "voresishoj")
		build := exec.CommandContext(ctx, "go", "build", "-o", serverBin, "github.com/ishoj/voresishoj/cmd/voresishoj")
		if b, err := build.CombinedOutput(); err != nil {
			return rep, fmt.Errorf("build server: %w\n%s", err, b)
		}
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return rep, err
		}
	}

	// The baseline first: a trivial server holding the same connections
	// and sending them one canned message of the same shape.
	rep.Baseline, err = measureBaseline(ctx, self, dir, o)
	if err != nil {
		return rep, fmt.Errorf("baseline: %w", err)
	}

	dataDir := filepath.Join(dir, "data")
	dsn, fresh := o.db, o.db == ""
	if fresh {
		dsn = filepath.Join(dataDir, "voresishoj.db")
	}
	var db *store.DB
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	for _, v := range o.variants {
		env := []string{
			"DATA_DIR=" + dataDir, "DATABASE_URL=" + dsn, "DEMO_DATA=" + strconv.FormatBool(fresh),
			"APP_ENV=development", "FIREBASE_PROJECT_ID=", "LOG_LEVEL=warn", "RATE_LIMIT_IP=0", "RATE_LIMIT_PERSON=0",
			"WEBSOCKETS_PER_PERSON=100000", "ANONYMOUS_CONNECTIONS_PER_IP=0", "REDIS_URL=",
			"STORIES_PER_DAY=0", "STORY_REPORTS_PER_DAY=0", "CLAIMS_PER_HOUR=0",
		}
		name := "ours, in-process pub/sub"
		if v == "redis" {
			env = append(env, "REDIS_URL="+o.redis)
			name = "ours, Redis pub/sub"
		}
		bin, args := serverBin, []string{"serve"}
		if o.profile != "" {
			bin, args = self, []string{"subscribers"}
			env = append(env, childEnv+"=app", profileDirEnv+"="+filepath.Join(o.profile, v))
		}
		srv, err := startChild(ctx, bin, args, env, filepath.Join(dir, v+".log"))
		if err != nil {
			return rep, fmt.Errorf("%s: %w", name, err)
		}
		// The server has migrated (and filled a fresh database); the tool
		// adds its activity and issues tokens beside it.
		if db == nil {
			if db, err = store.Open(ctx, dsn); err != nil {
				srv.stop()
				return rep, err
			}
		}
		run, err := measureOurs(ctx, srv, db, dataDir, o)
		srv.stop()
		run.Name = name
		run.Warnings, run.FirstWarning = srv.warnings()
		if err != nil {
			return rep, fmt.Errorf("%s: %w (server log: %s)", name, err, srv.tail())
		}
		rep.Variants = append(rep.Variants, run)
	}
	printSubscribers(out, o, rep)
	for _, r := range rep.Variants {
		if r.missed() > 0 || r.Duplicates > 0 || r.Bad > 0 || r.Late > 0 {
			return rep, fmt.Errorf("%s: %d of %d subscribers missed the change, %d late, %d got duplicates, %d bad messages",
				r.Name, r.missed(), r.N, r.Late, r.Duplicates, r.Bad)
		}
	}
	if b := rep.Baseline; b.missed() > 0 || b.Late > 0 {
		return rep, fmt.Errorf("baseline: %d of %d subscribers missed the message", b.missed(), b.N)
	}
	return rep, nil
}

func measureBaseline(ctx context.Context, self, dir string, o subscribersOptions) (subscriberRun, error) {
	srv, err := startChild(ctx, self, []string{"subscribers"}, []string{childEnv + "=ws-baseline"}, filepath.Join(dir, "baseline.log"))
	if err != nil {
		return subscriberRun{}, err
	}
	defer srv.stop()
	slot := gid.Encode("VolunteerSlot", 1)
	payload, _ := json.Marshal(map[string]any{"data": map[string]any{"slotChanged": map[string]any{
		"id": slot, "taken": 1, "spotsLeft": subscribersSlotCapacity - 1, "waitlistLength": 0, "myClaim": nil}}})
	client := &http.Client{Timeout: 30 * time.Second}
	publish := func() error {
		resp, err := client.Post(srv.url+"/publish", "application/json", bytes.NewReader(payload))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("publish: %s", resp.Status)
		}
		return nil
	}
	run, err := measure(ctx, srv, o, subscribeMessage(gid.Encode("Activity", 1)), nil, slot, publish)
	run.Name = "baseline"
	return run, err
}

func measureOurs(ctx context.Context, srv *child, db *store.DB, dataDir string, o subscribersOptions) (subscriberRun, error) {
	now := time.Now().UTC().Truncate(time.Second)
	slotID, err := newSlot(ctx, db, now, subscribersSlotCapacity)
	if err != nil {
		return subscriberRun{}, err
	}
	var activityID int64
	if err := store.Get(ctx, db, &activityID, `SELECT activity_id FROM volunteer_slots WHERE id = ?`, slotID); err != nil {
		return subscriberRun{}, err
	}
	// Local tokens are signed with the key the server keeps in DATA_DIR;
	// issuing them here creates the people in the shared database.
	local, err := auth.NewLocal(dataDir, user.NewService(db, clock.Real))
	if err != nil {
		return subscriberRun{}, err
	}
	volunteer, err := local.IssueForEmail(ctx, fmt.Sprintf("subscribers-claimer-%d@example.org", now.UnixNano()), "Load Claimer")
	if err != nil {
		return subscriberRun{}, err
	}
	if err := answerAge(http.DefaultClient, srv.url+"/graphql", volunteer); err != nil {
		return subscriberRun{}, err
	}
	tokens := make([]string, o.people)
	for i := range tokens {
		if tokens[i], err = local.IssueForEmail(ctx, fmt.Sprintf("subscriber%d@example.org", i), fmt.Sprintf("Subscriber %d", i)); err != nil {
			return subscriberRun{}, err
		}
	}
	body, _ := json.Marshal(map[string]any{"query": claimSlot, "variables": map[string]any{
		"input": map[string]any{"slotId": gid.Encode("VolunteerSlot", slotID), "idempotencyKey": "subscribers"}}})
	claim := func() error {
		b, err := post(http.DefaultClient, srv.url+"/graphql", body, volunteer)
		if err != nil {
			return err
		}
		var resp struct {
			Data struct {
				ClaimSlot struct {
					Claim *struct{ Status string }
				}
			}
		}
		if err := json.Unmarshal(b, &resp); err != nil || resp.Data.ClaimSlot.Claim == nil || resp.Data.ClaimSlot.Claim.Status != "CONFIRMED" {
			return fmt.Errorf("claim not confirmed: %.300s", b)
		}
		return nil
	}
	return measure(ctx, srv, o, subscribeMessage(gid.Encode("Activity", activityID)), tokens, gid.Encode("VolunteerSlot", slotID), claim)
}

func subscribeMessage(activity string) []byte {
	b, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"operationName": "SlotChanged", "query": slotChangedOp, "variables": map[string]any{"activityId": activity}}})
	return b
}

// measure connects o.n subscribers to srv, reads its memory warmed and
// idle, calls trigger and waits for every subscriber's message about slot.
func measure(ctx context.Context, srv *child, o subscribersOptions, subscribe []byte, tokens []string, slot string, trigger func() error) (subscriberRun, error) {
	run := subscriberRun{N: o.n}
	wsURL := "ws" + strings.TrimPrefix(srv.url, "http") + "/graphql"
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	check := func(p []byte) bool {
		var m struct {
			Data struct {
				SlotChanged *struct {
					ID    string
					Taken int
				} `json:"slotChanged"`
			}
			Errors json.RawMessage
		}
		return json.Unmarshal(p, &m) == nil && len(m.Errors) == 0 && m.Data.SlotChanged != nil &&
			m.Data.SlotChanged.ID == slot && m.Data.SlotChanged.Taken == 1
	}
	token := func(i int) string {
		if len(tokens) == 0 {
			return ""
		}
		return tokens[i%len(tokens)]
	}

	// Warm the server's websocket path with one subscriber that leaves.
	warm, err := dialSubscriber(rctx, wsURL, token(0), subscribe)
	if err != nil {
		return run, fmt.Errorf("first subscriber: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	warm.conn.CloseNow()
	time.Sleep(time.Second)
	run.GoBefore = srv.snapshot(ctx, "before")
	if run.RSSBefore, _, err = procStatus(srv.pid()); err != nil {
		return run, err
	}

	subs := make([]*subscriber, o.n)
	var (
		wg       sync.WaitGroup
		readers  sync.WaitGroup
		mu       sync.Mutex
		received atomic.Int64
		next     = make(chan int)
	)
	cpu0 := procCPU(srv.pid())
	start := time.Now()
	for w := 0; w < o.dial; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := dialSubscriber(rctx, wsURL, token(i), subscribe)
				if err != nil {
					mu.Lock()
					run.Failed++
					if len(run.Errors) < 5 {
						run.Errors = append(run.Errors, err.Error())
					}
					mu.Unlock()
					continue
				}
				subs[i] = s
				readers.Add(1)
				go func() {
					defer readers.Done()
					s.read(rctx, check, &received)
				}()
			}
		}()
	}
	for i := 0; i < o.n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	run.Connect = time.Since(start)
	run.ConnectCPU = procCPU(srv.pid()) - cpu0
	defer func() {
		cancel()
		for _, s := range subs {
			if s != nil {
				s.conn.CloseNow()
			}
		}
		readers.Wait()
	}()
	if run.RSSConn, _, err = procStatus(srv.pid()); err != nil {
		return run, err
	}
	time.Sleep(o.idle)
	if run.RSSIdle, run.Threads, err = procStatus(srv.pid()); err != nil {
		return run, err
	}
	run.GoIdle = srv.snapshot(ctx, "idle")
	srv.profileCPU()

	// One change; every subscriber times its message from the moment the
	// claim left.
	cpu0 = procCPU(srv.pid())
	sent := time.Now()
	for _, s := range subs {
		if s != nil {
			s.sent.Store(sent.UnixNano())
		}
	}
	if err := trigger(); err != nil {
		return run, err
	}
	run.Trigger = time.Since(sent)
	want := int64(o.n - run.Failed)
	for received.Load() < want && time.Since(sent) < o.deadline && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	run.DeliveryCPU = procCPU(srv.pid()) - cpu0
	// A little longer, for duplicates.
	time.Sleep(500 * time.Millisecond)
	run.RSSAfter, _, _ = procStatus(srv.pid())
	for _, s := range subs {
		if s == nil {
			continue
		}
		n := s.nexts.Load()
		if n == 0 {
			continue
		}
		d := time.Duration(s.first.Load() - sent.UnixNano())
		run.Received++
		if d > o.deadline {
			run.Late++
		}
		if n > 1 {
			run.Duplicates++
		}
		run.Bad += int(s.bad.Load())
		run.Delivery = append(run.Delivery, d)
	}
	return run, nil
}

// subscriber is one client of the graphql-transport-ws protocol.
type subscriber struct {
	conn  *websocket.Conn
	sent  atomic.Int64 // when the change was triggered, unix nanoseconds
	first atomic.Int64 // when the first next arrived, unix nanoseconds
	nexts atomic.Int32
	bad   atomic.Int32
}

type wsFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

var pong = []byte(`{"type":"pong"}`)

// dialSubscriber opens a connection, initialises it (signed in when token
// is set) and subscribes.
func dialSubscriber(ctx context.Context, url, token string, subscribe []byte) (*subscriber, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	fail := func(err error) (*subscriber, error) {
		c.CloseNow()
		return nil, err
	}
	if c.Subprotocol() != "graphql-transport-ws" {
		return fail(fmt.Errorf("server chose subprotocol %q", c.Subprotocol()))
	}
	init := map[string]any{"type": "connection_init", "payload": map[string]any{}}
	if token != "" {
		init["payload"] = map[string]any{"authorization": "Bearer " + token}
	}
	b, _ := json.Marshal(init)
	if err := c.Write(dctx, websocket.MessageText, b); err != nil {
		return fail(fmt.Errorf("connection_init: %w", err))
	}
	for {
		_, b, err := c.Read(dctx)
		if err != nil {
			return fail(fmt.Errorf("waiting for connection_ack: %w", err))
		}
		var f wsFrame
		_ = json.Unmarshal(b, &f)
		if f.Type == "connection_ack" {
			break
		}
		if f.Type == "ping" {
			_ = c.Write(dctx, websocket.MessageText, pong)
			continue
		}
		return fail(fmt.Errorf("expected connection_ack, got %.200s", b))
	}
	if err := c.Write(dctx, websocket.MessageText, subscribe); err != nil {
		return fail(fmt.Errorf("subscribe: %w", err))
	}
	return &subscriber{conn: c}, nil
}

// read takes messages until the connection ends, answering the server's
// pings so that an idle subscriber stays connected.
func (s *subscriber) read(ctx context.Context, check func([]byte) bool, received *atomic.Int64) {
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		at := time.Now().UnixNano()
		var f wsFrame
		if err := json.Unmarshal(b, &f); err != nil {
			s.bad.Add(1)
			continue
		}
		switch f.Type {
		case "next":
			if s.nexts.Add(1) == 1 {
				s.first.Store(at)
				if s.sent.Load() != 0 {
					received.Add(1)
				}
			}
			if !check(f.Payload) {
				s.bad.Add(1)
			}
		case "ping":
			_ = s.conn.Write(ctx, websocket.MessageText, pong)
		case "pong":
		default:
			// error or complete: the subscription is over.
			s.bad.Add(1)
		}
	}
}

// child is a server process of its own, so its memory can be read alone.
type child struct {
	cmd     *exec.Cmd
	url     string
	log     string
	profile string
	done    chan struct{}
	// readyAt is the log's length when the server became ready: what it
	// logs at start (local sign-in mode, say) is not the run's concern.
	readyAt int64
}

func startChild(ctx context.Context, bin string, args, env []string, logPath string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "LISTEN_ADDR="+addr, "METRICS_ADDR=off"), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	c := &child{cmd: cmd, url: "http://" + addr, log: logPath, done: make(chan struct{})}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, profileDirEnv+"="); ok {
			c.profile = v
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited before it was ready: %s", bin, c.tail())
		default:
		}
		if resp, err := client.Get(c.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if fi, err := os.Stat(logPath); err == nil {
					c.readyAt = fi.Size()
				}
				return c, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.stop()
	return nil, fmt.Errorf("%s not ready: %s", bin, c.tail())
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// snapshot asks a profiling child for its heap and goroutine profiles and
// returns its goroutine count and the heap and stacks in use (KiB); zeros
// when the child does not profile.
func (c *child) snapshot(ctx context.Context, name string) (s runtimeSnapshot) {
	if c.profile == "" {
		return s
	}
	ready := filepath.Join(c.profile, name+".runtime")
	_ = os.Remove(ready)
	if err := os.WriteFile(filepath.Join(c.profile, "next"), []byte(name), 0o644); err != nil {
		return s
	}
	_ = c.cmd.Process.Signal(syscall.SIGUSR1)
	for i := 0; i < 300 && ctx.Err() == nil; i++ {
		if b, err := os.ReadFile(ready); err == nil {
			_, _ = fmt.Sscan(string(b), &s.Goroutines, &s.HeapKiB, &s.StackKiB)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// profileCPU has a profiling child record where its CPU goes over the
// next seconds, the delivery.
func (c *child) profileCPU() {
	if c.profile == "" {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGUSR2)
	time.Sleep(100 * time.Millisecond)
}

// runtimeSnapshot is what a profiling server reports of itself.
type runtimeSnapshot struct {
	Goroutines        int
	HeapKiB, StackKiB int64
}

func (c *child) tail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// warnings counts the lines the server logged at warn or above since it
// became ready and returns the first.
func (c *child) warnings() (n int, first string) {
	f, err := os.Open(c.log)
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	if _, err := f.Seek(c.readyAt, io.SeekStart); err != nil {
		return 0, ""
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			if n++; n == 1 {
				first = l
			}
		}
	}
	return n, first
}

// procStatus reads a process's resident memory (KiB) and thread count.
func procStatus(pid int) (rssKiB int64, threads int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of the server: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rssKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rssKiB, threads, nil
}

// procCPU returns the user and system time a process has used, in the
// kernel's clock ticks of 10 ms; 0 if it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// raiseFileLimit lifts the soft limit on open files to the hard one when n
// sockets would not fit; the server children inherit it.
func raiseFileLimit(n int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil || l.Cur >= uint64(n) {
		return
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		slog.Warn("could not raise the open-file limit", slog.String("error", err.Error()))
	}
}

func printSubscribers(out io.Writer, o subscribersOptions, rep subscribersReport) {
	who := "anonymous"
	if o.people > 0 {
		who = fmt.Sprintf("signed in as %d people", o.people)
	}
	fmt.Fprintf(out, "subscribers: %d websocket subscribers (%s) to slotChanged on one replica, one claim; %d dials at a time, %s idle\n",
		o.n, who, o.dial, o.idle)
	kib := func(k int64) string { return fmt.Sprintf("%.1f MiB", float64(k)/1024) }
	line := func(r subscriberRun) {
		fmt.Fprintf(out, "  %s:\n", r.Name)
		fmt.Fprintf(out, "    connected %d of %d in %s (%.0f/s), server CPU %s (%.0f µs each)", r.N-r.Failed, r.N, r.Connect.Round(time.Millisecond),
			float64(r.N-r.Failed)/r.Connect.Seconds(), r.ConnectCPU, float64(r.ConnectCPU.Microseconds())/float64(max(r.N-r.Failed, 1)))
		if len(r.Errors) > 0 {
			fmt.Fprintf(out, "; first errors: %s", strings.Join(r.Errors, "; "))
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "    RSS %s warmed → %s connected → %s after %s idle (%d threads) → %s after delivery\n",
			kib(r.RSSBefore), kib(r.RSSConn), kib(r.RSSIdle), o.idle, r.Threads, kib(r.RSSAfter))
		fmt.Fprintf(out, "    per subscriber: %.1f KiB connected, %.1f KiB idle\n", r.perSub(r.RSSConn), r.perSub(r.RSSIdle))
		if g := r.GoIdle; g.Goroutines > 0 {
			n := float64(max(r.N-r.Failed, 1))
			fmt.Fprintf(out, "    profiled server after a GC, per subscriber: %.2f goroutines (%d → %d), %.1f KiB heap in use, %.1f KiB goroutine stacks\n",
				float64(g.Goroutines-r.GoBefore.Goroutines)/n, r.GoBefore.Goroutines, g.Goroutines,
				float64(g.HeapKiB-r.GoBefore.HeapKiB)/n, float64(g.StackKiB-r.GoBefore.StackKiB)/n)
		}
		fmt.Fprintf(out, "    trigger answered in %s; delivery p50 %s, p99 %s, max %s; %d of %d received within %s, %d missed, %d late, %d duplicates, %d bad",
			ms(r.Trigger), ms(r.Delivery.pct(0.5)), ms(r.Delivery.pct(0.99)), ms(r.Delivery.pct(1)),
			r.Received-r.Late, r.N, o.deadline, r.missed(), r.Late, r.Duplicates, r.Bad)
		if r.Name != "baseline" {
			fmt.Fprintf(out, "; server logged %d warnings", r.Warnings)
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "    server CPU for the fan-out: %s (%.0f µs per subscriber)\n", r.DeliveryCPU,
			float64(r.DeliveryCPU.Microseconds())/float64(max(r.Received, 1)))
		if r.FirstWarning != "" {
			fmt.Fprintf(out, "    first warning: %.300s\n", r.FirstWarning)
		}
	}
	fmt.Fprintln(out, "  baseline is a coder/websocket server in a process of its own: same protocol, one goroutine per connection, one canned next to all")
	line(rep.Baseline)
	b := rep.Baseline
	for _, r := range rep.Variants {
		line(r)
		fmt.Fprintf(out, "    ratio ours/baseline: RSS per idle subscriber %s, delivery p99 %s, server CPU for the fan-out %s, to connect %s (targets: p99 < 1 s, <= 20 KiB per subscriber)\n",
			ratio(r.perSub(r.RSSIdle), b.perSub(b.RSSIdle)), ratio(float64(r.Delivery.pct(0.99)), float64(b.Delivery.pct(0.99))),
			ratio(float64(r.DeliveryCPU), float64(b.DeliveryCPU)), ratio(float64(r.ConnectCPU), float64(b.ConnectCPU)))
	}
}

func runChild(ctx context.Context, role string) error {
	switch role {
	case "ws-baseline":
		return serveWSBaseline(ctx, os.Getenv("LISTEN_ADDR"))
	case "app":
		return serveApp(ctx)
	}
	return fmt.Errorf("unknown child role %q", role)
}

// serveWSBaseline is the least a Go server can do for a subscriber: accept
// the websocket, answer connection_init, remember the subscription's id,
// keep one goroutine reading, and on POST /publish send every subscriber
// the request's body as a next message.
func serveWSBaseline(ctx context.Context, addr string) error {
	type conn struct {
		c  *websocket.Conn
		id string
	}
	var (
		mu    sync.Mutex
		conns = map[*conn]struct{}{}
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		me := &conn{c: c}
		defer func() {
			mu.Lock()
			delete(conns, me)
			mu.Unlock()
		}()
		for {
			_, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var f wsFrame
			if json.Unmarshal(b, &f) != nil {
				return
			}
			switch f.Type {
			case "connection_init":
				_ = c.Write(r.Context(), websocket.MessageText, []byte(`{"type":"connection_ack"}`))
			case "ping":
				_ = c.Write(r.Context(), websocket.MessageText, pong)
			case "subscribe":
				mu.Lock()
				me.id = f.ID
				conns[me] = struct{}{}
				mu.Unlock()
			}
		}
	})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		all := make([]*conn, 0, len(conns))
		for c := range conns {
			all = append(all, c)
		}
		mu.Unlock()
		// As many writers as cores, as the real server's subscriptions
		// write in parallel too.
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(all); i += workers {
					msg, _ := json.Marshal(wsFrame{Type: "next", ID: all[i].id, Payload: payload})
					_ = all[i].c.Write(context.Background(), websocket.MessageText, msg)
				}
			}()
		}
		wg.Wait()
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveApp runs the application as "voresishoj serve" does. On SIGUSR1 it
// writes a heap profile (after a GC) and the goroutine count to the
// profile directory, named by the file "next" there; on SIGUSR2 it records
// a CPU profile of the next 3 seconds there (delivery.cpu.pprof).
func serveApp(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	dir := os.Getenv(profileDirEnv)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(usr)
	var (
		mu          sync.Mutex
		stopProfile = func() {}
	)
	defer func() {
		mu.Lock()
		stopProfile()
		mu.Unlock()
	}()
	go func() {
		for sig := range usr {
			if sig == syscall.SIGUSR2 {
				stop, err := profileCPU(filepath.Join(dir, "delivery.cpu.pprof"), 3*time.Second)
				if err != nil {
					log.Error("cpu profile", slog.String("error", err.Error()))
					continue
				}
				mu.Lock()
				stopProfile = stop
				mu.Unlock()
				continue
			}
			b, _ := os.ReadFile(filepath.Join(dir, "next"))
			name := strings.TrimSpace(string(b))
			if err := writeProfiles(dir, name); err != nil {
				log.Error("profile", slog.String("error", err.Error()))
			}
		}
	}()
	return app.Run(ctx, cfg, log)
}

func profileCPU(path string, d time.Duration) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	// The tool may stop the server before d is up; serveApp stops the
	// profile then, or the file stays empty.
	var once sync.Once
	stop = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	time.AfterFunc(d, stop)
	return stop, nil
}

func writeProfiles(dir, name string) error {
	runtime.GC()
	for _, p := range []string{"heap", "goroutine"} {
		f, err := os.Create(filepath.Join(dir, name+"."+p+".pprof"))
		if err != nil {
			return err
		}
		err = pprof.Lookup(p).WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s profile: %w", p, err)
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	// Written last: the tool waits for this file.
	return os.WriteFile(filepath.Join(dir, name+".runtime"),
		fmt.Appendf(nil, "%d %d %d\n", runtime.NumGoroutine(), m.HeapInuse>>10, m.StackInuse>>10), 0o644)
}
