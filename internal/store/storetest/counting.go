package storetest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"

	"github.com/ishoj/voresishoj/internal/store"
)

// Counter counts the SQL statements sent to a database, so tests can show
// that a page of results costs the same number of statements whatever its
// size (no N+1).
type Counter struct{ n atomic.Int64 }

// Count returns the number of statements since the last Reset.
func (c *Counter) Count() int64 { return c.n.Load() }

// Reset sets the count to zero.
func (c *Counter) Reset() { c.n.Store(0) }

var (
	registerOnce sync.Once
	counters     sync.Map // dsn -> *Counter
)

// CountingSQLite returns a migrated SQLite database whose statements are
// counted by the returned Counter.
func CountingSQLite(t testing.TB) (*store.DB, *Counter) {
	t.Helper()
	registerOnce.Do(func() {
		sql.Register("sqlite-counting", countingDriver{})
		sqlx.BindDriver("sqlite-counting", sqlx.QUESTION)
	})
	dsn := store.SQLiteDSN(filepath.Join(t.TempDir(), "counted.db"))
	c := &Counter{}
	counters.Store(dsn, c)
	raw, err := sqlx.Open("sqlite-counting", dsn)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(4)
	db := store.New(raw, store.SQLite)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	return db, c
}

type countingDriver struct{}

func (countingDriver) Open(dsn string) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	v, _ := counters.Load(dsn)
	c, _ := v.(*Counter)
	if c == nil {
		c = &Counter{}
	}
	return &countingConn{Conn: conn, c: c}, nil
}

// countingConn forwards to the SQLite connection, counting each statement.
type countingConn struct {
	driver.Conn
	c *Counter
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cc.c.n.Add(1)
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cc.c.n.Add(1)
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cc.c.n.Add(1)
	return cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (cc *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cc.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}
