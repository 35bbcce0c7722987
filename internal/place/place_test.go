package place_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
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
		if p, _ := svc.Place(ctx, farm.ID); p.Name != "Bredekærgård" {
			t.Errorf("refused updates changed the place: %+v", p)
		}
	})
}
