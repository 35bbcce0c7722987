package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/user"
)

// eventStream answers subscriptions with server-sent events and nothing
// else. Clients such as urql list text/event-stream in Accept for every
// operation, and gqlgen's SSE transport would then answer a query as an
// event stream, which React Native's fetch cannot read (gqlgen issue
// #3275). So the operation is looked at first: a subscription takes its
// live connection slot and goes to the SSE transport; a query or mutation
// (or a request that does not get as far as an operation) goes to POST,
// which answers JSON (operationDeadline bounds it).
type eventStream struct {
	sse   transport.SSE
	post  transport.POST
	guard *guard
}

var _ graphql.Transport = eventStream{}

func (t eventStream) Supports(r *http.Request) bool { return t.sse.Supports(r) }

func (t eventStream) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// The guard has bounded the body already.
	body, err := io.ReadAll(r.Body)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		// POST reads the same failure and answers it (413 when too large).
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	ctx := r.Context()
	if err != nil || !subscription(ctx, body, r.Header, exec) {
		t.post.Do(w, r, exec)
		return
	}
	if live := liveConnFrom(ctx); live != nil && t.guard != nil {
		if !t.guard.holdConnection(ctx, live, user.CallerFrom(ctx)) {
			w.Header().Set("Retry-After", strconv.Itoa(connectionRetryAfter))
			writeHTTPError(w, http.StatusTooManyRequests, codeTooManyConnections, i18n.Text(live.lang, codeTooManyConnections, nil))
			return
		}
		// The guard gives the slot back when the request ends.
	}
	if started, ok := ctx.Value(eventStreamHookKey{}).(func()); ok {
		started()
	}
	t.sse.Do(noStoreWriter{ResponseWriter: w}, r, exec)
}

type eventStreamHookKey struct{}

// WithEventStreamHook returns ctx with started, which is called (in the
// request's goroutine) once the request turns out to be a subscription
// answered as server-sent events, before the stream begins. The server
// tracks live connections by it: Accept alone cannot tell, since urql
// accepts an event stream for every query.
func WithEventStreamHook(ctx context.Context, started func()) context.Context {
	return context.WithValue(ctx, eventStreamHookKey{}, started)
}

// subscription reports whether the request body asks for a subscription.
// It prepares the operation as the transports will (persisted documents
// resolved, document validated), so a document sent by hash counts too;
// gqlgen's query cache makes the transport's second preparation cheap.
func subscription(ctx context.Context, body []byte, header http.Header, exec graphql.GraphExecutor) bool {
	params := &graphql.RawParams{Headers: header}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		return false
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	return errs == nil && oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Subscription
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
