package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ishoj/voresishoj/graph"
	"github.com/ishoj/voresishoj/internal/buildinfo"
)

// ServeListener serves on ln (and /metrics on METRICS_ADDR) until ctx
// ends, then shuts down within SHUTDOWN_TIMEOUT, counted from then:
//
//  1. /readyz answers 503 and the job queue takes no more jobs, while
//     requests are still served for DRAIN_DELAY, the time a load balancer
//     needs to stop sending new ones;
//  2. websockets are closed with 1001 (going away) and event streams end,
//     so apps reconnect to another replica at once;
//  3. the listener closes and running requests finish;
//  4. running jobs finish, or are cancelled at the deadline and go back
//     to the queue for another replica.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	var metricsSrv *http.Server
	if a.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s (METRICS_ADDR; off disables): %w", a.cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler())
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
		a.metricsAddr.Store(mln.Addr().String())
		go func() { _ = metricsSrv.Serve(mln) }()
		a.log.Info("metrics", slog.String("addr", "http://"+mln.Addr().String()+"/metrics"))
	}
	if err := a.notifier.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start notification workers: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", slog.String("addr", "http://"+ln.Addr().String()+"/graphql"),
		slog.String("env", a.cfg.Env), slog.String("version", buildinfo.Read().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return a.shutdown(srv, metricsSrv, errc)
}

func (a *App) shutdown(srv, metricsSrv *http.Server, errc <-chan error) error {
	start := time.Now()
	a.draining.Store(true)
	a.log.Info("shutting down: not ready, draining", slog.Duration("drain_delay", a.cfg.DrainDelay),
		slog.Duration("timeout", a.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()

	// The queue stops fetching at once; jobs in hand finish meanwhile.
	jobs := make(chan error, 1)
	go func() { jobs <- a.notifier.Stop(sctx) }()

	select {
	case <-time.After(a.cfg.DrainDelay):
	case <-sctx.Done():
	}

	a.live.end()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Warn("requests still running at the shutdown deadline; closing their connections", slog.String("error", err.Error()))
		_ = srv.Close()
	}
	if err := a.live.wait(sctx); err != nil {
		a.log.Warn("live connections still open at the shutdown deadline", slog.Int64("open", a.live.open.Load()))
	}
	if err := <-jobs; err != nil {
		a.log.Warn("notification workers did not stop cleanly", slog.String("error", err.Error()))
	}
	if metricsSrv != nil {
		mctx, mcancel := context.WithTimeout(context.Background(), time.Second)
		_ = metricsSrv.Shutdown(mctx)
		mcancel()
	}
	a.log.Info("stopped", slog.Duration("took", time.Since(start)))
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// MetricsAddr is where /metrics is served, once ServeListener listens
// there; "" when metrics are off.
func (a *App) MetricsAddr() string {
	s, _ := a.metricsAddr.Load().(string)
	return s
}

// liveConnections keeps the websockets and event streams open, so
// shutdown can end them (their request context is cancelled with
// http.ErrServerClosed as the cause, which graph's websocket turns into
// close code 1001) and wait until they have.
type liveConnections struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelCauseFunc
	open   atomic.Int64
}

func (l *liveConnections) init() {
	l.once.Do(func() { l.ctx, l.cancel = context.WithCancelCause(context.Background()) })
}

type liveCounter interface {
	LiveOpened(transport string) (closed func())
}

func (l *liveConnections) track(next http.Handler, m liveCounter) http.Handler {
	l.init()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := streamKind(r)
		if kind == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		var done []func()
		defer func() {
			for _, f := range done {
				f()
			}
		}()
		live := func() {
			l.open.Add(1)
			closed := m.LiveOpened(kind)
			stop := context.AfterFunc(l.ctx, func() { cancel(context.Cause(l.ctx)) })
			done = append(done, func() { stop() }, closed, func() { l.open.Add(-1) })
		}
		if kind == "sse" {
			// Only a subscription becomes a stream (graph's eventStream
			// says when); a query that merely accepts one, as urql's do,
			// is an ordinary request that shutdown lets finish.
			ctx = graph.WithEventStreamHook(ctx, live)
		} else {
			live()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// end tells every live connection, and any opened from now on, to end.
func (l *liveConnections) end() {
	l.init()
	l.cancel(http.ErrServerClosed)
}

// wait returns once no live connection is open, or ctx ends.
func (l *liveConnections) wait(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for l.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
