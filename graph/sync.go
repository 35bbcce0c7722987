package graph

import (
	"context"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/offline"
)

// syncTypes are the node types of the change log's kinds.
var syncTypes = map[changelog.Kind]string{
	changelog.Activity:     typeActivity,
	changelog.Story:        typeStory,
	changelog.Slot:         typeSlot,
	changelog.Claim:        typeClaim,
	changelog.Organisation: typeOrganisation,
	changelog.Place:        typePlace,
	changelog.Follow:       typeFollow,
	changelog.Notification: typeNotification,
}

func (r *Resolver) syncPage(ctx context.Context, p offline.Page) *model.SyncPage {
	out := &model.SyncPage{Changed: []model.Node{}, Removed: []string{}, HasMore: p.More, Token: p.Token}
	for i := range p.Activities {
		out.Changed = append(out.Changed, r.viewActivity(ctx, &p.Activities[i]))
	}
	for i := range p.Slots {
		out.Changed = append(out.Changed, &p.Slots[i])
	}
	for i := range p.Claims {
		out.Changed = append(out.Changed, &p.Claims[i])
	}
	for i := range p.Stories {
		out.Changed = append(out.Changed, &p.Stories[i])
	}
	for i := range p.Organisations {
		out.Changed = append(out.Changed, &p.Organisations[i])
	}
	for i := range p.Places {
		out.Changed = append(out.Changed, &p.Places[i])
	}
	for i := range p.Follows {
		out.Changed = append(out.Changed, &p.Follows[i])
	}
	for i := range p.Notifications {
		out.Changed = append(out.Changed, &p.Notifications[i])
	}
	out.Themes = p.Themes
	for _, ref := range p.Removed {
		out.Removed = append(out.Removed, globalID(syncTypes[ref.Kind], ref.ID))
	}
	return out
}
