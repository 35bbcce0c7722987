// Package geo holds what "near me" and the map ask of a list: a point, a
// rectangle, a circle, and the distance between two points on the Earth.
// Places carry WGS 84 degrees; distances are in whole metres along the
// surface of a sphere of the Earth's mean radius (haversine), which is
// within 0.5 % of the true distance anywhere and far better over the few
// kilometres of Ishøj.
package geo

import (
	"math"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// Codes of the user errors of an Area.
const (
	CodeInvalidLocation = "INVALID_LOCATION"
	CodeRadiusTooLarge  = "RADIUS_TOO_LARGE"
)

const (
	// EarthRadius is the Earth's mean radius in metres (IUGG).
	EarthRadius = 6_371_008.8
	// MaxRadius bounds a search around a point, in metres: the whole of
	// Ishøj and its neighbours fit many times, while a list ordered by
	// distance never has to sort the country.
	MaxRadius = 50_000
	// DefaultRadius is the radius when a point is given without one.
	DefaultRadius = MaxRadius
	// MaxBoxSide bounds each side of a map's rectangle, in metres: a map
	// zoomed out over all of Zealand still fits.
	MaxBoxSide = 200_000
)

// Point is a position in WGS 84 degrees.
type Point struct {
	Lat, Lng float64
}

// Box is a rectangle between two parallels and two meridians, as a map
// view shows it. It does not cross the 180th meridian: West <= East.
type Box struct {
	South, West, North, East float64
}

// Contains reports whether p lies in b, edges included.
func (b Box) Contains(p Point) bool {
	return p.Lat >= b.South && p.Lat <= b.North && p.Lng >= b.West && p.Lng <= b.East
}

// Distance is the distance in metres between a and b along the sphere.
func Distance(a, b Point) float64 {
	φ1, φ2 := radians(a.Lat), radians(b.Lat)
	dφ, dλ := φ2-φ1, radians(b.Lng-a.Lng)
	h := math.Pow(math.Sin(dφ/2), 2) + math.Cos(φ1)*math.Cos(φ2)*math.Pow(math.Sin(dλ/2), 2)
	return 2 * EarthRadius * math.Asin(math.Sqrt(min(h, 1)))
}

// Metres is Distance rounded to whole metres, as lists show and compare it.
func Metres(a, b Point) int {
	return int(math.Round(Distance(a, b)))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

// Around is the smallest box of parallels and meridians that holds every
// point within r metres of p. Near a pole or the 180th meridian it
// widens to every longitude, which is still a correct prefilter.
func Around(p Point, r float64) Box {
	dLat := r / EarthRadius * 180 / math.Pi
	b := Box{South: max(p.Lat-dLat, -90), North: min(p.Lat+dLat, 90), West: -180, East: 180}
	if b.South == -90 || b.North == 90 {
		return b
	}
	// The widest longitude span of a circle is where it touches the
	// meridians: asin(sin(r/R) / cos(lat)).
	s := math.Sin(r/EarthRadius) / math.Cos(radians(p.Lat))
	if s >= 1 {
		return b
	}
	dLng := math.Asin(s) * 180 / math.Pi
	if p.Lng-dLng < -180 || p.Lng+dLng > 180 {
		return b
	}
	b.West, b.East = p.Lng-dLng, p.Lng+dLng
	return b
}

// Area is what a list is narrowed to: within Radius metres of Near, and
// inside Box; either, both or neither. The zero Area is everywhere.
type Area struct {
	Near   *Point
	Radius int // metres; only with Near
	Box    *Box
}

// Empty reports whether a narrows nothing.
func (a Area) Empty() bool { return a.Near == nil && a.Box == nil }

// Bounds is the box every point of a lies in: the prefilter an index on
// latitude and longitude answers, before the exact distance is checked.
func (a Area) Bounds() Box {
	b := Box{South: -90, West: -180, North: 90, East: 180}
	if a.Near != nil {
		b = Around(*a.Near, float64(a.Radius))
	}
	if a.Box != nil {
		b = Box{
			South: max(b.South, a.Box.South), West: max(b.West, a.Box.West),
			North: min(b.North, a.Box.North), East: min(b.East, a.Box.East),
		}
	}
	return b
}

// Contains reports whether p lies in a, as the databases decide it: the
// distance rounded to whole metres.
func (a Area) Contains(p Point) bool {
	if a.Box != nil && !a.Box.Contains(p) {
		return false
	}
	return a.Near == nil || Metres(*a.Near, p) <= a.Radius
}

// NewArea checks what a client asked for and makes the Area: near, and
// within metres of it (DefaultRadius when nil), and box; field is the
// path of the input the errors name (e.g. "filter"). Coordinates must be
// numbers in range, a radius needs a point, and both radius and box are
// bounded (RADIUS_TOO_LARGE).
func NewArea(near *Point, within *int, box *Box, field ...string) (Area, error) {
	var errs apperr.List
	at := func(name string) []string { return append(append([]string{}, field...), name) }
	var a Area
	if near != nil {
		if !validLat(near.Lat) || !validLng(near.Lng) {
			errs.Add(CodeInvalidLocation, at("near")...)
		}
		a.Near = near
		a.Radius = DefaultRadius
		if within != nil {
			switch {
			case *within < 1:
				errs.Add("OUT_OF_RANGE", at("within")...).With("Min", 1).With("Max", MaxRadius)
			case *within > MaxRadius:
				errs.Add(CodeRadiusTooLarge, at("within")...).With("Max", MaxRadius/1000)
			default:
				a.Radius = *within
			}
		}
	} else if within != nil {
		errs.Add(CodeInvalidLocation, at("near")...)
	}
	if box != nil {
		switch {
		case !validLat(box.South) || !validLat(box.North) || !validLng(box.West) || !validLng(box.East),
			box.South > box.North, box.West > box.East:
			errs.Add(CodeInvalidLocation, at("bbox")...)
		case boxTooLarge(*box):
			errs.Add(CodeRadiusTooLarge, at("bbox")...).With("Max", MaxBoxSide/1000)
		}
		a.Box = box
	}
	if err := errs.Err(); err != nil {
		return Area{}, err
	}
	return a, nil
}

func validLat(v float64) bool { return !math.IsNaN(v) && v >= -90 && v <= 90 }
func validLng(v float64) bool { return !math.IsNaN(v) && v >= -180 && v <= 180 }

// boxTooLarge measures the box's height and its width along the parallel
// nearest the equator, where it is widest.
func boxTooLarge(b Box) bool {
	widest := b.South
	if b.South <= 0 && b.North >= 0 {
		widest = 0
	} else if math.Abs(b.North) < math.Abs(b.South) {
		widest = b.North
	}
	height := Distance(Point{b.South, b.West}, Point{b.North, b.West})
	width := radians(b.East-b.West) * EarthRadius * math.Cos(radians(widest))
	return height > MaxBoxSide || width > MaxBoxSide
}
