// Package offline is the app's delta sync: what a phone keeps offline,
// and what changed in it since the phone last asked. A first sync lists
// everything; later ones read the change log (internal/changelog) and
// fetch each changed object from its owner, as the caller may see it. An
// object the caller can no longer see, or that left what phones keep (an
// activity back to draft, a story hidden or deleted), comes back as
// removed. Who may see what is never decided here: every object comes
// through its owner's read that takes the caller (ByIDs, ForSync).
package offline

import (
	"context"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
)

// Ref names an object removed from the phone.
type Ref struct {
	Kind changelog.Kind
	ID   int64
}

// Page is one answer of a sync: the objects changed (or, in a first sync,
// all of them), the ones to remove, and the token to ask with next. More
// says the sync is not finished: ask again at once with Token.
type Page struct {
	Activities []activity.Activity
	Stories    []story.Story
	Removed    []Ref
	Token      string
	More       bool
}

// Service answers syncs.
type Service struct {
	db         *store.DB
	activities *activity.Service
	stories    *story.Service
	now        func() time.Time
}

// NewService returns a Service reading through the owners given.
func NewService(db *store.DB, activities *activity.Service, stories *story.Service, now func() time.Time) *Service {
	return &Service{db: db, activities: activities, stories: stories, now: now}
}

// kinds are the kinds a first sync lists, in this order; a token's Kind
// is an index into it, so new kinds go at the end.
var kinds = []changelog.Kind{changelog.Activity, changelog.Story}

// Sync returns the page after token (empty: a first sync) of at most
// limit objects for c.
func (s *Service) Sync(ctx context.Context, c user.Caller, token string, limit int) (Page, error) {
	var p position
	if token == "" {
		h, err := changelog.Horizon(ctx, s.db)
		if err != nil {
			return Page{}, err
		}
		// The horizon is read before the listing, so what changes while
		// it runs comes again in the next sync rather than not at all.
		p = position{Full: true, To: h, ToAt: s.now()}
	} else {
		var err error
		if p, err = decode(token); err != nil {
			return Page{}, err
		}
		// A sync is as old as the log position it started from.
		since := p.FromAt
		if p.Full {
			since = p.ToAt
		}
		if since.Before(s.now().Add(-changelog.Retention)) {
			return Page{}, errExpiredToken
		}
	}
	if p.Full {
		return s.full(ctx, c, p, limit)
	}
	return s.delta(ctx, c, p, limit)
}

// full lists what phones keep, a kind at a time, by id.
func (s *Service) full(ctx context.Context, c user.Caller, p position, limit int) (Page, error) {
	var page Page
	for p.Kind < len(kinds) {
		room := limit - len(page.Activities) - len(page.Stories)
		if room <= 0 {
			break
		}
		var next int64
		var err error
		switch kinds[p.Kind] {
		case changelog.Activity:
			var as []activity.Activity
			as, next, err = s.activities.ForSync(ctx, c, p.AfterID, room)
			page.Activities = append(page.Activities, as...)
		case changelog.Story:
			var sts []story.Story
			sts, next, err = s.stories.ForSync(ctx, c, p.AfterID, room)
			page.Stories = append(page.Stories, sts...)
		}
		if err != nil {
			return Page{}, err
		}
		if next != 0 {
			p.AfterID = next
			break
		}
		p.Kind, p.AfterID = p.Kind+1, 0
	}
	if p.Kind < len(kinds) {
		page.Token, page.More = p.encode(), true
		return page, nil
	}
	page.Token = position{From: p.To, FromAt: p.ToAt}.encode()
	return page, nil
}

// delta reads the change log from the token's position up to a horizon
// read now (or the one the sync in progress runs to), and each changed
// object from its owner.
func (s *Service) delta(ctx context.Context, c user.Caller, p position, limit int) (Page, error) {
	if p.To == 0 {
		h, err := changelog.Horizon(ctx, s.db)
		if err != nil {
			return Page{}, err
		}
		p.To, p.ToAt = h, s.now()
	}
	changes, err := changelog.Read(ctx, s.db, p.From, p.To, p.AfterTx, p.AfterSeq, limit)
	if err != nil {
		return Page{}, err
	}
	ids := map[changelog.Kind][]int64{}
	seen := map[Ref]bool{}
	for _, ch := range changes {
		if r := (Ref{ch.Kind, ch.ObjectID}); !seen[r] {
			seen[r] = true
			ids[ch.Kind] = append(ids[ch.Kind], ch.ObjectID)
		}
	}
	var page Page
	kept := map[Ref]bool{}
	as, err := s.activities.ByIDs(ctx, c, ids[changelog.Activity])
	if err != nil {
		return Page{}, err
	}
	for _, a := range as {
		// Phones keep no drafts, not even their organisers'.
		if a.Status != activity.Draft {
			page.Activities = append(page.Activities, a)
			kept[Ref{changelog.Activity, a.ID}] = true
		}
	}
	sts, err := s.stories.ByIDs(ctx, c, ids[changelog.Story])
	if err != nil {
		return Page{}, err
	}
	for _, st := range sts {
		// Phones keep published stories; their authors see the others
		// in the app's own lists.
		if st.Status == story.Published {
			page.Stories = append(page.Stories, st)
			kept[Ref{changelog.Story, st.ID}] = true
		}
	}
	for _, ch := range changes {
		r := Ref{ch.Kind, ch.ObjectID}
		if !kept[r] && seen[r] {
			page.Removed = append(page.Removed, r)
			seen[r] = false
		}
	}
	if len(changes) == limit {
		last := changes[len(changes)-1]
		p.AfterTx, p.AfterSeq = last.Tx, last.Seq
		page.Token, page.More = p.encode(), true
		return page, nil
	}
	page.Token = position{From: p.To, FromAt: p.ToAt}.encode()
	return page, nil
}

// Purge removes the change log older than tokens live and returns how
// many rows went; the housekeeping job runs it.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	return changelog.Purge(ctx, s.db, s.now())
}
