package organisation

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export.
type PersonData struct {
	Organises []Organising `json:"organises"`
	// Invitations are the invitations to organise sent to the person or
	// to their address.
	Invitations []InvitationReceived `json:"organiserInvitations"`
	// InvitationsSent are the invitations the person sent; whom they
	// invited is that person's data and stays out.
	InvitationsSent []InvitationSent `json:"organiserInvitationsSent"`
	// OrganisersAdded are the organiser rights the person gave, without
	// to whom.
	OrganisersAdded []InvitationSent `json:"organisersAdded"`
}

// Organising is an organisation the person organises.
type Organising struct {
	OrganisationID int64     `json:"organisationId" db:"organisation_id"`
	Name           string    `json:"name" db:"name"`
	Since          time.Time `json:"since" db:"created_at"`
}

// InvitationReceived is an invitation to organise sent to the person.
type InvitationReceived struct {
	Organisation string     `json:"organisation" db:"organisation"`
	Email        *string    `json:"email" db:"email"`
	Status       string     `json:"status" db:"status"`
	CreatedAt    time.Time  `json:"createdAt" db:"created_at"`
	ExpiresAt    time.Time  `json:"expiresAt" db:"expires_at"`
	RespondedAt  *time.Time `json:"respondedAt" db:"responded_at"`
}

// InvitationSent is an invitation the person sent, without the invitee.
type InvitationSent struct {
	Organisation string    `json:"organisation" db:"organisation"`
	Status       string    `json:"status" db:"status"`
	CreatedAt    time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Organises: []Organising{}, Invitations: []InvitationReceived{}, InvitationsSent: []InvitationSent{}, OrganisersAdded: []InvitationSent{}}
	if err := store.Select(ctx, q, &d.Organises, `SELECT o.organisation_id, g.name, o.created_at
		FROM organisers o JOIN organisations g ON g.id = o.organisation_id WHERE o.user_id = ? ORDER BY g.name`, userID); err != nil {
		return d, fmt.Errorf("export organiser rights of %d: %w", userID, err)
	}
	if err := store.Select(ctx, q, &d.Invitations, `SELECT g.name AS organisation, i.email, i.status, i.created_at, i.expires_at, i.responded_at
		FROM organiser_invitations i JOIN organisations g ON g.id = i.organisation_id
		WHERE i.user_id = ? OR i.email IN (SELECT email FROM users WHERE id = ?) ORDER BY i.id`, userID, userID); err != nil {
		return d, fmt.Errorf("export organiser invitations of %d: %w", userID, err)
	}
	if err := store.Select(ctx, q, &d.InvitationsSent, `SELECT g.name AS organisation, i.status, i.created_at
		FROM organiser_invitations i JOIN organisations g ON g.id = i.organisation_id
		WHERE i.invited_by = ? ORDER BY i.id`, userID); err != nil {
		return d, fmt.Errorf("export organiser invitations sent by %d: %w", userID, err)
	}
	if err := store.Select(ctx, q, &d.OrganisersAdded, `SELECT g.name AS organisation, 'ADDED' AS status, o.created_at
		FROM organisers o JOIN organisations g ON g.id = o.organisation_id
		WHERE o.added_by = ? ORDER BY o.created_at`, userID); err != nil {
		return d, fmt.Errorf("export organisers added by %d: %w", userID, err)
	}
	return d, nil
}
