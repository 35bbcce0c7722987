package calimport

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

var ctx = context.Background()

var quiet = slog.New(slog.DiscardHandler)

type fixture struct {
	db     *store.DB
	svc    *Service
	events *event.Recorder
	feed   *calServer
	srv    *httptest.Server
	admin  user.Caller
	org    int64
	place  int64
	// now is the clock of both the import and the activity package,
	// which expands occurrences from it; it starts at TEST_NOW (today when
	// unset), and the feeds place their events around it.
	now time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, events: &event.Recorder{}, feed: &calServer{}, now: clocktest.Now(t).Truncate(time.Second)}
	f.srv = httptest.NewServer(f.feed)
	t.Cleanup(f.srv.Close)
	themes := theme.NewService(db)
	now := func() time.Time { return f.now }
	acts := activity.NewService(db, themes, f.events, now)
	f.svc = NewService(db, acts, themes, f.events, Options{AllowPrivate: true, Timeout: time.Second, Logger: quiet, Now: now})
	f.svc.jitter = func() float64 { return 0 }

	var uid int64
	err := store.Get(ctx, db, &uid, `INSERT INTO users (firebase_uid, email, email_verified, display_name, role, created_at, updated_at)
		VALUES ('uid-admin', 'kommunikation@ishoj.dk', TRUE, 'Kommunikation', 'SECRETARIAT', ?, ?) RETURNING id`, f.now, f.now)
	if err != nil {
		t.Fatal(err)
	}
	f.admin = user.Caller{UserID: uid, Verified: true, Secretariat: true}
	err = store.Get(ctx, db, &f.org, `INSERT INTO organisations (name, kind, created_at, updated_at)
		VALUES ('Ishøj Kommune', 'MUNICIPALITY', ?, ?) RETURNING id`, f.now, f.now)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Get(ctx, db, &f.place, `INSERT INTO places (name, created_at) VALUES ('Bredekærgård', ?) RETURNING id`, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// addSource subscribes the test server's calendar at path.
func (f *fixture) addSource(t *testing.T, path string, place *int64, themes ...string) Source {
	t.Helper()
	src, err := f.svc.AddSource(ctx, f.admin, f.srv.URL+path, f.org, place, themes)
	if err != nil {
		t.Fatalf("add source: %v", err)
	}
	return src
}

// calServer serves one calendar body that a test changes between runs,
// honouring If-None-Match when it has an ETag.
type calServer struct {
	mu       sync.Mutex
	body     string
	etag     string
	status   int
	delay    time.Duration
	requests []http.Header
}

func (c *calServer) set(body, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.body, c.etag, c.status, c.delay = body, etag, 0, 0
}

// misbehave makes the server answer with status, or only after delay.
func (c *calServer) misbehave(status int, delay time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.delay = status, delay
}

func (c *calServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.Header.Clone())
	body, etag, status, delay := c.body, c.etag, c.status, c.delay
	c.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if etag != "" {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	_, _ = io.WriteString(w, body)
}

func (c *calServer) lastRequest() http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[len(c.requests)-1]
}

// calendar wraps components in a VCALENDAR with CRLF line ends.
func calendar(components ...string) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Ishøj Kommune//Det sker i Ishøj//DA"}
	lines = append(lines, components...)
	lines = append(lines, "END:VCALENDAR")
	return strings.Join(lines, "\r\n") + "\r\n"
}

// vevent is a VEVENT with a UID, a summary and further property lines.
func vevent(uid, summary string, props ...string) string {
	lines := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20250101T000000Z", "SUMMARY:" + summary}
	lines = append(lines, props...)
	lines = append(lines, "END:VEVENT")
	return strings.Join(lines, "\r\n")
}

func utcStamp(t time.Time) string   { return t.UTC().Format("20060102T150405Z") }
func localStamp(t time.Time) string { return t.In(tz.Copenhagen).Format("20060102T150405") }
func dateStamp(t time.Time) string  { return t.In(tz.Copenhagen).Format("20060102") }

// row is an imported activity as stored.
type row struct {
	ID          int64      `db:"id"`
	UID         string     `db:"source_uid"`
	SourceURL   *string    `db:"source_url"`
	PlaceID     *int64     `db:"place_id"`
	Title       string     `db:"title"`
	Description string     `db:"description"`
	StartsAt    time.Time  `db:"starts_at"`
	EndsAt      time.Time  `db:"ends_at"`
	Recurrence  *string    `db:"recurrence"`
	Status      string     `db:"status"`
	CancelledAt *time.Time `db:"cancelled_at"`
}

// imported returns the source's activities by UID, failing on duplicates.
func (f *fixture) imported(t *testing.T, sourceID int64) map[string]row {
	t.Helper()
	var rows []row
	err := store.Select(ctx, f.db, &rows, `SELECT id, source_uid, source_url, place_id, title, description, starts_at, ends_at,
		recurrence, status, cancelled_at FROM activities WHERE source_id = ? ORDER BY id`, sourceID)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]row{}
	for _, r := range rows {
		if _, dup := m[r.UID]; dup {
			t.Fatalf("UID %s imported twice", r.UID)
		}
		m[r.UID] = r
	}
	return m
}

func (f *fixture) occurrences(t *testing.T, activityID int64) []time.Time {
	t.Helper()
	var starts []store.Time
	if err := store.Select(ctx, f.db, &starts, `SELECT starts_at FROM occurrences WHERE activity_id = ? ORDER BY starts_at`, activityID); err != nil {
		t.Fatal(err)
	}
	out := make([]time.Time, len(starts))
	for i, s := range starts {
		out[i] = s.Time
	}
	return out
}

// snapshot is everything an import may touch, as text, to show that a
// failed fetch changed nothing.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	var rows []row
	err := store.Select(ctx, f.db, &rows, `SELECT id, source_uid, source_url, place_id, title, description, starts_at, ends_at,
		recurrence, status, cancelled_at FROM activities ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%d %s %q %s %s %s %v\n", r.ID, r.UID, r.Title, r.StartsAt.UTC(), r.EndsAt.UTC(), r.Status, r.CancelledAt != nil)
	}
	var occ []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"starts_at"`
	}
	if err := store.Select(ctx, f.db, &occ, `SELECT activity_id, starts_at FROM occurrences ORDER BY activity_id, starts_at`); err != nil {
		t.Fatal(err)
	}
	for _, o := range occ {
		fmt.Fprintf(&b, "occ %d %s\n", o.ActivityID, o.StartsAt.Time)
	}
	var links []string
	if err := store.Select(ctx, f.db, &links, `SELECT url FROM channel_links ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	sort.Strings(links)
	fmt.Fprintf(&b, "links %v\n", links)
	return b.String()
}

func (f *fixture) fetch(t *testing.T, src Source) Result {
	t.Helper()
	res, err := f.svc.Fetch(ctx, src.ID)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return res
}

func (f *fixture) source(t *testing.T, id int64) Source {
	t.Helper()
	src, err := f.svc.Source(ctx, f.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
