package notify

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/store"
)

// InitiativeArgs is the outbox job of an initiative event, recorded in the
// transaction of the change (RecordInitiativeEvents) and told like a
// domain event (outbox.go).
type InitiativeArgs struct {
	Event initiative.Event `json:"event"`
}

// Kind is River's name for the job.
func (InitiativeArgs) Kind() string { return "notify_initiative_event" }

// RecordInitiativeEvents keeps initiative events in tx, to be told once
// it commits (initiative.Notifier).
func (s *Service) RecordInitiativeEvents(ctx context.Context, tx *sqlx.Tx, events ...initiative.Event) error {
	params := make([]river.InsertManyParams, 0, len(events))
	for _, e := range events {
		params = append(params, river.InsertManyParams{Args: InitiativeArgs{Event: e}, InsertOpts: &river.InsertOpts{MaxAttempts: 25}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := s.river.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("record %d initiative events: %w", len(params), err)
	}
	return nil
}

type initiativeWorker struct {
	river.WorkerDefaults[InitiativeArgs]
	s *Service
}

func (w *initiativeWorker) Work(ctx context.Context, job *river.Job[InitiativeArgs]) error {
	ns, err := w.s.initiativeNotifications(ctx, job.Args.Event)
	if err != nil {
		return fmt.Errorf("notifications for %s: %w", job.Args.Event.Kind, err)
	}
	return tellAndComplete(ctx, w.s, job, ns)
}

// InitiativeEvent tells the people initiative event e concerns at once,
// in a transaction of its own; tests use it, the server records events.
func (s *Service) InitiativeEvent(ctx context.Context, e initiative.Event) error {
	ns, err := s.initiativeNotifications(ctx, e)
	if err != nil {
		return err
	}
	return s.notifyInOwnTx(ctx, ns)
}

// initiativeNotifications says who is told of e, as internal/initiative
// documents for each kind.
func (s *Service) initiativeNotifications(ctx context.Context, e initiative.Event) ([]NewNotification, error) {
	var to []int64
	switch e.Kind {
	case initiative.EventJoined:
		to = []int64{e.ProposerID}
	case initiative.EventApprovalRequested, initiative.EventHidden:
		if err := store.Select(ctx, s.db, &to, `SELECT id FROM users WHERE role = 'SECRETARIAT' AND deleted_at IS NULL ORDER BY id`); err != nil {
			return nil, fmt.Errorf("secretariat: %w", err)
		}
	case initiative.EventApproved, initiative.EventMerged:
		to = append(append([]int64{e.ProposerID}, e.OrganiserIDs...), e.MemberIDs...)
	case initiative.EventClosed:
		to = e.MemberIDs
		if e.ActorID != e.ProposerID {
			to = append(to, e.ProposerID)
		}
	case initiative.EventClosedStale, initiative.EventRestored, initiative.EventRemoved:
		to = []int64{e.ProposerID}
	default:
		return nil, nil
	}
	params := map[string]any{"Initiative": e.Name, "Message": e.Message}
	if e.OrganisationID != 0 {
		var name string
		if err := store.Get(ctx, s.db, &name, `SELECT name FROM organisations WHERE id = ?`, e.OrganisationID); err == nil {
			params["Organisation"] = name
		}
	}
	if e.ActorID != 0 {
		// A name that cannot be read is shown as the neutral stand-in
		// (withShownNames), never as a gap in the sentence.
		var name string
		if err := store.Get(ctx, s.db, &name, `SELECT display_name FROM users WHERE id = ?`, e.ActorID); err != nil {
			name = ""
		}
		params["Person"] = name
	}
	seen := map[int64]bool{}
	var ns []NewNotification
	for _, id := range to {
		// Nobody is told of their own act, and nobody twice.
		if id == 0 || seen[id] || (id == e.ActorID && e.Kind != initiative.EventClosedStale) {
			continue
		}
		seen[id] = true
		ns = append(ns, NewNotification{UserID: id, Kind: Kind(e.Kind), Params: params})
	}
	return ns, nil
}
