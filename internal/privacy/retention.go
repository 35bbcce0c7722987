package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// ForgetResidentsWithoutApp erases the name and phone of every resident
// without the app whose last shift or occurrence ended more than
// user.WithoutAppRetention before now: their row becomes an anonymous
// tombstone, as a deleted account's does, and their qualification records
// go; their claims and participations stay, so hours and headcounts still
// count. One transaction per person, so that an organiser signing one of
// them up waits for no more than that. It returns how many it erased.
func (s *Service) ForgetResidentsWithoutApp(ctx context.Context, now time.Time) (int, error) {
	before := now.Add(-user.WithoutAppRetention)
	erased := 0
	for {
		ids, err := user.IdleWithoutApp(ctx, s.db, before, 500)
		if err != nil {
			return erased, err
		}
		done := 0
		for _, id := range ids {
			var gone bool
			err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
				ok, err := user.EraseWithoutAppTx(ctx, s.db, tx, id, before, now)
				if err != nil || !ok {
					gone = false
					return err
				}
				gone = true
				return volunteer.ForgetQualificationsTx(ctx, tx, id)
			})
			if err != nil {
				return erased, fmt.Errorf("forget resident without the app %d: %w", id, err)
			}
			if gone {
				erased++
				done++
			}
		}
		// A person signed up again meanwhile is skipped and would come back
		// in the next list; stop when a round erased nobody.
		if len(ids) < 500 || done == 0 {
			return erased, nil
		}
	}
}
