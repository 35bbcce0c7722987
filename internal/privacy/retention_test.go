package privacy_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// The name and phone of a resident without the app go 14 days after the
// last shift or occurrence they were signed up for ended; their claims
// and participations stay with the tombstone, so the hours and headcounts
// still count. Someone whose sign-up ended 13 days ago, or who has one
// coming, or a resident with the app, is kept.
func TestResidentsWithoutAppForgotten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		day := 24 * time.Hour
		var org, act int64
		must(t, store.Get(ctx, db, &org, `INSERT INTO organisations (name, kind, created_at, updated_at)
			VALUES ('Ældre Sagen Ishøj', 'ASSOCIATION', ?, ?) RETURNING id`, now, now))
		must(t, store.Get(ctx, db, &act, `INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Kaffe i Kulturhuset', ?, ?, 'PUBLISHED', ?, ?) RETURNING id`, org, now.Add(-30*day), now.Add(-30*day+2*time.Hour), now, now))
		// A person made (or signed up again) at created; the sign-up ends at ended.
		withoutApp := func(name, phone string, created time.Time) int64 {
			var id int64
			must(t, db.Transact(ctx, func(tx *sqlx.Tx) error {
				var err error
				id, err = user.WithoutAppTx(ctx, tx, name, phone, created)
				return err
			}))
			return id
		}
		shift := func(userID int64, ended time.Time) {
			var slot int64
			must(t, store.Get(ctx, db, &slot, `INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, created_at)
				VALUES (?, 'Kaffebordet', ?, ?, 2, ?) RETURNING id`, act, ended.Add(-2*time.Hour), ended, now))
			_, err := store.Exec(ctx, db, `INSERT INTO slot_claims (slot_id, user_id, status, attendance, created_at, confirmed_at)
				VALUES (?, ?, 'CONFIRMED', 'ATTENDED', ?, ?)`, slot, userID, now.Add(-40*day), now.Add(-40*day))
			must(t, err)
		}
		seat := func(userID int64, ended time.Time) {
			start := ended.Add(-2 * time.Hour)
			_, err := store.Exec(ctx, db, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, act, start, ended)
			must(t, err)
			_, err = store.Exec(ctx, db, `INSERT INTO participations (activity_id, occurrence_starts_at, user_id, status, party_size, created_at, updated_at)
				VALUES (?, ?, ?, 'GOING', 2, ?, ?)`, act, start, userID, now.Add(-40*day), now.Add(-40*day))
			must(t, err)
		}
		madeLong := now.Add(-40 * day)
		oldShift := withoutApp("Grethe Hansen", "+4520123456", madeLong)
		shift(oldShift, now.Add(-15*day))
		oldSeat := withoutApp("Ole Jensen", "+4520123457", madeLong)
		seat(oldSeat, now.Add(-15*day))
		recentShift := withoutApp("Inge Larsen", "+4520123458", madeLong)
		shift(recentShift, now.Add(-15*day))
		shift(recentShift, now.Add(-13*day))
		upcomingSeat := withoutApp("Bent Madsen", "+4520123459", madeLong)
		seat(upcomingSeat, now.Add(-20*day))
		seat(upcomingSeat, now.Add(3*day))
		neverSignedUp := withoutApp("Karen Nielsen", "+4520123460", madeLong)
		justMade := withoutApp("Poul Olsen", "+4520123461", now.Add(-time.Hour))
		var withApp int64
		must(t, store.Get(ctx, db, &withApp, `INSERT INTO users (email, email_verified, phone, display_name, has_app, created_at, updated_at)
			VALUES ('fatma@ishoj.example', TRUE, '+4520123462', 'Fatma', TRUE, ?, ?) RETURNING id`, madeLong, madeLong))
		shift(withApp, now.Add(-100*day))
		var qualifications int
		_, err := store.Exec(ctx, db, `INSERT INTO user_qualifications (user_id, organisation_id, requirement, checked_at, expires_at, recorded_at)
			VALUES (?, ?, 'BOERNEATTEST', ?, ?, ?)`, oldShift, org, madeLong, now.Add(300*day), madeLong)
		must(t, err)

		s := privacy.NewService(db, event.NewBus(slog.Default()), nil, func() time.Time { return now })
		n, err := s.ForgetResidentsWithoutApp(ctx, now)
		must(t, err)
		if n != 3 {
			t.Errorf("forgot %d residents without the app, want 3", n)
		}
		for _, c := range []struct {
			what string
			id   int64
			gone bool
		}{
			{"last shift 15 days ago", oldShift, true},
			{"last occurrence 15 days ago", oldSeat, true},
			{"made 40 days ago, never signed up", neverSignedUp, true},
			{"a shift 13 days ago", recentShift, false},
			{"a seat in 3 days", upcomingSeat, false},
			{"made an hour ago", justMade, false},
			{"with the app", withApp, false},
		} {
			var u struct {
				Name    string     `db:"display_name"`
				Phone   *string    `db:"phone"`
				Deleted *time.Time `db:"deleted_at"`
			}
			must(t, store.Get(ctx, db, &u, `SELECT display_name, phone, deleted_at FROM users WHERE id = ?`, c.id))
			erased := u.Name == "" && u.Phone == nil && u.Deleted != nil
			if erased != c.gone {
				t.Errorf("%s: erased %v, want %v (%+v)", c.what, erased, c.gone, u)
			}
		}
		var claims, seats int
		must(t, store.Get(ctx, db, &claims, `SELECT COUNT(*) FROM slot_claims WHERE user_id = ? AND status = 'CONFIRMED' AND attendance = 'ATTENDED'`, oldShift))
		must(t, store.Get(ctx, db, &seats, `SELECT COALESCE(SUM(party_size), 0) FROM participations WHERE user_id = ?`, oldSeat))
		if claims != 1 || seats != 2 {
			t.Errorf("after forgetting: %d worked claims (want 1), %d seats (want 2): hours and headcounts must still count", claims, seats)
		}
		must(t, store.Get(ctx, db, &qualifications, `SELECT COUNT(*) FROM user_qualifications WHERE user_id = ?`, oldShift))
		if qualifications != 0 {
			t.Errorf("%d qualification records kept for a forgotten person", qualifications)
		}

		// Signed up again by phone, the forgotten person is someone new.
		again := withoutApp("Grethe Hansen", "+4520123456", now)
		if again == oldShift {
			t.Error("signing up a forgotten person's phone again found the tombstone")
		}
		// The second run finds nobody more.
		if n, err := s.ForgetResidentsWithoutApp(ctx, now); err != nil || n != 0 {
			t.Errorf("second run forgot %d (%v), want 0", n, err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
