package initiative

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Member is a person who joined an initiative. Email and Phone are nil
// unless the one asking may see contact details.
type Member struct {
	UserID      int64     `db:"user_id"`
	DisplayName string    `db:"display_name"`
	Message     string    `db:"message"`
	JoinedAt    time.Time `db:"created_at"`
	Email       *string   `db:"email"`
	Phone       *string   `db:"phone"`
}

// ContactVisibleTo reports whether c may see the e-mail and phone number
// of the people who joined: the proposer, the organisers of the
// organisation it became, and the secretariat. Joining is a light "count
// me in", not consent to be contacted by anyone else – not even by the
// organisation a proposal was merged into.
func (in Initiative) ContactVisibleTo(c user.Caller) bool {
	if !c.SignedIn() {
		return false
	}
	if c.Secretariat || in.ProposedBy(c) {
		return true
	}
	return in.Status == Active && in.OrganisationID != nil && c.Organises[*in.OrganisationID]
}

// Join is a verified resident saying "count me in", with an optional short
// note to the proposer. Once per person; not on closed or merged
// initiatives, and not on one's own.
func (s *Service) Join(ctx context.Context, c user.Caller, id int64, message string) (Initiative, error) {
	if err := c.RequireShown(); err != nil {
		return Initiative{}, err
	}
	message = strings.TrimSpace(message)
	var errs apperr.List
	checkText(&errs, message, maxMessage, false, "message")
	if err := errs.Err(); err != nil {
		return Initiative{}, err
	}
	var out Initiative
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case in.Hidden:
			// Hidden while under review: as if it were not there.
			return apperr.New(CodeNotFound, "id")
		case in.Status != Proposed && in.Status != Active:
			return apperr.New(CodeNotOpen)
		case in.ProposedBy(c):
			return apperr.New(CodeOwnInitiative)
		}
		now := s.now()
		_, err = store.Exec(ctx, tx, `INSERT INTO initiative_members (initiative_id, user_id, message, created_at) VALUES (?, ?, ?, ?)`,
			id, c.UserID, message, now)
		if store.IsAlreadyExists(err) {
			return apperr.New(CodeAlreadyJoined)
		}
		if err != nil {
			return fmt.Errorf("insert member: %w", err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE initiatives SET last_activity_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("touch initiative: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventJoined, InitiativeID: id, Name: out.Name, ProposerID: idOf(out.ProposerID), ActorID: c.UserID,
			OrganisationID: idOf(out.OrganisationID), MemberIDs: []int64{c.UserID}, Message: message})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "join initiative %d", id)
	}
	return out, nil
}

// Leave takes back a "count me in".
func (s *Service) Leave(ctx context.Context, c user.Caller, id int64) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	n, err := store.Exec(ctx, s.db, `DELETE FROM initiative_members WHERE initiative_id = ? AND user_id = ?`, id, c.UserID)
	if err != nil {
		return fmt.Errorf("leave initiative %d: %w", id, err)
	}
	if n == 0 {
		return apperr.New(CodeNotJoined)
	}
	return nil
}

// LeaveAllTx takes back every "count me in" of userID, inside the
// caller's transaction: a child under 13 without a guardian's consent
// shows their name nowhere (privacy.RestrictionTx), and members are
// listed by name to everyone signed in. Rejoining after consent is the
// child's own choice, as for claims and sign-ups.
func LeaveAllTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM initiative_members WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("leave the initiatives of user %d: %w", userID, err)
	}
	return nil
}

// Members returns the people who joined, first joined first, to anyone
// signed in who may see the initiative; for anyone else (a visitor, or an
// initiative hidden from c) it returns nil (a restricted field: null).
// Contact details are filled in only for those ContactVisibleTo allows,
// and for the caller's own entry.
func (s *Service) Members(ctx context.Context, c user.Caller, id int64) ([]Member, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	in, err := s.Initiative(ctx, c, id)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	members := []Member{}
	err = store.Select(ctx, s.db, &members, `SELECT m.user_id, u.display_name, m.message, m.created_at, u.email, u.phone
		FROM initiative_members m JOIN users u ON u.id = m.user_id
		WHERE m.initiative_id = ? AND u.deleted_at IS NULL
		ORDER BY m.created_at, m.user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("members of initiative %d: %w", id, err)
	}
	if !in.ContactVisibleTo(c) {
		for i := range members {
			if members[i].UserID != c.UserID {
				members[i].Email, members[i].Phone = nil, nil
			}
		}
	}
	return members, nil
}
