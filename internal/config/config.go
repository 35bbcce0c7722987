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
)

// Config is every setting of the server. The README lists them all.
type Config struct {
	ListenAddr string
	// PublicURL is where people reach the server, for links the server
	// hands out (calendar feeds, media).
	PublicURL       string
	DatabaseURL     string
	DataDir         string
	RedisURL        string
	Env             string // "development" or "production"
	DemoData        bool
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
}

// Production reports whether the server runs in production.
func (c Config) Production() bool { return c.Env == "production" }

// Postgres reports whether DatabaseURL selects PostgreSQL.
func (c Config) Postgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
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
	return parse(os.Getenv)
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
		AnnouncementsPerDay: integer("ANNOUNCEMENTS_PER_DAY", 3, 1, 100),
		ComplexityLimit:     integer("COMPLEXITY_LIMIT", 1000, 50, 100000),
		DailyHoursLimit:     integer("DAILY_HOURS_LIMIT", 8, 1, 24),
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
	if c.Production() && c.DemoData {
		errs = append(errs, errors.New("DEMO_DATA=true is not allowed with APP_ENV=production"))
	}
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
