package story

import (
	"errors"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

func TestStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cph := tz.Copenhagen
		at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, cph).UTC() }
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := store.Exec(ctx, db, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// f.now is 2026-06-15; the window is July 2025 to June 2026.
		sec := f.person(t, "Sekretariat", user.RoleSecretariat) // joined June 2026
		u1 := f.person(t, "Frivillig1", user.RoleResident)      // June 2026
		u2 := f.person(t, "Frivillig2", user.RoleResident)      // June 2026
		addUser := func(uid string, created time.Time, anonymous bool, deleted *time.Time) int64 {
			var id int64
			if err := store.Get(ctx, db, &id, `INSERT INTO users (firebase_uid, display_name, anonymous, created_at, updated_at, deleted_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, uid, uid, anonymous, created, created, deleted); err != nil {
				t.Fatal(err)
			}
			return id
		}
		addUser("july-first", at(2025, 7, 1, 0, 30), false, nil) // 30 June 22:30 UTC, but July in Copenhagen
		addUser("before-window", at(2025, 6, 30, 12, 0), false, nil)
		addUser("march", at(2026, 3, 10, 9, 0), false, nil)
		addUser("anonymous", at(2026, 3, 10, 9, 0), true, nil)
		addUser("deleted", at(2026, 3, 10, 9, 0), false, ptr(at(2026, 4, 1, 0, 0)))
		u3 := addUser("canceller", at(2026, 3, 11, 9, 0), false, nil)

		org := f.organisation(t, "Ældresagen")
		var act int64
		if err := store.Get(ctx, db, &act, `INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Havhytten', ?, ?, 'PUBLISHED', ?, ?) RETURNING id`, org, at(2024, 1, 1, 10, 0), at(2024, 1, 1, 12, 0), f.now, f.now); err != nil {
			t.Fatal(err)
		}
		slot := func(start time.Time, hours int) int64 {
			var id int64
			if err := store.Get(ctx, db, &id, `INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, created_at)
				VALUES (?, 'Åbne Havhytten', ?, ?, 5, ?) RETURNING id`, act, start, start.Add(time.Duration(hours)*time.Hour), f.now); err != nil {
				t.Fatal(err)
			}
			return id
		}
		claim := func(slotID, userID int64, status string, attendance *string) {
			exec(`INSERT INTO slot_claims (slot_id, user_id, status, attendance, created_at) VALUES (?, ?, ?, ?, ?)`,
				slotID, userID, status, attendance, f.now)
		}
		may := slot(at(2026, 5, 10, 10, 0), 3)
		claim(may, u1.UserID, "CONFIRMED", nil)
		claim(may, u2.UserID, "CONFIRMED", ptr("NO_SHOW"))
		claim(may, u3, "CANCELLED", nil)
		june := slot(at(2026, 6, 1, 10, 0), 2)
		claim(june, u1.UserID, "CONFIRMED", ptr("ATTENDED"))
		future := slot(at(2026, 6, 20, 10, 0), 4)
		claim(future, u2.UserID, "CONFIRMED", nil)
		old := slot(at(2024, 5, 1, 10, 0), 4)
		claim(old, u2.UserID, "CONFIRMED", nil)

		story := func(status Status, published *time.Time, featured bool) int64 {
			var id int64
			if err := store.Get(ctx, db, &id, `INSERT INTO stories (title, body, status, featured, created_at, updated_at, published_at)
				VALUES ('t', 'b', ?, ?, ?, ?, ?) RETURNING id`, status, featured, f.now, f.now, published); err != nil {
				t.Fatal(err)
			}
			return id
		}
		newYear := story(Published, ptr(at(2026, 1, 1, 0, 30)), true) // 31 Dec 23:30 UTC
		story(Published, ptr(at(2026, 3, 3, 12, 0)), true)
		story(Published, ptr(at(2026, 6, 1, 12, 0)), false)
		story(Published, ptr(at(2025, 12, 20, 12, 0)), true) // campaign story of last year
		story(PendingReview, nil, false)
		exec(`INSERT INTO media_pickups (story_id, outlet, picked_up_at, created_at) VALUES (?, 'TV 2 Lorry', ?, ?)`, newYear, at(2026, 2, 1, 0, 0), f.now)
		exec(`INSERT INTO media_pickups (story_id, outlet, picked_up_at, created_at) VALUES (?, 'Politiken', ?, ?)`, newYear, at(2025, 11, 1, 0, 0), f.now)

		if _, err := f.svc.Stats(ctx, u1, f.now); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident stats: %v", err)
		}
		st, err := f.svc.Stats(ctx, sec, f.now)
		if err != nil {
			t.Fatal(err)
		}
		// sec, u1, u2, july-first, before-window, march, canceller.
		if st.UsersTotal != 7 || st.UsersTarget != 500 {
			t.Errorf("users = %d (target %d), want 7", st.UsersTotal, st.UsersTarget)
		}
		series := func(ms []Month, hours bool) map[string]float64 {
			m := map[string]float64{}
			for _, x := range ms {
				v := float64(x.Count)
				if hours {
					v = x.Hours
				}
				if v != 0 {
					m[time.Date(x.Year, x.Month, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")] = v
				}
			}
			return m
		}
		check := func(name string, ms []Month, hours bool, want map[string]float64) {
			t.Helper()
			if len(ms) != 12 || ms[0].Year != 2025 || ms[0].Month != time.July || ms[11].Month != time.June {
				t.Errorf("%s: months %v", name, ms)
			}
			got := series(ms, hours)
			if len(got) != len(want) {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", name, got, want)
					return
				}
			}
		}
		check("new users", st.NewUsers, false, map[string]float64{"2025-07": 1, "2026-03": 2, "2026-06": 3})
		check("hours", st.HoursPerMonth, true, map[string]float64{"2026-05": 3, "2026-06": 2})
		check("volunteers", st.VolunteersPerMonth, false, map[string]float64{"2026-05": 1, "2026-06": 1})
		check("stories", st.StoriesPublished, false, map[string]float64{"2025-12": 1, "2026-01": 1, "2026-03": 1, "2026-06": 1})
		if st.ActiveVolunteers != 1 || st.HoursTotal != 5 {
			t.Errorf("active volunteers = %d, hours = %v; want 1, 5", st.ActiveVolunteers, st.HoursTotal)
		}
		if st.CampaignStoriesThisYear != 2 || st.CampaignTargetMin != 20 || st.CampaignTargetMax != 25 {
			t.Errorf("campaign = %d (%d–%d), want 2", st.CampaignStoriesThisYear, st.CampaignTargetMin, st.CampaignTargetMax)
		}
		if st.MediaPickupsThisYear != 1 || st.MediaPickupsTargetMin != 3 || st.MediaPickupsTargetMax != 5 {
			t.Errorf("media pickups = %d, want 1", st.MediaPickupsThisYear)
		}
	})
}
