// Package ratelimit counts requests per key (a person, an IP address)
// with the generic cell rate algorithm: a token bucket stored as one
// timestamp per key, the "theoretical arrival time" of the next request.
// Memory keeps the buckets in the process; Redis keeps them in Redis so a
// limit holds across replicas. Slots cap what a key holds at once (open
// connections), in the process or in Redis likewise.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Limit is Rate requests per Per, with up to Burst at once.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// PerMinute is n requests a minute with a burst of n/2 (at least 1).
func PerMinute(n int) Limit {
	return Limit{Rate: n, Per: time.Minute, Burst: max(n/2, 1)}
}

// Enabled reports whether the limit limits anything.
func (l Limit) Enabled() bool { return l.Rate > 0 && l.Per > 0 }

// interval is the time one request "costs".
func (l Limit) interval() time.Duration { return l.Per / time.Duration(l.Rate) }

// tolerance is how far ahead of now the arrival time may run.
func (l Limit) tolerance() time.Duration {
	return l.interval() * time.Duration(max(l.Burst, 1))
}

// Result is the answer for one request.
type Result struct {
	Allowed bool
	// RetryAfter is how long to wait before the next request may pass;
	// zero when Allowed.
	RetryAfter time.Duration
}

// Limiter decides whether one more request for key may pass now.
type Limiter interface {
	Allow(ctx context.Context, key string) (Result, error)
}

// gcra is the algorithm on one bucket: given its arrival time (zero for a
// new bucket) it returns the result and the new arrival time.
func gcra(l Limit, tat, now time.Time) (Result, time.Time) {
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval())
	allowAt := next.Add(-l.tolerance())
	if now.Before(allowAt) {
		return Result{RetryAfter: allowAt.Sub(now)}, tat
	}
	return Result{Allowed: true}, next
}

// Memory is a Limiter for one process.
type Memory struct {
	limit Limit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]time.Time
	sweep   time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory(l Limit) *Memory {
	return &Memory{limit: l, now: time.Now, buckets: map[string]time.Time{}}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string) (Result, error) {
	if !m.limit.Enabled() {
		return Result{Allowed: true}, nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Buckets whose arrival time has passed are full again: dropping them
	// changes nothing and keeps the map as small as the active keys.
	if now.Sub(m.sweep) > m.limit.Per {
		for k, tat := range m.buckets {
			if tat.Before(now) {
				delete(m.buckets, k)
			}
		}
		m.sweep = now
	}
	res, tat := gcra(m.limit, m.buckets[key], now)
	m.buckets[key] = tat
	return res, nil
}
