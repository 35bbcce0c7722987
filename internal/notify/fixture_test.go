package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// quickRetry makes River retry a failed job after 50ms.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

// middayClock runs at real speed from the last 12:00 Copenhagen time, so
// quiet hours never hold a push in tests that are not about them.
func middayClock() func() time.Time {
	now := time.Now().In(tz.Copenhagen)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, tz.Copenhagen)
	if noon.After(now) {
		noon = noon.AddDate(0, 0, -1)
	}
	offset := noon.Sub(now)
	return func() time.Time { return time.Now().Add(offset) }
}

// fixedClock always says t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

var migrated sync.Map // *store.DB -> true

// newService returns a service on db, with River migrated and quick to poll.
func newService(t *testing.T, db *store.DB, sender push.Sender, cfg Config) *Service {
	t.Helper()
	ctx := context.Background()
	if _, done := migrated.LoadOrStore(db, true); !done {
		if err := Migrate(ctx, db); err != nil {
			t.Fatalf("river migrations: %v", err)
		}
	}
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = 20 * time.Millisecond
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase, cfg.RetryMax = 50*time.Millisecond, 400*time.Millisecond
	}
	if cfg.JobRetryPolicy == nil {
		cfg.JobRetryPolicy = quickRetry{}
	}
	if cfg.ReminderInterval == 0 {
		cfg.ReminderInterval = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = middayClock()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := New(db, sender, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// start runs s's workers until the test ends.
func start(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.river.StopAndCancel(ctx)
	})
}

// fakeFCM is the fake FCM server and a real Admin SDK sender pointed at it.
func fakeFCM(t *testing.T) (*fcmtest.Server, push.Sender) {
	t.Helper()
	srv := fcmtest.New(t)
	sender, err := push.NewFCM(context.Background(), "vores-ishoj-test", push.FCMOptions{Endpoint: srv.URL(), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, sender
}

type fixture struct {
	t   *testing.T
	db  *store.DB
	org int64
	// place and activity belong to org.
	place, activity int64
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db}
	now := time.Now().UTC()
	f.org = f.insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?) RETURNING id`,
		"Ældre i bevægelse", now, now)
	f.place = f.insert(`INSERT INTO places (name, created_at) VALUES (?, ?) RETURNING id`, "Havhytten", now)
	f.activity = f.activityAt(now.Add(72*time.Hour), "PUBLISHED")
	return f
}

func (f *fixture) insert(query string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := store.Get(context.Background(), f.db, &id, query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return id
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := store.Exec(context.Background(), f.db, query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

func (f *fixture) activityAt(start time.Time, status string) int64 {
	now := time.Now().UTC()
	id := f.insert(`INSERT INTO activities (organisation_id, place_id, title, starts_at, ends_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.org, f.place, "HavhyttenFri", start, start.Add(4*time.Hour), status, now, now)
	f.exec(`INSERT INTO activity_themes (activity_id, theme) VALUES (?, 'havn')`, id)
	return id
}

// user creates a verified resident with language lang.
func (f *fixture) user(lang string) int64 {
	now := time.Now().UTC()
	return f.insert(`INSERT INTO users (display_name, email_verified, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		"Resident", true, lang, now, now)
}

// users creates n residents, each following the organisation and with
// one device "tok-<i>", in one transaction.
func (f *fixture) followersWithDevices(n int) []string {
	f.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tokens := make([]string, n)
	err := f.db.Transact(ctx, func(tx *sqlx.Tx) error {
		for i := range n {
			var id int64
			if err := store.Get(ctx, tx, &id, `INSERT INTO users (display_name, email_verified, created_at, updated_at)
				VALUES (?, ?, ?, ?) RETURNING id`, fmt.Sprintf("Follower %d", i), true, now, now); err != nil {
				return err
			}
			if _, err := store.Exec(ctx, tx, `INSERT INTO follows (user_id, kind, organisation_id, created_at)
				VALUES (?, 'ORGANISATION', ?, ?)`, id, f.org, now); err != nil {
				return err
			}
			tokens[i] = fmt.Sprintf("tok-%04d", i)
			if _, err := store.Exec(ctx, tx, `INSERT INTO devices (token, user_id, platform, created_at, last_seen_at)
				VALUES (?, ?, 'ANDROID', ?, ?)`, tokens[i], id, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return tokens
}

func (f *fixture) slot(activity int64, start time.Time) int64 {
	return f.insert(`INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, created_at)
		VALUES (?, ?, ?, ?, 5, ?) RETURNING id`, activity, "Åbne Havhytten", start, start.Add(4*time.Hour), time.Now().UTC())
}

func (f *fixture) claim(slot, userID int64, status string) int64 {
	return f.insert(`INSERT INTO slot_claims (slot_id, user_id, status, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		slot, userID, status, time.Now().UTC())
}

func secretariat(id int64) user.Caller {
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true, Secretariat: true}
}

func resident(id int64) user.Caller {
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true}
}

func organiser(id, org int64) user.Caller {
	return user.Caller{UserID: id, Verified: true, Named: true, AgeAnswered: true, Organises: map[int64]bool{org: true}}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statusCounts returns how many deliveries are in each status.
func statusCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := store.Select(context.Background(), db, &rows, `SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

// settled reports whether no delivery is waiting or in flight.
func settled(t *testing.T, db *store.DB, total int) bool {
	c := statusCounts(t, db)
	done := c[statusSent] + c[statusUnregistered] + c[statusFailed] + c[statusUnknown]
	return done == total && c[statusPending]+c[statusSending]+c[statusRetry] == 0
}
