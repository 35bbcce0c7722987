package story

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// The goals written in the municipality's plan for the portal.
const (
	TargetUsersFirstYear     = 500
	TargetCampaignStoriesMin = 20
	TargetCampaignStoriesMax = 25
	TargetMediaPickupsMin    = 3
	TargetMediaPickupsMax    = 5
	statsMonths              = 12
)

// Month is one calendar month in Europe/Copenhagen.
type Month struct {
	Year  int
	Month time.Month
	// Count is people, stories or volunteers, depending on the series.
	Count int
	// Hours is used by the hours series only.
	Hours float64
}

// Stats are the goals at a glance for the secretariat. Monthly series
// cover the last 12 calendar months including the current one, oldest
// first.
type Stats struct {
	UsersTotal  int
	UsersTarget int
	NewUsers    []Month
	// ActiveVolunteers is the number of different people who gave time in
	// the 12 months; VolunteersPerMonth counts them per month.
	ActiveVolunteers   int
	VolunteersPerMonth []Month
	HoursTotal         float64
	HoursPerMonth      []Month
	StoriesPublished   []Month

	CampaignStoriesThisYear int
	CampaignTargetMin       int
	CampaignTargetMax       int
	MediaPickupsThisYear    int
	MediaPickupsTargetMin   int
	MediaPickupsTargetMax   int
}

// Stats counts the portal's progress toward its goals as of now. Rows are
// bucketed into Copenhagen months in Go, so no dialect-specific date
// functions are needed.
//
// Volunteer time counts CONFIRMED claims on slots that have ended, except
// those marked NO_SHOW; a person counts as active in the months in which
// such a slot ended.
func (s *Service) Stats(ctx context.Context, c user.Caller, now time.Time) (Stats, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Stats{}, err
	}
	now = now.UTC()
	local := now.In(tz.Copenhagen)
	first := time.Date(local.Year(), local.Month()-statsMonths+1, 1, 0, 0, 0, 0, tz.Copenhagen)
	yearStart := time.Date(local.Year(), 1, 1, 0, 0, 0, 0, tz.Copenhagen)
	st := Stats{
		UsersTarget:           TargetUsersFirstYear,
		CampaignTargetMin:     TargetCampaignStoriesMin,
		CampaignTargetMax:     TargetCampaignStoriesMax,
		MediaPickupsTargetMin: TargetMediaPickupsMin,
		MediaPickupsTargetMax: TargetMediaPickupsMax,
	}
	months := func() []Month {
		ms := make([]Month, statsMonths)
		for i := range ms {
			m := first.AddDate(0, i, 0)
			ms[i] = Month{Year: m.Year(), Month: m.Month()}
		}
		return ms
	}
	index := func(t time.Time) int {
		l := t.In(tz.Copenhagen)
		i := (l.Year()-first.Year())*12 + int(l.Month()) - int(first.Month())
		if i < 0 || i >= statsMonths {
			return -1
		}
		return i
	}

	// People: not deleted and not Firebase-anonymous visitors.
	const people = `FROM users WHERE deleted_at IS NULL AND anonymous = FALSE AND created_at <= ?`
	if err := store.Get(ctx, s.db, &st.UsersTotal, `SELECT COUNT(*) `+people, now); err != nil {
		return Stats{}, fmt.Errorf("count users: %w", err)
	}
	var joined []time.Time
	if err := store.Select(ctx, s.db, &joined, `SELECT created_at `+people+` AND created_at >= ?`, now, first.UTC()); err != nil {
		return Stats{}, fmt.Errorf("new users: %w", err)
	}
	st.NewUsers = months()
	for _, t := range joined {
		if i := index(t); i >= 0 {
			st.NewUsers[i].Count++
		}
	}

	var shifts []struct {
		UserID   int64     `db:"user_id"`
		StartsAt time.Time `db:"starts_at"`
		EndsAt   time.Time `db:"ends_at"`
	}
	err := store.Select(ctx, s.db, &shifts, `SELECT sc.user_id, vs.starts_at, vs.ends_at
		FROM slot_claims sc JOIN volunteer_slots vs ON vs.id = sc.slot_id
		WHERE sc.status = 'CONFIRMED' AND (sc.attendance IS NULL OR sc.attendance <> 'NO_SHOW')
		AND vs.ends_at >= ? AND vs.ends_at <= ?`, first.UTC(), now)
	if err != nil {
		return Stats{}, fmt.Errorf("volunteer shifts: %w", err)
	}
	st.VolunteersPerMonth, st.HoursPerMonth = months(), months()
	active := map[int64]bool{}
	perMonth := make([]map[int64]bool, statsMonths)
	for _, sh := range shifts {
		i := index(sh.EndsAt)
		if i < 0 {
			continue
		}
		hours := sh.EndsAt.Sub(sh.StartsAt).Hours()
		st.HoursPerMonth[i].Hours += hours
		st.HoursTotal += hours
		active[sh.UserID] = true
		if perMonth[i] == nil {
			perMonth[i] = map[int64]bool{}
		}
		perMonth[i][sh.UserID] = true
	}
	st.ActiveVolunteers = len(active)
	for i, m := range perMonth {
		st.VolunteersPerMonth[i].Count = len(m)
	}

	var published []time.Time
	err = store.Select(ctx, s.db, &published, `SELECT published_at FROM stories
		WHERE status = 'PUBLISHED' AND published_at >= ? AND published_at <= ?`, first.UTC(), now)
	if err != nil {
		return Stats{}, fmt.Errorf("published stories: %w", err)
	}
	st.StoriesPublished = months()
	for _, t := range published {
		if i := index(t); i >= 0 {
			st.StoriesPublished[i].Count++
		}
	}

	err = store.Get(ctx, s.db, &st.CampaignStoriesThisYear, `SELECT COUNT(*) FROM stories
		WHERE status = 'PUBLISHED' AND featured = TRUE AND published_at >= ? AND published_at <= ?`, yearStart.UTC(), now)
	if err != nil {
		return Stats{}, fmt.Errorf("campaign stories: %w", err)
	}
	err = store.Get(ctx, s.db, &st.MediaPickupsThisYear, `SELECT COUNT(*) FROM media_pickups
		WHERE picked_up_at >= ? AND picked_up_at <= ?`, yearStart.UTC(), now)
	if err != nil {
		return Stats{}, fmt.Errorf("media pickups: %w", err)
	}
	return st, nil
}
