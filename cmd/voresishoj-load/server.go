package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
)

// counter counts SQL statements sent through a counted pool and, while
// recording, keeps the queries so they can be explained.
type counter struct {
	n      atomic.Int64
	record atomic.Bool
	mu     sync.Mutex
	seen   []statement
}

type statement struct {
	query string
	args  []any
}

func (c *counter) saw(query string, args []driver.NamedValue) {
	c.n.Add(1)
	if !c.record.Load() {
		return
	}
	st := statement{query: query}
	for _, a := range args {
		st.args = append(st.args, a.Value)
	}
	c.mu.Lock()
	c.seen = append(c.seen, st)
	c.mu.Unlock()
}

// openCounted opens the database like store.Open does, with the same pool
// sizes, but with every statement counted.
func openCounted(ctx context.Context, dsn string) (*store.DB, *counter, error) {
	c := &counter{}
	var (
		base    driver.Driver
		name    string
		dialect store.Dialect
		pool    int
	)
	if store.IsPostgresURL(dsn) {
		base, name, dialect, pool = &pq.Driver{}, "postgres", store.Postgres, 20
		dsn = store.PostgresDSN(dsn)
	} else {
		base, name, dialect, pool = &sqlite.Driver{}, "sqlite", store.SQLite, 4
		dsn = store.SQLiteDSN(strings.TrimPrefix(dsn, "sqlite://"))
	}
	raw := sqlx.NewDb(sql.OpenDB(connector{dsn: dsn, base: base, c: c}), name)
	raw.SetMaxOpenConns(pool)
	raw.SetMaxIdleConns(pool)
	db := store.New(raw, dialect)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("open %s: %w", dialect, err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	if err := notify.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, c, nil
}

type connector struct {
	dsn  string
	base driver.Driver
	c    *counter
}

func (k connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := k.base.Open(k.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: k.c}, nil
}

func (k connector) Driver() driver.Driver { return k.base }

type countingConn struct {
	driver.Conn
	c *counter
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cc.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cc.c.saw(query, args)
	return q.QueryContext(ctx, query, args)
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cc.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cc.c.saw(query, args)
	return e.ExecContext(ctx, query, args)
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cc.c.n.Add(1)
	if p, ok := cc.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return cc.Conn.Prepare(query)
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

func (cc *countingConn) IsValid() bool {
	if v, ok := cc.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// server is the real application serving on a random local port.
type server struct {
	URL     string
	App     *app.App
	DB      *store.DB
	Count   *counter
	DataDir string
	stop    context.CancelFunc
	done    chan error
}

// startServer runs the real server in-process: the configuration comes
// from the environment as in production, with the load tool's overrides
// (no rate limits, no demo data, a private data directory).
func startServer(ctx context.Context, dsn string, extra map[string]string) (*server, error) {
	dir, err := os.MkdirTemp("", "voresishoj-load-")
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"DATA_DIR": dir, "DATABASE_URL": dsn, "DEMO_DATA": "false", "LOG_LEVEL": "warn",
		"RATE_LIMIT_IP": "0", "RATE_LIMIT_PERSON": "0", "ANONYMOUS_CONNECTIONS_PER_IP": "0", "REDIS_URL": "", "METRICS_ADDR": "off",
		"STORIES_PER_DAY": "0", "STORY_REPORTS_PER_DAY": "0", "CLAIMS_PER_HOUR": "0",
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, c, err := openCounted(ctx, dsn)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	s := &server{URL: "http://" + ln.Addr().String(), App: a, DB: db, Count: c, DataDir: dir, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- a.ServeListener(sctx, ln) }()
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	return nil, fmt.Errorf("server did not become ready")
}

func (s *server) Close() {
	s.stop()
	<-s.done
	s.App.Close()
	os.RemoveAll(s.DataDir)
}
