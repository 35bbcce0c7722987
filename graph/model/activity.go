package model

import (
	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// Activity is an activity as one response shows it: the domain's activity,
// as the response's caller may see it, and how to read its relations for
// that caller.
//
// gqlgen runs a field in a goroutine of its own when it has a resolver or
// its method takes a context. The fields every item of a feed asks for
// (id, themes, place, organisation, slots) are context-free methods here,
// so they run inline; the page's prefetch has already read what they
// return, and Rel finds it there.
type Activity struct {
	activity.Activity
	Rel ActivityRelations
}

// ActivityRelations reads an activity's relations as one caller may see
// them, through the domain's reads that take the caller.
type ActivityRelations interface {
	Themes(activityID int64) ([]string, error)
	Place(id int64) (*place.Place, error)
	Organisation(id int64) (*organisation.Organisation, error)
	Slots(activityID int64) ([]volunteer.Slot, error)
}

// GlobalID is the activity's global ID.
func (a *Activity) GlobalID() string { return gid.Encode("Activity", a.ID) }

// ThemeNames are the activity's themes.
func (a *Activity) ThemeNames() ([]string, error) { return a.Rel.Themes(a.ID) }

// PlaceOf is where the activity is, nil when it has no place or the
// caller may not see it.
func (a *Activity) PlaceOf() (*place.Place, error) {
	if a.PlaceID == nil {
		return nil, nil
	}
	return a.Rel.Place(*a.PlaceID)
}

// OrganisationOf is who organises the activity.
func (a *Activity) OrganisationOf() (*organisation.Organisation, error) {
	return a.Rel.Organisation(a.OrganisationID)
}

// SlotList are the activity's volunteer slots the caller may see.
func (a *Activity) SlotList() ([]volunteer.Slot, error) { return a.Rel.Slots(a.ID) }
