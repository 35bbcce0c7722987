package graph

import (
	"context"

	"github.com/vikstrous/dataloadgen"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// mutate is how every mutation that returns an object makes its payload.
// Unless the input was already refused (inputErr) it runs write, which
// returns the id of the object written. The payload then gets either the
// user errors in the caller's language, or the object read back through
// the loader reads picks, the one the queries use: what the caller may
// see of it and no more, null if the write left it hidden from them (a
// report that hid a story, a person no longer a fellow organiser). So a
// payload never shows more than node(id:) would.
func mutate[T any](ctx context.Context, r *Resolver, inputErr error, reads func(*loaders) *dataloadgen.Loader[int64, T],
	write func() (int64, error)) (*T, []model.UserError, error) {
	err := inputErr
	var id int64
	if err == nil {
		id, err = write()
	}
	if err != nil {
		ues, err := userErrors(ctx, err)
		return nil, ues, err
	}
	// Read afresh: what this operation loaded before the write is stale.
	v, err := load(ctx, reads(r.forgetLoaded(ctx)), id)
	if err != nil {
		return nil, nil, err
	}
	return v, []model.UserError{}, nil
}

// The loaders payloads read their objects back with.

func activities(l *loaders) *dataloadgen.Loader[int64, activity.Activity] {
	return l.activity
}

func organisations(l *loaders) *dataloadgen.Loader[int64, organisation.Organisation] {
	return l.organisation
}

func places(l *loaders) *dataloadgen.Loader[int64, place.Place] {
	return l.place
}

func people(l *loaders) *dataloadgen.Loader[int64, user.User] {
	return l.user
}

func stories(l *loaders) *dataloadgen.Loader[int64, story.Story] {
	return l.story
}

func calls(l *loaders) *dataloadgen.Loader[int64, story.Call] {
	return l.call
}

func initiatives(l *loaders) *dataloadgen.Loader[int64, initiative.Initiative] {
	return l.initiative
}

func slots(l *loaders) *dataloadgen.Loader[int64, volunteer.Slot] {
	return l.slot
}

func claims(l *loaders) *dataloadgen.Loader[int64, volunteer.Claim] {
	return l.claim
}

func participations(l *loaders) *dataloadgen.Loader[int64, participation.Participation] {
	return l.participation
}

func announcements(l *loaders) *dataloadgen.Loader[int64, notify.Announcement] {
	return l.announcement
}

func calendarSources(l *loaders) *dataloadgen.Loader[int64, calimport.Source] {
	return l.calendarSource
}

func invitations(l *loaders) *dataloadgen.Loader[int64, organisation.Invitation] {
	return l.invitation
}

// slotAfterClaim reads a slot afresh for a claim's payload, whether the
// claim was made or refused: taken, spotsLeft, waitlistLength and the
// caller's myClaim as they are now, so the app's cache updates the slot
// without a refetch. Null when the id did not parse or the caller may not
// see the slot.
func slotAfterClaim(ctx context.Context, r *Resolver, slotID int64) (*volunteer.Slot, error) {
	if slotID == 0 {
		return nil, nil
	}
	return load(ctx, slots(r.forgetLoaded(ctx)), slotID)
}
