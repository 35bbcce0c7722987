package store

import (
	"github.com/ishoj/voresishoj/internal/geo"
)

// The SQL of "near me" and the map. Both databases answer it with the
// same text: a box of latitudes and longitudes that the index
// places_position_idx (migration 00019) narrows, then the exact distance
// by the haversine formula, whose functions (radians, sin, cos, asin,
// sqrt, power) PostgreSQL has built in and SQLite has since 3.35 (modernc
// builds them in). No extension (earthdistance, cube, PostGIS, R*Tree)
// is needed: Ishøj has tens of places, not millions, and the box leaves
// the exact formula a handful of rows. Should the two ever differ, the
// difference goes here.

// InBox is the condition that the place row named alias lies in a box,
// with its four arguments from BoxArgs.
func InBox(alias string) string {
	return alias + `.latitude BETWEEN ? AND ? AND ` + alias + `.longitude BETWEEN ? AND ?`
}

// BoxArgs are the arguments of InBox for b.
func BoxArgs(b geo.Box) []any {
	return []any{b.South, b.North, b.West, b.East}
}

// DistanceMetres is the distance in whole metres from a point to the
// place row named alias (which must have a position), with its three
// arguments from PointArgs; the same sphere and rounding as geo.Metres.
func DistanceMetres(alias string) string {
	return `CAST(ROUND(12742017.6 * asin(sqrt(
		power(sin(radians(` + alias + `.latitude - ?) / 2), 2) +
		cos(radians(?)) * cos(radians(` + alias + `.latitude)) * power(sin(radians(` + alias + `.longitude - ?) / 2), 2)))) AS INTEGER)`
}

// PointArgs are the arguments of DistanceMetres for p.
func PointArgs(p geo.Point) []any {
	return []any{p.Lat, p.Lat, p.Lng}
}

// AreaWhere is the condition that the place row named alias lies in a,
// with its arguments; empty for the empty Area. Places without a position
// are in no area.
func AreaWhere(alias string, a geo.Area) (string, []any) {
	if a.Empty() {
		return "", nil
	}
	cond := InBox(alias)
	args := BoxArgs(a.Bounds())
	if a.Near != nil {
		cond += ` AND ` + DistanceMetres(alias) + ` <= ?`
		args = append(append(args, PointArgs(*a.Near)...), a.Radius)
	}
	return cond, args
}
