package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Migration 00009 moves roles bound to unproven addresses into pending
// grants and turns "some organiser saw the børneattest" into records per
// organisation, as its comments say.
func TestRolesMigration(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.MigrateTo(ctx, 8); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		insert := func(q string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := store.Get(ctx, db, &id, q+" RETURNING id", args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return id
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := store.Exec(ctx, db, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		person := func(uid, email any, verified bool, role string) int64 {
			return insert(`INSERT INTO users (firebase_uid, email, email_verified, display_name, role, created_at, updated_at)
				VALUES (?, ?, ?, 'x', ?, ?, ?)`, uid, email, verified, role, now, now)
		}
		squatSec := person("uid-squat", "borgmester@ishoj.example", false, "SECRETARIAT")
		realSec := person("uid-sec", "sekretariat@ishoj.example", true, "SECRETARIAT")
		placeholderSec := person(nil, "ny-chef@ishoj.example", false, "SECRETARIAT")
		organiser := person("uid-org", "olga@ishoj.example", true, "RESIDENT")
		squatOrg := person("uid-squat-org", "kasserer@ishoj.example", false, "RESIDENT")
		placeholderOrg := person(nil, "senere@ishoj.example", false, "RESIDENT")
		vol1 := person("uid-v1", "v1@ishoj.example", true, "RESIDENT")
		vol2 := person("uid-v2", "v2@ishoj.example", true, "RESIDENT")
		orgA := insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('A', 'ASSOCIATION', ?, ?)`, now, now)
		orgB := insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('B', 'ASSOCIATION', ?, ?)`, now, now)
		orgC := insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('C', 'ASSOCIATION', ?, ?)`, now, now)
		for _, o := range [][2]int64{{orgA, organiser}, {orgB, organiser}, {orgA, squatOrg}, {orgC, placeholderOrg}} {
			exec(`INSERT INTO organisers (organisation_id, user_id, added_by, created_at) VALUES (?, ?, ?, ?)`, o[0], o[1], realSec, now)
		}
		// vol2 holds a place on C's slot that needs the certificate.
		act := insert(`INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Børnesøndag', ?, ?, 'PUBLISHED', ?, ?)`, orgC, now.Add(48*time.Hour), now.Add(52*time.Hour), now, now)
		slot := insert(`INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, taken, requirement, created_at)
			VALUES (?, 'Hjælper', ?, ?, 3, 1, 'CHILD_CERTIFICATE', ?)`, act, now.Add(48*time.Hour), now.Add(52*time.Hour), now)
		exec(`INSERT INTO slot_claims (slot_id, user_id, status, created_at, confirmed_at) VALUES (?, ?, 'CONFIRMED', ?, ?)`, slot, vol2, now, now)
		recorded := now.AddDate(0, -3, 0)
		expires := now.AddDate(1, 0, 0)
		for _, q := range []struct {
			user, by any
			exp      *time.Time
		}{
			{vol1, organiser, nil},      // for A and B, two years from when it was recorded
			{organiser, organiser, nil}, // self-certified: dropped
			{vol2, realSec, &expires},   // the secretariat's: for C, where vol2 has a place
			{squatSec, nil, &expires},   // nobody vouched: dropped
			{squatOrg, squatOrg, nil},   // self: dropped
		} {
			exec(`INSERT INTO user_qualifications (user_id, requirement, recorded_by, recorded_at, expires_at)
				VALUES (?, 'CHILD_CERTIFICATE', ?, ?, ?)`, q.user, q.by, recorded, q.exp)
		}
		// Someone the squatting organiser vouched for: dropped with them.
		exec(`INSERT INTO user_qualifications (user_id, requirement, recorded_by, recorded_at, expires_at)
			VALUES (?, 'FIRST_AID', ?, ?, NULL)`, vol2, squatOrg, recorded)

		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}

		var roles []struct {
			ID    int64   `db:"id"`
			Role  string  `db:"role"`
			Email *string `db:"email"`
		}
		if err := store.Select(ctx, db, &roles, `SELECT id, role, email FROM users ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		role := map[int64]string{}
		for _, r := range roles {
			role[r.ID] = r.Role
			if r.ID == placeholderSec || r.ID == placeholderOrg {
				if r.Email != nil {
					t.Errorf("placeholder %d still holds %s", r.ID, *r.Email)
				}
			}
		}
		if role[squatSec] != "RESIDENT" || role[realSec] != "SECRETARIAT" || role[placeholderSec] != "RESIDENT" {
			t.Errorf("roles after migrating: %v", role)
		}
		var grants []string
		if err := store.Select(ctx, db, &grants, `SELECT email FROM secretariat_grants ORDER BY email`); err != nil {
			t.Fatal(err)
		}
		if len(grants) != 2 || grants[0] != "borgmester@ishoj.example" || grants[1] != "ny-chef@ishoj.example" {
			t.Errorf("pending secretariat grants: %v", grants)
		}

		var organisers []struct {
			Org  int64 `db:"organisation_id"`
			User int64 `db:"user_id"`
		}
		if err := store.Select(ctx, db, &organisers, `SELECT organisation_id, user_id FROM organisers ORDER BY organisation_id, user_id`); err != nil {
			t.Fatal(err)
		}
		if len(organisers) != 2 || organisers[0].User != organiser || organisers[1].User != organiser {
			t.Errorf("organisers after migrating: %+v", organisers)
		}
		var invs []struct {
			Org     int64     `db:"organisation_id"`
			Email   string    `db:"email"`
			Direct  bool      `db:"direct"`
			Status  string    `db:"status"`
			Expires time.Time `db:"expires_at"`
		}
		if err := store.Select(ctx, db, &invs, `SELECT organisation_id, email, direct, status, expires_at
			FROM organiser_invitations ORDER BY organisation_id`); err != nil {
			t.Fatal(err)
		}
		if len(invs) != 2 || invs[0].Org != orgA || invs[0].Email != "kasserer@ishoj.example" || invs[1].Org != orgC ||
			invs[1].Email != "senere@ishoj.example" || !invs[0].Direct || invs[0].Status != "PENDING" ||
			invs[0].Expires.Before(time.Now().AddDate(0, 11, 0)) {
			t.Errorf("pending organiser grants: %+v", invs)
		}

		var quals []struct {
			User     int64     `db:"user_id"`
			Org      int64     `db:"organisation_id"`
			Req      string    `db:"requirement"`
			Checked  time.Time `db:"checked_at"`
			Expires  time.Time `db:"expires_at"`
			Recorded time.Time `db:"recorded_at"`
		}
		if err := store.Select(ctx, db, &quals, `SELECT user_id, organisation_id, requirement, checked_at, expires_at, recorded_at
			FROM user_qualifications ORDER BY user_id, organisation_id`); err != nil {
			t.Fatal(err)
		}
		type key struct{ user, org int64 }
		got := map[key]time.Time{}
		for _, q := range quals {
			got[key{q.User, q.Org}] = q.Expires
			if !q.Checked.Equal(recorded) || !q.Recorded.Equal(recorded) || q.Req != "CHILD_CERTIFICATE" {
				t.Errorf("migrated record %+v", q)
			}
		}
		twoYears := recorded.AddDate(2, 0, 0)
		if len(quals) != 3 || !got[key{vol1, orgA}].Equal(twoYears) || !got[key{vol1, orgB}].Equal(twoYears) || !got[key{vol2, orgC}].Equal(expires) {
			t.Errorf("migrated qualifications: %+v", quals)
		}
	})
}
