// Package event carries domain events two ways. What someone must hear
// about is recorded in the transaction of the change (Record, the outbox:
// a River job in the same database, worked by internal/notify), so it is
// told if and only if the change committed, whatever happens to the
// request or the process afterwards. After the commit the same events are
// published on the in-process bus (Publish) for the fast path: live
// updates and logging, at most once. Events are small signals; whoever
// needs the current state reads it from the database, and an event
// carries only what the change removed (who held the claims it released).
package event

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
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
	// SlotMoved: a slot's times changed (moved, shortened, lengthened);
	// StartsAt and EndsAt are the old times.
	SlotMoved Kind = "slot.moved"
	// SlotRemoved: a slot was deleted with its claims; Title, StartsAt
	// and UserIDs say what it was and who held it.
	SlotRemoved Kind = "slot.removed"
	// StoryRejected and StoryChangesRequested: a reviewer's answer to the
	// author, with Reason.
	StoryRejected         Kind = "story.rejected"
	StoryChangesRequested Kind = "story.changes_requested"
	// ParticipationChanged: someone's participation in an activity
	// changed, and with it the activity's headcount and seats left; of
	// the occurrence at StartsAt, or of every one when it is zero (the
	// settings changed, the activity was cancelled).
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
	// ActorID is who made the change (zero for the system); they are not
	// told of their own act.
	ActorID int64 `json:"actorId,omitempty"`
	// Late marks a cancellation after the slot's deadline.
	Late bool `json:"late,omitempty"`
	// UserIDs are people the change concerned that the database no longer
	// links to it: the volunteers whose claims a cancelled activity or a
	// removed slot released.
	UserIDs []int64 `json:"userIds,omitempty"`
	// Title, StartsAt and EndsAt describe what the change replaced or
	// removed: a removed slot's title and times, a moved slot's old times;
	// for ParticipationChanged StartsAt is the occurrence.
	Title    string    `json:"title,omitempty"`
	StartsAt time.Time `json:"startsAt,omitzero"`
	EndsAt   time.Time `json:"endsAt,omitzero"`
	// Reason is a reviewer's message to the author.
	Reason string `json:"reason,omitempty"`
}

// Publisher is what the domain needs of the bus: Record inside the
// transaction of the change, Publish after it committed.
type Publisher interface {
	Record(ctx context.Context, tx *sqlx.Tx, events ...Event) error
	Publish(ctx context.Context, events ...Event)
}

// Outbox keeps events durably inside a transaction; internal/notify
// implements it with River's transactional insert.
type Outbox interface {
	Record(ctx context.Context, tx *sqlx.Tx, events ...Event) error
}

// Handler reacts to an event. It must not block for long: the bus calls
// handlers synchronously after the change committed.
type Handler func(ctx context.Context, e Event)

// Bus fans events out to handlers registered at start-up, and records
// them in its outbox.
type Bus struct {
	mu       sync.RWMutex
	handlers []Handler
	outbox   Outbox
	log      *slog.Logger
}

// SetOutbox sets where Record keeps events; call it while wiring. Without
// one Record keeps nothing (tests of a single domain package).
func (b *Bus) SetOutbox(o Outbox) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.outbox = o
}

// Record keeps events in tx's outbox, to be worked once tx commits.
func (b *Bus) Record(ctx context.Context, tx *sqlx.Tx, events ...Event) error {
	b.mu.RLock()
	o := b.outbox
	b.mu.RUnlock()
	if o == nil || len(events) == 0 {
		return nil
	}
	return o.Record(ctx, tx, events...)
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

func (Discard) Record(context.Context, *sqlx.Tx, ...Event) error { return nil }

// Recorder keeps events for tests to inspect: Events the published ones,
// Recorded the ones recorded in a transaction (also when it rolled back).
type Recorder struct {
	mu       sync.Mutex
	Events   []Event
	Recorded []Event
}

func (r *Recorder) Record(_ context.Context, _ *sqlx.Tx, events ...Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Recorded = append(r.Recorded, events...)
	return nil
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
