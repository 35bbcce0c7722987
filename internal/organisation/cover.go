package organisation

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// An organisation's cover is part of it, like its description: its
// organisers and the secretariat change it (as Update), and since
// organisations are public, so is the cover.

// SetCovers sets where covers are kept.
func (s *Service) SetCovers(cv *media.Covers) { s.covers = cv }

// Cover is o's cover, or nil.
func (s *Service) Cover(o Organisation) *media.Image { return s.covers.Image(o.CoverColumns, true) }

// SetCover gives the organisation a new cover, replacing the one it had.
func (s *Service) SetCover(ctx context.Context, c user.Caller, id int64, u media.Upload) (Organisation, error) {
	return s.changeCover(ctx, c, id, &u)
}

// RemoveCover takes the organisation's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Organisation, error) {
	return s.changeCover(ctx, c, id, nil)
}

// changeCover stores u (nil: none) as the organisation's cover, in one
// transaction with the removal of the one before.
func (s *Service) changeCover(ctx context.Context, c user.Caller, id int64, u *media.Upload) (Organisation, error) {
	if err := c.RequireOrganiserOf(id); err != nil {
		return Organisation{}, err
	}
	if _, err := s.byID(ctx, id); err != nil {
		return Organisation{}, err
	}
	now := s.now()
	err := s.covers.Change(ctx, s.db, u, now, func(tx *sqlx.Tx, cols media.CoverColumns) error {
		var old *string
		if err := store.Get(ctx, tx, &old, `SELECT cover_key FROM organisations WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cover of organisation %d: %w", id, err)
		}
		if err := media.SetCoverTx(ctx, tx, `UPDATE organisations SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`, id, cols, old, now); err != nil {
			return fmt.Errorf("organisation: %w", err)
		}
		// Phones keep organisations offline: the new cover reaches them by sync.
		return changelog.Record(ctx, tx, now, changelog.Organisation, id)
	})
	if err != nil {
		return Organisation{}, err
	}
	return s.byID(ctx, id)
}

// CoverPublic reports whether the blob at key is an organisation's cover
// (all of which are public).
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	return media.IsPublicCover(ctx, s.db, `SELECT COUNT(*) FROM organisations WHERE cover_key = ?`, key)
}
