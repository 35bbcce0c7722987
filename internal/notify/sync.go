package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// The app keeps a person's follows and inbox offline (internal/offline).
// Both are the person's alone: these reads answer only c's own, and
// nothing to a visitor.

// FollowsForSync returns up to limit of c's follows by id after afterID,
// for a first sync; next is the id to go on after, 0 when there are no
// more.
func (s *Service) FollowsForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (fs []Follow, next int64, err error) {
	if !c.SignedIn() {
		return nil, 0, nil
	}
	err = store.Select(ctx, s.db, &fs, `SELECT `+followColumns+` FROM follows
		WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`, c.UserID, afterID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("follows of user %d for sync: %w", c.UserID, err)
	}
	if len(fs) < limit {
		return fs, 0, nil
	}
	return fs, fs[len(fs)-1].ID, nil
}

// FollowsByIDs returns those of c's follows among ids, in no particular
// order.
func (s *Service) FollowsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Follow, error) {
	if len(ids) == 0 || !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+followColumns+` FROM follows WHERE id IN (?) AND user_id = ?`, ids, c.UserID)
	if err != nil {
		return nil, err
	}
	var fs []Follow
	if err := store.Select(ctx, s.db, &fs, q, args...); err != nil {
		return nil, fmt.Errorf("follows by ids: %w", err)
	}
	return fs, nil
}

// NotificationsForSync returns up to limit of c's inbox entries by id
// after afterID, for a first sync; next is the id to go on after, 0 when
// there are no more.
func (s *Service) NotificationsForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (ns []Notification, next int64, err error) {
	if !c.SignedIn() {
		return nil, 0, nil
	}
	err = store.Select(ctx, s.db, &ns, `SELECT `+notificationColumns+` FROM notifications
		WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`, c.UserID, afterID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("inbox of user %d for sync: %w", c.UserID, err)
	}
	if len(ns) < limit {
		return ns, 0, nil
	}
	return ns, ns[len(ns)-1].ID, nil
}

// UpdatedAt is when the entry last changed: read, else made.
func (n Notification) UpdatedAt() time.Time {
	if n.ReadAt != nil {
		return *n.ReadAt
	}
	return n.CreatedAt
}

// UpdatedAt is when the follow last changed: it never does, so when it
// began.
func (f Follow) UpdatedAt() time.Time { return f.CreatedAt }
