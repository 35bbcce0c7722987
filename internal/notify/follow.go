package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// TargetKind is what can be followed.
type TargetKind string

const (
	TargetOrganisation TargetKind = "ORGANISATION"
	TargetPlace        TargetKind = "PLACE"
	TargetTheme        TargetKind = "THEME"
)

// Target is one organisation, place or theme; only the field of Kind is set.
type Target struct {
	Kind           TargetKind `db:"kind"`
	OrganisationID int64      `db:"organisation_id"`
	PlaceID        int64      `db:"place_id"`
	Theme          string     `db:"theme"`
}

// Follow is a person following a target.
type Follow struct {
	ID        int64     `db:"id"`
	UserID    int64     `db:"user_id"`
	CreatedAt time.Time `db:"created_at"`
	Target
}

func (t Target) validate() error {
	ok := false
	switch t.Kind {
	case TargetOrganisation:
		ok = t.OrganisationID > 0 && t.PlaceID == 0 && t.Theme == ""
	case TargetPlace:
		ok = t.PlaceID > 0 && t.OrganisationID == 0 && t.Theme == ""
	case TargetTheme:
		ok = t.Theme != "" && t.OrganisationID == 0 && t.PlaceID == 0
	}
	if !ok {
		return apperr.New(CodeInvalidFollowTarget, "target")
	}
	return nil
}

// args returns the target's columns with NULL for the unused ones.
func (t Target) args() (org, place, theme any) {
	if t.OrganisationID != 0 {
		org = t.OrganisationID
	}
	if t.PlaceID != 0 {
		place = t.PlaceID
	}
	if t.Theme != "" {
		theme = t.Theme
	}
	return org, place, theme
}

// Follow makes the caller follow target; following twice is no error.
// Anonymous accounts may follow: it is how a visitor gets new events.
func (s *Service) Follow(ctx context.Context, caller user.Caller, target Target) error {
	if err := caller.RequireSignedIn(); err != nil {
		return err
	}
	if err := target.validate(); err != nil {
		return err
	}
	org, place, theme := target.args()
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var ids []int64
		err := store.Select(ctx, tx, &ids, `
			INSERT INTO follows (user_id, kind, organisation_id, place_id, theme, created_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING id`,
			caller.UserID, target.Kind, org, place, theme, now)
		if err != nil {
			return err
		}
		// Follows are kept offline, on the follower's phone only.
		return changelog.RecordFor(ctx, tx, now, changelog.Follow, caller.UserID, ids...)
	})
	if errors.Is(err, store.ErrConflict) {
		return apperr.New(apperr.CodeNotFound, "target")
	}
	if err != nil {
		return fmt.Errorf("user %d follows %+v: %w", caller.UserID, target, err)
	}
	return nil
}

// Unfollow stops the caller following target; it reports whether they did.
func (s *Service) Unfollow(ctx context.Context, caller user.Caller, target Target) (bool, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return false, err
	}
	if err := target.validate(); err != nil {
		return false, err
	}
	var ids []int64
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		ids = nil
		var err error
		switch target.Kind {
		case TargetOrganisation:
			err = store.Select(ctx, tx, &ids, `DELETE FROM follows WHERE user_id = ? AND kind = 'ORGANISATION' AND organisation_id = ? RETURNING id`, caller.UserID, target.OrganisationID)
		case TargetPlace:
			err = store.Select(ctx, tx, &ids, `DELETE FROM follows WHERE user_id = ? AND kind = 'PLACE' AND place_id = ? RETURNING id`, caller.UserID, target.PlaceID)
		case TargetTheme:
			err = store.Select(ctx, tx, &ids, `DELETE FROM follows WHERE user_id = ? AND kind = 'THEME' AND theme = ? RETURNING id`, caller.UserID, target.Theme)
		}
		if err != nil {
			return err
		}
		return changelog.RecordFor(ctx, tx, now, changelog.Follow, caller.UserID, ids...)
	})
	if err != nil {
		return false, fmt.Errorf("user %d unfollows %+v: %w", caller.UserID, target, err)
	}
	return len(ids) > 0, nil
}

const followColumns = `id, user_id, kind, COALESCE(organisation_id, 0) AS organisation_id,
	COALESCE(place_id, 0) AS place_id, COALESCE(theme, '') AS theme, created_at`

// Follows returns what c follows, oldest first.
func (s *Service) Follows(ctx context.Context, c user.Caller) ([]Follow, error) {
	userID := c.UserID
	if !c.SignedIn() {
		return nil, nil
	}
	var fs []Follow
	err := store.Select(ctx, s.db, &fs, `SELECT `+followColumns+` FROM follows WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("follows of user %d: %w", userID, err)
	}
	return fs, nil
}
