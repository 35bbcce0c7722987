package graph

import (
	"sync"

	"github.com/ishoj/voresishoj/graph/model"
)

// labelledEnums names the schema enum behind each LabelledEnum; their
// labels are the catalogue's label.<Enum>.<VALUE> messages.
var labelledEnums = map[model.LabelledEnum]string{
	model.LabelledEnumOrganisationKind:    "OrganisationKind",
	model.LabelledEnumRequirement:         "Requirement",
	model.LabelledEnumClaimStatus:         "ClaimStatus",
	model.LabelledEnumStoryStatus:         "StoryStatus",
	model.LabelledEnumNotificationKind:    "NotificationKind",
	model.LabelledEnumParticipationStatus: "ParticipationStatus",
	model.LabelledEnumParticipationMode:   "ParticipationMode",
}

// enumValues reads the values of the labelled enums from the schema once,
// so a value added to the schema is labelled (or the catalogue test fails).
var enumValues = sync.OnceValue(func() map[string][]string {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	out := map[string][]string{}
	for _, name := range labelledEnums {
		for _, v := range s.Types[name].EnumValues {
			out[name] = append(out[name], v.Name)
		}
	}
	return out
})

func labelKey(enum, value string) string { return "label." + enum + "." + value }
