package initiative

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// EventKind names what happened to an initiative.
type EventKind string

// Who each event is meant for, once notifications (internal/notify) take
// them up. The event carries the ids needed; the texts are in the message
// catalogue as push.<kind>.title and .body (locales/initiative.*.json),
// filled with Initiative, Person, Organisation and Message.
const (
	// Proposed: nobody yet. Followers of the initiative's themes and place
	// are the natural audience once following covers initiatives.
	EventProposed EventKind = "INITIATIVE_PROPOSED"
	// Joined: the proposer (and, when active, the organisers of its
	// organisation) – "Mette is in".
	EventJoined EventKind = "INITIATIVE_JOINED"
	// ApprovalRequested: the secretariat.
	EventApprovalRequested EventKind = "INITIATIVE_APPROVAL_REQUESTED"
	// Approved: the proposer, the new organisers and everyone who joined;
	// later also those who follow the initiative ("it has started").
	EventApproved EventKind = "INITIATIVE_APPROVED"
	// Merged: everyone who joined and the proposer, with the secretariat's
	// Message ("the local history society already does this – join them").
	EventMerged EventKind = "INITIATIVE_MERGED"
	// Closed by the proposer or the secretariat: everyone who joined, and
	// the proposer when the secretariat closed it.
	EventClosed EventKind = "INITIATIVE_CLOSED"
	// ClosedStale: the proposer only – nobody joined in time.
	EventClosedStale EventKind = "INITIATIVE_CLOSED_STALE"
	// Hidden after three reports: the secretariat, to review.
	EventHidden EventKind = "INITIATIVE_HIDDEN"
	// Restored or Removed after review: the proposer.
	EventRestored EventKind = "INITIATIVE_RESTORED"
	EventRemoved  EventKind = "INITIATIVE_REMOVED"
)

// Event is one thing that happened to an initiative, handed to the
// Notifier inside the transaction of the change.
type Event struct {
	Kind         EventKind
	InitiativeID int64
	// Name is the initiative's name at the time, for the message text.
	Name string
	// ProposerID is zero when the proposer's account is gone.
	ProposerID int64
	// ActorID is who did it; zero for the stale-closing job.
	ActorID int64
	// OrganisationID is the new organisation (Approved) or the one merged
	// into (Merged).
	OrganisationID int64
	// MemberIDs are the people who had joined when it happened (Approved,
	// Merged, Closed); for Joined it is the one who joined.
	MemberIDs []int64
	// OrganiserIDs are the people made organisers (Approved).
	OrganiserIDs []int64
	// Message is the secretariat's text to the members (Merged) or the
	// joiner's short note to the proposer (Joined).
	Message string
}

// Notifier is told about initiative events inside the transaction of the
// change, so that they are told if and only if it commits. The
// notification service implements it with its outbox.
type Notifier interface {
	RecordInitiativeEvents(ctx context.Context, tx *sqlx.Tx, events ...Event) error
}

func (s *Service) record(ctx context.Context, tx *sqlx.Tx, events ...Event) error {
	if s.notifier == nil || len(events) == 0 {
		return nil
	}
	return s.notifier.RecordInitiativeEvents(ctx, tx, events...)
}

func idOf(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
