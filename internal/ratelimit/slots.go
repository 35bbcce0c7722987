package ratelimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

// Slots caps how many things one key holds at once: the live connections
// (websockets, server-sent event streams) of a person or of an address.
type Slots interface {
	// Acquire takes a slot for key, reporting false when key already
	// holds as many as allowed. The lease gives the slot back.
	Acquire(ctx context.Context, key string) (Lease, bool, error)
}

// Lease is one slot held; Release may be called more than once.
type Lease interface {
	Release()
}

// MemorySlots are Slots for one process.
type MemorySlots struct {
	max int

	mu   sync.Mutex
	held map[string]int
}

// NewMemorySlots allows max slots per key.
func NewMemorySlots(max int) *MemorySlots {
	return &MemorySlots{max: max, held: map[string]int{}}
}

// Acquire implements Slots.
func (s *MemorySlots) Acquire(_ context.Context, key string) (Lease, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[key] >= s.max {
		return nil, false, nil
	}
	s.held[key]++
	return &memoryLease{s: s, key: key}, true, nil
}

// Held is how many slots key holds.
func (s *MemorySlots) Held(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[key]
}

type memoryLease struct {
	s    *MemorySlots
	key  string
	once sync.Once
}

func (l *memoryLease) Release() {
	l.once.Do(func() {
		l.s.mu.Lock()
		defer l.s.mu.Unlock()
		if l.s.held[l.key]--; l.s.held[l.key] <= 0 {
			delete(l.s.held, l.key)
		}
	})
}

// RedisSlots are Slots shared by every replica that uses the same Redis.
// A key is a sorted set of leases scored by when they expire; a replica
// renews the leases it holds every third of their lifetime, so the slots
// of a replica that dies free themselves within LeaseTTL instead of
// counting for ever.
type RedisSlots struct {
	client *redis.Client
	prefix string
	max    int
	ttl    time.Duration
	log    *slog.Logger

	mu       sync.Mutex
	held     map[*redisLease]struct{}
	renewing bool
	// fallback counts this replica's connections while Redis fails.
	fallback *MemorySlots
}

// LeaseTTL is how long a lease of a replica that stopped renewing counts.
const LeaseTTL = time.Minute

// NewRedisSlots allows max slots per key, kept under prefix in Redis.
func NewRedisSlots(client *redis.Client, prefix string, max int, log *slog.Logger) *RedisSlots {
	if log == nil {
		log = slog.Default()
	}
	return &RedisSlots{client: client, prefix: prefix, max: max, ttl: LeaseTTL, log: log, held: map[*redisLease]struct{}{},
		fallback: NewMemorySlots(max)}
}

// acquireScript drops the expired leases, counts the rest and adds one if
// there is room, in one atomic step on Redis's clock. Times are
// milliseconds.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// Acquire implements Slots.
func (s *RedisSlots) Acquire(ctx context.Context, key string) (Lease, bool, error) {
	id := rand.Text()
	ok, err := acquireScript.Run(ctx, s.client, []string{s.prefix + key}, s.max, s.ttl.Milliseconds(), id).Int()
	if err != nil {
		// Without Redis the cap holds per replica, as the rate limits do.
		redisconn.Fallback(ctx, s.log, redisconn.RateLimit, fmt.Errorf("acquire slot %s: %w", s.prefix, err))
		return s.fallback.Acquire(ctx, key)
	}
	if ok == 0 {
		return nil, false, nil
	}
	l := &redisLease{s: s, key: s.prefix + key, id: id}
	s.mu.Lock()
	s.held[l] = struct{}{}
	if !s.renewing {
		s.renewing = true
		go s.renew()
	}
	s.mu.Unlock()
	return l, true, nil
}

// renew extends the leases held here until none is left.
func (s *RedisSlots) renew() {
	tick := time.NewTicker(s.ttl / 3)
	defer tick.Stop()
	for range tick.C {
		s.mu.Lock()
		if len(s.held) == 0 {
			s.renewing = false
			s.mu.Unlock()
			return
		}
		leases := make([]*redisLease, 0, len(s.held))
		for l := range s.held {
			leases = append(leases, l)
		}
		s.mu.Unlock()
		if err := s.extend(leases); err != nil {
			s.log.Warn("renew connection slots", slog.Any("error", err), slog.Int("leases", len(leases)))
		}
	}
}

func (s *RedisSlots) extend(leases []*redisLease) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now, err := s.client.Time(ctx).Result()
	if err != nil {
		return err
	}
	until := float64(now.Add(s.ttl).UnixMilli())
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, l := range leases {
			// XX: a lease released meanwhile is not brought back.
			p.ZAddXX(ctx, l.key, redis.Z{Score: until, Member: l.id})
			p.PExpire(ctx, l.key, s.ttl)
		}
		return nil
	})
	return err
}

type redisLease struct {
	s       *RedisSlots
	key, id string
	once    sync.Once
}

// Release gives the slot back. It does not hang on any request's context:
// a slot left taken would count until its lease ran out.
func (l *redisLease) Release() {
	l.once.Do(func() {
		l.s.mu.Lock()
		delete(l.s.held, l)
		l.s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.s.client.ZRem(ctx, l.key, l.id).Err(); err != nil {
			l.s.log.Warn("release connection slot", slog.Any("error", err))
		}
	})
}
