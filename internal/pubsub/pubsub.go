// Package pubsub fans live-update signals out to the GraphQL subscriptions
// of every replica: in process when the server runs alone (Memory), over
// Redis pub/sub when several replicas share one Redis (Redis).
//
// Messages are signals, not state: a few ids and what changed (see Signal).
// Whoever receives one loads the current state from the database before
// sending anything to a client, so a payload is never staler than the
// database and a lost signal costs at most one missed refresh.
//
// Delivery is at most once. Redis pub/sub keeps nothing for a disconnected
// subscriber, a Redis restart loses the messages published while it is
// down, and a subscriber that does not keep up has messages dropped rather
// than slowing everyone else down. The app therefore refetches what it
// shows whenever its websocket (re)connects; live updates only save it
// from polling while the connection is up.
package pubsub

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Publish and Subscribe after the broker is closed.
var ErrClosed = errors.New("pubsub: broker closed")

// Broker fans messages out to subscribers of a topic, on this replica
// (Memory) or across replicas (Redis).
type Broker interface {
	// Publish sends payload to every subscriber of topic. Subscribers share
	// the payload slice and must not modify it.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe returns a subscription whose channel delivers payloads until
	// ctx ends or Close is called.
	Subscribe(ctx context.Context, topic string) (*Subscription, error)
	// Close ends every subscription and releases the broker's resources.
	Close() error
}

// Options tune a broker. The zero value is ready to use.
type Options struct {
	// Buffer is how many messages a subscriber may fall behind before
	// further messages are dropped for it. Default 64.
	Buffer int
	// Prefix is put in front of every Redis channel name, so that several
	// apps or test runs can share one Redis. Default "voresishoj:".
	// Memory ignores it.
	Prefix string
	// ConfirmTimeout is how long Subscribe waits for Redis to confirm a
	// channel before it returns a subscription that hears this replica
	// only (until Redis confirms). Default 250ms; Memory ignores it.
	ConfirmTimeout time.Duration
}

const (
	defaultBuffer = 64
	defaultPrefix = "voresishoj:"
	// warnEvery limits the "dropping messages" warning to one per
	// subscriber per interval: a stuck client would otherwise log once for
	// every message published on its topic.
	warnEvery = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = defaultBuffer
	}
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if o.ConfirmTimeout <= 0 {
		o.ConfirmTimeout = 250 * time.Millisecond
	}
	return o
}

// Subscription receives the payloads published on one topic. C is closed
// when the subscription ends: its context ended, Close was called, or the
// broker was closed.
type Subscription struct {
	C <-chan []byte

	topic  string
	ch     chan []byte
	detach func(*Subscription) // the broker's part of Close

	once sync.Once
	mu   sync.Mutex
	stop func() bool // stops the context.AfterFunc that closes on ctx end

	dropped  atomic.Int64
	lastWarn atomic.Int64 // unix nanoseconds of the last drop warning
}

// Topic returns the topic the subscription listens to.
func (s *Subscription) Topic() string { return s.topic }

// Dropped returns how many messages were dropped for this subscriber
// because its buffer was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close ends the subscription and closes C. It is safe to call more than
// once and from any goroutine.
func (s *Subscription) Close() {
	s.once.Do(func() { s.detach(s) })
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// closeOnDone ties the subscription to ctx without a goroutine per
// subscriber.
func (s *Subscription) closeOnDone(ctx context.Context) {
	stop := context.AfterFunc(ctx, s.Close)
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
}

// hub is the local fan-out shared by both brokers: the subscribers of each
// topic on this replica and their bounded buffers.
type hub struct {
	log    *slog.Logger
	buffer int

	mu     sync.RWMutex
	topics map[string]map[*Subscription]struct{}
	closed bool

	dropped atomic.Int64
}

func newHub(log *slog.Logger, buffer int) *hub {
	return &hub{
		log:    log,
		buffer: buffer,
		topics: make(map[string]map[*Subscription]struct{}),
	}
}

// add registers a new subscriber on topic. first reports whether it is the
// topic's only subscriber, i.e. the topic just became wanted here.
func (h *hub) add(topic string, detach func(*Subscription)) (s *Subscription, first bool, err error) {
	ch := make(chan []byte, h.buffer)
	s = &Subscription{C: ch, ch: ch, topic: topic, detach: detach}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false, ErrClosed
	}
	subs := h.topics[topic]
	if subs == nil {
		subs = make(map[*Subscription]struct{})
		h.topics[topic] = subs
	}
	subs[s] = struct{}{}
	return s, len(subs) == 1, nil
}

// remove unregisters s and closes its channel. last reports whether the
// topic has no subscribers left here. Removing twice is harmless.
func (h *hub) remove(s *Subscription) (last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.topics[s.topic]
	if _, ok := subs[s]; !ok {
		return false
	}
	delete(subs, s)
	close(s.ch)
	if len(subs) == 0 {
		delete(h.topics, s.topic)
		return true
	}
	return false
}

// deliver hands payload to every subscriber of topic without ever blocking:
// a full buffer means that subscriber misses this message.
func (h *hub) deliver(topic string, payload []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.topics[topic] {
		select {
		case s.ch <- payload:
		default:
			h.drop(s)
		}
	}
}

func (h *hub) drop(s *Subscription) {
	h.dropped.Add(1)
	n := s.dropped.Add(1)
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(warnEvery) || !s.lastWarn.CompareAndSwap(last, now) {
		return
	}
	h.log.Warn("pubsub: subscriber too slow, dropping messages",
		slog.String("topic", s.topic),
		slog.Int64("dropped", n),
		slog.Int("buffer", h.buffer))
}

// closeAll ends every subscription; later Subscribe calls fail.
func (h *hub) closeAll() {
	h.mu.Lock()
	topics := h.topics
	h.topics = make(map[string]map[*Subscription]struct{})
	h.closed = true
	for _, subs := range topics {
		for s := range subs {
			close(s.ch)
		}
	}
	h.mu.Unlock()
	// Release the context hooks outside the lock: they call Close, which
	// would wait for it.
	for _, subs := range topics {
		for s := range subs {
			s.Close()
		}
	}
}

func (h *hub) isClosed() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closed
}
