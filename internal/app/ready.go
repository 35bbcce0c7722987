package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Readiness is the body of /readyz. Status is "ready", "degraded" (serving,
// with a dependency doing without: see Checks), "draining" (shutting down)
// or "unavailable" (the database is unreachable or its schema is not
// current). Only draining and unavailable answer 503: a replica without
// Redis or its object store still serves most of what people do, and
// taking every replica out together for a shared dependency would turn a
// degraded service into none.
type Readiness struct {
	Status string           `json:"status"`
	Checks map[string]Check `json:"checks"`
}

// Check is one dependency's state: "ok", "degraded" or "down". Causes go
// to the log, not here: /readyz is public and error texts name hosts.
type Check struct {
	Status string `json:"status"`
	// Breaker is the Redis circuit breaker's state (closed, open, half-open).
	Breaker string `json:"breaker,omitempty"`
}

// checker is what a media store offers when it can be checked (S3).
type checker interface {
	Check(ctx context.Context) error
}

func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res := Readiness{Status: "ready", Checks: map[string]Check{}}
	db := Check{Status: "ok"}
	if err := a.db.PingContext(ctx); err != nil {
		a.log.WarnContext(ctx, "not ready: database unreachable", slog.String("error", err.Error()))
		db.Status = "down"
	} else if current, err := a.db.SchemaCurrent(ctx); err != nil || !current {
		a.log.WarnContext(ctx, "not ready: database schema not current", slog.Any("error", err))
		db.Status = "down"
	}
	res.Checks["database"] = db
	if a.redis != nil {
		c := Check{Status: "ok"}
		if err := a.redis.Check(ctx); err != nil {
			c.Status = "degraded"
			a.log.DebugContext(ctx, "readiness: redis", slog.String("error", err.Error()))
		}
		c.Breaker = a.redis.State()
		res.Checks["redis"] = c
	}
	if s, ok := a.blobs.(checker); ok {
		c := Check{Status: "ok"}
		mctx, mcancel := context.WithTimeout(ctx, time.Second)
		if err := s.Check(mctx); err != nil {
			c.Status = "degraded"
			a.log.WarnContext(ctx, "readiness: media store", slog.String("error", err.Error()))
		}
		mcancel()
		res.Checks["media"] = c
	}
	status := http.StatusOK
	for _, c := range res.Checks {
		if c.Status != "ok" {
			res.Status = "degraded"
		}
	}
	switch {
	case db.Status != "ok":
		res.Status, status = "unavailable", http.StatusServiceUnavailable
	case a.draining.Load():
		res.Status, status = "draining", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}
