package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"github.com/jmoiron/sqlx"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/loadgen"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
)

// The server's sending concurrency as app.New sets it up: notify's default
// of 4 delivery jobs at once, each handing FCM batches to the Admin SDK's
// SendEach, which sends 50 at a time. The baseline uses the same.
const (
	pushJobWorkers   = 4
	pushSDKWorkers   = 50
	pushConcurrency  = pushJobWorkers * pushSDKWorkers
	pushProject      = "voresishoj-load"
	pushSecretariat  = "load-secretariat"
	pushTitle        = "Vandet er afbrudt i Ishøj Landsby"
	pushBody         = "HOFOR reparerer en hovedledning. Vandet er afbrudt i hele Ishøj Landsby til i morgen kl. 12."
	pushWaitInterval = 5 * time.Millisecond
)

const sendAnnouncementOp = `mutation SendAnnouncement($input: SendAnnouncementInput!) {
  sendAnnouncement(input: $input) {
    announcement { id title audience recipients createdAt }
    userErrors { code field message }
  }
}`

type pushOptions struct {
	DB         string // "" is a new temporary SQLite file
	Devices    int
	Latency    time.Duration
	Timeout    time.Duration
	Baseline   bool
	CPUProfile string
	MemProfile string
}

func runPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	var o pushOptions
	fs.StringVar(&o.DB, "db", "", "SQLite path (default: a new temporary file) or postgres:// URL (the run gets a schema of its own, dropped afterwards)")
	fs.IntVar(&o.Devices, "devices", 100000, "residents, each with one registered device")
	fs.DurationVar(&o.Latency, "latency", 20*time.Millisecond, "the fake FCM's latency per request")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up waiting for the fan-out after this")
	fs.BoolVar(&o.Baseline, "baseline", true, "also run the bare Admin SDK against a fresh fake")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the fan-out (announcement to last delivery recorded) to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write a heap profile taken right after the fan-out (the fake still running) to this file")
	_ = fs.Parse(args)
	rep, err := pushRun(ctx, o, os.Stdout)
	if err != nil {
		return err
	}
	if rep.Missed > 0 || rep.Twice > 0 || rep.Strangers > 0 {
		return fmt.Errorf("fan-out wrong: %d devices missed, %d received twice, %d unknown tokens", rep.Missed, rep.Twice, rep.Strangers)
	}
	return nil
}

// pushReport is what one run found.
type pushReport struct {
	Dialect    store.Dialect
	Devices    int
	Recipients int // from the mutation's answer: every resident, devices or not

	Mutation  time.Duration // sendAnnouncement answered (the fan-out's transaction committed)
	FirstPush time.Duration // the fake accepted its first send
	AllPushed time.Duration // the fake accepted the last one
	Recorded  time.Duration // every delivery SENT and every delivery job completed
	Jobs      int           // delivery jobs run
	HeldJobs  int           // delivery jobs waiting for the end of quiet hours
	Requests  int           // sends the fake received, failed ones included
	// Connections opened to the fake, by the server and by the baseline.
	Connections, BaselineConnections int
	Statement                        int64

	Missed, Twice, Strangers int
	Statuses                 map[string]int

	Baseline    time.Duration // bare SDK SendEach, same concurrency, same fake latency
	LowerBound  time.Duration // Devices × latency / concurrency
	FakeBytes   int64         // what the fake holds after one send to every token (measured in the baseline)
	Memory      []pushSample
	MemPerPhase map[string]pushMemRange
}

func pushRun(ctx context.Context, o pushOptions, out io.Writer) (pushReport, error) {
	rep := pushReport{Devices: o.Devices, MemPerPhase: map[string]pushMemRange{}}
	if o.Devices <= 0 {
		return rep, errors.New("push needs --devices > 0")
	}
	mem := startPushSampler()
	defer mem.stop()
	mem.phase("seed")

	dsn, dropDB, err := pushDatabase(ctx, o.DB)
	if err != nil {
		return rep, err
	}
	defer dropDB()

	// The announcement goes out at once only outside the recipients' quiet
	// hours (22:00–07:00 Copenhagen by default), and a run at night would
	// measure nothing; the seeded residents have switched quiet hours off.
	db, err := app.OpenDB(ctx, config.Config{DatabaseURL: dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return rep, err
	}
	seedStart := time.Now()
	err = loadgen.SeedDevices(ctx, db, loadgen.Devices{N: o.Devices}, time.Now())
	db.Close()
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "push: %d residents with one device each seeded in %s (quiet hours off: it is %s in Copenhagen)\n",
		o.Devices, time.Since(seedStart).Round(time.Millisecond), time.Now().In(tz.Copenhagen).Format("15:04"))

	fake := fcmtest.Start()
	fake.DiscardRequests()
	fake.SetLatency(o.Latency)
	defer func() {
		if fake != nil {
			fake.Close()
		}
	}()
	authSrv := startPushAuth()
	defer authSrv.Close()
	srv, err := startServer(ctx, dsn, map[string]string{
		"FIREBASE_PROJECT_ID":         pushProject,
		"FCM_ENDPOINT":                fake.URL(),
		"FIREBASE_AUTH_EMULATOR_HOST": strings.TrimPrefix(authSrv.URL, "http://"),
	})
	if err != nil {
		return rep, err
	}
	defer srv.Close()
	rep.Dialect = srv.DB.Dialect
	if _, _, err := srv.App.Domain().Users.GrantSecretariat(ctx, "", pushSecretariat); err != nil {
		return rep, err
	}
	var tokens []string
	if err := store.Select(ctx, srv.DB, &tokens, `SELECT token FROM devices ORDER BY id`); err != nil {
		return rep, fmt.Errorf("seeded tokens: %w", err)
	}
	if len(tokens) != o.Devices {
		return rep, fmt.Errorf("database holds %d devices, want %d: use a fresh database", len(tokens), o.Devices)
	}

	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return rep, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return rep, err
		}
	}
	runtime.GC()
	mem.phase("ours")
	mem.watch(fake)
	before := srv.Count.n.Load()
	start := time.Now()
	err = pushAnnounce(ctx, srv, &rep, start)
	if err == nil {
		err = pushWait(ctx, srv.DB, fake, &rep, start, o.Timeout)
	}
	rep.Statement = srv.Count.n.Load() - before
	if o.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	mem.watch(nil)
	if err != nil {
		return rep, err
	}
	st := fake.Stats()
	rep.Requests, rep.Connections = st.Received, st.Connections
	if o.MemProfile != "" {
		if err := pushWriteHeap(o.MemProfile); err != nil {
			return rep, err
		}
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
	}
	rep.Strangers = len(got)
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := store.Select(ctx, srv.DB, &rows, `SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`); err != nil {
		return rep, fmt.Errorf("delivery statuses: %w", err)
	}
	rep.Statuses = map[string]int{}
	for _, r := range rows {
		rep.Statuses[r.Status] = r.N
	}

	mem.phase("idle")
	fake.Close()
	fake = nil

	rep.LowerBound = time.Duration(int64(o.Devices) * int64(o.Latency) / pushConcurrency)
	if o.Baseline {
		mem.phase("baseline")
		if rep.Baseline, rep.BaselineConnections, rep.FakeBytes, err = pushBaseline(ctx, tokens, o.Latency, mem); err != nil {
			return rep, err
		}
	}
	mem.phase("")
	rep.Memory = mem.samples()
	for _, s := range rep.Memory {
		r := rep.MemPerPhase[s.Phase]
		r.add(s)
		rep.MemPerPhase[s.Phase] = r
	}
	printPush(out, o, rep)
	return rep, nil
}

// pushAnnounce sends the town-wide announcement through GraphQL as the
// secretariat.
func pushAnnounce(ctx context.Context, srv *server, rep *pushReport, start time.Time) error {
	body, _ := json.Marshal(map[string]any{"operationName": "SendAnnouncement", "query": sendAnnouncementOp,
		"variables": map[string]any{"input": map[string]any{"audience": "TOWN", "title": pushTitle, "body": pushBody}}})
	client := &http.Client{Timeout: 10 * time.Minute}
	b, err := post(client, srv.URL+"/graphql", body, pushEmulatorToken(pushSecretariat, time.Now()))
	rep.Mutation = time.Since(start)
	if err != nil {
		return fmt.Errorf("sendAnnouncement after %s: %w", rep.Mutation.Round(time.Millisecond), err)
	}
	var resp struct {
		Data struct {
			SendAnnouncement struct {
				Announcement *struct{ Recipients int }
				UserErrors   []struct{ Code, Field, Message string }
			}
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("sendAnnouncement answer: %w", err)
	}
	a := resp.Data.SendAnnouncement
	if a.Announcement == nil {
		return fmt.Errorf("sendAnnouncement refused: %+v", a.UserErrors)
	}
	rep.Recipients = a.Announcement.Recipients
	return nil
}

// pushWait waits until the fake has accepted a send for every device and
// the server has recorded every delivery and finished every delivery job.
func pushWait(ctx context.Context, db *store.DB, fake *fcmtest.Server, rep *pushReport, start time.Time, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pushWaitInterval)
	defer tick.Stop()
	for rep.AllPushed == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		n := fake.Stats().Accepted
		if n > 0 && rep.FirstPush == 0 {
			rep.FirstPush = time.Since(start)
		}
		if n >= rep.Devices {
			rep.AllPushed = time.Since(start)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s the fake FCM had accepted %d of %d sends", timeout, n, rep.Devices)
		}
	}
	for {
		// A job scheduled for later without having run is held by quiet
		// hours: the secretariat's own notification (no device) under the
		// default 22:00–07:00.
		var st struct {
			Sent int `db:"sent"`
			Jobs int `db:"jobs"`
			Open int `db:"open"`
			Held int `db:"held"`
		}
		err := store.Get(ctx, db, &st, `SELECT
			(SELECT COUNT(*) FROM deliveries WHERE status = 'SENT') AS sent,
			(SELECT COUNT(*) FROM river_job WHERE kind = 'notify_deliver') AS jobs,
			(SELECT COUNT(*) FROM river_job WHERE kind = 'notify_deliver' AND state <> 'completed'
				AND NOT (state = 'scheduled' AND attempt = 0)) AS open,
			(SELECT COUNT(*) FROM river_job WHERE kind = 'notify_deliver' AND state = 'scheduled' AND attempt = 0) AS held`)
		if err != nil {
			return fmt.Errorf("delivery progress: %w", err)
		}
		if st.Sent >= rep.Devices && st.Open == 0 {
			rep.Recorded = time.Since(start)
			rep.Jobs, rep.HeldJobs = st.Jobs-st.Held, st.Held
			return nil
		}
		if time.Now().After(deadline) {
			var open []struct {
				ID      int64          `db:"id"`
				State   string         `db:"state"`
				Attempt int            `db:"attempt"`
				Errors  sql.NullString `db:"errors"`
			}
			_ = store.Select(ctx, db, &open, `SELECT id, state, attempt, errors FROM river_job
				WHERE kind = 'notify_deliver' AND state <> 'completed' ORDER BY id LIMIT 5`)
			return fmt.Errorf("after %s %d deliveries SENT, %d of %d delivery jobs not completed, e.g. %+v", timeout, st.Sent, st.Open, st.Jobs, open)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pushBaseline sends one message to every token with the Admin SDK alone,
// at the server's concurrency (pushJobWorkers SendEach calls of
// push.MaxBatch at a time), through a client set up the way push.NewFCM
// sets up one for FCM_ENDPOINT, against a fresh fake with the same latency.
// It also reports what the fake holds after all the sends: the live heap
// freed when it and the connections to it are gone.
func pushBaseline(ctx context.Context, tokens []string, latency time.Duration, mem *pushSampler) (took time.Duration, conns int, fakeBytes int64, err error) {
	fake := fcmtest.Start()
	defer func() {
		if fake != nil {
			fake.Close()
		}
	}()
	fake.DiscardRequests()
	fake.SetLatency(latency)
	// 100 idle connections per host, as push.NewFCM keeps for FCM_ENDPOINT
	// and Google's transport for the real FCM; http.DefaultTransport keeps
	// two and would open a connection for nearly every send.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 100
	hc := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "baseline", TokenType: "Bearer"}),
		Base:   base,
	}}
	fb, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: pushProject},
		option.WithEndpoint(fake.URL()), option.WithHTTPClient(hc))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("baseline firebase app: %w", err)
	}
	client, err := fb.Messaging(ctx)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("baseline messaging client: %w", err)
	}
	ttl := 72 * time.Hour
	batches := make(chan []string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	runtime.GC()
	mem.watch(fake)
	defer mem.watch(nil)
	start := time.Now()
	for range pushJobWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				msgs := make([]*messaging.Message, len(batch))
				for i, t := range batch {
					// The same fields the server sends (push.FCM.fcmMessage).
					msgs[i] = &messaging.Message{
						Token:        t,
						Data:         map[string]string{"type": "ANNOUNCEMENT", "deepLink": "voresishoj://announcement/1", "announcementId": "1", "notificationId": strconv.Itoa(i)},
						Notification: &messaging.Notification{Title: pushTitle, Body: pushBody},
						Android: &messaging.AndroidConfig{CollapseKey: "n" + strconv.Itoa(i), Priority: "normal", TTL: &ttl,
							Notification: &messaging.AndroidNotification{ChannelID: "announcements"}},
						APNS: &messaging.APNSConfig{
							Headers: map[string]string{"apns-push-type": "alert", "apns-priority": "5", "apns-collapse-id": "n" + strconv.Itoa(i),
								"apns-expiration": strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)},
							Payload: &messaging.APNSPayload{Aps: &messaging.Aps{
								Alert: &messaging.ApsAlert{Title: pushTitle, Body: pushBody}, Sound: "default"}},
						},
					}
				}
				resp, err := client.SendEach(ctx, msgs)
				if err == nil && resp.FailureCount > 0 {
					err = fmt.Errorf("%d of %d sends failed", resp.FailureCount, len(msgs))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < len(tokens); i += push.MaxBatch {
		batches <- tokens[i:min(i+push.MaxBatch, len(tokens))]
	}
	close(batches)
	wg.Wait()
	took = time.Since(start)
	if firstErr != nil {
		return took, 0, 0, fmt.Errorf("baseline: %w", firstErr)
	}
	st := fake.Stats()
	if st.Accepted != len(tokens) {
		return took, 0, 0, fmt.Errorf("baseline: the fake accepted %d of %d", st.Accepted, len(tokens))
	}
	mem.watch(nil)
	runtime.GC()
	withFake := pushLiveHeap()
	fake.Close()
	fake = nil
	// The server's side of a connection lives until the client lets go of it.
	base.CloseIdleConnections()
	runtime.GC()
	return took, st.Connections, int64(withFake) - int64(pushLiveHeap()), nil
}

// pushDatabase returns the DSN the run uses and how to remove it: a new
// SQLite file by default, or a schema of its own in a PostgreSQL database
// so that runs never see each other's residents.
func pushDatabase(ctx context.Context, dsn string) (string, func(), error) {
	switch {
	case dsn == "":
		dir, err := os.MkdirTemp("", "voresishoj-push-")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "push.db"), func() { os.RemoveAll(dir) }, nil
	case store.IsPostgresURL(dsn):
		admin, err := sqlx.Open("postgres", dsn)
		if err != nil {
			return "", nil, err
		}
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		schema := "push_" + hex.EncodeToString(b)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			admin.Close()
			return "", nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				slog.Warn("drop push schema", slog.String("schema", schema), slog.Any("error", err))
			}
			admin.Close()
		}, nil
	default:
		return dsn, func() {}, nil
	}
}

// startPushAuth plays the Firebase Auth emulator for the one account that
// signs in. The server talks to Firebase Auth (FIREBASE_PROJECT_ID is set,
// or FCM would not be used at all), and against the emulator the Admin SDK
// looks every token's account up; town-wide announcements also check that
// the token is not revoked (auth.CheckRevoked).
func startPushAuth() *httptest.Server {
	lookup := "/identitytoolkit.googleapis.com/v1/projects/" + pushProject + "/accounts:lookup"
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != lookup {
			http.Error(w, `{"error":{"code":404,"message":"fake auth: only accounts:lookup"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"users": []map[string]any{{
			"localId": pushSecretariat, "email": pushSecretariat + "@example.org", "emailVerified": true,
		}}})
	}))
}

// pushEmulatorToken is an ID token as the Auth emulator issues them:
// unsigned, which the Admin SDK accepts only with FIREBASE_AUTH_EMULATOR_HOST.
func pushEmulatorToken(uid string, now time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	claims := map[string]any{
		"iss": "https://securetoken.google.com/" + pushProject, "aud": pushProject,
		"sub": uid, "user_id": uid, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		"email": uid + "@example.org", "email_verified": true,
		"firebase": map[string]any{"sign_in_provider": "password", "identities": map[string]any{}},
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

func pushWriteHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

// pushSample is the process's memory at one moment of the run.
type pushSample struct {
	At       time.Duration
	Phase    string
	HeapMiB  float64 // runtime HeapInuse: live objects and garbage not yet collected
	LiveMiB  float64 // heap live after the last GC (runtime/metrics /gc/heap/live:bytes)
	RSSMiB   float64 // VmRSS
	Accepted int     // sends the fake of the phase had accepted; -1 outside the sending
}

type pushMemRange struct {
	N               int
	Heap, Live, RSS pushMinMax
}

type pushMinMax struct{ Min, Max, Last float64 }

func (m *pushMinMax) add(first bool, v float64) {
	if first || v < m.Min {
		m.Min = v
	}
	m.Max, m.Last = max(m.Max, v), v
}

func (r *pushMemRange) add(s pushSample) {
	r.Heap.add(r.N == 0, s.HeapMiB)
	r.Live.add(r.N == 0, s.LiveMiB)
	r.RSS.add(r.N == 0, s.RSSMiB)
	r.N++
}

// pushSampler reads the heap and RSS every second. The fake FCM runs in
// this process too; its share is measured on its own (pushReport.FakeBytes).
type pushSampler struct {
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	cur   string
	fake  *fcmtest.Server
	taken []pushSample
}

func startPushSampler() *pushSampler {
	s := &pushSampler{start: time.Now(), done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *pushSampler) sample() {
	s.mu.Lock()
	phase, fake := s.cur, s.fake
	s.mu.Unlock()
	if phase == "" {
		return
	}
	smp := pushSample{At: time.Since(s.start), Phase: phase, HeapMiB: float64(pushHeap()) / (1 << 20),
		LiveMiB: float64(pushLiveHeap()) / (1 << 20), RSSMiB: pushRSSMiB()}
	smp.Accepted = -1
	if fake != nil {
		smp.Accepted = fake.Stats().Accepted
	}
	s.mu.Lock()
	s.taken = append(s.taken, smp)
	s.mu.Unlock()
}

// phase names the samples from now on and takes one at once, so short
// phases are seen too.
func (s *pushSampler) phase(p string) {
	s.mu.Lock()
	s.cur = p
	s.mu.Unlock()
	s.sample()
}

func (s *pushSampler) watch(f *fcmtest.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fake = f
}

func (s *pushSampler) samples() []pushSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pushSample(nil), s.taken...)
}

func (s *pushSampler) stop() {
	close(s.done)
	s.wg.Wait()
}

func pushLiveHeap() uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m[0].Value.Uint64()
}

func pushHeap() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// pushRSSMiB is this process's resident memory; 0 where /proc is missing.
func pushRSSMiB() float64 {
	rss, _, err := procStatus(os.Getpid())
	if err != nil {
		return 0
	}
	return float64(rss) / 1024
}

func printPush(out io.Writer, o pushOptions, r pushReport) {
	secs := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	fmt.Fprintf(out, "push %s: one town-wide announcement to %d residents (%d with one device each), fake FCM latency %s, server concurrency %d jobs × %d = %d\n",
		r.Dialect, r.Recipients, r.Devices, o.Latency, pushJobWorkers, pushSDKWorkers, pushConcurrency)
	fmt.Fprintf(out, "  ours: sendAnnouncement answered after %s; first push %s; all %d accepted by the fake at %s; all recorded SENT, %d jobs completed at %s (%d job held by quiet hours)\n",
		secs(r.Mutation), secs(r.FirstPush), r.Devices, secs(r.AllPushed), r.Jobs, secs(r.Recorded), r.HeldJobs)
	sending := r.AllPushed - r.FirstPush
	fmt.Fprintf(out, "  rate at the fake: %.0f sends/s over the whole run, %.0f sends/s from first to last push; %d requests over %d connections; %d SQL statements (%.2f per device)\n",
		float64(r.Devices)/r.AllPushed.Seconds(), float64(r.Devices)/sending.Seconds(), r.Requests, r.Connections, r.Statement, float64(r.Statement)/float64(r.Devices))
	fmt.Fprintf(out, "  correctness: %d devices missed, %d received twice, %d unknown tokens; deliveries by status %v\n",
		r.Missed, r.Twice, r.Strangers, r.Statuses)
	fmt.Fprintf(out, "  lower bound (%d × %s / %d): %s; ours/lower bound %s\n",
		r.Devices, o.Latency, pushConcurrency, secs(r.LowerBound), ratio(r.Recorded.Seconds(), r.LowerBound.Seconds()))
	if r.Baseline > 0 {
		fmt.Fprintf(out, "  baseline (Admin SDK SendEach alone, %d × %d at once, same latency): %s = %.0f sends/s over %d connections; ours/baseline %s (sending phase only, first to last push: %s)\n",
			pushJobWorkers, pushSDKWorkers, secs(r.Baseline), float64(r.Devices)/r.Baseline.Seconds(), r.BaselineConnections,
			ratio(r.Recorded.Seconds(), r.Baseline.Seconds()), ratio(sending.Seconds(), r.Baseline.Seconds()))
	}
	verdict := "met"
	if r.Recorded > 60*time.Second {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "  target ≤ 60 s to complete: %s (%s)\n", verdict, secs(r.Recorded))
	fmt.Fprintf(out, "  memory in MiB, sampled every second (live heap after the last GC / HeapInuse / VmRSS); the fake runs in-process and holds %.1f MiB after one send per token (measured after the baseline):\n",
		float64(r.FakeBytes)/(1<<20))
	for _, p := range []string{"seed", "ours", "baseline"} {
		m, ok := r.MemPerPhase[p]
		if !ok {
			continue
		}
		fmt.Fprintf(out, "    %-8s %3d samples: live min %.0f max %.0f last %.0f; heap in use min %.0f max %.0f last %.0f; rss min %.0f max %.0f last %.0f\n",
			p, m.N, m.Live.Min, m.Live.Max, m.Live.Last, m.Heap.Min, m.Heap.Max, m.Heap.Last, m.RSS.Min, m.RSS.Max, m.RSS.Last)
	}
	for _, p := range []string{"ours", "baseline"} {
		var sb bytes.Buffer
		for _, s := range r.Memory {
			if s.Phase == p && s.Accepted >= 0 {
				fmt.Fprintf(&sb, " %.0f/%.0f/%.0f@%d", s.LiveMiB, s.HeapMiB, s.RSSMiB, s.Accepted)
			}
		}
		if sb.Len() > 0 {
			fmt.Fprintf(out, "    %s per second (live/heap/rss@sends accepted):%s\n", p, sb.String())
		}
	}
}
