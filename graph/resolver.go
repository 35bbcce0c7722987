// Package graph is the GraphQL layer: gqlgen's generated executor, the
// resolvers (which only translate between GraphQL and the domain), the
// dataloaders and the HTTP handler.
package graph

import (
	"log/slog"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calendar"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/offline"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/search"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// Resolver holds what the resolvers need.
type Resolver struct {
	Log    *slog.Logger
	Domain Domain
	// Now is the clock; tests replace it.
	Now func() time.Time
	// LoaderWait is how long dataloaders gather keys (default 2ms).
	LoaderWait time.Duration
	// PublicURL is where people reach the server, for media links.
	PublicURL string
	// Broker carries live-update signals between replicas.
	Broker pubsub.Broker

	live shared
}

// Domain is the set of domain services. It is a named field rather than
// embedded so its names do not collide with the resolvers' methods.
type Domain struct {
	Users          *user.Service
	Organisations  *organisation.Service
	Places         *place.Service
	Activities     *activity.Service
	Stories        *story.Service
	Themes         *theme.Service
	Links          *link.Service
	Volunteer      *volunteer.Service
	Privacy        *privacy.Service
	Calendar       *calendar.Service
	Notify         *notify.Service
	Initiatives    *initiative.Service
	Search         *search.Service
	CalendarImport *calimport.Service
	Offline        *offline.Service
	Participation  *participation.Service
	// Languages are the languages people may choose.
	Languages []string
}
