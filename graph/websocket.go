package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/i18n"
)

// Close codes of the graphql-transport-ws protocol
// (github.com/enisdenjo/graphql-ws, PROTOCOL.md).
const (
	closeUnauthorized       = 4401
	closeForbidden          = 4403
	closeInitTimeout        = 4408
	closeSubscriberExists   = 4409
	closeTooManyInitRequest = 4429
)

// WebsocketLimits are the protocol hygiene gqlgen's transport leaves to us.
type WebsocketLimits struct {
	// InitTimeout closes a connection (4408) that does not send
	// connection_init in time.
	InitTimeout time.Duration
	// MaxOperations caps concurrent subscriptions on one connection; a
	// subscribe beyond it gets an error for that id.
	MaxOperations int
	// OriginPatterns are the browser origins allowed besides the server's
	// own host; phones send no Origin and are always allowed.
	OriginPatterns []string
}

// guardedWebsocket wraps gqlgen's coder/websocket adapter to enforce the
// parts of the protocol the library does not: the init timeout with 4408,
// duplicate operation ids with 4409, a cap on operations, and the HTTP
// rate limits for every operation.
type guardedWebsocket struct {
	inner  transport.CoderWebsocketImplementation
	limits WebsocketLimits
	log    *slog.Logger
	guard  *guard
}

func newGuardedWebsocket(limits WebsocketLimits, log *slog.Logger, g *guard) guardedWebsocket {
	return guardedWebsocket{
		inner:  transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{OriginPatterns: limits.OriginPatterns}},
		limits: limits,
		log:    log,
		guard:  g,
	}
}

func (g guardedWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := g.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	gc := &guardedConn{WebsocketConn: conn, limits: g.limits, log: g.log, active: map[string]bool{}, echoes: map[string]int{}, initDone: make(chan struct{}),
		guard: g.guard, live: liveConnFrom(r.Context()), ctx: r.Context()}
	if g.limits.InitTimeout > 0 {
		go gc.awaitInit()
	}
	return gc, nil
}

type guardedConn struct {
	transport.WebsocketConn
	limits WebsocketLimits
	log    *slog.Logger
	// guard and live apply the rate limits to each operation; live is nil
	// when the handler is used without its guard.
	guard *guard
	live  *liveConn
	// ctx is the upgrade request's context; the server cancels it with
	// http.ErrServerClosed when it shuts down (see WriteClose).
	ctx context.Context

	mu     sync.Mutex
	active map[string]bool
	// echoes counts, per id, the client's completes that gqlgen has yet to
	// answer with its own complete; that answer must not free an id the
	// client has meanwhile used again.
	echoes   map[string]int
	initOnce sync.Once
	initDone chan struct{}
}

type wsMessage struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

func (c *guardedConn) awaitInit() {
	select {
	case <-c.initDone:
	case <-time.After(c.limits.InitTimeout):
		_ = c.WebsocketConn.WriteClose(closeInitTimeout, "Connection initialisation timeout")
		_ = c.WebsocketConn.Close()
	}
}

// NextReader reads one message, looks at its type and id, and hands it on
// to gqlgen unless it breaks the protocol's rules.
func (c *guardedConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return typ, r, err
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return typ, nil, err
		}
		var m wsMessage
		if json.Unmarshal(b, &m) == nil {
			switch m.Type {
			case "connection_init":
				c.initOnce.Do(func() { close(c.initDone) })
			case "subscribe", "start":
				if wait, ok := c.allow(); !ok {
					// An error for this operation, as for one refused for any
					// other reason: graphql-ws hands it to that operation's
					// sink and the connection lives on. Closing with 4429
					// would be fatal for the client (it does not reconnect)
					// and end every other subscription with it.
					secs := retryAfterSeconds(wait)
					_, lang := c.live.caller()
					_ = c.WebsocketConn.WriteJSON(map[string]any{"type": "error", "id": m.ID,
						"payload": []map[string]any{{"message": i18n.Text(lang, codeRateLimited, map[string]any{"Seconds": secs}),
							"extensions": map[string]any{"code": codeRateLimited, "retryAfter": secs}}}})
					continue
				}
				c.mu.Lock()
				dup, full := c.active[m.ID], c.limits.MaxOperations > 0 && len(c.active) >= c.limits.MaxOperations
				if !dup && !full {
					c.active[m.ID] = true
				}
				c.mu.Unlock()
				if dup {
					_ = c.WebsocketConn.WriteClose(closeSubscriberExists, "Subscriber for "+m.ID+" already exists")
					return typ, nil, transport.ErrWebsocketClosed
				}
				if full {
					c.log.Warn("websocket operation refused: too many on one connection", slog.Int("max", c.limits.MaxOperations))
					_ = c.WebsocketConn.WriteJSON(map[string]any{"type": "error", "id": m.ID,
						"payload": []map[string]any{{"message": "too many operations on this connection",
							"extensions": map[string]any{"code": apperr.CodeTooManyOperations}}}})
					continue
				}
			case "complete", "stop":
				c.mu.Lock()
				if c.active[m.ID] {
					delete(c.active, m.ID)
					c.echoes[m.ID]++
				}
				c.mu.Unlock()
			}
		}
		return typ, bytes.NewReader(b), nil
	}
}

// allow applies the rate limits to one operation.
func (c *guardedConn) allow() (time.Duration, bool) {
	if c.guard == nil || c.live == nil {
		return 0, true
	}
	return c.guard.allowOperation(c.ctx, c.live)
}

// WriteJSON notices the server ending an operation (complete, or error),
// which frees its id.
func (c *guardedConn) WriteJSON(v any) error {
	id, typ, ok := messageHead(v)
	if !ok {
		if b, err := json.Marshal(v); err == nil {
			var m wsMessage
			if json.Unmarshal(b, &m) == nil {
				id, typ = m.ID, m.Type
			}
		}
	}
	if id != "" && (typ == "complete" || typ == "error") {
		c.mu.Lock()
		if c.echoes[id] > 0 {
			c.echoes[id]--
		} else {
			delete(c.active, id)
		}
		c.mu.Unlock()
	}
	return c.WebsocketConn.WriteJSON(v)
}

// messageHead reads the id and type of a message gqlgen sends: both of its
// protocols send structs with string ID and Type fields. Reading them by
// reflection spares marshalling every message twice, which was a sixth of
// the CPU of a fan-out to 10,000 subscribers.
func messageHead(v any) (id, typ string, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return "", "", false
	}
	idF, typF := rv.FieldByName("ID"), rv.FieldByName("Type")
	if !idF.IsValid() || !typF.IsValid() || idF.Kind() != reflect.String || typF.Kind() != reflect.String {
		return "", "", false
	}
	return idF.String(), typF.String(), true
}

// WriteClose says 1001 (going away) where gqlgen would say 1000 because
// the server is shutting down, so the app reconnects, to another replica,
// at once rather than taking the close as the end.
func (c *guardedConn) WriteClose(code int, reason string) error {
	if code == int(websocket.StatusNormalClosure) && errors.Is(context.Cause(c.ctx), http.ErrServerClosed) {
		code, reason = int(websocket.StatusGoingAway), "server shutting down"
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit passes gqlgen's PayloadReadLimit through.
func (c *guardedConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes gqlgen's ping/pong deadline through.
func (c *guardedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// AuthenticateWebsocket returns the connection_init handler that signs a
// websocket in from its payload ({"authorization": "Bearer <token>"}); a
// refused token closes the connection with 4403 as graphql-transport-ws
// has it.
func AuthenticateWebsocket(a *auth.Authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		ctx, err := a.FromInitPayload(ctx, p)
		if err != nil {
			return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
		}
		return ctx, nil, nil
	}
}
