package user

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

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

// UpdateProfile changes the caller's own profile.
func (s *Service) UpdateProfile(ctx context.Context, c Caller, in ProfileInput, languages []string) (User, error) {
	if err := c.RequireSignedIn(); err != nil {
		return User{}, err
	}
	u, err := s.byID(ctx, c.UserID)
	if err != nil {
		return User{}, err
	}
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
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	_, err = store.Exec(ctx, s.db, `UPDATE users SET display_name = ?, language = ?, language_chosen = ?, phone = ?, age_group = ?,
		updated_at = ? WHERE id = ?`,
		u.DisplayName, u.Language, u.LanguageChosen, u.Phone, u.AgeGroup, s.now(), u.ID)
	if err != nil {
		return User{}, fmt.Errorf("update profile of %d: %w", u.ID, err)
	}
	return s.byID(ctx, u.ID)
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
func (s *Service) RecordGuardianConsent(ctx context.Context, c Caller, target int64, given bool) (*time.Time, error) {
	if err := c.RequireSecretariat(); err != nil {
		return nil, err
	}
	var at *time.Time
	if given {
		now := s.now().UTC()
		at = &now
	}
	n, err := store.Exec(ctx, s.db, `UPDATE users SET guardian_consent_at = ?, updated_at = ?
		WHERE id = ? AND deleted_at IS NULL AND firebase_uid IS NOT NULL`, at, s.now(), target)
	if err != nil {
		return nil, fmt.Errorf("record guardian consent for %d: %w", target, err)
	}
	if n == 0 {
		return nil, apperr.New("USER_NOT_FOUND", "userId")
	}
	slog.InfoContext(ctx, "guardian consent recorded", slog.Int64("user_id", target), slog.Int64("by", c.UserID), slog.Bool("given", given))
	return at, nil
}
