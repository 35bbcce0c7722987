package graph

import (
	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/offline"
)

// syncTypes are the node types of the change log's kinds.
var syncTypes = map[changelog.Kind]string{
	changelog.Activity: typeActivity,
	changelog.Story:    typeStory,
}

func syncPage(p offline.Page) *model.SyncPage {
	out := &model.SyncPage{Changed: []model.Node{}, Removed: []string{}, HasMore: p.More, Token: p.Token}
	for i := range p.Activities {
		out.Changed = append(out.Changed, &p.Activities[i])
	}
	for i := range p.Stories {
		out.Changed = append(out.Changed, &p.Stories[i])
	}
	for _, ref := range p.Removed {
		out.Removed = append(out.Removed, globalID(syncTypes[ref.Kind], ref.ID))
	}
	return out
}
