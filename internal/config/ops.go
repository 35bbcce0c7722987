package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
)

// Ops are the settings for running the server as a service, one replica
// of several: where photos live, metrics and traces, how long Redis may
// take, how shutdown drains, and the key of the log's pseudonyms.
type Ops struct {
	// MediaURL names the photo store: a directory (a path, or
	// file:///path; the default is DATA_DIR/media) or
	// s3://bucket[/prefix]?endpoint=&region= (any S3-compatible store).
	MediaURL string
	// MetricsAddr is where /metrics is served, apart from the API; empty
	// when METRICS_ADDR=off.
	MetricsAddr string
	// RedisTimeout bounds every Redis call (REDIS_TIMEOUT, default 250ms):
	// past it the call fails and the caller falls back.
	RedisTimeout time.Duration
	// DrainDelay is how long after SIGTERM /readyz answers 503 while the
	// server still serves, so load balancers stop sending first.
	DrainDelay time.Duration
	// TracesEndpoint is the OTLP endpoint from OTEL_EXPORTER_OTLP_ENDPOINT
	// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; traces are off without one.
	// The exporter reads the OTEL_* variables itself.
	TracesEndpoint string
	// PushLease is how long a push batch cut off mid-send (its process
	// died) waits before it is sent again (PUSH_LEASE, default 15s).
	PushLease time.Duration
	// LogCallerKey keys the pseudonyms that stand for people in the log
	// (LOG_CALLER_KEY); empty means a key kept in DATA_DIR.
	LogCallerKey string
	// Warnings name environment variables that look like settings of this
	// server but are none (misspelt, or from another version), for the log.
	Warnings []string
}

// DefaultMetricsAddr is on loopback, so metrics are not public unless the
// operator says so; not Prometheus' own 9090, which often runs beside.
const DefaultMetricsAddr = "127.0.0.1:9464"

func (o *Ops) read(str func(name, def string) string, dataDir string, production bool, shutdown time.Duration) []error {
	var errs []error
	duration := func(name, def string, min, max time.Duration) time.Duration {
		v := str(name, def)
		d, err := time.ParseDuration(v)
		if err != nil || d < min || d > max {
			errs = append(errs, fmt.Errorf("%s must be a duration from %s to %s such as %s, got %q", name, min, max, def, v))
			d, _ = time.ParseDuration(def)
		}
		return d
	}

	o.MediaURL = str("MEDIA_URL", filepath.Join(dataDir, "media"))
	if err := checkMediaURL(o.MediaURL); err != nil {
		errs = append(errs, err)
	}

	o.MetricsAddr = str("METRICS_ADDR", DefaultMetricsAddr)
	if strings.EqualFold(o.MetricsAddr, "off") {
		o.MetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
		errs = append(errs, fmt.Errorf("METRICS_ADDR must be host:port such as %s, or off, got %q", DefaultMetricsAddr, o.MetricsAddr))
	}

	o.RedisTimeout = duration("REDIS_TIMEOUT", "250ms", time.Millisecond, 10*time.Second)
	o.PushLease = duration("PUSH_LEASE", "15s", 3*time.Second, 5*time.Minute)

	// A developer's Ctrl-C should not wait; behind a load balancer the
	// balancer needs a few seconds to notice /readyz.
	drain := "0s"
	if production {
		drain = "5s"
	}
	o.DrainDelay = duration("DRAIN_DELAY", drain, 0, 5*time.Minute)
	if shutdown > 0 && o.DrainDelay >= shutdown {
		errs = append(errs, fmt.Errorf("DRAIN_DELAY (%s) must be shorter than SHUTDOWN_TIMEOUT (%s), which counts from SIGTERM and includes it", o.DrainDelay, shutdown))
	}

	// The exporter reads these itself; the server only needs to know
	// whether to set tracing up, and that it can speak the protocol.
	o.TracesEndpoint = str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", str("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
	if p := str("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", str("OTEL_EXPORTER_OTLP_PROTOCOL", "")); p != "" && p != "http/protobuf" {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: this server exports traces over http/protobuf only, got %q", p))
	}

	o.LogCallerKey = str("LOG_CALLER_KEY", "")
	if o.LogCallerKey != "" && len(o.LogCallerKey) < 16 {
		errs = append(errs, errors.New("LOG_CALLER_KEY must be at least 16 characters (a random string, the same on every replica)"))
	}
	return errs
}

func checkMediaURL(raw string) error {
	if !strings.Contains(raw, "://") {
		return nil // a directory
	}
	u, err := url.Parse(raw)
	bad := fmt.Errorf("MEDIA_URL must be file:///a/directory or s3://bucket?endpoint=host:port&region=..., got %q", redact(raw))
	if err != nil {
		return bad
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return fmt.Errorf("MEDIA_URL: a file URL names a local directory, file:///path; got host %q", u.Host)
		}
		if u.Path == "" {
			return bad
		}
	case "s3":
		if u.Host == "" {
			return bad
		}
		if u.User != nil {
			return errors.New("MEDIA_URL: put S3 credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL")
		}
	default:
		return bad
	}
	return nil
}

// fromLibraries are variables with our prefixes that libraries read
// themselves (the Firebase Admin SDK, firebase-tools' emulators).
var fromLibraries = regexp.MustCompile(`^(FIREBASE_CONFIG|FIREBASE_EMULATOR_HUB|FIREBASE_[A-Z]+_EMULATOR_HOST)$`)

// serviceLinks are the variables Kubernetes sets for every service in the
// namespace (REDIS_SERVICE_HOST, REDIS_PORT_6379_TCP, ...).
var serviceLinks = regexp.MustCompile(`_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_[A-Z]+)?)$`)

// unknownSettings warns of environment variables that start like a
// setting (REDIS_URI beside REDIS_URL) or are a small typo away from one
// (DATABSE_URL), and are not read: a misspelt setting would otherwise be
// ignored without a word.
func unknownSettings(environ []string, read map[string]bool) []string {
	known := map[string]bool{}
	prefixes := map[string]bool{}
	for name := range read {
		known[name] = true
		known[name+"_FILE"] = true
		if i := strings.IndexByte(name, '_'); i > 0 {
			prefixes[name[:i]] = true
		}
	}
	// OTEL_ belongs to OpenTelemetry, whose exporter reads many more.
	delete(prefixes, "OTEL")
	names := make([]string, 0, len(known))
	for name := range known {
		if !strings.HasSuffix(name, "_FILE") {
			names = append(names, name)
		}
	}
	sort.Strings(names)

	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name == "" || known[name] || fromLibraries.MatchString(name) || serviceLinks.MatchString(name) {
			continue
		}
		closest, dist := "", 1<<30
		for _, k := range names {
			if d := levenshtein.ComputeDistance(name, k); d < dist {
				closest, dist = k, d
			}
		}
		prefix, _, _ := strings.Cut(name, "_")
		typo := dist <= 2 && len(name) >= 6
		if !prefixes[prefix] && !typo {
			continue
		}
		msg := name + " is set but is not a setting of this server"
		if dist <= 3 {
			msg += "; did you mean " + closest + "?"
		}
		warnings = append(warnings, msg)
	}
	slices.Sort(warnings)
	return warnings
}

// environ is os.Environ, replaced in tests.
var environ = os.Environ
