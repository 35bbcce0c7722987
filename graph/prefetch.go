package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/activity"
)

// selected names the fields the operation selects below the current field
// along path, each step given as field name and the type it returns. It is
// empty outside an operation.
func selected(ctx context.Context, path ...[2]string) map[string]bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	sel := fc.Field.Selections
	typ := fc.Field.Definition.Type.Name()
	for _, step := range path {
		var next ast.SelectionSet
		for _, f := range graphql.CollectFields(op, sel, []string{typ}) {
			if f.Name == step[0] {
				next = append(next, f.Selections...)
			}
		}
		sel, typ = next, step[1]
	}
	names := map[string]bool{}
	for _, f := range graphql.CollectFields(op, sel, []string{typ}) {
		names[f.Name] = true
	}
	return names
}

// prefetchActivities loads the relations a page of activities asks for,
// one query each, and primes the loaders with them. The resolvers still
// go through the loaders, but find everything there: a page costs the same
// statements however the scheduler interleaves its resolvers, and no
// resolver waits for a batch to fill.
func (r *Resolver) prefetchActivities(ctx context.Context, fields map[string]bool, acts []*activity.Activity) error {
	if len(acts) == 0 || len(fields) == 0 {
		return nil
	}
	l := r.loaders(ctx)
	c := l.caller
	ids := make([]int64, 0, len(acts))
	var orgIDs, placeIDs []int64
	for _, a := range acts {
		ids = append(ids, a.ID)
		orgIDs = append(orgIDs, a.OrganisationID)
		if a.PlaceID != nil {
			placeIDs = append(placeIDs, *a.PlaceID)
		}
	}
	if fields["organisation"] {
		orgs, err := r.Domain.Organisations.ByIDs(ctx, c, orgIDs)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			l.organisation.Prime(o.ID, o)
		}
	}
	if fields["place"] && len(placeIDs) > 0 {
		places, err := r.Domain.Places.ByIDs(ctx, c, placeIDs)
		if err != nil {
			return err
		}
		for _, p := range places {
			l.place.Prime(p.ID, p)
		}
	}
	if fields["themes"] {
		themes, err := r.Domain.Activities.ThemesByIDs(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			l.activityThemes.Prime(id, nonNil(themes[id]))
		}
	}
	if fields["slots"] {
		slots, err := r.fetchActivitySlots(ctx, c, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			l.activitySlots.Prime(id, nonNil(slots[id]))
		}
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
