package geo_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/geo"
)

// Positions of the demo data's places (internal/demo).
var (
	bredekaergaard = geo.Point{Lat: 55.6207, Lng: 12.3398}
	ishoejHavn     = geo.Point{Lat: 55.6062, Lng: 12.3711}
	vejleaaparken  = geo.Point{Lat: 55.6172, Lng: 12.3531}
	kulturhuset    = geo.Point{Lat: 55.6166, Lng: 12.3522}
)

func TestDistanceAgainstTheEllipsoid(t *testing.T) {
	// The geodesic distances on the WGS 84 ellipsoid (Vincenty's
	// formula, worked out apart from this code): the sphere must come
	// within 0.5 %.
	for _, c := range []struct {
		name string
		a, b geo.Point
		want float64
	}{
		{"Bredekærgård–Ishøj Havn", bredekaergaard, ishoejHavn, 2548.8},
		{"Bredekærgård–Vejleåparken", bredekaergaard, vejleaaparken, 924.1},
		{"Vejleåparken–Ishøj Havn", vejleaaparken, ishoejHavn, 1669.3},
		{"Vejleåparken–Kulturhuset AAB", vejleaaparken, kulturhuset, 87.6},
	} {
		got := geo.Distance(c.a, c.b)
		if math.Abs(got-c.want)/c.want > 0.005 {
			t.Errorf("%s: %.1f m, want %.1f m ± 0.5 %%", c.name, got, c.want)
		}
		if back := geo.Distance(c.b, c.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("%s: %.3f one way, %.3f back", c.name, got, back)
		}
	}
	// One degree along a meridian is a 360th of the sphere's circumference.
	if got, want := geo.Distance(geo.Point{Lat: 55, Lng: 12}, geo.Point{Lat: 56, Lng: 12}), 2*math.Pi*geo.EarthRadius/360; math.Abs(got-want) > 0.001 {
		t.Errorf("one degree of latitude = %.3f m, want %.3f", got, want)
	}
	if got := geo.Metres(ishoejHavn, ishoejHavn); got != 0 {
		t.Errorf("distance to itself = %d", got)
	}
}

func TestAroundHoldsTheCircle(t *testing.T) {
	for _, p := range []geo.Point{ishoejHavn, {Lat: 0, Lng: 0}, {Lat: -70, Lng: 100}, {Lat: 89.9, Lng: 10}, {Lat: 10, Lng: 179.99}} {
		for _, r := range []float64{100, 5_000, geo.MaxRadius} {
			b := geo.Around(p, r)
			// Walk the circle's edge, just inside it: every point is in the box.
			for deg := 0; deg < 360; deg += 5 {
				q := destination(p, float64(deg), r*0.999)
				if !b.Contains(q) {
					t.Errorf("around %v, %.0f m: %v (bearing %d) outside %+v", p, r, q, deg, b)
				}
			}
		}
	}
	// And it is not much larger than the circle: at Ishøj 5 km is about
	// 0.045° of latitude and 0.08° of longitude.
	b := geo.Around(ishoejHavn, 5_000)
	if h := b.North - b.South; h < 0.089 || h > 0.091 {
		t.Errorf("height %.4f°", h)
	}
	if w := b.East - b.West; w < 0.155 || w > 0.165 {
		t.Errorf("width %.4f°", w)
	}
}

// destination is the point at distance d metres from p on the given
// bearing (degrees from north), on the sphere.
func destination(p geo.Point, bearing, d float64) geo.Point {
	φ1, λ1, θ, δ := p.Lat*math.Pi/180, p.Lng*math.Pi/180, bearing*math.Pi/180, d/geo.EarthRadius
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	lng := math.Mod(λ2*180/math.Pi+540, 360) - 180
	return geo.Point{Lat: φ2 * 180 / math.Pi, Lng: lng}
}

func TestAreaContains(t *testing.T) {
	r := 1500
	a, err := geo.NewArea(&vejleaaparken, &r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Contains(kulturhuset) || !a.Contains(bredekaergaard) || a.Contains(ishoejHavn) {
		// Bredekærgård is 924 m away, Ishøj Havn 1,669 m.
		t.Errorf("within 1500 m of Vejleåparken: Kulturhuset %v, Bredekærgård %v, Havn %v",
			a.Contains(kulturhuset), a.Contains(bredekaergaard), a.Contains(ishoejHavn))
	}
	// A map over the harbour only.
	box := geo.Box{South: 55.60, West: 12.36, North: 55.61, East: 12.38}
	a, err = geo.NewArea(nil, nil, &box)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Contains(ishoejHavn) || a.Contains(vejleaaparken) {
		t.Error("box over the harbour")
	}
	if b := a.Bounds(); b != box {
		t.Errorf("bounds of a box = %+v", b)
	}
	// Both: the box's bounds are cut to the circle's.
	a, err = geo.NewArea(&ishoejHavn, &r, &box)
	if err != nil {
		t.Fatal(err)
	}
	if b := a.Bounds(); b.North > box.North || b.South < ishoejHavn.Lat-0.014 {
		t.Errorf("bounds of circle and box = %+v", b)
	}
}

func TestNewAreaRefuses(t *testing.T) {
	big, zero, ok := geo.MaxRadius+1, 0, 1000
	nan := math.NaN()
	for _, c := range []struct {
		name   string
		near   *geo.Point
		within *int
		box    *geo.Box
		code   string
		field  string
	}{
		{"latitude out of range", &geo.Point{Lat: 91, Lng: 12}, nil, nil, geo.CodeInvalidLocation, "filter.near"},
		{"longitude out of range", &geo.Point{Lat: 55, Lng: -181}, nil, nil, geo.CodeInvalidLocation, "filter.near"},
		{"not a number", &geo.Point{Lat: nan, Lng: 12}, nil, nil, geo.CodeInvalidLocation, "filter.near"},
		{"infinite", &geo.Point{Lat: 55, Lng: math.Inf(1)}, nil, nil, geo.CodeInvalidLocation, "filter.near"},
		{"radius without a point", nil, &ok, nil, geo.CodeInvalidLocation, "filter.near"},
		{"radius too large", &ishoejHavn, &big, nil, geo.CodeRadiusTooLarge, "filter.within"},
		{"radius zero", &ishoejHavn, &zero, nil, "OUT_OF_RANGE", "filter.within"},
		{"box upside down", nil, nil, &geo.Box{South: 55.7, West: 12.3, North: 55.6, East: 12.4}, geo.CodeInvalidLocation, "filter.bbox"},
		{"box across the 180th meridian", nil, nil, &geo.Box{South: 10, West: 179, North: 11, East: -179}, geo.CodeInvalidLocation, "filter.bbox"},
		{"box too tall", nil, nil, &geo.Box{South: 54, West: 12, North: 56, East: 12.1}, geo.CodeRadiusTooLarge, "filter.bbox"},
		{"box too wide", nil, nil, &geo.Box{South: 55, West: 9, North: 55.1, East: 13}, geo.CodeRadiusTooLarge, "filter.bbox"},
		{"box too wide at the equator", nil, nil, &geo.Box{South: -0.5, West: 10, North: 0.5, East: 12}, geo.CodeRadiusTooLarge, "filter.bbox"},
	} {
		_, err := geo.NewArea(c.near, c.within, c.box, "filter")
		errs := apperr.UserErrors(err)
		if len(errs) != 1 || errs[0].Code != c.code || strings.Join(errs[0].Field, ".") != c.field {
			t.Errorf("%s: %v, want %s at %s", c.name, err, c.code, c.field)
		}
	}
	// Zealand fits; a radius left out is the largest.
	if a, err := geo.NewArea(&ishoejHavn, nil, &geo.Box{South: 54.9, West: 11.0, North: 56.1, East: 12.7}); err != nil || a.Radius != geo.DefaultRadius {
		t.Errorf("Zealand: %+v %v", a, err)
	}
}
