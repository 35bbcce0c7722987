package story

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// WasPublished reports whether the story with id, which a reader may no
// longer see, was public once (hidden after reports, or taken down):
// its public page answers 410 Gone, where one never published answers
// 404 as if it did not exist. It tells nothing that was not public.
func (s *Service) WasPublished(ctx context.Context, id int64) (bool, error) {
	var row struct {
		Status      Status     `db:"status"`
		PublishedAt *time.Time `db:"published_at"`
	}
	err := store.Get(ctx, s.db, &row, `SELECT status, published_at FROM stories WHERE id = ?`, id)
	if store.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("story %d: %w", id, err)
	}
	return row.Status != Published && row.PublishedAt != nil, nil
}
