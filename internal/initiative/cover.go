package initiative

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// An initiative's cover is part of the proposal: its proposer (verified,
// while it is still a proposal) and the secretariat change it. It is
// seen by whoever may see the initiative (VisibleTo): public unless the
// initiative is hidden after reports, when only its proposer and the
// secretariat get it, at URLs signed for minutes. A resident's proposal
// may show people, so the cover goes with the proposal when the
// proposer's account is deleted (ForgetPersonTx).

// SetCovers sets where covers are kept.
func (s *Service) SetCovers(cv *media.Covers) { s.covers = cv }

// Cover is in's cover as someone who may see in gets it, or nil.
func (s *Service) Cover(in Initiative) *media.Image {
	return s.covers.Image(in.CoverColumns, !in.Hidden)
}

// SetCover gives the initiative a new cover, replacing the one it had.
func (s *Service) SetCover(ctx context.Context, c user.Caller, id int64, u media.Upload) (Initiative, error) {
	return s.changeCover(ctx, c, id, &u)
}

// RemoveCover takes the initiative's cover away.
func (s *Service) RemoveCover(ctx context.Context, c user.Caller, id int64) (Initiative, error) {
	return s.changeCover(ctx, c, id, nil)
}

// mayChange reports why c may not change the cover of in, if not.
func mayChange(c user.Caller, in Initiative) error {
	if !in.VisibleTo(c) {
		return apperr.New(CodeNotFound, "targetId")
	}
	if c.Secretariat {
		return nil
	}
	if !in.ProposedBy(c) {
		return apperr.ErrForbidden
	}
	if err := c.RequireVerified(); err != nil {
		return err
	}
	if in.Status != Proposed {
		return apperr.New(CodeNotProposed)
	}
	return nil
}

func (s *Service) mayChangeCover(ctx context.Context, c user.Caller, id int64) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	in, err := initiativeByID(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(CodeNotFound, "targetId")
	}
	if err != nil {
		return err
	}
	return mayChange(c, in)
}

// changeCover stores u (nil: none) as the initiative's cover, in one
// transaction with the removal of the one before; the rule is checked
// before the upload is read and again on the locked row.
func (s *Service) changeCover(ctx context.Context, c user.Caller, id int64, u *media.Upload) (Initiative, error) {
	if err := s.mayChangeCover(ctx, c, id); err != nil {
		return Initiative{}, err
	}
	now := s.now()
	var out Initiative
	err := s.covers.Change(ctx, s.db, u, now, func(tx *sqlx.Tx, cols media.CoverColumns) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayChange(c, in); err != nil {
			return err
		}
		if err := media.SetCoverTx(ctx, tx, `UPDATE initiatives SET cover_key = ?, cover_width = ?, cover_height = ?, cover_alt = ?,
			cover_placeholder = ?, updated_at = ? WHERE id = ?`, id, cols, in.CoverKey, now); err != nil {
			return fmt.Errorf("initiative: %w", err)
		}
		out, err = initiativeByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "cover of initiative %d", id)
	}
	return out, nil
}

// CoverPublic reports whether the blob at key is the cover of an
// initiative anyone may see.
func (s *Service) CoverPublic(ctx context.Context, key string) (bool, error) {
	return media.IsPublicCover(ctx, s.db, `SELECT COUNT(*) FROM initiatives WHERE cover_key = ? AND NOT hidden`, key)
}
