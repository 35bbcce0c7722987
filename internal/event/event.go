// Package event is the in-process bus for domain events: the domain
// publishes what happened (a slot changed, a claim was confirmed, an
// activity was published) after its transaction commits, and subscribers
// (live updates, push, logging) react. Events are small signals; whoever
// needs the current state reads it from the database.
package event

import (
	"context"
	"log/slog"
	"sync"
)

// Kind names what happened.
type Kind string

const (
	ActivityPublished Kind = "activity.published"
	ActivityChanged   Kind = "activity.changed"
	ActivityCancelled Kind = "activity.cancelled"
	SlotChanged       Kind = "slot.changed"
	ClaimConfirmed    Kind = "claim.confirmed"
	ClaimWaitlisted   Kind = "claim.waitlisted"
	ClaimPromoted     Kind = "claim.promoted"
	ClaimCancelled    Kind = "claim.cancelled"
	StoryPublished    Kind = "story.published"
	// ParticipationChanged: someone's participation in an activity
	// changed, and with it the activity's headcount and seats left.
	ParticipationChanged Kind = "participation.changed"
)

// Event is one thing that happened. IDs not relevant to the kind are zero.
type Event struct {
	Kind           Kind  `json:"kind"`
	ActivityID     int64 `json:"activityId,omitempty"`
	OrganisationID int64 `json:"organisationId,omitempty"`
	SlotID         int64 `json:"slotId,omitempty"`
	ClaimID        int64 `json:"claimId,omitempty"`
	UserID         int64 `json:"userId,omitempty"`
	StoryID        int64 `json:"storyId,omitempty"`
	// Late marks a cancellation after the slot's deadline.
	Late bool `json:"late,omitempty"`
}

// Publisher is what the domain needs of the bus.
type Publisher interface {
	Publish(ctx context.Context, events ...Event)
}

// Handler reacts to an event. It must not block for long: the bus calls
// handlers synchronously after the change committed.
type Handler func(ctx context.Context, e Event)

// Bus fans events out to handlers registered at start-up.
type Bus struct {
	mu       sync.RWMutex
	handlers []Handler
	log      *slog.Logger
}

// NewBus returns a bus that logs every event at debug level.
func NewBus(log *slog.Logger) *Bus {
	return &Bus{log: log}
}

// Subscribe registers h for every event.
func (b *Bus) Subscribe(h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers = append(b.handlers, h)
}

// Publish hands each event to every handler.
func (b *Bus) Publish(ctx context.Context, events ...Event) {
	b.mu.RLock()
	handlers := b.handlers
	b.mu.RUnlock()
	for _, e := range events {
		b.log.LogAttrs(ctx, slog.LevelInfo, "domain event",
			slog.String("kind", string(e.Kind)),
			slog.Int64("activity_id", e.ActivityID),
			slog.Int64("slot_id", e.SlotID),
			slog.Int64("claim_id", e.ClaimID),
			slog.Int64("user_id", e.UserID))
		for _, h := range handlers {
			h(ctx, e)
		}
	}
}

// Discard drops events; for tests that do not look at them.
type Discard struct{}

func (Discard) Publish(context.Context, ...Event) {}

// Recorder keeps events for tests to inspect.
type Recorder struct {
	mu     sync.Mutex
	Events []Event
}

func (r *Recorder) Publish(_ context.Context, events ...Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, events...)
}

// Snapshot returns a copy of the recorded events.
func (r *Recorder) Snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.Events...)
}
