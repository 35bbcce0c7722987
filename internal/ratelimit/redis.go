package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

// Redis is a Limiter shared by every replica that uses the same Redis.
// While Redis fails it counts in this process instead (Memory), so a
// limit still holds, per replica, rather than holding requests up or
// letting everything through.
type Redis struct {
	client   *redis.Client
	prefix   string
	limit    Limit
	fallback *Memory
}

// NewRedis returns a limiter keeping its buckets under prefix in Redis.
func NewRedis(client *redis.Client, prefix string, l Limit) *Redis {
	return &Redis{client: client, prefix: prefix, limit: l, fallback: NewMemory(l)}
}

// gcraScript is gcra in Lua, so reading and moving a bucket is one atomic
// step. It takes the time from Redis itself: replicas' clocks may differ,
// Redis's is the one they share. The key expires when the bucket is full
// again. Times are microseconds.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nexttat = tat + interval
local allowat = nexttat - tolerance
if now < allowat then
  return allowat - now
end
redis.call('SET', KEYS[1], nexttat, 'PX', math.ceil((nexttat - now) / 1000))
return 0
`)

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string) (Result, error) {
	if !r.limit.Enabled() {
		return Result{Allowed: true}, nil
	}
	wait, err := gcraScript.Run(ctx, r.client, []string{r.prefix + key},
		r.limit.interval().Microseconds(), r.limit.tolerance().Microseconds()).Int64()
	if err != nil {
		redisconn.Fallback(ctx, nil, redisconn.RateLimit, fmt.Errorf("rate limit %s: %w", r.prefix, err))
		return r.fallback.Allow(ctx, key)
	}
	if wait > 0 {
		return Result{RetryAfter: time.Duration(wait) * time.Microsecond}, nil
	}
	return Result{Allowed: true}, nil
}
