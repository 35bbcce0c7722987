package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Without Redis a connection cap still holds, per replica.
func TestRedisSlotsFallBackToMemory(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	s := NewRedisSlots(c, "x:", 1, nil)
	ctx := context.Background()
	lease, ok, err := s.Acquire(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("first slot: %v %v", ok, err)
	}
	if _, ok, err := s.Acquire(ctx, "k"); err != nil || ok {
		t.Fatalf("second slot of one: %v %v, want refused", ok, err)
	}
	lease.Release()
	if _, ok, err := s.Acquire(ctx, "k"); err != nil || !ok {
		t.Fatalf("slot after release: %v %v", ok, err)
	}
}
