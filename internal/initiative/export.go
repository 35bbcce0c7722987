package initiative

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export: what they proposed, joined and reported. Who else joined is
// their data and stays out.
type PersonData struct {
	Proposed []Proposal     `json:"initiativesProposed"`
	Joined   []Membership   `json:"initiativesJoined"`
	Reports  []ReportRecord `json:"initiativeReports"`
}

// Proposal is an initiative the person proposed.
type Proposal struct {
	ID             int64      `json:"id" db:"id"`
	Name           string     `json:"name" db:"name"`
	Description    string     `json:"description" db:"description"`
	Neighbourhood  string     `json:"neighbourhood" db:"neighbourhood"`
	HelpNeeded     string     `json:"helpNeeded" db:"help_needed"`
	Status         string     `json:"status" db:"status"`
	OrganisationID *int64     `json:"organisationId" db:"organisation_id"`
	CloseReason    *string    `json:"closeReason" db:"close_reason"`
	Hidden         bool       `json:"hidden" db:"hidden"`
	CreatedAt      time.Time  `json:"createdAt" db:"created_at"`
	UpdatedAt      time.Time  `json:"updatedAt" db:"updated_at"`
	ClosedAt       *time.Time `json:"closedAt" db:"closed_at"`
	CoverAlt       *string    `json:"coverAlt" db:"cover_alt"`
	// CoverKey is the stored cover the person uploaded; the export puts the
	// file itself in the ZIP (photoFiles), not the storage key.
	CoverKey *string `json:"-" db:"cover_key"`
}

// Membership is a "count me in" of the person.
type Membership struct {
	InitiativeID int64     `json:"initiativeId" db:"initiative_id"`
	Initiative   string    `json:"initiative" db:"name"`
	Message      string    `json:"message" db:"message"`
	CreatedAt    time.Time `json:"createdAt" db:"created_at"`
}

// ReportRecord is a report the person made of an initiative.
type ReportRecord struct {
	InitiativeID int64     `json:"initiativeId" db:"initiative_id"`
	Initiative   string    `json:"initiative" db:"name"`
	Reason       string    `json:"reason" db:"reason"`
	CreatedAt    time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Proposed: []Proposal{}, Joined: []Membership{}, Reports: []ReportRecord{}}
	steps := []struct {
		what  string
		dest  any
		query string
	}{
		{"proposals", &d.Proposed, `SELECT id, name, description, neighbourhood, help_needed, status, organisation_id, close_reason,
			hidden, created_at, updated_at, closed_at, cover_alt, cover_key FROM initiatives WHERE proposer_id = ? ORDER BY created_at, id`},
		{"memberships", &d.Joined, `SELECT m.initiative_id, i.name, m.message, m.created_at
			FROM initiative_members m JOIN initiatives i ON i.id = m.initiative_id WHERE m.user_id = ? ORDER BY m.created_at, m.initiative_id`},
		{"reports", &d.Reports, `SELECT r.initiative_id, i.name, r.reason, r.created_at
			FROM initiative_reports r JOIN initiatives i ON i.id = r.initiative_id WHERE r.user_id = ? ORDER BY r.created_at, r.initiative_id`},
	}
	for _, st := range steps {
		if err := store.Select(ctx, q, st.dest, st.query, userID); err != nil {
			return d, fmt.Errorf("export %s of user %d: %w", st.what, userID, err)
		}
	}
	return d, nil
}
