// Package app wires the server together from its configuration and runs
// it until the context ends, shutting down in order: stop accepting
// requests, let running ones finish, then close the database.
package app

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/graph"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/buildinfo"
	"github.com/ishoj/voresishoj/internal/calendar"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/feed"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/requestid"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// App is a configured server.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	db       *store.DB
	bus      *event.Bus
	domain   graph.Domain
	authn    *auth.Authenticator
	notifier *notify.Service
	broker   pubsub.Broker
	blobs    *media.Dir
	redis    *redis.Client
	handler  http.Handler
	// now is the domain clock every service shares: the real time, or
	// DEV_NOW running on in development.
	now func() time.Time
}

// Clock returns the domain clock cfg asks for: clock.Real, or with
// DEV_NOW a clock that starts there and runs on. Token signing and
// verification (internal/auth) keep the real clock, since tokens are real.
func Clock(cfg config.Config) func() time.Time {
	if cfg.DevNow.IsZero() {
		return clock.Real
	}
	return clock.From(cfg.DevNow)
}

// OpenDB opens and migrates the configured database.
func OpenDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	// River keeps its job tables beside ours.
	if err := notify.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate job queue: %w", err)
	}
	log.Info("database ready", slog.String("dialect", string(db.Dialect)),
		slog.String("database", cfg.RedactedDatabaseURL()), slog.Int("migrations_applied", n))
	return db, nil
}

// New builds the server on an open, migrated database.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.DB) (*App, error) {
	now := Clock(cfg)
	a := &App{cfg: cfg, log: log, db: db, bus: event.NewBus(log), now: now}
	if !cfg.DevNow.IsZero() {
		log.Warn("DEV_NOW: the server runs as if it were this date, not today. For development only.",
			slog.Time("dev_now", cfg.DevNow))
	}
	themes := theme.NewService(db)
	blobs, err := media.NewDir(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return nil, fmt.Errorf("open media directory: %w", err)
	}
	a.blobs = blobs
	volunteers := volunteer.NewService(db, a.bus, volunteer.Config{DailyLimit: time.Duration(cfg.DailyHoursLimit) * time.Hour, Now: now})
	activities := activity.NewService(db, themes, a.bus, now)
	activities.SetCancelHook(volunteers.CancelActivityClaims)
	sender, err := a.pushSender(ctx)
	if err != nil {
		return nil, err
	}
	a.notifier, err = notify.New(db, sender, log, notify.Config{AnnouncementsPerDay: cfg.AnnouncementsPerDay, Now: now})
	if err != nil {
		return nil, fmt.Errorf("set up notifications: %w", err)
	}
	a.bus.Subscribe(a.notifier.EventHandler())
	imports := calimport.NewService(db, activities, themes, a.bus, calimport.Options{Logger: log, Now: now})
	// Organiser invitations are told in the inviting transaction, and an
	// account that proves an address at sign-in gets what waits for it.
	organisations := organisation.NewService(db, now)
	organisations.SetNotifier(a.notifier)
	users := user.NewService(db, now)
	users.OnEmailProven(organisations.EmailProvenTx)
	a.domain = graph.Domain{
		Users:          users,
		Organisations:  organisations,
		Places:         place.NewService(db, now),
		Activities:     activities,
		Stories:        story.NewService(db, a.bus, blobs, themes, now),
		Themes:         themes,
		Links:          link.NewService(db),
		Volunteer:      volunteers,
		Privacy:        privacy.NewService(db, a.bus, volunteers.CancelUserClaims, now),
		Calendar:       calendar.NewService(db, cfg.PublicURL, now),
		Notify:         a.notifier,
		Initiatives:    initiative.NewService(db, themes, a.notifier, now),
		CalendarImport: imports,
		Languages:      i18n.Supported(),
	}

	if cfg.DemoData {
		empty, err := demo.Empty(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("check for demo data: %w", err)
		}
		if empty {
			if err := demo.Load(ctx, db, now()); err != nil {
				return nil, fmt.Errorf("load demo data: %w", err)
			}
			log.Info("demo data loaded into the empty database")
		}
	}
	n, err := a.domain.Activities.RefreshOccurrences(ctx)
	if err != nil {
		return nil, fmt.Errorf("expand occurrences: %w", err)
	}
	log.Info("occurrences expanded", slog.Int("activities", n))

	verifier, err := a.verifier(ctx)
	if err != nil {
		return nil, err
	}
	a.authn = auth.NewAuthenticator(verifier, a.domain.Users, log)

	if cfg.RedisURL != "" {
		if a.broker, err = pubsub.NewRedis(ctx, cfg.RedisURL, log, pubsub.Options{}); err != nil {
			return nil, fmt.Errorf("connect to redis: %w", err)
		}
		log.Info("live updates shared through redis")
	} else {
		a.broker = pubsub.NewMemory(log, pubsub.Options{})
		log.Info("live updates in-process (one replica); set REDIS_URL for several")
	}
	a.bus.Subscribe(graph.ForwardEvents(a.broker, log))
	a.notifier.OnCreated(graph.NotifyLive(a.broker, log))

	resolver := &graph.Resolver{Log: log, Domain: a.domain, Broker: a.broker, PublicURL: cfg.PublicURL,
		Now: now}
	gqlOpts := graph.Options{
		Development:             !cfg.Production(),
		ComplexityLimit:         cfg.ComplexityLimit,
		Authenticate:            a.authn.Middleware,
		WebsocketInit:           graph.AuthenticateWebsocket(a.authn),
		MaxConnectionsPerPerson: cfg.WebsocketsPerPerson,
		// 0 in the setting is no cap.
		MaxAnonymousConnectionsPerIP: cmp.Or(cfg.AnonymousConnectionsPerIP, -1),
		Limits: graph.Limits{
			MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases, MaxTokens: cfg.ParserTokenLimit, MaxFields: cfg.MaxFields,
			MaxBodyBytes: cfg.MaxBodyBytes, MaxUploadFileBytes: cfg.MaxUploadFileBytes,
			MaxUploadBytes: cfg.MaxUploadBytes, Timeout: cfg.RequestTimeout,
		},
		RateLimits: graph.RateLimits{
			PerPerson: ratelimit.PerMinute(cfg.RateLimitPerson),
			PerIP:     ratelimit.PerMinute(cfg.RateLimitIP),
			IPHeader:  cfg.ClientIPHeader,
		},
		CORSOrigins: cfg.CORSOrigins,
	}
	if cfg.RedisURL != "" {
		// Rate limits and persisted queries shared by every replica.
		ropts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		gqlOpts.Redis = redis.NewClient(ropts)
		a.redis = gqlOpts.Redis
	}
	if cfg.EnforceTrustedDocuments() {
		if gqlOpts.TrustedDocuments, err = graph.LoadTrustedDocuments(cfg.TrustedDocumentsFile); err != nil {
			return nil, err
		}
		log.Info("only trusted documents are executed", slog.Int("documents", len(gqlOpts.TrustedDocuments)))
	}
	gql := graph.NewHandler(resolver, gqlOpts)

	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("/ical/", a.domain.Calendar.Handler())
	mux.Handle(media.Prefix, media.Handler(a.blobs))
	mux.Handle("/feeds/", feed.NewService(db, cfg.PublicURL).Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// "ok", then which build answers: during a rolling upgrade the
		// operator sees which replicas run the new one.
		_, _ = w.Write([]byte("ok\n" + buildinfo.Read().String() + "\n"))
	})
	mux.HandleFunc("GET /readyz", a.ready)
	if !cfg.Production() {
		mux.Handle("GET /{$}", playground.Handler("Vores Ishøj", "/graphql"))
	}
	a.handler = requestid.Middleware(a.logRequests(mux))
	return a, nil
}

// pushSender picks FCM when Firebase is configured and the log otherwise,
// where the in-app inbox still works.
func (a *App) pushSender(ctx context.Context) (push.Sender, error) {
	if !a.cfg.PushThroughFCM() {
		a.log.Info("push notifications go to the log (no Firebase project, or the Auth emulator without FCM_ENDPOINT)")
		return push.NewLog(a.log), nil
	}
	s, err := push.NewFCM(ctx, a.cfg.FirebaseProjectID, push.FCMOptions{Endpoint: a.cfg.FCMEndpoint})
	if err != nil {
		return nil, fmt.Errorf("set up FCM: %w", err)
	}
	return s, nil
}

// verifier picks Firebase when a project is configured and the local
// signer otherwise.
func (a *App) verifier(ctx context.Context) (auth.Verifier, error) {
	if a.cfg.LocalAuth() {
		a.log.Warn("LOCAL SIGN-IN MODE: no FIREBASE_PROJECT_ID set; the server signs its own tokens " +
			"(voresishoj token --email ...). For development only.")
		return auth.NewLocal(a.cfg.DataDir, a.domain.Users)
	}
	return auth.NewFirebase(ctx, a.cfg.FirebaseProjectID)
}

// Handler returns the root HTTP handler; tests serve it directly.
func (a *App) Handler() http.Handler { return a.handler }

// Domain returns the domain services, for commands and tests.
func (a *App) Domain() graph.Domain { return a.domain }

// ready answers 200 when the database is reachable and its schema current,
// so a load balancer only sends traffic to replicas that can serve it.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.db.PingContext(ctx); err != nil {
		a.log.WarnContext(ctx, "not ready: database unreachable", slog.String("error", err.Error()))
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	current, err := a.db.SchemaCurrent(ctx)
	if err != nil || !current {
		http.Error(w, "database schema not current", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// Run opens the configured database, builds the server on it and serves
// until ctx ends: what `voresishoj serve` does.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	a, err := New(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return err
	}
	defer a.Close()
	return a.Serve(ctx)
}

// Serve listens on cfg.ListenAddr until ctx ends, then shuts down
// gracefully within cfg.ShutdownTimeout.
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.ListenAddr, err)
	}
	return a.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx ends.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if err := a.notifier.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start notification workers: %w", err)
	}
	go a.maintain(ctx)
	go a.importCalendars(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", slog.String("addr", "http://"+ln.Addr().String()+"/graphql"),
		slog.String("env", a.cfg.Env), slog.String("version", buildinfo.Read().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down", slog.Duration("timeout", a.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Warn("shutdown did not finish in time; closing connections", slog.String("error", err.Error()))
		_ = srv.Close()
	}
	// Workers finish the batch in hand; what is left stays queued for the
	// next start or another replica.
	if err := a.notifier.Stop(sctx); err != nil {
		a.log.Warn("notification workers did not stop cleanly", slog.String("error", err.Error()))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// maintain does the daily housekeeping until ctx ends: moving the horizon
// of recurring activities, forgetting idempotency keys older than two
// days, and closing proposals nobody joined in 90 days. Each step is
// idempotent, so several replicas doing it is harmless.
func (a *App) maintain(ctx context.Context) {
	tick := time.NewTicker(6 * time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := a.now()
		if _, err := a.domain.Activities.RefreshOccurrences(ctx); err != nil {
			a.log.Error("refresh occurrences", slog.String("error", err.Error()))
		}
		if _, err := a.domain.Volunteer.PurgeIdempotencyKeys(ctx, now.Add(-48*time.Hour)); err != nil {
			a.log.Error("purge idempotency keys", slog.String("error", err.Error()))
		}
		if _, err := a.domain.Initiatives.CloseStale(ctx, now, 0); err != nil {
			a.log.Error("close stale initiatives", slog.String("error", err.Error()))
		}
	}
}

// importCalendars fetches the external calendars that are due, each
// minute; a source's next fetch time is claimed before it is fetched, so
// replicas do not fetch the same source twice.
func (a *App) importCalendars(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := a.domain.CalendarImport.RunDue(ctx, a.now()); err != nil {
			a.log.Error("import calendars", slog.String("error", err.Error()))
		}
	}
}

// Close releases what New opened.
func (a *App) Close() error {
	if a.broker != nil {
		a.broker.Close()
	}
	if a.blobs != nil {
		a.blobs.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	return a.db.Close()
}

// logRequests writes one line per request with its id, status and time.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestid.From(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Hijack hands the connection to the websocket upgrade.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hijack")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Flush passes streaming responses (server-sent events) through.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer, which
// the websocket upgrade needs.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
