package user

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// Profile is the person's own row, as the data export shows it.
type Profile struct {
	ID            int64   `json:"id" db:"id"`
	FirebaseUID   *string `json:"firebaseUid" db:"firebase_uid"`
	Email         *string `json:"email" db:"email"`
	EmailVerified bool    `json:"emailVerified" db:"email_verified"`
	Phone         *string `json:"phone" db:"phone"`
	DisplayName   string  `json:"displayName" db:"display_name"`
	Language      string  `json:"language" db:"language"`
	// LanguageChosen is false while the texts follow the device's language.
	LanguageChosen bool   `json:"languageChosen" db:"language_chosen"`
	Role           string `json:"role" db:"role"`
	Anonymous      bool   `json:"anonymous" db:"anonymous"`
	HasApp         bool   `json:"hasApp" db:"has_app"`
	// CalendarFeed says whether a personal calendar address exists. The
	// address itself is a password-like secret and stays out of a file
	// that may be handed on; createCalendarFeed shows it in the app.
	CalendarFeed bool `json:"calendarFeed" db:"calendar_feed"`
	// AgeGroup is what the person said of their age (UNDER_13,
	// AT_LEAST_13), null while they have not said.
	AgeGroup *string `json:"ageGroup" db:"age_group"`
	// GuardianConsentAt is when a guardian's consent was recorded.
	GuardianConsentAt *time.Time `json:"guardianConsentAt" db:"guardian_consent_at"`
	CreatedAt         time.Time  `json:"createdAt" db:"created_at"`
	UpdatedAt         time.Time  `json:"updatedAt" db:"updated_at"`
	// PendingSecretariatGrant is when the secretariat role was granted to
	// the person's address, while it waits for a sign-in that proves it.
	PendingSecretariatGrant *time.Time `json:"pendingSecretariatGrant"`
}

// ExportPerson reads what this package holds about a person for their data
// export: their row and a secretariat grant waiting for their address.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (Profile, error) {
	var p Profile
	if err := store.Get(ctx, q, &p, `SELECT id, firebase_uid, email, email_verified, phone, display_name, language, language_chosen,
		role, anonymous, has_app, ical_token IS NOT NULL AS calendar_feed, age_group, guardian_consent_at, created_at, updated_at
		FROM users WHERE id = ? AND deleted_at IS NULL`, userID); err != nil {
		return Profile{}, fmt.Errorf("export profile of %d: %w", userID, err)
	}
	var grants []time.Time
	if err := store.Select(ctx, q, &grants, `SELECT g.created_at FROM secretariat_grants g JOIN users u ON u.email = g.email
		WHERE u.id = ?`, userID); err != nil {
		return Profile{}, fmt.Errorf("export secretariat grant of %d: %w", userID, err)
	}
	if len(grants) > 0 {
		p.PendingSecretariatGrant = &grants[0]
	}
	return p, nil
}
