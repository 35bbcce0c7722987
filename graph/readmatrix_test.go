package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// The read authorisation matrix: what each role sees of every query field
// and every object field that can hold personal or unpublished data. It
// stands beside the mutation matrix (authz_test.go), and like it, it is
// checked against the schema: a field that is in neither the matrix nor
// one of the lists of fields that need no row fails
// TestReadMatrixCoversTheSchema.

// outcome is what a role gets when it asks.
type outcome string

const (
	// allowed: the value is there.
	allowed outcome = "allowed"
	// null: the field is null (or the thing is not listed): a restricted
	// field, or a hidden thing answered as if it did not exist.
	null outcome = "null"
	// The rest are the codes of a GraphQL error refusing the whole field.
	refusedForbidden = outcome(apperr.CodeForbidden)
	refusedSignIn    = outcome(apperr.CodeUnauthenticated)
	refusedNotFound  = outcome(apperr.CodeNotFound)
)

// readTown is the town of the mutation matrix with what the reads need
// beside it: stories in every state, photos, reactions, a media pickup,
// members of an initiative, a hidden initiative and a notification.
type readTown struct {
	town
	rasmus, conny                   int64
	rasmusClaim                     volunteer.Claim
	draftSlot                       volunteer.Slot
	photoStory, changesStory        int64
	rejectedStory, hiddenStory      int64
	pendingCallStory, linkedToDraft int64
	hiddenInitiative, notification  int64
	announcement, rasmusFollow      int64
	rasmusGuest                     int64
	callerName                      map[string]string
}

func makeReadTown(t *testing.T, ts *testServer) readTown {
	t.Helper()
	ctx := context.Background()
	d := ts.resolver.Domain
	rt := readTown{town: makeTown(t, ts)}
	boss := rt.callers[secretariatRol]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rt.callerName = map[string]string{unverified: "ukendt", resident: "rasmus", organiserSame: "olga",
		organiserOther: "omar", secretariatRol: "sekretariat"}
	rasmus := rt.callers[resident]
	rt.rasmus = rasmus.UserID
	rt.conny = rt.coOrganiser
	vera, err := d.Users.Caller(ctx, rt.vera)
	must(err)
	conny, err := d.Users.Caller(ctx, rt.conny)
	must(err)

	// Organisers of A may review the stories tied to A; B's may not.
	must(d.Organisations.SetOrganisersMayReview(ctx, boss, rt.orgA.ID, true))

	var errC error
	rt.rasmusClaim, errC = d.Volunteer.Claim(ctx, rasmus, rt.slot.ID, "rasmus-1")
	must(errC)
	guest, err := d.Participation.Participate(ctx, rasmus, participation.Input{ActivityID: rt.activity.ID,
		Status: participation.Interested, IdempotencyKey: "rasmus-guest-1"})
	must(err)
	rt.rasmusGuest = guest.ID
	start := rt.draft.StartsAt
	rt.draftSlot, err = d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: rt.draft.ID, Title: "Hemmelig vagt",
		StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 2})
	must(err)

	photo := func() []story.PhotoInput {
		return []story.PhotoInput{{Reader: bytes.NewReader(mediatest.PNG(64, 48)), Alt: "Et billede"}}
	}
	// A published story with a photo, a media pickup and rasmus' heart.
	st, err := d.Stories.Submit(ctx, vera, story.Input{Title: "Sommerfest", Body: "Vi spiste sammen i gården.",
		OrganisationID: &rt.orgA.ID, Photos: photo(), ConsentPeople: true})
	must(err)
	_, err = d.Stories.Review(ctx, boss, st.ID, story.ActionPublish, "")
	must(err)
	_, err = d.Stories.RecordMediaPickup(ctx, boss, st.ID, "TV 2 Lorry", "", time.Now())
	must(err)
	must(d.Stories.React(ctx, rasmus, st.ID, story.Heart))
	_, err = d.Stories.Report(ctx, rt.callers[organiserOther], st.ID, "Er det her tilladt?")
	must(err)
	rt.photoStory = st.ID
	// vera's pending story (tw.pendingStory) gets a photo of its own.
	_, err = d.Stories.Edit(ctx, vera, rt.pendingStory, story.Input{Title: "Byttemarkedet", Body: "300 gæster og 360 kg tøj.",
		OrganisationID: &rt.orgA.ID, Photos: photo(), ConsentPeople: true})
	must(err)
	// rasmus' own story, sent back with a reason; tied to no organisation.
	st, err = d.Stories.Submit(ctx, rasmus, story.Input{Title: "Min første vagt", Body: "Jeg stillede borde op."})
	must(err)
	_, err = d.Stories.Review(ctx, boss, st.ID, story.ActionRequestChanges, "Skriv lidt mere om dagen")
	must(err)
	rt.changesStory = st.ID
	// vera's rejected story in A.
	st, err = d.Stories.Submit(ctx, vera, story.Input{Title: "Reklame", Body: "Køb min bil.", OrganisationID: &rt.orgA.ID})
	must(err)
	_, err = d.Stories.Review(ctx, boss, st.ID, story.ActionReject, "Reklame hører ikke til her")
	must(err)
	rt.rejectedStory = st.ID
	// A published story hidden by three reports.
	st, err = d.Stories.Submit(ctx, vera, story.Input{Title: "Naboskab", Body: "Vi lånte en stige.", Photos: photo(), ConsentPeople: true})
	must(err)
	_, err = d.Stories.Review(ctx, boss, st.ID, story.ActionPublish, "")
	must(err)
	for _, c := range []user.Caller{rasmus, conny, rt.callers[organiserOther]} {
		_, err = d.Stories.Report(ctx, c, st.ID, "Forkert")
		must(err)
	}
	rt.hiddenStory = st.ID
	// A pending story for the open call.
	st, err = d.Stories.Submit(ctx, vera, story.Input{Title: "Min sommer", Body: "Strand og is.", CallID: &rt.call})
	must(err)
	rt.pendingCallStory = st.ID
	// A published story about the draft activity.
	st, err = d.Stories.Submit(ctx, vera, story.Input{Title: "Forberedelser", Body: "Vi planlægger.", ActivityID: &rt.draft.ID})
	must(err)
	_, err = d.Stories.Review(ctx, boss, st.ID, story.ActionPublish, "")
	must(err)
	rt.linkedToDraft = st.ID

	// rasmus and conny join vera's initiative.
	_, err = d.Initiatives.Join(ctx, rasmus, rt.initiative, "Jeg har en spade")
	must(err)
	_, err = d.Initiatives.Join(ctx, conny, rt.initiative, "")
	must(err)
	hid, err := d.Initiatives.Propose(ctx, vera, initiative.Input{Name: "Skjult forslag", Description: "Noget folk anmeldte."})
	must(err)
	for _, c := range []user.Caller{rasmus, conny, rt.callers[organiserOther]} {
		_, err = d.Initiatives.Report(ctx, c, hid.ID, "Spam")
		must(err)
	}
	rt.hiddenInitiative = hid.ID

	// A notification in rasmus' inbox.
	must(ts.db.Transact(ctx, func(tx *sqlx.Tx) error {
		return d.Notify.Notify(ctx, tx, notify.NewNotification{UserID: rt.rasmus, Kind: notify.KindAnnouncement,
			Title: "Husk", Body: "Vi ses lørdag."})
	}))
	// What the town's making told people is made before the test starts.
	ts.drain()
	must(store.Get(ctx, ts.db, &rt.notification, `SELECT id FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1`, rt.rasmus))

	// olga's announcement to her organisation's followers, rasmus among them.
	must(d.Notify.Follow(ctx, rasmus, notify.Target{Kind: notify.TargetOrganisation, OrganisationID: rt.orgA.ID}))
	must(store.Get(ctx, ts.db, &rt.rasmusFollow, `SELECT id FROM follows WHERE user_id = ?`, rt.rasmus))
	ann, err := d.Notify.SendAnnouncement(ctx, rt.callers[organiserSame], notify.Audience{Kind: notify.AudienceFollowers,
		OrganisationID: rt.orgA.ID}, "Loppemarked", "Kom og køb.")
	must(err)
	rt.announcement = ann.ID
	return rt
}

// readCase is one row of the read matrix.
type readCase struct {
	// fields are the schema fields ("Type.field") the row is about.
	fields []string
	name   string
	query  string
	vars   func(rt readTown) map[string]any
	// pick finds the value in the answer's data: a dotted path (numbers
	// index lists), or a function for lists and other shapes.
	path string
	pick func(data any, rt readTown, role string) any
	want map[string]outcome
}

// only is allowed for the roles given and null for every other.
func only(allowedRoles ...string) map[string]outcome {
	m := map[string]outcome{}
	for _, r := range roles {
		m[r] = null
		if slices.Contains(allowedRoles, r) {
			m[r] = allowed
		}
	}
	return m
}

// but overrides some roles' outcome.
func but(m map[string]outcome, o outcome, rs ...string) map[string]outcome {
	out := map[string]outcome{}
	for k, v := range m {
		out[k] = v
	}
	for _, r := range rs {
		out[r] = o
	}
	return out
}

var (
	everyone     = roles
	signedIn     = []string{firebaseAnon, unverified, resident, organiserSame, organiserOther, secretariatRol}
	organisersOf = []string{organiserSame, secretariatRol}
	nobody       = []string{}
)

func gidVars(kv ...any) func(readTown) map[string]any {
	return func(rt readTown) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(func(readTown) string)(rt)
		}
		return m
	}
}

func idOfActivity(f func(readTown) int64) func(readTown) string {
	return func(rt readTown) string { return globalID(typeActivity, f(rt)) }
}
func idOfStory(f func(readTown) int64) func(readTown) string {
	return func(rt readTown) string { return globalID(typeStory, f(rt)) }
}
func idOf2(typ string, f func(readTown) int64) func(readTown) string {
	return func(rt readTown) string { return globalID(typ, f(rt)) }
}

// listed picks the edge of list (at the dotted path) whose node has the
// global id of the given kind of thing, or nil when it is not listed.
func listed(path string, id func(readTown) string) func(any, readTown, string) any {
	return func(data any, rt readTown, _ string) any {
		list, _ := dig(data, path).([]any)
		want := id(rt)
		for _, e := range list {
			m, _ := e.(map[string]any)
			if n, ok := m["node"].(map[string]any); ok {
				m = n
			}
			if m["id"] == want {
				return m
			}
		}
		return nil
	}
}

// member picks a member of an initiative by display name, then a field.
func member(name, field string) func(any, readTown, string) any {
	return func(data any, rt readTown, _ string) any {
		list, _ := dig(data, "initiative.members").([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			if m["displayName"] == name {
				return m[field]
			}
		}
		return nil
	}
}

var readMatrix = []readCase{
	{fields: []string{"Query.me"}, name: "me", query: `{ me { id email } }`, path: "me.id", want: only(signedIn...)},

	// Search lists only what everybody may see, whoever asks.
	{fields: []string{"Query.search"}, name: "search (finds a published story)",
		query: `{ search(query: "høstfest") { edges { kind node { ... on Story { id title } } } } }`,
		pick:  listed("search.edges", idOfStory(func(rt readTown) int64 { return rt.published })), want: only(everyone...)},
	{fields: []string{"Query.search"}, name: "search (lists a draft activity)",
		query: `{ search(query: "udkast") { edges { node { ... on Activity { id } } } } }`,
		pick:  listed("search.edges", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), want: only(nobody...)},
	{fields: []string{"Query.search"}, name: "search (lists a pending story)",
		query: `{ search(query: "byttemarkedet", kinds: [STORY]) { edges { node { ... on Story { id } } } } }`,
		pick:  listed("search.edges", idOfStory(func(rt readTown) int64 { return rt.pendingStory })), want: only(nobody...)},
	{fields: []string{"Query.search"}, name: "search (lists a hidden initiative)",
		query: `{ search(query: "skjult forslag") { edges { node { ... on Initiative { id } } } } }`,
		pick:  listed("search.edges", idOf2(typeInitiative, func(rt readTown) int64 { return rt.hiddenInitiative })), want: only(nobody...)},

	// The offline sync holds what everybody may see, whoever asks: no
	// drafts (not even their organisers'), no unpublished stories.
	{fields: []string{"Query.sync", "SyncPage.changed", "SyncPage.removed", "SyncPage.hasMore", "SyncPage.token", "Activity.updatedAt"},
		name:  "sync (lists a published activity)",
		query: `{ sync(first: 100) { changed { ... on Activity { id updatedAt } } removed hasMore token } }`,
		pick:  listed("sync.changed", idOfActivity(func(rt readTown) int64 { return rt.activity.ID })), want: only(everyone...)},
	{fields: []string{"Query.sync", "SyncPage.changed", "Story.updatedAt"}, name: "sync (lists a published story)",
		query: `{ sync(first: 100) { changed { ... on Story { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOfStory(func(rt readTown) int64 { return rt.published })), want: only(everyone...)},
	{fields: []string{"Query.sync", "SyncPage.changed"}, name: "sync (lists a draft activity)",
		query: `{ sync(first: 100) { changed { ... on Activity { id } } } }`,
		pick:  listed("sync.changed", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), want: only(nobody...)},
	{fields: []string{"Query.sync", "SyncPage.changed"}, name: "sync (lists a pending story)",
		query: `{ sync(first: 100) { changed { ... on Story { id } } } }`,
		pick:  listed("sync.changed", idOfStory(func(rt readTown) int64 { return rt.pendingStory })), want: only(nobody...)},
	{fields: []string{"Query.sync", "SyncPage.changed"}, name: "sync (lists a hidden story)",
		query: `{ sync(first: 100) { changed { ... on Story { id } } } }`,
		pick:  listed("sync.changed", idOfStory(func(rt readTown) int64 { return rt.hiddenStory })), want: only(nobody...)},

	// The rest of what phones keep: slots of what is no draft, the
	// directory and the themes for everyone; a person's claims, follows
	// and inbox to that person alone, not even to the organisers or the
	// secretariat, who may see the claims elsewhere.
	{fields: []string{"Query.sync", "SyncPage.changed", "VolunteerSlot.updatedAt"}, name: "sync (lists a slot)",
		query: `{ sync(first: 100) { changed { ... on VolunteerSlot { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typeSlot, func(rt readTown) int64 { return rt.slot.ID })), want: only(everyone...)},
	{fields: []string{"Query.sync", "SyncPage.changed"}, name: "sync (lists a slot of a draft)",
		query: `{ sync(first: 100) { changed { ... on VolunteerSlot { id } } } }`,
		pick:  listed("sync.changed", idOf2(typeSlot, func(rt readTown) int64 { return rt.draftSlot.ID })), want: only(nobody...)},
	{fields: []string{"Query.sync", "SyncPage.changed", "SlotClaim.updatedAt"}, name: "sync (lists rasmus' claim)",
		query: `{ sync(first: 100) { changed { ... on SlotClaim { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typeClaim, func(rt readTown) int64 { return rt.rasmusClaim.ID })), want: only(resident)},
	{fields: []string{"Query.sync", "SyncPage.changed", "Follow.id", "Follow.updatedAt"}, name: "sync (lists rasmus' follow)",
		query: `{ sync(first: 100) { changed { ... on Follow { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typeFollow, func(rt readTown) int64 { return rt.rasmusFollow })), want: only(resident)},
	{fields: []string{"Query.node", "Follow.id"}, name: "node (rasmus' follow)",
		query: `query($id: ID!) { node(id: $id) { ... on Follow { id } } }`,
		vars:  gidVars("id", idOf2(typeFollow, func(rt readTown) int64 { return rt.rasmusFollow })), path: "node.id", want: only(resident)},
	{fields: []string{"Query.sync", "SyncPage.changed", "Notification.updatedAt"}, name: "sync (lists rasmus' notification)",
		query: `{ sync(first: 100) { changed { ... on Notification { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typeNotification, func(rt readTown) int64 { return rt.notification })), want: only(resident)},
	{fields: []string{"Query.sync", "SyncPage.changed", "Organisation.updatedAt"}, name: "sync (lists an organisation)",
		query: `{ sync(first: 100) { changed { ... on Organisation { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typeOrganisation, func(rt readTown) int64 { return rt.orgA.ID })), want: only(everyone...)},
	{fields: []string{"Query.sync", "SyncPage.changed", "Place.updatedAt"}, name: "sync (lists a place)",
		query: `{ sync(first: 100) { changed { ... on Place { id updatedAt } } } }`,
		pick:  listed("sync.changed", idOf2(typePlace, func(rt readTown) int64 { return rt.farm.ID })), want: only(everyone...)},
	{fields: []string{"Query.sync", "SyncPage.themes"}, name: "sync (the themes)",
		query: `{ sync(first: 100) { themes { slug } } }`, path: "sync.themes.0.slug", want: only(everyone...)},

	// Drafts: the organisers of the activity's organisation and the secretariat.
	{fields: []string{"Query.node", "Activity.status"}, name: "node (a draft activity)",
		query: `query($id: ID!) { node(id: $id) { ... on Activity { id title status } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "node.title", want: only(organisersOf...)},
	{fields: []string{"Query.nodes"}, name: "nodes (a draft activity)",
		query: `query($id: ID!) { nodes(ids: [$id]) { ... on Activity { title } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "nodes.0.title", want: only(organisersOf...)},
	{fields: []string{"Query.activity"}, name: "activity (a draft)",
		query: `query($id: ID!) { activity(id: $id) { title } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "activity.title", want: only(organisersOf...)},
	{fields: []string{"Query.activities"}, name: "activities (lists a draft)",
		query: `{ activities(first: 100) { edges { node { id } } } }`,
		pick:  listed("activities.edges", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), want: only(nobody...)},
	{fields: []string{"Organisation.activities"}, name: "organisation.activities (lists a draft)",
		query: `query($o: ID!) { organisation(id: $o) { activities(first: 100) { edges { node { id } } } } }`,
		vars:  gidVars("o", idOf2(typeOrganisation, func(rt readTown) int64 { return rt.orgA.ID })),
		pick:  listed("organisation.activities.edges", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), want: only(nobody...)},
	{fields: []string{"Place.activities"}, name: "place.activities (lists nothing unpublished)",
		query: `query($p: ID!) { place(id: $p) { activities(first: 100) { edges { node { id status } } } } }`,
		vars:  gidVars("p", idOf2(typePlace, func(rt readTown) int64 { return rt.farm.ID })),
		pick: func(data any, rt readTown, _ string) any {
			list, _ := dig(data, "place.activities.edges").([]any)
			for _, e := range list {
				if dig(e, "node.status") != "PUBLISHED" {
					return e
				}
			}
			return nil
		}, want: only(nobody...)},
	{fields: []string{"Query.activity", "Activity.slots"}, name: "activity.slots (of a draft)",
		query: `query($id: ID!) { activity(id: $id) { slots { id title } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "activity.slots.0.title", want: only(organisersOf...)},
	{fields: []string{"Activity.slotsConnection"}, name: "activity.slotsConnection (of a draft)",
		query: `query($id: ID!) { activity(id: $id) { slotsConnection { edges { node { id title } } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "activity.slotsConnection.edges.0.node.title", want: only(organisersOf...)},
	{fields: []string{"Query.node", "VolunteerSlot.activity"}, name: "node (a slot of a draft)",
		query: `query($id: ID!) { node(id: $id) { ... on VolunteerSlot { title activity { title } } } }`,
		vars:  gidVars("id", idOf2(typeSlot, func(rt readTown) int64 { return rt.draftSlot.ID })), path: "node.activity.title", want: only(organisersOf...)},
	{fields: []string{"Query.openSlots"}, name: "openSlots (lists a slot of a draft)",
		query: `{ openSlots(first: 100) { edges { node { id } } } }`,
		pick:  listed("openSlots.edges", idOf2(typeSlot, func(rt readTown) int64 { return rt.draftSlot.ID })), want: only(nobody...)},

	// Stories not published: the author, those who may review them (here
	// A's organisers) and the secretariat; with their photos.
	{fields: []string{"Query.node", "Story.status", "Story.photos"}, name: "node (a pending story, with its photo)",
		query: `query($id: ID!) { node(id: $id) { ... on Story { title status photos { largeUrl } } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.pendingStory })), path: "node.photos.0.largeUrl", want: only(organisersOf...)},
	{fields: []string{"Story.photos"}, name: "node (a pending story, its photo as an image)",
		query: `query($id: ID!) { node(id: $id) { ... on Story { photos { image { url(width: 320) placeholder } } } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.pendingStory })), path: "node.photos.0.image.url", want: only(organisersOf...)},
	{fields: []string{"Query.story"}, name: "story (a pending story)",
		query: `query($id: ID!) { story(id: $id) { title } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.pendingStory })), path: "story.title", want: only(organisersOf...)},
	{fields: []string{"Query.story"}, name: "story (hidden by reports, with its photo)",
		query: `query($id: ID!) { story(id: $id) { title photos { largeUrl } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.hiddenStory })), path: "story.photos.0.largeUrl", want: only(secretariatRol)},
	{fields: []string{"Query.story"}, name: "story (my own, changes requested)",
		query: `query($id: ID!) { story(id: $id) { title } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.changesStory })), path: "story.title", want: only(resident, secretariatRol)},
	{fields: []string{"Story.reviewReason"}, name: "story.reviewReason (my own story)",
		query: `query($id: ID!) { story(id: $id) { reviewReason } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.changesStory })), path: "story.reviewReason", want: only(resident, secretariatRol)},
	{fields: []string{"Story.reviewReason"}, name: "story.reviewReason (rejected, in A)",
		query: `query($id: ID!) { story(id: $id) { reviewReason } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.rejectedStory })), path: "story.reviewReason", want: only(organisersOf...)},
	{fields: []string{"Query.stories"}, name: "stories (lists anything unpublished)",
		query: `{ stories(first: 100) { edges { node { id status } } } }`,
		pick: func(data any, rt readTown, _ string) any {
			list, _ := dig(data, "stories.edges").([]any)
			for _, e := range list {
				if dig(e, "node.status") != "PUBLISHED" {
					return e
				}
			}
			return nil
		}, want: only(nobody...)},
	{fields: []string{"Call.stories"}, name: "call.stories (lists a pending story)",
		query: `query($c: ID!) { call(id: $c) { stories(first: 100) { edges { node { id } } } } }`,
		vars:  gidVars("c", idOf2(typeCall, func(rt readTown) int64 { return rt.call })),
		pick:  listed("call.stories.edges", idOfStory(func(rt readTown) int64 { return rt.pendingCallStory })), want: only(nobody...)},
	{fields: []string{"Story.mediaPickups"}, name: "story.mediaPickups",
		query: `query($id: ID!) { story(id: $id) { mediaPickups { outlet } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.photoStory })), path: "story.mediaPickups.0.outlet", want: only(secretariatRol)},
	{fields: []string{"Story.reports", "StoryReport.reporter"}, name: "story.reports (a published story omar reported)",
		query: `query($id: ID!) { story(id: $id) { reports { reason reporter { displayName } } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.photoStory })), path: "story.reports.0.reporter.displayName", want: only(secretariatRol)},
	{fields: []string{"Story.myReaction"}, name: "story.myReaction (rasmus reacted)",
		query: `query($id: ID!) { story(id: $id) { myReaction } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.photoStory })), path: "story.myReaction", want: only(resident)},
	{fields: []string{"Story.activity"}, name: "story.activity (a draft)",
		query: `query($id: ID!) { story(id: $id) { activity { title } } }`,
		vars:  gidVars("id", idOfStory(func(rt readTown) int64 { return rt.linkedToDraft })), path: "story.activity.title", want: only(organisersOf...)},
	{fields: []string{"Query.reviewQueue"}, name: "reviewQueue (holds the pending story)",
		query: `{ reviewQueue(first: 100) { edges { node { id } } } }`,
		pick:  listed("reviewQueue.edges", idOfStory(func(rt readTown) int64 { return rt.pendingStory })),
		want:  but(but(only(organisersOf...), refusedSignIn, anonymous), refusedForbidden, firebaseAnon, unverified, resident)},
	{fields: []string{"Query.stats"}, name: "stats", query: `{ stats { usersTotal } }`, path: "stats.usersTotal",
		want: but(but(only(secretariatRol), refusedSignIn, anonymous), refusedForbidden, firebaseAnon, unverified, resident, organiserSame, organiserOther)},

	// Volunteers: a claim is its volunteer's and the activity's organisers'.
	{fields: []string{"VolunteerSlot.claims", "SlotClaim.volunteer"}, name: "slot.claims (the roster)",
		query: `query($id: ID!) { activity(id: $id) { slots { claims { volunteer { displayName } } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.activity.ID })), path: "activity.slots.0.claims.0.volunteer.displayName", want: only(organisersOf...)},
	{fields: []string{"VolunteerSlot.myClaim"}, name: "slot.myClaim (rasmus has one)",
		query: `query($id: ID!) { activity(id: $id) { slots { myClaim { status } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.activity.ID })),
		pick: func(data any, rt readTown, _ string) any {
			list, _ := dig(data, "activity.slots").([]any)
			for _, sl := range list {
				if c := dig(sl, "myClaim.status"); c != nil {
					return c
				}
			}
			return nil
		}, want: only(resident)},
	{fields: []string{"Query.node", "SlotClaim.status"}, name: "node (vera's claim)",
		query: `query($id: ID!) { node(id: $id) { ... on SlotClaim { status } } }`,
		vars:  gidVars("id", idOf2(typeClaim, func(rt readTown) int64 { return rt.veraClaim.ID })), path: "node.status", want: only(organisersOf...)},
	{fields: []string{"Query.node", "SlotClaim.volunteer"}, name: "node (rasmus' claim) and its volunteer's e-mail",
		query: `query($id: ID!) { node(id: $id) { ... on SlotClaim { volunteer { email } } } }`,
		vars:  gidVars("id", idOf2(typeClaim, func(rt readTown) int64 { return rt.rasmusClaim.ID })), path: "node.volunteer.email", want: only(resident, organiserSame, secretariatRol)},

	// Guests: counts are public, names and the party the person's and the
	// activity's organisers'.
	{fields: []string{"Occurrence.attendees", "Participation.person"}, name: "occurrence.attendees (the guest list, with e-mail)",
		query: `query($id: ID!) { activity(id: $id) { nextOccurrence { attendees { partySize person { displayName email } } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.activity.ID })),
		path:  "activity.nextOccurrence.attendees.0.person.email", want: only(organisersOf...)},
	{fields: []string{"Occurrence.myParticipation"}, name: "occurrence.myParticipation (rasmus is interested)",
		query: `query($id: ID!) { activity(id: $id) { nextOccurrence { myParticipation { status } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.activity.ID })),
		path:  "activity.nextOccurrence.myParticipation.status", want: only(resident)},
	{fields: []string{"Query.node", "Participation.status"}, name: "node (vera's participation)",
		query: `query($id: ID!) { node(id: $id) { ... on Participation { status partySize } } }`,
		vars:  gidVars("id", idOf2(typeParticipation, func(rt readTown) int64 { return rt.veraGuest.ID })), path: "node.status", want: only(organisersOf...)},
	{fields: []string{"Query.node", "Participation.person"}, name: "node (rasmus' participation) and its person's e-mail",
		query: `query($id: ID!) { node(id: $id) { ... on Participation { person { email } } } }`,
		vars:  gidVars("id", idOf2(typeParticipation, func(rt readTown) int64 { return rt.rasmusGuest })), path: "node.person.email",
		want: only(resident, organiserSame, secretariatRol)},
	{fields: []string{"Query.activity", "Occurrence.headcount"}, name: "occurrence.headcount of a draft (counts are the activity's)",
		query: `query($id: ID!) { activity(id: $id) { nextOccurrence { headcount { going } } } }`,
		vars:  gidVars("id", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })), path: "activity.nextOccurrence.headcount.going",
		want: only(organisersOf...)},

	// People: shown, with their contact details, under ContactVisible only.
	{fields: []string{"Query.node", "User.displayName", "User.email"}, name: "node (vera, who volunteers for A)",
		query: `query($id: ID!) { node(id: $id) { ... on User { displayName email } } }`,
		vars:  gidVars("id", idOf2(typeUser, func(rt readTown) int64 { return rt.vera })), path: "node.email", want: only(organisersOf...)},
	{fields: []string{"Query.node", "User.phone", "User.hasApp"}, name: "node (conny, organiser of A)",
		query: `query($id: ID!) { node(id: $id) { ... on User { hasApp phone email } } }`,
		vars:  gidVars("id", idOf2(typeUser, func(rt readTown) int64 { return rt.conny })), path: "node.email", want: only(organisersOf...)},
	{fields: []string{"Organisation.organiserInvitations"}, name: "organisation.organiserInvitations (of A, to ivan)",
		query: `query($o: ID!) { organisation(id: $o) { organiserInvitations { id email inviteeName status } } }`,
		vars:  gidVars("o", idOf2(typeOrganisation, func(rt readTown) int64 { return rt.orgA.ID })), path: "organisation.organiserInvitations.0.id", want: only(organisersOf...)},
	{fields: []string{"Organisation.organisers"}, name: "organisation.organisers (of A)",
		query: `query($o: ID!) { organisation(id: $o) { organisers { email } } }`,
		vars:  gidVars("o", idOf2(typeOrganisation, func(rt readTown) int64 { return rt.orgA.ID })), path: "organisation.organisers.0.email", want: only(organisersOf...)},

	// Initiatives: names of members for anyone signed in, their contact
	// details for the proposer, its organisers and the secretariat.
	{fields: []string{"Initiative.members", "InitiativeMember.displayName"}, name: "initiative.members",
		query: `query($id: ID!) { initiative(id: $id) { members { displayName } } }`,
		vars:  gidVars("id", idOf2(typeInitiative, func(rt readTown) int64 { return rt.initiative })), path: "initiative.members.0.displayName", want: only(signedIn...)},
	{fields: []string{"InitiativeMember.email"}, name: "initiative.members: conny's e-mail",
		query: `query($id: ID!) { initiative(id: $id) { members { displayName email } } }`,
		vars:  gidVars("id", idOf2(typeInitiative, func(rt readTown) int64 { return rt.initiative })), pick: member("conny", "email"), want: only(secretariatRol)},
	{fields: []string{"InitiativeMember.email", "InitiativeMember.phone"}, name: "initiative.members: rasmus' own e-mail",
		query: `query($id: ID!) { initiative(id: $id) { members { displayName phone email } } }`,
		vars:  gidVars("id", idOf2(typeInitiative, func(rt readTown) int64 { return rt.initiative })), pick: member("rasmus", "email"), want: only(resident, secretariatRol)},
	{fields: []string{"Query.node", "Query.initiative"}, name: "initiative (hidden by reports)",
		query: `query($id: ID!) { initiative(id: $id) { name } node(id: $id) { ... on Initiative { name } } }`,
		vars:  gidVars("id", idOf2(typeInitiative, func(rt readTown) int64 { return rt.hiddenInitiative })),
		pick: func(data any, rt readTown, role string) any {
			// Both ways of asking must agree.
			if (dig(data, "initiative.name") == nil) != (dig(data, "node.name") == nil) {
				return "initiative and node disagree"
			}
			return dig(data, "initiative.name")
		}, want: only(secretariatRol)},
	{fields: []string{"Query.initiatives"}, name: "initiatives (lists a hidden one)",
		query: `{ initiatives(first: 100) { edges { node { id } } } }`,
		pick:  listed("initiatives.edges", idOf2(typeInitiative, func(rt readTown) int64 { return rt.hiddenInitiative })), want: only(nobody...)},

	// A person's inbox is theirs alone.
	{fields: []string{"Query.node", "Notification.title"}, name: "node (rasmus' notification)",
		query: `query($id: ID!) { node(id: $id) { ... on Notification { title } } }`,
		vars:  gidVars("id", idOf2(typeNotification, func(rt readTown) int64 { return rt.notification })), path: "node.title", want: only(resident)},

	// An announcement is its sender's organisation's, the secretariat's and
	// its recipients' (rasmus follows olga's organisation); how far it got,
	// the secretariat's alone.
	{fields: []string{"Query.node", "Announcement.title"}, name: "node (olga's announcement)",
		query: `query($id: ID!) { node(id: $id) { ... on Announcement { title } } }`,
		vars:  gidVars("id", idOf2(typeAnnouncement, func(rt readTown) int64 { return rt.announcement })), path: "node.title",
		want: only(resident, organiserSame, secretariatRol)},
	{fields: []string{"Announcement.delivery", "AnnouncementDelivery.sent"}, name: "node (olga's announcement) delivery",
		query: `query($id: ID!) { node(id: $id) { ... on Announcement { delivery { sent } } } }`,
		vars:  gidVars("id", idOf2(typeAnnouncement, func(rt readTown) int64 { return rt.announcement })), path: "node.delivery.sent",
		want: only(secretariatRol)},

	// Imported calendars are the secretariat's.
	{fields: []string{"Query.calendarSources", "CalendarSource.url"}, name: "calendarSources", query: `{ calendarSources { url } }`,
		path: "calendarSources.0.url",
		want: but(but(only(secretariatRol), refusedSignIn, anonymous), refusedForbidden, firebaseAnon, unverified, resident, organiserSame, organiserOther)},
	{fields: []string{"Query.node", "CalendarSource.url"}, name: "node (a calendar source)",
		query: `query($id: ID!) { node(id: $id) { ... on CalendarSource { url } } }`,
		vars:  gidVars("id", idOf2(typeCalendarSource, func(rt readTown) int64 { return rt.calendarSource })), path: "node.url", want: only(secretariatRol)},
}

// dig follows a dotted path through decoded JSON.
func dig(v any, path string) any {
	if path == "" {
		return v
	}
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[step]
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// ask runs a query as a role and says what the role got.
func ask(t *testing.T, ts *testServer, token, query string, vs map[string]any) (any, outcome) {
	t.Helper()
	resp, err := ts.client.RawPost(query, vars(flatten(vs)...), bearer(token))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	var errs []struct {
		Message    string
		Extensions map[string]any
	}
	if len(resp.Errors) > 0 {
		if err := json.Unmarshal(resp.Errors, &errs); err != nil {
			t.Fatalf("errors: %s", resp.Errors)
		}
	}
	if len(errs) > 0 {
		code, _ := errs[0].Extensions["code"].(string)
		if uc, ok := errs[0].Extensions["userErrorCode"].(string); ok && code == apperr.CodeBadUserInput {
			code = uc
		}
		switch code {
		case apperr.CodeForbidden, apperr.CodeUnauthenticated, apperr.CodeNotFound:
			return nil, outcome(code)
		}
		t.Fatalf("%s: unexpected error %s", query, resp.Errors)
	}
	return resp.Data, ""
}

func TestReadAuthorisationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		rt := makeReadTown(t, ts)
		for _, rc := range readMatrix {
			for _, role := range roles {
				var vs map[string]any
				if rc.vars != nil {
					vs = rc.vars(rt)
				}
				data, got := ask(t, ts, rt.tokens[role], rc.query, vs)
				if got == "" {
					var v any
					if rc.pick != nil {
						v = rc.pick(data, rt, role)
					} else {
						v = dig(data, rc.path)
					}
					got = null
					if v != nil {
						got = allowed
					}
				}
				if want := rc.want[role]; got != want {
					b, _ := json.Marshal(data)
					t.Errorf("%s as %s: %s, want %s (%.300s)", rc.name, role, got, want, b)
				}
			}
		}
	})
}

// publicFields need no row: what they hold is public wherever the object
// holding them may be seen, and the matrix rows show who may see that.
var publicFields = map[string]string{
	"Query":                   "organisations organisation places place themes calls call callsConnection labels",
	"Activity":                "id title description startsAt endsAt recurrence nextOccurrence occurrences place organisation themes links publishedAt importedFrom webUrl participationSettings cover",
	"Occurrence":              "activity startsAt endsAt registrationOpensAt registrationClosesAt cancelDeadline",
	"Headcount":               "going goingParties interested waitlisted waitlistedParties seats seatsLeft",
	"HeadcountUpdate":         "activityId occurrenceStartsAt headcount", // headcountUpdated has its own row (a draft's counts)
	"ParticipationSettings":   "mode seats maxPartySize opensMinutesBefore closesMinutesBefore cancelMinutesBefore notifyFilling",
	"ActivityConnection":      "edges pageInfo",
	"ActivityEdge":            "cursor node occurrence distance",
	"PageInfo":                "hasNextPage endCursor hasPreviousPage startCursor",
	"Organisation":            "id name kind description links webUrl cover",
	"OrganisationConnection":  "edges pageInfo",
	"OrganisationEdge":        "cursor node",
	"Place":                   "id name address description latitude longitude webUrl cover",
	"PlaceConnection":         "edges pageInfo",
	"PlaceEdge":               "cursor node distance",
	"ChannelLink":             "kind url label",
	"Theme":                   "slug name",
	"Story":                   "id title body authorName publishedAt themes organisation links featured reactions call webUrl",
	"StoryConnection":         "edges pageInfo",
	"StoryEdge":               "cursor node",
	"Photo":                   "id alt smallUrl largeUrl width height image",
	"Image":                   "url width height alt placeholder",
	"ReactionCount":           "kind count",
	"Call":                    "id title description deadline status organisation webUrl",
	"CallConnection":          "edges pageInfo totalCount",
	"CallEdge":                "cursor node",
	"EnumLabel":               "value label",
	"VolunteerSlot":           "id title description startsAt endsAt occurrenceStartsAt capacity taken spotsLeft waitlistLength requirement signupOpensAt signupClosesAt cancelDeadline",
	"VolunteerSlotConnection": "edges pageInfo",
	"VolunteerSlotEdge":       "cursor node",
	"Initiative":              "id name description place neighbourhood themes helpNeeded status organisation mergeMessage memberCount createdAt cover",
	"InitiativeConnection":    "edges pageInfo",
	"InitiativeEdge":          "cursor node",
	"SearchConnection":        "edges pageInfo",
	"SearchEdge":              "cursor kind node inTitle",
	"User":                    "id",
}

// withinFields are seen only by those who may see the object holding
// them, and every way to that object has a row: a claim's fields are its
// volunteer's and the organisers' (node and roster rows); Me and what
// hangs off it are the caller's own; the rest belong to one restricted
// field named beside them.
var withinFields = map[string]string{
	"Announcement":         "id body audience recipients createdAt",                    // node (announcement), sendAnnouncement
	"AnnouncementDelivery": "notified complete pending quietHours failed unregistered", // Announcement.delivery
	"SlotClaim":            "id slot waitlistPosition createdAt attendance lateCancel",
	// node (participation), occurrence.attendees and myParticipation, me.participations
	"Participation":           "id activity occurrenceStartsAt partySize guests waitlistPosition attendance lateCancel enteredByOrganiser createdAt promotedAt",
	"SlotClaimConnection":     "edges pageInfo totalCount",                                                                                                                                                                                                                                                                                                              // Me.claimsConnection
	"SlotClaimEdge":           "cursor node",                                                                                                                                                                                                                                                                                                                            // Me.claimsConnection                                                                                                                                                                                                   // node (claim), slot.claims, slot.myClaim, me.claims
	"Me":                      "id user displayName nameRequired ageGroup ageRequired guardianConsentRequired email phone language languageChosen role verified organises claims claimsConnection hours qualifications calendarFeedUrl follows notifications unreadNotifications notificationPreferences stories storiesConnection organiserInvitations participations", // Query.me
	"VolunteerHours":          "total byOrganisation",                                                                                                                                                                                                                                                                                                                   // Me.hours
	"OrganisationHours":       "organisation hours",                                                                                                                                                                                                                                                                                                                     // Me.hours
	"Qualification":           "requirement recordedAt expiresAt checkedAt organisation",                                                                                                                                                                                                                                                                                // Me.qualifications
	"Follow":                  "organisation place theme createdAt",                                                                                                                                                                                                                                                                                                     // Me.follows
	"NotificationConnection":  "edges pageInfo totalCount",                                                                                                                                                                                                                                                                                                              // Me.notifications
	"NotificationEdge":        "cursor node",                                                                                                                                                                                                                                                                                                                            // Me.notifications
	"Notification":            "id kind type body deepLink data createdAt readAt",                                                                                                                                                                                                                                                                                       // node (notification), Me.notifications
	"NotificationPreferences": "newEvents announcements reminders waitlist stories quietHoursStart quietHoursEnd",                                                                                                                                                                                                                                                       // Me.notificationPreferences
	"Initiative":              "joinedByMe proposedByMe",                                                                                                                                                                                                                                                                                                                // about the caller only
	"InitiativeMember":        "message joinedAt",                                                                                                                                                                                                                                                                                                                       // Initiative.members
	"MediaPickup":             "outlet url pickedUpAt",                                                                                                                                                                                                                                                                                                                  // Story.mediaPickups
	"StoryReport":             "reason createdAt reviewed reporterMarked counts",                                                                                                                                                                                                                                                                                        // Story.reports
	"OrganiserInvitation":     "id organisation status email inviteeName invitedByName createdAt expiresAt",                                                                                                                                                                                                                                                             // Organisation.organiserInvitations, Me.organiserInvitations
	"Stats":                   "usersTotal usersTarget newUsersPerMonth activeVolunteers volunteersPerMonth hoursTotal hoursPerMonth storiesPublishedPerMonth campaignStoriesThisYear campaignTargetMin campaignTargetMax mediaPickupsThisYear mediaPickupsTargetMin mediaPickupsTargetMax",                                                                             // Query.stats
	"MonthCount":              "month count hours",                                                                                                                                                                                                                                                                                                                      // Query.stats
	"CalendarSource":          "id organisation place themes lastFetchedAt lastSuccessAt lastError lastErrorDetail failures nextFetchAt",                                                                                                                                                                                                                                // calendarSources, node (source)
}

// readableTypes are the object types a query or subscription can reach.
func readableTypes(s *ast.Schema) map[string]bool {
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		def := s.Types[name]
		if def == nil || seen[name] || strings.HasPrefix(name, "__") {
			return
		}
		switch def.Kind {
		case ast.Object:
			seen[name] = true
			for _, f := range def.Fields {
				if !strings.HasPrefix(f.Name, "__") {
					walk(f.Type.Name())
				}
			}
		case ast.Interface, ast.Union:
			for _, impl := range s.PossibleTypes[name] {
				walk(impl.Name)
			}
		}
	}
	walk(s.Query.Name)
	if s.Subscription != nil {
		walk(s.Subscription.Name)
	}
	return seen
}

// Every field a query or subscription can reach is in the read matrix or
// listed as needing no row, and nothing listed is stale.
func TestReadMatrixCoversTheSchema(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	listed := map[string]string{}
	add := func(field, where string) {
		if prev, ok := listed[field]; ok && prev != where && !(prev == "matrix" && where == "matrix") {
			t.Errorf("%s is listed both as %s and as %s", field, prev, where)
		}
		listed[field] = where
	}
	for _, rc := range readMatrix {
		for _, f := range rc.fields {
			add(f, "matrix")
		}
	}
	for _, sc := range subscriptionMatrix {
		add(sc.field, "matrix")
	}
	for list, m := range map[string]map[string]string{"public": publicFields, "within": withinFields} {
		for typ, fields := range m {
			for _, f := range strings.Fields(fields) {
				add(typ+"."+f, list)
			}
		}
	}
	reachable := readableTypes(s)
	var missing []string
	for name := range reachable {
		for _, f := range s.Types[name].Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if _, ok := listed[name+"."+f.Name]; !ok {
				missing = append(missing, name+"."+f.Name)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s has no row in the read matrix and is not listed as public", m)
	}
	for field := range listed {
		typ, name, _ := strings.Cut(field, ".")
		if !reachable[typ] || s.Types[typ].Fields.ForName(name) == nil {
			t.Errorf("%s is listed but is not a field a query can reach", field)
		}
	}
}

// subscriptionCase is a row of the matrix for a subscription: each role
// subscribes, then something happens, and the role gets it, gets
// nothing, or is refused when it subscribes.
type subscriptionCase struct {
	field  string
	name   string
	query  string
	vars   func(rt readTown) map[string]any
	happen func(t *testing.T, ts *testServer, rt readTown)
	want   map[string]outcome
}

var subscriptionMatrix = []subscriptionCase{
	{field: "Subscription.slotChanged", name: "slotChanged (a draft's slots)",
		query: `subscription($a: ID!) { slotChanged(activityId: $a) { title } }`,
		vars:  gidVars("a", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })),
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			start := rt.draft.StartsAt
			if _, err := ts.resolver.Domain.Volunteer.AddSlot(context.Background(), rt.callers[secretariatRol], volunteer.NewSlot{
				ActivityID: rt.draft.ID, Title: "Endnu en vagt", StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 1}); err != nil {
				t.Fatal(err)
			}
		}, want: but(only(organisersOf...), refusedNotFound, anonymous, firebaseAnon, unverified, resident, organiserOther)},
	{field: "Subscription.headcountChanged", name: "headcountChanged (a guest on a draft)",
		query: `subscription($a: ID!) { headcountChanged(activityId: $a) { title } }`,
		vars:  gidVars("a", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })),
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			if _, err := ts.resolver.Domain.Participation.SignUpOnBehalf(context.Background(), rt.callers[secretariatRol], rt.draft.ID, nil,
				"Grethe", "20304050", 2); err != nil {
				t.Fatal(err)
			}
		}, want: but(only(organisersOf...), refusedNotFound, anonymous, firebaseAnon, unverified, resident, organiserOther)},
	{field: "Subscription.headcountUpdated", name: "headcountUpdated (a guest on a draft)",
		query: `subscription($a: ID!) { headcountUpdated(activityId: $a) { headcount { going } } }`,
		vars:  gidVars("a", idOfActivity(func(rt readTown) int64 { return rt.draft.ID })),
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			if _, err := ts.resolver.Domain.Participation.SignUpOnBehalf(context.Background(), rt.callers[secretariatRol], rt.draft.ID, nil,
				"Grethe", "20304051", 2); err != nil {
				t.Fatal(err)
			}
		}, want: but(only(organisersOf...), refusedNotFound, anonymous, firebaseAnon, unverified, resident, organiserOther)},
	{field: "Subscription.activityPublished", name: "activityPublished (a draft is published)",
		query: `subscription { activityPublished { title } }`,
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			if _, err := ts.resolver.Domain.Activities.Publish(context.Background(), rt.callers[secretariatRol], rt.draft.ID); err != nil {
				t.Fatal(err)
			}
		}, want: only(everyone...)},
	{field: "Subscription.storyPublished", name: "storyPublished (a pending story is published)",
		query: `subscription { storyPublished { title } }`,
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			if _, err := ts.resolver.Domain.Stories.Review(context.Background(), rt.callers[secretariatRol], rt.pendingStory, story.ActionPublish, ""); err != nil {
				t.Fatal(err)
			}
		}, want: only(everyone...)},
	{field: "Subscription.notificationReceived", name: "notificationReceived (rasmus gets one)",
		query: `subscription { notificationReceived { title } }`,
		happen: func(t *testing.T, ts *testServer, rt readTown) {
			// A waitlist promotion of rasmus, through the domain: vera
			// cancels on a full slot he waits for.
			ctx := context.Background()
			d := ts.resolver.Domain
			boss := rt.callers[secretariatRol]
			start := rt.activity.StartsAt.Add(3 * time.Hour)
			sl, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: rt.activity.ID, Title: "Oprydning",
				StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 1})
			if err != nil {
				t.Fatal(err)
			}
			vera, err := d.Users.Caller(ctx, rt.vera)
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Volunteer.Claim(ctx, vera, sl.ID, "vera-oprydning")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Volunteer.Claim(ctx, rt.callers[resident], sl.ID, "rasmus-oprydning"); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Volunteer.CancelClaim(ctx, vera, c.ID); err != nil {
				t.Fatal(err)
			}
		}, want: but(only(resident), refusedSignIn, anonymous)},
}

func TestReadMatrixSubscriptions(t *testing.T) {
	for _, sc := range subscriptionMatrix {
		t.Run(sc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ts := newTestServer(t, db)
				rt := makeReadTown(t, ts)
				hs := httptest.NewServer(ts.handler)
				t.Cleanup(hs.Close)
				srv := hs.URL
				type sub struct {
					role string
					msgs chan map[string]any
					got  outcome
				}
				var subs []*sub
				for i, role := range roles {
					c := dial(t, srv, "graphql-transport-ws")
					c.init(rt.tokens[role])
					var vs map[string]any
					if sc.vars != nil {
						vs = sc.vars(rt)
					}
					c.send(map[string]any{"id": fmt.Sprint(i), "type": "subscribe", "payload": map[string]any{"query": sc.query, "variables": vs}})
					s := &sub{role: role, msgs: make(chan map[string]any, 10)}
					// A read that times out closes the socket, so one
					// goroutine reads and the test waits on the channel.
					go func() {
						defer close(s.msgs)
						for {
							m, err := c.next(time.Minute)
							if err != nil {
								return
							}
							s.msgs <- m
						}
					}()
					subs = append(subs, s)
				}
				// A refusal comes at once; the others meanwhile reach the broker.
				time.Sleep(200 * time.Millisecond)
				for _, s := range subs {
					select {
					case m := <-s.msgs:
						s.got = subscriptionOutcome(t, m)
					default:
					}
				}
				sc.happen(t, ts, rt)
				until := time.Now().Add(time.Second)
				for _, s := range subs {
					if s.got == "" {
						// What came by the deadline, whoever was waited for first.
						s.got = null
						select {
						case m, ok := <-s.msgs:
							if ok {
								s.got = subscriptionOutcome(t, m)
							}
						case <-time.After(time.Until(until)):
							select {
							case m, ok := <-s.msgs:
								if ok {
									s.got = subscriptionOutcome(t, m)
								}
							default:
							}
						}
					}
					if want := sc.want[s.role]; s.got != want {
						t.Errorf("%s as %s: %s, want %s", sc.name, s.role, s.got, want)
					}
				}
			})
		})
	}
}

func subscriptionOutcome(t *testing.T, m map[string]any) outcome {
	t.Helper()
	// A refusal at subscribe time comes as an "error" message or, from
	// gqlgen, as a "next" carrying only errors.
	errs, _ := m["payload"].([]any)
	if m["type"] == "next" {
		if dig(m, "payload.errors") == nil {
			return allowed
		}
		errs, _ = dig(m, "payload.errors").([]any)
	}
	if len(errs) > 0 {
		code, _ := dig(errs[0], "extensions.code").(string)
		if uc, ok := dig(errs[0], "extensions.userErrorCode").(string); ok && code == apperr.CodeBadUserInput {
			code = uc
		}
		return outcome(code)
	}
	b, _ := json.Marshal(m)
	t.Fatalf("unexpected message %s", b)
	return ""
}
