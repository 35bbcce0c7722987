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
	"cmp"
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

// rankWindow is how many of the newest hits of each kind, in the title
// and in the text, a search ranks by score. A word so common that it
// matches more lists the rest after them newest first: ranking every
// match of "cafe" among 100,000 activities would cost as many rows as
// there are matches, and a word that vague says little about which of
// them is meant.
const rankWindow = 50

// Search returns up to q.Limit hits for q.Text, best first: things whose
// title has every word before those that have them only in the text;
// within each, the newest rankWindow hits of each kind by score (the
// database's SearchMatch), then the rest of each kind newest first; ties
// by kind and id, so paging is stable. Each kind reads at most
// rankWindow + q.Offset + q.Limit + 1 rows of titles and as many of
// texts, newest first from the index, however many rows match.
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
	// Title hits come first, so the text is read only when the titles
	// hold fewer hits than this page goes down to; then no kind has more
	// title hits than that to skip in its text, and the read stays
	// bounded however common the word.
	need := q.Offset + q.Limit + 1
	var rows []row
	for _, t := range []tier{tierTitle, tierText, tierStem} {
		if len(rows) >= need {
			break
		}
		more, err := s.find(ctx, kinds, words, t, rankWindow+need)
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, more...)
	}
	rows = rank(rows)
	rows = rows[min(q.Offset, len(rows)):]
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
		h.InTitle = r.Tier == tierTitle
		h.Position = q.Offset + i + 1
		hits = append(hits, h)
	}
	return hits, hasMore, nil
}

// A tier is one way hits are found, in the order they are listed.
type tier int

const (
	tierStem  tier = iota // another form of a word (PostgreSQL's Danish stemmer) found in the text
	tierText              // every word in the text, not all in the title
	tierTitle             // every word in the title
)

// find reads up to n of the newest hits of each kind among kinds found
// by tier t.
func (s *Service) find(ctx context.Context, kinds []Kind, words store.Search, t tier, n int) ([]row, error) {
	now := s.now()
	var parts []string
	var args []any
	for _, k := range Kinds {
		if !slices.Contains(kinds, k) {
			continue
		}
		a := arms[k]
		m := s.db.SearchMatch(a.table, a.alias, words)
		tier, not, notArgs := m.Title, "", []any(nil)
		switch t {
		case tierText:
			tier, not, notArgs = m.Text, ` AND NOT (`+m.InTitle+`)`, m.InTitleArgs
		case tierStem:
			if m.Stem == nil {
				return nil, nil
			}
			tier = *m.Stem
		}
		parts = append(parts, `SELECT * FROM (SELECT '`+string(a.kind)+`' AS kind, `+a.alias+`.id AS id, `+fmt.Sprint(int(t))+` AS tier, `+m.Score+` AS score
			FROM `+a.table+` `+a.alias+` `+tier.Join+`
			WHERE `+a.where+` AND `+tier.Where+not+`
			ORDER BY `+tier.Key+` DESC LIMIT ?) `+strings.ToLower(string(k)))
		args = append(args, m.ScoreArgs...)
		if a.whereArgs != nil {
			args = append(args, a.whereArgs(now)...)
		}
		args = append(args, tier.Args...)
		args = append(args, notArgs...)
		args = append(args, n)
	}
	var rows []row
	if err := store.Select(ctx, s.db, &rows, strings.Join(parts, "\nUNION ALL\n"), args...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return rows, nil
}

type row struct {
	Kind   Kind    `db:"kind"`
	ID     int64   `db:"id"`
	Tier   tier    `db:"tier"`
	Score  float64 `db:"score"`
	ranked bool
}

// rank orders the rows the search read: title hits first, then text
// hits, then other forms of the words; within each, the
// newest rankWindow of each kind and tier by score; then the rest by kind,
// newest first. The order depends on the rows alone, never on how deep
// the page is, so pages follow on from each other.
func rank(rows []row) []row {
	// Each kind and tier newest first, to find its newest rankWindow.
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), cmp.Compare(a.Tier, b.Tier), cmp.Compare(b.ID, a.ID))
	})
	for i := range rows {
		rows[i].ranked = i < rankWindow || rows[i].Kind != rows[i-rankWindow].Kind || rows[i].Tier != rows[i-rankWindow].Tier
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.Tier != b.Tier:
			return cmp.Compare(b.Tier, a.Tier)
		case a.ranked != b.ranked:
			if a.ranked {
				return -1
			}
			return 1
		case a.ranked && a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case a.Kind != b.Kind:
			return strings.Compare(string(a.Kind), string(b.Kind))
		case a.ranked:
			return cmp.Compare(a.ID, b.ID)
		default:
			return cmp.Compare(b.ID, a.ID)
		}
	})
	return rows
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
