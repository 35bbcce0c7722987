package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ishoj/voresishoj/internal/redisconn"
)

const (
	// unsubscribeTimeout bounds the UNSUBSCRIBE sent when the last local
	// subscriber of a channel leaves; its own context has usually ended.
	unsubscribeTimeout = 5 * time.Second
	// receiveBuffer is go-redis' queue between its reader and our fan-out
	// loop. The loop never blocks, so this only absorbs bursts.
	receiveBuffer = 1024
)

// Redis is the broker for several replicas sharing one Redis. Each replica
// holds one Redis pub/sub connection, subscribed to exactly the channels
// that have at least one local subscriber, and fans each message out
// locally: ten thousand websocket subscriptions on a replica cost one Redis
// connection, not ten thousand.
//
// go-redis reconnects that connection and re-subscribes its channels by
// itself after a Redis restart; messages published meanwhile are lost
// (see the package comment).
//
// Without Redis (down, hung, or the breaker of internal/redisconn open)
// the broker degrades to this replica: Publish delivers to the local
// subscribers and Subscribe returns a local subscription, which hears the
// other replicas again once go-redis has re-subscribed. Each such fallback
// is counted and logged (redisconn.Fallback).
type Redis struct {
	log     *slog.Logger
	prefix  string
	client  *redis.Client
	ps      *redis.PubSub
	hub     *hub
	done    chan struct{} // closed when the receive loop has ended
	confirm time.Duration

	// mu serialises the 0↔1 transitions of a channel's local subscriber
	// count with the SUBSCRIBE/UNSUBSCRIBE sent for them, so Redis sees them
	// in the same order as the counts changed.
	mu sync.Mutex
	// pending holds, per Redis channel, a channel closed when Redis
	// confirms our SUBSCRIBE, so Subscribe can return only once a message
	// published anywhere afterwards is sure to reach it.
	pending map[string]chan struct{}

	closeOnce sync.Once
}

var _ Broker = (*Redis)(nil)

// NewRedis returns a broker on client (from internal/redisconn, so that
// publishing is bounded by its deadline and breaker). It does not need
// Redis to answer: while it does not, live updates stay on this replica.
func NewRedis(ctx context.Context, client *redis.Client, log *slog.Logger, opts Options) (*Redis, error) {
	opts = opts.withDefaults()
	r := &Redis{
		log:     log,
		prefix:  opts.Prefix,
		client:  client,
		ps:      client.Subscribe(ctx),
		hub:     newHub(log, opts.Buffer),
		done:    make(chan struct{}),
		confirm: opts.ConfirmTimeout,
		pending: make(map[string]chan struct{}),
	}
	go r.receive(r.ps.ChannelWithSubscriptions(redis.WithChannelSize(receiveBuffer)))
	return r, nil
}

// receive runs until the PubSub is closed, handing messages to the local
// subscribers and subscription confirmations to waiting Subscribe calls.
func (r *Redis) receive(in <-chan any) {
	defer close(r.done)
	for m := range in {
		switch m := m.(type) {
		case *redis.Message:
			topic, ok := strings.CutPrefix(m.Channel, r.prefix)
			if !ok {
				continue
			}
			r.hub.deliver(topic, []byte(m.Payload))
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				r.confirmed(m.Channel)
			}
		}
	}
}

func (r *Redis) confirmed(channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ready, ok := r.pending[channel]; ok {
		close(ready)
		delete(r.pending, channel)
	}
}

// Publish sends payload to the subscribers of topic on every replica,
// this one included. When Redis does not take it, this replica's
// subscribers still get it (the other replicas' miss it: at most once),
// and the fallback is counted and logged. Should Redis have taken it
// after all (a reply that timed out), local subscribers hear it twice,
// which a signal allows.
func (r *Redis) Publish(ctx context.Context, topic string, payload []byte) error {
	if r.hub.isClosed() {
		return ErrClosed
	}
	if err := r.client.Publish(ctx, r.prefix+topic, payload).Err(); err != nil {
		r.hub.deliver(topic, payload)
		redisconn.Fallback(ctx, r.log, redisconn.PubSub, fmt.Errorf("publish %s: %w", topic, err))
	}
	return nil
}

// Subscribe starts a subscription to topic that lasts until ctx ends or
// the subscription is closed. It returns once Redis has confirmed the
// channel subscription, so anything published afterwards reaches it; or,
// when Redis does not confirm within the confirmation timeout, as a
// subscription that hears this replica until go-redis has subscribed the
// channel (it keeps trying, and re-subscribes after reconnecting).
func (r *Redis) Subscribe(ctx context.Context, topic string) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	channel := r.prefix + topic

	r.mu.Lock()
	s, first, err := r.hub.add(topic, r.detach)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	if first {
		r.pending[channel] = make(chan struct{})
		sctx, cancel := context.WithTimeout(ctx, r.confirm)
		err := r.ps.Subscribe(sctx, channel)
		cancel()
		if err != nil {
			// go-redis keeps the channel and subscribes it when it has a
			// connection again; meanwhile this replica's messages arrive.
			r.mu.Unlock()
			s.closeOnDone(ctx)
			if ctx.Err() != nil {
				s.Close()
				return nil, ctx.Err()
			}
			redisconn.Fallback(ctx, r.log, redisconn.PubSub, fmt.Errorf("subscribe %s: %w", topic, err))
			return s, nil
		}
	}
	ready := r.pending[channel] // nil once confirmed
	r.mu.Unlock()

	s.closeOnDone(ctx)
	if ready == nil {
		return s, nil
	}
	timer := time.NewTimer(r.confirm)
	defer timer.Stop()
	select {
	case <-ready:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	case <-timer.C:
		redisconn.Fallback(ctx, r.log, redisconn.PubSub,
			fmt.Errorf("subscribe %s: redis did not confirm within %s", topic, r.confirm))
		return s, nil
	}
}

// detach is the Redis part of Subscription.Close: when the last local
// subscriber of a channel leaves, unsubscribe the shared connection from it.
func (r *Redis) detach(s *Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hub.remove(s) || r.hub.isClosed() {
		return
	}
	channel := r.prefix + s.topic
	delete(r.pending, channel)
	ctx, cancel := context.WithTimeout(context.Background(), unsubscribeTimeout)
	defer cancel()
	// On failure go-redis has still forgotten the channel, so it is not
	// re-subscribed on reconnect; a stray message meanwhile finds no
	// subscribers and is ignored.
	if err := r.ps.Unsubscribe(ctx, channel); err != nil {
		r.log.Warn("pubsub: redis unsubscribe failed",
			slog.String("topic", s.topic), slog.Any("error", err))
	}
}

// Dropped returns how many messages were dropped for slow subscribers on
// this replica.
func (r *Redis) Dropped() int64 { return r.hub.dropped.Load() }

// Close ends every subscription and closes the Redis connections.
func (r *Redis) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.hub.closeAll()
		err = errors.Join(r.ps.Close(), r.client.Close())
		<-r.done
	})
	return err
}
