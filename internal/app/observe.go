package app

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ishoj/voresishoj/graph"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/logging"
	"github.com/ishoj/voresishoj/internal/metrics"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/pages"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/requestid"
	"github.com/ishoj/voresishoj/internal/tracing"
	"github.com/ishoj/voresishoj/internal/user"
)

// observe wraps the routes in what every request passes through, outside
// in: its id, its trace span (when tracing is on), its log line and
// metrics, and for websockets and event streams the bookkeeping that ends
// them at shutdown.
func (a *App) observe(mux http.Handler) http.Handler {
	h := a.logRequests(a.live.track(mux, a.metrics))
	if a.cfg.TracesEndpoint != "" {
		h = tracing.Handler(h, route)
	}
	return requestid.Middleware(h)
}

// registerMetrics connects the domain's reports to the metrics: the event
// bus for claims, River for failed jobs, the database pool, Redis and the
// queue's depth. Pushes are counted through notify's Recorded hook and
// operations through graph's Observe hook (both set in New).
func (a *App) registerMetrics() {
	m := a.metrics
	m.DB(a.db.DB.DB, string(a.db.Dialect))
	if a.redis != nil {
		m.Redis(a.redis)
	}
	m.Queue([]string{notify.DeliverArgs{}.Kind(), notify.ReminderArgs{}.Kind()}, func(ctx context.Context) ([]metrics.QueueCount, error) {
		counts, err := a.notifier.QueueDepth(ctx)
		out := make([]metrics.QueueCount, len(counts))
		for i, c := range counts {
			out[i] = metrics.QueueCount{Kind: c.Kind, State: c.State, N: c.N}
		}
		return out, err
	})
	a.stopJobEvents = a.notifier.OnJobFailed(m.JobFailed)
	a.bus.Subscribe(func(_ context.Context, e event.Event) {
		switch e.Kind {
		case event.ClaimConfirmed:
			m.Claim("confirmed")
		case event.ClaimWaitlisted:
			m.Claim("waitlisted")
		case event.ClaimCancelled:
			m.Claim("cancelled")
		case event.ClaimPromoted:
			m.WaitlistPromotion()
		}
	})
}

// observeOperation hears every GraphQL operation: it is counted, and
// noted for the request's log line.
func (a *App) observeOperation(ctx context.Context, op graph.OperationReport) {
	a.metrics.Operation(op.Name, op.Type, op.Codes, op.UserErrors, op.Duration)
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.add(op, user.CallerFrom(ctx).UserID)
	}
}

type requestInfoKey struct{}

// requestInfo gathers, while a request runs, what its log line says about
// it beyond HTTP: the operations it ran, their error codes, and who asked.
// A websocket is one request for all its operations; the lists are capped.
type requestInfo struct {
	mu         sync.Mutex
	operations []string
	codes      []string
	userErrors []string
	caller     int64
}

const maxNoted = 20

func (i *requestInfo) add(op graph.OperationReport, caller int64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	name := op.Name
	if name == "" {
		name = "(" + cmp.Or(op.Type, "refused") + ")"
	}
	if len(i.operations) < maxNoted {
		i.operations = append(i.operations, name)
	}
	for _, c := range op.Codes {
		if len(i.codes) < maxNoted {
			i.codes = append(i.codes, cmp.Or(c, "NONE"))
		}
	}
	for _, c := range op.UserErrors {
		if len(i.userErrors) < maxNoted {
			i.userErrors = append(i.userErrors, c)
		}
	}
	if caller != 0 {
		i.caller = caller
	}
}

// logRequests writes one line per request (at its end, for a websocket
// or event stream) and counts it: route, status, time, the GraphQL
// operations with their error codes, and the caller as a pseudonym.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		d := time.Since(start)
		rt := route(r)
		kind := streamKind(r)
		if kind == "sse" && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			// It accepted an event stream (urql's queries do) and was
			// answered as an ordinary request.
			kind = ""
		}
		stream := kind != ""
		a.metrics.HTTPRequest(rt, rec.status, d, stream)

		info.mu.Lock()
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)), slog.String("route", rt),
			slog.Int("status", rec.status), slog.Duration("duration", d),
		}
		if stream {
			attrs = append(attrs, slog.String("stream", kind))
		}
		if len(info.operations) > 0 {
			attrs = append(attrs, slog.Any("operations", info.operations))
		}
		if len(info.codes) > 0 {
			attrs = append(attrs, slog.Any("codes", info.codes))
		}
		if len(info.userErrors) > 0 {
			attrs = append(attrs, slog.Any("user_errors", info.userErrors))
		}
		if info.caller != 0 {
			attrs = append(attrs, slog.Int64(logging.CallerIDKey, info.caller))
		}
		info.mu.Unlock()
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// route names the part of the server a request went to, for metrics and
// span names: a bounded set, unlike paths.
func route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/graphql":
		return "graphql"
	case strings.HasPrefix(p, "/media/"):
		return "media"
	case strings.HasPrefix(p, "/ical/"):
		return "ical"
	case strings.HasPrefix(p, "/feeds/"):
		return "feeds"
	case strings.HasPrefix(p, privacy.DownloadPrefix):
		return "export"
	case p == "/healthz", p == "/readyz":
		return p[1:]
	case p == "/":
		return "playground"
	case pages.Route(p):
		return "pages"
	}
	return "other"
}

// logPath keeps secrets out of the log: a personal calendar's URL and an
// export download's are their tokens.
func logPath(p string) string {
	if strings.HasPrefix(p, "/ical/me/") {
		return "/ical/me/{token}"
	}
	if strings.HasPrefix(p, privacy.DownloadPrefix) {
		return privacy.DownloadPrefix + "{token}.zip"
	}
	if len(p) > 200 {
		return p[:200] + "…"
	}
	return p
}

// streamKind says whether r may open a websocket or an event stream.
func streamKind(r *http.Request) string {
	switch {
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		return "websocket"
	case strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
		return "sse"
	}
	return ""
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
