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
	return s.changeCover(ctx, c, id, &u)
}

// RemoveCover takes the activity's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	return s.changeCover(ctx, c, id, nil)
}

// changeCover stores u (nil: none) as the activity's cover, in one
// transaction with the removal of the one before and the change log a
// phone syncs by.
func (s *Service) changeCover(ctx context.Context, c user.Caller, id int64, u *media.Upload) (Activity, error) {
	if _, err := s.authorise(ctx, c, id); err != nil {
		return Activity{}, err
	}
	now := s.now()
	var a Activity
	err := s.covers.Change(ctx, s.db, u, now, func(tx *sqlx.Tx, cols media.CoverColumns) error {
		var old *string
		if err := store.Get(ctx, tx, &old, `SELECT cover_key FROM activities WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cover of activity %d: %w", id, err)
		}
		if err := media.SetCoverTx(ctx, tx, `UPDATE activities SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`, id, cols, old, now); err != nil {
			return fmt.Errorf("activity: %w", err)
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
	return a, nil
}

// CoverPublic reports whether the blob at key is the cover of an activity
// anyone may see.
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	return media.IsPublicCover(ctx, s.db, `SELECT COUNT(*) FROM activities WHERE cover_key = ? AND status <> 'DRAFT'`, key)
}
