package activity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/geo"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// TestListNearAndOnTheMap lists activities by the position of their
// places (the demo data's), in both arms of List, by time and by
// distance, across pages.
func TestListNearAndOnTheMap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO organisations (id, name, kind, description, search_text, created_at, updated_at)
			VALUES (1, 'Forening', 'ASSOCIATION', '', 'forening', ?, ?)`, now, now)
		vejleaa := geo.Point{Lat: 55.6172, Lng: 12.3531}
		places := []struct {
			id   int64
			name string
			at   *geo.Point
		}{
			{1, "Kulturhuset AAB", &geo.Point{Lat: 55.6166, Lng: 12.3522}}, // 87 m from Vejleåparken
			{2, "Bredekærgård", &geo.Point{Lat: 55.6207, Lng: 12.3398}},    // 921 m
			{3, "Ishøj Havn", &geo.Point{Lat: 55.6062, Lng: 12.3711}},      // 1,666 m
			{4, "Et sted", nil},
		}
		for _, p := range places {
			var lat, lng *float64
			if p.at != nil {
				lat, lng = &p.at.Lat, &p.at.Lng
			}
			exec(`INSERT INTO places (id, name, latitude, longitude, created_at) VALUES (?, ?, ?, ?, ?)`, p.id, p.name, lat, lng, now)
		}
		h := time.Hour
		acts := []struct {
			id     int64
			place  *int64
			status string
			start  time.Duration
			length time.Duration
		}{
			{1, ptr[int64](1), "PUBLISHED", 1 * h, h},
			{2, ptr[int64](3), "PUBLISHED", -5 * 24 * h, 7 * 24 * h}, // long, running: the second arm
			{3, ptr[int64](2), "PUBLISHED", 2 * h, h},
			{4, ptr[int64](1), "PUBLISHED", 3 * h, h},
			{5, nil, "PUBLISHED", 4 * h, h},
			{6, ptr[int64](4), "PUBLISHED", 5 * h, h},
			{7, ptr[int64](1), "DRAFT", 6 * h, h},
			{8, ptr[int64](3), "PUBLISHED", 7 * h, h},
		}
		for _, a := range acts {
			exec(`INSERT INTO activities (id, organisation_id, place_id, title, description, search_text,
				starts_at, ends_at, status, created_at, updated_at) VALUES (?, 1, ?, 'A', '', 'a', ?, ?, ?, ?, ?)`,
				a.id, a.place, now.Add(a.start), now.Add(a.start+a.length), a.status, now, now)
			exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, a.id, now.Add(a.start), now.Add(a.start+a.length))
		}
		svc := activity.NewService(db, theme.NewService(db), &event.Recorder{}, func() time.Time { return now })
		list := func(f activity.Filter, pageSize int) ([]int64, []*int) {
			t.Helper()
			f.From = now
			var ids []int64
			var dists []*int
			var after *activity.Key
			for range 20 {
				rows, err := svc.List(ctx, user.Caller{}, f, after, pageSize)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					ids = append(ids, r.ID)
					dists = append(dists, r.Distance)
				}
				if len(rows) < pageSize {
					break
				}
				last := rows[len(rows)-1]
				after = &activity.Key{StartsAt: last.Occurrence.StartsAt, ID: last.ID}
				if last.Distance != nil {
					after.Distance = *last.Distance
				}
			}
			return ids, dists
		}
		area := func(near *geo.Point, within int, box *geo.Box) geo.Area {
			t.Helper()
			var w *int
			if within > 0 {
				w = &within
			}
			a, err := geo.NewArea(near, w, box)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		// Within 1 km of Vejleåparken, by time: Kulturhuset's and
		// Bredekærgård's, not the harbour's, not those without a position.
		for _, size := range []int{1, 2, 10} {
			ids, dists := list(activity.Filter{Area: area(&vejleaa, 1000, nil)}, size)
			if !slices.Equal(ids, []int64{1, 3, 4}) {
				t.Errorf("page size %d: within 1 km by time = %v, want [1 3 4]", size, ids)
			}
			for i, d := range dists {
				if d == nil {
					t.Errorf("activity %d has no distance", ids[i])
				}
			}
		}
		// Within 2 km by distance: Kulturhuset's two (by time), then
		// Bredekærgård's, then the harbour's running one and its later one.
		for _, size := range []int{1, 2, 3, 10} {
			ids, dists := list(activity.Filter{Area: area(&vejleaa, 2000, nil), ByDistance: true}, size)
			if !slices.Equal(ids, []int64{1, 4, 3, 2, 8}) {
				t.Errorf("page size %d: within 2 km by distance = %v, want [1 4 3 2 8]", size, ids)
				continue
			}
			for i, want := range []int{87, 87, 921, 1666, 1666} {
				if dists[i] == nil || *dists[i] < want-1 || *dists[i] > want+1 {
					t.Errorf("activity %d: distance %v, want %d", ids[i], dists[i], want)
				}
			}
		}
		// A map over the harbour: its two activities, without distances.
		ids, dists := list(activity.Filter{Area: area(nil, 0, &geo.Box{South: 55.60, West: 12.36, North: 55.61, East: 12.38})}, 10)
		if !slices.Equal(ids, []int64{2, 8}) || dists[0] != nil {
			t.Errorf("map over the harbour = %v", ids)
		}
		// Both: near Vejleåparken on a map that leaves out Bredekærgård.
		ids, _ = list(activity.Filter{Area: area(&vejleaa, 5000, &geo.Box{South: 55.60, West: 12.345, North: 55.62, East: 12.38}), ByDistance: true}, 10)
		if !slices.Equal(ids, []int64{1, 4, 2, 8}) {
			t.Errorf("near and on the map = %v, want [1 4 2 8]", ids)
		}
		// With the other filters and a time window: Kulturhuset's within
		// the next 2.5 hours.
		to := now.Add(150 * time.Minute)
		place := int64(1)
		ids, _ = list(activity.Filter{To: &to, PlaceID: &place, Area: area(&vejleaa, 1000, nil)}, 10)
		if !slices.Equal(ids, []int64{1}) {
			t.Errorf("near, at Kulturhuset, before +2.5h = %v", ids)
		}
		// Without an area nothing changes: every published one.
		if ids, _ := list(activity.Filter{}, 10); !slices.Equal(ids, []int64{2, 1, 3, 4, 5, 6, 8}) {
			t.Errorf("no area = %v", ids)
		}
	})
}

func ptr[T any](v T) *T { return &v }
