package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// OperationReport is what Options.Observe hears of each GraphQL operation:
// a query or mutation when its answer is ready, a subscription when it
// ends, and a document refused before it ran (it did not parse, failed
// validation or a limit, or named an unknown persisted query).
type OperationReport struct {
	// Name is the operation's name, "" for an anonymous one.
	Name string
	// Type is query, mutation or subscription; "" when the document was
	// refused before its operation was known.
	Type string
	// Codes are the extensions.code of the answer's errors ("" for an
	// error without one), over a subscription's whole life.
	Codes []string
	// UserErrors are the codes of the userErrors the operation's payloads
	// carried (the person's mistakes, answered in the data).
	UserErrors []string
	// Duration is from the start of the request's operation to its answer,
	// or a subscription's lifetime.
	Duration time.Duration
}

// observeOperations reports every operation (for metrics and the request
// log) and wraps each in a trace span. The span is OpenTelemetry's global
// tracer, which does nothing unless the server configured an exporter.
type observeOperations struct {
	report func(context.Context, OperationReport)
}

const observeName = "ObserveOperations"

var tracer = otel.Tracer("github.com/ishoj/voresishoj/graph")

func (observeOperations) ExtensionName() string                   { return observeName }
func (observeOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (o observeOperations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	oc.Stats.SetExtension(observeName, true) // InterceptResponse: this operation is reported here
	name, typ := operationName(oc)
	start := oc.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	spanName := "graphql." + typ
	if name != "" {
		spanName += " " + name
	}
	users := &userCodes{}
	ctx = context.WithValue(ctx, userCodesKey{}, users)
	ctx, span := tracer.Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.name", name),
		attribute.String("graphql.operation.type", typ)))
	h := next(ctx)
	if typ == string(ast.Subscription) {
		// A span as long as a subscription would be useless; it covers
		// the setup, and each event's work is its own.
		span.End()
	}
	var errCodes []string
	done := false
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if done {
			return resp
		}
		if resp != nil {
			errCodes = append(errCodes, responseCodes(resp)...)
		}
		if typ == string(ast.Subscription) && resp != nil {
			return resp
		}
		done = true
		if typ != string(ast.Subscription) {
			if len(errCodes) > 0 {
				span.SetStatus(codes.Error, "graphql errors")
				span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
			}
			span.End()
		}
		if o.report != nil {
			o.report(ctx, OperationReport{Name: name, Type: typ, Codes: errCodes, UserErrors: users.list(),
				Duration: time.Since(start)})
		}
		return resp
	}
}

// InterceptResponse reports what never became an operation: a document
// refused before it ran answers through here only.
func (o observeOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if o.report == nil || resp == nil || len(resp.Errors) == 0 {
		return resp
	}
	var name string
	start := time.Now()
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if oc.Stats.GetExtension(observeName) != nil {
			return resp
		}
		name = oc.OperationName
		if !oc.Stats.OperationStart.IsZero() {
			start = oc.Stats.OperationStart
		}
	}
	o.report(ctx, OperationReport{Name: name, Codes: responseCodes(resp), Duration: time.Since(start)})
	return resp
}

func operationName(oc *graphql.OperationContext) (name, typ string) {
	name = oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	return name, typ
}

func responseCodes(resp *graphql.Response) []string {
	if len(resp.Errors) == 0 {
		return nil
	}
	out := make([]string, 0, len(resp.Errors))
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		out = append(out, code)
	}
	return out
}

type userCodesKey struct{}

// userCodes collects the userErrors codes of one operation; resolvers of
// one operation may run concurrently.
type userCodes struct {
	mu    sync.Mutex
	codes []string
}

func (u *userCodes) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.codes
}

// noteUserError records code for the operation's report.
func noteUserError(ctx context.Context, code string) {
	if u, ok := ctx.Value(userCodesKey{}).(*userCodes); ok {
		u.mu.Lock()
		if len(u.codes) < 20 {
			u.codes = append(u.codes, code)
		}
		u.mu.Unlock()
	}
}
