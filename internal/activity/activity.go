// Package activity holds activities and events — one-off or recurring —
// and their dated occurrences, which are expanded from the recurrence rule
// in Europe/Copenhagen local time and kept in the occurrences table so that
// listing by time is an index read.
package activity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/geo"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// Status is where an activity is in its life.
type Status string

const (
	Draft     Status = "DRAFT"
	Published Status = "PUBLISHED"
	Cancelled Status = "CANCELLED"
)

// Activity is an activity or event. StartsAt and EndsAt are its first
// occurrence; Recurrence, when set, is an RFC 5545 RRULE (without the
// "RRULE:" prefix) read in Europe/Copenhagen local time.
type Activity struct {
	ID             int64      `db:"id"`
	OrganisationID int64      `db:"organisation_id"`
	PlaceID        *int64     `db:"place_id"`
	Title          string     `db:"title"`
	Description    string     `db:"description"`
	StartsAt       time.Time  `db:"starts_at"`
	EndsAt         time.Time  `db:"ends_at"`
	Recurrence     *string    `db:"recurrence"`
	Status         Status     `db:"status"`
	CreatedBy      *int64     `db:"created_by"`
	CreatedAt      time.Time  `db:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
	PublishedAt    *time.Time `db:"published_at"`
	CancelledAt    *time.Time `db:"cancelled_at"`
	// RescheduledFrom is the start the activity had before it was last
	// moved while published; nil when it never was, or was moved back.
	RescheduledFrom *time.Time `db:"rescheduled_from"`
}

// Rescheduled reports whether the activity was moved after it was
// published (and not moved back).
func (a Activity) Rescheduled() bool { return a.RescheduledFrom != nil }

// PreviousStart is when occurrence o was to start before the activity
// was last moved: every date moved by the same offset as the first, as
// the volunteer slots are. ok is false when it was not moved.
func (a Activity) PreviousStart(o Occurrence) (t time.Time, ok bool) {
	if a.RescheduledFrom == nil {
		return time.Time{}, false
	}
	return o.StartsAt.Add(a.RescheduledFrom.Sub(a.StartsAt)), true
}

// rescheduledFrom is what RescheduledFrom becomes when old starts at
// start instead: the old start when a published activity moves, nothing
// when it moves back to where it was, else unchanged. A draft has no
// readers to tell about its moves.
func rescheduledFrom(old Activity, start time.Time) *time.Time {
	if old.Status != Published || start.Equal(old.StartsAt) {
		return old.RescheduledFrom
	}
	if old.RescheduledFrom != nil && start.Equal(*old.RescheduledFrom) {
		return nil
	}
	t := old.StartsAt
	return &t
}

// Duration is the length of every occurrence.
func (a Activity) Duration() time.Duration { return a.EndsAt.Sub(a.StartsAt) }

// Occurrence is one dated instance of an activity.
type Occurrence struct {
	ActivityID int64     `db:"activity_id"`
	StartsAt   time.Time `db:"starts_at"`
	EndsAt     time.Time `db:"ends_at"`
}

// Service reads and writes activities.
type Service struct {
	db     *store.DB
	themes *theme.Service
	bus    event.Publisher
	now    func() time.Time

	onCancel CancelHook
	onMove   MoveHook
	// Guests' sign-ups (internal/participation) go and move with the
	// activity whatever happens to its slots.
	onCancelGuests CancelHook
	onMoveGuests   MoveHook
}

// NewService returns a Service on db that reads the time from now
// (clock.Real outside tests and DEV_NOW).
func NewService(db *store.DB, themes *theme.Service, bus event.Publisher, now func() time.Time) *Service {
	return &Service{db: db, themes: themes, bus: bus, now: now}
}

// shortOccurrence is how long an occurrence may last and still be found
// by List's walk from the window's opening; longer ones go through the
// partial index of migration 00006, whose expression List repeats.
const shortOccurrence = 12 * time.Hour

const columns = `a.id, a.organisation_id, a.place_id, a.title, a.description, a.starts_at, a.ends_at,
	a.recurrence, a.status, a.created_by, a.created_at, a.updated_at, a.published_at, a.cancelled_at, a.rescheduled_from`

// Visible reports whether c may see an activity of organisationID in
// status: drafts only its organisers and the secretariat; published and
// cancelled ones everybody.
func Visible(c user.Caller, status Status, organisationID int64) bool {
	return status != Draft || c.OrganiserOf(organisationID)
}

// VisibleTo reports whether c may see a.
func (a Activity) VisibleTo(c user.Caller) bool { return Visible(c, a.Status, a.OrganisationID) }

// Activity returns the activity with id as c may see it; one c may not
// see is not found, as if it did not exist.
func (s *Service) Activity(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	a, err := activityByID(ctx, s.db, id)
	if err == nil && !a.VisibleTo(c) {
		return Activity{}, fmt.Errorf("activity %d: %w", id, store.ErrNotFound)
	}
	return a, err
}

func activityByID(ctx context.Context, q store.Querier, id int64) (Activity, error) {
	var a Activity
	if err := store.Get(ctx, q, &a, `SELECT `+columns+` FROM activities a WHERE a.id = ?`, id); err != nil {
		return Activity{}, fmt.Errorf("activity %d: %w", id, err)
	}
	return a, nil
}

// ByIDs returns the activities among ids that c may see, in no
// particular order.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Activity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM activities a WHERE a.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var as []Activity
	if err := store.Select(ctx, s.db, &as, q, args...); err != nil {
		return nil, fmt.Errorf("activities by ids: %w", err)
	}
	return slices.DeleteFunc(as, func(a Activity) bool { return !a.VisibleTo(c) }), nil
}

// ThemesByIDs returns the theme slugs of each activity. Like the other
// reads of an activity's parts (Occurrences), it is for activities the
// caller was given by a read that took the caller.
func (s *Service) ThemesByIDs(ctx context.Context, ids []int64) (map[int64][]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT activity_id, theme FROM activity_themes WHERE activity_id IN (?) ORDER BY theme`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ActivityID int64  `db:"activity_id"`
		Theme      string `db:"theme"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("themes of activities: %w", err)
	}
	m := make(map[int64][]string, len(ids))
	for _, r := range rows {
		m[r.ActivityID] = append(m[r.ActivityID], r.Theme)
	}
	return m, nil
}

// Filter narrows the list of activities. The window is about occurrences:
// an activity is listed when one of its occurrences ends after From and
// starts before To.
type Filter struct {
	From           time.Time
	To             *time.Time
	Themes         []string
	OrganisationID *int64
	PlaceID        *int64
	HasOpenSlots   *bool
	Search         string
	// Area keeps the activities whose place lies in it; an activity
	// without a place, or at a place without a position, is in no area.
	Area geo.Area
	// ByDistance orders by the distance of the place from Area.Near,
	// then by first occurrence.
	ByDistance bool
}

// Key is a position in a list of activities: the start of the activity's
// first occurrence in the window, then its id; first the distance when
// the list is ordered by distance.
type Key struct {
	Distance int
	StartsAt time.Time
	ID       int64
}

// Listed is an activity in a list with its first occurrence in the
// window, and the distance in metres of its place from the filter's point
// (nil without one).
type Listed struct {
	Activity
	Occurrence Occurrence
	Distance   *int
}

// List returns up to limit published activities matching f after the key,
// ordered by their first occurrence in the window. Only published ones
// are listed, for every caller: an organiser finds their drafts by id.
func (s *Service) List(ctx context.Context, c user.Caller, f Filter, after *Key, limit int) ([]Listed, error) {
	// Each activity is listed at its first occurrence in the window: an
	// occurrence with no earlier one in the window. Reading occurrences in
	// (starts_at, activity_id) order lets the database walk its index and
	// stop after a page instead of grouping every upcoming occurrence.
	//
	// Occurrences still running when the window opens started before it,
	// so the walk must start earlier. Two arms keep that walk short: one
	// from shortOccurrence before the window, which catches every
	// occurrence lasting less; one through the partial index of longer
	// occurrences (migration 00006), bounded by LongestOccurrence. Their
	// start ranges do not overlap, so UNION ALL lists nothing twice, and
	// the databases merge the two ordered arms and stop after a page.
	var where []string
	var args []any
	if f.To != nil {
		where = append(where, "o.starts_at < ?")
		args = append(args, *f.To)
	}
	where = append(where, "a.status = 'PUBLISHED'",
		`NOT EXISTS (SELECT 1 FROM occurrences e WHERE e.activity_id = o.activity_id AND e.ends_at > ? AND e.starts_at > ? AND e.starts_at < o.starts_at)`)
	args = append(args, f.From, f.From.Add(-LongestOccurrence))
	if f.OrganisationID != nil {
		where = append(where, "a.organisation_id = ?")
		args = append(args, *f.OrganisationID)
	}
	if f.PlaceID != nil {
		where = append(where, "a.place_id = ?")
		args = append(args, *f.PlaceID)
	}
	if len(f.Themes) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM activity_themes t WHERE t.activity_id = a.id AND t.theme IN (?))")
		args = append(args, f.Themes)
	}
	if cond, cargs := s.db.SearchWhere("activities", "a", f.Search); cond != "" {
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if f.HasOpenSlots != nil {
		open := `EXISTS (SELECT 1 FROM volunteer_slots vs WHERE vs.activity_id = a.id AND vs.starts_at > ? AND vs.taken < vs.capacity)`
		if !*f.HasOpenSlots {
			open = "NOT " + open
		}
		where = append(where, open)
		args = append(args, s.now())
	}
	// "Near me" and the map join the activity's place: its box narrows
	// the rows, its distance orders them when asked.
	join, dist, distArgs := "", "NULL", []any(nil)
	if !f.Area.Empty() {
		join = " JOIN places p ON p.id = a.place_id"
		cond, cargs := store.AreaWhere("p", f.Area)
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if f.Area.Near != nil {
		dist, distArgs = store.DistanceMetres("p"), store.PointArgs(*f.Area.Near)
	}
	byDistance := f.ByDistance && f.Area.Near != nil
	order, outerOrder := "o.starts_at, o.activity_id", "first_start, id"
	if byDistance {
		order, outerOrder = "distance, o.starts_at, o.activity_id", "distance, first_start, id"
	}
	if after != nil {
		if byDistance {
			where = append(where, "("+dist+" > ? OR ("+dist+" = ? AND (o.starts_at > ? OR (o.starts_at = ? AND o.activity_id > ?))))")
			args = append(append(append(args, distArgs...), after.Distance), distArgs...)
			args = append(args, after.Distance, after.StartsAt, after.StartsAt, after.ID)
		} else {
			where = append(where, "(o.starts_at > ? OR (o.starts_at = ? AND o.activity_id > ?))")
			args = append(args, after.StartsAt, after.StartsAt, after.ID)
		}
	}
	common := strings.Join(where, " AND ")
	long := s.db.LongOccurrence("o")
	recent := f.From.Add(-shortOccurrence)
	// On SQLite the CROSS JOIN keeps the planner on the occurrences index
	// order; PostgreSQL reads it as the inner join it is.
	// Each arm is ordered and limited on its own as well: PostgreSQL then
	// walks each index and stops, where with only the outer LIMIT it
	// misjudged the anti-join and sorted every upcoming occurrence.
	query := `SELECT * FROM (SELECT ` + columns + `, o.starts_at AS first_start, o.ends_at AS first_end, ` + dist + ` AS distance
		FROM occurrences o CROSS JOIN activities a` + join + `
		WHERE a.id = o.activity_id AND o.starts_at > ? AND o.ends_at > ? AND ` + common + `
		ORDER BY ` + order + ` LIMIT ?) recent
	UNION ALL
	SELECT * FROM (SELECT ` + columns + `, o.starts_at AS first_start, o.ends_at AS first_end, ` + dist + ` AS distance
		FROM occurrences o CROSS JOIN activities a` + join + `
		WHERE a.id = o.activity_id AND ` + long + ` AND o.starts_at > ? AND o.starts_at <= ? AND o.ends_at > ? AND ` + common + `
		ORDER BY ` + order + ` LIMIT ?) running
	ORDER BY ` + outerOrder + `
	LIMIT ?`
	all := append(append([]any{}, distArgs...), recent, f.From)
	all = append(all, args...)
	all = append(all, limit)
	all = append(all, distArgs...)
	all = append(all, f.From.Add(-LongestOccurrence), recent, f.From)
	all = append(all, args...)
	all = append(all, limit, limit)
	args = all
	query, args, err := store.In(query, args...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Activity
		FirstStart store.Time `db:"first_start"`
		FirstEnd   store.Time `db:"first_end"`
		Distance   *int       `db:"distance"`
	}
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list activities: %w", err)
	}
	out := make([]Listed, len(rows))
	for i, r := range rows {
		out[i] = Listed{Activity: r.Activity, Occurrence: Occurrence{
			ActivityID: r.ID,
			StartsAt:   r.FirstStart.Time,
			EndsAt:     r.FirstEnd.Time,
		}, Distance: r.Distance}
	}
	return out, nil
}

// InArea reports whether a's place lies in area, as List decides it;
// every activity lies in the empty area. It is for an activity the caller
// was given, such as one a live update names.
func (s *Service) InArea(ctx context.Context, a Activity, area geo.Area) (bool, error) {
	if area.Empty() {
		return true, nil
	}
	if a.PlaceID == nil {
		return false, nil
	}
	var at struct {
		Lat *float64 `db:"latitude"`
		Lng *float64 `db:"longitude"`
	}
	if err := store.Get(ctx, s.db, &at, `SELECT latitude, longitude FROM places WHERE id = ?`, *a.PlaceID); err != nil {
		return false, fmt.Errorf("position of place %d: %w", *a.PlaceID, err)
	}
	return at.Lat != nil && at.Lng != nil && area.Contains(geo.Point{Lat: *at.Lat, Lng: *at.Lng}), nil
}

// Occurrences returns up to limit occurrences of each given activity that
// end after from, earliest first.
func (s *Service) Occurrences(ctx context.Context, activityIDs []int64, from time.Time, to *time.Time, limit int) (map[int64][]Occurrence, error) {
	if len(activityIDs) == 0 {
		return nil, nil
	}
	where := "activity_id IN (?) AND ends_at > ?"
	args := []any{activityIDs, from}
	if to != nil {
		where += " AND starts_at < ?"
		args = append(args, *to)
	}
	// The window function keeps the statement count at one for a page of
	// activities while still limiting each activity's list.
	query := `SELECT activity_id, starts_at, ends_at FROM (
			SELECT activity_id, starts_at, ends_at,
				ROW_NUMBER() OVER (PARTITION BY activity_id ORDER BY starts_at) AS n
			FROM occurrences WHERE ` + where + `
		) ranked WHERE n <= ? ORDER BY activity_id, starts_at`
	args = append(args, limit)
	query, args, err := store.In(query, args...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"starts_at"`
		EndsAt     store.Time `db:"ends_at"`
	}
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("occurrences: %w", err)
	}
	m := make(map[int64][]Occurrence, len(activityIDs))
	for _, r := range rows {
		m[r.ActivityID] = append(m[r.ActivityID], Occurrence{ActivityID: r.ActivityID, StartsAt: r.StartsAt.Time, EndsAt: r.EndsAt.Time})
	}
	return m, nil
}

// ForSync returns up to limit activities the app keeps offline, by id
// after afterID, as c may see them: those not drafts with an occurrence
// still to end after now. The first sync of a phone reads them
// (internal/offline); later ones follow the change log. next is the id to
// go on after, 0 when there are no more.
func (s *Service) ForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (as []Activity, next int64, err error) {
	var ids []int64
	err = store.Select(ctx, s.db, &ids, `SELECT a.id FROM activities a
		WHERE a.id > ? AND a.status <> 'DRAFT'
		AND EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = a.id AND o.ends_at > ?)
		ORDER BY a.id LIMIT ?`, afterID, s.now(), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("activities for sync: %w", err)
	}
	as, err = s.ByIDs(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return as, 0, err
	}
	return as, ids[len(ids)-1], nil
}
