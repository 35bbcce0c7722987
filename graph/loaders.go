package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// loaders batch the relations of one response into one query per relation,
// whatever the size of the page. Results are matched to keys by id.
//
// Every loader belongs to one caller, the response's: it reads through the
// domain's reads that take the caller, so what it holds is that caller's
// view, redacted, and is never served to anyone else. A key the caller may
// not see is not found (dataloadgen.ErrNotFound): a hidden object answers
// null, and so does a restricted field (roster, organisers, ...).
type loaders struct {
	// caller is whose view every loader holds; what primes them (the page
	// prefetch) reads as this caller too.
	caller user.Caller

	// Objects, as the caller may see them.
	activity       *dataloadgen.Loader[int64, activity.Activity]
	organisation   *dataloadgen.Loader[int64, organisation.Organisation]
	place          *dataloadgen.Loader[int64, place.Place]
	user           *dataloadgen.Loader[int64, user.User]
	story          *dataloadgen.Loader[int64, story.Story]
	call           *dataloadgen.Loader[int64, story.Call]
	initiative     *dataloadgen.Loader[int64, initiative.Initiative]
	slot           *dataloadgen.Loader[int64, volunteer.Slot]
	claim          *dataloadgen.Loader[int64, volunteer.Claim]
	notification   *dataloadgen.Loader[int64, notify.Notification]
	follow         *dataloadgen.Loader[int64, notify.Follow]
	announcement   *dataloadgen.Loader[int64, notify.Announcement]
	calendarSource *dataloadgen.Loader[int64, calimport.Source]
	invitation     *dataloadgen.Loader[int64, organisation.Invitation]
	participation  *dataloadgen.Loader[int64, participation.Participation]

	// Parts of objects the caller was given.
	activityThemes    *dataloadgen.Loader[int64, []string]
	storyThemes       *dataloadgen.Loader[int64, []string]
	activityLinks     *dataloadgen.Loader[int64, []link.Link]
	organisationLinks *dataloadgen.Loader[int64, []link.Link]
	storyLinks        *dataloadgen.Loader[int64, []link.Link]
	occurrences       *dataloadgen.Loader[occurrenceKey, []activity.Occurrence]
	activitySlots     *dataloadgen.Loader[int64, []volunteer.Slot]
	storyPhotos       *dataloadgen.Loader[int64, []story.Photo]
	origin            *dataloadgen.Loader[int64, calimport.Origin]
	storyReactions    *dataloadgen.Loader[int64, map[story.ReactionKind]int]
	initiativeThemes  *dataloadgen.Loader[int64, []string]
	memberCount       *dataloadgen.Loader[int64, int]
	// Public counts and settings of activities the caller was given.
	participationSettings *dataloadgen.Loader[int64, participation.Settings]
	headcount             *dataloadgen.Loader[participation.Occurrence, participation.Headcount]

	// Restricted fields: a key the caller may not see is not found.
	myClaim      *dataloadgen.Loader[int64, *volunteer.Claim]
	myReaction   *dataloadgen.Loader[int64, *story.ReactionKind]
	joinedByMe   *dataloadgen.Loader[int64, bool]
	roster       *dataloadgen.Loader[int64, []volunteer.Claim]
	organisers   *dataloadgen.Loader[int64, []int64]
	mediaPickups *dataloadgen.Loader[int64, []story.MediaPickup]
	// myParticipation: the caller's own; attendees: the activity's
	// organisers and the secretariat (others: not found, so null).
	myParticipation *dataloadgen.Loader[participation.Occurrence, *participation.Participation]
	attendees       *dataloadgen.Loader[participation.Occurrence, []participation.Participation]
	// announcementDelivery: the secretariat only.
	announcementDelivery *dataloadgen.Loader[int64, notify.DeliveryCounts]
}

// occurrenceKey asks for the occurrences of one activity in a window.
type occurrenceKey struct {
	ActivityID int64
	From       time.Time
	To         time.Time // zero: open-ended
	Limit      int
}

// defaultLoaderWait is how long a loader collects keys before it queries:
// long enough for the resolvers of a page to ask, short next to a query.
const defaultLoaderWait = 2 * time.Millisecond

func newLoaders(r *Resolver, c user.Caller) *loaders {
	wait := r.LoaderWait
	if wait == 0 {
		wait = defaultLoaderWait
	}
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(500)}
	d := r.Domain
	return &loaders{
		caller:         c,
		activity:       objects(c, d.Activities.ByIDs, func(a activity.Activity) int64 { return a.ID }, opts),
		organisation:   objects(c, d.Organisations.ByIDs, func(o organisation.Organisation) int64 { return o.ID }, opts),
		place:          objects(c, d.Places.ByIDs, func(p place.Place) int64 { return p.ID }, opts),
		user:           objects(c, d.Users.ByIDs, func(u user.User) int64 { return u.ID }, opts),
		story:          objects(c, d.Stories.ByIDs, func(s story.Story) int64 { return s.ID }, opts),
		call:           objects(c, d.Stories.CallsByIDs, func(s story.Call) int64 { return s.ID }, opts),
		initiative:     objects(c, d.Initiatives.ByIDs, func(in initiative.Initiative) int64 { return in.ID }, opts),
		slot:           objects(c, d.Volunteer.SlotsByIDs, func(s volunteer.Slot) int64 { return s.ID }, opts),
		claim:          objects(c, d.Volunteer.ClaimsByIDs, func(cl volunteer.Claim) int64 { return cl.ID }, opts),
		notification:   objects(c, d.Notify.NotificationsByIDs, func(n notify.Notification) int64 { return n.ID }, opts),
		follow:         objects(c, d.Notify.FollowsByIDs, func(f notify.Follow) int64 { return f.ID }, opts),
		announcement:   objects(c, d.Notify.AnnouncementsByIDs, func(a notify.Announcement) int64 { return a.ID }, opts),
		calendarSource: objects(c, d.CalendarImport.SourcesByIDs, func(s calimport.Source) int64 { return s.ID }, opts),
		invitation:     objects(c, d.Organisations.InvitationsByIDs, func(i organisation.Invitation) int64 { return i.ID }, opts),
		participation:  objects(c, d.Participation.ByIDs, func(p participation.Participation) int64 { return p.ID }, opts),

		activityThemes: dataloadgen.NewMappedLoader(grouped(d.Activities.ThemesByIDs), opts...),
		storyThemes:    dataloadgen.NewMappedLoader(grouped(d.Stories.ThemesByIDs), opts...),
		activityLinks: dataloadgen.NewMappedLoader(grouped(linksBy(d.Links.ByActivityIDs,
			func(l link.Link) *int64 { return l.ActivityID })), opts...),
		organisationLinks: dataloadgen.NewMappedLoader(grouped(linksBy(d.Links.ByOrganisationIDs,
			func(l link.Link) *int64 { return l.OrganisationID })), opts...),
		storyLinks: dataloadgen.NewMappedLoader(grouped(linksBy(d.Links.ByStoryIDs,
			func(l link.Link) *int64 { return l.StoryID })), opts...),
		occurrences: dataloadgen.NewMappedLoader(r.fetchOccurrences, opts...),
		activitySlots: dataloadgen.NewMappedLoader(grouped(func(ctx context.Context, ids []int64) (map[int64][]volunteer.Slot, error) {
			return r.fetchActivitySlots(ctx, c, ids)
		}), opts...),
		storyPhotos: dataloadgen.NewMappedLoader(grouped(func(ctx context.Context, ids []int64) (map[int64][]story.Photo, error) {
			return d.Stories.Photos(ctx, c, ids)
		}), opts...),
		origin: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]calimport.Origin, error) {
			m, err := d.CalendarImport.OriginsByActivityIDs(ctx, ids)
			if m == nil {
				m = map[int64]calimport.Origin{}
			}
			for _, id := range ids {
				if _, ok := m[id]; !ok {
					m[id] = calimport.Origin{ActivityID: id}
				}
			}
			return m, err
		}, opts...),
		storyReactions: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]map[story.ReactionKind]int, error) {
			m, err := d.Stories.ReactionCounts(ctx, ids)
			if err != nil {
				return nil, err
			}
			if m == nil {
				m = map[int64]map[story.ReactionKind]int{}
			}
			for _, id := range ids {
				if m[id] == nil {
					m[id] = map[story.ReactionKind]int{}
				}
			}
			return m, nil
		}, opts...),
		initiativeThemes: dataloadgen.NewMappedLoader(grouped(d.Initiatives.ThemesByIDs), opts...),
		memberCount: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]int, error) {
			m, err := d.Initiatives.MemberCounts(ctx, ids)
			return withDefault(m, ids, 0), err
		}, opts...),

		participationSettings: dataloadgen.NewMappedLoader(d.Participation.SettingsOf, opts...),
		headcount: dataloadgen.NewMappedLoader(func(ctx context.Context, occs []participation.Occurrence) (map[participation.Occurrence]participation.Headcount, error) {
			return d.Participation.Headcounts(ctx, occs)
		}, opts...),
		myParticipation: dataloadgen.NewMappedLoader(func(ctx context.Context, occs []participation.Occurrence) (map[participation.Occurrence]*participation.Participation, error) {
			mine, err := d.Participation.MineAt(ctx, c, occs)
			if err != nil {
				return nil, err
			}
			m := make(map[participation.Occurrence]*participation.Participation, len(occs))
			for _, o := range occs {
				m[o] = nil
				if p, ok := mine[o]; ok {
					m[o] = &p
				}
			}
			return m, nil
		}, opts...),
		attendees: dataloadgen.NewMappedLoader(func(ctx context.Context, occs []participation.Occurrence) (map[participation.Occurrence][]participation.Participation, error) {
			return d.Participation.Attendees(ctx, c, occs)
		}, opts...),

		myClaim: dataloadgen.NewMappedLoader(func(ctx context.Context, slotIDs []int64) (map[int64]*volunteer.Claim, error) {
			claims, err := d.Volunteer.MyClaims(ctx, c, slotIDs)
			if err != nil {
				return nil, err
			}
			m := make(map[int64]*volunteer.Claim, len(slotIDs))
			for _, id := range slotIDs {
				m[id] = nil
			}
			for i := range claims {
				m[claims[i].SlotID] = &claims[i]
			}
			return m, nil
		}, opts...),
		myReaction: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*story.ReactionKind, error) {
			m, err := d.Stories.MyReactions(ctx, c, ids)
			if err != nil {
				return nil, err
			}
			out := make(map[int64]*story.ReactionKind, len(ids))
			for _, id := range ids {
				if k, ok := m[id]; ok {
					out[id] = &k
				} else {
					out[id] = nil
				}
			}
			return out, nil
		}, opts...),
		joinedByMe: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]bool, error) {
			m, err := d.Initiatives.JoinedBy(ctx, c, ids)
			return withDefault(m, ids, false), err
		}, opts...),
		roster: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]volunteer.Claim, error) {
			return d.Volunteer.Rosters(ctx, c, ids)
		}, opts...),
		organisers: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]int64, error) {
			return d.Organisations.Organisers(ctx, c, ids)
		}, opts...),
		mediaPickups: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]story.MediaPickup, error) {
			return d.Stories.MediaPickups(ctx, c, ids)
		}, opts...),
		announcementDelivery: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]notify.DeliveryCounts, error) {
			return d.Notify.AnnouncementDeliveries(ctx, c, ids)
		}, opts...),
	}
}

// objects is a loader of the objects c may see, from a domain read that
// takes the caller; what it leaves out is not found.
func objects[T any](c user.Caller, fetch func(context.Context, user.Caller, []int64) ([]T, error), id func(T) int64,
	opts []dataloadgen.Option) *dataloadgen.Loader[int64, T] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]T, error) {
		items, err := fetch(ctx, c, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[int64]T, len(items))
		for _, it := range items {
			m[id(it)] = it
		}
		return m, nil
	}, opts...)
}

// withDefault gives every key m lacks the zero answer (no members, not
// joined) rather than "not found".
func withDefault[V any](m map[int64]V, ids []int64, zero V) map[int64]V {
	if m == nil {
		m = make(map[int64]V, len(ids))
	}
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			m[id] = zero
		}
	}
	return m
}

// grouped adapts a one-to-many fetch; a key with nothing gets an empty
// list, not "not found".
func grouped[T any](fetch func(context.Context, []int64) (map[int64][]T, error)) func(context.Context, []int64) (map[int64][]T, error) {
	return func(ctx context.Context, ids []int64) (map[int64][]T, error) {
		m, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = make(map[int64][]T, len(ids))
		}
		for _, id := range ids {
			if _, ok := m[id]; !ok {
				m[id] = []T{}
			}
		}
		return m, nil
	}
}

func linksBy(fetch func(context.Context, []int64) ([]link.Link, error), owner func(link.Link) *int64) func(context.Context, []int64) (map[int64][]link.Link, error) {
	return func(ctx context.Context, ids []int64) (map[int64][]link.Link, error) {
		links, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[int64][]link.Link, len(ids))
		for _, l := range links {
			if o := owner(l); o != nil {
				m[*o] = append(m[*o], l)
			}
		}
		return m, nil
	}
}

// fetchOccurrences runs one query per distinct window in the batch; a page
// of activities asks with one window, so that is one query.
func (r *Resolver) fetchOccurrences(ctx context.Context, keys []occurrenceKey) (map[occurrenceKey][]activity.Occurrence, error) {
	type window struct {
		From, To time.Time
		Limit    int
	}
	groups := map[window][]int64{}
	for _, k := range keys {
		w := window{k.From, k.To, k.Limit}
		groups[w] = append(groups[w], k.ActivityID)
	}
	out := make(map[occurrenceKey][]activity.Occurrence, len(keys))
	for w, ids := range groups {
		var to *time.Time
		if !w.To.IsZero() {
			to = &w.To
		}
		m, err := r.Domain.Activities.Occurrences(ctx, ids, w.From, to, w.Limit)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[occurrenceKey{id, w.From, w.To, w.Limit}] = m[id]
		}
	}
	return out, nil
}

func (r *Resolver) fetchActivitySlots(ctx context.Context, c user.Caller, ids []int64) (map[int64][]volunteer.Slot, error) {
	slots, err := r.Domain.Volunteer.SlotsByActivityIDs(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[int64][]volunteer.Slot, len(ids))
	for _, s := range slots {
		m[s.ActivityID] = append(m[s.ActivityID], s)
	}
	return m, nil
}

// load reads one object through a loader of the caller's: nil when the
// caller may not see it (or it does not exist).
func load[T any](ctx context.Context, l *dataloadgen.Loader[int64, T], id int64) (*T, error) {
	v, err := l.Load(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return &v, nil
}

// loadAll reads objects through a loader, in the order of ids, leaving out
// those the caller may not see.
func loadAll[T any](ctx context.Context, l *dataloadgen.Loader[int64, T], ids []int64) ([]T, error) {
	thunks := make([]func() (T, error), len(ids))
	for i, id := range ids {
		thunks[i] = l.LoadThunk(ctx, id)
	}
	out := make([]T, 0, len(ids))
	for _, thunk := range thunks {
		v, err := thunk()
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

type loadersKey struct{}

// loaderBox holds a response's loaders. A mutation starts them afresh
// after its write (forget), so its payload reads what the write left and
// nothing cached before it.
type loaderBox struct {
	mu    sync.Mutex
	l     *loaders
	fresh func() *loaders
}

func (b *loaderBox) get() *loaders {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.l == nil {
		b.l = b.fresh()
	}
	return b.l
}

func (b *loaderBox) forget() *loaders {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.l = b.fresh()
	return b.l
}

// withLoaders gives every response its own loaders, for the caller of the
// request, so nothing is cached across requests or people, nor across the
// messages of one subscription: each of those is a response of its own
// and must read what is current, not what the connection's first message
// cached.
func (r *Resolver) withLoaders(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(r.ownLoaders(ctx))
}

// ownLoaders is ctx with loaders of its own, fresh, for the caller of ctx.
// A subscription's message is made before gqlgen starts its response, so
// the activity it carries reads its relations through loaders of its own,
// not those of the connection's first response.
func (r *Resolver) ownLoaders(ctx context.Context) context.Context {
	c := user.CallerFrom(ctx)
	// Made at the first field that asks, not here: a subscription's next
	// response begins when the last was sent and then waits, idle, for
	// the next signal, and a set of loaders held by each of 10,000 idle
	// subscribers was 9 KiB apiece (TestIdleSubscriptionHoldsNoLoaders).
	box := &loaderBox{fresh: func() *loaders { return newLoaders(r, c) }}
	return context.WithValue(ctx, loadersKey{}, box)
}

func (r *Resolver) loaders(ctx context.Context) *loaders {
	if b, ok := ctx.Value(loadersKey{}).(*loaderBox); ok {
		return b.get()
	}
	// Outside a response (a subscription's own resolver, tests that call
	// resolvers directly) nothing is shared.
	return newLoaders(r, user.CallerFrom(ctx))
}

// forgetLoaded starts the response's loaders afresh and returns them.
func (r *Resolver) forgetLoaded(ctx context.Context) *loaders {
	if b, ok := ctx.Value(loadersKey{}).(*loaderBox); ok {
		return b.forget()
	}
	return newLoaders(r, user.CallerFrom(ctx))
}
