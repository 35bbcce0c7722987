package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// DeviceRetention is how long a device is kept after its app last
// registered its token (the app does at every start and sign-in). FCM
// itself treats a token unused for 270 days as expired; a phone not opened
// the app in that time is most likely gone, and its token is personal
// data with no use left.
const DeviceRetention = 270 * 24 * time.Hour

// forgetDeviceTx removes the device that holds token, inside tx, with
// what the deliveries copied of it: its pushes still waiting are counted
// UNREGISTERED (they could only fail), and the token is cleared from the
// rows already done. A row being sent right now is left to its own
// answer, which clears it the same way. Nothing is done when no device
// holds token.
func forgetDeviceTx(ctx context.Context, tx *sqlx.Tx, token string) error {
	var id int64
	err := store.Get(ctx, tx, &id, `SELECT id FROM devices WHERE token = ?`, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find device to forget: %w", err)
	}
	if _, err := store.Exec(ctx, tx, `UPDATE deliveries SET status = 'UNREGISTERED', claim = NULL, token = ''
		WHERE device_id = ? AND status IN ('PENDING', 'RETRY')`, id); err != nil {
		return fmt.Errorf("unregister waiting deliveries of device %d: %w", id, err)
	}
	if _, err := store.Exec(ctx, tx, `UPDATE deliveries SET token = ''
		WHERE device_id = ? AND status IN ('SENT', 'FAILED', 'UNREGISTERED', 'UNKNOWN') AND token <> ''`, id); err != nil {
		return fmt.Errorf("clear token from deliveries of device %d: %w", id, err)
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM devices WHERE id = ?`, id); err != nil {
		return fmt.Errorf("remove device %d: %w", id, err)
	}
	return nil
}

// PurgeDevices removes the devices whose app has not registered since
// before (see DeviceRetention), with their tokens in the deliveries, and
// clears the token from any delivery FCM answered UNREGISTERED that still
// holds one (rows written before tokens were cleared at once). It returns
// how many devices went.
func (s *Service) PurgeDevices(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var tokens []string
		if err := store.Select(ctx, s.db, &tokens, `SELECT token FROM devices WHERE last_seen_at < ? ORDER BY last_seen_at LIMIT 500`,
			before.UTC()); err != nil {
			return total, fmt.Errorf("stale devices: %w", err)
		}
		if len(tokens) == 0 {
			break
		}
		err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, t := range tokens {
				if err := forgetDeviceTx(ctx, tx, t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("remove stale devices: %w", err)
		}
		total += int64(len(tokens))
		if len(tokens) < 500 {
			break
		}
	}
	if _, err := store.Exec(ctx, s.db, `UPDATE deliveries SET token = '' WHERE status = 'UNREGISTERED' AND token <> ''`); err != nil {
		return total, fmt.Errorf("clear unregistered tokens from deliveries: %w", err)
	}
	return total, nil
}
