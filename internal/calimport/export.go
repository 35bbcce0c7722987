package calimport

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// Added is a calendar source a person added as organiser, for their data
// export.
type Added struct {
	ID             int64     `json:"id" db:"id"`
	OrganisationID int64     `json:"organisationId" db:"organisation_id"`
	URL            string    `json:"url" db:"url"`
	CreatedAt      time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads the calendar sources a person added.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) ([]Added, error) {
	out := []Added{}
	if err := store.Select(ctx, q, &out, `SELECT id, organisation_id, url, created_at FROM calendar_sources
		WHERE created_by = ? ORDER BY created_at, id`, userID); err != nil {
		return nil, fmt.Errorf("export calendar sources added by %d: %w", userID, err)
	}
	return out, nil
}
