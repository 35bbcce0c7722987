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
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// Ref names an object removed from the phone.
type Ref struct {
	Kind changelog.Kind
	ID   int64
}

// Page is one answer of a sync: the objects changed (or, in a first sync,
// all of them), the ones to remove, and the token to ask with next. More
// says the sync is not finished: ask again at once with Token. Themes is
// the whole vocabulary when it changed (always in a first sync), else nil.
type Page struct {
	Activities    []activity.Activity
	Stories       []story.Story
	Slots         []volunteer.Slot
	Claims        []volunteer.Claim
	Organisations []organisation.Organisation
	Places        []place.Place
	Themes        []theme.Theme
	Follows       []notify.Follow
	Notifications []notify.Notification
	Removed       []Ref
	Token         string
	More          bool
}

// size is how many objects the page holds against its limit; the theme
// vocabulary, a dozen names, does not count.
func (p *Page) size() int {
	return len(p.Activities) + len(p.Stories) + len(p.Slots) + len(p.Claims) + len(p.Organisations) +
		len(p.Places) + len(p.Follows) + len(p.Notifications) + len(p.Removed)
}

// Owners are the packages whose objects phones keep; every read goes
// through them, with the caller.
type Owners struct {
	Activities    *activity.Service
	Stories       *story.Service
	Volunteers    *volunteer.Service
	Organisations *organisation.Service
	Places        *place.Service
	Themes        *theme.Service
	Notify        *notify.Service
}

// Service answers syncs.
type Service struct {
	db  *store.DB
	o   Owners
	now func() time.Time
}

// NewService returns a Service reading through the owners given.
func NewService(db *store.DB, owners Owners, now func() time.Time) *Service {
	return &Service{db: db, o: owners, now: now}
}

// kinds are the kinds a first sync lists, in this order; a token's Kind
// is an index into it.
var kinds = []changelog.Kind{changelog.Activity, changelog.Story, changelog.Slot, changelog.Claim,
	changelog.Organisation, changelog.Place, changelog.Theme, changelog.Follow, changelog.Notification}

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
		room := limit - page.size()
		if room <= 0 {
			break
		}
		next, err := s.list(ctx, c, &page, kinds[p.Kind], p.AfterID, room)
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

// list adds to page up to limit objects of kind with ids after afterID and
// returns the id to go on after, 0 when the kind is done.
func (s *Service) list(ctx context.Context, c user.Caller, page *Page, kind changelog.Kind, afterID int64, limit int) (int64, error) {
	var next int64
	var err error
	switch kind {
	case changelog.Activity:
		var as []activity.Activity
		as, next, err = s.o.Activities.ForSync(ctx, c, afterID, limit)
		page.Activities = append(page.Activities, as...)
	case changelog.Story:
		var sts []story.Story
		sts, next, err = s.o.Stories.ForSync(ctx, c, afterID, limit)
		page.Stories = append(page.Stories, sts...)
	case changelog.Slot:
		var sls []volunteer.Slot
		sls, next, err = s.o.Volunteers.SlotsForSync(ctx, c, afterID, limit)
		page.Slots = append(page.Slots, sls...)
	case changelog.Claim:
		var cls []volunteer.Claim
		cls, next, err = s.o.Volunteers.ClaimsForSync(ctx, c, afterID, limit)
		page.Claims = append(page.Claims, cls...)
	case changelog.Organisation:
		var os []organisation.Organisation
		os, next, err = s.o.Organisations.ForSync(ctx, c, afterID, limit)
		page.Organisations = append(page.Organisations, os...)
	case changelog.Place:
		var ps []place.Place
		ps, next, err = s.o.Places.ForSync(ctx, c, afterID, limit)
		page.Places = append(page.Places, ps...)
	case changelog.Theme:
		page.Themes, err = s.o.Themes.All(ctx)
	case changelog.Follow:
		var fs []notify.Follow
		fs, next, err = s.o.Notify.FollowsForSync(ctx, c, afterID, limit)
		page.Follows = append(page.Follows, fs...)
	case changelog.Notification:
		var ns []notify.Notification
		ns, next, err = s.o.Notify.NotificationsForSync(ctx, c, afterID, limit)
		page.Notifications = append(page.Notifications, ns...)
	}
	return next, err
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
	// A visitor has nothing personal; person 0 is nobody.
	var person int64
	if c.SignedIn() {
		person = c.UserID
	}
	changes, err := changelog.Read(ctx, s.db, person, p.From, p.To, p.AfterTx, p.AfterSeq, limit)
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
	kept, err := s.fetch(ctx, c, &page, ids)
	if err != nil {
		return Page{}, err
	}
	for _, ch := range changes {
		r := Ref{ch.Kind, ch.ObjectID}
		if ch.Kind != changelog.Theme && !kept[r] && seen[r] {
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

// fetch adds to page the objects with ids, by kind, as c may see them and
// if phones keep them, and returns those it added.
func (s *Service) fetch(ctx context.Context, c user.Caller, page *Page, ids map[changelog.Kind][]int64) (map[Ref]bool, error) {
	kept := map[Ref]bool{}
	keep := func(kind changelog.Kind, id int64) { kept[Ref{kind, id}] = true }
	as, err := s.o.Activities.ByIDs(ctx, c, ids[changelog.Activity])
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		// Phones keep no drafts, not even their organisers'.
		if a.Status != activity.Draft {
			page.Activities = append(page.Activities, a)
			keep(changelog.Activity, a.ID)
		}
	}
	sts, err := s.o.Stories.ByIDs(ctx, c, ids[changelog.Story])
	if err != nil {
		return nil, err
	}
	for _, st := range sts {
		// Phones keep published stories; their authors see the others
		// in the app's own lists.
		if st.Status == story.Published {
			page.Stories = append(page.Stories, st)
			keep(changelog.Story, st.ID)
		}
	}
	if page.Slots, err = s.o.Volunteers.SyncedSlots(ctx, c, ids[changelog.Slot]); err != nil {
		return nil, err
	}
	for _, sl := range page.Slots {
		keep(changelog.Slot, sl.ID)
	}
	if page.Claims, err = s.o.Volunteers.SyncedClaims(ctx, c, ids[changelog.Claim]); err != nil {
		return nil, err
	}
	for _, cl := range page.Claims {
		keep(changelog.Claim, cl.ID)
	}
	if page.Organisations, err = s.o.Organisations.ByIDs(ctx, c, ids[changelog.Organisation]); err != nil {
		return nil, err
	}
	for _, o := range page.Organisations {
		keep(changelog.Organisation, o.ID)
	}
	if page.Places, err = s.o.Places.ByIDs(ctx, c, ids[changelog.Place]); err != nil {
		return nil, err
	}
	for _, pl := range page.Places {
		keep(changelog.Place, pl.ID)
	}
	if len(ids[changelog.Theme]) > 0 {
		if page.Themes, err = s.o.Themes.All(ctx); err != nil {
			return nil, err
		}
	}
	if page.Follows, err = s.o.Notify.FollowsByIDs(ctx, c, ids[changelog.Follow]); err != nil {
		return nil, err
	}
	for _, f := range page.Follows {
		keep(changelog.Follow, f.ID)
	}
	if page.Notifications, err = s.o.Notify.NotificationsByIDs(ctx, c, ids[changelog.Notification]); err != nil {
		return nil, err
	}
	for _, n := range page.Notifications {
		keep(changelog.Notification, n.ID)
	}
	return kept, nil
}

// Purge removes the change log older than tokens live and returns how
// many rows went; the housekeeping job runs it.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	return changelog.Purge(ctx, s.db, s.now())
}
