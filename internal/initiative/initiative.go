// Package initiative is where residents start something new: a verified
// resident proposes an initiative, others join in with a light "count me
// in", and the secretariat either approves it – it becomes an organisation
// of kind INFORMAL_INITIATIVE whose organisers are the proposer and the
// people they pick – or merges it into an organisation that already does
// the same. Proposals that draw nobody close by themselves, and proposals
// are open to the same reporting and hiding as stories.
package initiative

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// Status is where an initiative is in its life.
type Status string

const (
	// Proposed is visible to everyone and gathering people.
	Proposed Status = "PROPOSED"
	// Active has become an organisation of its own.
	Active Status = "ACTIVE"
	// Merged was folded into an existing organisation.
	Merged Status = "MERGED"
	// Closed ended without becoming anything (or after being active).
	Closed Status = "CLOSED"
)

// CloseReason says why an initiative closed, so the app can say it kindly.
type CloseReason string

const (
	ClosedByProposer    CloseReason = "PROPOSER"
	ClosedBySecretariat CloseReason = "SECRETARIAT"
	ClosedStale         CloseReason = "STALE"
	ClosedByModeration  CloseReason = "MODERATION"
)

// Initiative is an initiative as stored.
type Initiative struct {
	ID                  int64        `db:"id"`
	Name                string       `db:"name"`
	Description         string       `db:"description"`
	PlaceID             *int64       `db:"place_id"`
	Neighbourhood       string       `db:"neighbourhood"`
	HelpNeeded          string       `db:"help_needed"`
	Status              Status       `db:"status"`
	ProposerID          *int64       `db:"proposer_id"`
	OrganisationID      *int64       `db:"organisation_id"`
	MergeMessage        string       `db:"merge_message"`
	CloseReason         *CloseReason `db:"close_reason"`
	Hidden              bool         `db:"hidden"`
	HiddenAt            *time.Time   `db:"hidden_at"`
	ReviewedAt          *time.Time   `db:"reviewed_at"`
	ApprovalRequestedAt *time.Time   `db:"approval_requested_at"`
	ClosedAt            *time.Time   `db:"closed_at"`
	CreatedAt           time.Time    `db:"created_at"`
	UpdatedAt           time.Time    `db:"updated_at"`
	LastActivityAt      time.Time    `db:"last_activity_at"`
	// The cover image, if any (see Cover).
	media.CoverColumns
}

// ProposedBy reports whether c is the person who proposed the initiative.
func (in Initiative) ProposedBy(c user.Caller) bool {
	return c.SignedIn() && in.ProposerID != nil && *in.ProposerID == c.UserID
}

// VisibleTo reports whether c may see the initiative: a hidden one is
// shown only to its proposer and the secretariat while it awaits review.
func (in Initiative) VisibleTo(c user.Caller) bool {
	return !in.Hidden || c.Secretariat || in.ProposedBy(c)
}

// Service reads and writes initiatives.
type Service struct {
	db       *store.DB
	themes   *theme.Service
	notifier Notifier
	now      func() time.Time
	covers   *media.Covers
}

// NewService returns a Service on db. notifier may be nil: the events are
// then only logged by nobody, which suits tests and a server without push.
// now is the clock.
func NewService(db *store.DB, themes *theme.Service, notifier Notifier, now func() time.Time) *Service {
	return &Service{db: db, themes: themes, notifier: notifier, now: now}
}

const columns = `i.id, i.name, i.description, i.place_id, i.neighbourhood, i.help_needed, i.status,
	i.proposer_id, i.organisation_id, i.merge_message, i.close_reason, i.hidden, i.hidden_at, i.reviewed_at,
	i.approval_requested_at, i.closed_at, i.created_at, i.updated_at, i.last_activity_at,
	i.cover_key, i.cover_width, i.cover_height, i.cover_alt, i.cover_placeholder`

// Initiative returns the initiative with id as c may see it (VisibleTo);
// one c may not see is not found, as if it did not exist.
func (s *Service) Initiative(ctx context.Context, c user.Caller, id int64) (Initiative, error) {
	in, err := initiativeByID(ctx, s.db, id)
	if err == nil && !in.VisibleTo(c) {
		return Initiative{}, fmt.Errorf("initiative %d: %w", id, store.ErrNotFound)
	}
	return in, err
}

func initiativeByID(ctx context.Context, q store.Querier, id int64) (Initiative, error) {
	var in Initiative
	if err := store.Get(ctx, q, &in, `SELECT `+columns+` FROM initiatives i WHERE i.id = ?`, id); err != nil {
		return Initiative{}, fmt.Errorf("initiative %d: %w", id, err)
	}
	return in, nil
}

// ByIDs returns the initiatives among ids that c may see, in no
// particular order.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Initiative, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM initiatives i WHERE i.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var ins []Initiative
	if err := store.Select(ctx, s.db, &ins, q, args...); err != nil {
		return nil, fmt.Errorf("initiatives by ids: %w", err)
	}
	return slices.DeleteFunc(ins, func(in Initiative) bool { return !in.VisibleTo(c) }), nil
}

// Filter narrows the list of initiatives. Zero fields do not filter.
type Filter struct {
	Status  Status
	Themes  []string
	PlaceID *int64
	Search  string
}

// Key is a position in the list of initiatives, newest first.
type Key struct {
	CreatedAt time.Time
	ID        int64
}

// KeyOf returns the key of in, for the cursor after it.
func KeyOf(in Initiative) Key { return Key{CreatedAt: in.CreatedAt, ID: in.ID} }

// List returns up to limit visible initiatives after the key, newest first.
// Hidden initiatives are left out for every caller; the secretariat finds
// them in ReviewQueue.
func (s *Service) List(ctx context.Context, c user.Caller, f Filter, after *Key, limit int) ([]Initiative, error) {
	where := []string{"i.hidden = FALSE"}
	var args []any
	if f.Status != "" {
		where = append(where, "i.status = ?")
		args = append(args, f.Status)
	}
	if f.PlaceID != nil {
		where = append(where, "i.place_id = ?")
		args = append(args, *f.PlaceID)
	}
	if len(f.Themes) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM initiative_themes t WHERE t.initiative_id = i.id AND t.theme IN (?))")
		args = append(args, f.Themes)
	}
	if cond, cargs := s.db.SearchWhere("initiatives", "i", f.Search); cond != "" {
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if after != nil {
		where = append(where, "(i.created_at < ? OR (i.created_at = ? AND i.id < ?))")
		args = append(args, after.CreatedAt, after.CreatedAt, after.ID)
	}
	args = append(args, limit)
	q, args, err := store.In(`SELECT `+columns+` FROM initiatives i WHERE `+strings.Join(where, " AND ")+`
		ORDER BY i.created_at DESC, i.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	var ins []Initiative
	if err := store.Select(ctx, s.db, &ins, q, args...); err != nil {
		return nil, fmt.Errorf("list initiatives: %w", err)
	}
	return ins, nil
}

// ThemesByIDs returns the theme slugs of each initiative, for initiatives
// the caller was given by a read that took the caller (as MemberCounts).
func (s *Service) ThemesByIDs(ctx context.Context, ids []int64) (map[int64][]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT initiative_id, theme FROM initiative_themes WHERE initiative_id IN (?) ORDER BY theme`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		InitiativeID int64  `db:"initiative_id"`
		Theme        string `db:"theme"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("themes of initiatives: %w", err)
	}
	m := make(map[int64][]string, len(ids))
	for _, r := range rows {
		m[r.InitiativeID] = append(m[r.InitiativeID], r.Theme)
	}
	return m, nil
}

// MemberCounts returns how many people have joined each initiative; ids
// nobody joined are absent (zero).
func (s *Service) MemberCounts(ctx context.Context, ids []int64) (map[int64]int, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT initiative_id, COUNT(*) AS n FROM initiative_members
		WHERE initiative_id IN (?) GROUP BY initiative_id`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		InitiativeID int64 `db:"initiative_id"`
		N            int   `db:"n"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("member counts: %w", err)
	}
	m := make(map[int64]int, len(rows))
	for _, r := range rows {
		m[r.InitiativeID] = r.N
	}
	return m, nil
}

// JoinedBy returns which of the initiatives c has joined, for the app's
// "you are in" mark.
func (s *Service) JoinedBy(ctx context.Context, c user.Caller, ids []int64) (map[int64]bool, error) {
	userID := c.UserID
	if len(ids) == 0 || !c.SignedIn() {
		return map[int64]bool{}, nil
	}
	q, args, err := store.In(`SELECT initiative_id FROM initiative_members WHERE user_id = ? AND initiative_id IN (?)`, userID, ids)
	if err != nil {
		return nil, err
	}
	var joined []int64
	if err := store.Select(ctx, s.db, &joined, q, args...); err != nil {
		return nil, fmt.Errorf("initiatives joined by %d: %w", userID, err)
	}
	m := make(map[int64]bool, len(joined))
	for _, id := range joined {
		m[id] = true
	}
	return m, nil
}
