package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// Devices says which residents with the app to add for a push fan-out.
type Devices struct {
	// N people, each with one registered device.
	N int
	// QuietStart and QuietEnd are every added person's quiet hours in
	// minutes of the day, Copenhagen time; equal values mean none.
	QuietStart, QuietEnd int
}

// DeviceToken is the FCM registration token SeedDevices gives its i-th
// device (from 1). Real tokens are about 160 characters; these are as
// long, so that payloads and the fake FCM's bookkeeping weigh what they
// would in production.
func DeviceToken(i int) string {
	return fmt.Sprintf("load%09d:APA91b", i) + strings.Repeat("x", 140)
}

// SeedDevices adds d.N residents who want announcements pushed, each with
// one Android or iOS device, next to whatever the database holds already.
// Their ids follow the highest existing user id; on PostgreSQL the
// sequences are moved past them.
func SeedDevices(ctx context.Context, db *store.DB, d Devices, now time.Time) error {
	var first, firstDevice int64
	if err := store.Get(ctx, db, &first, `SELECT COALESCE(MAX(id), 0) + 1 FROM users`); err != nil {
		return fmt.Errorf("highest user id: %w", err)
	}
	if err := store.Get(ctx, db, &firstDevice, `SELECT COALESCE(MAX(id), 0) + 1 FROM devices`); err != nil {
		return fmt.Errorf("highest device id: %w", err)
	}
	now = now.UTC().Truncate(time.Second)
	b := &batcher{ctx: ctx, db: db}
	for i := 1; i <= d.N; i++ {
		uid := first + int64(i) - 1
		b.add(`INSERT INTO users (id, firebase_uid, email, email_verified, display_name, created_at, updated_at) VALUES `,
			uid, fmt.Sprintf("push:%d", uid), fmt.Sprintf("push%d@example.org", uid), true, fmt.Sprintf("Borger %d", i), now, now)
		platform := "ANDROID"
		if i%5 < 2 {
			platform = "IOS"
		}
		b.add(`INSERT INTO devices (id, token, user_id, platform, locale, app_version, created_at, last_seen_at) VALUES `,
			firstDevice+int64(i)-1, DeviceToken(i), uid, platform, "da-DK", "1.0.0", now, now)
		b.add(`INSERT INTO notification_preferences (user_id, new_events, announcements, reminders, waitlist, stories,
			quiet_start, quiet_end, updated_at) VALUES `,
			uid, true, true, true, true, true, d.QuietStart, d.QuietEnd, now)
		if b.pending() > 30000 {
			if err := b.flush(); err != nil {
				return err
			}
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	if err := db.MoveIDSequences(ctx, "users", "devices"); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
