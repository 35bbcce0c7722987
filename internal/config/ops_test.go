package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOpsDefaults(t *testing.T) {
	c, err := parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MediaURL != filepath.Join("data", "media") || c.MetricsAddr != DefaultMetricsAddr ||
		c.RedisTimeout != 250*time.Millisecond || c.DrainDelay != 0 || c.TracesEndpoint != "" {
		t.Errorf("ops defaults = %+v", c.Ops)
	}
	prod, err := parse(env(map[string]string{"APP_ENV": "production", "FIREBASE_PROJECT_ID": "p", "DATABASE_URL": "postgres://db/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if prod.DrainDelay != 5*time.Second {
		t.Errorf("production drain delay = %s, want 5s", prod.DrainDelay)
	}
}

func TestOpsSettings(t *testing.T) {
	c, err := parse(env(map[string]string{
		"MEDIA_URL":                   "s3://photos/prod?endpoint=minio:9000&region=eu&insecure=true",
		"METRICS_ADDR":                "off",
		"REDIS_TIMEOUT":               "100ms",
		"DRAIN_DELAY":                 "3s",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
		"LOG_CALLER_KEY":              "0123456789abcdef0123",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.RedisTimeout != 100*time.Millisecond || c.DrainDelay != 3*time.Second ||
		c.TracesEndpoint != "http://collector:4318" || !strings.HasPrefix(c.MediaURL, "s3://photos") {
		t.Errorf("ops = %+v", c.Ops)
	}
	for name, bad := range map[string]map[string]string{
		"media scheme":      {"MEDIA_URL": "ftp://x/y"},
		"s3 without bucket": {"MEDIA_URL": "s3:///x"},
		"s3 credentials":    {"MEDIA_URL": "s3://key:secret@bucket"},
		"file with host":    {"MEDIA_URL": "file://server/share"},
		"metrics address":   {"METRICS_ADDR": "9090"},
		"redis timeout":     {"REDIS_TIMEOUT": "1h"},
		"drain too long":    {"DRAIN_DELAY": "20s", "SHUTDOWN_TIMEOUT": "15s"},
		"otlp over grpc":    {"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"short caller key":  {"LOG_CALLER_KEY": "short"},
	} {
		_, err := parse(env(bad))
		if err == nil {
			t.Errorf("%s: accepted %v", name, bad)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

// A misspelt setting, or one from another prefix of ours, is warned of;
// variables of other programs, of libraries we use and of Kubernetes'
// service links are not.
func TestUnknownSettings(t *testing.T) {
	environ = func() []string {
		return []string{
			"REDIS_URI=redis://x", "REDIS_URL=redis://y", "DATABSE_URL=postgres://x", "MEDIA_URK=s3://b",
			"VORESISHOJ_URL=http://x", "LOG_FORMAT=text",
			"HOME=/root", "PATH=/bin", "GOGC=100", "TEST_DATABASE_URL=x", "CI=true",
			"FIREBASE_CONFIG={}", "FIRESTORE_EMULATOR_HOST=x", "FIREBASE_STORAGE_EMULATOR_HOST=x",
			"OTEL_SERVICE_NAME=x", "REDIS_SERVICE_HOST=10.0.0.1", "REDIS_PORT=tcp://10.0.0.1:6379",
			"REDIS_PORT_6379_TCP_ADDR=10.0.0.1", "DATABASE_URL_FILE=/run/secrets/db",
		}
	}
	defer func() { environ = os.Environ }()
	c, _ := FromEnv()
	var names []string
	for _, w := range c.Warnings {
		names = append(names, strings.Fields(w)[0])
	}
	want := []string{"DATABSE_URL", "LOG_FORMAT", "MEDIA_URK", "REDIS_URI"}
	if !slices.Equal(names, want) {
		t.Errorf("warned of %v, want %v\n%s", names, want, strings.Join(c.Warnings, "\n"))
	}
	if !slices.ContainsFunc(c.Warnings, func(w string) bool {
		return strings.Contains(w, "REDIS_URI") && strings.Contains(w, "did you mean REDIS_URL?")
	}) {
		t.Errorf("no suggestion for REDIS_URI: %v", c.Warnings)
	}
}
