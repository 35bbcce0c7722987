package graph

import (
	"context"
	"time"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/geo"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// activityFilter translates the GraphQL filter; ids and themes are checked.
func (r *Resolver) activityFilter(ctx context.Context, in model.ActivityFilter) (activity.Filter, error) {
	f := activity.Filter{From: r.requestNow(ctx), To: in.To, Themes: in.Themes, HasOpenSlots: in.HasOpenSlots}
	if in.From != nil {
		f.From = *in.From
	}
	if in.Search != nil {
		if len([]rune(*in.Search)) > 100 {
			return f, apperr.New(apperr.CodeTooLong, "filter", "search").With("Max", 100)
		}
		f.Search = *in.Search
	}
	var err error
	if f.OrganisationID, err = optionalID(typeOrganisation, in.OrganisationID, "filter", "organisationId"); err != nil {
		return f, err
	}
	if f.PlaceID, err = optionalID(typePlace, in.PlaceID, "filter", "placeId"); err != nil {
		return f, err
	}
	if len(in.Themes) > 0 {
		if err := r.Domain.Themes.Validate(ctx, in.Themes, "filter", "themes"); err != nil {
			return f, err
		}
	}
	if f.Area, err = area(in.Near, in.Within, in.Bbox); err != nil {
		return f, err
	}
	return f, nil
}

// area translates the near-me and map fields of a filter.
func area(near *model.GeoPointInput, within *int, bbox *model.BoundingBoxInput) (geo.Area, error) {
	var p *geo.Point
	if near != nil {
		p = &geo.Point{Lat: near.Lat, Lng: near.Lng}
	}
	var b *geo.Box
	if bbox != nil {
		b = &geo.Box{South: bbox.South, West: bbox.West, North: bbox.North, East: bbox.East}
	}
	return geo.NewArea(p, within, b, "filter")
}

// byDistance checks an order by distance has a point to measure from.
func byDistance(distance bool, a geo.Area) error {
	if distance && a.Near == nil {
		return apperr.New(geo.CodeInvalidLocation, "filter", "near")
	}
	return nil
}

// listActivities pages through published activities with keyset cursors.
func (r *Resolver) listActivities(ctx context.Context, f activity.Filter, first *int, after *string) (*model.ActivityConnection, error) {
	limit, c, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var key *activity.Key
	if c != nil {
		t, err := cursorTime(c)
		if err != nil {
			return nil, err
		}
		d, err := cursorDistance(c, f.ByDistance)
		if err != nil {
			return nil, err
		}
		key = &activity.Key{Distance: d, StartsAt: t, ID: c.ID}
	}
	rows, err := r.Domain.Activities.List(ctx, user.CallerFrom(ctx), f, key, limit+1)
	if err != nil {
		return nil, err
	}
	page := make([]*activity.Activity, 0, limit)
	for i := range rows[:min(len(rows), limit)] {
		page = append(page, &rows[i].Activity)
	}
	fields := selected(ctx, [2]string{"edges", "ActivityEdge"}, [2]string{"node", "Activity"})
	if err := r.prefetchActivities(ctx, fields, page); err != nil {
		return nil, err
	}
	l := r.loaders(ctx)
	edges, info := connection(rows, limit,
		func(row *activity.Listed) cursor {
			c := cursor{T: &row.Occurrence.StartsAt, ID: row.ID}
			if f.ByDistance {
				c.D = row.Distance
			}
			return c
		},
		func(cur string, row *activity.Listed) model.ActivityEdge {
			l.activity.Prime(row.ID, row.Activity)
			return model.ActivityEdge{Cursor: cur, Node: r.viewActivity(ctx, &row.Activity), Occurrence: &row.Occurrence, Distance: row.Distance}
		})
	return &model.ActivityConnection{Edges: edges, PageInfo: info}, nil
}

type nowKey struct{}

// requestNow is one "now" per request, so every field of a response agrees
// on what is upcoming.
func (r *Resolver) requestNow(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return r.Now()
}

// activityRelations reads the relations model.Activity's inline fields
// show, through the loaders of the response ctx belongs to, so as that
// response's caller. On a page the prefetch has primed them and nothing
// waits; elsewhere (one activity, or a story's) the loader batches the
// response's asks as before.
type activityRelations struct {
	r   *Resolver
	ctx context.Context
}

func (x activityRelations) Themes(id int64) ([]string, error) {
	return x.r.loaders(x.ctx).activityThemes.Load(x.ctx, id)
}

func (x activityRelations) Place(id int64) (*place.Place, error) {
	return load(x.ctx, x.r.loaders(x.ctx).place, id)
}

func (x activityRelations) Organisation(id int64) (*organisation.Organisation, error) {
	o, err := x.r.loaders(x.ctx).organisation.Load(x.ctx, id)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (x activityRelations) Slots(id int64) ([]volunteer.Slot, error) {
	return x.r.loaders(x.ctx).activitySlots.Load(x.ctx, id)
}

// viewActivity is a as the response of ctx shows it; nil stays nil.
func (r *Resolver) viewActivity(ctx context.Context, a *activity.Activity) *model.Activity {
	if a == nil {
		return nil
	}
	return &model.Activity{Activity: *a, Rel: activityRelations{r: r, ctx: ctx}}
}

// loadActivity reads one activity through the caller's loader: nil when
// the caller may not see it.
func (r *Resolver) loadActivity(ctx context.Context, id int64) (*model.Activity, error) {
	a, err := load(ctx, r.loaders(ctx).activity, id)
	return r.viewActivityOr(ctx, a, err)
}

// viewActivityOr is viewActivity for a read that may fail.
func (r *Resolver) viewActivityOr(ctx context.Context, a *activity.Activity, err error) (*model.Activity, error) {
	if err != nil {
		return nil, err
	}
	return r.viewActivity(ctx, a), nil
}
