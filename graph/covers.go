package graph

import (
	"context"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/user"
)

// UseCovers makes every service whose things have a cover keep them in
// cv; the server and the tests wire it alike.
func (d Domain) UseCovers(cv *media.Covers) {
	d.Activities.SetCovers(cv)
	d.Organisations.SetCovers(cv)
	d.Places.SetCovers(cv)
	d.Initiatives.SetCovers(cv)
}

// MediaAccess is who may fetch what /media/ serves: a story photo while
// its story is published, a cover while its owner is public, and the rest
// at URLs the domain signed for those who may see it (one signer for
// photos and covers).
func (d Domain) MediaAccess() media.Access {
	a := d.Stories.MediaAccess()
	a.Public = media.AnyPublic(d.Stories.PhotoPublic, d.Activities.CoverPublic, d.Organisations.CoverPublic,
		d.Places.CoverPublic, d.Initiatives.CoverPublic)
	return a
}

// changeCover sets (u not nil) or removes the cover of the thing target
// names, through the domain of its kind, and answers with the thing as the
// caller may see it.
func (r *Resolver) changeCover(ctx context.Context, target string, u *media.Upload) (*model.CoverPayload, error) {
	typ, id, ok := parseGlobalID(target)
	c := user.CallerFrom(ctx)
	out := &model.CoverPayload{}
	var err error
	switch {
	case ok && typ == typeActivity:
		var a *activity.Activity
		a, out.UserErrors, err = mutate(ctx, r, nil, activities, func() (int64, error) {
			return id, coverWrite(ctx, c, id, u, r.Domain.Activities.SetCover, r.Domain.Activities.RemoveCover)
		})
		out.Activity = r.viewActivity(ctx, a)
	case ok && typ == typeOrganisation:
		out.Organisation, out.UserErrors, err = mutate(ctx, r, nil, organisations, func() (int64, error) {
			return id, coverWrite(ctx, c, id, u, r.Domain.Organisations.SetCover, r.Domain.Organisations.RemoveCover)
		})
	case ok && typ == typePlace:
		out.Place, out.UserErrors, err = mutate(ctx, r, nil, places, func() (int64, error) {
			return id, coverWrite(ctx, c, id, u, r.Domain.Places.SetCover, r.Domain.Places.RemoveCover)
		})
	case ok && typ == typeInitiative:
		out.Initiative, out.UserErrors, err = mutate(ctx, r, nil, initiatives, func() (int64, error) {
			return id, coverWrite(ctx, c, id, u, r.Domain.Initiatives.SetCover, r.Domain.Initiatives.RemoveCover)
		})
	default:
		out.UserErrors, err = userErrors(ctx, apperr.New("INVALID_ID", "targetId"))
	}
	return out, err
}

func coverWrite[T any](ctx context.Context, c user.Caller, id int64, u *media.Upload,
	set func(context.Context, user.Caller, int64, media.Upload) (T, error),
	remove func(context.Context, user.Caller, int64) (T, error)) error {
	var err error
	if u != nil {
		_, err = set(ctx, c, id, *u)
	} else {
		_, err = remove(ctx, c, id)
	}
	return err
}
