package privacy

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/story"
)

// RestrictionTx is the user.RestrictionHook: it runs inside the
// transaction in which a person becomes a child under 13 without a
// guardian's consent (they said UNDER_13 after having signed up or
// written, or the secretariat withdrew the consent), or stops being one
// (consent recorded).
//
// A restricted person ends up where a child who declared first would be:
// browsing only. Their upcoming volunteer claims are released through the
// release path account deletion uses (the waitlist promoted, the promoted
// told, organisers told, all through the outbox in this transaction);
// their upcoming sign-ups as a guest are cancelled and the seats go to
// the waitlists; they leave the initiatives they joined (members are
// listed by name); their stories are withheld from everyone but
// themself and kept (story.WithholdAuthorTx). When consent is recorded
// the stories come back as they were; claims and sign-ups do not: the
// places went to others, and the child signs up again.
func (s *Service) RestrictionTx(ctx context.Context, tx *sqlx.Tx, userID int64, restricted bool, now time.Time) (func(context.Context), error) {
	if !restricted {
		return nil, story.RestoreAuthorTx(ctx, tx, userID, now)
	}
	var told, live []event.Event
	if s.cancelClaims != nil {
		evs, err := s.cancelClaims(ctx, tx, userID, now)
		if err != nil {
			return nil, err
		}
		told = evs
		if err := s.bus.Record(ctx, tx, told...); err != nil {
			return nil, err
		}
	}
	if s.guests != nil {
		evs, err := s.guests.CancelPersonTx(ctx, tx, userID, now)
		if err != nil {
			return nil, err
		}
		live = evs
	}
	if err := story.WithholdAuthorTx(ctx, tx, userID, now); err != nil {
		return nil, err
	}
	if err := initiative.LeaveAllTx(ctx, tx, userID); err != nil {
		return nil, err
	}
	events := append(told, live...)
	return func(ctx context.Context) { s.bus.Publish(ctx, events...) }, nil
}
