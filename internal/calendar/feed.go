package calendar

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/weblink"
)

const (
	productID = "-//Ishøj Kommune//Vores Ishøj//DA"
	tzid      = tz.Name

	// personalPast is how far back a personal feed shows shifts, so last
	// month's shifts stay in the calendar without the feed growing forever.
	personalPast = 90 * 24 * time.Hour
	// publicPast is how far back the public feed shows activities.
	publicPast = 30 * 24 * time.Hour
	// maxPersonal and maxActivities bound one feed's size.
	maxPersonal   = 2000
	maxActivities = 1000

	localFormat = "20060102T150405"
	utcFormat   = "20060102T150405Z"
)

// errNoFeed means the token names no live feed.
var errNoFeed = errors.New("calendar: no such feed")

// shift is one confirmed claim of the feed's owner with what the feed
// shows about it.
type shift struct {
	SlotID          int64      `db:"slot_id"`
	ActivityID      int64      `db:"activity_id"`
	Title           string     `db:"title"`
	Description     string     `db:"description"`
	StartsAt        time.Time  `db:"starts_at"`
	EndsAt          time.Time  `db:"ends_at"`
	ActivityTitle   string     `db:"activity_title"`
	ActivityStatus  string     `db:"activity_status"`
	ActivityUpdated time.Time  `db:"activity_updated_at"`
	ClaimedAt       time.Time  `db:"claimed_at"`
	ConfirmedAt     *time.Time `db:"confirmed_at"`
	PlaceName       *string    `db:"place_name"`
	PlaceAddress    *string    `db:"place_address"`
}

// personalFeed renders the feed of the user holding token.
func (s *Service) personalFeed(ctx context.Context, token string) ([]byte, error) {
	var userID int64
	// Looked up by the exact value: the token is a unique random secret, so
	// an index lookup reveals nothing a guess could use.
	err := store.Get(ctx, s.db, &userID, `SELECT id FROM users WHERE ical_token = ? AND deleted_at IS NULL`, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoFeed
	}
	if err != nil {
		return nil, fmt.Errorf("user of calendar token: %w", err)
	}

	now := s.now().UTC()
	var shifts []shift
	err = store.Select(ctx, s.db, &shifts, `SELECT s.id AS slot_id, s.activity_id, s.title, s.description, s.starts_at, s.ends_at,
			a.title AS activity_title, a.status AS activity_status, a.updated_at AS activity_updated_at,
			c.created_at AS claimed_at, c.confirmed_at,
			p.name AS place_name, p.address AS place_address
		FROM slot_claims c
		JOIN volunteer_slots s ON s.id = c.slot_id
		JOIN activities a ON a.id = s.activity_id
		LEFT JOIN places p ON p.id = a.place_id
		WHERE c.user_id = ? AND c.status = 'CONFIRMED' AND s.ends_at > ?
		ORDER BY s.starts_at, s.id
		LIMIT ?`, userID, now.Add(-personalPast), maxPersonal)
	if err != nil {
		return nil, fmt.Errorf("shifts of user %d: %w", userID, err)
	}

	cal := newCalendar("Vores Ishøj – mine vagter")
	for _, sh := range shifts {
		ev := cal.AddEvent(fmt.Sprintf("slot-%d@voresishoj", sh.SlotID))
		// DTSTAMP and LAST-MODIFIED come from the data, not the clock, so an
		// unchanged feed renders to the same bytes and its ETag holds.
		stamp := latest(sh.ActivityUpdated, sh.ClaimedAt)
		if sh.ConfirmedAt != nil {
			stamp = latest(stamp, *sh.ConfirmedAt)
		}
		ev.SetDtStampTime(stamp)
		ev.SetLastModifiedAt(stamp)
		ev.SetStartAt(sh.StartsAt.UTC())
		ev.SetEndAt(sh.EndsAt.UTC())
		ev.SetSummary(text(sh.Title + " – " + sh.ActivityTitle))
		if sh.Description != "" {
			ev.SetDescription(text(sh.Description))
		}
		if loc := location(sh.PlaceName, sh.PlaceAddress); loc != "" {
			ev.SetLocation(loc)
		}
		// The activity's public page; the shift itself is in the app.
		ev.SetURL(weblink.New(s.publicURL).Activity(sh.ActivityID))
		if sh.ActivityStatus == "CANCELLED" {
			ev.SetStatus(ics.ObjectStatusCancelled)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	if err := s.addPlans(ctx, cal, userID, now); err != nil {
		return nil, err
	}
	return serialize(cal)
}

// plan is one occurrence the feed's owner comes to as a guest.
type plan struct {
	ID              int64      `db:"id"`
	ActivityID      int64      `db:"activity_id"`
	StartsAt        store.Time `db:"occurrence_starts_at"`
	EndsAt          *time.Time `db:"ends_at"`
	Status          string     `db:"status"`
	PartySize       int        `db:"party_size"`
	UpdatedAt       time.Time  `db:"updated_at"`
	ActivityTitle   string     `db:"activity_title"`
	ActivityStart   time.Time  `db:"activity_starts_at"`
	ActivityEnd     time.Time  `db:"activity_ends_at"`
	ActivityUpdated time.Time  `db:"activity_updated_at"`
	PlaceName       *string    `db:"place_name"`
	PlaceAddress    *string    `db:"place_address"`
}

// addPlans adds what the person comes to as a guest: GOING confirmed,
// WAITLISTED tentative (it may still come true). INTERESTED is no plan,
// and a cancelled sign-up leaves the feed, so calendars drop it.
func (s *Service) addPlans(ctx context.Context, cal *ics.Calendar, userID int64, now time.Time) error {
	var plans []plan
	err := store.Select(ctx, s.db, &plans, `SELECT pa.id, pa.activity_id, pa.occurrence_starts_at, o.ends_at, pa.status, pa.party_size,
			pa.updated_at, a.title AS activity_title, a.starts_at AS activity_starts_at, a.ends_at AS activity_ends_at,
			a.updated_at AS activity_updated_at, p.name AS place_name, p.address AS place_address
		FROM participations pa
		JOIN activities a ON a.id = pa.activity_id
		LEFT JOIN occurrences o ON o.activity_id = pa.activity_id AND o.starts_at = pa.occurrence_starts_at
		LEFT JOIN places p ON p.id = a.place_id
		WHERE pa.user_id = ? AND pa.status IN ('GOING', 'WAITLISTED') AND pa.occurrence_starts_at > ?
		ORDER BY pa.occurrence_starts_at, pa.id
		LIMIT ?`, userID, now.Add(-personalPast), maxPersonal)
	if err != nil {
		return fmt.Errorf("plans of user %d: %w", userID, err)
	}
	for _, pl := range plans {
		ev := cal.AddEvent(fmt.Sprintf("participation-%d@voresishoj", pl.ID))
		stamp := latest(pl.ActivityUpdated, pl.UpdatedAt)
		ev.SetDtStampTime(stamp)
		ev.SetLastModifiedAt(stamp)
		start := pl.StartsAt.Time.UTC()
		// An occurrence no longer listed (long past) lasts as the first did.
		end := start.Add(pl.ActivityEnd.Sub(pl.ActivityStart))
		if pl.EndsAt != nil {
			end = pl.EndsAt.UTC()
		}
		ev.SetStartAt(start)
		ev.SetEndAt(end)
		summary := pl.ActivityTitle
		if pl.PartySize > 1 {
			summary += fmt.Sprintf(" (%d personer)", pl.PartySize)
		}
		ev.SetSummary(text(summary))
		if loc := location(pl.PlaceName, pl.PlaceAddress); loc != "" {
			ev.SetLocation(loc)
		}
		ev.SetURL(weblink.New(s.publicURL).Activity(pl.ActivityID))
		if pl.Status == "WAITLISTED" {
			ev.SetStatus(ics.ObjectStatusTentative)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	return nil
}

// Filter narrows the public feed. Zero values mean "any".
type Filter struct {
	OrganisationID int64
	PlaceID        int64
	Theme          string
}

// publicActivity is one activity of the public feed.
type publicActivity struct {
	ID           int64     `db:"id"`
	Title        string    `db:"title"`
	Description  string    `db:"description"`
	StartsAt     time.Time `db:"starts_at"`
	EndsAt       time.Time `db:"ends_at"`
	Recurrence   *string   `db:"recurrence"`
	Status       string    `db:"status"`
	UpdatedAt    time.Time `db:"updated_at"`
	PlaceName    *string   `db:"place_name"`
	PlaceAddress *string   `db:"place_address"`
	Latitude     *float64  `db:"latitude"`
	Longitude    *float64  `db:"longitude"`
}

// publicFeed renders the published activities matching f.
func (s *Service) publicFeed(ctx context.Context, f Filter) ([]byte, error) {
	cutoff := s.now().UTC().Add(-publicPast)
	// A cancelled activity was published before it was called off unless
	// published_at is empty; drafts that were cancelled never go public.
	// Cancelled activities may have lost their future occurrences, so their
	// own dates and cancellation time count too: subscribers should see the
	// cancellation rather than the event silently vanishing.
	query := `SELECT a.id, a.title, a.description, a.starts_at, a.ends_at, a.recurrence, a.status, a.updated_at,
			p.name AS place_name, p.address AS place_address, p.latitude, p.longitude
		FROM activities a
		LEFT JOIN places p ON p.id = a.place_id
		WHERE (a.status = 'PUBLISHED' OR (a.status = 'CANCELLED' AND a.published_at IS NOT NULL))
		AND (EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = a.id AND o.ends_at > ?)
			OR a.ends_at > ?
			OR (a.status = 'CANCELLED' AND a.cancelled_at > ?))`
	args := []any{cutoff, cutoff, cutoff}
	if f.OrganisationID != 0 {
		query += ` AND a.organisation_id = ?`
		args = append(args, f.OrganisationID)
	}
	if f.PlaceID != 0 {
		query += ` AND a.place_id = ?`
		args = append(args, f.PlaceID)
	}
	if f.Theme != "" {
		query += ` AND EXISTS (SELECT 1 FROM activity_themes t WHERE t.activity_id = a.id AND t.theme = ?)`
		args = append(args, f.Theme)
	}
	// The soonest activities win when the limit bites.
	query += ` ORDER BY COALESCE((SELECT MIN(o.starts_at) FROM occurrences o WHERE o.activity_id = a.id AND o.ends_at > ?), a.starts_at), a.id
		LIMIT ?`
	args = append(args, cutoff, maxActivities)

	var acts []publicActivity
	if err := store.Select(ctx, s.db, &acts, query, args...); err != nil {
		return nil, fmt.Errorf("activities for calendar: %w", err)
	}
	themes, err := s.themesOf(ctx, acts)
	if err != nil {
		return nil, err
	}

	cal := newCalendar("Vores Ishøj – aktiviteter")
	var zoneAdded bool
	for _, a := range acts {
		ev := ics.NewEvent(fmt.Sprintf("activity-%d@voresishoj", a.ID))
		ev.SetDtStampTime(a.UpdatedAt)
		ev.SetLastModifiedAt(a.UpdatedAt)
		rule := ""
		if a.Recurrence != nil {
			rule = normaliseRule(*a.Recurrence)
		}
		if rule != "" {
			if !zoneAdded {
				// RFC 5545 wants the VTIMEZONE of every TZID used; it goes
				// before the events that refer to it.
				cal.Components = append([]ics.Component{copenhagenZone()}, cal.Components...)
				zoneAdded = true
			}
			ev.SetProperty(ics.ComponentPropertyDtStart, a.StartsAt.In(tz.Copenhagen).Format(localFormat), ics.WithTZID(tzid))
			ev.SetProperty(ics.ComponentPropertyDtEnd, a.EndsAt.In(tz.Copenhagen).Format(localFormat), ics.WithTZID(tzid))
			ev.AddRrule(rule)
		} else {
			ev.SetStartAt(a.StartsAt.UTC())
			ev.SetEndAt(a.EndsAt.UTC())
		}
		ev.SetSummary(text(a.Title))
		if a.Description != "" {
			ev.SetDescription(text(a.Description))
		}
		if loc := location(a.PlaceName, a.PlaceAddress); loc != "" {
			ev.SetLocation(loc)
		}
		if a.Latitude != nil && a.Longitude != nil {
			ev.SetProperty(ics.ComponentPropertyGeo,
				strconv.FormatFloat(*a.Latitude, 'f', 6, 64)+";"+strconv.FormatFloat(*a.Longitude, 'f', 6, 64))
		}
		ev.SetURL(weblink.New(s.publicURL).Activity(a.ID))
		for _, slug := range themes[a.ID] {
			ev.AddCategory(slug)
		}
		if a.Status == "CANCELLED" {
			ev.SetStatus(ics.ObjectStatusCancelled)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
		cal.AddVEvent(ev)
	}
	return serialize(cal)
}

// themesOf returns the theme slugs of each activity, in slug order.
func (s *Service) themesOf(ctx context.Context, acts []publicActivity) (map[int64][]string, error) {
	out := make(map[int64][]string, len(acts))
	if len(acts) == 0 {
		return out, nil
	}
	ids := make([]int64, len(acts))
	for i, a := range acts {
		ids[i] = a.ID
	}
	query, args, err := store.In(`SELECT activity_id, theme FROM activity_themes
		WHERE activity_id IN (?) ORDER BY activity_id, theme`, ids)
	if err != nil {
		return nil, fmt.Errorf("build themes query: %w", err)
	}
	var rows []struct {
		ActivityID int64  `db:"activity_id"`
		Theme      string `db:"theme"`
	}
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("themes of activities: %w", err)
	}
	for _, r := range rows {
		out[r.ActivityID] = append(out[r.ActivityID], r.Theme)
	}
	return out, nil
}

func newCalendar(name string) *ics.Calendar {
	cal := ics.NewCalendarFor("Vores Ishøj")
	cal.SetProductId(productID)
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetXWRCalName(name)
	cal.SetXWRTimezone(tzid)
	// Hints for how often subscribers refetch; the feed is cheap but not free.
	cal.SetXPublishedTTL("PT1H")
	// The library's REFRESH-INTERVAL name already carries VALUE=DURATION.
	cal.SetRefreshInterval("PT1H")
	return cal
}

// copenhagenZone describes Europe/Copenhagen with the EU daylight saving
// rule that has applied since 1996 (last Sunday of March and October).
func copenhagenZone() *ics.VTimezone {
	// Properties are named with the library's typed constants:
	// ComponentPropertyExtended mangles names in v0.3.4.
	tz := ics.NewTimezone(tzid)
	tz.AddProperty(ics.ComponentProperty("X-LIC-LOCATION"), tzid)
	daylight := &ics.Daylight{}
	daylight.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), "+0100")
	daylight.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), "+0200")
	daylight.AddProperty(ics.ComponentProperty(ics.PropertyTzname), "CEST")
	daylight.AddProperty(ics.ComponentPropertyDtStart, "19700329T020000")
	daylight.AddProperty(ics.ComponentPropertyRrule, "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
	standard := tz.AddStandard()
	standard.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), "+0200")
	standard.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), "+0100")
	standard.AddProperty(ics.ComponentProperty(ics.PropertyTzname), "CET")
	standard.AddProperty(ics.ComponentPropertyDtStart, "19701025T030000")
	standard.AddProperty(ics.ComponentPropertyRrule, "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU")
	tz.Components = append([]ics.Component{daylight}, tz.Components...)
	return tz
}

// normaliseRule turns a stored rule into an RRULE value. The activity
// package reads a local UNTIL (no Z) in Copenhagen time; RFC 5545 requires
// UNTIL in UTC when DTSTART carries a TZID, so such values are converted,
// keeping the same last occurrence.
func normaliseRule(rule string) string {
	rule = strings.TrimSpace(rule)
	if len(rule) >= 6 && strings.EqualFold(rule[:6], "RRULE:") {
		rule = rule[6:]
	}
	if rule == "" || strings.ContainsAny(rule, "\r\n") {
		return ""
	}
	parts := strings.Split(rule, ";")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(k, "UNTIL") {
			continue
		}
		var until time.Time
		var err error
		switch len(v) {
		case len("20060102"):
			until, err = time.ParseInLocation("20060102", v, tz.Copenhagen)
		case len(localFormat):
			until, err = time.ParseInLocation(localFormat, v, tz.Copenhagen)
		default:
			continue // already UTC, or something the client may still read
		}
		if err == nil {
			parts[i] = "UNTIL=" + until.UTC().Format(utcFormat)
		}
	}
	return strings.Join(parts, ";")
}

// text cleans a value for a TEXT property: the library escapes \n, ; , and
// backslash but passes other control characters through, which would break
// the line structure.
func text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// location is what calendar apps show and hand to a map: the place name
// followed by its address.
func location(name, address *string) string {
	var parts []string
	if name != nil && strings.TrimSpace(*name) != "" {
		parts = append(parts, strings.TrimSpace(*name))
	}
	if address != nil && strings.TrimSpace(*address) != "" {
		parts = append(parts, strings.TrimSpace(*address))
	}
	return text(strings.Join(parts, ", "))
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b.UTC()
	}
	return a.UTC()
}

func serialize(cal *ics.Calendar) ([]byte, error) {
	var b strings.Builder
	// RFC 5545 lines end in CRLF; the library's default is the host's.
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("serialize calendar: %w", err)
	}
	return []byte(b.String()), nil
}
