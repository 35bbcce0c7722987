// Package place holds the places where things happen in Ishøj: farms,
// harbours, parks, cultural houses.
package place

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/geo"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Place is a named location.
type Place struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	Address     string    `db:"address"`
	Description string    `db:"description"`
	Latitude    *float64  `db:"latitude"`
	Longitude   *float64  `db:"longitude"`
	CreatedAt   time.Time `db:"created_at"`
	// ChangedAt is when it last changed; nil before the first change.
	ChangedAt *time.Time `db:"updated_at"`
}

// UpdatedAt is when the place last changed.
func (p Place) UpdatedAt() time.Time {
	if p.ChangedAt != nil {
		return *p.ChangedAt
	}
	return p.CreatedAt
}

// Service reads and writes places.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns a Service on db that reads the time from now.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

const columns = `id, name, address, description, latitude, longitude, created_at, updated_at`

// Places are public: every caller sees every place. The reads take the
// caller all the same, so the rule stays here if it changes.

// Place returns the place with id as c sees it.
func (s *Service) Place(ctx context.Context, c user.Caller, id int64) (Place, error) {
	return s.byID(ctx, id)
}

func (s *Service) byID(ctx context.Context, id int64) (Place, error) {
	var p Place
	if err := store.Get(ctx, s.db, &p, `SELECT `+columns+` FROM places WHERE id = ?`, id); err != nil {
		return Place{}, fmt.Errorf("place %d: %w", id, err)
	}
	return p, nil
}

// ByIDs returns the places with the given ids that c may see, in no
// particular order.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Place, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM places WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var ps []Place
	if err := store.Select(ctx, s.db, &ps, q, args...); err != nil {
		return nil, fmt.Errorf("places by ids: %w", err)
	}
	return ps, nil
}

// Filter narrows the list of places; the zero Filter lists them all by
// name.
type Filter struct {
	// Area keeps the places in it; places without a position are in no
	// area.
	Area geo.Area
	// ByDistance orders by distance from Area.Near, nearest first.
	ByDistance bool
}

// Key is a position in the list of places: by name, or by distance and
// then name when the list is ordered by distance.
type Key struct {
	Distance int
	Name     string
	ID       int64
}

// Listed is a place in a list, with its distance in metres from the
// filter's point (nil without one).
type Listed struct {
	Place
	Distance *int `db:"distance"`
}

// List returns up to limit places c may see after the key, by name, or
// by distance when f asks.
func (s *Service) List(ctx context.Context, c user.Caller, f Filter, after *Key, limit int) ([]Listed, error) {
	var where []string
	var args []any
	dist, distArgs := "NULL", []any(nil)
	if f.Area.Near != nil {
		dist, distArgs = store.DistanceMetres("p"), store.PointArgs(*f.Area.Near)
	}
	if cond, cargs := store.AreaWhere("p", f.Area); cond != "" {
		where = append(where, cond)
		args = append(args, cargs...)
	}
	order := "p.name, p.id"
	byDistance := f.ByDistance && f.Area.Near != nil
	if byDistance {
		order = "distance, p.name, p.id"
	}
	if after != nil {
		if byDistance {
			where = append(where, "("+dist+" > ? OR ("+dist+" = ? AND (p.name > ? OR (p.name = ? AND p.id > ?))))")
			args = append(append(append(args, distArgs...), after.Distance), distArgs...)
			args = append(args, after.Distance, after.Name, after.Name, after.ID)
		} else {
			where = append(where, "(p.name > ? OR (p.name = ? AND p.id > ?))")
			args = append(args, after.Name, after.Name, after.ID)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	query := `SELECT p.id, p.name, p.address, p.description, p.latitude, p.longitude, p.created_at, p.updated_at, ` + dist + ` AS distance
		FROM places p` + cond + ` ORDER BY ` + order + ` LIMIT ?`
	all := append(append(distArgs, args...), limit)
	var ps []Listed
	if err := store.Select(ctx, s.db, &ps, query, all...); err != nil {
		return nil, fmt.Errorf("list places: %w", err)
	}
	return ps, nil
}

// SearchText is the search_text of a place: what a search for places
// matches.
func SearchText(name, address, description string) string {
	return store.SearchText(name, address, description)
}

// Input is a new or changed place.
type Input struct {
	Name, Address, Description string
	Latitude, Longitude        *float64
}

func (in *Input) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Address = strings.TrimSpace(in.Address)
	var errs apperr.List
	if in.Name == "" {
		errs.Add(apperr.CodeRequired, "name")
	} else if len([]rune(in.Name)) > 120 {
		errs.Add(apperr.CodeTooLong, "name").With("Max", 120)
	}
	if len([]rune(in.Address)) > 200 {
		errs.Add(apperr.CodeTooLong, "address").With("Max", 200)
	}
	if len([]rune(in.Description)) > 5000 {
		errs.Add(apperr.CodeTooLong, "description").With("Max", 5000)
	}
	if (in.Latitude == nil) != (in.Longitude == nil) {
		errs.Add(apperr.CodeInvalid, "latitude")
	}
	if in.Latitude != nil && (*in.Latitude < -90 || *in.Latitude > 90) {
		errs.Add(apperr.CodeInvalid, "latitude")
	}
	if in.Longitude != nil && (*in.Longitude < -180 || *in.Longitude > 180) {
		errs.Add(apperr.CodeInvalid, "longitude")
	}
	return errs.Err()
}

// Create adds a place; the secretariat keeps the list of places.
func (s *Service) Create(ctx context.Context, c user.Caller, in Input) (Place, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Place{}, err
	}
	if err := in.validate(); err != nil {
		return Place{}, err
	}
	var id int64
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		err := store.Get(ctx, tx, &id, `INSERT INTO places (name, address, description, latitude, longitude, search_title, search_text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.Name, in.Address, in.Description, in.Latitude, in.Longitude,
			store.SearchText(in.Name), SearchText(in.Name, in.Address, in.Description), now)
		if err != nil {
			return err
		}
		return changelog.Record(ctx, tx, now, changelog.Place, id)
	})
	if err != nil {
		if store.IsAlreadyExists(err) {
			return Place{}, apperr.New("NAME_TAKEN", "name")
		}
		return Place{}, fmt.Errorf("create place: %w", err)
	}
	return s.byID(ctx, id)
}

// Update changes a place: its name, address, description and position,
// all at once. Like Create it is the secretariat's; activities at the
// place keep pointing at it.
func (s *Service) Update(ctx context.Context, c user.Caller, id int64, in Input) (Place, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Place{}, err
	}
	if err := in.validate(); err != nil {
		return Place{}, err
	}
	var n int64
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		n, err = store.Exec(ctx, tx, `UPDATE places SET name = ?, address = ?, description = ?, latitude = ?, longitude = ?,
			search_title = ?, search_text = ?, updated_at = ? WHERE id = ?`, in.Name, in.Address, in.Description, in.Latitude, in.Longitude,
			store.SearchText(in.Name), SearchText(in.Name, in.Address, in.Description), now, id)
		if err != nil || n == 0 {
			return err
		}
		return changelog.Record(ctx, tx, now, changelog.Place, id)
	})
	if store.IsAlreadyExists(err) {
		return Place{}, apperr.New("NAME_TAKEN", "name")
	}
	if err != nil {
		return Place{}, fmt.Errorf("update place %d: %w", id, err)
	}
	if n == 0 {
		return Place{}, fmt.Errorf("update place %d: %w", id, store.ErrNotFound)
	}
	return s.byID(ctx, id)
}

// RefreshSearch folds the search text of places written before
// migration 00015 (those whose search_title is NULL) and reports how many
// it folded. The server runs it at start; it does nothing once every row
// is folded.
func RefreshSearch(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	for {
		var rows []struct {
			ID          int64  `db:"id"`
			Name        string `db:"name"`
			Address     string `db:"address"`
			Description string `db:"description"`
		}
		err := store.Select(ctx, db, &rows, `SELECT id, name, address, description FROM places WHERE search_title IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return n, fmt.Errorf("places to fold: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if _, err := store.Exec(ctx, tx, `UPDATE places SET search_title = ?, search_text = ? WHERE id = ?`,
					store.SearchText(r.Name), SearchText(r.Name, r.Address, r.Description), r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("fold search text of places: %w", err)
		}
		n += len(rows)
	}
}

// ForSync returns up to limit places by id after afterID, as c may see
// them, for a phone's first sync (internal/offline). next is the id to go
// on after, 0 when there are no more.
func (s *Service) ForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (ps []Place, next int64, err error) {
	var ids []int64
	if err := store.Select(ctx, s.db, &ids, `SELECT id FROM places WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit); err != nil {
		return nil, 0, fmt.Errorf("places for sync: %w", err)
	}
	ps, err = s.ByIDs(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return ps, 0, err
	}
	return ps, ids[len(ids)-1], nil
}
