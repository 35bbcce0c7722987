package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ishoj/voresishoj/internal/tracing"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a GraphQL query is one trace: the
// HTTP request, the operation inside it and its SQL statements inside
// that, continuing the caller's traceparent; all exported over OTLP/HTTP.
func TestTraces(t *testing.T) {
	var mu sync.Mutex
	var spans []span
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, span{name: s.Name, trace: string(s.TraceId), id: string(s.SpanId), parent: string(s.ParentSpanId)})
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ = proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	defer collector.Close()

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	stop, err := tracing.Setup(context.Background(), collector.URL, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer otel.SetTracerProvider(noop.NewTracerProvider())
	defer otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())

	s := start(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql",
		strings.NewReader(`{"query":"query Upcoming { activities(first: 2) { edges { node { id title } } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	byName := func(name string) *span {
		i := slices.IndexFunc(spans, func(s span) bool { return s.name == name })
		if i < 0 {
			return nil
		}
		return &spans[i]
	}
	httpSpan, op := byName("POST graphql"), byName("graphql.query Upcoming")
	if httpSpan == nil || op == nil {
		t.Fatalf("spans %v, want POST graphql and graphql.query Upcoming", names(spans))
	}
	if hexID(httpSpan.trace) != callerTrace {
		t.Errorf("the request's span is not in the caller's trace")
	}
	if op.parent != httpSpan.id || op.trace != httpSpan.trace {
		t.Errorf("the operation's span is not the request's child")
	}
	sql := 0
	for _, s := range spans {
		if strings.HasPrefix(s.name, "sql.") && s.trace == op.trace {
			sql++
		}
	}
	if sql == 0 {
		t.Errorf("no SQL spans in the query's trace: %v", names(spans))
	}
	t.Logf("%d spans, %d of them SQL", len(spans), sql)
}

type span struct{ name, trace, id, parent string }

func names(spans []span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.name)
	}
	return out
}

func hexID(b string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, digits[b[i]>>4], digits[b[i]&15])
	}
	return string(out)
}
