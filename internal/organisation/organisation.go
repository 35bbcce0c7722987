// Package organisation holds associations, informal initiatives, councils
// and the municipality itself, and who organises each of them.
package organisation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Kind is what sort of body an organisation is.
type Kind string

const (
	Association        Kind = "ASSOCIATION"
	InformalInitiative Kind = "INFORMAL_INITIATIVE"
	Council            Kind = "COUNCIL"
	Municipality       Kind = "MUNICIPALITY"
)

func (k Kind) valid() bool {
	switch k {
	case Association, InformalInitiative, Council, Municipality:
		return true
	}
	return false
}

// Organisation is a body that publishes activities.
type Organisation struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	Kind        Kind      `db:"kind"`
	Description string    `db:"description"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// Service reads and writes organisations.
type Service struct {
	db       *store.DB
	now      func() time.Time
	notifier Notifier
}

// NewService returns a Service on db that reads the time from now.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

const columns = `id, name, kind, description, created_at, updated_at`

// Organisations are public: every caller, signed in or not, sees every
// organisation and all of it but its organisers (see Organisers). The
// reads take the caller all the same, so the rule stays here if it changes.

// Organisation returns the organisation with id as c sees it.
func (s *Service) Organisation(ctx context.Context, c user.Caller, id int64) (Organisation, error) {
	return s.byID(ctx, id)
}

func (s *Service) byID(ctx context.Context, id int64) (Organisation, error) {
	var o Organisation
	if err := store.Get(ctx, s.db, &o, `SELECT `+columns+` FROM organisations WHERE id = ?`, id); err != nil {
		return Organisation{}, fmt.Errorf("organisation %d: %w", id, err)
	}
	return o, nil
}

// ByIDs returns the organisations with the given ids that c may see, in
// no particular order.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Organisation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM organisations WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var os []Organisation
	if err := store.Select(ctx, s.db, &os, q, args...); err != nil {
		return nil, fmt.Errorf("organisations by ids: %w", err)
	}
	return os, nil
}

// Key is a position in the list of organisations, ordered by name.
type Key struct {
	Name string
	ID   int64
}

// Filter narrows the list of organisations.
type Filter struct {
	Kind   Kind
	Search string
}

// List returns up to limit organisations c may see after the key, by name.
func (s *Service) List(ctx context.Context, c user.Caller, f Filter, after *Key, limit int) ([]Organisation, error) {
	where := []string{"1 = 1"}
	var args []any
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if cond, cargs := s.db.SearchWhere("organisations", "organisations", f.Search); cond != "" {
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if after != nil {
		where = append(where, "(name > ? OR (name = ? AND id > ?))")
		args = append(args, after.Name, after.Name, after.ID)
	}
	args = append(args, limit)
	var os []Organisation
	err := store.Select(ctx, s.db, &os, `SELECT `+columns+` FROM organisations
		WHERE `+strings.Join(where, " AND ")+` ORDER BY name, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return os, nil
}

// Input is a new or changed organisation.
type Input struct {
	Name        string
	Kind        Kind
	Description string
	Links       []LinkInput
}

// LinkInput is a channel link as a person gives it.
type LinkInput struct {
	Kind  link.Kind
	URL   string
	Label string
}

func (in *Input) validate() ([]link.Link, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	var errs apperr.List
	if in.Name == "" {
		errs.Add(apperr.CodeRequired, "name")
	} else if len([]rune(in.Name)) > 120 {
		errs.Add(apperr.CodeTooLong, "name").With("Max", 120)
	}
	if !in.Kind.valid() {
		errs.Add(apperr.CodeInvalid, "kind")
	}
	if len([]rune(in.Description)) > 5000 {
		errs.Add(apperr.CodeTooLong, "description").With("Max", 5000)
	}
	if len(in.Links) > 10 {
		errs.Add(apperr.CodeTooLong, "links").With("Max", 10)
	}
	links := make([]link.Link, 0, len(in.Links))
	for i, l := range in.Links {
		nl, err := link.Normalise(l.Kind, l.URL, l.Label, "links", fmt.Sprint(i), "url")
		if err != nil {
			errs = append(errs, apperr.UserErrors(err)...)
			continue
		}
		links = append(links, nl)
	}
	return links, errs.Err()
}

// Create adds an organisation; only the secretariat creates them.
func (s *Service) Create(ctx context.Context, c user.Caller, in Input) (Organisation, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Organisation{}, err
	}
	var id int64
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		id, err = CreateTx(ctx, tx, in, s.now())
		return err
	})
	if err != nil {
		return Organisation{}, err
	}
	return s.byID(ctx, id)
}

// CreateTx validates and adds an organisation inside tx, for a caller that
// has decided who may (Create: the secretariat; an initiative's approval).
// A name in use is the user error NAME_TAKEN on "name".
func CreateTx(ctx context.Context, tx *sqlx.Tx, in Input, now time.Time) (int64, error) {
	links, err := in.validate()
	if err != nil {
		return 0, err
	}
	var id int64
	err = store.Get(ctx, tx, &id, `INSERT INTO organisations (name, kind, description, search_title, search_text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Name, in.Kind, in.Description, store.SearchText(in.Name), searchText(in), now, now)
	if store.IsAlreadyExists(err) {
		return 0, apperr.New("NAME_TAKEN", "name")
	}
	if err != nil {
		return 0, fmt.Errorf("create organisation: %w", err)
	}
	if err := link.Replace(ctx, tx, link.Link{OrganisationID: &id}, links); err != nil {
		return 0, fmt.Errorf("links of organisation %d: %w", id, err)
	}
	if err := changelog.Record(ctx, tx, now, changelog.Organisation, id); err != nil {
		return 0, err
	}
	return id, nil
}

// AddOrganiserTx makes userID organiser of orgID inside tx, recording who
// did it; for a caller that has checked the right to. Someone already
// organiser is the user error ALREADY_ORGANISER on "userId".
func AddOrganiserTx(ctx context.Context, tx *sqlx.Tx, orgID, userID, addedBy int64, now time.Time) error {
	_, err := store.Exec(ctx, tx, `INSERT INTO organisers (organisation_id, user_id, added_by, created_at) VALUES (?, ?, ?, ?)`,
		orgID, userID, addedBy, now)
	if store.IsAlreadyExists(err) {
		return apperr.New("ALREADY_ORGANISER", "userId")
	}
	if err != nil {
		return fmt.Errorf("add organiser %d to %d: %w", userID, orgID, err)
	}
	return nil
}

// Update changes an organisation; its organisers and the secretariat may.
// Only the secretariat changes the kind.
func (s *Service) Update(ctx context.Context, c user.Caller, id int64, in Input) (Organisation, error) {
	if err := c.RequireOrganiserOf(id); err != nil {
		return Organisation{}, err
	}
	old, err := s.byID(ctx, id)
	if err != nil {
		return Organisation{}, err
	}
	if in.Kind != old.Kind && !c.Secretariat {
		return Organisation{}, apperr.ErrForbidden
	}
	links, err := in.validate()
	if err != nil {
		return Organisation{}, err
	}
	now := s.now()
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		_, err := store.Exec(ctx, tx, `UPDATE organisations SET name = ?, kind = ?, description = ?, search_title = ?, search_text = ?, updated_at = ?
			WHERE id = ?`, in.Name, in.Kind, in.Description, store.SearchText(in.Name), searchText(in), now, id)
		if err != nil {
			return err
		}
		if err := link.Replace(ctx, tx, link.Link{OrganisationID: &id}, links); err != nil {
			return err
		}
		return changelog.Record(ctx, tx, now, changelog.Organisation, id)
	})
	if store.IsAlreadyExists(err) {
		return Organisation{}, apperr.New("NAME_TAKEN", "name")
	}
	if err != nil {
		return Organisation{}, fmt.Errorf("update organisation %d: %w", id, err)
	}
	return s.byID(ctx, id)
}

func searchText(in Input) string {
	return SearchText(in.Name, in.Description)
}

// SearchText is the search_text of an organisation: what a search in the
// list of organisations matches.
func SearchText(name, description string) string {
	return store.SearchText(name, description)
}

// SetOrganisersMayReview lets (or stops) the organisers of an
// organisation review the stories tied to it; the secretariat decides.
func (s *Service) SetOrganisersMayReview(ctx context.Context, c user.Caller, orgID int64, allow bool) error {
	if err := c.RequireSecretariat(); err != nil {
		return err
	}
	n, err := store.Exec(ctx, s.db, `UPDATE organisations SET organisers_may_review = ?, updated_at = ? WHERE id = ?`,
		allow, s.now(), orgID)
	if err != nil {
		return fmt.Errorf("set organisers_may_review of %d: %w", orgID, err)
	}
	if n == 0 {
		return apperr.New("ORGANISATION_NOT_FOUND")
	}
	return nil
}

// Organisers returns the user ids of the organisers of each organisation
// among orgIDs whose organisers c may see: its own organisers and the
// secretariat. The others are absent from the map (a restricted field:
// null), an organisation without organisers maps to an empty list.
func (s *Service) Organisers(ctx context.Context, c user.Caller, orgIDs []int64) (map[int64][]int64, error) {
	var mine []int64
	for _, id := range orgIDs {
		if c.OrganiserOf(id) {
			mine = append(mine, id)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT organisation_id, user_id FROM organisers WHERE organisation_id IN (?) ORDER BY created_at, user_id`, mine)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		OrganisationID int64 `db:"organisation_id"`
		UserID         int64 `db:"user_id"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("organisers: %w", err)
	}
	m := make(map[int64][]int64, len(mine))
	for _, id := range mine {
		m[id] = []int64{}
	}
	for _, r := range rows {
		m[r.OrganisationID] = append(m[r.OrganisationID], r.UserID)
	}
	return m, nil
}

// Organises returns the ids of the organisations c organises.
func (s *Service) Organises(ctx context.Context, c user.Caller) ([]int64, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	var ids []int64
	if err := store.Select(ctx, s.db, &ids, `SELECT organisation_id FROM organisers WHERE user_id = ? ORDER BY organisation_id`, c.UserID); err != nil {
		return nil, fmt.Errorf("organisations of user %d: %w", c.UserID, err)
	}
	return ids, nil
}

// RemovePersonTx takes every organiser right away from a person, and the
// invitations to organise sent to them or to their address, inside the
// transaction that deletes their account (before user.EraseTx forgets the
// address).
func RemovePersonTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM organisers WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("remove organiser rights of %d: %w", userID, err)
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM organiser_invitations
		WHERE user_id = ? OR email IN (SELECT email FROM users WHERE id = ?)`, userID, userID); err != nil {
		return fmt.Errorf("remove organiser invitations of %d: %w", userID, err)
	}
	// Rights they gave and invitations they sent stay, without them.
	if _, err := store.Exec(ctx, tx, `UPDATE organisers SET added_by = NULL WHERE added_by = ?`, userID); err != nil {
		return fmt.Errorf("forget organisers added by %d: %w", userID, err)
	}
	if _, err := store.Exec(ctx, tx, `UPDATE organiser_invitations SET invited_by = NULL WHERE invited_by = ?`, userID); err != nil {
		return fmt.Errorf("forget invitations sent by %d: %w", userID, err)
	}
	return nil
}

// RefreshSearch folds the search text of organisations written before
// migration 00015 (those whose search_title is NULL) and reports how many
// it folded. The server runs it at start; it does nothing once every row
// is folded.
func RefreshSearch(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	for {
		var rows []struct {
			ID          int64  `db:"id"`
			Name        string `db:"name"`
			Description string `db:"description"`
		}
		err := store.Select(ctx, db, &rows, `SELECT id, name, description FROM organisations WHERE search_title IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return n, fmt.Errorf("organisations to fold: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if _, err := store.Exec(ctx, tx, `UPDATE organisations SET search_title = ?, search_text = ? WHERE id = ?`,
					store.SearchText(r.Name), SearchText(r.Name, r.Description), r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("fold search text of organisations: %w", err)
		}
		n += len(rows)
	}
}

// ForSync returns up to limit organisations by id after afterID, as c may
// see them, for a phone's first sync (internal/offline). next is the id
// to go on after, 0 when there are no more.
func (s *Service) ForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (os []Organisation, next int64, err error) {
	var ids []int64
	if err := store.Select(ctx, s.db, &ids, `SELECT id FROM organisations WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit); err != nil {
		return nil, 0, fmt.Errorf("organisations for sync: %w", err)
	}
	os, err = s.ByIDs(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return os, 0, err
	}
	return os, ids[len(ids)-1], nil
}
