// Package tz holds the time zone Ishøj lives in. Every local time the
// backend reasons about — recurring activities, the daily volunteering
// limit, quiet hours, monthly statistics, the times the API and the feeds
// show — is Europe/Copenhagen wherever the server runs, and it is loaded
// here once. The zone database is embedded, so a host without one (a
// distroless container) loads it too.
package tz

import (
	"fmt"
	"time"
	_ "time/tzdata"
)

// Name is the zone's IANA name, as calendars write it in TZID.
const Name = "Europe/Copenhagen"

// Copenhagen is the zone.
var Copenhagen = func() *time.Location {
	loc, err := time.LoadLocation(Name)
	if err != nil {
		// time/tzdata is embedded, so this cannot happen.
		panic(fmt.Sprintf("load time zone %s: %v", Name, err))
	}
	return loc
}()
