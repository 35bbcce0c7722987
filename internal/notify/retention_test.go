package notify

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// deliveryAt makes a notification for userID created at, with one
// delivery in status to device (0: none) holding token.
func (f *fixture) deliveryAt(userID, device int64, token, status string, at time.Time) int64 {
	f.t.Helper()
	n := f.insert(`INSERT INTO notifications (user_id, kind, title, body, send_after, created_at)
		VALUES (?, 'ANNOUNCEMENT', 'Husk', 'Husk madpakken.', ?, ?) RETURNING id`, userID, at, at)
	var dev any
	if device != 0 {
		dev = device
	}
	return f.insert(`INSERT INTO deliveries (notification_id, device_id, token, platform, status, created_at)
		VALUES (?, ?, ?, 'ANDROID', ?, ?) RETURNING id`, n, dev, token, status, at)
}

func (f *fixture) deviceSeen(userID int64, token string, seen time.Time) int64 {
	return f.insert(`INSERT INTO devices (token, user_id, platform, created_at, last_seen_at)
		VALUES (?, ?, 'ANDROID', ?, ?) RETURNING id`, token, userID, seen, seen)
}

func deliveryRow(t *testing.T, db *store.DB, id int64) (status, token string, found bool) {
	t.Helper()
	var r struct {
		Status string `db:"status"`
		Token  string `db:"token"`
	}
	err := store.Get(context.Background(), db, &r, `SELECT status, token FROM deliveries WHERE id = ?`, id)
	if err == store.ErrNotFound {
		return "", "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.Status, r.Token, true
}

// Deliveries older than 30 days that are done with go; younger ones and
// ones still waiting stay whatever their age.
func TestDeliveryRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		now := time.Now().UTC()
		u := f.user("da")
		old := now.Add(-DeliveryRetention - time.Hour)
		young := now.Add(-DeliveryRetention + time.Hour)
		gone := map[int64]string{}
		for _, st := range []string{"SENT", "FAILED", "UNREGISTERED", "UNKNOWN"} {
			gone[f.deliveryAt(u, 0, "", st, old)] = st
		}
		kept := map[int64]string{
			f.deliveryAt(u, 0, "tok-a", "SENT", young):   "young SENT",
			f.deliveryAt(u, 0, "tok-b", "FAILED", young): "young FAILED",
			f.deliveryAt(u, 0, "tok-c", "PENDING", old):  "old PENDING",
			f.deliveryAt(u, 0, "tok-d", "RETRY", old):    "old RETRY",
		}
		s := newService(t, db, nil, Config{})
		n, err := s.PurgeDeliveries(ctx, now.Add(-DeliveryRetention))
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(gone)) {
			t.Errorf("purged %d deliveries, want %d", n, len(gone))
		}
		for id, what := range gone {
			if _, _, found := deliveryRow(t, db, id); found {
				t.Errorf("old %s delivery kept", what)
			}
		}
		for id, what := range kept {
			if _, _, found := deliveryRow(t, db, id); !found {
				t.Errorf("%s delivery purged", what)
			}
		}
	})
}

// A device whose app has not registered for 270 days goes, with its token
// in the deliveries (waiting ones counted UNREGISTERED); one seen a day
// later stays, deliveries and all. Tokens of deliveries FCM answered
// UNREGISTERED before tokens were cleared at once are cleared.
func TestStaleDevicesRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		now := time.Now().UTC()
		u := f.user("da")
		stale := f.deviceSeen(u, "tok-stale", now.Add(-DeviceRetention-time.Hour))
		fresh := f.deviceSeen(u, "tok-fresh", now.Add(-DeviceRetention+24*time.Hour))
		staleSent := f.deliveryAt(u, stale, "tok-stale", "SENT", now.Add(-time.Hour))
		stalePending := f.deliveryAt(u, stale, "tok-stale", "PENDING", now.Add(-time.Hour))
		freshSent := f.deliveryAt(u, fresh, "tok-fresh", "SENT", now.Add(-time.Hour))
		freshPending := f.deliveryAt(u, fresh, "tok-fresh", "PENDING", now.Add(-time.Hour))
		leftover := f.deliveryAt(u, 0, "tok-dead-before", "UNREGISTERED", now.Add(-time.Hour))

		s := newService(t, db, nil, Config{})
		n, err := s.PurgeDevices(ctx, now.Add(-DeviceRetention))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("removed %d devices, want 1", n)
		}
		var tokens []string
		if err := store.Select(ctx, db, &tokens, `SELECT token FROM devices ORDER BY token`); err != nil {
			t.Fatal(err)
		}
		if len(tokens) != 1 || tokens[0] != "tok-fresh" {
			t.Errorf("devices left %v, want [tok-fresh]", tokens)
		}
		for _, c := range []struct {
			id            int64
			status, token string
		}{
			{staleSent, "SENT", ""},
			{stalePending, "UNREGISTERED", ""},
			{freshSent, "SENT", "tok-fresh"},
			{freshPending, "PENDING", "tok-fresh"},
			{leftover, "UNREGISTERED", ""},
		} {
			st, tok, found := deliveryRow(t, db, c.id)
			if !found || st != c.status || tok != c.token {
				t.Errorf("delivery %d: %s %q (found %v), want %s %q", c.id, st, tok, found, c.status, c.token)
			}
		}
	})
}

// A token FCM calls UNREGISTERED is kept nowhere: not on the device, not
// in the delivery that learnt it, not in the other deliveries to it (the
// one still waiting is not sent).
func TestUnregisteredTokenForgotten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		tokens := f.followersWithDevices(3)
		srv, sender := fakeFCM(t)
		srv.FailToken(tokens[1], fcmtest.Unregistered)
		var d struct {
			ID     int64 `db:"id"`
			UserID int64 `db:"user_id"`
		}
		if err := store.Get(ctx, db, &d, `SELECT id, user_id FROM devices WHERE token = ?`, tokens[1]); err != nil {
			t.Fatal(err)
		}
		dev, owner := d.ID, d.UserID
		earlier := f.deliveryAt(owner, dev, tokens[1], "SENT", time.Now().UTC().Add(-time.Hour))
		waiting := f.deliveryAt(owner, dev, tokens[1], "RETRY", time.Now().UTC().Add(-time.Hour))
		f.exec(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ?`, time.Now().UTC().Add(time.Hour), waiting)

		s := newService(t, db, sender, Config{})
		start(t, s)
		if _, err := s.SendAnnouncement(ctx, secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Husk", "Husk madpakken."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the announcement settled", func() bool {
			c := statusCounts(t, db)
			return c[statusSent] == 3 && c[statusUnregistered] == 2
		})
		var copies int
		if err := store.Get(ctx, db, &copies, `SELECT COUNT(*) FROM deliveries WHERE token = ?`, tokens[1]); err != nil {
			t.Fatal(err)
		}
		if copies != 0 {
			t.Errorf("%d deliveries keep the dead token", copies)
		}
		if st, _, _ := deliveryRow(t, db, earlier); st != "SENT" {
			t.Errorf("the earlier delivery is %s, want SENT still", st)
		}
		if st, _, _ := deliveryRow(t, db, waiting); st != "UNREGISTERED" {
			t.Errorf("the waiting delivery is %s, want UNREGISTERED", st)
		}
		if n := srv.Attempts(tokens[1]); n != 1 {
			t.Errorf("the dead token was tried %d times, want 1", n)
		}
		var left int
		store.Get(ctx, db, &left, `SELECT COUNT(*) FROM devices WHERE token = ?`, tokens[1])
		if left != 0 {
			t.Error("the dead token is still registered")
		}
	})
}

// Signing out takes the pushes still waiting for the phone with it.
func TestUnregisterDeviceDropsWaitingPushes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u, other := f.user("da"), f.user("da")
		dev := f.deviceSeen(u, "tok-phone", time.Now().UTC())
		waiting := f.deliveryAt(u, dev, "tok-phone", "PENDING", time.Now().UTC())
		s := newService(t, db, nil, Config{})
		if ok, err := s.UnregisterDevice(ctx, resident(other), "tok-phone"); err != nil || ok {
			t.Fatalf("someone else unregistered the phone: %v %v", ok, err)
		}
		if st, tok, _ := deliveryRow(t, db, waiting); st != "PENDING" || tok != "tok-phone" {
			t.Fatalf("someone else's attempt changed the delivery to %s %q", st, tok)
		}
		if ok, err := s.UnregisterDevice(ctx, resident(u), "tok-phone"); err != nil || !ok {
			t.Fatalf("unregister: %v %v", ok, err)
		}
		if st, tok, _ := deliveryRow(t, db, waiting); st != "UNREGISTERED" || tok != "" {
			t.Errorf("after sign-out the waiting delivery is %s %q, want UNREGISTERED without token", st, tok)
		}
	})
}
