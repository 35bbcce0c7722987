package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Platform is the kind of device a token belongs to.
type Platform string

const (
	PlatformAndroid Platform = "ANDROID"
	PlatformIOS     Platform = "IOS"
	PlatformWeb     Platform = "WEB"
)

// Device is an FCM registration token of one person's app.
type Device struct {
	ID         int64     `db:"id"`
	Token      string    `db:"token"`
	UserID     int64     `db:"user_id"`
	Platform   Platform  `db:"platform"`
	Locale     string    `db:"locale"`
	AppVersion string    `db:"app_version"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
}

// RegisterDevice records the caller's FCM token. A token belongs to one
// person: registering it again, e.g. after someone else signs in on the
// same phone, moves it to the caller, so the previous person's pushes stop
// reaching that phone.
func (s *Service) RegisterDevice(ctx context.Context, caller user.Caller, token string, platform Platform, locale, appVersion string) (Device, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Device{}, err
	}
	token = strings.TrimSpace(token)
	var errs apperr.List
	switch {
	case token == "":
		errs.Add(apperr.CodeRequired, "token")
	case len(token) > 4096:
		errs.Add(apperr.CodeTooLong, "token").With("Max", 4096)
	}
	switch platform {
	case PlatformAndroid, PlatformIOS, PlatformWeb:
	default:
		errs.Add(CodeInvalidPlatform, "platform")
	}
	if len(locale) > 35 {
		errs.Add(apperr.CodeTooLong, "locale").With("Max", 35)
	}
	if len(appVersion) > 64 {
		errs.Add(apperr.CodeTooLong, "appVersion").With("Max", 64)
	}
	if err := errs.Err(); err != nil {
		return Device{}, err
	}
	now := s.now()
	var d Device
	err := store.Get(ctx, s.db, &d, `
		INSERT INTO devices (token, user_id, platform, locale, app_version, created_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET
			user_id = excluded.user_id, platform = excluded.platform, locale = excluded.locale,
			app_version = excluded.app_version, last_seen_at = excluded.last_seen_at
		RETURNING id, token, user_id, platform, locale, app_version, created_at, last_seen_at`,
		token, caller.UserID, platform, locale, appVersion, now, now)
	if err != nil {
		return Device{}, fmt.Errorf("register device for user %d: %w", caller.UserID, err)
	}
	return d, nil
}

// UnregisterDevice forgets the caller's token (on sign-out), with the
// pushes still waiting for it: a phone signed out (perhaps handed on) gets
// nothing more of this person's. A token that is not the caller's is left
// alone and reported as not removed.
func (s *Service) UnregisterDevice(ctx context.Context, caller user.Caller, token string) (bool, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return false, err
	}
	var mine bool
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM devices WHERE token = ? AND user_id = ?`, token, caller.UserID); err != nil {
			return err
		}
		mine = n > 0
		if !mine {
			return nil
		}
		return forgetDeviceTx(ctx, tx, token)
	})
	if err != nil {
		return false, fmt.Errorf("unregister device of user %d: %w", caller.UserID, err)
	}
	return mine, nil
}

// Devices returns userID's registered devices.
func (s *Service) Devices(ctx context.Context, userID int64) ([]Device, error) {
	var ds []Device
	err := store.Select(ctx, s.db, &ds, `
		SELECT id, token, user_id, platform, locale, app_version, created_at, last_seen_at
		FROM devices WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("devices of user %d: %w", userID, err)
	}
	return ds, nil
}
