package place

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// A place's cover is part of it, like its description: the secretariat,
// who keeps the places, changes it (as Update), and since places are
// public, so is the cover.

// SetCovers sets where covers are kept.
func (s *Service) SetCovers(cv *media.Covers) { s.covers = cv }

// Cover is p's cover, or nil.
func (s *Service) Cover(p Place) *media.Image { return s.covers.Image(p.CoverColumns, true) }

// SetCover gives the place a new cover, replacing the one it had.
func (s *Service) SetCover(ctx context.Context, c user.Caller, id int64, u media.Upload) (Place, error) {
	return s.changeCover(ctx, c, id, &u)
}

// RemoveCover takes the place's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Place, error) {
	return s.changeCover(ctx, c, id, nil)
}

// changeCover stores u (nil: none) as the place's cover, in one
// transaction with the removal of the one before.
func (s *Service) changeCover(ctx context.Context, c user.Caller, id int64, u *media.Upload) (Place, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Place{}, err
	}
	if _, err := s.byID(ctx, id); err != nil {
		return Place{}, err
	}
	now := s.now()
	err := s.covers.Change(ctx, s.db, u, now, func(tx *sqlx.Tx, cols media.CoverColumns) error {
		var old *string
		if err := store.Get(ctx, tx, &old, `SELECT cover_key FROM places WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cover of place %d: %w", id, err)
		}
		if err := media.SetCoverTx(ctx, tx, `UPDATE places SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`, id, cols, old, now); err != nil {
			return fmt.Errorf("place: %w", err)
		}
		// Phones keep places offline: the new cover reaches them by sync.
		return changelog.Record(ctx, tx, now, changelog.Place, id)
	})
	if err != nil {
		return Place{}, err
	}
	return s.byID(ctx, id)
}

// CoverPublic reports whether the blob at key is a place's cover
// (all of which are public).
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	return media.IsPublicCover(ctx, s.db, `SELECT COUNT(*) FROM places WHERE cover_key = ?`, key)
}
