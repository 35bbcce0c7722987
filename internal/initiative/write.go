package initiative

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Codes of the user errors this package raises, beside the shared ones.
const (
	CodeNotFound             = "INITIATIVE_NOT_FOUND"
	CodeNotOpen              = "INITIATIVE_NOT_OPEN"
	CodeNotProposed          = "INITIATIVE_NOT_PROPOSED"
	CodeUnderReview          = "INITIATIVE_UNDER_REVIEW"
	CodeApprovalNotRequested = "APPROVAL_NOT_REQUESTED"
	CodeTooManyProposals     = "TOO_MANY_PROPOSALS"
	CodeAlreadyJoined        = "INITIATIVE_ALREADY_JOINED"
	CodeNotJoined            = "INITIATIVE_NOT_JOINED"
	CodeOwnInitiative        = "OWN_INITIATIVE"
	CodeNotAMember           = "INITIATIVE_NOT_A_MEMBER"
	CodeAlreadyReported      = "INITIATIVE_ALREADY_REPORTED"
)

const (
	maxName          = 120 // it becomes an organisation's name, which allows 120
	maxDescription   = 5000
	maxNeighbourhood = 100
	maxHelpNeeded    = 1000
	maxMessage       = 500
	maxMergeMessage  = 1000
	// A person with this many open proposals is asked to let one grow or
	// close before starting another; it also limits what spam can do.
	maxOpenProposals = 5
)

// DefaultStaleAfter is how long a proposal nobody joined stays open.
const DefaultStaleAfter = 90 * 24 * time.Hour

// Input is a proposal as a resident writes it. The place is either one of
// the places we know or a neighbourhood in words ("Vejleåparken blok 3"),
// or neither for something town-wide such as a blog.
type Input struct {
	Name          string
	Description   string
	PlaceID       *int64
	Neighbourhood string
	Themes        []string
	HelpNeeded    string
}

func (s *Service) validate(ctx context.Context, in *Input) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	in.Neighbourhood = strings.TrimSpace(in.Neighbourhood)
	in.HelpNeeded = strings.TrimSpace(in.HelpNeeded)
	var errs apperr.List
	checkText(&errs, in.Name, maxName, true, "name")
	checkText(&errs, in.Description, maxDescription, true, "description")
	checkText(&errs, in.Neighbourhood, maxNeighbourhood, false, "neighbourhood")
	checkText(&errs, in.HelpNeeded, maxHelpNeeded, false, "helpNeeded")
	in.Themes = dedupe(in.Themes)
	if err := s.themes.Validate(ctx, in.Themes, "themes"); err != nil {
		ues := apperr.UserErrors(err)
		if ues == nil {
			return err
		}
		errs = append(errs, ues...)
	}
	if in.PlaceID != nil {
		var n int
		if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM places WHERE id = ?`, *in.PlaceID); err != nil {
			return fmt.Errorf("check place: %w", err)
		}
		if n == 0 {
			errs.Add("PLACE_NOT_FOUND", "placeId")
		}
	}
	return errs.Err()
}

func checkText(errs *apperr.List, s string, max int, required bool, field string) {
	switch {
	case s == "" && required:
		errs.Add(apperr.CodeRequired, field)
	case len([]rune(s)) > max:
		errs.Add(apperr.CodeTooLong, field).With("Max", max)
	}
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func searchText(in Input) string {
	return store.SearchText(in.Name, in.Description, in.Neighbourhood, in.HelpNeeded)
}

// Propose starts a new initiative, visible to everyone at once as a
// proposal. Only verified residents propose: others will give it their
// time on the strength of who is behind it.
func (s *Service) Propose(ctx context.Context, c user.Caller, in Input) (Initiative, error) {
	if err := c.RequireShown(); err != nil {
		return Initiative{}, err
	}
	if err := s.validate(ctx, &in); err != nil {
		return Initiative{}, err
	}
	var created Initiative
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var open int
		if err := store.Get(ctx, tx, &open, `SELECT COUNT(*) FROM initiatives WHERE proposer_id = ? AND status = 'PROPOSED'`, c.UserID); err != nil {
			return fmt.Errorf("count open proposals: %w", err)
		}
		if open >= maxOpenProposals {
			return apperr.New(CodeTooManyProposals).With("Max", maxOpenProposals)
		}
		now := s.now()
		var id int64
		err := store.Get(ctx, tx, &id, `INSERT INTO initiatives
			(name, description, search_title, search_text, place_id, neighbourhood, help_needed, status, proposer_id,
			 created_at, updated_at, last_activity_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'PROPOSED', ?, ?, ?, ?) RETURNING id`,
			in.Name, in.Description, store.SearchText(in.Name), searchText(in), in.PlaceID, in.Neighbourhood, in.HelpNeeded, c.UserID, now, now, now)
		if err != nil {
			return fmt.Errorf("insert initiative: %w", err)
		}
		for _, t := range in.Themes {
			if _, err := store.Exec(ctx, tx, `INSERT INTO initiative_themes (initiative_id, theme) VALUES (?, ?)`, id, t); err != nil {
				return fmt.Errorf("insert theme: %w", err)
			}
		}
		if created, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventProposed, InitiativeID: created.ID, Name: created.Name, ProposerID: c.UserID, ActorID: c.UserID})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "propose initiative")
	}
	return created, nil
}

// lock reads the initiative inside tx, locked against concurrent changes.
func (s *Service) lock(ctx context.Context, tx *sqlx.Tx, id int64) (Initiative, error) {
	var in Initiative
	err := store.Get(ctx, tx, &in, `SELECT `+columns+` FROM initiatives i WHERE i.id = ?`+s.db.ForUpdate(), id)
	if errors.Is(err, store.ErrNotFound) {
		return Initiative{}, apperr.New(CodeNotFound, "id")
	}
	if err != nil {
		return Initiative{}, fmt.Errorf("initiative %d: %w", id, err)
	}
	return in, nil
}

func memberIDs(ctx context.Context, q store.Querier, id int64) ([]int64, error) {
	var ids []int64
	if err := store.Select(ctx, q, &ids, `SELECT user_id FROM initiative_members WHERE initiative_id = ? ORDER BY created_at, user_id`, id); err != nil {
		return nil, fmt.Errorf("members of initiative %d: %w", id, err)
	}
	return ids, nil
}

// RequestApproval is the proposer asking the secretariat to make the
// proposal an organisation. Asking twice changes nothing.
func (s *Service) RequestApproval(ctx context.Context, c user.Caller, id int64) (Initiative, error) {
	if err := c.RequireVerified(); err != nil {
		return Initiative{}, err
	}
	var out Initiative
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !in.ProposedBy(c) {
			return apperr.ErrForbidden
		}
		if err := requireProposed(in); err != nil {
			return err
		}
		if in.ApprovalRequestedAt != nil {
			out = in
			return nil
		}
		now := s.now()
		_, err = store.Exec(ctx, tx, `UPDATE initiatives SET approval_requested_at = ?, updated_at = ?, last_activity_at = ?
			WHERE id = ?`, now, now, now, id)
		if err != nil {
			return fmt.Errorf("request approval: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventApprovalRequested, InitiativeID: id, Name: out.Name, ProposerID: c.UserID, ActorID: c.UserID})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "request approval of initiative %d", id)
	}
	return out, nil
}

func requireProposed(in Initiative) error {
	if in.Status != Proposed {
		return apperr.New(CodeNotProposed)
	}
	if in.Hidden {
		return apperr.New(CodeUnderReview)
	}
	return nil
}

// Approve turns a proposal into an organisation of kind INFORMAL_INITIATIVE
// named like it. The proposer and the members the secretariat picks (with
// the proposer) become its organisers, so from then on they publish
// activities and slots like any other organisation. It all happens in one
// transaction: there is never an organisation without its organisers or an
// ACTIVE initiative without its organisation.
func (s *Service) Approve(ctx context.Context, c user.Caller, id int64, organiserUserIDs []int64) (Initiative, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Initiative{}, err
	}
	var (
		out        Initiative
		members    []int64
		organisers []int64
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireProposed(in); err != nil {
			return err
		}
		if in.ApprovalRequestedAt == nil {
			return apperr.New(CodeApprovalNotRequested)
		}
		if members, err = memberIDs(ctx, tx, id); err != nil {
			return err
		}
		isMember := make(map[int64]bool, len(members))
		for _, m := range members {
			isMember[m] = true
		}
		organisers = organisers[:0]
		picked := map[int64]bool{}
		if in.ProposerID != nil {
			organisers = append(organisers, *in.ProposerID)
			picked[*in.ProposerID] = true
		}
		var errs apperr.List
		for i, uid := range organiserUserIDs {
			if picked[uid] {
				continue
			}
			if !isMember[uid] {
				errs.Add(CodeNotAMember, "organiserUserIds", fmt.Sprint(i))
				continue
			}
			picked[uid] = true
			organisers = append(organisers, uid)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if len(organisers) == 0 {
			// The proposer's account is gone and nobody was picked.
			return apperr.New(apperr.CodeRequired, "organiserUserIds")
		}

		now := s.now()
		orgID, err := organisation.CreateTx(ctx, tx, organisation.Input{
			Name: in.Name, Kind: organisation.InformalInitiative, Description: in.Description}, now)
		if err != nil {
			return err
		}
		for _, uid := range organisers {
			if err := organisation.AddOrganiserTx(ctx, tx, orgID, uid, c.UserID, now); err != nil {
				return err
			}
		}
		_, err = store.Exec(ctx, tx, `UPDATE initiatives SET status = 'ACTIVE', organisation_id = ?, updated_at = ?, last_activity_at = ?
			WHERE id = ?`, orgID, now, now, id)
		if err != nil {
			return fmt.Errorf("activate initiative: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventApproved, InitiativeID: id, Name: out.Name, ProposerID: idOf(out.ProposerID), ActorID: c.UserID,
			OrganisationID: idOf(out.OrganisationID), MemberIDs: members, OrganiserIDs: organisers})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "approve initiative %d", id)
	}
	return out, nil
}

// Merge folds a proposal into an organisation that already does the same,
// with a message from the secretariat to everyone who joined ("the local
// history society already does this – join them").
func (s *Service) Merge(ctx context.Context, c user.Caller, id, organisationID int64, message string) (Initiative, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Initiative{}, err
	}
	message = strings.TrimSpace(message)
	var errs apperr.List
	checkText(&errs, message, maxMergeMessage, true, "message")
	if err := errs.Err(); err != nil {
		return Initiative{}, err
	}
	var (
		out     Initiative
		members []int64
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireProposed(in); err != nil {
			return err
		}
		var n int
		if err := store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM organisations WHERE id = ?`, organisationID); err != nil {
			return fmt.Errorf("check organisation: %w", err)
		}
		if n == 0 {
			return apperr.New("ORGANISATION_NOT_FOUND", "organisationId")
		}
		if members, err = memberIDs(ctx, tx, id); err != nil {
			return err
		}
		now := s.now()
		_, err = store.Exec(ctx, tx, `UPDATE initiatives SET status = 'MERGED', organisation_id = ?, merge_message = ?,
			closed_at = ?, updated_at = ?, last_activity_at = ? WHERE id = ?`, organisationID, message, now, now, now, id)
		if err != nil {
			return fmt.Errorf("merge initiative: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventMerged, InitiativeID: id, Name: out.Name, ProposerID: idOf(out.ProposerID), ActorID: c.UserID,
			OrganisationID: organisationID, MemberIDs: members, Message: message})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "merge initiative %d", id)
	}
	return out, nil
}

// Close ends a proposal (or the initiative record of an active one; its
// organisation lives on). The proposer and the secretariat may.
func (s *Service) Close(ctx context.Context, c user.Caller, id int64) (Initiative, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Initiative{}, err
	}
	var (
		out     Initiative
		members []int64
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		reason := ClosedByProposer
		switch {
		case in.ProposedBy(c):
		case c.Secretariat:
			reason = ClosedBySecretariat
		default:
			return apperr.ErrForbidden
		}
		if in.Status != Proposed && in.Status != Active {
			return apperr.New(CodeNotOpen)
		}
		if members, err = memberIDs(ctx, tx, id); err != nil {
			return err
		}
		now := s.now()
		_, err = store.Exec(ctx, tx, `UPDATE initiatives SET status = 'CLOSED', close_reason = ?, closed_at = ?, updated_at = ?
			WHERE id = ?`, reason, now, now, id)
		if err != nil {
			return fmt.Errorf("close initiative: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Kind: EventClosed, InitiativeID: id, Name: out.Name, ProposerID: idOf(out.ProposerID), ActorID: c.UserID,
			MemberIDs: members})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "close initiative %d", id)
	}
	return out, nil
}

// CloseStale quietly closes proposals nobody has joined whose last sign of
// life is older than after (DefaultStaleAfter when zero), telling each
// proposer. A periodic job calls it; it returns how many it closed.
func (s *Service) CloseStale(ctx context.Context, now time.Time, after time.Duration) (int, error) {
	if after <= 0 {
		after = DefaultStaleAfter
	}
	now = now.UTC()
	var closed []struct {
		ID         int64  `db:"id"`
		Name       string `db:"name"`
		ProposerID *int64 `db:"proposer_id"`
	}
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		err := store.Select(ctx, tx, &closed, `UPDATE initiatives
			SET status = 'CLOSED', close_reason = 'STALE', closed_at = ?, updated_at = ?
			WHERE status = 'PROPOSED' AND last_activity_at < ?
			  AND NOT EXISTS (SELECT 1 FROM initiative_members m WHERE m.initiative_id = initiatives.id)
			RETURNING id, name, proposer_id`, now, now, now.Add(-after))
		if err != nil {
			return fmt.Errorf("close stale initiatives: %w", err)
		}
		events := make([]Event, len(closed))
		for i, c := range closed {
			events[i] = Event{Kind: EventClosedStale, InitiativeID: c.ID, Name: c.Name, ProposerID: idOf(c.ProposerID)}
		}
		return s.record(ctx, tx, events...)
	})
	if err != nil {
		return 0, err
	}
	return len(closed), nil
}

// wrapFault adds context to internal faults and leaves user errors and the
// authorisation sentinels as they are, so the edge can still recognise them.
func wrapFault(err error, format string, args ...any) error {
	if apperr.UserErrors(err) != nil || errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrUnauthenticated) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// RefreshSearch folds the search text of initiatives written before
// migration 00015 (those whose search_title is NULL) and reports how many
// it folded. The server runs it at start; it does nothing once every row
// is folded.
func RefreshSearch(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	for {
		var rows []struct {
			ID            int64  `db:"id"`
			Name          string `db:"name"`
			Description   string `db:"description"`
			Neighbourhood string `db:"neighbourhood"`
			HelpNeeded    string `db:"help_needed"`
		}
		err := store.Select(ctx, db, &rows, `SELECT id, name, description, neighbourhood, help_needed FROM initiatives WHERE search_title IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return n, fmt.Errorf("initiatives to fold: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if _, err := store.Exec(ctx, tx, `UPDATE initiatives SET search_title = ?, search_text = ? WHERE id = ?`,
					store.SearchText(r.Name), store.SearchText(r.Name, r.Description, r.Neighbourhood, r.HelpNeeded), r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("fold search text of initiatives: %w", err)
		}
		n += len(rows)
	}
}
