// Package user holds people (residents, organisers, the secretariat), the
// caller of a request, and the authorisation rules expressed in terms of
// that caller. Every write elsewhere in the domain asks these rules.
package user

import (
	"context"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// Role is a person's standing across the whole municipality. Organiser
// rights are per organisation and live in the organisers table.
type Role string

const (
	RoleResident    Role = "RESIDENT"
	RoleSecretariat Role = "SECRETARIAT"
)

// User is a person as we store them.
type User struct {
	ID            int64   `db:"id"`
	FirebaseUID   *string `db:"firebase_uid"`
	Email         *string `db:"email"`
	EmailVerified bool    `db:"email_verified"`
	Phone         *string `db:"phone"`
	DisplayName   string  `db:"display_name"`
	Language      string  `db:"language"`
	// LanguageChosen is true when the person chose Language (updateMe);
	// until then Language is the default 'da' and their texts follow the
	// device's Accept-Language.
	LanguageChosen bool    `db:"language_chosen"`
	Role           Role    `db:"role"`
	Anonymous      bool    `db:"anonymous"`
	HasApp         bool    `db:"has_app"`
	ICalToken      *string `db:"ical_token"`
	// AgeGroup is what the person said of their age: AgeUnder13,
	// AgeAtLeast13, or nil while they have not said.
	AgeGroup *string `db:"age_group"`
	// GuardianConsentAt is when the secretariat recorded that a parent or
	// guardian consented to the account of a person under 13.
	GuardianConsentAt *time.Time `db:"guardian_consent_at"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`
	DeletedAt         *time.Time `db:"deleted_at"`
}

// NeedsGuardianConsent reports whether the person said they are under 13
// and no guardian's consent is recorded for them.
func (u User) NeedsGuardianConsent() bool {
	return u.AgeGroup != nil && *u.AgeGroup == AgeUnder13 && u.GuardianConsentAt == nil
}

// Caller is who makes a request. The zero Caller is an anonymous visitor
// with no account.
type Caller struct {
	UserID int64
	// Verified is false for Firebase's anonymous sign-in: such a person may
	// browse and follow but not act on behalf of others.
	Verified    bool
	Secretariat bool
	// Organises is the set of organisation ids the caller is organiser of.
	Organises map[int64]bool
	// Language is the language the person chose, or "" when they never
	// chose one: then a request answers in its Accept-Language.
	Language string
	// NeedsGuardianConsent is true for a person who said they are under
	// 13 and whose guardian's consent the secretariat has not recorded:
	// they may browse, follow and keep things for themself, but not do
	// what shows them to others (RequireShown).
	NeedsGuardianConsent bool
	// AgeAnswered is true when the person has said whether they are under
	// 13 (updateMe ageGroup). Until then they may browse, follow and keep
	// things for themself, but not do what shows them to others
	// (RequireShown): the age gate is asked of everyone, accounts made
	// before it included.
	AgeAnswered bool
	// Named is true when the person has a display name. Without one they
	// may browse, follow and keep things for themself, but not do what
	// shows them to others (RequireShown).
	Named bool
}

// SignedIn reports whether the caller has an account (possibly anonymous).
func (c Caller) SignedIn() bool { return c.UserID != 0 }

// OrganiserOf reports whether the caller may manage organisation orgID.
func (c Caller) OrganiserOf(orgID int64) bool {
	return c.Secretariat || c.Organises[orgID]
}

// RequireSignedIn returns ErrUnauthenticated for visitors without an account.
func (c Caller) RequireSignedIn() error {
	if !c.SignedIn() {
		return apperr.ErrUnauthenticated
	}
	return nil
}

// RequireVerified is for acts that must be traceable to a real person:
// claiming a slot, submitting a story, announcing.
func (c Caller) RequireVerified() error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	if !c.Verified {
		return apperr.New(apperr.CodeVerifiedAccountRequired)
	}
	return nil
}

// Age groups a person may say they are in. 13 is the Danish age of
// consent to online services (databeskyttelsesloven § 6).
const (
	AgeUnder13   = "UNDER_13"
	AgeAtLeast13 = "AT_LEAST_13"
)

// CodeParentalConsentRequired refuses an act that shows the person to
// others while they are under 13 and no guardian's consent is recorded.
const CodeParentalConsentRequired = "PARENTAL_CONSENT_REQUIRED"

// CodeAgeRequired refuses an act that shows the person to others while
// they have not said whether they are under 13: the app asks (updateMe
// ageGroup) and tries again.
const CodeAgeRequired = "AGE_REQUIRED"

// CodeNameRequired refuses an act that shows the person to others (a
// claim on a roster, a story, an initiative, a seat) while they have no
// display name: the app asks for one (updateMe) and tries again.
const CodeNameRequired = "NAME_REQUIRED"

// RequireShown is for acts that show the person to others: claiming a
// slot, taking a seat, writing a story, proposing or joining an
// initiative, organising. Besides a verified account they need to have
// said whether they are under 13, a guardian's consent when under 13, and
// a display name, so that rosters, pushes and pages never show an empty
// one.
func (c Caller) RequireShown() error {
	if err := c.RequireVerified(); err != nil {
		return err
	}
	if !c.AgeAnswered {
		return apperr.New(CodeAgeRequired)
	}
	if c.NeedsGuardianConsent {
		return apperr.New(CodeParentalConsentRequired)
	}
	if !c.Named {
		return apperr.New(CodeNameRequired)
	}
	return nil
}

// RequireOrganiserOf allows organisers of orgID and the secretariat.
func (c Caller) RequireOrganiserOf(orgID int64) error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	if !c.OrganiserOf(orgID) {
		return apperr.ErrForbidden
	}
	return nil
}

// RequireSecretariat allows the municipal secretariat only.
func (c Caller) RequireSecretariat() error {
	if err := c.RequireSignedIn(); err != nil {
		return err
	}
	if !c.Secretariat {
		return apperr.ErrForbidden
	}
	return nil
}

type callerKey struct{}

// WithCaller returns a context carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx, or the anonymous visitor.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
