// Package metrics holds the server's Prometheus metrics and the /metrics
// handler. It is the only package that imports client_golang: the domain
// reports what happened through its usual channels (the event bus, notify's
// delivery hook, the GraphQL operation report), and internal/app hands
// that to the methods here. Names are listed in README.md.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

const namespace = "voresishoj"

// maxOperationNames bounds the operation label: names come from clients,
// and a client making up a name per request must not grow the metrics
// without end. Past it, new names count as "other".
const maxOperationNames = 300

// Metrics is one server's registry and instruments.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	operations   *prometheus.CounterVec
	opDuration   *prometheus.HistogramVec
	gqlErrors    *prometheus.CounterVec
	userErrors   *prometheus.CounterVec
	claims       *prometheus.CounterVec
	promotions   prometheus.Counter
	live         *prometheus.GaugeVec
	jobFailures  *prometheus.CounterVec
	deliveries   *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]bool
}

// New returns the metrics with Go's runtime and process collectors and the
// Redis fallback counts registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), names: map[string]bool{}}
	latency := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "http_request_duration_seconds", Help: "Time to answer an HTTP request, by route (not websockets and event streams).",
		Buckets: latency}, []string{"route"})
	m.operations = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "graphql_operations_total", Help: "GraphQL operations by name, type and outcome (ok, error, refused)."},
		[]string{"operation", "type", "outcome"})
	m.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "graphql_operation_duration_seconds", Help: "Time from a query or mutation's start to its answer, by name and type.",
		Buckets: latency}, []string{"operation", "type"})
	m.gqlErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "graphql_errors_total", Help: "GraphQL errors by extensions.code."}, []string{"code"})
	m.userErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "graphql_user_errors_total", Help: "userErrors in mutation payloads by code."}, []string{"code"})
	m.claims = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "volunteer_claims_total", Help: "Volunteer claims by what became of them: confirmed, waitlisted, cancelled."},
		[]string{"status"})
	m.promotions = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace,
		Name: "volunteer_waitlist_promotions_total", Help: "Waitlisted claims promoted to confirmed."})
	m.live = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace,
		Name: "live_connections", Help: "Open live-update connections by transport (websocket, sse)."}, []string{"transport"})
	m.jobFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "job_failures_total", Help: "Background jobs that failed an attempt, by kind; final=true when given up."},
		[]string{"kind", "final"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "push_deliveries_total", Help: "Push deliveries by recorded status: sent, failed, unregistered, retry, resent (their attempt died; sent again with the same collapse identity)."},
		[]string{"status"})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.gqlErrors, m.userErrors,
		m.claims, m.promotions, m.live, m.jobFailures, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		fallbackCollector{desc: prometheus.NewDesc(namespace+"_redis_fallbacks_total",
			"Calls that did without Redis, by component: pubsub (this replica only), ratelimit (counted in memory), apq (memory).",
			[]string{"component"}, nil)})
	for _, s := range []string{"websocket", "sse"} {
		m.live.WithLabelValues(s)
	}
	for _, s := range []string{"confirmed", "waitlisted", "cancelled"} {
		m.claims.WithLabelValues(s)
	}
	for _, s := range []string{"sent", "failed", "unregistered", "retry", "resent"} {
		m.deliveries.WithLabelValues(s)
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// DB exports the connection pool's statistics as go_sql_* with db_name.
func (m *Metrics) DB(db *sql.DB, name string) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Redis exports whether calls go to Redis (the breaker is not open).
func (m *Metrics) Redis(c *redisconn.Client) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace,
		Name: "redis_available", Help: "1 while calls go to Redis, 0 while its circuit breaker is open."},
		func() float64 {
			if c.Available() {
				return 1
			}
			return 0
		}))
}

// QueueCount is the number of jobs of one kind in one state.
type QueueCount struct {
	Kind, State string
	N           int
}

// Queue exports the job queue's depth, read by count at each scrape; the
// kinds named are reported (as 0) when none of them wait, and their
// failure counters start at 0.
func (m *Metrics) Queue(kinds []string, count func(context.Context) ([]QueueCount, error)) {
	m.reg.MustRegister(queueCollector{kinds: kinds, count: count, desc: prometheus.NewDesc(namespace+"_jobs",
		"Background jobs waiting or running, by kind and state (available, scheduled, retryable, running).",
		[]string{"kind", "state"}, nil)})
	for _, k := range kinds {
		m.jobFailures.WithLabelValues(k, "false")
		m.jobFailures.WithLabelValues(k, "true")
	}
}

// HTTPRequest counts one answered request; streams are not timed.
func (m *Metrics) HTTPRequest(route string, code int, d time.Duration, stream bool) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	if !stream {
		m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
	}
}

// Operation counts one GraphQL operation. typ "" is a document refused
// before it ran; subscriptions are counted but not timed.
func (m *Metrics) Operation(name, typ string, codes, userCodes []string, d time.Duration) {
	name = m.operationLabel(name)
	outcome := "ok"
	switch {
	case typ == "":
		outcome, typ = "refused", "unknown"
	case len(codes) > 0:
		outcome = "error"
	}
	m.operations.WithLabelValues(name, typ, outcome).Inc()
	if typ == "query" || typ == "mutation" {
		m.opDuration.WithLabelValues(name, typ).Observe(d.Seconds())
	}
	for _, c := range codes {
		m.gqlErrors.WithLabelValues(codeLabel(c)).Inc()
	}
	for _, c := range userCodes {
		m.userErrors.WithLabelValues(codeLabel(c)).Inc()
	}
}

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !graphqlName.MatchString(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		if len(m.names) >= maxOperationNames {
			return "other"
		}
		m.names[name] = true
	}
	return name
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// codeLabel keeps the code label to the server's own vocabulary.
func codeLabel(c string) string {
	if c == "" {
		return "NONE"
	}
	if !codePattern.MatchString(c) {
		return "OTHER"
	}
	return c
}

// Claim counts a claim becoming status (confirmed, waitlisted, cancelled).
func (m *Metrics) Claim(status string) { m.claims.WithLabelValues(status).Inc() }

// WaitlistPromotion counts a waitlisted claim promoted.
func (m *Metrics) WaitlistPromotion() { m.promotions.Inc() }

// LiveOpened counts an open websocket or event stream until the returned
// function is called.
func (m *Metrics) LiveOpened(transport string) (closed func()) {
	g := m.live.WithLabelValues(transport)
	g.Inc()
	return g.Dec
}

// JobFailed counts a failed job attempt.
func (m *Metrics) JobFailed(kind string, final bool) {
	m.jobFailures.WithLabelValues(kind, strconv.FormatBool(final)).Inc()
}

// Delivery counts n push deliveries recorded with status.
func (m *Metrics) Delivery(status string, n int) {
	m.deliveries.WithLabelValues(status).Add(float64(n))
}

type fallbackCollector struct{ desc *prometheus.Desc }

func (c fallbackCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c fallbackCollector) Collect(ch chan<- prometheus.Metric) {
	counts := redisconn.Fallbacks()
	for _, comp := range []string{redisconn.PubSub, redisconn.RateLimit, redisconn.APQ} {
		if _, ok := counts[comp]; !ok {
			counts[comp] = 0
		}
	}
	for comp, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), comp)
	}
}

type queueCollector struct {
	desc  *prometheus.Desc
	kinds []string
	count func(context.Context) ([]QueueCount, error)
}

var queueStates = []string{"available", "scheduled", "retryable", "running"}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	n := map[[2]string]int{}
	for _, k := range c.kinds {
		for _, s := range queueStates {
			n[[2]string{k, s}] = 0
		}
	}
	for _, q := range counts {
		n[[2]string{q.Kind, q.State}] += q.N
	}
	for ks, v := range n {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v), ks[0], ks[1])
	}
}
