// Package search finds what people type across the kinds of things the
// app shows: activities with upcoming occurrences, organisations, places,
// published stories and open initiatives, in one ranked list.
//
// It writes nothing. The text it matches is folded and indexed by the
// packages that own each table (store.SearchText, migration 00015); the
// SQL of each database is store's (SearchMatch). The hits it returns come
// from each kind's own reads that take the caller, so a search never shows
// what the caller could not open.
package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
)

// Kind is the kind of thing a hit is.
type Kind string

const (
	KindActivity     Kind = "ACTIVITY"
	KindOrganisation Kind = "ORGANISATION"
	KindPlace        Kind = "PLACE"
	KindStory        Kind = "STORY"
	KindInitiative   Kind = "INITIATIVE"
)

// Kinds are every kind, in the order hits of equal rank are listed.
var Kinds = []Kind{KindActivity, KindOrganisation, KindPlace, KindStory, KindInitiative}

// Limits of a query.
const (
	MaxQueryLength = 200
	// MaxOffset bounds how deep one may page: past it a search is too
	// vague to be worth ranking further.
	MaxOffset = 1000
)

// Codes of the user errors a search gives.
const (
	CodeSearchEmpty    = "SEARCH_EMPTY"
	CodeSearchTooLong  = "SEARCH_TOO_LONG"
	CodeSearchTooDeep  = "SEARCH_TOO_DEEP"
	CodeSearchTooWordy = "SEARCH_TOO_MANY_WORDS"
)

// Hit is one thing found. Exactly one of the pointers is set, as Kind
// says. InTitle is whether every word was found in its title or name;
// Position is the hit's place in the whole list, from 1, where the next
// page starts after (a hit the caller may not see leaves a gap).
type Hit struct {
	Kind         Kind
	InTitle      bool
	Position     int
	Activity     *activity.Activity
	Organisation *organisation.Organisation
	Place        *place.Place
	Story        *story.Story
	Initiative   *initiative.Initiative
}

// ID is the id of the thing hit, within its kind.
func (h Hit) ID() int64 {
	switch {
	case h.Activity != nil:
		return h.Activity.ID
	case h.Organisation != nil:
		return h.Organisation.ID
	case h.Place != nil:
		return h.Place.ID
	case h.Story != nil:
		return h.Story.ID
	case h.Initiative != nil:
		return h.Initiative.ID
	}
	return 0
}

// Service searches.
type Service struct {
	db            *store.DB
	activities    *activity.Service
	organisations *organisation.Service
	places        *place.Service
	stories       *story.Service
	initiatives   *initiative.Service
	now           func() time.Time
}

// NewService returns a Service that reads hits through the given services.
func NewService(db *store.DB, activities *activity.Service, organisations *organisation.Service, places *place.Service,
	stories *story.Service, initiatives *initiative.Service, now func() time.Time) *Service {
	return &Service{db: db, activities: activities, organisations: organisations, places: places,
		stories: stories, initiatives: initiatives, now: now}
}

// Query is a search as asked.
type Query struct {
	Text string
	// Kinds narrows the search; empty is every kind.
	Kinds []Kind
	// Offset is how many hits to skip (paging), Limit how many to return.
	Offset, Limit int
}

// Parse checks q as typed and returns its words, or the user error that
// says what is wrong, on field.
func Parse(text string, field ...string) (store.Search, error) {
	if len([]rune(text)) > MaxQueryLength {
		return store.Search{}, apperr.New(CodeSearchTooLong, field...).With("Max", MaxQueryLength)
	}
	s := store.ParseSearch(text)
	if s.Empty() {
		return store.Search{}, apperr.New(CodeSearchEmpty, field...)
	}
	if len(s.Words) > store.MaxSearchWords {
		return store.Search{}, apperr.New(CodeSearchTooWordy, field...).With("Max", store.MaxSearchWords)
	}
	return s, nil
}

type arm struct {
	kind  Kind
	table string
	alias string
	// where is what makes a row of the kind public: the search lists only
	// what anybody may see, then reads each hit as the caller.
	where     string
	whereArgs func(now time.Time) []any
}

var arms = map[Kind]arm{
	KindActivity: {KindActivity, "activities", "a",
		`a.status = 'PUBLISHED' AND EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = a.id AND o.ends_at > ?)`,
		func(now time.Time) []any { return []any{now} }},
	KindOrganisation: {KindOrganisation, "organisations", "g", "1 = 1", nil},
	KindPlace:        {KindPlace, "places", "p", "1 = 1", nil},
	KindStory:        {KindStory, "stories", "s", "s.status = 'PUBLISHED'", nil},
	KindInitiative: {KindInitiative, "initiatives", "i",
		"i.hidden = FALSE AND i.status IN ('PROPOSED', 'ACTIVE')", nil},
}

// Search returns up to q.Limit hits for q.Text, best first: things whose
// title has every word before those that have them only in the text, then
// by the database's rank, then by kind and id, so paging is stable.
// Activities are those with an occurrence still to end, stories the
// published ones, initiatives the open ones (proposed or active, not
// hidden). hasMore says whether there are hits after these.
func (s *Service) Search(ctx context.Context, c user.Caller, q Query) (hits []Hit, hasMore bool, err error) {
	words, err := Parse(q.Text, "query")
	if err != nil {
		return nil, false, err
	}
	if q.Offset < 0 || q.Offset > MaxOffset {
		return nil, false, apperr.New(CodeSearchTooDeep, "after").With("Max", MaxOffset)
	}
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = Kinds
	}
	now := s.now()
	var parts []string
	var args []any
	for _, k := range Kinds {
		if !slices.Contains(kinds, k) {
			continue
		}
		a := arms[k]
		m := s.db.SearchMatch(a.table, a.alias, words)
		parts = append(parts, `SELECT '`+string(a.kind)+`' AS kind, `+a.alias+`.id AS id, `+m.Title+` AS in_title, `+m.Score+` AS score
			FROM `+a.table+` `+a.alias+` `+m.Join+`
			WHERE `+a.where+` AND `+m.Where)
		args = append(args, m.TitleArgs...)
		args = append(args, m.ScoreArgs...)
		args = append(args, m.JoinArgs...)
		if a.whereArgs != nil {
			args = append(args, a.whereArgs(now)...)
		}
		args = append(args, m.WhereArgs...)
	}
	query := `SELECT kind, id, in_title FROM (` + strings.Join(parts, "\nUNION ALL\n") + `) hits
		ORDER BY in_title DESC, score DESC, kind, id LIMIT ? OFFSET ?`
	args = append(args, q.Limit+1, q.Offset)
	var rows []struct {
		Kind    Kind  `db:"kind"`
		ID      int64 `db:"id"`
		InTitle int   `db:"in_title"`
	}
	if err := store.Select(ctx, s.db, &rows, query, args...); err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	if len(rows) > q.Limit {
		rows, hasMore = rows[:q.Limit], true
	}
	ids := map[Kind][]int64{}
	for _, r := range rows {
		ids[r.Kind] = append(ids[r.Kind], r.ID)
	}
	found, err := s.read(ctx, c, ids)
	if err != nil {
		return nil, false, err
	}
	for i, r := range rows {
		h, ok := found[key{r.Kind, r.ID}]
		if !ok {
			continue // changed since the search read it, or not the caller's to see
		}
		h.InTitle = r.InTitle == 1
		h.Position = q.Offset + i + 1
		hits = append(hits, h)
	}
	return hits, hasMore, nil
}

type key struct {
	kind Kind
	id   int64
}

// read reads the hits through each kind's reads that take the caller.
func (s *Service) read(ctx context.Context, c user.Caller, ids map[Kind][]int64) (map[key]Hit, error) {
	out := map[key]Hit{}
	if len(ids[KindActivity]) > 0 {
		as, err := s.activities.ByIDs(ctx, c, ids[KindActivity])
		if err != nil {
			return nil, err
		}
		for i := range as {
			if as[i].Status == activity.Published {
				out[key{KindActivity, as[i].ID}] = Hit{Kind: KindActivity, Activity: &as[i]}
			}
		}
	}
	if len(ids[KindOrganisation]) > 0 {
		os, err := s.organisations.ByIDs(ctx, c, ids[KindOrganisation])
		if err != nil {
			return nil, err
		}
		for i := range os {
			out[key{KindOrganisation, os[i].ID}] = Hit{Kind: KindOrganisation, Organisation: &os[i]}
		}
	}
	if len(ids[KindPlace]) > 0 {
		ps, err := s.places.ByIDs(ctx, c, ids[KindPlace])
		if err != nil {
			return nil, err
		}
		for i := range ps {
			out[key{KindPlace, ps[i].ID}] = Hit{Kind: KindPlace, Place: &ps[i]}
		}
	}
	if len(ids[KindStory]) > 0 {
		sts, err := s.stories.ByIDs(ctx, c, ids[KindStory])
		if err != nil {
			return nil, err
		}
		for i := range sts {
			if sts[i].Status == story.Published {
				out[key{KindStory, sts[i].ID}] = Hit{Kind: KindStory, Story: &sts[i]}
			}
		}
	}
	if len(ids[KindInitiative]) > 0 {
		ins, err := s.initiatives.ByIDs(ctx, c, ids[KindInitiative])
		if err != nil {
			return nil, err
		}
		for i := range ins {
			if !ins[i].Hidden {
				out[key{KindInitiative, ins[i].ID}] = Hit{Kind: KindInitiative, Initiative: &ins[i]}
			}
		}
	}
	return out, nil
}
