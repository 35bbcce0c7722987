package story

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

type fixture struct {
	db       *store.DB
	svc      *Service
	events   *event.Recorder
	blobs    *media.Dir
	mediaDir string
	users    *user.Service
	now      time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media")
	blobs, err := media.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	f := &fixture{db: db, events: &event.Recorder{}, blobs: blobs, mediaDir: dir, users: user.NewService(db, clock.Real),
		now: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)}
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	notifier, err := notify.New(db, push.NewLog(quiet), quiet, notify.Config{Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = NewService(db, f.events, blobs, theme.NewService(db), func() time.Time { return f.now }, notifier, Limits{})
	return f
}

var ctx = context.Background()

// person adds a verified person and returns them as a caller.
func (f *fixture) person(t *testing.T, name string, role user.Role) user.Caller {
	t.Helper()
	var id int64
	err := store.Get(ctx, f.db, &id, `INSERT INTO users
		(firebase_uid, email, email_verified, display_name, language, role, anonymous, has_app, age_group, created_at, updated_at)
		VALUES (?, ?, TRUE, ?, 'da', ?, FALSE, TRUE, 'AT_LEAST_13', ?, ?) RETURNING id`,
		"uid-"+name, strings.ToLower(name)+"@example.dk", name, role, f.now, f.now)
	if err != nil {
		t.Fatalf("insert user %s: %v", name, err)
	}
	c, err := f.users.Caller(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// anonymous adds a person signed in with Firebase's anonymous sign-in:
// free to make, as many as one likes.
func (f *fixture) anonymous(t *testing.T, name string) user.Caller {
	t.Helper()
	var id int64
	err := store.Get(ctx, f.db, &id, `INSERT INTO users
		(firebase_uid, display_name, language, role, anonymous, has_app, age_group, created_at, updated_at)
		VALUES (?, ?, 'da', 'RESIDENT', TRUE, TRUE, 'AT_LEAST_13', ?, ?) RETURNING id`, "anon-"+name, name, f.now, f.now)
	if err != nil {
		t.Fatalf("insert anonymous user %s: %v", name, err)
	}
	c, err := f.users.Caller(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) organisation(t *testing.T, name string, organisers ...*user.Caller) int64 {
	t.Helper()
	var id int64
	err := store.Get(ctx, f.db, &id, `INSERT INTO organisations (name, kind, created_at, updated_at)
		VALUES (?, 'ASSOCIATION', ?, ?) RETURNING id`, name, f.now, f.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range organisers {
		if _, err := store.Exec(ctx, f.db, `INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`,
			id, o.UserID, f.now); err != nil {
			t.Fatal(err)
		}
		c, err := f.users.Caller(ctx, o.UserID)
		if err != nil {
			t.Fatal(err)
		}
		*o = c
	}
	return id
}

// blobFiles lists the regular files in the media directory.
func (f *fixture) blobFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(f.mediaDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func (f *fixture) rows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := store.Get(ctx, f.db, &n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) readBlob(t *testing.T, key string) []byte {
	t.Helper()
	rc, err := f.blobs.Open(ctx, key)
	if err != nil {
		t.Fatalf("open blob %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// codes returns the user error codes in err, or fails the test when err
// is not made of user errors.
func codes(t *testing.T, err error) []string {
	t.Helper()
	ue := apperr.UserErrors(err)
	if ue == nil {
		t.Fatalf("want user errors, got %v", err)
	}
	var out []string
	for _, e := range ue {
		out = append(out, e.Code)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	for _, c := range codes(t, err) {
		if c == code {
			return
		}
	}
	t.Errorf("got %v, want user error %s", err, code)
}

func photo(b []byte, alt string) PhotoInput { return PhotoInput{Reader: bytes.NewReader(b), Alt: alt} }

func ptr[T any](v T) *T { return &v }
