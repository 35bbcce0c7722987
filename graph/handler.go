package graph

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/user"
)

// Options are the settings of the GraphQL endpoint.
type Options struct {
	// Development enables introspection and field suggestions.
	Development bool
	// ComplexityLimit bounds the cost of one operation.
	ComplexityLimit int
	// Authenticate puts the caller named by an HTTP request's
	// Authorization header in its context (auth.Authenticator.Middleware);
	// it runs after the per-IP rate limit, so refused tokens are limited
	// as every request is.
	Authenticate func(http.Handler) http.Handler
	// WebsocketInit authenticates a websocket from its connection_init
	// payload, returning the context for its operations.
	WebsocketInit transport.WebsocketInitFunc
	// Websocket holds the protocol limits; zero values take defaults.
	Websocket WebsocketLimits
	// MaxConnectionsPerPerson caps one person's open live connections,
	// websockets and streams of server-sent events (default 10; negative
	// is no cap).
	MaxConnectionsPerPerson int
	// MaxAnonymousConnectionsPerIP caps the live connections of visitors
	// who have not signed in, per address (an IPv6 address by its /64;
	// default 100; negative is no cap).
	MaxAnonymousConnectionsPerIP int
	// Limits bound depth, aliases, tokens, body sizes and time; zero
	// values take defaults.
	Limits Limits
	// RateLimits are off when zero.
	RateLimits RateLimits
	// CORSOrigins are the browser origins allowed to call; phones need none.
	CORSOrigins []string
	// TrustedDocuments, when not nil, are the only documents executed
	// (sha256 hex → document, from voresishoj-manifest), asked for by
	// hash; automatic persisted queries are then off.
	TrustedDocuments map[string]string
	// Redis, when set, holds the rate limits, the connection caps and the
	// persisted-query cache, so they are shared by every replica.
	Redis *redis.Client
	// RedisPrefix begins every key kept in Redis (default "voresishoj:").
	RedisPrefix string
	// Observe, when set, hears of every operation (observe.go).
	Observe func(context.Context, OperationReport)
}

// NewHandler returns the /graphql handler. Transports are explicit:
// websocket first (it must see the upgrade request), then GET, server-sent
// events for subscriptions, POST and multipart uploads. In front of them
// stand CORS, the rate limits, the body size limits and the request
// deadline (limits.go).
func NewHandler(r *Resolver, opts Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	bounds := opts.Limits.withDefaults()
	limits := opts.Websocket
	if limits.InitTimeout == 0 {
		limits.InitTimeout = 10 * time.Second
	}
	if limits.MaxOperations == 0 {
		limits.MaxOperations = 25
	}
	if len(limits.OriginPatterns) == 0 {
		// Browsers allowed to call over HTTP may subscribe too.
		for _, o := range opts.CORSOrigins {
			if u, err := url.Parse(o); err == nil && u.Host != "" {
				limits.OriginPatterns = append(limits.OriginPatterns, u.Host)
			}
		}
	}
	g := newGuard(r.Log, opts, bounds)
	readLimit := int64(64 << 10)
	srv.AddTransport(transport.Websocket{
		Implementation: newGuardedWebsocket(limits, r.Log, g),
		// graphql-transport-ws clients ping themselves; the legacy protocol
		// needs the server's keep-alive messages.
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      30 * time.Second,
		PayloadReadLimit:      &readLimit,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if opts.WebsocketInit != nil {
				var err error
				var ack *transport.InitPayload
				if ctx, ack, err = opts.WebsocketInit(ctx, p); err != nil {
					return ctx, ack, err
				}
			}
			live := liveConnFrom(ctx)
			if live == nil {
				return ctx, nil, nil
			}
			caller := user.CallerFrom(ctx)
			lang := i18n.Match(caller.Language, live.lang)
			live.signedIn(caller, lang)
			if !g.holdConnection(ctx, live, caller) {
				return transport.WithWebsocketCloseCode(ctx, closeTooManyInitRequest), nil, errors.New(i18n.Text(lang, codeTooManyConnections, nil))
			}
			return ctx, nil, nil
		},
		CloseFunc: func(ctx context.Context, _ int) {
			if live := liveConnFrom(ctx); live != nil {
				live.release()
			}
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	// Server-sent events for subscriptions from clients that cannot hold a
	// websocket; it must come before POST, which would otherwise take the
	// request, and hands POST whatever is not a subscription (sse.go).
	srv.AddTransport(eventStream{guard: g})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: bounds.MaxUploadBytes, MaxMemory: 8 << 20})
	queries := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(queries)
	srv.SetErrorPresenter(r.presentError)
	srv.SetRecoverFunc(r.recoverPanic)
	srv.SetParserTokenLimit(bounds.MaxTokens)
	if opts.Development {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
	}
	if opts.TrustedDocuments != nil {
		srv.Use(trustedDocuments{docs: opts.TrustedDocuments})
	} else {
		var apq graphql.Cache[string] = lru.New[string](1000)
		if opts.Redis != nil {
			apq = RedisCache{Client: opts.Redis, Prefix: opts.redisPrefix() + "apq:", TTL: 24 * time.Hour, Log: r.Log,
				Local: lru.New[string](1000)}
		}
		srv.Use(extension.AutomaticPersistedQuery{Cache: boundedCache{inner: apq, maxBytes: 64 << 10}})
	}
	// Runs after the persisted-query extensions have put the text in place.
	srv.Use(documentBudget{maxFields: bounds.MaxFields, maxTokens: bounds.MaxTokens, cache: queries})
	// Depth, aliases and complexity (with page sizes counted); a zero
	// ComplexityLimit leaves complexity unbounded.
	srv.Use(operationLimits{limits: bounds, complexity: opts.ComplexityLimit})
	srv.Use(observeOperations{report: opts.Observe})
	srv.Use(textInput{})
	srv.Use(operationDeadline{timeout: bounds.Timeout})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// One "now" for the whole operation, so every field agrees on
		// what is upcoming.
		if _, ok := ctx.Value(nowKey{}).(time.Time); !ok {
			ctx = context.WithValue(ctx, nowKey{}, r.Now())
		}
		return next(ctx)
	})
	srv.AroundResponses(r.withLoaders)
	return g.wrap(opts.Authenticate, srv)
}

// withLanguage answers in the language the signed-in person chose, else in
// the first supported language of Accept-Language, else Danish. A person
// who never chose has no Caller.Language, so their device decides.
func withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		accept := req.Header.Get("Accept-Language")
		ctx := i18n.WithDeviceLanguage(req.Context(), i18n.Match(accept))
		lang := i18n.Match(user.CallerFrom(ctx).Language, accept)
		next.ServeHTTP(w, req.WithContext(i18n.WithLanguage(ctx, lang)))
	})
}

func (o Options) redisPrefix() string { return cmp.Or(o.RedisPrefix, "voresishoj:") }
