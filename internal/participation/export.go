package participation

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export.
type PersonData struct {
	Participations []Record `json:"participations"`
	// RequestKeys are the keys the app sent with sign-ups, kept for a
	// while so that a retried tap gives the same answer.
	RequestKeys []RequestKey `json:"participationRequestKeys"`
	// EnteredForOthers are the sign-ups the person made for someone else
	// (an organiser signing up a resident without the app); whom is that
	// person's data and stays out.
	EnteredForOthers []Entered `json:"participationsEnteredForOthers"`
}

// Record is one of the person's sign-ups to an activity.
type Record struct {
	ID                 int64      `json:"id" db:"id"`
	ActivityID         int64      `json:"activityId" db:"activity_id"`
	Activity           string     `json:"activity" db:"title"`
	OccurrenceStartsAt store.Time `json:"occurrenceStartsAt" db:"occurrence_starts_at"`
	Status             string     `json:"status" db:"status"`
	PartySize          int        `json:"partySize" db:"party_size"`
	Attendance         *string    `json:"attendance" db:"attendance"`
	LateCancel         bool       `json:"lateCancel" db:"late_cancel"`
	EnteredByOrganiser bool       `json:"enteredByOrganiser" db:"entered"`
	CreatedAt          time.Time  `json:"createdAt" db:"created_at"`
	CancelledAt        *time.Time `json:"cancelledAt" db:"cancelled_at"`
}

// RequestKey is an idempotency key of a sign-up.
type RequestKey struct {
	Key        string    `json:"key" db:"key"`
	ActivityID int64     `json:"activityId" db:"activity_id"`
	ErrorCode  *string   `json:"errorCode" db:"error_code"`
	CreatedAt  time.Time `json:"createdAt" db:"created_at"`
}

// Entered is a sign-up the person made for someone else.
type Entered struct {
	ActivityID         int64      `json:"activityId" db:"activity_id"`
	OccurrenceStartsAt store.Time `json:"occurrenceStartsAt" db:"occurrence_starts_at"`
	CreatedAt          time.Time  `json:"createdAt" db:"created_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Participations: []Record{}, RequestKeys: []RequestKey{}, EnteredForOthers: []Entered{}}
	steps := []struct {
		what  string
		dest  any
		query string
	}{
		{"participations", &d.Participations, `SELECT p.id, p.activity_id, a.title, p.occurrence_starts_at, p.status, p.party_size,
			p.attendance, p.late_cancel, (p.created_by IS NOT NULL AND p.created_by <> p.user_id) AS entered, p.created_at, p.cancelled_at
			FROM participations p JOIN activities a ON a.id = p.activity_id WHERE p.user_id = ? ORDER BY p.occurrence_starts_at, p.id`},
		{"request keys", &d.RequestKeys, `SELECT key, activity_id, error_code, created_at FROM participation_keys
			WHERE user_id = ? ORDER BY created_at, key`},
		{"sign-ups entered", &d.EnteredForOthers, `SELECT activity_id, occurrence_starts_at, created_at FROM participations
			WHERE created_by = ? AND user_id <> created_by ORDER BY created_at, id`},
	}
	for _, st := range steps {
		if err := store.Select(ctx, q, st.dest, st.query, userID); err != nil {
			return d, fmt.Errorf("export %s of user %d: %w", st.what, userID, err)
		}
	}
	return d, nil
}
