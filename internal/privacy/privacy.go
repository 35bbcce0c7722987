// Package privacy is the one place that knows every piece of personal data
// the backend keeps, so that a person can download all of it and delete
// their account, as the GDPR gives them the right to. A table that gains
// personal data must be added here.
package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// ClaimCanceller cancels a person's upcoming claims inside the deleting
// transaction (promoting from waitlists) and returns the events to publish.
type ClaimCanceller func(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) ([]event.Event, error)

// SessionRevoker ends every session of a sign-in account
// (auth.SessionRevoker: Firebase revokes the refresh tokens).
type SessionRevoker interface {
	RevokeSessions(ctx context.Context, uid string) error
}

// Service exports and deletes personal data.
type Service struct {
	db           *store.DB
	bus          event.Publisher
	cancelClaims ClaimCanceller
	now          func() time.Time
	sessions     SessionRevoker
	blobs        media.Store
	guests       ParticipationForgetter
}

// ParticipationForgetter removes a person's sign-ups to activities inside
// the deleting transaction, giving their seats to the waitlists
// (participation.Service).
type ParticipationForgetter interface {
	ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error
	// CancelPersonTx cancels the person's upcoming sign-ups (a child
	// restricted until a guardian consents; RestrictionTx).
	CancelPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) ([]event.Event, error)
}

// SetParticipations makes account deletion remove the person's sign-ups
// to activities.
func (s *Service) SetParticipations(p ParticipationForgetter) { s.guests = p }

// NewService returns a Service on db; cancel may be nil in tests that have
// no volunteer claims. now is the clock.
func NewService(db *store.DB, bus event.Publisher, cancel ClaimCanceller, now func() time.Time) *Service {
	return &Service{db: db, bus: bus, cancelClaims: cancel, now: now}
}

// SetSessions makes account deletion end the account's sign-in sessions
// first (the server's verifier: Firebase or the local signer).
func (s *Service) SetSessions(r SessionRevoker) { s.sessions = r }

// SetMedia gives the service the blob store, so that the photo files of
// deleted stories are removed at once rather than by the housekeeping.
func (s *Service) SetMedia(blobs media.Store) { s.blobs = blobs }

// Export gathers everything we hold about the caller.
func (s *Service) Export(ctx context.Context, c user.Caller) (Export, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Export{}, err
	}
	return exportPerson(ctx, s.db, c.UserID, s.now().UTC())
}

// StoryChoice is what happens to a deleted person's stories.
type StoryChoice string

const (
	// DeleteStories removes them.
	DeleteStories StoryChoice = "DELETE"
	// AnonymiseStories keeps published stories without the author's name.
	AnonymiseStories StoryChoice = "ANONYMISE"
)

// DeleteAccount removes the caller's personal data. The row stays as an
// anonymous tombstone so that hours already given still count in the
// municipality's statistics without saying by whom.
//
// The sign-in sessions end first: Firebase revokes the account's refresh
// tokens, and should that fail nothing is deleted and the person may try
// again. Tokens issued before the deletion are refused from then on
// (user.ErasedUID), so an old token cannot make the account again; a new
// sign-in starts afresh.
func (s *Service) DeleteAccount(ctx context.Context, c user.Caller, stories StoryChoice) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	if stories != DeleteStories && stories != AnonymiseStories {
		return apperr.New(apperr.CodeInvalid, "stories")
	}
	if s.sessions != nil {
		var uid *string
		if err := store.Get(ctx, s.db, &uid, `SELECT firebase_uid FROM users WHERE id = ?`, c.UserID); err != nil {
			return fmt.Errorf("sign-in of user %d: %w", c.UserID, err)
		}
		if uid != nil {
			if err := s.sessions.RevokeSessions(ctx, *uid); err != nil {
				return fmt.Errorf("end sessions of user %d before deleting: %w", c.UserID, err)
			}
		}
	}
	now := s.now()
	keep := stories == AnonymiseStories
	var events []event.Event
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if s.cancelClaims != nil {
			evs, err := s.cancelClaims(ctx, tx, c.UserID, now)
			if err != nil {
				return fmt.Errorf("cancel claims: %w", err)
			}
			events = evs
			// People promoted into the freed places are told through the
			// outbox, in this transaction.
			if err := s.bus.Record(ctx, tx, events...); err != nil {
				return err
			}
		}
		// Each table is cleared by the package that writes it.
		if err := organisation.RemovePersonTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := volunteer.ForgetPersonTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := story.ForgetAuthorTx(ctx, tx, c.UserID, keep, now); err != nil {
			return err
		}
		if err := initiative.ForgetPersonTx(ctx, tx, c.UserID, keep, now); err != nil {
			return err
		}
		if err := notify.ForgetPersonTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := activity.ForgetCreatorTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := changelog.ForgetPersonTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := calimport.ForgetCreatorTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if s.guests != nil {
			if err := s.guests.ForgetPersonTx(ctx, tx, c.UserID, now); err != nil {
				return err
			}
		}
		if err := forgetLinksTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		return user.EraseTx(ctx, tx, c.UserID, now)
	})
	if err != nil {
		return err
	}
	s.bus.Publish(ctx, events...)
	if s.blobs != nil {
		// The files are recorded for removal; this only spares them the
		// wait for the housekeeping.
		if _, err := media.Sweep(context.WithoutCancel(ctx), s.db, s.blobs, sweepAfterDelete); err != nil {
			slog.ErrorContext(ctx, "remove photos of a deleted account; the housekeeping retries", slog.Any("error", err))
		}
	}
	return nil
}

// sweepAfterDelete bounds the photo files one deletion removes itself.
const sweepAfterDelete = 500

// Housekeep does what must happen a while after a deletion: photo files
// whose removal failed are tried again, and tombstones forget the hash of
// their sign-in uid once no token from before the deletion can still be
// valid (user.ErasedUIDRetention), and expired export links go. Each step
// is idempotent.
func (s *Service) Housekeep(ctx context.Context, now time.Time) error {
	var errs []error
	if s.blobs != nil {
		if _, err := media.Sweep(ctx, s.db, s.blobs, 10000); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := user.ForgetErasedUIDs(ctx, s.db, now.Add(-user.ErasedUIDRetention)); err != nil {
		errs = append(errs, err)
	}
	if _, err := removeExpiredLinks(ctx, s.db, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
