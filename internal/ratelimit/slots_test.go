package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemorySlots(t *testing.T) {
	s := NewMemorySlots(2)
	ctx := context.Background()
	a, ok, _ := s.Acquire(ctx, "person:1")
	b, ok2, _ := s.Acquire(ctx, "person:1")
	if !ok || !ok2 {
		t.Fatal("the first two slots refused")
	}
	if _, ok, _ := s.Acquire(ctx, "person:1"); ok {
		t.Fatal("a third slot taken")
	}
	if _, ok, _ := s.Acquire(ctx, "person:2"); !ok {
		t.Fatal("another key shares the slots")
	}
	a.Release()
	a.Release() // twice frees one slot, not two
	if s.Held("person:1") != 1 {
		t.Fatalf("held %d after one release, want 1", s.Held("person:1"))
	}
	c, ok, _ := s.Acquire(ctx, "person:1")
	if !ok {
		t.Fatal("a released slot cannot be taken again")
	}
	if _, ok, _ := s.Acquire(ctx, "person:1"); ok {
		t.Fatal("releasing twice freed two slots")
	}
	b.Release()
	c.Release()
	if s.Held("person:1") != 0 || len(s.held) != 1 {
		t.Errorf("keys kept after release: %v", s.held)
	}
}

func TestRedisSlotsSharedAcrossReplicas(t *testing.T) {
	c := redisClient(t)
	ctx := context.Background()
	prefix := fmt.Sprintf("test:slots:%d:", time.Now().UnixNano())
	a, b := NewRedisSlots(c, prefix, 2, nil), NewRedisSlots(c, prefix, 2, nil)
	la, ok, err := a.Acquire(ctx, "ip:192.0.2.1")
	if err != nil || !ok {
		t.Fatalf("first slot: %v %v", ok, err)
	}
	if _, ok, _ := b.Acquire(ctx, "ip:192.0.2.1"); !ok {
		t.Fatal("second slot, on the other replica, refused")
	}
	if _, ok, _ := a.Acquire(ctx, "ip:192.0.2.1"); ok {
		t.Fatal("a third slot taken across replicas")
	}
	if _, ok, _ := b.Acquire(ctx, "ip:192.0.2.2"); !ok {
		t.Fatal("another key shares the slots")
	}
	la.Release()
	la.Release()
	if _, ok, _ := b.Acquire(ctx, "ip:192.0.2.1"); !ok {
		t.Fatal("a slot released on one replica is not free on the other")
	}
	if _, ok, _ := b.Acquire(ctx, "ip:192.0.2.1"); ok {
		t.Fatal("releasing twice freed two slots")
	}
}

// Leases held are renewed; the leases of a replica that stopped (and so
// renews nothing and releases nothing) free themselves.
func TestRedisSlotsOfADeadReplicaExpire(t *testing.T) {
	c := redisClient(t)
	ctx := context.Background()
	prefix := fmt.Sprintf("test:slots:%d:", time.Now().UnixNano())
	alive, dying := NewRedisSlots(c, prefix, 1, nil), NewRedisSlots(c, prefix, 1, nil)
	alive.ttl, dying.ttl = 300*time.Millisecond, 300*time.Millisecond
	if _, ok, err := alive.Acquire(ctx, "held"); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if _, ok, err := dying.Acquire(ctx, "dies"); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	// The dying replica forgets its lease without releasing it.
	dying.mu.Lock()
	clear(dying.held)
	dying.mu.Unlock()
	time.Sleep(time.Second) // more than three lifetimes
	if _, ok, _ := dying.Acquire(ctx, "held"); ok {
		t.Error("a renewed lease expired")
	}
	if _, ok, _ := alive.Acquire(ctx, "dies"); !ok {
		t.Error("the lease of a replica that stopped still counts")
	}
}
