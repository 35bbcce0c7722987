package pubsub

import (
	"bytes"
	"context"
	"log/slog"
)

// Memory is the broker for a single replica: Publish hands the payload
// straight to the local subscribers.
type Memory struct {
	hub *hub
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process broker.
func NewMemory(log *slog.Logger, opts Options) *Memory {
	opts = opts.withDefaults()
	return &Memory{hub: newHub(log, opts.Buffer)}
}

// Publish delivers payload to the current subscribers of topic.
func (m *Memory) Publish(ctx context.Context, topic string, payload []byte) error {
	if m.hub.isClosed() {
		return ErrClosed
	}
	// Copy once so the caller may reuse its buffer; subscribers share the copy.
	m.hub.deliver(topic, bytes.Clone(payload))
	return nil
}

// Subscribe starts a subscription to topic that lasts until ctx ends or
// the subscription is closed.
func (m *Memory) Subscribe(ctx context.Context, topic string) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, _, err := m.hub.add(topic, func(s *Subscription) { m.hub.remove(s) })
	if err != nil {
		return nil, err
	}
	s.closeOnDone(ctx)
	return s, nil
}

// Dropped returns how many messages were dropped for slow subscribers.
func (m *Memory) Dropped() int64 { return m.hub.dropped.Load() }

// Close ends every subscription.
func (m *Memory) Close() error {
	m.hub.closeAll()
	return nil
}
