// Package config reads the server's settings from environment variables,
// once, at start, and says clearly what is wrong with them. Secrets may
// also come from files: DATABASE_URL_FILE, REDIS_URL_FILE.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// Config is every setting of the server. The README lists them all.
type Config struct {
	ListenAddr string
	// PublicURL is where people reach the server, for links the server
	// hands out (calendar feeds, media).
	PublicURL   string
	DatabaseURL string
	DataDir     string
	RedisURL    string
	Env         string // "development" or "production"
	DemoData    bool
	// DevNow, when set (DEV_NOW, development only), is the instant the
	// domain clock reads at start; it runs on from there. Demo data and
	// every rule about time (signup windows, reminders, "upcoming") see
	// that date, so a developer or CI can try any day of the year.
	DevNow          time.Time
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	FirebaseProjectID string
	// FCMEndpoint points the Firebase Admin SDK's messaging at another
	// FCM-compatible server (tests and staging only).
	FCMEndpoint string
	// AuthEmulatorHost is FIREBASE_AUTH_EMULATOR_HOST, which the Firebase
	// Admin SDK reads itself.
	AuthEmulatorHost string
	// AnnouncementsPerDay caps organisers' announcements per organisation.
	AnnouncementsPerDay int

	ComplexityLimit int
	DailyHoursLimit int

	// TrustedDocuments makes a production server execute only the app's
	// documents from TrustedDocumentsFile, asked for by hash.
	TrustedDocuments     bool
	TrustedDocumentsFile string
	MaxDepth             int
	MaxAliases           int
	ParserTokenLimit     int
	MaxBodyBytes         int64
	MaxUploadFileBytes   int64
	MaxUploadBytes       int64
	RequestTimeout       time.Duration
	// RateLimitPerson and RateLimitIP are requests a minute; 0 is off.
	RateLimitPerson int
	RateLimitIP     int
	// PagesRateLimitIP is requests a minute to the public pages, feeds
	// and calendars per client address; 0 is off.
	PagesRateLimitIP int
	// ExportRateLimitIP is requests a minute to the data export downloads
	// (/export/) per client address; 0 is off.
	ExportRateLimitIP int
	// WebsocketsPerPerson caps the websockets one person holds open.
	WebsocketsPerPerson int
	// ClientIPHeader is the header a trusted proxy sets to the client's
	// address, for the per-IP limit.
	ClientIPHeader string
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string

	// MaxFields bounds a document's fields with fragments expanded, and
	// its pairs of same-named fields, before it is validated.
	MaxFields int
	// AnonymousConnectionsPerIP caps the live connections (websockets,
	// server-sent event streams) of visitors not signed in, per address;
	// 0 is no cap.
	AnonymousConnectionsPerIP int

	Ops // running as a service: media store, metrics, traces, Redis, draining (ops.go)
	// Per-person action limits, counted from the stored rows; 0 is off.
	StoriesPerDay      int
	StoryReportsPerDay int
	ClaimsPerHour      int
	// MediaMaxDecodedMB is what decoding one uploaded image may take,
	// MediaDecodes how many are decoded at once in the process.
	MediaMaxDecodedMB int
	MediaDecodes      int
	// AppLinks name the app for universal links and App Links (applinks.go).
	AppLinks AppLinks
}

// EnforceTrustedDocuments reports whether only the app's documents run;
// development always accepts any document.
func (c Config) EnforceTrustedDocuments() bool { return c.Production() && c.TrustedDocuments }

// Production reports whether the server runs in production.
func (c Config) Production() bool { return c.Env == "production" }

// Postgres reports whether DatabaseURL selects PostgreSQL.
func (c Config) Postgres() bool {
	return store.IsPostgresURL(c.DatabaseURL)
}

// PushThroughFCM reports whether pushes go to Firebase Cloud Messaging; without
// a project, or against the Auth emulator without an FCM endpoint, they go
// to the log and the in-app inbox only.
func (c Config) PushThroughFCM() bool {
	if c.FirebaseProjectID == "" {
		return false
	}
	return c.FCMEndpoint != "" || c.AuthEmulatorHost == ""
}

// LocalAuth reports whether the server signs its own tokens because no
// Firebase project is configured.
func (c Config) LocalAuth() bool { return c.FirebaseProjectID == "" }

// FromEnv reads the configuration from the environment.
func FromEnv() (Config, error) {
	read := map[string]bool{}
	c, err := parse(func(name string) string {
		read[name] = true
		return os.Getenv(name)
	})
	c.Warnings = unknownSettings(environ(), read)
	return c, err
}

func parse(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		if file := strings.TrimSpace(getenv(name + "_FILE")); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return def
			}
			return strings.TrimSpace(string(b))
		}
		return def
	}
	boolean := func(name string, def bool) bool {
		v := str(name, "")
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be true or false, got %q", name, v))
			return def
		}
		return b
	}
	integer := func(name string, def, min, max int) int {
		v := str(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s must be a whole number from %d to %d, got %q", name, min, max, v))
			return def
		}
		return n
	}

	c := Config{
		ListenAddr:          str("LISTEN_ADDR", "127.0.0.1:8080"),
		DataDir:             str("DATA_DIR", "./data"),
		RedisURL:            str("REDIS_URL", ""),
		Env:                 str("APP_ENV", "development"),
		FirebaseProjectID:   str("FIREBASE_PROJECT_ID", ""),
		FCMEndpoint:         strings.TrimRight(str("FCM_ENDPOINT", ""), "/"),
		AuthEmulatorHost:    str("FIREBASE_AUTH_EMULATOR_HOST", ""),
		AnnouncementsPerDay: integer("ANNOUNCEMENTS_PER_DAY", 3, 1, 100),
		ComplexityLimit:     integer("COMPLEXITY_LIMIT", 1000, 50, 100000),
		DailyHoursLimit:     integer("DAILY_HOURS_LIMIT", 8, 1, 24),
	}
	c.TrustedDocuments = boolean("TRUSTED_DOCUMENTS", false)
	c.TrustedDocumentsFile = str("TRUSTED_DOCUMENTS_FILE", filepath.Join("mobile-contract", "trusted-documents.json"))
	c.MaxDepth = integer("MAX_DEPTH", 15, 3, 100)
	c.MaxAliases = integer("MAX_ALIASES", 30, 0, 1000)
	c.MaxFields = integer("MAX_FIELDS", 1000, 10, 100000)
	c.ParserTokenLimit = integer("PARSER_TOKEN_LIMIT", 15000, 500, 1000000)
	c.MaxBodyBytes = int64(integer("MAX_BODY_BYTES", 1<<20, 10<<10, 100<<20))
	c.MaxUploadFileBytes = int64(integer("MAX_UPLOAD_FILE_BYTES", 15<<20, 1<<20, 1<<30))
	c.MaxUploadBytes = int64(integer("MAX_UPLOAD_BYTES", 60<<20, 1<<20, 4<<30))
	c.RateLimitPerson = integer("RATE_LIMIT_PERSON", 300, 0, 1000000)
	c.RateLimitIP = integer("RATE_LIMIT_IP", 1200, 0, 1000000)
	c.PagesRateLimitIP = integer("PAGES_RATE_LIMIT_IP", 120, 0, 1000000)
	c.ExportRateLimitIP = integer("EXPORT_RATE_LIMIT_IP", 10, 0, 1000000)
	c.ClientIPHeader = str("CLIENT_IP_HEADER", "")
	c.WebsocketsPerPerson = integer("WEBSOCKETS_PER_PERSON", 10, 1, 100000)
	c.AnonymousConnectionsPerIP = integer("ANONYMOUS_CONNECTIONS_PER_IP", 100, 0, 1000000)
	c.StoriesPerDay = integer("STORIES_PER_DAY", 10, 0, 100000)
	c.StoryReportsPerDay = integer("STORY_REPORTS_PER_DAY", 10, 0, 100000)
	c.ClaimsPerHour = integer("CLAIMS_PER_HOUR", 30, 0, 100000)
	c.MediaMaxDecodedMB = integer("MEDIA_MAX_DECODED_MB", 96, 16, 4096)
	c.MediaDecodes = integer("MEDIA_DECODES", 2, 1, 64)
	if d := str("REQUEST_TIMEOUT", "15s"); d != "" {
		t, err := time.ParseDuration(d)
		if err != nil || t <= 0 || t > 10*time.Minute {
			errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT must be a duration from 1ms to 10m such as 15s, got %q", d))
		}
		c.RequestTimeout = t
	}
	if c.MaxUploadFileBytes > c.MaxUploadBytes {
		errs = append(errs, fmt.Errorf("MAX_UPLOAD_FILE_BYTES (%d) must not exceed MAX_UPLOAD_BYTES (%d)", c.MaxUploadFileBytes, c.MaxUploadBytes))
	}
	for _, o := range strings.Split(str("CORS_ORIGINS", ""), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o == "" {
			continue
		}
		// Browsers send the origin as scheme://host[:port], nothing more;
		// "*" would let any site call with a visitor's token.
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("CORS_ORIGINS must be a comma-separated list of origins such as https://voresishoj.dk, got %q", o))
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	c.DatabaseURL = str("DATABASE_URL", filepath.Join(c.DataDir, "voresishoj.db"))
	c.PublicURL = strings.TrimRight(str("PUBLIC_URL", "http://"+c.ListenAddr), "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PUBLIC_URL must be an http(s) URL such as https://api.voresishoj.dk, got %q", c.PublicURL))
	}
	// Demo data is for trying the server out: on by default only on the
	// embedded database.
	c.DemoData = boolean("DEMO_DATA", !c.Postgres() && c.Env != "production")

	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR must be host:port, e.g. 127.0.0.1:8080, got %q", c.ListenAddr))
	}
	if c.Env != "development" && c.Env != "production" {
		errs = append(errs, fmt.Errorf("APP_ENV must be development or production, got %q", c.Env))
	}
	if c.Postgres() {
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			errs = append(errs, errors.New("DATABASE_URL is not a valid postgres:// URL"))
		}
	} else if strings.Contains(c.DatabaseURL, "://") && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		errs = append(errs, fmt.Errorf("DATABASE_URL must be a postgres:// URL or a SQLite file path, got scheme in %q", redact(c.DatabaseURL)))
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("REDIS_URL must be a redis:// or rediss:// URL"))
		}
	}
	switch strings.ToLower(str("LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", getenv("LOG_LEVEL")))
	}
	if d := str("SHUTDOWN_TIMEOUT", "15s"); d != "" {
		t, err := time.ParseDuration(d)
		if err != nil || t <= 0 {
			errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT must be a duration such as 15s, got %q", d))
		}
		c.ShutdownTimeout = t
	}
	if c.Production() && c.LocalAuth() {
		errs = append(errs, errors.New("APP_ENV=production needs FIREBASE_PROJECT_ID: local sign-in is for development only"))
	}
	if c.Production() && c.AuthEmulatorHost != "" {
		// The emulator's tokens are unsigned: anyone could be anyone.
		errs = append(errs, errors.New("FIREBASE_AUTH_EMULATOR_HOST must not be set with APP_ENV=production"))
	}
	if c.Production() && c.FCMEndpoint != "" {
		errs = append(errs, errors.New("FCM_ENDPOINT is for tests and staging; unset it with APP_ENV=production"))
	}
	if c.EnforceTrustedDocuments() {
		if _, err := os.Stat(c.TrustedDocumentsFile); err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_DOCUMENTS=true needs TRUSTED_DOCUMENTS_FILE: %w", err))
		}
	}
	if v := str("DEV_NOW", ""); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("DEV_NOW must be an RFC 3339 time such as 2027-03-28T00:59:30Z, got %q", v))
		case c.Production():
			errs = append(errs, errors.New("DEV_NOW is for development and tests; unset it with APP_ENV=production"))
		default:
			c.DevNow = t.UTC()
		}
	}
	if c.Production() && c.DemoData {
		errs = append(errs, errors.New("DEMO_DATA=true is not allowed with APP_ENV=production"))
	}
	errs = append(errs, c.Ops.read(str, c.DataDir, c.Production(), c.ShutdownTimeout)...)
	errs = append(errs, c.AppLinks.read(str)...)
	return c, errors.Join(errs...)
}

// redact hides a password in a URL for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Redacted returns DatabaseURL safe for a log line.
func (c Config) RedactedDatabaseURL() string {
	if c.Postgres() {
		return redact(c.DatabaseURL)
	}
	return c.DatabaseURL
}
