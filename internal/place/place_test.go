package place_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/geo"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func TestUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := place.NewService(db, clock.Real)
		boss := user.Caller{UserID: 1, Verified: true, Secretariat: true}
		farm, err := svc.Create(ctx, boss, place.Input{Name: "Bredekærgård"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, boss, place.Input{Name: "Havhytten"}); err != nil {
			t.Fatal(err)
		}
		lat, lon := 55.6152, 12.3548
		got, err := svc.Update(ctx, boss, farm.ID, place.Input{Name: " Bredekærgård ", Address: "Bredekærs Vænge 1, 2635 Ishøj",
			Description: "Gården ved Store Vejleå.", Latitude: &lat, Longitude: &lon})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != farm.ID || got.Name != "Bredekærgård" || got.Address != "Bredekærs Vænge 1, 2635 Ishøj" ||
			got.Latitude == nil || *got.Latitude != lat || !got.CreatedAt.Equal(farm.CreatedAt) {
			t.Errorf("updated place = %+v", got)
		}
		// Every field is set: an omitted position is removed.
		if got, err = svc.Update(ctx, boss, farm.ID, place.Input{Name: "Bredekærgård"}); err != nil || got.Latitude != nil || got.Address != "" {
			t.Errorf("update without position: %+v %v", got, err)
		}

		code := func(err error) string {
			if ues := apperr.UserErrors(err); len(ues) > 0 {
				return ues[0].Code
			}
			return ""
		}
		if _, err := svc.Update(ctx, boss, farm.ID, place.Input{Name: "Havhytten"}); code(err) != "NAME_TAKEN" {
			t.Errorf("another place's name: %v", err)
		}
		if _, err := svc.Update(ctx, boss, farm.ID, place.Input{Name: "  "}); code(err) != apperr.CodeRequired {
			t.Errorf("empty name: %v", err)
		}
		if _, err := svc.Update(ctx, boss, farm.ID, place.Input{Name: "X", Latitude: &lat}); code(err) != apperr.CodeInvalid {
			t.Errorf("latitude without longitude: %v", err)
		}
		if _, err := svc.Update(ctx, boss, farm.ID+1000, place.Input{Name: "Ingen steder"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown place: %v", err)
		}
		organiser := user.Caller{UserID: 2, Verified: true, Organises: map[int64]bool{1: true}}
		if _, err := svc.Update(ctx, organiser, farm.ID, place.Input{Name: "Min gård"}); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("an organiser's update: %v", err)
		}
		if p, _ := svc.Place(ctx, user.Caller{}, farm.ID); p.Name != "Bredekærgård" {
			t.Errorf("refused updates changed the place: %+v", p)
		}
	})
}

func TestListNearAndOnTheMap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := place.NewService(db, clock.Real)
		boss := user.Caller{UserID: 1, Verified: true, Secretariat: true}
		// The demo data's positions; the distances on the WGS 84 ellipsoid
		// from Vejleåparken are 87.6 m, 924.1 m and 1,669.3 m.
		at := map[string]geo.Point{
			"Vejleåparken (Glashuset)": {Lat: 55.6172, Lng: 12.3531},
			"Kulturhuset AAB":          {Lat: 55.6166, Lng: 12.3522},
			"Bredekærgård":             {Lat: 55.6207, Lng: 12.3398},
			"Ishøj Havn":               {Lat: 55.6062, Lng: 12.3711},
		}
		for name, p := range at {
			if _, err := svc.Create(ctx, boss, place.Input{Name: name, Latitude: &p.Lat, Longitude: &p.Lng}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Create(ctx, boss, place.Input{Name: "Et sted uden adresse"}); err != nil {
			t.Fatal(err)
		}
		vejleaa := at["Vejleåparken (Glashuset)"]
		list := func(f place.Filter, after *place.Key, limit int) []place.Listed {
			t.Helper()
			ps, err := svc.List(ctx, user.Caller{}, f, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			return ps
		}
		names := func(ps []place.Listed) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.Name)
			}
			return out
		}

		within, err := geo.NewArea(&vejleaa, ptr(1500), nil)
		if err != nil {
			t.Fatal(err)
		}
		near := list(place.Filter{Area: within, ByDistance: true}, nil, 10)
		if got, want := names(near), []string{"Vejleåparken (Glashuset)", "Kulturhuset AAB", "Bredekærgård"}; !slices.Equal(got, want) {
			t.Fatalf("within 1500 m by distance = %v, want %v", got, want)
		}
		for _, p := range near {
			// The database's distance is the Go one, to the metre, and
			// within 0.5 % of the ellipsoid's.
			want := geo.Metres(vejleaa, at[p.Name])
			if p.Distance == nil || *p.Distance != want {
				t.Errorf("%s: distance %v, want %d", p.Name, p.Distance, want)
			}
		}
		if d := *near[2].Distance; d < 919 || d > 929 {
			t.Errorf("Bredekærgård is %d m from Vejleåparken, want 924 ± 0.5 %%", d)
		}
		// Page by page by distance gives the same list.
		var paged []place.Listed
		var key *place.Key
		for range 5 {
			ps := list(place.Filter{Area: within, ByDistance: true}, key, 1)
			if len(ps) == 0 {
				break
			}
			paged = append(paged, ps...)
			key = &place.Key{Distance: *ps[0].Distance, Name: ps[0].Name, ID: ps[0].ID}
		}
		if !slices.Equal(names(paged), names(near)) {
			t.Errorf("paged by distance = %v", names(paged))
		}
		// Without ByDistance the same area is listed by name, with distances.
		byName := list(place.Filter{Area: within}, nil, 10)
		if got, want := names(byName), []string{"Bredekærgård", "Kulturhuset AAB", "Vejleåparken (Glashuset)"}; !slices.Equal(got, want) || byName[0].Distance == nil {
			t.Errorf("within 1500 m by name = %v", got)
		}
		// A map over the harbour.
		harbour, err := geo.NewArea(nil, nil, &geo.Box{South: 55.60, West: 12.36, North: 55.61, East: 12.38})
		if err != nil {
			t.Fatal(err)
		}
		if got := list(place.Filter{Area: harbour}, nil, 10); !slices.Equal(names(got), []string{"Ishøj Havn"}) || got[0].Distance != nil {
			t.Errorf("map over the harbour = %v", names(got))
		}
		// No area: every place, the one without a position too.
		if got := list(place.Filter{}, nil, 10); len(got) != 5 {
			t.Errorf("all places = %v", names(got))
		}
		// 50 m around Vejleåparken: only itself (Kulturhuset is 87 m away).
		if got := list(place.Filter{Area: geo.Area{Near: &vejleaa, Radius: 50}}, nil, 10); !slices.Equal(names(got), []string{"Vejleåparken (Glashuset)"}) {
			t.Errorf("within 50 m = %v", names(got))
		}
	})
}

func ptr[T any](v T) *T { return &v }
