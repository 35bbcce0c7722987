package user

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
)

// This package is the only writer of the users table. Other packages that
// must create or change a person inside a transaction of their own call
// the functions below, so a person has one set of defaults however they
// came to be.

// newUser is a row about to be inserted. Language and Role take the
// defaults of a new resident when empty.
type newUser struct {
	FirebaseUID   string
	Email         string
	EmailVerified bool
	Phone         string
	DisplayName   string
	Language      string
	Role          Role
	Anonymous     bool
	HasApp        bool
}

func insertUser(ctx context.Context, tx *sqlx.Tx, u newUser, now time.Time) (int64, error) {
	if u.Language == "" {
		u.Language = "da"
	}
	if u.Role == "" {
		u.Role = RoleResident
	}
	var id int64
	err := store.Get(ctx, tx, &id, `INSERT INTO users
		(firebase_uid, email, email_verified, phone, display_name, language, role, anonymous, has_app, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullIfEmpty(u.FirebaseUID), nullIfEmpty(u.Email), u.EmailVerified, nullIfEmpty(u.Phone), u.DisplayName,
		u.Language, u.Role, u.Anonymous, u.HasApp, now, now)
	if err != nil {
		return 0, fmt.Errorf("insert user: %w", err)
	}
	return id, nil
}

// Placeholder is a person who has not signed in and is not expected to:
// a resident without a smartphone, known by phone, whom an organiser signs
// up for a shift. (Nobody is made for an e-mail address any more: what is
// granted to an address waits in secretariat_grants and
// organiser_invitations for the account that proves it.)
type Placeholder struct {
	// Phone is as NormalisePhone returns it.
	Phone       string
	DisplayName string
	// HasApp is false for a resident without a smartphone: no push, no
	// sign-in expected.
	HasApp bool
}

// CreatePlaceholderTx adds a placeholder person inside tx and returns
// their id.
func CreatePlaceholderTx(ctx context.Context, tx *sqlx.Tx, p Placeholder, now time.Time) (int64, error) {
	id, err := insertUser(ctx, tx, newUser{Phone: p.Phone, DisplayName: p.DisplayName, HasApp: p.HasApp}, now)
	if err != nil {
		return 0, fmt.Errorf("create placeholder person: %w", err)
	}
	return id, nil
}

// SetCalendarToken stores the secret of a person's personal calendar feed,
// replacing any earlier one. It reports false when the person is gone.
// A token already in use by someone else is store.ErrAlreadyExists.
func SetCalendarToken(ctx context.Context, q store.Querier, userID int64, token string, now time.Time) (bool, error) {
	n, err := store.Exec(ctx, q, `UPDATE users SET ical_token = ?, updated_at = ?
		WHERE id = ? AND deleted_at IS NULL`, token, now, userID)
	if err != nil {
		return false, fmt.Errorf("set calendar token of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// ClearCalendarToken revokes a person's personal calendar feed.
func ClearCalendarToken(ctx context.Context, q store.Querier, userID int64, now time.Time) error {
	_, err := store.Exec(ctx, q, `UPDATE users SET ical_token = NULL, updated_at = ?
		WHERE id = ? AND ical_token IS NOT NULL`, now, userID)
	if err != nil {
		return fmt.Errorf("revoke calendar token of user %d: %w", userID, err)
	}
	return nil
}

// EraseTx removes what the person's row says about them, and a
// secretariat grant waiting for their address, inside the transaction that
// deletes their account. The row stays as a tombstone (deleted_at set) so
// that what refers to it, such as hours already given, keeps counting
// without saying by whom. For a day it keeps the hash of the sign-in uid
// (ErasedUID), so that tokens issued before the deletion are refused
// rather than making the account again; ForgetErasedUIDs drops it.
func EraseTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error {
	var uid *string
	if err := store.Get(ctx, tx, &uid, `SELECT firebase_uid FROM users WHERE id = ?`, userID); err != nil {
		return fmt.Errorf("erase user %d: %w", userID, err)
	}
	var erased *string
	if uid != nil {
		h := ErasedUID(*uid)
		erased = &h
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM secretariat_grants WHERE email IN (SELECT email FROM users WHERE id = ?)`, userID); err != nil {
		return fmt.Errorf("delete pending secretariat grant of user %d: %w", userID, err)
	}
	_, err := store.Exec(ctx, tx, `UPDATE users SET firebase_uid = NULL, email = NULL, email_verified = FALSE, phone = NULL,
		display_name = '', language = 'da', role = 'RESIDENT', anonymous = FALSE, ical_token = NULL, age_group = NULL,
		guardian_consent_at = NULL, erased_uid_sha256 = ?,
		updated_at = ?, deleted_at = ? WHERE id = ?`, erased, now, now, userID)
	if err != nil {
		return fmt.Errorf("erase user %d: %w", userID, err)
	}
	return nil
}

// ErasedUIDRetention is how long a tombstone keeps the hash of its
// sign-in uid: longer than any token issued before the deletion lives
// (Firebase ID tokens an hour, local ones LocalTokenTTL, 12 hours), and
// Firebase refresh tokens are revoked before the deletion.
const ErasedUIDRetention = 24 * time.Hour

// ForgetErasedUIDs drops the uid hashes of accounts deleted before
// before; after that a tombstone holds nothing that could link it to a
// sign-in. It returns how many it dropped.
func ForgetErasedUIDs(ctx context.Context, q store.Querier, before time.Time) (int64, error) {
	n, err := store.Exec(ctx, q, `UPDATE users SET erased_uid_sha256 = NULL
		WHERE erased_uid_sha256 IS NOT NULL AND deleted_at < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("forget uids of deleted accounts: %w", err)
	}
	return n, nil
}

// NormaliseWithoutApp checks the name and phone an organiser types for a
// resident without the app (fields name and phone), reporting both
// problems at once. The phone comes back in E.164.
func NormaliseWithoutApp(name, phone string, maxName int) (string, string, error) {
	var errs apperr.List
	name, err := NormaliseName(name, maxName, "name")
	errs = append(errs, apperr.UserErrors(err)...)
	switch p, ok := NormalisePhone(phone); {
	case strings.TrimSpace(phone) == "":
		errs.Add(apperr.CodeRequired, "phone")
	case !ok:
		errs.Add(apperr.CodeInvalid, "phone")
	default:
		phone = p
	}
	return name, phone, errs.Err()
}

// WithoutAppTx finds, inside tx, the resident without the app who has
// phone (as NormaliseWithoutApp returns it), or creates them with name:
// an organiser signing the same person up twice, for a shift or a seat,
// finds them again instead of making a second person.
func WithoutAppTx(ctx context.Context, tx *sqlx.Tx, name, phone string, now time.Time) (int64, error) {
	var id int64
	err := store.Get(ctx, tx, &id, `SELECT id FROM users
		WHERE phone = ? AND has_app = FALSE AND firebase_uid IS NULL AND deleted_at IS NULL
		ORDER BY id LIMIT 1`, phone)
	if err == nil {
		// Touching the row locks it until tx ends, so the retention
		// (EraseWithoutAppTx) cannot erase the person while this
		// transaction signs them up; one it erased first is gone here and
		// a new person is made.
		n, err := store.Exec(ctx, tx, `UPDATE users SET updated_at = ? WHERE id = ? AND deleted_at IS NULL`, now, id)
		if err != nil {
			return 0, fmt.Errorf("keep resident by phone: %w", err)
		}
		if n > 0 {
			return id, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("find resident by phone: %w", err)
	}
	id, err = CreatePlaceholderTx(ctx, tx, Placeholder{Phone: phone, DisplayName: name, HasApp: false}, now)
	if err != nil {
		return 0, fmt.Errorf("create resident without app: %w", err)
	}
	return id, nil
}
