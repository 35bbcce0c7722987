// Package weblink makes the public https addresses the server hands out:
// the pages of activities, stories, organisations, places and calls
// (internal/pages serves them), always under PUBLIC_URL and always with
// the object's global id, the one id form the API uses. The calendar
// feeds, the story feeds and push notifications link through here, so a
// link handed out and the page that answers it cannot drift apart; the
// app claims the same paths as universal links (App Links on Android).
package weblink

import (
	"strconv"
	"strings"

	"github.com/ishoj/voresishoj/internal/gid"
)

// The path of each kind of page, below PUBLIC_URL; the page of one object
// is the path, a slash and its global id.
const (
	Activities    = "/activities"
	Stories       = "/stories"
	Organisations = "/organisations"
	Places        = "/places"
	Calls         = "/calls"
	// Slots answer with a redirect to their activity's page.
	Slots = "/slots"
	// App is the page that opens or offers the app: where push links
	// without a public page of their own (the inbox, an announcement)
	// fall back to.
	App = "/app"
)

// Types are the global-id type names of the kinds with pages, by path.
var Types = map[string]string{
	Activities:    "Activity",
	Stories:       "Story",
	Organisations: "Organisation",
	Places:        "Place",
	Calls:         "Call",
	Slots:         "VolunteerSlot",
}

// Links makes addresses under one PUBLIC_URL.
type Links struct{ base string }

// New returns Links under publicURL, e.g. https://voresishoj.dk.
func New(publicURL string) Links { return Links{base: strings.TrimRight(publicURL, "/")} }

// Base is PUBLIC_URL without a trailing slash.
func (l Links) Base() string { return l.base }

// URL returns PUBLIC_URL followed by path, which starts with a slash.
func (l Links) URL(path string) string { return l.base + path }

func (l Links) of(path string, id int64) string {
	return l.base + path + "/" + gid.Encode(Types[path], id)
}

// Activity is the page of an activity.
func (l Links) Activity(id int64) string { return l.of(Activities, id) }

// Story is the page of a story.
func (l Links) Story(id int64) string { return l.of(Stories, id) }

// Organisation is the page of an organisation.
func (l Links) Organisation(id int64) string { return l.of(Organisations, id) }

// Place is the page of a place.
func (l Links) Place(id int64) string { return l.of(Places, id) }

// Call is the page of a call for contributions.
func (l Links) Call(id int64) string { return l.of(Calls, id) }

// Slot is the address of a volunteer slot: it leads to its activity's
// page, at the slot.
func (l Links) Slot(id int64) string { return l.of(Slots, id) }

// deepKinds are the app's deep-link hosts (voresishoj://<kind>/<id>) that
// have a public page, by the page's path.
var deepKinds = map[string]string{
	"activity":     Activities,
	"story":        Stories,
	"slot":         Slots,
	"organisation": Organisations,
	"place":        Places,
	"call":         Calls,
}

// FromDeepLink is the https page of what the app's deep link
// voresishoj://<kind>/<id> opens, for where the app cannot take it (a
// browser, web push). The id may be the global id or, in links made
// before global ids, the number. What has no public page (the inbox, an
// announcement) gets the app page.
func (l Links) FromDeepLink(deepLink string) string {
	rest, ok := strings.CutPrefix(deepLink, "voresishoj://")
	if !ok {
		return l.URL(App)
	}
	kind, id, _ := strings.Cut(rest, "/")
	path, ok := deepKinds[kind]
	if !ok || id == "" {
		return l.URL(App)
	}
	if typ, n, ok := gid.Decode(id); ok && typ == Types[path] {
		return l.of(path, n)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
		return l.of(path, n)
	}
	return l.URL(App)
}
