package activity

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// An activity's cover is part of the activity: whoever may edit the
// activity (its organisers, and the secretariat, who organise for
// everyone) changes it, and whoever may see the activity sees it. The
// cover of a published or cancelled activity is public, at a plain URL;
// a draft's is seen only by its organisers, at URLs signed for minutes.

// SetCovers sets where covers are kept; the server's are shared by every
// service with covers.
func (s *Service) SetCovers(cv *media.Covers) { s.covers = cv }

// Cover is a's cover as someone who may see a gets it, or nil.
func (s *Service) Cover(a Activity) *media.Image {
	return s.covers.Image(a.CoverColumns, a.Status != Draft)
}

// SetCover gives the activity a new cover, replacing the one it had.
func (s *Service) SetCover(ctx context.Context, c user.Caller, id int64, u media.Upload) (Activity, error) {
	if _, err := s.authorise(ctx, c, id); err != nil {
		return Activity{}, err
	}
	cols, undo, err := s.covers.Prepare(ctx, u)
	if err != nil {
		return Activity{}, err
	}
	a, err := s.writeCover(ctx, id, cols)
	if err != nil {
		undo()
	}
	return a, err
}

// RemoveCover takes the activity's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	if _, err := s.authorise(ctx, c, id); err != nil {
		return Activity{}, err
	}
	return s.writeCover(ctx, id, media.CoverColumns{})
}

// writeCover stores cols as the activity's cover, in one transaction with
// the removal of the one before and the change log a phone syncs by.
func (s *Service) writeCover(ctx context.Context, id int64, cols media.CoverColumns) (Activity, error) {
	now := s.now()
	var a Activity
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var old *string
		if err := store.Get(ctx, tx, &old, `SELECT cover_key FROM activities WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cover of activity %d: %w", id, err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE activities SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`,
			cols.CoverKey, cols.CoverWidth, cols.CoverHeight, cols.CoverAlt, cols.CoverPlaceholder, now, id); err != nil {
			return fmt.Errorf("set cover of activity %d: %w", id, err)
		}
		if err := media.ReplaceTx(ctx, tx, old, now); err != nil {
			return err
		}
		var err error
		if a, err = activityByID(ctx, tx, id); err != nil {
			return err
		}
		if a.Status != Draft {
			return changelog.Record(ctx, tx, now, changelog.Activity, id)
		}
		return nil
	})
	if err != nil {
		return Activity{}, err
	}
	s.covers.Sweep(ctx)
	return a, nil
}

// CoverPublic reports whether the blob at key is the cover of an activity
// anyone may see.
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	if !media.IsCoverKey(key) {
		return false, nil
	}
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM activities WHERE cover_key = ? AND status <> 'DRAFT'`, key); err != nil {
		return false, fmt.Errorf("is %s a public cover: %w", key, err)
	}
	return n > 0, nil
}
