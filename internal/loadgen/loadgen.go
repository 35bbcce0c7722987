// Package loadgen fills a database with a realistic spread of
// organisations, places, activities, occurrences, volunteer slots and
// claims at a chosen scale, for load tests and benchmarks. Rows go in with
// multi-row INSERTs inside transactions: portable SQL that is still fast on
// both SQLite and PostgreSQL.
package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
)

// Scale says how much to generate.
type Scale struct {
	Activities    int
	Organisations int // default 50
	Places        int // default 30
	Users         int // default 2,000 volunteers who hold the seeded claims
	SlotShare     float64
	// RecurringShare is the share of activities with a weekly rule; the
	// server re-expands every recurring activity at start-up, so it is kept
	// small.
	RecurringShare float64
	// Stories are published stories (a tenth of them not published), for
	// the search scenario; none by default.
	Stories int
	Seed    uint64
}

func (s *Scale) defaults() {
	if s.Organisations == 0 {
		s.Organisations = 50
	}
	if s.Places == 0 {
		s.Places = 30
	}
	if s.Users == 0 {
		s.Users = 2000
	}
	if s.SlotShare == 0 {
		s.SlotShare = 0.2
	}
	if s.RecurringShare == 0 {
		s.RecurringShare = 0.01
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
}

// Counts reports what was inserted.
type Counts struct {
	Organisations, Places, Users, Activities, Occurrences, Themes, Slots, Claims, Stories int
}

func (c Counts) Rows() int {
	return c.Organisations + c.Places + c.Users + c.Activities + c.Occurrences + c.Themes + c.Slots + c.Claims + c.Stories
}

var themes = []string{"faellesskab", "kultur", "natur", "boern", "unge", "aeldre", "mad", "historie",
	"baeredygtighed", "sport", "demokrati", "kreativ", "havn"}

var kinds = []string{"ASSOCIATION", "ASSOCIATION", "ASSOCIATION", "INFORMAL_INITIATIVE", "COUNCIL", "MUNICIPALITY"}

var words = []string{"Strandrens", "Fællesspisning", "Lektiecafé", "Havedag", "Strikkeklub", "Løbetur",
	"Koncert", "Byvandring", "Repaircafé", "Brætspil", "Yoga", "Foredrag", "Loppemarked", "Madlavning"}

// storyWords make story titles; the bodies are a few sentences in the
// scripts Ishøj writes in, so search reads text of a realistic length.
var storyWords = []string{"Sommerfest", "Børnenes", "Fællesspisning", "Strandrensning", "Nabohjælp", "Lektiecafé",
	"Vejleåparken", "Havnen", "Bredekærgård", "Frivillige", "Koncert", "Kaffe", "Haven", "Ungerådet"}

var storyBodies = []string{
	"Vi mødtes i Glashuset og lavede mad sammen. Der kom over fyrre naboer, og børnene dækkede bord.",
	"Tak til alle frivillige, der hjalp ved stranden i lørdags. Vi samlede tolv sække affald.",
	"اجتمعنا في الحديقة وزرعنا الخضروات مع الأطفال. شكرا لكل المتطوعين.",
	"Pazar günü limanda kahve ve kek vardı. Herkes çok memnundu, tekrar yapacağız.",
	"ہم نے لائبریری میں ہوم ورک کیفے میں بچوں کی مدد کی۔ اگلے ہفتے پھر آئیں۔",
}

// Seed fills an empty, migrated database. Ids are chosen here so that rows
// can refer to each other without reading back; on PostgreSQL the identity
// sequences are moved past them afterwards so the server's own inserts go on.
func Seed(ctx context.Context, db *store.DB, sc Scale, now time.Time) (Counts, error) {
	sc.defaults()
	var n int
	if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM activities`); err != nil {
		return Counts{}, fmt.Errorf("count activities: %w", err)
	}
	if n > 0 {
		return Counts{}, fmt.Errorf("database already holds %d activities; seed an empty one", n)
	}
	r := rand.New(rand.NewPCG(sc.Seed, 42))
	now = now.UTC().Truncate(time.Second)
	var c Counts
	b := &batcher{ctx: ctx, db: db}

	for i := 1; i <= sc.Organisations; i++ {
		name, description := fmt.Sprintf("Forening %03d", i), "En forening i Ishøj."
		b.add(`INSERT INTO organisations (id, name, kind, description, search_title, search_text, created_at, updated_at) VALUES `,
			i, name, kinds[r.IntN(len(kinds))], description, store.SearchText(name), organisation.SearchText(name, description), now, now)
	}
	c.Organisations = sc.Organisations
	for i := 1; i <= sc.Places; i++ {
		name, address := fmt.Sprintf("Sted %02d", i), fmt.Sprintf("Ishøj Byvej %d, 2635 Ishøj", i)
		b.add(`INSERT INTO places (id, name, address, description, latitude, longitude, search_title, search_text, created_at) VALUES `,
			i, name, address, "", 55.61+r.Float64()*0.03, 12.33+r.Float64()*0.05,
			store.SearchText(name), place.SearchText(name, address, ""), now)
	}
	c.Places = sc.Places
	for i := 1; i <= sc.Users; i++ {
		b.add(`INSERT INTO users (id, firebase_uid, email, email_verified, display_name, created_at, updated_at) VALUES `,
			i, fmt.Sprintf("load:%d", i), fmt.Sprintf("load%d@example.org", i), true, fmt.Sprintf("Frivillig %d", i), now, now)
	}
	c.Users = sc.Users
	if err := b.flush(); err != nil {
		return c, err
	}

	slotID, claimID := 0, 0
	for id := 1; id <= sc.Activities; id++ {
		// Spread over a year: a tenth already past, the rest upcoming.
		start := now.Add(time.Duration(r.IntN(400*24)-35*24) * time.Hour).Truncate(15 * time.Minute)
		dur := time.Duration(1+r.IntN(4)) * time.Hour
		status := "PUBLISHED"
		if r.IntN(20) == 0 {
			status = "DRAFT"
		}
		var rule *string
		occ := 1
		if r.Float64() < sc.RecurringShare {
			s := "FREQ=WEEKLY;COUNT=12"
			rule, occ = &s, 12
		}
		var place *int
		if r.IntN(10) != 0 {
			p := 1 + r.IntN(sc.Places)
			place = &p
		}
		title, description := fmt.Sprintf("%s %d", words[r.IntN(len(words))], id), "Kom og vær med."
		b.add(`INSERT INTO activities (id, organisation_id, place_id, title, description, search_title, search_text, starts_at, ends_at,
			recurrence, status, created_at, updated_at, published_at) VALUES `,
			id, 1+r.IntN(sc.Organisations), place, title, description, store.SearchText(title), activity.SearchText(title, description),
			start, start.Add(dur), rule, status, now, now, now)
		for k := 0; k < occ; k++ {
			s := start.AddDate(0, 0, 7*k)
			b.add(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES `, id, s, s.Add(dur))
		}
		c.Activities++
		c.Occurrences += occ
		t1 := r.IntN(len(themes))
		b.add(`INSERT INTO activity_themes (activity_id, theme) VALUES `, id, themes[t1])
		c.Themes++
		if r.IntN(2) == 0 {
			b.add(`INSERT INTO activity_themes (activity_id, theme) VALUES `, id, themes[(t1+1+r.IntN(len(themes)-1))%len(themes)])
			c.Themes++
		}
		if r.Float64() < sc.SlotShare {
			slots := 1 + r.IntN(3)
			for k := 0; k < slots; k++ {
				slotID++
				capacity := 2 + r.IntN(14)
				taken := r.IntN(capacity + 1)
				ss := start.Add(time.Duration(k) * 30 * time.Minute)
				b.add(`INSERT INTO volunteer_slots (id, activity_id, title, description, starts_at, ends_at, capacity, taken, created_at) VALUES `,
					slotID, id, fmt.Sprintf("Hjælper %d", k+1), "", ss, ss.Add(dur), capacity, taken, now)
				first := r.IntN(sc.Users)
				for j := 0; j < taken; j++ {
					claimID++
					b.add(`INSERT INTO slot_claims (id, slot_id, user_id, status, created_at, confirmed_at) VALUES `,
						claimID, slotID, 1+(first+j)%sc.Users, "CONFIRMED", now, now)
				}
				c.Slots++
				c.Claims += taken
			}
		}
		if b.pending() > 20000 {
			if err := b.flush(); err != nil {
				return c, err
			}
		}
	}
	for id := 1; id <= sc.Stories; id++ {
		title := fmt.Sprintf("%s %d", storyWords[r.IntN(len(storyWords))], id)
		body := storyBodies[r.IntN(len(storyBodies))] + " " + storyBodies[r.IntN(len(storyBodies))]
		author := 1 + r.IntN(sc.Users)
		name := fmt.Sprintf("Frivillig %d", author)
		status, published := "PUBLISHED", any(now.Add(-time.Duration(r.IntN(365*24))*time.Hour))
		if r.IntN(10) == 0 {
			status, published = "PENDING_REVIEW", nil
		}
		b.add(`INSERT INTO stories (id, author_id, author_name, title, body, search_title, search_text, status, created_at, updated_at, published_at) VALUES `,
			id, author, name, title, body, store.SearchText(title), story.SearchText(title, body, name), status, now, now, published)
		c.Stories++
		if b.pending() > 20000 {
			if err := b.flush(); err != nil {
				return c, err
			}
		}
	}
	if err := b.flush(); err != nil {
		return c, err
	}
	if err := db.MoveIDSequences(ctx, "organisations", "places", "users", "activities", "volunteer_slots", "slot_claims", "stories"); err != nil {
		return c, err
	}
	if err := db.AfterBulkLoad(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// batcher gathers rows per INSERT statement and writes them as multi-row
// INSERTs, all of one flush in a single transaction. Tables are flushed in
// the order they were first used, so foreign keys are satisfied.
type batcher struct {
	ctx   context.Context
	db    *store.DB
	order []string
	rows  map[string][][]any
	n     int
}

func (b *batcher) add(prefix string, vals ...any) {
	if b.rows == nil {
		b.rows = map[string][][]any{}
	}
	if _, ok := b.rows[prefix]; !ok {
		b.order = append(b.order, prefix)
	}
	b.rows[prefix] = append(b.rows[prefix], vals)
	b.n++
}

func (b *batcher) pending() int { return b.n }

// maxParams stays under SQLite's 32,766 and PostgreSQL's 65,535 bind
// parameters per statement.
const maxParams = 30000

func (b *batcher) flush() error {
	err := b.db.Transact(b.ctx, func(tx *sqlx.Tx) error {
		for _, prefix := range b.order {
			rows := b.rows[prefix]
			width := len(rows[0])
			per := maxParams / width
			for len(rows) > 0 {
				chunk := rows[:min(per, len(rows))]
				rows = rows[len(chunk):]
				var sb strings.Builder
				sb.WriteString(prefix)
				args := make([]any, 0, len(chunk)*width)
				tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
				for i, row := range chunk {
					if i > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString(tuple)
					args = append(args, row...)
				}
				if _, err := store.Exec(b.ctx, tx, sb.String(), args...); err != nil {
					return fmt.Errorf("bulk insert %.40s…: %w", prefix, err)
				}
			}
		}
		return nil
	})
	b.order, b.rows, b.n = nil, nil, 0
	return err
}
