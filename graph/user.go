package graph

import (
	"context"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/organisation"
)

// organiserPayload adds the person named organiser (or no longer) to the
// organisation mutate read back, through the same loader the queries use:
// null unless the caller may see them.
func (r *Resolver) organiserPayload(ctx context.Context, o *organisation.Organisation, userID int64, ues []model.UserError, err error) (*model.OrganiserPayload, error) {
	out := &model.OrganiserPayload{Organisation: o, UserErrors: ues}
	if err == nil && len(ues) == 0 {
		out.User, err = load(ctx, r.loaders(ctx).user, userID)
	}
	return out, err
}

func orgLinks(in []model.ChannelLinkInput) []organisation.LinkInput {
	out := make([]organisation.LinkInput, len(in))
	for i, l := range in {
		out[i] = organisation.LinkInput{Kind: l.Kind, URL: l.URL, Label: deref(l.Label)}
	}
	return out
}

func activityLinks(in []model.ChannelLinkInput) []activity.LinkInput {
	out := make([]activity.LinkInput, len(in))
	for i, l := range in {
		out[i] = activity.LinkInput{Kind: l.Kind, URL: l.URL, Label: deref(l.Label)}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
