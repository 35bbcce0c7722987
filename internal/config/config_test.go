package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8080" || c.DatabaseURL != filepath.Join("data", "voresishoj.db") ||
		c.Env != "development" || !c.DemoData || !c.LocalAuth() || c.Postgres() ||
		c.LogLevel != slog.LevelInfo || c.ShutdownTimeout != 15*time.Second || c.DailyHoursLimit != 8 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestPostgresTurnsDemoOff(t *testing.T) {
	c, err := parse(env(map[string]string{"DATABASE_URL": "postgres://u:secret@db/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Postgres() || c.DemoData {
		t.Errorf("postgres config = %+v", c)
	}
	if strings.Contains(c.RedactedDatabaseURL(), "secret") {
		t.Errorf("password not redacted: %s", c.RedactedDatabaseURL())
	}
}

func TestErrorsAreClearAndAllReported(t *testing.T) {
	_, err := parse(env(map[string]string{
		"LISTEN_ADDR":           "8080",
		"APP_ENV":               "staging",
		"DEMO_DATA":             "maybe",
		"REDIS_URL":             "http://x",
		"LOG_LEVEL":             "loud",
		"SHUTDOWN_TIMEOUT":      "soon",
		"DAILY_HOURS_LIMIT":     "99",
		"DATABASE_URL":          "mysql://x",
		"PUBLIC_URL":            "ftp://x",
		"WEBSOCKETS_PER_PERSON": "0",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"LISTEN_ADDR", "APP_ENV", "DEMO_DATA", "REDIS_URL", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "DAILY_HOURS_LIMIT", "DATABASE_URL", "PUBLIC_URL", "WEBSOCKETS_PER_PERSON"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestProductionRefusesLocalAuthAndDemo(t *testing.T) {
	_, err := parse(env(map[string]string{"APP_ENV": "production"}))
	if err == nil || !strings.Contains(err.Error(), "FIREBASE_PROJECT_ID") {
		t.Errorf("production without Firebase: %v", err)
	}
	_, err = parse(env(map[string]string{"APP_ENV": "production", "FIREBASE_PROJECT_ID": "p", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}))
	if err == nil || !strings.Contains(err.Error(), "FIREBASE_AUTH_EMULATOR_HOST") {
		t.Errorf("production with the emulator: %v", err)
	}
	_, err = parse(env(map[string]string{"APP_ENV": "production", "FIREBASE_PROJECT_ID": "p", "DEMO_DATA": "true"}))
	if err == nil || !strings.Contains(err.Error(), "DEMO_DATA") {
		t.Errorf("production with demo data: %v", err)
	}
}

// DEV_NOW moves the domain clock in development and is refused in
// production, where the date must be the real one.
func TestDevNow(t *testing.T) {
	c, err := parse(env(map[string]string{"DEV_NOW": "2027-03-28T02:30:00+01:00"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC); !c.DevNow.Equal(want) || c.DevNow.Location() != time.UTC {
		t.Errorf("DevNow = %s, want %s in UTC", c.DevNow, want)
	}
	if c, err := parse(env(nil)); err != nil || !c.DevNow.IsZero() {
		t.Errorf("DevNow without DEV_NOW = %s, %v; want zero", c.DevNow, err)
	}
	_, err = parse(env(map[string]string{"DEV_NOW": "next tuesday"}))
	if err == nil || !strings.Contains(err.Error(), "DEV_NOW must be an RFC 3339 time") {
		t.Errorf("unparseable DEV_NOW: %v", err)
	}
	_, err = parse(env(map[string]string{"APP_ENV": "production", "FIREBASE_PROJECT_ID": "p", "DEV_NOW": "2027-03-28T01:30:00Z"}))
	if err == nil || !strings.Contains(err.Error(), "DEV_NOW") {
		t.Errorf("production with DEV_NOW: %v", err)
	}
}

func TestFileVariant(t *testing.T) {
	f := filepath.Join(t.TempDir(), "dburl")
	if err := os.WriteFile(f, []byte("postgres://from-file/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(env(map[string]string{"DATABASE_URL_FILE": f}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://from-file/db" {
		t.Errorf("DatabaseURL = %q", c.DatabaseURL)
	}
}

func TestLimitDefaults(t *testing.T) {
	c, err := parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxDepth != 15 || c.MaxAliases != 30 || c.MaxFields != 1000 || c.AnonymousConnectionsPerIP != 100 || c.ComplexityLimit != 1000 || c.ParserTokenLimit != 15000 ||
		c.MaxBodyBytes != 1<<20 || c.MaxUploadFileBytes != 15<<20 || c.MaxUploadBytes != 60<<20 ||
		c.RequestTimeout != 15*time.Second || c.RateLimitPerson != 300 || c.RateLimitIP != 1200 ||
		len(c.CORSOrigins) != 0 || c.TrustedDocuments || c.EnforceTrustedDocuments() {
		t.Errorf("limit defaults = %+v", c)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	c, err := parse(env(map[string]string{
		"MAX_DEPTH":                    "10",
		"MAX_ALIASES":                  "5",
		"MAX_FIELDS":                   "200",
		"ANONYMOUS_CONNECTIONS_PER_IP": "0",
		"RATE_LIMIT_PERSON":            "0",
		"REQUEST_TIMEOUT":              "2s",
		"CLIENT_IP_HEADER":             "X-Real-IP",
		"CORS_ORIGINS":                 " https://voresishoj.dk, http://localhost:5173/ ,",
		"TRUSTED_DOCUMENTS":            "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxDepth != 10 || c.MaxAliases != 5 || c.MaxFields != 200 || c.AnonymousConnectionsPerIP != 0 || c.RateLimitPerson != 0 || c.RequestTimeout != 2*time.Second ||
		c.ClientIPHeader != "X-Real-IP" || strings.Join(c.CORSOrigins, " ") != "https://voresishoj.dk http://localhost:5173" {
		t.Errorf("limits = %+v", c)
	}
	// Development accepts any document whatever the flag says.
	if !c.TrustedDocuments || c.EnforceTrustedDocuments() {
		t.Errorf("trusted documents enforced in development")
	}
}

func TestLimitErrors(t *testing.T) {
	_, err := parse(env(map[string]string{
		"MAX_DEPTH":                    "1000",
		"MAX_FIELDS":                   "1",
		"ANONYMOUS_CONNECTIONS_PER_IP": "-1",
		"REQUEST_TIMEOUT":              "forever",
		"CORS_ORIGINS":                 "*,https://ok.example,https://x.example/path",
		"MAX_UPLOAD_FILE_BYTES":        "104857600",
		"MAX_UPLOAD_BYTES":             "10485760",
		"TRUSTED_DOCUMENTS":            "perhaps",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"MAX_DEPTH", "MAX_FIELDS", "ANONYMOUS_CONNECTIONS_PER_IP", "REQUEST_TIMEOUT", `"*"`, `"https://x.example/path"`, "MAX_UPLOAD_FILE_BYTES", "TRUSTED_DOCUMENTS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), `"https://ok.example"`) {
		t.Errorf("a valid origin refused: %v", err)
	}
}

func TestProductionTrustedDocumentsNeedTheManifest(t *testing.T) {
	base := map[string]string{"APP_ENV": "production", "FIREBASE_PROJECT_ID": "p", "TRUSTED_DOCUMENTS": "true",
		"TRUSTED_DOCUMENTS_FILE": filepath.Join(t.TempDir(), "missing.json")}
	if _, err := parse(env(base)); err == nil || !strings.Contains(err.Error(), "TRUSTED_DOCUMENTS_FILE") {
		t.Errorf("missing manifest: %v", err)
	}
	f := filepath.Join(t.TempDir(), "docs.json")
	if err := os.WriteFile(f, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base["TRUSTED_DOCUMENTS_FILE"] = f
	c, err := parse(env(base))
	if err != nil || !c.EnforceTrustedDocuments() {
		t.Errorf("production with a manifest: %v, enforce=%v", err, c.EnforceTrustedDocuments())
	}
}

func TestActionAndDecodeLimits(t *testing.T) {
	c, err := parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StoriesPerDay != 10 || c.StoryReportsPerDay != 10 || c.ClaimsPerHour != 30 || c.MediaMaxDecodedMB != 96 || c.MediaDecodes != 2 {
		t.Errorf("defaults = %+v", c)
	}
	c, err = parse(env(map[string]string{"STORIES_PER_DAY": "0", "STORY_REPORTS_PER_DAY": "3", "CLAIMS_PER_HOUR": "5",
		"MEDIA_MAX_DECODED_MB": "256", "MEDIA_DECODES": "4"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StoriesPerDay != 0 || c.StoryReportsPerDay != 3 || c.ClaimsPerHour != 5 || c.MediaMaxDecodedMB != 256 || c.MediaDecodes != 4 {
		t.Errorf("from env = %+v", c)
	}
	_, err = parse(env(map[string]string{"CLAIMS_PER_HOUR": "-1", "MEDIA_MAX_DECODED_MB": "1", "MEDIA_DECODES": "0"}))
	for _, want := range []string{"CLAIMS_PER_HOUR", "MEDIA_MAX_DECODED_MB", "MEDIA_DECODES"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

// The Meta token is read as given, and one that cannot be a token is
// refused without repeating it (it is a secret); the pages' rate limit
// has its default and may be turned off.
func TestMetaTokenAndPagesLimit(t *testing.T) {
	c, err := parse(env(map[string]string{"META_OEMBED_TOKEN": "123456|abcdef", "PAGES_RATE_LIMIT_IP": "0"}))
	if err != nil || c.AppLinks.MetaOEmbedToken != "123456|abcdef" || c.PagesRateLimitIP != 0 {
		t.Fatalf("token %q, pages limit %d, err %v", c.AppLinks.MetaOEmbedToken, c.PagesRateLimitIP, err)
	}
	_, err = parse(env(map[string]string{"META_OEMBED_TOKEN": "123456|abc def-hidden"}))
	if err == nil || !strings.Contains(err.Error(), "META_OEMBED_TOKEN") || strings.Contains(err.Error(), "hidden") {
		t.Errorf("a token with a space: %v", err)
	}
	if c, err := parse(env(nil)); err != nil || c.PagesRateLimitIP != 120 || c.AppLinks.MetaOEmbedToken != "" {
		t.Errorf("defaults: %d %q %v", c.PagesRateLimitIP, c.AppLinks.MetaOEmbedToken, err)
	}
}
