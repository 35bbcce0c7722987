// Package demo loads a small, living Ishøj into an empty database: the
// associations and initiatives from the municipality's own plans, the
// places they meet, invented residents who volunteer, and a season of
// activities, shifts and stories around the day the server starts. It is
// for trying the app out and for the README walk-through, never for
// production.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
)

// Accounts the README walk-through signs in as. In local auth mode a token
// for "local:<e-mail>" resolves to them.
const (
	SecretariatEmail = "sekretariat@ishoj.example"
	OrganiserEmail   = "mette@ishoj.example"
	VolunteerEmail   = "anna@ishoj.example"
)

// Empty reports whether the database holds no organisations yet, which is
// how the server tells a fresh installation from one in use.
func Empty(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM organisations`); err != nil {
		return false, fmt.Errorf("count organisations: %w", err)
	}
	return n == 0, nil
}

// Load inserts the demo data in one transaction, with activities and
// shifts placed in the weeks around now. It does not expand occurrences;
// the activity package does that from starts_at and recurrence.
func Load(ctx context.Context, db *store.DB, now time.Time) error {
	loc := tz.Copenhagen
	now = now.UTC().Truncate(time.Second)
	return db.Transact(ctx, func(tx *sqlx.Tx) error {
		l := &loader{
			ctx:        ctx,
			tx:         tx,
			now:        now,
			cal:        calendar{now: now, loc: loc},
			orgs:       map[string]int64{},
			places:     map[string]int64{},
			users:      map[string]int64{},
			activities: map[string]activityRow{},
			quals:      map[string]bool{},
			booked:     map[string][]span{},
		}
		steps := []struct {
			name string
			fn   func() error
		}{
			{"users", l.loadUsers},
			{"places", l.loadPlaces},
			{"organisations", l.loadOrganisations},
			{"qualifications", l.loadQualifications},
			{"activities", l.loadActivities},
			{"volunteer slots", l.loadSlots},
			{"participations", l.loadParticipations},
			{"stories", l.loadStories},
		}
		for _, s := range steps {
			if err := s.fn(); err != nil {
				return fmt.Errorf("demo %s: %w", s.name, err)
			}
		}
		return nil
	})
}

// loader carries the ids handed out by RETURNING id so later rows can
// refer to earlier ones by a readable key.
type loader struct {
	ctx context.Context
	tx  *sqlx.Tx
	now time.Time
	cal calendar

	orgs       map[string]int64 // by name
	places     map[string]int64 // by name
	users      map[string]int64 // by key (e-mail, or name for people without the app)
	activities map[string]activityRow
	quals      map[string]bool // user key + "|" + requirement + "|" + organisation
	booked     map[string][]span
	claimSeq   int
}

type activityRow struct {
	id       int64
	startsAt time.Time
	endsAt   time.Time
	rule     string
	orgKey   string
}

type span struct{ start, end time.Time }

// link is a channel link on an organisation, activity or story.
type link struct {
	kind, url, label string
}

func (l *loader) insertLinks(column string, id int64, links []link) error {
	// column is one of three constants chosen by the caller, never input.
	for i, k := range links {
		_, err := store.Exec(l.ctx, l.tx, `INSERT INTO channel_links (`+column+`, kind, url, label, position)
			VALUES (?, ?, ?, ?, ?)`, id, k.kind, k.url, k.label, i)
		if err != nil {
			return fmt.Errorf("link %s: %w", k.url, err)
		}
	}
	return nil
}

func (l *loader) insertThemes(table, column string, id int64, themes []string) error {
	for _, t := range themes {
		_, err := store.Exec(l.ctx, l.tx, `INSERT INTO `+table+` (`+column+`, theme) VALUES (?, ?)`, id, t)
		if err != nil {
			return fmt.Errorf("theme %s: %w", t, err)
		}
	}
	return nil
}

func (l *loader) user(key string) (int64, error) {
	id, ok := l.users[key]
	if !ok {
		return 0, fmt.Errorf("unknown demo user %q", key)
	}
	return id, nil
}
