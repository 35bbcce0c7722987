package volunteer

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export. Where they acted for others (a slot made, a claim entered, a
// qualification recorded) the export says what and when, never about whom:
// that is the other person's data.
type PersonData struct {
	Claims         []ClaimRecord         `json:"claims"`
	Qualifications []QualificationRecord `json:"qualifications"`
	// RequestKeys are the keys the app sent with claims, kept for a while
	// so that a retried tap gives the same answer.
	RequestKeys            []RequestKey          `json:"claimRequestKeys"`
	SlotsCreated           []SlotCreated         `json:"slotsCreated"`
	ClaimsEntered          []ClaimEntered        `json:"claimsEnteredForOthers"`
	QualificationsRecorded []QualificationRecord `json:"qualificationsRecordedForOthers"`
}

// ClaimRecord is a volunteer sign-up of the person.
type ClaimRecord struct {
	ID                 int64      `json:"id" db:"id"`
	Slot               string     `json:"slot" db:"slot_title"`
	Activity           string     `json:"activity" db:"activity_title"`
	StartsAt           time.Time  `json:"startsAt" db:"starts_at"`
	EndsAt             time.Time  `json:"endsAt" db:"ends_at"`
	Status             string     `json:"status" db:"status"`
	Attendance         *string    `json:"attendance" db:"attendance"`
	LateCancel         bool       `json:"lateCancel" db:"late_cancel"`
	EnteredByOrganiser bool       `json:"enteredByOrganiser" db:"entered"`
	CreatedAt          time.Time  `json:"createdAt" db:"created_at"`
	ConfirmedAt        *time.Time `json:"confirmedAt" db:"confirmed_at"`
	PromotedAt         *time.Time `json:"promotedAt" db:"promoted_at"`
	CancelledAt        *time.Time `json:"cancelledAt" db:"cancelled_at"`
}

// QualificationRecord is e.g. a børneattest an organisation has seen.
type QualificationRecord struct {
	Requirement  string     `json:"requirement" db:"requirement"`
	Organisation string     `json:"organisation" db:"organisation"`
	CheckedAt    time.Time  `json:"checkedAt" db:"checked_at"`
	RecordedAt   time.Time  `json:"recordedAt" db:"recorded_at"`
	ExpiresAt    *time.Time `json:"expiresAt" db:"expires_at"`
}

// RequestKey is an idempotency key of a claim.
type RequestKey struct {
	Key       string    `json:"key" db:"key"`
	SlotID    int64     `json:"slotId" db:"slot_id"`
	ErrorCode *string   `json:"errorCode" db:"error_code"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// SlotCreated is a volunteer slot the person made as organiser.
type SlotCreated struct {
	ID        int64     `json:"id" db:"id"`
	Title     string    `json:"title" db:"title"`
	Activity  string    `json:"activity" db:"activity_title"`
	StartsAt  time.Time `json:"startsAt" db:"starts_at"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// ClaimEntered is a claim the person entered for someone else.
type ClaimEntered struct {
	Slot      string    `json:"slot" db:"slot_title"`
	StartsAt  time.Time `json:"startsAt" db:"starts_at"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Claims: []ClaimRecord{}, Qualifications: []QualificationRecord{}, RequestKeys: []RequestKey{},
		SlotsCreated: []SlotCreated{}, ClaimsEntered: []ClaimEntered{}, QualificationsRecorded: []QualificationRecord{}}
	steps := []struct {
		what  string
		dest  any
		query string
	}{
		{"claims", &d.Claims, `SELECT c.id, s.title AS slot_title, a.title AS activity_title, s.starts_at, s.ends_at,
			c.status, c.attendance, c.late_cancel, (c.created_by IS NOT NULL AND c.created_by <> c.user_id) AS entered,
			c.created_at, c.confirmed_at, c.promoted_at, c.cancelled_at
			FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id JOIN activities a ON a.id = s.activity_id
			WHERE c.user_id = ? ORDER BY s.starts_at, c.id`},
		{"qualifications", &d.Qualifications, `SELECT q.requirement, g.name AS organisation, q.checked_at, q.recorded_at, q.expires_at
			FROM user_qualifications q JOIN organisations g ON g.id = q.organisation_id
			WHERE q.user_id = ? ORDER BY q.requirement, g.name`},
		{"request keys", &d.RequestKeys, `SELECT key, slot_id, error_code, created_at FROM idempotency_keys
			WHERE user_id = ? ORDER BY created_at, key`},
		{"slots created", &d.SlotsCreated, `SELECT s.id, s.title, a.title AS activity_title, s.starts_at, s.created_at
			FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id WHERE s.created_by = ? ORDER BY s.starts_at, s.id`},
		{"claims entered", &d.ClaimsEntered, `SELECT s.title AS slot_title, s.starts_at, c.created_at
			FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
			WHERE c.created_by = ? AND c.user_id <> c.created_by ORDER BY c.created_at, c.id`},
		{"qualifications recorded", &d.QualificationsRecorded, `SELECT q.requirement, g.name AS organisation, q.checked_at, q.recorded_at, q.expires_at
			FROM user_qualifications q JOIN organisations g ON g.id = q.organisation_id
			WHERE q.recorded_by = ? AND q.user_id <> q.recorded_by ORDER BY q.recorded_at`},
	}
	for _, st := range steps {
		if err := store.Select(ctx, q, st.dest, st.query, userID); err != nil {
			return d, fmt.Errorf("export %s of user %d: %w", st.what, userID, err)
		}
	}
	return d, nil
}
