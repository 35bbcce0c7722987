package graph

import (
	"context"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/participation"
)

// occurrenceOf is the key the participation loaders take for an
// occurrence (its start in UTC, so equal instants are equal keys).
func occurrenceOf(o *activity.Occurrence) participation.Occurrence {
	return participation.Occurrence{ActivityID: o.ActivityID, StartsAt: o.StartsAt.UTC()}
}

// headcountOf reads afresh the counts of the occurrence a sign-up's
// payload is about, so the app's cache updates seatsLeft without a
// refetch; nil when the sign-up was refused.
func headcountOf(ctx context.Context, r *Resolver, p *participation.Participation) (*participation.Headcount, error) {
	if p == nil {
		return nil, nil
	}
	o := participation.Occurrence{ActivityID: p.ActivityID, StartsAt: p.OccurrenceStartsAt.UTC()}
	h, err := r.loaders(ctx).headcount.Load(ctx, o)
	if err != nil {
		return nil, err
	}
	return &h, nil
}
