package notify

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/store"
)

// InitiativeEvent tells the people an initiative event concerns, as
// internal/initiative documents for each kind. It runs after the change
// committed; a failure is logged, the change stands.
func (s *Service) InitiativeEvent(ctx context.Context, e initiative.Event) {
	if err := s.initiativeEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "initiative notification not created", slog.String("kind", string(e.Kind)),
			slog.Int64("initiative_id", e.InitiativeID), slog.String("error", err.Error()))
	}
}

func (s *Service) initiativeEvent(ctx context.Context, e initiative.Event) error {
	var to []int64
	switch e.Kind {
	case initiative.EventJoined:
		to = []int64{e.ProposerID}
	case initiative.EventApprovalRequested, initiative.EventHidden:
		if err := store.Select(ctx, s.db, &to, `SELECT id FROM users WHERE role = 'SECRETARIAT' AND deleted_at IS NULL ORDER BY id`); err != nil {
			return fmt.Errorf("secretariat: %w", err)
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
		return nil
	}
	params := map[string]any{"Initiative": e.Name, "Message": e.Message}
	if e.OrganisationID != 0 {
		var name string
		if err := store.Get(ctx, s.db, &name, `SELECT name FROM organisations WHERE id = ?`, e.OrganisationID); err == nil {
			params["Organisation"] = name
		}
	}
	if e.ActorID != 0 {
		var name string
		if err := store.Get(ctx, s.db, &name, `SELECT display_name FROM users WHERE id = ?`, e.ActorID); err == nil {
			params["Person"] = name
		}
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
	return s.notifyInOwnTx(ctx, ns)
}
