package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

func TestLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		empty, err := demo.Empty(ctx, db)
		if err != nil || !empty {
			t.Fatalf("Empty before Load = %v, %v; want true", empty, err)
		}
		now := clocktest.Now(t)
		clock := func() time.Time { return now }
		if err := demo.Load(ctx, db, now); err != nil {
			t.Fatalf("Load: %v", err)
		}
		empty, err = demo.Empty(ctx, db)
		if err != nil || empty {
			t.Fatalf("Empty after Load = %v, %v; want false", empty, err)
		}

		counts := map[string]struct {
			query string
			min   int
		}{
			"organisations":        {`SELECT COUNT(*) FROM organisations`, 15},
			"places":               {`SELECT COUNT(*) FROM places WHERE latitude IS NOT NULL AND address <> ''`, 9},
			"volunteers with app":  {`SELECT COUNT(*) FROM users WHERE has_app AND email_verified AND firebase_uid = 'local:' || email`, 20},
			"without app":          {`SELECT COUNT(*) FROM users WHERE NOT has_app AND firebase_uid IS NULL AND email IS NULL AND phone IS NOT NULL`, 1},
			"child certificates":   {`SELECT COUNT(*) FROM user_qualifications WHERE requirement = 'CHILD_CERTIFICATE'`, 3},
			"activities":           {`SELECT COUNT(*) FROM activities`, 25},
			"upcoming published":   {`SELECT COUNT(*) FROM activities WHERE status = 'PUBLISHED' AND ends_at > ?`, 20},
			"recurring":            {`SELECT COUNT(*) FROM activities WHERE recurrence IS NOT NULL`, 3},
			"drafts":               {`SELECT COUNT(*) FROM activities WHERE status = 'DRAFT' AND published_at IS NULL`, 1},
			"cancelled":            {`SELECT COUNT(*) FROM activities WHERE status = 'CANCELLED' AND cancelled_at IS NOT NULL`, 1},
			"untagged activities":  {`SELECT COUNT(*) FROM activities a WHERE NOT EXISTS (SELECT 1 FROM activity_themes t WHERE t.activity_id = a.id)`, 0},
			"slots":                {`SELECT COUNT(*) FROM volunteer_slots`, 8},
			"slots with waitlist":  {`SELECT COUNT(*) FROM volunteer_slots WHERE waitlisted > 0`, 1},
			"empty slots":          {`SELECT COUNT(*) FROM volunteer_slots WHERE taken = 0 AND starts_at > ?`, 1},
			"attended":             {`SELECT COUNT(*) FROM slot_claims WHERE attendance = 'ATTENDED'`, 5},
			"published stories":    {`SELECT COUNT(*) FROM stories WHERE status = 'PUBLISHED' AND published_at < ? AND author_name <> ''`, 6},
			"featured stories":     {`SELECT COUNT(*) FROM stories WHERE featured AND status = 'PUBLISHED'`, 2},
			"stories for review":   {`SELECT COUNT(*) FROM stories WHERE status = 'PENDING_REVIEW' AND published_at IS NULL`, 1},
			"story links":          {`SELECT COUNT(*) FROM channel_links WHERE story_id IS NOT NULL AND kind = 'YOUTUBE'`, 1},
			"vores ishøj facebook": {`SELECT COUNT(*) FROM channel_links l JOIN organisations o ON o.id = l.organisation_id WHERE o.kind = 'MUNICIPALITY' AND l.url = 'https://www.facebook.com/groups/voresishoj'`, 1},
		}
		for name, c := range counts {
			var n int
			var args []any
			if strings.Contains(c.query, "?") {
				args = append(args, now)
			}
			if err := store.Get(ctx, db, &n, c.query, args...); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if name == "untagged activities" {
				if n != 0 {
					t.Errorf("%s = %d, want 0", name, n)
				}
				continue
			}
			if n < c.min {
				t.Errorf("%s = %d, want at least %d", name, n, c.min)
			}
		}

		// The walk-through accounts resolve through local sign-in with the
		// roles the README promises.
		users := user.NewService(db, clock)
		sec, err := users.Resolve(ctx, user.Identity{UID: "local:" + demo.SecretariatEmail, Email: demo.SecretariatEmail, EmailVerified: true})
		if err != nil || !sec.Secretariat {
			t.Errorf("secretariat caller = %+v, %v", sec, err)
		}
		org, err := users.Resolve(ctx, user.Identity{UID: "local:" + demo.OrganiserEmail, Email: demo.OrganiserEmail, EmailVerified: true})
		if err != nil || len(org.Organises) != 2 || org.Secretariat {
			t.Errorf("organiser caller = %+v, %v", org, err)
		}
		vol, err := users.Resolve(ctx, user.Identity{UID: "local:" + demo.VolunteerEmail, Email: demo.VolunteerEmail, EmailVerified: true})
		if err != nil || len(vol.Organises) != 0 || vol.Secretariat || vol.UserID == 0 {
			t.Errorf("volunteer caller = %+v, %v", vol, err)
		}
		var hasConfirmed int
		if err := store.Get(ctx, db, &hasConfirmed, `SELECT COUNT(*) FROM slot_claims WHERE user_id = ? AND status = 'CONFIRMED'`, vol.UserID); err != nil || hasConfirmed == 0 {
			t.Errorf("volunteer has %d confirmed shifts (%v); the walk-through needs some", hasConfirmed, err)
		}

		checkInvariants(t, db, now)

		// The server expands occurrences right after loading; every slot on
		// a recurring activity must land on one of them.
		acts := activity.NewService(db, theme.NewService(db), &event.Recorder{}, clock)
		if _, err := acts.RefreshOccurrences(ctx); err != nil {
			t.Fatalf("RefreshOccurrences: %v", err)
		}
		var orphans int
		err = store.Get(ctx, db, &orphans, `SELECT COUNT(*) FROM volunteer_slots s
			WHERE s.occurrence_starts_at IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM occurrences o WHERE o.activity_id = s.activity_id AND o.starts_at = s.occurrence_starts_at)`)
		if err != nil || orphans != 0 {
			t.Errorf("%d slots point at no occurrence (%v)", orphans, err)
		}
	})
}

// TestLoadAnyDay loads the demo on dates around the year, across daylight
// saving changes and new year, since the server loads it on whatever day
// it first starts.
func TestLoadAnyDay(t *testing.T) {
	cph := tz.Copenhagen
	days := []time.Time{
		time.Date(2026, 3, 28, 23, 30, 0, 0, cph), // the night clocks go forward
		time.Date(2026, 7, 5, 10, 0, 0, 0, cph),   // the day before the swap market's date
		time.Date(2026, 7, 6, 12, 0, 0, 0, cph),   // during it
		time.Date(2026, 10, 24, 9, 0, 0, 0, cph),  // the weekend clocks go back
		time.Date(2026, 10, 25, 2, 30, 0, 0, cph), // in the hour that happens twice
		time.Date(2026, 12, 30, 18, 0, 0, 0, cph),
		time.Date(2026, 12, 31, 23, 30, 0, 0, cph), // half an hour before new year, still the old year in UTC
		time.Date(2027, 2, 7, 10, 30, 0, 0, cph),   // first Sunday, mid-morning
		time.Date(2027, 3, 28, 1, 59, 0, 0, cph),   // a minute before clocks go forward
		time.Date(2027, 6, 12, 0, 30, 0, 0, cph),   // Saturday just after midnight, Friday in UTC
		time.Date(2028, 2, 29, 12, 0, 0, 0, cph),   // leap day
	}
	for _, day := range days {
		t.Run(day.Format("2006-01-02T15:04"), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.SQLite(t)
			now := day.UTC()
			if err := demo.Load(ctx, db, now); err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkInvariants(t, db, now)

			// One-offs keep clear of Christmas Eve to New Year's Day.
			var starts []time.Time
			if err := store.Select(ctx, db, &starts, `SELECT starts_at FROM activities WHERE recurrence IS NULL AND starts_at > ?`, now); err != nil {
				t.Fatal(err)
			}
			for _, s := range starts {
				if l := s.In(cph); (l.Month() == time.December && l.Day() >= 24) || (l.Month() == time.January && l.Day() == 1) {
					t.Errorf("one-off activity on %s", l.Format(time.DateOnly))
				}
			}

			// Every recurring activity starts on its own rule, in the future,
			// at the local time the organisers meant.
			acts := activity.NewService(db, theme.NewService(db), &event.Recorder{}, func() time.Time { return now })
			var ids []int64
			if err := store.Select(ctx, db, &ids, `SELECT id FROM activities WHERE recurrence IS NOT NULL`); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				a, err := acts.Activity(ctx, user.Caller{Secretariat: true}, id)
				if err != nil {
					t.Fatal(err)
				}
				if !a.StartsAt.After(now) {
					t.Errorf("%s starts %s, not after now %s", a.Title, a.StartsAt, now)
				}
				occ, err := activity.Expand(a, now.AddDate(0, 3, 0))
				if err != nil {
					t.Fatalf("%s: %v", a.Title, err)
				}
				if len(occ) < 2 {
					t.Errorf("%s has %d occurrences in three months", a.Title, len(occ))
				}
				want := a.StartsAt.In(cph).Format("15:04")
				for _, o := range occ {
					if got := o.StartsAt.In(cph).Format("15:04"); got != want {
						t.Errorf("%s occurrence at %s local, want %s", a.Title, got, want)
					}
				}
				var slotStarts []time.Time
				if err := store.Select(ctx, db, &slotStarts, `SELECT occurrence_starts_at FROM volunteer_slots
					WHERE activity_id = ? AND occurrence_starts_at IS NOT NULL`, id); err != nil {
					t.Fatal(err)
				}
			slot:
				for _, s := range slotStarts {
					for _, o := range occ {
						if o.StartsAt.Equal(s) {
							continue slot
						}
					}
					t.Errorf("%s: slot on %s matches no occurrence", a.Title, s)
				}
			}
		})
	}
}

// checkInvariants asserts what the volunteer service guarantees of every
// slot: counters equal to the claims, never overbooked, a waitlist only on
// a full slot, and no person in two places at once.
func checkInvariants(t *testing.T, db *store.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	var slots []struct {
		ID         int64     `db:"id"`
		Title      string    `db:"title"`
		Capacity   int       `db:"capacity"`
		Taken      int       `db:"taken"`
		Waitlisted int       `db:"waitlisted"`
		Confirmed  int       `db:"confirmed"`
		Queued     int       `db:"queued"`
		StartsAt   time.Time `db:"starts_at"`
	}
	err := store.Select(ctx, db, &slots, `SELECT s.id, s.title, s.capacity, s.taken, s.waitlisted, s.starts_at,
			(SELECT COUNT(*) FROM slot_claims c WHERE c.slot_id = s.id AND c.status = 'CONFIRMED') AS confirmed,
			(SELECT COUNT(*) FROM slot_claims c WHERE c.slot_id = s.id AND c.status = 'WAITLISTED') AS queued
		FROM volunteer_slots s ORDER BY s.id`)
	if err != nil {
		t.Fatalf("slots: %v", err)
	}
	if len(slots) < 8 {
		t.Errorf("%d slots, want at least 8", len(slots))
	}
	for _, s := range slots {
		if s.Taken != s.Confirmed || s.Waitlisted != s.Queued {
			t.Errorf("slot %d %q: taken %d/waitlisted %d, claims %d/%d", s.ID, s.Title, s.Taken, s.Waitlisted, s.Confirmed, s.Queued)
		}
		if s.Taken > s.Capacity || s.Capacity < 1 || s.Capacity > 15 {
			t.Errorf("slot %d %q: %d taken of %d", s.ID, s.Title, s.Taken, s.Capacity)
		}
		if s.Waitlisted > 0 && s.Taken < s.Capacity {
			t.Errorf("slot %d %q: waitlist of %d with %d of %d places taken", s.ID, s.Title, s.Waitlisted, s.Taken, s.Capacity)
		}
	}

	var confirmed []struct {
		UserID      int64      `db:"user_id"`
		SlotID      int64      `db:"slot_id"`
		StartsAt    time.Time  `db:"starts_at"`
		EndsAt      time.Time  `db:"ends_at"`
		ConfirmedAt *time.Time `db:"confirmed_at"`
		Requirement *string    `db:"requirement"`
		Qualified   int        `db:"qualified"`
	}
	err = store.Select(ctx, db, &confirmed, `SELECT c.user_id, c.slot_id, s.starts_at, s.ends_at, c.confirmed_at, s.requirement,
			(SELECT COUNT(*) FROM user_qualifications q WHERE q.user_id = c.user_id AND q.requirement = s.requirement
				AND q.organisation_id = a.organisation_id AND q.recorded_by <> q.user_id) AS qualified
		FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id JOIN activities a ON a.id = s.activity_id
		WHERE c.status = 'CONFIRMED' ORDER BY c.user_id, s.starts_at`)
	if err != nil {
		t.Fatalf("confirmed claims: %v", err)
	}
	for i, c := range confirmed {
		if c.ConfirmedAt == nil {
			t.Errorf("claim of user %d on slot %d is confirmed without confirmed_at", c.UserID, c.SlotID)
		}
		if c.Requirement != nil && c.Qualified == 0 {
			t.Errorf("user %d confirmed on slot %d without %s", c.UserID, c.SlotID, *c.Requirement)
		}
		if i > 0 && confirmed[i-1].UserID == c.UserID && confirmed[i-1].EndsAt.After(c.StartsAt) {
			t.Errorf("user %d has overlapping shifts %d and %d", c.UserID, confirmed[i-1].SlotID, c.SlotID)
		}
	}

	// Claims were made one after another, and attendance is only known
	// for shifts that have happened.
	var bad int
	err = store.Get(ctx, db, &bad, `SELECT COUNT(*) FROM slot_claims a JOIN slot_claims b
		ON a.slot_id = b.slot_id AND a.id < b.id AND a.created_at >= b.created_at`)
	if err != nil || bad != 0 {
		t.Errorf("%d claim pairs out of order (%v)", bad, err)
	}
	err = store.Get(ctx, db, &bad, `SELECT COUNT(*) FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.attendance IS NOT NULL AND (s.ends_at > ? OR c.status <> 'CONFIRMED')`, now)
	if err != nil || bad != 0 {
		t.Errorf("%d claims with attendance before their shift ended (%v)", bad, err)
	}

	// Links are stored the way the app would store them.
	var links []struct {
		Kind  string `db:"kind"`
		URL   string `db:"url"`
		Label string `db:"label"`
	}
	if err := store.Select(ctx, db, &links, `SELECT kind, url, label FROM channel_links`); err != nil {
		t.Fatalf("links: %v", err)
	}
	for _, l := range links {
		n, err := link.Normalise(link.Kind(l.Kind), l.URL, l.Label)
		if err != nil || n.URL != l.URL {
			t.Errorf("link %s %s does not survive Normalise: %v %q", l.Kind, l.URL, err, n.URL)
		}
	}

	// Guests: no occurrence has more people GOING than seats, a party
	// waits only when it does not fit the seats left, nobody waits for an
	// occurrence that has begun, and there are waitlists to show.
	var occs []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"occurrence_starts_at"`
		Seats      *int       `db:"seats"`
		Going      int        `db:"going"`
		Smallest   *int       `db:"smallest_waiting"`
	}
	err = store.Select(ctx, db, &occs, `SELECT p.activity_id, p.occurrence_starts_at, s.seats,
			COALESCE(SUM(CASE WHEN p.status = 'GOING' THEN p.party_size END), 0) AS going,
			MIN(CASE WHEN p.status = 'WAITLISTED' THEN p.party_size END) AS smallest_waiting
		FROM participations p JOIN participation_settings s ON s.activity_id = p.activity_id
		GROUP BY p.activity_id, p.occurrence_starts_at, s.seats`)
	if err != nil {
		t.Fatalf("participations: %v", err)
	}
	waiting := 0
	for _, o := range occs {
		if o.Seats != nil && o.Going > *o.Seats {
			t.Errorf("activity %d at %s: %d going on %d seats", o.ActivityID, o.StartsAt.Time, o.Going, *o.Seats)
		}
		if o.Smallest != nil {
			waiting++
			if o.Seats == nil || *o.Smallest <= *o.Seats-o.Going {
				t.Errorf("activity %d at %s: a party of %d waits with %d going", o.ActivityID, o.StartsAt.Time, *o.Smallest, o.Going)
			}
			if !o.StartsAt.After(now) {
				t.Errorf("activity %d at %s: a waitlist for what has begun", o.ActivityID, o.StartsAt.Time)
			}
		}
	}
	if len(occs) < 3 || waiting < 2 {
		t.Errorf("%d occurrences with guests, %d with a waitlist; want at least 3 and 2", len(occs), waiting)
	}

	// Search finds what the text says.
	var n int
	if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM activities WHERE search_text LIKE ? ESCAPE '\'`, store.LikePattern("byttemarked")); err != nil || n < 2 {
		t.Errorf("search for byttemarked finds %d activities (%v)", n, err)
	}
}
