package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// loaders batch the relations of one request into one query per relation,
// whatever the size of the page. Results are matched to keys by id.
type loaders struct {
	organisation      *dataloadgen.Loader[int64, organisation.Organisation]
	place             *dataloadgen.Loader[int64, place.Place]
	activity          *dataloadgen.Loader[int64, activity.Activity]
	user              *dataloadgen.Loader[int64, user.User]
	activityThemes    *dataloadgen.Loader[int64, []string]
	storyThemes       *dataloadgen.Loader[int64, []string]
	activityLinks     *dataloadgen.Loader[int64, []link.Link]
	organisationLinks *dataloadgen.Loader[int64, []link.Link]
	storyLinks        *dataloadgen.Loader[int64, []link.Link]
	occurrences       *dataloadgen.Loader[occurrenceKey, []activity.Occurrence]
	slot              *dataloadgen.Loader[int64, volunteer.Slot]
	activitySlots     *dataloadgen.Loader[int64, []volunteer.Slot]
	storyPhotos       *dataloadgen.Loader[int64, []story.Photo]
	origin            *dataloadgen.Loader[int64, calimport.Origin]
	storyReactions    *dataloadgen.Loader[int64, map[story.ReactionKind]int]
	// myClaim is the signed-in person's live claim per slot id.
	myClaim *dataloadgen.Loader[int64, *volunteer.Claim]
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

func newLoaders(r *Resolver) *loaders {
	wait := r.LoaderWait
	if wait == 0 {
		wait = defaultLoaderWait
	}
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(500)}
	return &loaders{
		organisation:   dataloadgen.NewMappedLoader(byID(r.Domain.Organisations.ByIDs, func(o organisation.Organisation) int64 { return o.ID }), opts...),
		place:          dataloadgen.NewMappedLoader(byID(r.Domain.Places.ByIDs, func(p place.Place) int64 { return p.ID }), opts...),
		activity:       dataloadgen.NewMappedLoader(byID(r.Domain.Activities.ByIDs, func(a activity.Activity) int64 { return a.ID }), opts...),
		user:           dataloadgen.NewMappedLoader(byID(r.Domain.Users.UsersByIDs, func(u user.User) int64 { return u.ID }), opts...),
		activityThemes: dataloadgen.NewMappedLoader(grouped(r.Domain.Activities.ThemesByIDs), opts...),
		storyThemes:    dataloadgen.NewMappedLoader(grouped(r.Domain.Stories.ThemesByIDs), opts...),
		activityLinks: dataloadgen.NewMappedLoader(grouped(linksBy(r.Domain.Links.ByActivityIDs,
			func(l link.Link) *int64 { return l.ActivityID })), opts...),
		organisationLinks: dataloadgen.NewMappedLoader(grouped(linksBy(r.Domain.Links.ByOrganisationIDs,
			func(l link.Link) *int64 { return l.OrganisationID })), opts...),
		storyLinks: dataloadgen.NewMappedLoader(grouped(linksBy(r.Domain.Links.ByStoryIDs,
			func(l link.Link) *int64 { return l.StoryID })), opts...),
		occurrences:   dataloadgen.NewMappedLoader(r.fetchOccurrences, opts...),
		slot:          dataloadgen.NewMappedLoader(byID(r.Domain.Volunteer.SlotsByIDs, func(s volunteer.Slot) int64 { return s.ID }), opts...),
		activitySlots: dataloadgen.NewMappedLoader(grouped(r.fetchActivitySlots), opts...),
		myClaim:       dataloadgen.NewMappedLoader(r.fetchMyClaims, opts...),
		storyPhotos:   dataloadgen.NewMappedLoader(grouped(r.Domain.Stories.Photos), opts...),
		origin: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]calimport.Origin, error) {
			m, err := r.Domain.CalendarImport.OriginsByActivityIDs(ctx, ids)
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
			m, err := r.Domain.Stories.ReactionCounts(ctx, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if m[id] == nil {
					if m == nil {
						m = map[int64]map[story.ReactionKind]int{}
					}
					m[id] = map[story.ReactionKind]int{}
				}
			}
			return m, nil
		}, opts...),
	}
}

// byID adapts a "fetch these ids" function to a loader keyed by id.
func byID[T any](fetch func(context.Context, []int64) ([]T, error), id func(T) int64) func(context.Context, []int64) (map[int64]T, error) {
	return func(ctx context.Context, ids []int64) (map[int64]T, error) {
		items, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[int64]T, len(items))
		for _, it := range items {
			m[id(it)] = it
		}
		return m, nil
	}
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

func (r *Resolver) fetchActivitySlots(ctx context.Context, ids []int64) (map[int64][]volunteer.Slot, error) {
	slots, err := r.Domain.Volunteer.SlotsByActivityIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[int64][]volunteer.Slot, len(ids))
	for _, s := range slots {
		m[s.ActivityID] = append(m[s.ActivityID], s)
	}
	return m, nil
}

// fetchMyClaims answers "my claim" for a batch of slots; a slot without
// one maps to nil.
func (r *Resolver) fetchMyClaims(ctx context.Context, slotIDs []int64) (map[int64]*volunteer.Claim, error) {
	m := make(map[int64]*volunteer.Claim, len(slotIDs))
	for _, id := range slotIDs {
		m[id] = nil
	}
	c := user.CallerFrom(ctx)
	if !c.SignedIn() {
		return m, nil
	}
	claims, err := r.Domain.Volunteer.ClaimsBySlotAndUser(ctx, slotIDs, c.UserID)
	if err != nil {
		return nil, err
	}
	for i := range claims {
		m[claims[i].SlotID] = &claims[i]
	}
	return m, nil
}

type loadersKey struct{}

// withLoaders gives every response its own loaders, so nothing is cached
// across requests or people, nor across the messages of one subscription:
// each of those is a response of its own and must read what is current,
// not what the connection's first message cached.
func (r *Resolver) withLoaders(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, loadersKey{}, newLoaders(r)))
}

func (r *Resolver) loaders(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	// Outside a response (a subscription's own resolver, tests that call
	// resolvers directly) nothing is shared.
	return newLoaders(r)
}
