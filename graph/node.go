package graph

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
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
	typeFollow         = "Follow"
	typeParticipation  = "Participation"
)

// nodeThunk starts loading any global ID through the caller's loaders and
// returns the wait for it. Who may see what is the domain's: the loaders
// read through its reads that take the caller, so a malformed, unknown or
// hidden id alike gives nil. Starting every id of nodes(ids:) before
// waiting for any makes them one query per type.
func (r *Resolver) nodeThunk(ctx context.Context, gid string) func() (model.Node, error) {
	typ, id, ok := parseGlobalID(gid)
	if !ok {
		return noNode
	}
	l := r.loaders(ctx)
	switch typ {
	case typeActivity:
		thunk := nodeOf(ctx, l.activity, id)
		return func() (model.Node, error) {
			n, err := thunk()
			if a, ok := n.(*activity.Activity); ok {
				return r.viewActivity(ctx, a), err
			}
			return n, err
		}
	case typeOrganisation:
		return nodeOf(ctx, l.organisation, id)
	case typePlace:
		return nodeOf(ctx, l.place, id)
	case typeSlot:
		return nodeOf(ctx, l.slot, id)
	case typeClaim:
		return nodeOf(ctx, l.claim, id)
	case typeUser:
		return nodeOf(ctx, l.user, id)
	case typeNotification:
		return nodeOf(ctx, l.notification, id)
	case typeFollow:
		return nodeOf(ctx, l.follow, id)
	case typeAnnouncement:
		return nodeOf(ctx, l.announcement, id)
	case typeCall:
		return nodeOf(ctx, l.call, id)
	case typeInitiative:
		return nodeOf(ctx, l.initiative, id)
	case typeStory:
		return nodeOf(ctx, l.story, id)
	case typeCalendarSource:
		return nodeOf(ctx, l.calendarSource, id)
	case typeParticipation:
		return nodeOf(ctx, l.participation, id)
	}
	return noNode
}

func noNode() (model.Node, error) { return nil, nil }

func nodeOf[T any](ctx context.Context, l *dataloadgen.Loader[int64, T], id int64) func() (model.Node, error) {
	thunk := l.LoadThunk(ctx, id)
	return func() (model.Node, error) {
		v, err := thunk()
		if err != nil {
			// model.Node is an interface: a nil *T in it would not be nil.
			return nil, ignoreNotFound(err)
		}
		return &v, nil
	}
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

var errTooManyIDs = apperr.New(apperr.CodeTooLong, "ids").With("Max", maxPageSize)

var errNotFound = apperr.New(apperr.CodeNotFound, "activityId")
