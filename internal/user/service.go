package user

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ErrAccountDeleted is returned when a sign-in token belongs to an account
// that was deleted.
var ErrAccountDeleted = errors.New("account deleted")

// Identity is what a verified sign-in token tells us about a person.
type Identity struct {
	UID           string
	Email         string
	EmailVerified bool
	Phone         string
	Name          string
	// Anonymous is Firebase's anonymous sign-in: an account without any
	// proof of who the person is.
	Anonymous bool
}

// Verified reports whether the identity is tied to something real: a
// verified e-mail, a phone number or a federated provider. Firebase sets
// email_verified for Google and Apple sign-in.
func (id Identity) Verified() bool {
	return !id.Anonymous && (id.EmailVerified || id.Phone != "")
}

// Service reads and writes people.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns a Service on db that reads the time from now.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

const userColumns = `id, firebase_uid, email, email_verified, phone, display_name, language, role,
	anonymous, has_app, ical_token, created_at, updated_at, deleted_at`

// User returns the person with id.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	var u User
	err := store.Get(ctx, s.db, &u, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UsersByIDs returns the people with the given ids, in no particular order.
func (s *Service) UsersByIDs(ctx context.Context, ids []int64) ([]User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+userColumns+` FROM users WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var users []User
	if err := store.Select(ctx, s.db, &users, q, args...); err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	return users, nil
}

// Resolve finds or creates the person behind a verified identity and
// returns them as a Caller. A person granted a role by e-mail before their
// first sign-in is linked to their Firebase account by that verified e-mail.
func (s *Service) Resolve(ctx context.Context, id Identity) (Caller, error) {
	if id.UID == "" {
		return Caller{}, errors.New("resolve identity: empty uid")
	}
	// Almost every request comes from someone known whose token says
	// what it said last time: a plain read answers it. Only a new person
	// or a changed identity needs the write transaction, which on SQLite
	// takes the database's single write lock.
	var u User
	err := store.Get(ctx, s.db, &u, `SELECT `+userColumns+` FROM users WHERE firebase_uid = ?`, id.UID)
	if err == nil && u.DeletedAt == nil && !identityChanged(u, id) {
		return s.caller(ctx, u)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Caller{}, fmt.Errorf("find user by uid: %w", err)
	}
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		u, err = s.upsertIdentity(ctx, tx, id)
		return err
	})
	if err != nil {
		return Caller{}, err
	}
	return s.caller(ctx, u)
}

// identityChanged reports whether the token says something about the
// person that their row does not: the e-mail may have been verified, or an
// anonymous account upgraded, since last time.
func identityChanged(u User, id Identity) bool {
	email := strings.ToLower(strings.TrimSpace(id.Email))
	return u.Anonymous != id.Anonymous || u.EmailVerified != id.EmailVerified || (email != "" && derefOr(u.Email, "") != email)
}

func (s *Service) upsertIdentity(ctx context.Context, tx *sqlx.Tx, id Identity) (User, error) {
	now := s.now()
	email := strings.ToLower(strings.TrimSpace(id.Email))
	var u User
	err := store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE firebase_uid = ?`, id.UID)
	switch {
	case err == nil:
		if u.DeletedAt != nil {
			return User{}, fmt.Errorf("identity %s: %w", id.UID, ErrAccountDeleted)
		}
		// Keep what the token says current: the e-mail may have been
		// verified, or an anonymous account upgraded, since last time.
		if identityChanged(u, id) {
			_, err = store.Exec(ctx, tx, `UPDATE users SET anonymous = ?, email_verified = ?, email = COALESCE(?, email), updated_at = ? WHERE id = ?`,
				id.Anonymous, id.EmailVerified, nullIfEmpty(email), now, u.ID)
			if err != nil {
				return User{}, fmt.Errorf("refresh user %d: %w", u.ID, err)
			}
			u.Anonymous, u.EmailVerified = id.Anonymous, id.EmailVerified
			if email != "" {
				u.Email = &email
			}
		}
		return u, nil
	case !errors.Is(err, store.ErrNotFound):
		return User{}, fmt.Errorf("find user by uid: %w", err)
	}

	if email != "" && id.EmailVerified {
		err := store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users
			WHERE email = ? AND firebase_uid IS NULL AND deleted_at IS NULL`, email)
		if err == nil {
			_, err = store.Exec(ctx, tx, `UPDATE users SET firebase_uid = ?, email_verified = ?, anonymous = FALSE,
				display_name = CASE WHEN display_name = '' THEN ? ELSE display_name END, updated_at = ? WHERE id = ?`,
				id.UID, true, id.Name, now, u.ID)
			if err != nil {
				return User{}, fmt.Errorf("link user %d to uid: %w", u.ID, err)
			}
			return s.userTx(ctx, tx, u.ID)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return User{}, fmt.Errorf("find user by email: %w", err)
		}
	}

	newID, err := insertUser(ctx, tx, newUser{FirebaseUID: id.UID, Email: email, EmailVerified: id.EmailVerified,
		Phone: id.Phone, DisplayName: id.Name, Anonymous: id.Anonymous, HasApp: true}, now)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return s.userTx(ctx, tx, newID)
}

func (s *Service) userTx(ctx context.Context, q store.Querier, id int64) (User, error) {
	var u User
	if err := store.Get(ctx, q, &u, `SELECT `+userColumns+` FROM users WHERE id = ?`, id); err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// Caller loads the roles of the person with id.
func (s *Service) Caller(ctx context.Context, id int64) (Caller, error) {
	u, err := s.User(ctx, id)
	if err != nil {
		return Caller{}, err
	}
	return s.caller(ctx, u)
}

func (s *Service) caller(ctx context.Context, u User) (Caller, error) {
	var orgIDs []int64
	if err := store.Select(ctx, s.db, &orgIDs, `SELECT organisation_id FROM organisers WHERE user_id = ?`, u.ID); err != nil {
		return Caller{}, fmt.Errorf("organisations of user %d: %w", u.ID, err)
	}
	c := Caller{
		UserID:      u.ID,
		Verified:    !u.Anonymous && (u.EmailVerified || u.Phone != nil),
		Secretariat: u.Role == RoleSecretariat,
		Organises:   make(map[int64]bool, len(orgIDs)),
		Language:    u.Language,
	}
	for _, id := range orgIDs {
		c.Organises[id] = true
	}
	return c, nil
}

// GrantSecretariat gives the secretariat role to the person with the given
// e-mail or Firebase uid, creating a placeholder that is linked at their
// first sign-in when nobody has signed in with it yet. It is the way the
// first secretariat account comes to exist, so it asks no caller.
func (s *Service) GrantSecretariat(ctx context.Context, email, uid string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	uid = strings.TrimSpace(uid)
	if email == "" && uid == "" {
		return User{}, errors.New("grant secretariat: give an e-mail or a Firebase uid")
	}
	var u User
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var err error
		if uid != "" {
			err = store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE firebase_uid = ?`, uid)
		} else {
			err = store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE email = ? AND deleted_at IS NULL`, email)
		}
		if errors.Is(err, store.ErrNotFound) {
			id, err := insertUser(ctx, tx, newUser{FirebaseUID: uid, Email: email, Role: RoleSecretariat, HasApp: true}, now)
			if err != nil {
				return fmt.Errorf("create secretariat user: %w", err)
			}
			u, err = s.userTx(ctx, tx, id)
			return err
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE users SET role = 'SECRETARIAT', updated_at = ? WHERE id = ?`, now, u.ID); err != nil {
			return fmt.Errorf("grant secretariat to user %d: %w", u.ID, err)
		}
		u.Role = RoleSecretariat
		return nil
	})
	return u, err
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
