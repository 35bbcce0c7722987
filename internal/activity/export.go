package activity

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// Created is an activity a person made as organiser, for their data
// export.
type Created struct {
	ID             int64     `json:"id" db:"id"`
	OrganisationID int64     `json:"organisationId" db:"organisation_id"`
	Title          string    `json:"title" db:"title"`
	Status         string    `json:"status" db:"status"`
	StartsAt       time.Time `json:"startsAt" db:"starts_at"`
	CreatedAt      time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads the activities a person made.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) ([]Created, error) {
	out := []Created{}
	if err := store.Select(ctx, q, &out, `SELECT id, organisation_id, title, status, starts_at, created_at FROM activities
		WHERE created_by = ? ORDER BY created_at, id`, userID); err != nil {
		return nil, fmt.Errorf("export activities made by %d: %w", userID, err)
	}
	return out, nil
}
