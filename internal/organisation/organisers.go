package organisation

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// User error codes about organisers and invitations.
const (
	CodeOrganisationNotFound   = "ORGANISATION_NOT_FOUND"
	CodeUserNotFound           = "USER_NOT_FOUND"
	CodeAlreadyOrganiser       = "ALREADY_ORGANISER"
	CodeNotOrganiser           = "NOT_ORGANISER"
	CodeLastOrganiser          = "LAST_ORGANISER"
	CodeOrganiserSenior        = "ORGANISER_SENIOR"
	CodeAlreadyInvited         = "ALREADY_INVITED"
	CodeInvitationNotFound     = "INVITATION_NOT_FOUND"
	CodeInvitationNotPending   = "INVITATION_NOT_PENDING"
	CodeInvitationExpired      = "INVITATION_EXPIRED"
	CodeInvitationWrongAccount = "INVITATION_WRONG_ACCOUNT"
	CodeTooManyInvitations     = "TOO_MANY_INVITATIONS"
)

// Invitation statuses. Expired is not stored: it is a pending invitation
// past its expiry.
const (
	InvitationPending  = "PENDING"
	InvitationAccepted = "ACCEPTED"
	InvitationDeclined = "DECLINED"
	InvitationRevoked  = "REVOKED"
	InvitationExpired  = "EXPIRED"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 30 * 24 * time.Hour

// MaxPendingInvitations is how many unanswered invitations an
// organisation may have out at once, so an organiser cannot fill people's
// inboxes; an association gains a few organisers at a time.
const MaxPendingInvitations = 20

// Invitation asks a person to become organiser of an organisation. Being
// named is not being an organiser: the person accepts first (hole 4 of
// issue 15: naming someone organiser used to show the namer their e-mail
// and phone). The secretariat's act takes effect directly, but a grant to
// an address still binds only to an account that has proven it.
type Invitation struct {
	ID             int64 `db:"id"`
	OrganisationID int64 `db:"organisation_id"`
	// UserID is the invitee once known: named by id, or the account that
	// proved the address an invitation by e-mail was sent to.
	UserID *int64 `db:"user_id"`
	// Email is the address an invitation by e-mail went to; nil for one
	// by id.
	Email       *string    `db:"email"`
	InvitedBy   *int64     `db:"invited_by"`
	Direct      bool       `db:"direct"`
	Status      string     `db:"status"`
	CreatedAt   time.Time  `db:"created_at"`
	ExpiresAt   time.Time  `db:"expires_at"`
	RespondedAt *time.Time `db:"responded_at"`
	// InviteeName is the invitee's display name where the caller may see
	// it: the invitee, and the organisation's organisers for an invitation
	// by id (they could see the person before). For an invitation by
	// e-mail it stays empty until accepted, so an invitation never tells
	// whether an address has an account here.
	InviteeName string `db:"invitee_name"`
	// InviterName is who invited, as the invitee sees it.
	InviterName string `db:"inviter_name"`
}

// State is the status as the app shows it, EXPIRED included.
func (inv Invitation) State(now time.Time) string {
	if inv.Status == InvitationPending && !now.Before(inv.ExpiresAt) {
		return InvitationExpired
	}
	return inv.Status
}

// Notifier tells invitees about their invitation, inside the transaction
// that makes it; *notify.Service is one. Without one (tools, tests) the
// invitation is still shown in the app.
type Notifier interface {
	OrganiserInvited(ctx context.Context, tx *sqlx.Tx, inv Invitation) error
}

// SetNotifier sets who tells invitees; call it while wiring.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

const invitationColumns = `i.id, i.organisation_id, i.user_id, i.email, i.invited_by, i.direct, i.status,
	i.created_at, i.expires_at, i.responded_at,
	COALESCE(invitee.display_name, '') AS invitee_name, COALESCE(inviter.display_name, '') AS inviter_name`

const invitationFrom = ` FROM organiser_invitations i
	LEFT JOIN users invitee ON invitee.id = i.user_id
	LEFT JOIN users inviter ON inviter.id = i.invited_by`

func invitationByID(ctx context.Context, q store.Querier, id int64) (Invitation, error) {
	var inv Invitation
	if err := store.Get(ctx, q, &inv, `SELECT `+invitationColumns+invitationFrom+` WHERE i.id = ?`, id); err != nil {
		return Invitation{}, fmt.Errorf("invitation %d: %w", id, err)
	}
	return inv, nil
}

// provenEmail is the address the caller's account has proven, or "".
func provenEmail(ctx context.Context, q store.Querier, userID int64) (string, error) {
	var email *string
	err := store.Get(ctx, q, &email, `SELECT email FROM users
		WHERE id = ? AND email_verified AND firebase_uid IS NOT NULL AND deleted_at IS NULL`, userID)
	if errors.Is(err, store.ErrNotFound) || email == nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("e-mail of user %d: %w", userID, err)
	}
	return *email, nil
}

// addressedTo reports whether inv is for the caller, whose proven address
// is email.
func (inv Invitation) addressedTo(c user.Caller, email string) bool {
	if inv.UserID != nil {
		return *inv.UserID == c.UserID
	}
	return inv.Email != nil && email != "" && *inv.Email == email
}

// redact leaves what c may see of an invitation they may see at all.
func (inv Invitation) redact(c user.Caller, invitee bool) Invitation {
	if invitee {
		return inv
	}
	if inv.Email != nil && inv.Status != InvitationAccepted {
		inv.InviteeName = ""
		inv.UserID = nil
	}
	return inv
}

// InviteInput names the person to invite: by id, or by e-mail.
type InviteInput struct {
	OrganisationID int64
	UserID         int64
	Email          string
}

// Invite asks a person to become organiser of an organisation; its
// organisers and the secretariat may. The answer is the invitation as the
// caller may see it: it never shows the invitee's e-mail or phone.
//
//   - By e-mail: an account that has proven the address gets the
//     invitation (and is told); otherwise it waits for the first account
//     to prove it. An unverified account for the address never sees it.
//   - By id: an organiser may invite only someone they can already see
//     (user.ContactVisible: a volunteer of their activities, a fellow
//     organiser elsewhere); anyone else is USER_NOT_FOUND, so ids cannot
//     be tried one after another.
//   - The secretariat's invitation takes effect at once (the invitation is
//     recorded ACCEPTED) when it names a verified account; one to an
//     address no account has proven is applied at that account's first
//     verified sign-in.
func (s *Service) Invite(ctx context.Context, c user.Caller, in InviteInput) (Invitation, error) {
	if err := c.RequireShown(); err != nil {
		return Invitation{}, err
	}
	if err := c.RequireOrganiserOf(in.OrganisationID); err != nil {
		return Invitation{}, err
	}
	if _, err := s.byID(ctx, in.OrganisationID); err != nil {
		if store.IsNotFound(err) {
			return Invitation{}, apperr.New(CodeOrganisationNotFound, "organisationId")
		}
		return Invitation{}, err
	}
	email, err := inviteAddress(in)
	if err != nil {
		return Invitation{}, err
	}
	var id int64
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		inv := Invitation{OrganisationID: in.OrganisationID, InvitedBy: &c.UserID, Status: InvitationPending,
			CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
		var verified bool
		if email != "" {
			inv.Email = &email
			var target struct {
				ID int64 `db:"id"`
			}
			err := store.Get(ctx, tx, &target, `SELECT id FROM users
				WHERE email = ? AND email_verified AND firebase_uid IS NOT NULL AND deleted_at IS NULL`, email)
			switch {
			case err == nil:
				inv.UserID, verified = &target.ID, true
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("find invitee by e-mail: %w", err)
			}
			inv.Direct = c.Secretariat
		} else {
			var target user.User
			err := store.Get(ctx, tx, &target, `SELECT id, anonymous, email_verified, phone, deleted_at FROM users WHERE id = ?`, in.UserID)
			if errors.Is(err, store.ErrNotFound) || target.DeletedAt != nil || target.Anonymous {
				return apperr.New(CodeUserNotFound, "userId")
			}
			if err != nil {
				return fmt.Errorf("find invitee %d: %w", in.UserID, err)
			}
			if !c.Secretariat {
				ok, err := user.ContactVisibleIn(ctx, tx, c, in.UserID)
				if err != nil {
					return err
				}
				if !ok {
					return apperr.New(CodeUserNotFound, "userId")
				}
			}
			inv.UserID = &in.UserID
			verified = target.EmailVerified || target.Phone != nil
		}
		if inv.UserID != nil {
			var n int
			err := store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM organisers WHERE organisation_id = ? AND user_id = ?`, in.OrganisationID, *inv.UserID)
			if err != nil {
				return fmt.Errorf("check organiser: %w", err)
			}
			if n > 0 {
				return apperr.New(CodeAlreadyOrganiser, inviteField(email))
			}
		}
		var pending int
		err := store.Get(ctx, tx, &pending, `SELECT COUNT(*) FROM organiser_invitations
			WHERE organisation_id = ? AND status = 'PENDING' AND expires_at > ? AND (user_id = ? OR email = ?)`,
			in.OrganisationID, now, inv.UserID, inv.Email)
		if err != nil {
			return fmt.Errorf("check invitations: %w", err)
		}
		if pending > 0 {
			return apperr.New(CodeAlreadyInvited, inviteField(email))
		}
		var open int
		err = store.Get(ctx, tx, &open, `SELECT COUNT(*) FROM organiser_invitations
			WHERE organisation_id = ? AND status = 'PENDING' AND expires_at > ?`, in.OrganisationID, now)
		if err != nil {
			return fmt.Errorf("count invitations: %w", err)
		}
		if open >= MaxPendingInvitations && !c.Secretariat {
			return apperr.New(CodeTooManyInvitations, inviteField(email)).With("Max", MaxPendingInvitations)
		}
		// An expired invitation makes way for the new one.
		_, err = store.Exec(ctx, tx, `UPDATE organiser_invitations SET status = 'REVOKED', responded_at = ?
			WHERE organisation_id = ? AND status = 'PENDING' AND (user_id = ? OR email = ?)`,
			now, in.OrganisationID, inv.UserID, inv.Email)
		if err != nil {
			return fmt.Errorf("retire expired invitations: %w", err)
		}
		direct := c.Secretariat && verified
		if direct {
			inv.Status, inv.RespondedAt = InvitationAccepted, &now
		}
		err = store.Get(ctx, tx, &id, `INSERT INTO organiser_invitations
			(organisation_id, user_id, email, invited_by, direct, status, created_at, expires_at, responded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			inv.OrganisationID, inv.UserID, inv.Email, inv.InvitedBy, inv.Direct || direct, inv.Status, inv.CreatedAt, inv.ExpiresAt, inv.RespondedAt)
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		inv.ID = id
		switch {
		case direct:
			return ensureOrganiserTx(ctx, tx, in.OrganisationID, *inv.UserID, &c.UserID, now)
		case inv.UserID != nil && s.notifier != nil:
			return s.notifier.OrganiserInvited(ctx, tx, inv)
		}
		return nil
	})
	if store.IsAlreadyExists(err) {
		// Two invitations of the same person at once: the other won.
		return Invitation{}, apperr.New(CodeAlreadyInvited, inviteField(email))
	}
	if err != nil {
		if apperr.UserErrors(err) != nil {
			return Invitation{}, err
		}
		return Invitation{}, fmt.Errorf("invite organiser to %d: %w", in.OrganisationID, err)
	}
	return s.Invitation(ctx, c, id)
}

func inviteField(email string) string {
	if email != "" {
		return "email"
	}
	return "userId"
}

// inviteAddress checks the input names one person and returns the e-mail
// address, normalised, when it is by e-mail.
func inviteAddress(in InviteInput) (string, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	switch {
	case in.UserID != 0 && email != "":
		return "", apperr.New(apperr.CodeInvalid, "email")
	case in.UserID != 0:
		return "", nil
	case email == "":
		return "", apperr.New(apperr.CodeRequired, "email")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", apperr.New(apperr.CodeInvalid, "email")
	}
	return email, nil
}

// ensureOrganiserTx makes userID organiser of orgID, as AddOrganiserTx does,
// except that being one already is fine: an invitation accepted after the
// secretariat made the person organiser has nothing left to do.
// addedBy is nil when who invited is no longer known.
func ensureOrganiserTx(ctx context.Context, tx *sqlx.Tx, orgID, userID int64, addedBy *int64, now time.Time) error {
	_, err := store.Exec(ctx, tx, `INSERT INTO organisers (organisation_id, user_id, added_by, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (organisation_id, user_id) DO NOTHING`, orgID, userID, addedBy, now)
	if err != nil {
		return fmt.Errorf("add organiser %d to %d: %w", userID, orgID, err)
	}
	return nil
}

// Invitation returns one invitation as c may see it: the invitee, and the
// organisation's organisers and the secretariat. Anyone else gets
// INVITATION_NOT_FOUND.
func (s *Service) Invitation(ctx context.Context, c user.Caller, id int64) (Invitation, error) {
	inv, invitee, err := s.visibleInvitation(ctx, s.db, c, id)
	if err != nil {
		return Invitation{}, err
	}
	return inv.redact(c, invitee), nil
}

func (s *Service) visibleInvitation(ctx context.Context, q store.Querier, c user.Caller, id int64) (Invitation, bool, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Invitation{}, false, err
	}
	inv, err := invitationByID(ctx, q, id)
	if errors.Is(err, store.ErrNotFound) {
		return Invitation{}, false, apperr.New(CodeInvitationNotFound, "invitationId")
	}
	if err != nil {
		return Invitation{}, false, err
	}
	email, err := provenEmail(ctx, q, c.UserID)
	if err != nil {
		return Invitation{}, false, err
	}
	invitee := inv.addressedTo(c, email)
	if !invitee && !c.OrganiserOf(inv.OrganisationID) {
		return Invitation{}, false, apperr.New(CodeInvitationNotFound, "invitationId")
	}
	return inv, invitee, nil
}

// InvitationsByIDs is Invitation for several ids, for the loaders that
// read a mutation's invitation back: those c may not see are left out.
// It reads them one by one, which suits the one id a payload has.
func (s *Service) InvitationsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Invitation, error) {
	var out []Invitation
	for _, id := range ids {
		inv, err := s.Invitation(ctx, c, id)
		if apperr.UserErrors(err) != nil || errors.Is(err, apperr.ErrUnauthenticated) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// InvitationsFor returns the invitations waiting for the caller's answer:
// those naming them, and those sent to the address their account has
// proven. Expired ones are left out.
func (s *Service) InvitationsFor(ctx context.Context, c user.Caller) ([]Invitation, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	email, err := provenEmail(ctx, s.db, c.UserID)
	if err != nil {
		return nil, err
	}
	var invs []Invitation
	err = store.Select(ctx, s.db, &invs, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.status = 'PENDING' AND i.expires_at > ? AND (i.user_id = ? OR (i.user_id IS NULL AND i.email = ?))
		ORDER BY i.id`, s.now(), c.UserID, email)
	if err != nil {
		return nil, fmt.Errorf("invitations of user %d: %w", c.UserID, err)
	}
	return invs, nil
}

// InvitationsOf returns an organisation's open invitations (expired ones
// too, so they can be sent again) for its organisers and the secretariat;
// ok is false for anyone else.
func (s *Service) InvitationsOf(ctx context.Context, c user.Caller, orgID int64) (invs []Invitation, ok bool, err error) {
	if !c.SignedIn() || !c.OrganiserOf(orgID) {
		return nil, false, nil
	}
	err = store.Select(ctx, s.db, &invs, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.organisation_id = ? AND i.status = 'PENDING' ORDER BY i.id`, orgID)
	if err != nil {
		return nil, false, fmt.Errorf("invitations of organisation %d: %w", orgID, err)
	}
	for i := range invs {
		invs[i] = invs[i].redact(c, false)
	}
	return invs, true, nil
}

// AcceptInvitation makes the invitee an organiser. Only the invitee may,
// from an account that is verified; for an invitation by e-mail, from the
// account that proved that address.
func (s *Service) AcceptInvitation(ctx context.Context, c user.Caller, id int64) (Invitation, error) {
	return s.answer(ctx, c, id, InvitationAccepted)
}

// DeclineInvitation says no; only the invitee may.
func (s *Service) DeclineInvitation(ctx context.Context, c user.Caller, id int64) (Invitation, error) {
	return s.answer(ctx, c, id, InvitationDeclined)
}

func (s *Service) answer(ctx context.Context, c user.Caller, id int64, status string) (Invitation, error) {
	// Saying yes puts the person on the organisation's organiser list and
	// under its announcements: that needs a name; saying no does not.
	require := c.RequireVerified
	if status == InvitationAccepted {
		require = c.RequireShown
	}
	if err := require(); err != nil {
		return Invitation{}, err
	}
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		inv, invitee, err := s.visibleInvitation(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if !invitee {
			// An organiser may see it but not answer for someone else.
			return apperr.New(CodeInvitationWrongAccount, "invitationId")
		}
		now := s.now()
		switch inv.State(now) {
		case InvitationPending:
		case InvitationExpired:
			return apperr.New(CodeInvitationExpired, "invitationId")
		default:
			return apperr.New(CodeInvitationNotPending, "invitationId")
		}
		n, err := store.Exec(ctx, tx, `UPDATE organiser_invitations SET status = ?, user_id = ?, responded_at = ?
			WHERE id = ? AND status = 'PENDING'`, status, c.UserID, now, id)
		if err != nil {
			return fmt.Errorf("answer invitation %d: %w", id, err)
		}
		if n == 0 {
			return apperr.New(CodeInvitationNotPending, "invitationId")
		}
		if status != InvitationAccepted {
			return nil
		}
		return ensureOrganiserTx(ctx, tx, inv.OrganisationID, c.UserID, inv.InvitedBy, now)
	})
	if err != nil {
		if apperr.UserErrors(err) != nil || errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrUnauthenticated) {
			return Invitation{}, err
		}
		return Invitation{}, fmt.Errorf("answer invitation %d: %w", id, err)
	}
	return s.Invitation(ctx, c, id)
}

// RevokeInvitation withdraws a pending invitation; the organisation's
// organisers and the secretariat may.
func (s *Service) RevokeInvitation(ctx context.Context, c user.Caller, id int64) (Invitation, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Invitation{}, err
	}
	inv, err := invitationByID(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.OrganiserOf(inv.OrganisationID)) {
		return Invitation{}, apperr.New(CodeInvitationNotFound, "invitationId")
	}
	if err != nil {
		return Invitation{}, err
	}
	n, err := store.Exec(ctx, s.db, `UPDATE organiser_invitations SET status = 'REVOKED', responded_at = ?
		WHERE id = ? AND status = 'PENDING'`, s.now(), id)
	if err != nil {
		return Invitation{}, fmt.Errorf("revoke invitation %d: %w", id, err)
	}
	if n == 0 {
		return Invitation{}, apperr.New(CodeInvitationNotPending, "invitationId")
	}
	return s.Invitation(ctx, c, id)
}

// EmailProvenTx is the sign-in hook (user.Service.OnEmailProven): the
// account userID has just proven address, so the invitations sent to it
// are theirs. The secretariat's are applied at once; the others are shown
// to the person, who is told.
func (s *Service) EmailProvenTx(ctx context.Context, tx *sqlx.Tx, userID int64, address string) error {
	now := s.now()
	var invs []Invitation
	err := store.Select(ctx, tx, &invs, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.email = ? AND i.user_id IS NULL AND i.status = 'PENDING' AND i.expires_at > ? ORDER BY i.id`, address, now)
	if err != nil {
		return fmt.Errorf("invitations to the address of user %d: %w", userID, err)
	}
	for _, inv := range invs {
		inv.UserID = &userID
		if inv.Direct {
			inv.Status, inv.RespondedAt = InvitationAccepted, &now
		}
		_, err := store.Exec(ctx, tx, `UPDATE organiser_invitations SET user_id = ?, status = ?, responded_at = ? WHERE id = ?`,
			userID, inv.Status, inv.RespondedAt, inv.ID)
		if err != nil {
			return fmt.Errorf("bind invitation %d: %w", inv.ID, err)
		}
		if inv.Direct {
			if err := ensureOrganiserTx(ctx, tx, inv.OrganisationID, userID, inv.InvitedBy, now); err != nil {
				return err
			}
			continue
		}
		if s.notifier != nil {
			if err := s.notifier.OrganiserInvited(ctx, tx, inv); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveOrganiser takes organiser rights away. The rule that keeps an
// organisation in the hands of the people who run it (issue 15, hole 1: a
// newcomer removed the real organiser):
//
//   - anyone may step down, unless they are the last organiser;
//   - an organiser may remove only organisers who joined after them, so a
//     newcomer can never remove the people who were there first (as in
//     Mobilizon, where only a group's administrators can remove members
//     and the last administrator cannot leave);
//   - the secretariat may remove anyone, the last organiser too.
func (s *Service) RemoveOrganiser(ctx context.Context, c user.Caller, orgID, userID int64) error {
	if err := c.RequireOrganiserOf(orgID); err != nil {
		return err
	}
	return s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var rows []struct {
			UserID    int64     `db:"user_id"`
			CreatedAt time.Time `db:"created_at"`
		}
		if err := store.Select(ctx, tx, &rows, `SELECT user_id, created_at FROM organisers WHERE organisation_id = ?`, orgID); err != nil {
			return fmt.Errorf("organisers of %d: %w", orgID, err)
		}
		joined := map[int64]time.Time{}
		for _, r := range rows {
			joined[r.UserID] = r.CreatedAt
		}
		target, ok := joined[userID]
		// The caller's rights as of now, not as of their connection_init:
		// a websocket keeps the Caller it was opened with.
		mine, stillOrganiser := joined[c.UserID]
		switch {
		case !c.Secretariat && !stillOrganiser:
			return apperr.ErrForbidden
		case !ok:
			return apperr.New(CodeNotOrganiser, "userId")
		case len(rows) <= 1 && !c.Secretariat:
			return apperr.New(CodeLastOrganiser, "userId")
		case c.Secretariat || c.UserID == userID:
		case !mine.Before(target):
			return apperr.New(CodeOrganiserSenior, "userId")
		}
		if _, err := store.Exec(ctx, tx, `DELETE FROM organisers WHERE organisation_id = ? AND user_id = ?`, orgID, userID); err != nil {
			return fmt.Errorf("remove organiser: %w", err)
		}
		return nil
	})
}

// InvitationRetention is how long an answered, revoked or expired
// invitation is kept: long enough for the organisers to see who declined
// or let one lapse and to invite again, no longer, as it names the invitee
// (an e-mail address or an account) and the inviter.
const InvitationRetention = 90 * 24 * time.Hour

// PurgeInvitations deletes the invitations answered or revoked before
// before, and the unanswered ones that expired before it. It reports how
// many went; housekeeping runs it.
func (s *Service) PurgeInvitations(ctx context.Context, before time.Time) (int64, error) {
	n, err := store.Exec(ctx, s.db, `DELETE FROM organiser_invitations
		WHERE (status <> 'PENDING' AND COALESCE(responded_at, created_at) < ?)
		   OR (status = 'PENDING' AND expires_at < ?)`, before, before)
	if err != nil {
		return 0, fmt.Errorf("purge invitations: %w", err)
	}
	return n, nil
}
