package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Notification is one entry of a person's in-app inbox.
type Notification struct {
	ID          int64      `db:"id"`
	UserID      int64      `db:"user_id"`
	Kind        Kind       `db:"kind"`
	Title       string     `db:"title"`
	Body        string     `db:"body"`
	DataJSON    string     `db:"data"`
	DeepLink    string     `db:"deep_link"`
	CollapseKey string     `db:"collapse_key"`
	Urgent      bool       `db:"urgent"`
	Push        bool       `db:"push"`
	ExpiresAt   *time.Time `db:"expires_at"`
	SendAfter   time.Time  `db:"send_after"`
	CreatedAt   time.Time  `db:"created_at"`
	ReadAt      *time.Time `db:"read_at"`
}

// Data returns the notification's payload data (activityId, claimId, ...).
func (n Notification) Data() map[string]string {
	d := map[string]string{}
	_ = json.Unmarshal([]byte(n.DataJSON), &d) // written by us from a map of strings
	return d
}

const notificationColumns = `id, user_id, kind, title, body, data, deep_link, collapse_key, urgent, push,
	expires_at, send_after, created_at, read_at`

// A person's inbox is theirs alone: every read here is of c's own
// notifications, and another person's is not found.

// Listen checks that c may have their new notifications sent to them as
// they come: only a person with an account has an inbox.
func (s *Service) Listen(c user.Caller) error { return c.RequireSignedIn() }

// Notifications returns c's inbox newest first: up to limit entries with
// ids below before (0 for the newest).
func (s *Service) Notifications(ctx context.Context, c user.Caller, before int64, limit int) ([]Notification, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	userID := c.UserID
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	var ns []Notification
	var err error
	if before > 0 {
		err = store.Select(ctx, s.db, &ns, `SELECT `+notificationColumns+` FROM notifications
			WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, userID, before, limit)
	} else {
		err = store.Select(ctx, s.db, &ns, `SELECT `+notificationColumns+` FROM notifications
			WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("notifications of user %d: %w", userID, err)
	}
	return ns, nil
}

// Notification returns one of c's notifications by id.
func (s *Service) Notification(ctx context.Context, c user.Caller, id int64) (Notification, error) {
	ns, err := s.NotificationsByIDs(ctx, c, []int64{id})
	if err != nil {
		return Notification{}, err
	}
	if len(ns) == 0 {
		return Notification{}, fmt.Errorf("notification %d: %w", id, store.ErrNotFound)
	}
	return ns[0], nil
}

// NotificationsByIDs returns those of c's notifications among ids, in no
// particular order.
func (s *Service) NotificationsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Notification, error) {
	if len(ids) == 0 || !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+notificationColumns+` FROM notifications WHERE id IN (?) AND user_id = ?`, ids, c.UserID)
	if err != nil {
		return nil, err
	}
	var ns []Notification
	if err := store.Select(ctx, s.db, &ns, q, args...); err != nil {
		return nil, fmt.Errorf("notifications by ids: %w", err)
	}
	return ns, nil
}

// UnreadCount returns how many of c's notifications are unread.
func (s *Service) UnreadCount(ctx context.Context, c user.Caller) (int, error) {
	if !c.SignedIn() {
		return 0, nil
	}
	var n int
	err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, c.UserID)
	if err != nil {
		return 0, fmt.Errorf("unread count of user %d: %w", c.UserID, err)
	}
	return n, nil
}

// Total returns how many notifications c has, read or not.
func (s *Service) Total(ctx context.Context, c user.Caller) (int, error) {
	if !c.SignedIn() {
		return 0, nil
	}
	var n int
	err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM notifications WHERE user_id = ?`, c.UserID)
	if err != nil {
		return 0, fmt.Errorf("notification count of user %d: %w", c.UserID, err)
	}
	return n, nil
}

// MarkRead marks the caller's notifications with ids read, or all of them
// when all is true, and returns how many changed.
func (s *Service) MarkRead(ctx context.Context, caller user.Caller, ids []int64, all bool) (int64, error) {
	changed, err := s.MarkReadIDs(ctx, caller, ids, all)
	return int64(len(changed)), err
}

// MarkReadIDs is MarkRead returning the ids of the notifications it
// changed, newest first, so the app's cache can update them. Ids of other
// people's notifications are ignored rather than reported, so the answer
// does not tell which ids exist.
func (s *Service) MarkReadIDs(ctx context.Context, caller user.Caller, ids []int64, all bool) ([]int64, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return nil, err
	}
	now := s.now()
	var changed []int64
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		changed = nil
		if all {
			err := store.Select(ctx, tx, &changed, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL RETURNING id`,
				now, caller.UserID)
			if err != nil {
				return fmt.Errorf("mark all read for user %d: %w", caller.UserID, err)
			}
		} else if len(ids) > 0 {
			q, args, err := store.In(`UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL AND id IN (?) RETURNING id`,
				now, caller.UserID, ids)
			if err != nil {
				return err
			}
			if err := store.Select(ctx, tx, &changed, q, args...); err != nil {
				return fmt.Errorf("mark read for user %d: %w", caller.UserID, err)
			}
		}
		// Read on one phone, read on the others at their next sync.
		owned := make([]changelog.Owned, len(changed))
		for i, id := range changed {
			owned[i] = changelog.Owned{ID: id, Person: caller.UserID}
		}
		return changelog.RecordEach(ctx, tx, now, changelog.Notification, owned)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(changed, func(a, b int64) int { return cmp.Compare(b, a) })
	return changed, nil
}
