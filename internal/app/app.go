// Package app wires the server together from its configuration and runs
// it until the context ends, shutting down in order (shutdown.go): report
// not ready while load balancers notice, end live connections, let running
// requests and jobs finish, then close the database.
package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ishoj/voresishoj/graph"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/buildinfo"
	"github.com/ishoj/voresishoj/internal/calendar"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/explorer"
	"github.com/ishoj/voresishoj/internal/feed"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/metrics"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/offline"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/pages"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/redisconn"
	"github.com/ishoj/voresishoj/internal/search"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/tracing"
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
	blobs    media.Store
	redis    *redisconn.Client
	metrics  *metrics.Metrics
	handler  http.Handler
	// live ends websockets and event streams at shutdown (shutdown.go).
	live liveConnections
	// draining is set at SIGTERM: /readyz answers 503 from then on.
	draining    atomic.Bool
	metricsAddr atomic.Value // string, once listening
	// now is the domain clock every service shares: the real time, or
	// DEV_NOW running on in development.
	now func() time.Time
	// stopJobEvents ends the job-failure counting (observe.go).
	stopJobEvents func()
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
	var opts []store.Option
	if cfg.TracesEndpoint != "" {
		opts = append(opts, store.Traced())
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, opts...)
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
	folded, err := refreshSearch(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	log.Info("database ready", slog.String("dialect", string(db.Dialect)),
		slog.String("database", cfg.RedactedDatabaseURL()), slog.Int("migrations_applied", n),
		slog.Int("search_rows_folded", folded))
	return db, nil
}

// refreshSearch folds the search text of rows written before search
// folded it (migration 00015), through each table's owner.
func refreshSearch(ctx context.Context, db *store.DB) (int, error) {
	total := 0
	for _, refresh := range []func(context.Context, *store.DB) (int, error){
		activity.RefreshSearch, organisation.RefreshSearch, place.RefreshSearch, story.RefreshSearch, initiative.RefreshSearch,
	} {
		n, err := refresh(ctx, db)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// New builds the server on an open, migrated database.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.DB) (*App, error) {
	now := Clock(cfg)
	a := &App{cfg: cfg, log: log, db: db, bus: event.NewBus(log), now: now, metrics: metrics.New()}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if !cfg.DevNow.IsZero() {
		log.Warn("DEV_NOW: the server runs as if it were this date, not today. For development only.",
			slog.Time("dev_now", cfg.DevNow))
	}
	themes := theme.NewService(db)
	blobs, err := media.Open(ctx, cfg.MediaURL)
	if err != nil {
		return nil, fmt.Errorf("open media store: %w", err)
	}
	a.blobs = blobs
	media.SetDecodeLimits(media.DecodeLimits{MaxBytes: int64(cfg.MediaMaxDecodedMB) << 20, Concurrent: cfg.MediaDecodes})
	volunteers := volunteer.NewService(db, a.bus, volunteer.Config{DailyLimit: time.Duration(cfg.DailyHoursLimit) * time.Hour, Now: now,
		Claims: ratelimit.Quota{N: cfg.ClaimsPerHour, Per: time.Hour}})
	activities := activity.NewService(db, themes, a.bus, now)
	activities.SetCancelHook(volunteers.CancelActivityClaims)
	activities.SetMoveHook(volunteers.MoveActivitySlots)
	sender, err := a.pushSender(ctx)
	if err != nil {
		return nil, err
	}
	a.notifier, err = notify.New(db, sender, log, notify.Config{AnnouncementsPerDay: cfg.AnnouncementsPerDay, Now: now,
		Lease: cfg.PushLease, Recorded: a.metrics.Delivery, PublicURL: cfg.PublicURL, Housekeeping: a.housekeeping()})
	if err != nil {
		return nil, fmt.Errorf("set up notifications: %w", err)
	}
	// What someone must hear about goes through the outbox, in the
	// transaction of the change; the bus only feeds live updates.
	a.bus.SetOutbox(a.notifier)
	imports := calimport.NewService(db, activities, themes, a.bus, calimport.Options{Logger: log, Now: now})
	// Organiser invitations are told in the inviting transaction, and an
	// account that proves an address at sign-in gets what waits for it.
	organisations := organisation.NewService(db, now)
	organisations.SetNotifier(a.notifier)
	users := user.NewService(db, now)
	users.OnEmailProven(organisations.EmailProvenTx)
	guests := participation.NewService(db, a.bus, a.notifier, participation.Config{Now: now,
		Signups: ratelimit.Quota{N: cfg.ClaimsPerHour, Per: time.Hour}})
	activities.SetGuestHooks(guests.CancelActivityTx, guests.MoveActivityTx)
	a.domain = graph.Domain{
		Users:         users,
		Organisations: organisations,
		Places:        place.NewService(db, now),
		Activities:    activities,
		Stories: story.NewService(db, a.bus, blobs, themes, now, a.notifier, story.Limits{
			Submissions: ratelimit.Quota{N: cfg.StoriesPerDay, Per: 24 * time.Hour},
			Reports:     ratelimit.Quota{N: cfg.StoryReportsPerDay, Per: 24 * time.Hour},
		}),
		Themes:         themes,
		Links:          link.NewService(db),
		Volunteer:      volunteers,
		Privacy:        privacy.NewService(db, a.bus, volunteers.CancelUserClaims, now),
		Calendar:       calendar.NewService(db, cfg.PublicURL, now),
		Notify:         a.notifier,
		Initiatives:    initiative.NewService(db, themes, a.notifier, now),
		CalendarImport: imports,
		Participation:  guests,
		Languages:      i18n.Supported(),
	}
	a.domain.Privacy.SetParticipations(guests)
	// Photos of stories not yet published go out at signed URLs; the
	// replicas share the key through the database.
	signer, err := media.LoadSigner(ctx, db, now())
	if err != nil {
		return nil, err
	}
	a.domain.Stories.SetSigner(signer)
	a.domain.UseCovers(media.NewCovers(db, blobs, signer, now))
	d := a.domain
	a.domain.Search = search.NewService(db, d.Activities, d.Organisations, d.Places, d.Stories, d.Initiatives, now)
	a.domain.Offline = offline.NewService(db, offline.Owners{Activities: d.Activities, Stories: d.Stories,
		Volunteers: d.Volunteer, Organisations: d.Organisations, Places: d.Places, Themes: d.Themes, Notify: d.Notify}, now)

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
			n, err := demo.LoadCovers(ctx, db, blobs)
			if err != nil {
				return nil, fmt.Errorf("load demo covers: %w", err)
			}
			log.Info("demo covers drawn", slog.Int("covers", n))
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
	// Deleting an account ends its sign-in sessions first.
	if r, ok := verifier.(auth.SessionRevoker); ok {
		a.domain.Privacy.SetSessions(r)
	}
	a.domain.Privacy.SetMedia(blobs)

	if cfg.RedisURL != "" {
		// One client for everything shared through Redis, bounded by
		// REDIS_TIMEOUT and its breaker (internal/redisconn).
		if a.redis, err = redisconn.New(cfg.RedisURL, redisconn.Options{Timeout: cfg.RedisTimeout, Log: log}); err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.RedisTimeout)
		if err := a.redis.Check(pctx); err != nil {
			log.Warn("redis does not answer; starting without it: rate limits per replica, live updates on this replica only, until it does",
				slog.String("error", err.Error()))
		}
		cancel()
		if a.broker, err = pubsub.NewRedis(ctx, a.redis.Client, log, pubsub.Options{ConfirmTimeout: cfg.RedisTimeout}); err != nil {
			return nil, fmt.Errorf("redis pub/sub: %w", err)
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
		Observe:     a.observeOperation,
	}
	if a.redis != nil {
		// Rate limits and persisted queries shared by every replica.
		gqlOpts.Redis = a.redis.Client
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
	mux.Handle(media.Prefix, media.Handler(a.blobs, a.domain.MediaAccess()))
	// A download link is a 256-bit secret, so the limit is not what keeps
	// guessers out; it keeps anyone from making the server build ZIPs of
	// photos as fast as it can.
	mux.Handle(privacy.DownloadPrefix, ratelimit.PerAddress(a.addressLimiter("export", cfg.ExportRateLimitIP), cfg.ClientIPHeader,
		a.log, refuseRateLimited, a.domain.Privacy.DownloadHandler()))
	mux.Handle("/feeds/", feed.NewService(db, cfg.PublicURL).Handler())
	if err := a.registerPages(mux); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// "ok", then which build answers: during a rolling upgrade the
		// operator sees which replicas run the new one.
		_, _ = w.Write([]byte("ok\n" + buildinfo.Read().String() + "\n"))
	})
	mux.HandleFunc("GET /readyz", a.ready)
	if !cfg.Production() {
		mux.Handle("GET /{$}", explorer.Page("Vores Ishøj", "/graphql"))
		mux.Handle("GET "+explorer.Prefix, explorer.Assets())
	}
	a.handler = a.observe(mux)
	a.registerMetrics()
	return a, nil
}

// registerPages adds the public web pages (internal/pages) to mux.
func (a *App) registerPages(mux *http.ServeMux) error {
	apps := a.cfg.AppLinks
	p, err := pages.New(pages.Domain{
		Activities:    a.domain.Activities,
		Stories:       a.domain.Stories,
		Organisations: a.domain.Organisations,
		Places:        a.domain.Places,
		Volunteer:     a.domain.Volunteer,
		Links:         a.domain.Links,
	}, pages.Options{
		PublicURL:  a.cfg.PublicURL,
		Production: a.cfg.Production(),
		Now:        a.now,
		Apps: pages.AppLinks{AppleAppIDs: apps.AppleAppIDs, AppStoreID: apps.AppStoreID,
			AndroidPackage: apps.AndroidPackage, AndroidFingerprints: apps.AndroidFingerprints},
		Embeds:         pages.NewEmbeds(calimport.PublicClient(10*time.Second, false), pages.DefaultProviders(apps.MetaOEmbedToken), a.log, a.now),
		RateLimit:      a.pagesLimiter(),
		ClientIPHeader: a.cfg.ClientIPHeader,
		Log:            a.log,
	})
	if err != nil {
		return fmt.Errorf("public pages: %w", err)
	}
	p.Register(mux)
	return nil
}

// pagesLimiter counts requests to the public pages per client address,
// in Redis when there is one so the limit holds across replicas; nil
// when PAGES_RATE_LIMIT_IP is 0.
func (a *App) pagesLimiter() ratelimit.Limiter {
	return a.addressLimiter("pages", a.cfg.PagesRateLimitIP)
}

// addressLimiter counts perMinute requests per client address under
// name, in Redis when there is one so the limit holds across replicas;
// nil when perMinute is 0.
func (a *App) addressLimiter(name string, perMinute int) ratelimit.Limiter {
	l := ratelimit.PerMinute(perMinute)
	if !l.Enabled() {
		return nil
	}
	if a.redis != nil {
		return ratelimit.NewRedis(a.redis.Client, "voresishoj:ratelimit:"+name+":", l)
	}
	return ratelimit.NewMemory(l)
}

// refuseRateLimited answers a download over its limit as plain text in
// the reader's language: it is opened by a browser or a download
// manager, not by the app's GraphQL client.
func refuseRateLimited(w http.ResponseWriter, r *http.Request, retryAfter int) {
	w.Header().Set("Cache-Control", "no-store")
	msg := i18n.Text(i18n.Match(r.Header.Get("Accept-Language")), apperr.CodeRateLimited, map[string]any{"Seconds": retryAfter})
	http.Error(w, msg, http.StatusTooManyRequests)
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

// Run opens the configured database, builds the server on it and serves
// until ctx ends: what `voresishoj serve` does.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	stopTracing, err := tracing.Setup(ctx, cfg.TracesEndpoint, buildinfo.Read().String())
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(sctx); err != nil {
			log.Warn("flush traces", slog.String("error", err.Error()))
		}
	}()
	if cfg.TracesEndpoint != "" {
		log.Info("traces exported over OTLP", slog.String("endpoint", cfg.TracesEndpoint))
	}
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

// Retention of what would otherwise grow without bound.
const (
	// idempotencyRetention: a claim's key answers a retry for two days.
	idempotencyRetention = 48 * time.Hour
)

// housekeeping is the periodic work the cluster does once, as River
// periodic jobs (notify.Task): the elected leader inserts each on
// schedule and when it is elected, so a fresh cluster does it at once and
// replicas restarted often do not keep it from happening. Each task is
// idempotent, so a run repeated after a crash is harmless.
func (a *App) housekeeping() []notify.Task {
	return []notify.Task{
		{Name: "occurrences", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Moves the horizon of recurring activities on.
			_, err := a.domain.Activities.RefreshOccurrences(ctx)
			return err
		}},
		{Name: "calendar-import", Every: time.Minute, Run: func(ctx context.Context) error {
			// Each source keeps its own next fetch time and backoff.
			_, err := a.domain.CalendarImport.RunDue(ctx, a.now())
			return err
		}},
		{Name: "idempotency-keys", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.domain.Volunteer.PurgeIdempotencyKeys(ctx, a.now().Add(-idempotencyRetention))
			return err
		}},
		{Name: "participation-keys", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Idempotency keys of guest sign-ups, kept as long as slot claims'.
			_, err := a.domain.Participation.PurgeKeys(ctx, a.now().Add(-idempotencyRetention))
			return err
		}},
		{Name: "guest-reminders", Every: 5 * time.Minute, Run: func(ctx context.Context) error {
			// 24 h and 2 h before an occurrence, to every party going.
			_, err := a.domain.Participation.CreateReminders(ctx)
			return err
		}},
		{Name: "stale-proposals", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.domain.Initiatives.CloseStale(ctx, a.now(), 0)
			return err
		}},
		{Name: "inbox-retention", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.notifier.PurgeNotifications(ctx, a.now().Add(-notify.InboxRetention))
			return err
		}},
		{Name: "delivery-retention", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.notifier.PurgeDeliveries(ctx, a.now().Add(-notify.DeliveryRetention))
			return err
		}},
		{Name: "invitation-retention", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Organiser invitations answered, revoked or lapsed 90 days ago.
			_, err := a.domain.Organisations.PurgeInvitations(ctx, a.now().Add(-organisation.InvitationRetention))
			return err
		}},
		{Name: "photo-placeholders", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Story photos stored before placeholders were kept (00024).
			_, err := a.domain.Stories.BackfillPlaceholders(ctx)
			return err
		}},
		{Name: "device-retention", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Devices whose app has not registered for 270 days, and dead
			// tokens left in deliveries.
			_, err := a.notifier.PurgeDevices(ctx, a.now().Add(-notify.DeviceRetention))
			return err
		}},
		{Name: "without-app-retention", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Name and phone of residents without the app, 14 days after
			// their last sign-up ended.
			_, err := a.domain.Privacy.ForgetResidentsWithoutApp(ctx, a.now())
			return err
		}},
		{Name: "change-log", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// Tombstones older than sync tokens live (changelog.Retention).
			_, err := a.domain.Offline.Purge(ctx)
			return err
		}},
		{Name: "privacy", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			// What privacy keeps only for a while (privacy.Service.Housekeep).
			return a.domain.Privacy.Housekeep(ctx, a.now())
		}},
	}
}

// Close releases what New opened.
func (a *App) Close() error {
	// Claims queued for their slot's writer are admitted before the
	// database goes: their callers may have gone, their claims stand.
	if a.domain.Volunteer != nil {
		a.domain.Volunteer.Close()
	}
	if a.broker != nil {
		a.broker.Close()
	}
	if a.blobs != nil {
		a.blobs.Close()
	}
	if a.stopJobEvents != nil {
		a.stopJobEvents()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	return a.db.Close()
}
