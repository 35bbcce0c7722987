package story

import (
	"context"
	"errors"
	"fmt"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// ReactionKind is one of a small fixed set of reactions.
type ReactionKind string

const (
	Heart  ReactionKind = "HEART"
	Clap   ReactionKind = "CLAP"
	Smile  ReactionKind = "SMILE"
	Thanks ReactionKind = "THANKS"
)

// ReactionKinds lists the reactions in the order the app shows them.
var ReactionKinds = []ReactionKind{Heart, Clap, Smile, Thanks}

// User error codes of reactions.
const CodeInvalidReaction = "INVALID_REACTION"

// React sets the caller's one reaction to a published story, replacing
// any earlier one.
func (s *Service) React(ctx context.Context, c user.Caller, id int64, kind ReactionKind) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	valid := false
	for _, k := range ReactionKinds {
		valid = valid || k == kind
	}
	if !valid {
		return apperr.New(CodeInvalidReaction, "kind")
	}
	if err := s.requirePublished(ctx, s.db, id); err != nil {
		return err
	}
	_, err := store.Exec(ctx, s.db, `INSERT INTO story_reactions (story_id, user_id, kind, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (story_id, user_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at`,
		id, c.UserID, kind, s.now())
	if errors.Is(err, store.ErrConflict) {
		// The story was deleted in between.
		return apperr.New(CodeStoryNotFound)
	}
	if err != nil {
		return fmt.Errorf("react to story %d: %w", id, err)
	}
	return nil
}

// Unreact removes the caller's reaction; removing none is no error.
func (s *Service) Unreact(ctx context.Context, c user.Caller, id int64) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	if _, err := store.Exec(ctx, s.db, `DELETE FROM story_reactions WHERE story_id = ? AND user_id = ?`, id, c.UserID); err != nil {
		return fmt.Errorf("unreact to story %d: %w", id, err)
	}
	return nil
}

// ReactionCounts returns how many of each reaction each story has.
func (s *Service) ReactionCounts(ctx context.Context, ids []int64) (map[int64]map[ReactionKind]int, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT story_id, kind, COUNT(*) AS n FROM story_reactions
		WHERE story_id IN (?) GROUP BY story_id, kind`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		StoryID int64        `db:"story_id"`
		Kind    ReactionKind `db:"kind"`
		N       int          `db:"n"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("reaction counts: %w", err)
	}
	m := make(map[int64]map[ReactionKind]int, len(ids))
	for _, r := range rows {
		if m[r.StoryID] == nil {
			m[r.StoryID] = map[ReactionKind]int{}
		}
		m[r.StoryID][r.Kind] = r.N
	}
	return m, nil
}

// MyReactions returns the person's reaction to each of the stories that
// has one.
func (s *Service) MyReactions(ctx context.Context, userID int64, ids []int64) (map[int64]ReactionKind, error) {
	if len(ids) == 0 || userID == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT story_id, kind FROM story_reactions WHERE user_id = ? AND story_id IN (?)`, userID, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		StoryID int64        `db:"story_id"`
		Kind    ReactionKind `db:"kind"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("reactions of user %d: %w", userID, err)
	}
	m := make(map[int64]ReactionKind, len(rows))
	for _, r := range rows {
		m[r.StoryID] = r.Kind
	}
	return m, nil
}

func (s *Service) requirePublished(ctx context.Context, q store.Querier, id int64) error {
	var st Status
	err := store.Get(ctx, q, &st, `SELECT status FROM stories WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && st != Published) {
		return apperr.New(CodeStoryNotFound)
	}
	if err != nil {
		return fmt.Errorf("status of story %d: %w", id, err)
	}
	return nil
}
