package graph

import (
	"context"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/organisation"
)

func (r *Resolver) organiserPayload(ctx context.Context, orgID, userID int64) (*model.OrganiserPayload, error) {
	l := r.loaders(ctx)
	o, err := l.organisation.Load(ctx, orgID)
	if err != nil {
		return nil, err
	}
	u, err := l.user.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &model.OrganiserPayload{Organisation: &o, User: &u, UserErrors: []model.UserError{}}, nil
}

// invitationAsOrganiserPayload answers the deprecated addOrganiser: the
// invitee is shown only where the invitation shows them (by id, to someone
// who could see them before).
func (r *Resolver) invitationAsOrganiserPayload(ctx context.Context, inv organisation.Invitation) (*model.OrganiserPayload, error) {
	l := r.loaders(ctx)
	o, err := l.organisation.Load(ctx, inv.OrganisationID)
	if err != nil {
		return nil, err
	}
	out := &model.OrganiserPayload{Organisation: &o, UserErrors: []model.UserError{}}
	if inv.UserID != nil {
		u, err := l.user.Load(ctx, *inv.UserID)
		if err != nil {
			return nil, err
		}
		out.User = &u
	}
	return out, nil
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
