package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// writers insert, each in its own sequence, a place and an organisation
// with the same name in one transaction, until stop is closed. committed
// counts the transactions that returned, started those that began; a
// consistent copy taken between two moments holds at least the first
// moment's committed and at most the second moment's started.
type writers struct {
	n                  int
	started, committed atomic.Int64
	stop               chan struct{}
	wg                 sync.WaitGroup
	errs               chan error
}

func startWriters(ctx context.Context, db *store.DB, n int) *writers {
	w := &writers{n: n, stop: make(chan struct{}), errs: make(chan error, n)}
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for seq := 1; ; seq++ {
				select {
				case <-w.stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%06d", i, seq)
				w.started.Add(1)
				err := db.Transact(ctx, func(tx *sqlx.Tx) error {
					if _, err := store.Exec(ctx, tx, `INSERT INTO places (name, created_at) VALUES (?, ?)`, name, now); err != nil {
						return err
					}
					_, err := store.Exec(ctx, tx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`, name, now, now)
					return err
				})
				if err != nil {
					w.errs <- fmt.Errorf("writer %d, row %d: %w", i, seq, err)
					return
				}
				w.committed.Add(1)
			}
		}()
	}
	return w
}

func (w *writers) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	close(w.errs)
	for err := range w.errs {
		t.Error(err)
	}
}

// checkConsistent reads the copy and checks that it is one moment of the
// writers' work: each writer's rows are 1..k with no gap, the same k in
// both tables (one transaction wrote both), and the total lies between
// lo and hi.
func checkConsistent(ctx context.Context, t *testing.T, db *store.DB, writers int, lo, hi int64) int64 {
	t.Helper()
	var total int64
	for _, table := range []string{"places", "organisations"} {
		var names []string
		if err := store.Select(ctx, db, &names, `SELECT name FROM `+table+` WHERE name LIKE 'w%' ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		next := map[int]int{}
		for _, name := range names {
			var w, seq int
			if _, err := fmt.Sscanf(name, "w%d-%d", &w, &seq); err != nil {
				t.Fatalf("%s: unexpected name %q", table, name)
			}
			if seq != next[w]+1 {
				t.Fatalf("%s: writer %d has row %d after row %d: the copy is not one moment", table, w, seq, next[w])
			}
			next[w] = seq
		}
		n := int64(len(names))
		if table == "places" {
			total = n
		} else if n != total {
			t.Fatalf("%d places but %d organisations: a transaction was copied in half", total, n)
		}
	}
	if total < lo || total > hi {
		t.Fatalf("the copy holds %d transactions; committed before the backup began %d, begun before it ended %d", total, lo, hi)
	}
	return total
}

// A backup taken while writers commit is a consistent moment between
// the start and the end of the backup, and a restore puts exactly it in
// place.
func TestBackupAndRestoreWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "voresishoj.db")
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := startWriters(ctx, db, 4)
	for w.committed.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	var backups []string
	var bounds [][2]int64
	for i := 0; i < 3; i++ {
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		lo := w.committed.Load()
		info, err := store.Backup(ctx, live, path)
		hi := w.started.Load()
		if err != nil {
			w.finish(t)
			t.Fatalf("backup %d: %v", i, err)
		}
		if info.Version == 0 || info.Bytes == 0 {
			t.Errorf("backup info = %+v", info)
		}
		backups = append(backups, path)
		bounds = append(bounds, [2]int64{lo, hi})
		time.Sleep(20 * time.Millisecond)
	}
	w.finish(t)
	if w.committed.Load() <= bounds[len(bounds)-1][1] {
		t.Logf("note: writers committed %d in all", w.committed.Load())
	}
	if _, err := store.Backup(ctx, live, backups[0]); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: err = %v", err)
	}
	if _, err := os.Stat(backups[0] + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a .partial file is left behind: %v", err)
	}

	for i, path := range backups {
		// Each restore goes into a data folder of its own, as onto a new machine.
		target := filepath.Join(dir, fmt.Sprintf("restored-%d", i), "voresishoj.db")
		res, err := store.Restore(ctx, target, path, store.RestoreOptions{})
		if err != nil {
			t.Fatalf("restore %s: %v", path, err)
		}
		if res.Previous != "" {
			t.Errorf("restore into an empty folder moved %q aside", res.Previous)
		}
		rdb, err := store.Open(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rdb.Migrate(ctx); err != nil {
			t.Fatalf("migrate the restored database: %v", err)
		}
		n := checkConsistent(ctx, t, rdb, 4, bounds[i][0], bounds[i][1])
		t.Logf("backup %d holds %d transactions (committed before: %d, begun before its end: %d)", i, n, bounds[i][0], bounds[i][1])
		rdb.Close()
	}
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	source := filepath.Join(dir, "source.db")
	sdb, err := store.Open(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Exec(ctx, sdb, `INSERT INTO places (name, created_at) VALUES ('Fra backup', ?)`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := store.Backup(ctx, source, backup); err != nil {
		t.Fatal(err)
	}
	sdb.Close()

	// The database the server runs on: one place of its own, open.
	target := filepath.Join(dir, "data", "voresishoj.db")
	tdb, err := store.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Exec(ctx, tdb, `INSERT INTO places (name, created_at) VALUES ('Før restore', ?)`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	placeNames := func(path string) string {
		t.Helper()
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var names []string
		if err := store.Select(ctx, db, &names, `SELECT name FROM places ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(names, ",")
	}
	unchanged := func(what string) {
		t.Helper()
		if got := placeNames(target); got != "Før restore" {
			t.Errorf("%s: the database now holds %q", what, got)
		}
		if m, _ := filepath.Glob(target + ".*"); len(m) > 0 {
			t.Errorf("%s: left %v", what, m)
		}
	}

	if _, err := store.Restore(ctx, target, backup, store.RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("restore over an existing database without Replace: err = %v", err)
	}
	unchanged("without Replace")

	if _, err := store.Restore(ctx, target, backup, store.RestoreOptions{Replace: true}); !errors.Is(err, store.ErrInUse) {
		t.Errorf("restore over a database in use: err = %v, want ErrInUse", err)
	}
	unchanged("while in use")

	// Damaged backups: cut short, overwritten in the middle, not SQLite at
	// all, or made by a newer release.
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// Every third page's b-tree header overwritten, as a disk error or a
	// half-written copy would.
	garbled := append([]byte(nil), b...)
	for page := 1; page*4096+8 < len(garbled); page += 3 {
		copy(garbled[page*4096:], "\x5a\x5a\x5a\x5a\x5a\x5a\x5a\x5a")
	}
	newer := filepath.Join(dir, "newer.db")
	if err := os.WriteFile(newer, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ndb, err := sqlx.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ndb.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`); err != nil {
		t.Fatal(err)
	}
	ndb.Close()
	bad := map[string][]byte{
		"truncated":  b[:len(b)/2],
		"garbled":    garbled,
		"not sqlite": []byte(strings.Repeat("not a database\n", 500)),
	}
	tdb.Close() // not in use any more, so only the backup's flaws refuse it
	for name, content := range bad {
		path := filepath.Join(dir, name+".db")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := store.Restore(ctx, target, path, store.RestoreOptions{Replace: true})
		if err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("restore of a %s backup: err = %v", name, err)
		}
		t.Logf("%s: %v", name, err)
		unchanged(name)
	}
	if _, err := store.Restore(ctx, target, newer, store.RestoreOptions{Replace: true}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("restore of a newer release's backup: err = %v", err)
	}
	unchanged("newer")

	res, err := store.Restore(ctx, target, backup, store.RestoreOptions{Replace: true})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got := placeNames(target); got != "Fra backup" {
		t.Errorf("after the restore the database holds %q", got)
	}
	if res.Previous == "" {
		t.Fatal("the replaced database was not kept")
	}
	if got := placeNames(res.Previous); got != "Før restore" {
		t.Errorf("the kept database %s holds %q", res.Previous, got)
	}
}

// On PostgreSQL backup runs pg_dump and restore pg_restore into an empty
// database; each side gets a database of its own, since pg_dump copies a
// whole database and the test database holds every test's schema.
func TestBackupAndRestorePostgres(t *testing.T) {
	base := storetest.PostgresURL(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is not on PATH (postgresql-client)", tool)
			}
			t.Skipf("%s not on PATH", tool)
		}
	}
	ctx := context.Background()
	live := newDatabase(ctx, t, base)
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := startWriters(ctx, db, 4)
	for w.committed.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	path := filepath.Join(t.TempDir(), "backup.pgdump")
	lo := w.committed.Load()
	info, err := store.Backup(ctx, live, path)
	hi := w.started.Load()
	w.finish(t)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if info.Bytes == 0 || info.Version == 0 {
		t.Errorf("backup info = %+v", info)
	}

	target := newDatabase(ctx, t, base)
	if _, err := store.Restore(ctx, target, path, store.RestoreOptions{}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	rdb, err := store.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, err := rdb.Migrate(ctx); err != nil {
		t.Fatalf("migrate the restored database: %v", err)
	}
	n := checkConsistent(ctx, t, rdb, 4, lo, hi)
	t.Logf("the dump holds %d transactions (committed before: %d, begun before its end: %d)", n, lo, hi)
	// Identity columns go on after the restored rows.
	if _, err := store.Exec(ctx, rdb, `INSERT INTO places (name, created_at) VALUES ('efter restore', ?)`, time.Now().UTC()); err != nil {
		t.Errorf("insert after restore: %v", err)
	}

	if _, err := store.Restore(ctx, target, path, store.RestoreOptions{Replace: true}); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("restore into a database with tables: err = %v", err)
	}
}

// newDatabase creates a database of its own on the server at base and
// returns its URL; it is dropped when the test ends.
func newDatabase(ctx context.Context, t *testing.T, base string) string {
	t.Helper()
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "backup_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Open("postgres", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
