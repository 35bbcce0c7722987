package user

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	// AuthTime is when the person signed in to get the token (Firebase's
	// auth_time; a refreshed token keeps it). Tokens from a sign-in before
	// an account's deletion are refused; zero counts as before.
	AuthTime time.Time
}

// Verified reports whether the identity is tied to something real: a
// verified e-mail, a phone number or a federated provider. Firebase sets
// email_verified for Google and Apple sign-in.
func (id Identity) Verified() bool {
	return !id.Anonymous && (id.EmailVerified || id.Phone != "")
}

// Service reads and writes people.
type Service struct {
	db    *store.DB
	now   func() time.Time
	hooks []EmailProvenHook
}

// NewService returns a Service on db that reads the time from now.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

const userColumns = `id, firebase_uid, email, email_verified, phone, display_name, language, language_chosen, role,
	anonymous, has_app, ical_token, age_group, guardian_consent_at, created_at, updated_at, deleted_at`

// byID returns the person with id, for this package's own use: what
// others may see of a person goes through ByIDs.
func (s *Service) byID(ctx context.Context, id int64) (User, error) {
	var u User
	err := store.Get(ctx, s.db, &u, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// ByIDs returns the people among ids that c may see, in no particular
// order; the others are left out, as if they did not exist. A person is
// seen, contact details and all, under the rule of ContactVisible: by
// themself, the secretariat, the organisers of an activity they signed up
// for, and their fellow organisers. Everyone else could otherwise walk
// the sequential ids and list the town's residents.
func (s *Service) ByIDs(ctx context.Context, c Caller, ids []int64) ([]User, error) {
	if len(ids) == 0 || !c.SignedIn() {
		return nil, nil
	}
	query, args, err := visibleQuery(c, ids)
	if err != nil || query == "" {
		return nil, err
	}
	var users []User
	if err := store.Select(ctx, s.db, &users, `SELECT `+userColumns+` FROM users u WHERE `+query, args...); err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	return users, nil
}

// visibleQuery is the condition selecting the people among ids whom c
// may see (see ByIDs), or "" when that is nobody.
func visibleQuery(c Caller, ids []int64) (string, []any, error) {
	if c.Secretariat {
		return store.In(`u.id IN (?)`, ids)
	}
	if len(c.Organises) == 0 {
		for _, id := range ids {
			if id == c.UserID {
				return `u.id = ?`, []any{id}, nil
			}
		}
		return "", nil, nil
	}
	orgs := make([]int64, 0, len(c.Organises))
	for id := range c.Organises {
		orgs = append(orgs, id)
	}
	return store.In(`u.id IN (?) AND (u.id = ?
		OR EXISTS (SELECT 1 FROM slot_claims sc
			JOIN volunteer_slots vs ON vs.id = sc.slot_id
			JOIN activities a ON a.id = vs.activity_id
			WHERE sc.user_id = u.id AND a.organisation_id IN (?))
		OR EXISTS (SELECT 1 FROM participations p
			JOIN activities a ON a.id = p.activity_id
			WHERE p.user_id = u.id AND a.organisation_id IN (?))
		OR EXISTS (SELECT 1 FROM organisers o WHERE o.user_id = u.id AND o.organisation_id IN (?)))`,
		ids, c.UserID, orgs, orgs, orgs)
}

// ErrEmailNotVerified refuses a sign-in whose token names an e-mail
// address another account here holds, when the token does not say the
// address is verified. Taking the address would let anyone claim someone
// else's; the person verifies it (Firebase sends the link) and is let in.
var ErrEmailNotVerified = errors.New("the e-mail address belongs to another account and this token does not prove it")

// EmailProvenHook is run inside the sign-in transaction when an account
// has just proven an e-mail address: its first sign-in with a verified
// address, or the first after verifying or changing it. Whatever was
// granted to the address waits for this (organiser invitations in
// internal/organisation).
type EmailProvenHook func(ctx context.Context, tx *sqlx.Tx, userID int64, email string) error

// OnEmailProven adds a hook; call it while wiring, before serving.
func (s *Service) OnEmailProven(h EmailProvenHook) { s.hooks = append(s.hooks, h) }

// Resolve finds or creates the person behind a verified identity and
// returns them as a Caller. Roles granted to an e-mail address bind only
// to an account whose token says the address is verified.
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
// anonymous account upgraded, since last time; or the person has no
// display name yet and the token now carries one (they gave Firebase a
// name after their first sign-in).
func identityChanged(u User, id Identity) bool {
	email := normaliseEmail(id.Email)
	return u.Anonymous != id.Anonymous || u.EmailVerified != id.EmailVerified || (email != "" && derefOr(u.Email, "") != email) ||
		(u.DisplayName == "" && tokenName(id) != "")
}

// tokenName is the display name the token's name claim gives, or "" when
// it has none or one that could not be typed into updateMe either.
func tokenName(id Identity) string {
	if id.Name == "" {
		return ""
	}
	name, err := NormaliseName(id.Name, MaxDisplayName)
	if err != nil {
		return ""
	}
	return name
}

func normaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// proven reports whether the row holds an address its owner has proven.
func proven(u User) bool { return u.EmailVerified && u.Email != nil && u.FirebaseUID != nil }

func (s *Service) upsertIdentity(ctx context.Context, tx *sqlx.Tx, id Identity) (User, error) {
	now := s.now()
	email := normaliseEmail(id.Email)
	// The name of a first sign-in comes from the token (Firebase's name
	// claim: Google, Apple, or what the app set on the Firebase account).
	// One that could not be typed into updateMe is not taken from it
	// either: the person has no name until they set one in the app, and
	// RequireShown asks for it before anything shows them to others.
	name := tokenName(id)
	var u User
	err := store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE firebase_uid = ?`, id.UID)
	switch {
	case err == nil:
		if u.DeletedAt != nil {
			return User{}, fmt.Errorf("identity %s: %w", id.UID, ErrAccountDeleted)
		}
		if !identityChanged(u, id) {
			return u, nil
		}
		before := u
		if email != "" && derefOr(u.Email, "") != email {
			if err := s.freeEmail(ctx, tx, u.ID, email, id.EmailVerified, now); err != nil {
				return User{}, err
			}
			u.Email = &email
		}
		if u.DisplayName == "" {
			u.DisplayName = name
		}
		_, err = store.Exec(ctx, tx, `UPDATE users SET anonymous = ?, email_verified = ?, email = ?, display_name = ?, updated_at = ? WHERE id = ?`,
			id.Anonymous, id.EmailVerified, u.Email, u.DisplayName, now, u.ID)
		if err != nil {
			return User{}, fmt.Errorf("refresh user %d: %w", u.ID, err)
		}
		u.Anonymous, u.EmailVerified = id.Anonymous, id.EmailVerified
		if proven(u) && (!proven(before) || *before.Email != *u.Email) {
			return s.emailProven(ctx, tx, u)
		}
		return u, nil
	case !errors.Is(err, store.ErrNotFound):
		return User{}, fmt.Errorf("find user by uid: %w", err)
	}

	// A token from a sign-in before the account behind its uid was deleted
	// must not make the account again: the person deleted it, and the app
	// may simply not have noticed yet.
	if err := refuseErased(ctx, tx, id); err != nil {
		return User{}, err
	}

	// Someone new to us, or a new Firebase account for someone we know.
	if email != "" {
		var holder User
		err := store.Get(ctx, tx, &holder, `SELECT `+userColumns+` FROM users WHERE email = ? AND deleted_at IS NULL`, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return User{}, fmt.Errorf("find user by email: %w", err)
		case id.EmailVerified && (holder.FirebaseUID == nil || holder.EmailVerified):
			// Either a placeholder waiting for whoever proves the address,
			// or the same person signing in with a new Firebase account
			// (deleted and made again, another sign-in method, a moved
			// project): both tokens prove the address, so it is them.
			_, err = store.Exec(ctx, tx, `UPDATE users SET firebase_uid = ?, email_verified = TRUE, anonymous = FALSE,
				display_name = CASE WHEN display_name = '' THEN ? ELSE display_name END, updated_at = ? WHERE id = ?`,
				id.UID, name, now, holder.ID)
			if err != nil {
				return User{}, fmt.Errorf("link user %d to uid: %w", holder.ID, err)
			}
			u, err := s.userTx(ctx, tx, holder.ID)
			if err != nil {
				return User{}, err
			}
			return s.emailProven(ctx, tx, u)
		default:
			if err := s.freeEmail(ctx, tx, 0, email, id.EmailVerified, now); err != nil {
				return User{}, err
			}
		}
	}

	newID, err := insertUser(ctx, tx, newUser{FirebaseUID: id.UID, Email: email, EmailVerified: id.EmailVerified,
		Phone: id.Phone, DisplayName: name, Anonymous: id.Anonymous, HasApp: true}, now)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u, err = s.userTx(ctx, tx, newID)
	if err != nil {
		return User{}, err
	}
	if proven(u) {
		return s.emailProven(ctx, tx, u)
	}
	return u, nil
}

// refuseErased returns ErrAccountDeleted when an account with id's uid was
// deleted after the sign-in that issued the token.
func refuseErased(ctx context.Context, tx *sqlx.Tx, id Identity) error {
	var deletedAt []time.Time
	err := store.Select(ctx, tx, &deletedAt, `SELECT deleted_at FROM users WHERE erased_uid_sha256 = ? AND deleted_at IS NOT NULL`,
		ErasedUID(id.UID))
	if err != nil {
		return fmt.Errorf("find deleted account of uid: %w", err)
	}
	for _, d := range deletedAt {
		// auth_time has whole seconds: a sign-in in the second of the
		// deletion counts as before it.
		if id.AuthTime.Before(d.Truncate(time.Second).Add(time.Second)) {
			return fmt.Errorf("identity %s signed in at %s: %w", id.UID, id.AuthTime.UTC().Format(time.RFC3339), ErrAccountDeleted)
		}
	}
	return nil
}

// ErasedUID is what a deleted account's tombstone keeps of its sign-in uid
// while tokens issued before the deletion may still be in use: enough to
// recognise them, not to name the account.
func ErasedUID(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:])
}

// freeEmail makes address free for account self (0 for one about to be
// made). A token that proves the address takes it from whoever holds it
// (the holder's claim is older, and either unproven or proven by a token
// the holder can show again to take it back); one that does not gets
// ErrEmailNotVerified.
func (s *Service) freeEmail(ctx context.Context, tx *sqlx.Tx, self int64, address string, verified bool, now time.Time) error {
	var holder int64
	err := store.Get(ctx, tx, &holder, `SELECT id FROM users WHERE email = ? AND deleted_at IS NULL AND id <> ?`, address, self)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find holder of e-mail: %w", err)
	}
	if !verified {
		return fmt.Errorf("e-mail of user %d: %w", holder, ErrEmailNotVerified)
	}
	if _, err := store.Exec(ctx, tx, `UPDATE users SET email = NULL, email_verified = FALSE, updated_at = ? WHERE id = ?`, now, holder); err != nil {
		return fmt.Errorf("release e-mail of user %d: %w", holder, err)
	}
	return nil
}

// emailProven gives the account that has just proven its address what
// was granted to the address before.
func (s *Service) emailProven(ctx context.Context, tx *sqlx.Tx, u User) (User, error) {
	granted, err := store.Exec(ctx, tx, `DELETE FROM secretariat_grants WHERE email = ?`, *u.Email)
	if err != nil {
		return User{}, fmt.Errorf("pending secretariat grant: %w", err)
	}
	if granted > 0 {
		if _, err := store.Exec(ctx, tx, `UPDATE users SET role = 'SECRETARIAT', updated_at = ? WHERE id = ?`, s.now(), u.ID); err != nil {
			return User{}, fmt.Errorf("grant secretariat to user %d: %w", u.ID, err)
		}
		u.Role = RoleSecretariat
	}
	for _, h := range s.hooks {
		if err := h(ctx, tx, u.ID, *u.Email); err != nil {
			return User{}, err
		}
	}
	return u, nil
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
	u, err := s.byID(ctx, id)
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
		UserID:               u.ID,
		Verified:             !u.Anonymous && (u.EmailVerified || u.Phone != nil),
		Secretariat:          u.Role == RoleSecretariat,
		Organises:            make(map[int64]bool, len(orgIDs)),
		Named:                u.DisplayName != "",
		AgeAnswered:          u.AgeGroup != nil,
		NeedsGuardianConsent: u.NeedsGuardianConsent(),
	}
	if u.LanguageChosen {
		c.Language = u.Language
	}
	for _, id := range orgIDs {
		c.Organises[id] = true
	}
	return c, nil
}

// GrantSecretariat gives the secretariat role to the person with the given
// e-mail or Firebase uid. It is the way the first secretariat account
// comes to exist, so it asks no caller; it is run by the operator.
//
// By uid the grant is direct: a row for the uid is made if nobody has
// signed in with it yet. By e-mail it binds only to an account that has
// proven the address; otherwise it waits (pending is true, the User is
// zero) and is applied when an account whose token says the address is
// verified signs in.
func (s *Service) GrantSecretariat(ctx context.Context, email, uid string) (u User, pending bool, err error) {
	email = normaliseEmail(email)
	uid = strings.TrimSpace(uid)
	switch {
	case email == "" && uid == "":
		return User{}, false, errors.New("grant secretariat: give an e-mail or a Firebase uid")
	case uid == "" && (!strings.Contains(email, "@") || len(email) > 254):
		return User{}, false, fmt.Errorf("grant secretariat: %q is not an e-mail address", email)
	}
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var err error
		if uid != "" {
			err = store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE firebase_uid = ?`, uid)
		} else {
			err = store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE email = ? AND deleted_at IS NULL`, email)
		}
		switch {
		case errors.Is(err, store.ErrNotFound) && uid != "":
			id, err := insertUser(ctx, tx, newUser{FirebaseUID: uid, Role: RoleSecretariat, HasApp: true}, now)
			if err != nil {
				return fmt.Errorf("create secretariat user: %w", err)
			}
			u, err = s.userTx(ctx, tx, id)
			return err
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("find user: %w", err)
		case uid == "" && (err != nil || !proven(u)):
			u, pending = User{}, true
			_, err := store.Exec(ctx, tx, `INSERT INTO secretariat_grants (email, created_at) VALUES (?, ?)
				ON CONFLICT (email) DO NOTHING`, email, now)
			if err != nil {
				return fmt.Errorf("record pending secretariat grant: %w", err)
			}
			return nil
		}
		if u.DeletedAt != nil {
			return fmt.Errorf("grant secretariat: user %d is deleted", u.ID)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE users SET role = 'SECRETARIAT', updated_at = ? WHERE id = ?`, now, u.ID); err != nil {
			return fmt.Errorf("grant secretariat to user %d: %w", u.ID, err)
		}
		u.Role = RoleSecretariat
		return nil
	})
	if err != nil {
		return User{}, false, err
	}
	return u, pending, nil
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
