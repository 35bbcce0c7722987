package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrInUse is returned by Restore when a running server holds the database.
var ErrInUse = errors.New("store: the database is in use")

// BackupInfo describes a backup that was written or checked.
type BackupInfo struct {
	Path    string
	Bytes   int64
	Version int64 // the schema version (last migration) it holds
}

// Backup writes a consistent copy of the database named by dsn to path
// while the server keeps running, and never overwrites a file.
//
// SQLite: VACUUM INTO, which reads one snapshot in a read transaction; in
// WAL mode writers go on meanwhile, and the copy is one self-contained
// file (a plain copy of the database file would miss what is still in the
// -wal file, or catch a page half written). It is written beside path,
// checked with PRAGMA integrity_check and renamed into place.
//
// PostgreSQL: pg_dump --format=custom, which also reads one snapshot. It
// must be on PATH and no older than the server (postgresql-client).
func Backup(ctx context.Context, dsn, path string) (BackupInfo, error) {
	if _, err := os.Stat(path); err == nil {
		return BackupInfo{}, fmt.Errorf("%s already exists; a backup never overwrites a file", path)
	}
	partial := path + ".partial"
	_ = os.Remove(partial) // left by an interrupted backup
	if IsPostgresURL(dsn) {
		return pgDump(ctx, dsn, partial, path)
	}

	file := sqliteFile(dsn)
	if _, err := os.Stat(file); err != nil {
		return BackupInfo{}, fmt.Errorf("no database to back up: %w", err)
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, partial); err != nil {
		_ = os.Remove(partial)
		return BackupInfo{}, fmt.Errorf("vacuum into %s: %w", partial, err)
	}
	info, err := CheckSQLite(ctx, partial)
	if err != nil {
		err = fmt.Errorf("check the backup: %w", err)
	}
	if err == nil {
		err = syncFile(partial)
	}
	if err == nil {
		err = os.Rename(partial, path)
	}
	if err != nil {
		_ = os.Remove(partial)
		return BackupInfo{}, err
	}
	info.Path = path
	return info, syncDir(filepath.Dir(path))
}

// CheckSQLite opens the SQLite file at path read-only and reports whether
// it is a whole, consistent database of ours: PRAGMA integrity_check and
// foreign_key_check find nothing, and goose has recorded its version.
func CheckSQLite(ctx context.Context, path string) (BackupInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	// mode=ro: checking a backup must not change it (Open would turn on WAL).
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_time_format", "sqlite")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sqlx.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var problems []string
	if err := db.SelectContext(ctx, &problems, `PRAGMA integrity_check`); err != nil {
		return BackupInfo{}, fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return BackupInfo{}, fmt.Errorf("PRAGMA integrity_check: %s", strings.Join(problems, "; "))
	}
	var fk []struct {
		Table  string `db:"table"`
		RowID  *int64 `db:"rowid"`
		Parent string `db:"parent"`
		FKID   int    `db:"fkid"`
	}
	if err := db.SelectContext(ctx, &fk, `PRAGMA foreign_key_check`); err != nil {
		return BackupInfo{}, fmt.Errorf("PRAGMA foreign_key_check: %w", err)
	}
	if len(fk) > 0 {
		return BackupInfo{}, fmt.Errorf("%d rows whose foreign key points nowhere (first in %s)", len(fk), fk[0].Table)
	}
	var version int64
	if err := db.GetContext(ctx, &version, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`); err != nil {
		return BackupInfo{}, fmt.Errorf("no Vores Ishøj schema in it: %w", err)
	}
	return BackupInfo{Path: path, Bytes: st.Size(), Version: version}, nil
}

// RestoreOptions say what Restore may replace.
type RestoreOptions struct {
	// Replace lets Restore replace an existing SQLite database that no
	// server is using; the old file is kept beside it.
	Replace bool
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	BackupInfo
	// Previous is where the replaced SQLite database was moved, if any.
	Previous string
}

// Restore puts the backup at from in place of the database named by dsn.
// The caller migrates the database afterwards (app.OpenDB), so a backup
// from an older release comes up to date.
//
// SQLite: the backup is copied beside the database and checked
// (CheckSQLite) before anything is replaced; a backup made by a newer
// release (a schema version this binary does not know) is refused. An
// existing database is replaced only with Replace, never while a server
// holds it (ErrInUse), and is moved to <name>.before-restore-<time>, not
// deleted.
//
// PostgreSQL: pg_restore into an empty database; a database that already
// holds tables is refused (drop and create it first, deliberately).
func Restore(ctx context.Context, dsn, from string, opts RestoreOptions) (RestoreResult, error) {
	if _, err := os.Stat(from); err != nil {
		return RestoreResult{}, fmt.Errorf("backup: %w", err)
	}
	if IsPostgresURL(dsn) {
		return pgRestore(ctx, dsn, from)
	}
	latest, err := latestVersion(SQLite)
	if err != nil {
		return RestoreResult{}, err
	}

	target := sqliteFile(dsn)
	exists := false
	if _, err := os.Stat(target); err == nil {
		exists = true
		if !opts.Replace {
			return RestoreResult{}, fmt.Errorf("%s already exists; stop the server and restore with --replace to put the backup in its place (the old file is kept)", target)
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return RestoreResult{}, fmt.Errorf("create database directory: %w", err)
	}

	restoring := target + ".restoring"
	_ = os.Remove(restoring)
	if err := copyFile(from, restoring); err != nil {
		return RestoreResult{}, err
	}
	defer os.Remove(restoring) // once renamed into place there is nothing left to remove
	info, err := CheckSQLite(ctx, restoring)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("refusing to restore %s: %w", from, err)
	}
	if info.Version > latest {
		return RestoreResult{}, fmt.Errorf("refusing to restore %s: its schema version %d is newer than this release knows (%d); restore it with the release that made it, or a later one", from, info.Version, latest)
	}
	info.Path = from

	res := RestoreResult{BackupInfo: info}
	if exists {
		if err := quiesceSQLite(ctx, target); err != nil {
			return RestoreResult{}, err
		}
		res.Previous = fmt.Sprintf("%s.before-restore-%s", target, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(target, res.Previous); err != nil {
			return RestoreResult{}, fmt.Errorf("move the old database aside: %w", err)
		}
	}
	// A -wal or -shm file left next to the name would be read as the new
	// database's: they belong to the old one, whose changes quiesceSQLite
	// has written into its main file.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return RestoreResult{}, fmt.Errorf("remove the old database's %s file: %w", suffix, err)
		}
	}
	if err := os.Rename(restoring, target); err != nil {
		return RestoreResult{}, fmt.Errorf("put the backup in place: %w", err)
	}
	return res, syncDir(filepath.Dir(target))
}

// quiesceSQLite makes sure no connection holds the SQLite database at
// path and writes whatever its -wal file holds into the main file, so the
// file alone is the whole database. An exclusive lock is refused at once
// while a server (any other connection, in any process) has it open.
func quiesceSQLite(ctx context.Context, path string) error {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(0)")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	db, err := sqlx.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	// One connection: in exclusive locking mode it keeps the lock it takes
	// until it closes, and the checkpoint must run on it.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `BEGIN EXCLUSIVE; COMMIT`); err != nil {
		if retryable(err) {
			return fmt.Errorf("%s: %w: stop the server first", path, ErrInUse)
		}
		return fmt.Errorf("lock %s: %w", path, err)
	}
	var busy, logFrames, checkpointed int
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if busy != 0 {
		return fmt.Errorf("%s: %w: stop the server first", path, ErrInUse)
	}
	return db.Close()
}

// latestVersion is the last migration this binary carries for dialect d.
func latestVersion(d Dialect) (int64, error) {
	// A provider needs a connection only to run migrations, not to list them.
	db, err := sqlx.Open("sqlite", ":memory:")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	p, err := (&DB{DB: db, Dialect: d}).provider()
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		return 0, errors.New("no migrations embedded")
	}
	return sources[len(sources)-1].Version, nil
}

// pgDump runs pg_dump for the database at dsn into partial and renames it
// to path once pg_dump has succeeded.
func pgDump(ctx context.Context, dsn, partial, path string) (BackupInfo, error) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return BackupInfo{}, errors.New("pg_dump is not on PATH: install postgresql-client (the same major version as the server or newer), " +
			"or run pg_dump --format=custom --file=FILE \"$DATABASE_URL\" yourself")
	}
	conn, env := libpqURL(dsn)
	if err := runPG(ctx, env, bin, "--format=custom", "--file="+partial, "--dbname="+conn); err != nil {
		_ = os.Remove(partial)
		return BackupInfo{}, err
	}
	if err := syncFile(partial); err != nil {
		return BackupInfo{}, err
	}
	if err := os.Rename(partial, path); err != nil {
		return BackupInfo{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	// The version as the dump was made is that of the database now unless
	// a migration ran in between; it is only shown to the operator.
	version, _, err := db.SchemaVersion(ctx)
	return BackupInfo{Path: path, Bytes: st.Size(), Version: version}, err
}

// pgRestore runs pg_restore of from into the empty database at dsn.
func pgRestore(ctx context.Context, dsn, from string) (RestoreResult, error) {
	bin, err := exec.LookPath("pg_restore")
	if err != nil {
		return RestoreResult{}, errors.New("pg_restore is not on PATH: install postgresql-client, " +
			"or run pg_restore --no-owner --exit-on-error --dbname=\"$DATABASE_URL\" FILE yourself, then voresishoj migrate")
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		return RestoreResult{}, err
	}
	defer db.Close()
	var tables int
	if err := db.GetContext(ctx, &tables, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()`); err != nil {
		return RestoreResult{}, fmt.Errorf("look for tables: %w", err)
	}
	if tables > 0 {
		return RestoreResult{}, fmt.Errorf("the database already holds %d tables; restore into an empty database (drop and create it first, deliberately)", tables)
	}
	conn, env := libpqURL(dsn)
	if err := runPG(ctx, env, bin, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+conn, from); err != nil {
		return RestoreResult{}, err
	}
	st, err := os.Stat(from)
	if err != nil {
		return RestoreResult{}, err
	}
	version, _, err := db.SchemaVersion(ctx)
	return RestoreResult{BackupInfo: BackupInfo{Path: from, Bytes: st.Size(), Version: version}}, err
}

func runPG(ctx context.Context, env []string, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// libpqURL turns a DATABASE_URL into what pg_dump and pg_restore accept:
// without lib/pq's own parameters, which libpq refuses; with the run-time
// parameters lib/pq passes on to the server (search_path,
// synchronous_commit, ...) moved to PGOPTIONS, which libpq takes them in;
// and with the password moved to PGPASSWORD so it does not show in the
// process list.
func libpqURL(dsn string) (string, []string) {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, nil
	}
	var env []string
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	var options []string
	for _, p := range slices.Sorted(maps.Keys(q)) {
		switch {
		case libpqKeywords[p]:
		case p == "binary_parameters" || p == "disable_prepared_binary_result":
			q.Del(p)
		default:
			options = append(options, "-c "+p+"="+q.Get(p))
			q.Del(p)
		}
	}
	if len(options) > 0 {
		env = append(env, "PGOPTIONS="+strings.Join(options, " "))
	}
	u.RawQuery = q.Encode()
	return u.String(), env
}

// libpqKeywords are the connection parameters libpq itself knows
// (PostgreSQL's documentation, "Parameter Key Words"); lib/pq hands any
// other one to the server as a run-time parameter.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true,
	"passfile": true, "channel_binding": true, "connect_timeout": true, "client_encoding": true,
	"options": true, "application_name": true, "fallback_application_name": true,
	"keepalives": true, "keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "replication": true, "gssencmode": true, "sslmode": true,
	"requiressl": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true, "krbsrvname": true,
	"gsslib": true, "service": true, "target_session_attrs": true,
}

// sqliteFile is the file a SQLite DATABASE_URL names, as Open reads it.
func sqliteFile(dsn string) string {
	path := strings.TrimPrefix(dsn, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	defer in.Close()
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return fmt.Errorf("copy backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a rename in dir survive a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
