package graph

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
)

// The type names inside global IDs.
const (
	typeActivity       = "Activity"
	typeOrganisation   = "Organisation"
	typePlace          = "Place"
	typeStory          = "Story"
	typeUser           = "User"
	typeSlot           = "VolunteerSlot"
	typeClaim          = "SlotClaim"
	typeNotification   = "Notification"
	typeAnnouncement   = "Announcement"
	typeCall           = "Call"
	typePhoto          = "Photo"
	typeInitiative     = "Initiative"
	typeCalendarSource = "CalendarSource"
)

// node resolves any global ID; unknown, malformed or hidden ids give nil.
func (r *Resolver) node(ctx context.Context, gid string) (model.Node, error) {
	typ, id, ok := parseGlobalID(gid)
	if !ok {
		return nil, nil
	}
	l := r.loaders(ctx)
	switch typ {
	case typeActivity:
		a, err := l.activity.Load(ctx, id)
		if err != nil || !r.canSeeActivity(ctx, a) {
			return nil, ignoreNotFound(err)
		}
		return &a, nil
	case typeOrganisation:
		o, err := l.organisation.Load(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return &o, nil
	case typePlace:
		p, err := l.place.Load(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return &p, nil
	case typeSlot:
		sl, err := l.slot.Load(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		a, err := l.activity.Load(ctx, sl.ActivityID)
		if err != nil || !r.canSeeActivity(ctx, a) {
			return nil, ignoreNotFound(err)
		}
		return &sl, nil
	case typeClaim:
		claims, err := r.Domain.Volunteer.ClaimsByIDs(ctx, []int64{id})
		if err != nil || len(claims) == 0 {
			return nil, err
		}
		c := claims[0]
		caller := user.CallerFrom(ctx)
		if c.UserID != caller.UserID {
			sl, err := l.slot.Load(ctx, c.SlotID)
			if err != nil {
				return nil, ignoreNotFound(err)
			}
			a, err := l.activity.Load(ctx, sl.ActivityID)
			if err != nil || !caller.OrganiserOf(a.OrganisationID) {
				return nil, ignoreNotFound(err)
			}
		}
		return &c, nil
	case typeUser:
		ok, err := r.Domain.Users.ContactVisible(ctx, user.CallerFrom(ctx), id)
		if err != nil || !ok {
			return nil, err
		}
		u, err := l.user.Load(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return &u, nil
	case typeNotification:
		n, err := r.Domain.Notify.Notification(ctx, id)
		if err != nil || n.UserID != user.CallerFrom(ctx).UserID {
			return nil, ignoreNotFound(err)
		}
		return &n, nil
	case typeCall:
		c, err := r.Domain.Stories.Call(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return &c, nil
	case typeInitiative:
		in, err := r.Domain.Initiatives.Initiative(ctx, id)
		if err != nil || !in.VisibleTo(user.CallerFrom(ctx)) {
			return nil, ignoreNotFound(err)
		}
		return &in, nil
	case typeStory:
		s, err := r.Domain.Stories.Story(ctx, id)
		if err != nil || !story.CanSee(user.CallerFrom(ctx), s) {
			return nil, ignoreNotFound(err)
		}
		return &s, nil
	}
	return nil, nil
}

func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, dataloadgen.ErrNotFound)
}

func ignoreNotFound(err error) error {
	if isNotFound(err) {
		return nil
	}
	return err
}

// nilIfNotFound is for nullable single objects: missing is null, not an error.
func nilIfNotFound[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return v, nil
}

var errTooManyIDs = apperr.New(apperr.CodeTooLong, "ids").With("Max", maxPageSize)

var errNotFound = apperr.New(apperr.CodeNotFound, "activityId")
