package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
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
	// WebsocketInit authenticates a websocket from its connection_init
	// payload, returning the context for its operations.
	WebsocketInit transport.WebsocketInitFunc
}

// NewHandler returns the /graphql handler. Transports are explicit:
// websocket first (it must see the upgrade request), then GET and POST.
func NewHandler(r *Resolver, opts Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              opts.WebsocketInit,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(r.presentError)
	srv.SetRecoverFunc(r.recoverPanic)
	srv.SetParserTokenLimit(15000)
	if opts.Development {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if opts.ComplexityLimit > 0 {
		srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// One "now" for the whole operation, so every field agrees on
		// what is upcoming.
		if _, ok := ctx.Value(nowKey{}).(time.Time); !ok {
			ctx = context.WithValue(ctx, nowKey{}, r.Now())
		}
		return next(ctx)
	})
	return r.withLoaders(withLanguage(srv))
}

// withLanguage answers in the signed-in person's language, else in the
// first supported language of Accept-Language, else Danish.
func withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := i18n.Match(user.CallerFrom(req.Context()).Language, req.Header.Get("Accept-Language"))
		next.ServeHTTP(w, req.WithContext(i18n.WithLanguage(req.Context(), lang)))
	})
}
