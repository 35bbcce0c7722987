package story

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// placeholderBatch is how many photos one pass of BackfillPlaceholders
// reads at a time.
const placeholderBatch = 50

// BackfillPlaceholders gives the photos stored before migration 00024
// their BlurHash placeholder, and their size where it is missing, worked
// out from the large rendition as it is stored. It is idempotent: only
// photos without a placeholder are read, and a photo whose blob cannot be
// read is logged and left as it was (the app shows it without a
// placeholder, as before), to be tried again on the next pass. It returns
// how many photos it gave a placeholder. The housekeeping task
// photo-placeholders runs it.
func (s *Service) BackfillPlaceholders(ctx context.Context) (int, error) {
	var done int
	after := int64(0)
	for {
		var rows []struct {
			ID       int64  `db:"id"`
			KeyLarge string `db:"key_large"`
			Width    int    `db:"width"`
			Height   int    `db:"height"`
		}
		if err := store.Select(ctx, s.db, &rows, `SELECT id, key_large, width, height FROM story_photos
			WHERE placeholder IS NULL AND id > ? ORDER BY id LIMIT ?`, after, placeholderBatch); err != nil {
			return done, fmt.Errorf("photos without a placeholder: %w", err)
		}
		if len(rows) == 0 {
			return done, nil
		}
		for _, r := range rows {
			after = r.ID
			w, h, ph, err := s.measure(ctx, r.KeyLarge)
			if err != nil {
				if ctx.Err() != nil {
					return done, ctx.Err()
				}
				slog.WarnContext(ctx, "photo placeholder", slog.Int64("photo", r.ID), slog.String("key", r.KeyLarge), slog.Any("error", err))
				continue
			}
			if r.Width > 0 && r.Height > 0 {
				w, h = r.Width, r.Height
			}
			n, err := store.Exec(ctx, s.db, `UPDATE story_photos SET placeholder = ?, width = ?, height = ? WHERE id = ? AND placeholder IS NULL`,
				ph, w, h, r.ID)
			if err != nil {
				return done, fmt.Errorf("placeholder of photo %d: %w", r.ID, err)
			}
			done += int(n)
		}
	}
}

func (s *Service) measure(ctx context.Context, key string) (int, int, string, error) {
	rc, err := s.media.Open(ctx, key)
	if err != nil {
		return 0, 0, "", fmt.Errorf("open %s: %w", key, err)
	}
	defer rc.Close()
	return media.Measure(ctx, rc, media.MaxUploadBytes)
}
