// Package tracing sets up OpenTelemetry traces: off unless an OTLP endpoint
// is configured (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT), then
// exported over OTLP/HTTP in batches. The exporter and the SDK read the
// standard OTEL_* variables themselves (headers, sampler, service name).
//
// Spans are made where the work is: HTTP requests (Handler), GraphQL
// operations (graph's observe extension) and SQL statements inside them
// (store, through otelsql). They use OpenTelemetry's global provider, which
// does nothing until Setup installs one.
package tracing

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Setup installs the global tracer provider exporting to the configured
// endpoint and returns the function that flushes and stops it. With no
// endpoint it does nothing and returns a no-op.
func Setup(ctx context.Context, endpoint, version string) (shutdown func(context.Context) error, err error) {
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	// What the operator sets in OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES wins over the defaults, being read last.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithAttributes(semconv.ServiceName("voresishoj"), semconv.ServiceVersion(version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// Handler wraps h in a span per request, named by route, continuing a
// trace the caller started (traceparent).
func Handler(h http.Handler, route func(*http.Request) string) http.Handler {
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + route(r)
		}),
		// Health checks every few seconds would drown the traces.
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
		}))
}
