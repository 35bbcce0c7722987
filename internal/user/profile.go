package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
)

// ProfileInput changes what a person says about themself. Nil leaves a
// field as it is.
type ProfileInput struct {
	DisplayName *string
	Language    *string
	Phone       *string
	// AgeGroup is AgeUnder13 or AgeAtLeast13: what the person says of
	// their age (asked at sign-up; they may correct it, or say they have
	// turned 13).
	AgeGroup *string
}

// UpdateProfile changes the caller's own profile. Saying UNDER_13 while
// no guardian's consent is recorded restricts the person (see
// OnRestriction) in the same transaction: whatever they had signed up
// for or written before is taken out of others' sight.
func (s *Service) UpdateProfile(ctx context.Context, c Caller, in ProfileInput, languages []string) (User, error) {
	if err := c.RequireSignedIn(); err != nil {
		return User{}, err
	}
	var after []func(context.Context)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		after = nil
		u, err := s.lockUser(ctx, tx, c.UserID)
		if err != nil {
			return err
		}
		before := u.NeedsGuardianConsent()
		if err := applyProfile(&u, in, languages); err != nil {
			return err
		}
		now := s.now()
		_, err = store.Exec(ctx, tx, `UPDATE users SET display_name = ?, language = ?, language_chosen = ?, phone = ?, age_group = ?,
			updated_at = ? WHERE id = ?`,
			u.DisplayName, u.Language, u.LanguageChosen, u.Phone, u.AgeGroup, now, u.ID)
		if err != nil {
			return fmt.Errorf("update profile of %d: %w", u.ID, err)
		}
		if u.NeedsGuardianConsent() && !before {
			after, err = s.restrictionChanged(ctx, tx, u.ID, true, now)
		}
		return err
	})
	if err != nil {
		return User{}, err
	}
	for _, f := range after {
		f(ctx)
	}
	return s.byID(ctx, c.UserID)
}

func applyProfile(u *User, in ProfileInput, languages []string) error {
	var errs apperr.List
	if in.DisplayName != nil {
		name, err := NormaliseName(*in.DisplayName, MaxDisplayName, "displayName")
		errs = append(errs, apperr.UserErrors(err)...)
		u.DisplayName = name
	}
	if in.Language != nil {
		// An empty language gives up the choice: texts follow the
		// device's Accept-Language again, pushes are Danish.
		ok := *in.Language == ""
		for _, l := range languages {
			ok = ok || l == *in.Language
		}
		if !ok {
			errs.Add("INVALID_LANGUAGE", "language")
		}
		u.Language, u.LanguageChosen = *in.Language, *in.Language != ""
		if !u.LanguageChosen {
			u.Language = "da"
		}
	}
	if in.Phone != nil {
		if strings.TrimSpace(*in.Phone) == "" {
			u.Phone = nil
		} else if p, ok := NormalisePhone(*in.Phone); !ok {
			errs.Add("INVALID_PHONE", "phone")
		} else {
			u.Phone = &p
		}
	}
	if in.AgeGroup != nil {
		switch {
		case *in.AgeGroup != AgeUnder13 && *in.AgeGroup != AgeAtLeast13:
			errs.Add(apperr.CodeInvalid, "ageGroup")
		case u.NeedsGuardianConsent() && *in.AgeGroup != AgeUnder13:
			// An age gate a child can answer again at once is no gate:
			// once under 13, only a guardian's consent, recorded by the
			// secretariat, lifts the restrictions (also at 13).
			errs.Add(CodeParentalConsentRequired, "ageGroup")
		}
		u.AgeGroup = in.AgeGroup
	}
	return errs.Err()
}

// lockUser reads the person with id and holds their row until tx ends, so
// that a declaration and a consent recorded at the same moment are judged
// one after the other.
func (s *Service) lockUser(ctx context.Context, tx *sqlx.Tx, id int64) (User, error) {
	var u User
	err := store.Get(ctx, tx, &u, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`+s.db.ForUpdate(), id)
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// RestrictionHook is run inside the transaction in which a person becomes
// restricted as a child under 13 without a guardian's consent (restricted
// true: they said UNDER_13 after having acted, or their guardian's
// consent was withdrawn) or stops being so (false: consent recorded). It
// undoes or restores what shows them to others, and returns what to do
// once the transaction has committed (live updates), or nil.
type RestrictionHook func(ctx context.Context, tx *sqlx.Tx, userID int64, restricted bool, now time.Time) (func(context.Context), error)

// OnRestriction adds a hook run when a person's restriction as a child
// changes.
func (s *Service) OnRestriction(h RestrictionHook) { s.restriction = append(s.restriction, h) }

func (s *Service) restrictionChanged(ctx context.Context, tx *sqlx.Tx, id int64, restricted bool, now time.Time) ([]func(context.Context), error) {
	var after []func(context.Context)
	for _, h := range s.restriction {
		f, err := h(ctx, tx, id, restricted, now)
		if err != nil {
			return nil, err
		}
		if f != nil {
			after = append(after, f)
		}
	}
	return after, nil
}

// ContactVisible reports whether c may see the e-mail and phone number of
// person target: the person themself, the secretariat, organisers of an
// activity the person has signed up for (a slot or as a guest), and fellow organisers. It is the
// rule ByIDs shows people by.
func (s *Service) ContactVisible(ctx context.Context, c Caller, target int64) (bool, error) {
	return ContactVisibleIn(ctx, s.db, c, target)
}

// ContactVisibleIn is ContactVisible inside a transaction of another
// package, for rules that build on it (an organiser may invite by id only
// someone they can already see).
func ContactVisibleIn(ctx context.Context, q store.Querier, c Caller, target int64) (bool, error) {
	if !c.SignedIn() {
		return false, nil
	}
	query, args, err := visibleQuery(c, []int64{target})
	if err != nil || query == "" {
		return false, err
	}
	var n int
	if err := store.Get(ctx, q, &n, `SELECT COUNT(*) FROM users u WHERE `+query, args...); err != nil {
		return false, fmt.Errorf("contact visibility: %w", err)
	}
	return n > 0, nil
}

// RecordGuardianConsent records (given) or withdraws that a parent or
// guardian consented to the account of person target, for a person under
// 13 (AgeUnder13). Only the secretariat may: the guardian gives consent
// to the municipality (a signed form, in person), and the app cannot
// check who a parent is. It returns when consent was recorded, nil when
// withdrawn. Recording it for someone who has not said they are under 13
// is allowed (the form may come first) and changes nothing until they do.
// Recording it for a restricted child restores, in the same transaction,
// the stories withheld from others (OnRestriction). Withdrawing is
// WithdrawGuardianConsent.
func (s *Service) RecordGuardianConsent(ctx context.Context, c Caller, target int64, given bool) (*time.Time, error) {
	if !given {
		return nil, s.WithdrawGuardianConsent(ctx, c, target)
	}
	if err := c.RequireSecretariat(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var after []func(context.Context)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		after = nil
		u, err := s.consentTarget(ctx, tx, target)
		if err != nil {
			return err
		}
		if _, err := store.Exec(ctx, tx, `UPDATE users SET guardian_consent_at = ?, updated_at = ? WHERE id = ?`, now, now, target); err != nil {
			return fmt.Errorf("record guardian consent for %d: %w", target, err)
		}
		if u.NeedsGuardianConsent() {
			after, err = s.restrictionChanged(ctx, tx, target, false, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, f := range after {
		f(ctx)
	}
	slog.InfoContext(ctx, "guardian consent recorded", slog.Int64("user_id", target), slog.Int64("by", c.UserID), slog.Bool("given", true))
	return &now, nil
}

// WithdrawGuardianConsent withdraws a recorded guardian's consent for
// person target: secretariat only, as recording it. The consent was given
// for a child, so the person is a child under 13 again (age_group
// UNDER_13), even if they said AT_LEAST_13 while consented: the
// secretariat, not the child, decides when the consent no longer holds,
// and the child cannot answer the question again to pass the gate. In
// the same transaction everything that shows them to others goes as when
// a child declares it (OnRestriction): upcoming sign-ups released, stories
// withheld. Withdrawing where no consent is recorded changes nothing.
func (s *Service) WithdrawGuardianConsent(ctx context.Context, c Caller, target int64) error {
	if err := c.RequireSecretariat(); err != nil {
		return err
	}
	var after []func(context.Context)
	changed := false
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		after, changed = nil, false
		u, err := s.consentTarget(ctx, tx, target)
		if err != nil || u.GuardianConsentAt == nil {
			return err
		}
		changed = true
		now := s.now()
		if _, err := store.Exec(ctx, tx, `UPDATE users SET guardian_consent_at = NULL, age_group = ?, updated_at = ? WHERE id = ?`,
			AgeUnder13, now, target); err != nil {
			return fmt.Errorf("withdraw guardian consent for %d: %w", target, err)
		}
		after, err = s.restrictionChanged(ctx, tx, target, true, now)
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range after {
		f(ctx)
	}
	if changed {
		slog.InfoContext(ctx, "guardian consent withdrawn", slog.Int64("user_id", target), slog.Int64("by", c.UserID))
	}
	return nil
}

// consentTarget locks the person a guardian's consent is recorded for: an
// account that signs in and is not deleted, else USER_NOT_FOUND.
func (s *Service) consentTarget(ctx context.Context, tx *sqlx.Tx, target int64) (User, error) {
	u, err := s.lockUser(ctx, tx, target)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.FirebaseUID == nil) {
		return User{}, apperr.New("USER_NOT_FOUND", "userId")
	}
	return u, err
}
