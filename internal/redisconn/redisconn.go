// Package redisconn builds the one Redis client the server's shared state
// goes through (live-update pub/sub, rate limits, persisted queries), so
// that all of it degrades the same way when Redis does not answer: every
// call has a short deadline, and a circuit breaker stops calling a Redis
// that failed until a probe finds it back. Redis is an optimisation of a
// replica, never a reason for it to hang or to be down; each user says
// what it does without it (see Fallback).
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// ErrUnavailable is the error of a call not sent because the breaker is
// open: Redis failed recently and has not answered a probe since.
var ErrUnavailable = errors.New("redis unavailable (circuit open)")

// Options tune a Client; zero values take the defaults.
type Options struct {
	// Timeout bounds each call, from waiting for a pooled connection to
	// reading the reply. Default 250ms.
	Timeout time.Duration
	// OpenFor is how long the breaker stays open before one call may probe
	// Redis again. Default 5s.
	OpenFor time.Duration
	// Log hears when Redis goes away and comes back.
	Log *slog.Logger
}

// Client is a go-redis client whose calls are bounded and guarded by the
// breaker; pass Client.Client (a *redis.Client) to whoever needs Redis.
type Client struct {
	*redis.Client
	cb      *gobreaker.CircuitBreaker[struct{}]
	timeout time.Duration
	log     *slog.Logger
}

// New returns a client for url (redis://[:password@]host:port/db). It does
// not connect: the server starts while Redis is down and the client
// connects when Redis answers.
func New(url string, opts Options) (*Client, error) {
	ropt, err := redis.ParseURL(url)
	if err != nil {
		// The URL may carry a password; don't echo it.
		return nil, errors.New("invalid REDIS_URL")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 250 * time.Millisecond
	}
	if opts.OpenFor <= 0 {
		opts.OpenFor = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	routeLogs()
	ropt.DialTimeout = opts.Timeout
	ropt.ReadTimeout = opts.Timeout
	ropt.WriteTimeout = opts.Timeout
	ropt.PoolTimeout = opts.Timeout
	// The context's deadline (the call's, below) governs the socket.
	ropt.ContextTimeoutEnabled = true
	// One retry, for a pooled connection Redis closed (a restart); the
	// deadline covers both tries.
	ropt.MaxRetries = 1
	// go-redis would dial five times 100ms apart: a refused Redis would
	// cost each call the whole deadline.
	ropt.DialerRetries = 1

	c := &Client{Client: redis.NewClient(ropt), timeout: opts.Timeout, log: opts.Log}
	var lastTimedOut atomic.Bool
	c.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:    "redis",
		Timeout: opts.OpenFor,
		// A hung Redis costs every caller the whole deadline, so one
		// timeout opens the breaker; errors that come back at once (a
		// refused connection) are cheap and need three in a row.
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return lastTimedOut.Load() || n.ConsecutiveFailures >= 3
		},
		IsSuccessful: func(err error) bool {
			var reply redis.Error // Redis answered, if with an error (NOSCRIPT, WRONGTYPE)
			return err == nil || errors.Is(err, redis.Nil) || (errors.As(err, &reply) && !isTimeout(err))
		},
		// The caller gave up (its request ended): no news about Redis.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				if from == gobreaker.StateClosed {
					c.log.Warn("redis unavailable: rate limits count per replica, live updates reach this replica only, persisted queries are kept in memory",
						slog.Duration("probe_every", opts.OpenFor))
				}
			case gobreaker.StateClosed:
				c.log.Info("redis available again")
			}
		},
	})
	c.AddHook(hook{c: c, timedOut: &lastTimedOut})
	return c, nil
}

// Available reports whether calls go to Redis (the breaker is not open).
func (c *Client) Available() bool { return c.cb.State() != gobreaker.StateOpen }

// State is the breaker's state: "closed" (Redis in use), "open" (not
// called) or "half-open" (one probe in flight).
func (c *Client) State() string { return c.cb.State().String() }

// Check pings Redis within the call deadline, for readiness reports.
func (c *Client) Check(ctx context.Context) error { return c.Ping(ctx).Err() }

// hook puts every command and pipeline under the deadline and the breaker.
// Pub/sub connections do not pass through it; internal/pubsub bounds its
// own waits.
type hook struct {
	c        *Client
	timedOut *atomic.Bool
}

func (h hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if connectionSetup[cmd.Name()] {
			// A new connection's handshake: only the deadline. Through
			// the breaker, the pub/sub connection could not come back
			// until the breaker's next probe.
			cctx, cancel := context.WithTimeout(ctx, h.c.timeout)
			defer cancel()
			return next(cctx, cmd)
		}
		err := h.guard(ctx, func(ctx context.Context) error { return next(ctx, cmd) })
		if err != nil && cmd.Err() == nil {
			cmd.SetErr(err) // go-redis reads the command's error, not ours
		}
		return err
	}
}

// connectionSetup are the commands go-redis sends when it opens a
// connection, through the same hooks as everything else.
var connectionSetup = map[string]bool{"hello": true, "auth": true, "select": true, "client": true, "readonly": true}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		setup := true
		for _, cmd := range cmds {
			setup = setup && connectionSetup[cmd.Name()]
		}
		if setup {
			cctx, cancel := context.WithTimeout(ctx, h.c.timeout)
			defer cancel()
			return next(cctx, cmds)
		}
		err := h.guard(ctx, func(ctx context.Context) error { return next(ctx, cmds) })
		if err != nil {
			for _, cmd := range cmds {
				if cmd.Err() == nil {
					cmd.SetErr(err)
				}
			}
		}
		return err
	}
}

func (h hook) guard(ctx context.Context, call func(context.Context) error) error {
	_, err := h.c.cb.Execute(func() (struct{}, error) {
		cctx, cancel := context.WithTimeout(ctx, h.c.timeout)
		defer cancel()
		err := call(cctx)
		if err != nil && ctx.Err() != nil {
			// The caller's own context ended: not Redis's doing.
			return struct{}{}, context.Canceled
		}
		h.timedOut.Store(isTimeout(err))
		return struct{}{}, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return ErrUnavailable
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrPoolTimeout) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// Components that fall back when Redis fails, for Fallback.
const (
	PubSub    = "pubsub"    // a live update reaches this replica's subscribers only
	RateLimit = "ratelimit" // the request is counted in this replica's memory
	APQ       = "apq"       // the persisted query is looked up and kept in this replica's memory
)

var (
	fallbackCounts sync.Map // component → *atomic.Int64
	lastWarned     sync.Map // component → *atomic.Int64 (unix nanoseconds)
)

// warnEvery limits the fallback warning to one per component per interval:
// an outage would otherwise log once per request.
const warnEvery = 10 * time.Second

// Fallback records that component did without Redis because of err: it
// counts it (Fallbacks, exported as a metric) and logs a warning at most
// every ten seconds per component. Counts are per process, like the Go
// runtime's own.
func Fallback(ctx context.Context, log *slog.Logger, component string, err error) {
	n, _ := fallbackCounts.LoadOrStore(component, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	last, _ := lastWarned.LoadOrStore(component, new(atomic.Int64))
	l := last.(*atomic.Int64)
	now, prev := time.Now().UnixNano(), l.Load()
	if now-prev < int64(warnEvery) || !l.CompareAndSwap(prev, now) {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "redis call failed; doing without", slog.String("component", component),
		slog.String("error", err.Error()), slog.Int64("fallbacks", n.(*atomic.Int64).Load()))
}

// Fallbacks returns how often each component did without Redis.
func Fallbacks() map[string]int64 {
	out := map[string]int64{}
	fallbackCounts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

var routeOnce sync.Once

// routeLogs sends go-redis' own log lines (reconnects, pool trouble),
// which it writes as plain text to stderr, through slog.Default as JSON.
func routeLogs() {
	routeOnce.Do(func() { redis.SetLogger(&slogLogger{last: map[string]time.Time{}}) })
}

// slogLogger writes each kind of go-redis line at most every ten seconds:
// its pub/sub connection redials every 100ms while Redis is down, and says
// so each time.
type slogLogger struct {
	mu   sync.Mutex
	last map[string]time.Time // format → when last written
}

func (l *slogLogger) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.last[format]) < warnEvery {
		l.mu.Unlock()
		return
	}
	if len(l.last) > 100 {
		clear(l.last)
	}
	l.last[format] = now
	l.mu.Unlock()
	slog.Default().WarnContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "redis"))
}
