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
	if err := s.mayChangeCover(ctx, c, id); err != nil {
		return Place{}, err
	}
	cols, undo, err := s.covers.Prepare(ctx, u)
	if err != nil {
		return Place{}, err
	}
	p, err := s.writeCover(ctx, id, cols)
	if err != nil {
		undo()
	}
	return p, err
}

// RemoveCover takes the place's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Place, error) {
	if err := s.mayChangeCover(ctx, c, id); err != nil {
		return Place{}, err
	}
	return s.writeCover(ctx, id, media.CoverColumns{})
}

func (s *Service) mayChangeCover(ctx context.Context, c user.Caller, id int64) error {
	if err := c.RequireSecretariat(); err != nil {
		return err
	}
	_, err := s.byID(ctx, id)
	return err
}

// writeCover stores cols as the place's cover, in one transaction
// with the removal of the one before.
func (s *Service) writeCover(ctx context.Context, id int64, cols media.CoverColumns) (Place, error) {
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var old *string
		if err := store.Get(ctx, tx, &old, `SELECT cover_key FROM places WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cover of place %d: %w", id, err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE places SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`,
			cols.CoverKey, cols.CoverWidth, cols.CoverHeight, cols.CoverAlt, cols.CoverPlaceholder, now, id); err != nil {
			return fmt.Errorf("set cover of place %d: %w", id, err)
		}
		if err := media.ReplaceTx(ctx, tx, old, now); err != nil {
			return err
		}
		// Phones keep places offline: the new cover reaches them by sync.
		return changelog.Record(ctx, tx, now, changelog.Place, id)
	})
	if err != nil {
		return Place{}, err
	}
	s.covers.Sweep(ctx)
	return s.byID(ctx, id)
}

// CoverPublic reports whether the blob at key is a place's cover
// (all of which are public).
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	if !media.IsCoverKey(key) {
		return false, nil
	}
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM places WHERE cover_key = ?`, key); err != nil {
		return false, fmt.Errorf("is %s a public cover: %w", key, err)
	}
	return n > 0, nil
}
