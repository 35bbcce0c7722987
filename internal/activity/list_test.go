package activity_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// TestListFindsRunningOccurrences covers both arms of List: occurrences
// that started shortly before the window, long ones that started days
// before it, and the upcoming ones, each activity once at its first
// occurrence in the window, in order, across pages.
func TestListFindsRunningOccurrences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO organisations (id, name, kind, description, search_text, created_at, updated_at)
			VALUES (1, 'Forening', 'ASSOCIATION', '', 'forening', ?, ?)`), now, now); err != nil {
			t.Fatal(err)
		}
		h := time.Hour
		type occ struct{ start, end time.Duration }
		acts := []struct {
			id     int64
			status string
			occs   []occ
		}{
			{1, "PUBLISHED", []occ{{-2 * h, 1 * h}}},                             // short, running
			{2, "PUBLISHED", []occ{{-5 * 24 * h, 2 * 24 * h}}},                   // long, started days ago, running
			{3, "PUBLISHED", []occ{{-20 * 24 * h, -19 * 24 * h}}},                // long, over
			{4, "PUBLISHED", []occ{{-3 * h, -1 * h}}},                            // short, over
			{5, "PUBLISHED", []occ{{-14 * h, -13 * h}, {3 * h, 4 * h}}},          // earlier one over, next upcoming
			{6, "PUBLISHED", []occ{{-13 * h, 30 * h}, {7 * 24 * h, 8 * 24 * h}}}, // 43 h, started just past the short walk
			{7, "DRAFT", []occ{{1 * h, 2 * h}}},                                  // not listed
			{8, "PUBLISHED", []occ{{2 * h, 3 * h}, {26 * h, 27 * h}}},            // recurring, listed once
			{9, "PUBLISHED", []occ{{10 * 24 * h, 12 * 24 * h}}},                  // long, upcoming
		}
		for _, a := range acts {
			first := now.Add(a.occs[0].start)
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO activities (id, organisation_id, title, description, search_text,
				starts_at, ends_at, status, created_at, updated_at) VALUES (?, 1, 'A', '', 'a', ?, ?, ?, ?, ?)`),
				a.id, first, now.Add(a.occs[0].end), a.status, now, now); err != nil {
				t.Fatal(err)
			}
			for _, o := range a.occs {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`),
					a.id, now.Add(o.start), now.Add(o.end)); err != nil {
					t.Fatal(err)
				}
			}
		}
		svc := activity.NewService(db, theme.NewService(db), &event.Recorder{}, func() time.Time { return now })
		// Order by first occurrence in the window: 2 (-5d), 6 (-13h),
		// 1 (-2h), 8 (+2h), 5 (+3h), 9 (+10d).
		want := []struct {
			id    int64
			start time.Duration
		}{{2, -5 * 24 * h}, {6, -13 * h}, {1, -2 * h}, {8, 2 * h}, {5, 3 * h}, {9, 10 * 24 * h}}
		var got []activity.Listed
		var after *activity.Key
		for page := 0; page < 10; page++ {
			rows, err := svc.List(ctx, user.Caller{}, activity.Filter{From: now}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rows...)
			if len(rows) < 2 {
				break
			}
			last := rows[len(rows)-1]
			after = &activity.Key{StartsAt: last.Occurrence.StartsAt, ID: last.ID}
		}
		if len(got) != len(want) {
			t.Fatalf("listed %d activities, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			if got[i].ID != w.id || !got[i].Occurrence.StartsAt.Equal(now.Add(w.start)) {
				t.Errorf("row %d: activity %d at %s, want %d at %s", i, got[i].ID, got[i].Occurrence.StartsAt, w.id, now.Add(w.start))
			}
		}
		// A window closing before the long exhibition's next occurrence
		// still lists the running one.
		to := now.Add(time.Hour)
		rows, err := svc.List(ctx, user.Caller{}, activity.Filter{From: now, To: &to}, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		if len(ids) != 3 || ids[0] != 2 || ids[1] != 6 || ids[2] != 1 {
			t.Errorf("window to +1h lists %v, want [2 6 1]", ids)
		}
	})
}
