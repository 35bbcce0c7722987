package graph

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// The roles of the authorisation matrix.
const (
	anonymous      = "anonymous"
	firebaseAnon   = "Firebase anonymous"
	unverified     = "unverified"
	resident       = "resident"
	organiserSame  = "organiser of the same organisation"
	organiserOther = "organiser of another organisation"
	secretariatRol = "secretariat"
)

var roles = []string{anonymous, firebaseAnon, unverified, resident, organiserSame, organiserOther, secretariatRol}

// town is the fixture every matrix cell gets afresh.
type town struct {
	now                      time.Time // the server's clock when the town was made
	callers                  map[string]user.Caller
	tokens                   map[string]string
	orgA, orgB               organisation.Organisation
	farm                     place.Place
	activity, draft          activity.Activity
	slot, pastSlot           volunteer.Slot
	veraClaim, veraPastClaim volunteer.Claim
	vera, coOrganiser        int64
	pendingStory, published  int64
	call                     int64
	initiative, proposal     int64
	calendarSource           int64
	// invitation asks ivan, who holds none of the matrix's roles, to
	// organise orgA.
	invitation int64
	// veraGuest is vera coming to the activity with one guest;
	// veraPastGuest, her party at an occurrence that has started.
	veraGuest, veraPastGuest participation.Participation
}

func makeOrganiser(t *testing.T, db *store.DB, c *user.Caller, orgID int64) {
	t.Helper()
	if _, err := store.Exec(context.Background(), db, `INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`,
		orgID, c.UserID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	fresh, err := user.NewService(db, clock.Real).Caller(context.Background(), c.UserID)
	if err != nil {
		t.Fatal(err)
	}
	*c = fresh
}

func makeTown(t *testing.T, ts *testServer) town {
	t.Helper()
	ctx := context.Background()
	d := ts.resolver.Domain
	boss := secretariat(t, ts.db)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var tw town
	tw.now = ts.now()
	var err error
	tw.orgA, err = d.Organisations.Create(ctx, boss, organisation.Input{Name: "Røde Kors Ishøj", Kind: organisation.Association})
	must(err)
	tw.orgB, err = d.Organisations.Create(ctx, boss, organisation.Input{Name: "Ungerådet", Kind: organisation.Council})
	must(err)
	tw.farm, err = d.Places.Create(ctx, boss, place.Input{Name: "Bredekærgård"})
	must(err)

	tw.callers = map[string]user.Caller{anonymous: {}}
	tw.tokens = map[string]string{anonymous: ""}
	for role, name := range map[string]string{unverified: "ukendt", resident: "rasmus", organiserSame: "olga",
		organiserOther: "omar", secretariatRol: "sekretariat"} {
		tw.tokens[role], tw.callers[role] = ts.person(name, role != unverified)
	}
	// Firebase's one-click anonymous sign-in: no e-mail, no name.
	tw.tokens[firebaseAnon], tw.callers[firebaseAnon] = ts.signUp("token-firebase-anonymous", user.Identity{UID: "uid-anonymous", Anonymous: true})
	if _, _, err := ts.resolver.Domain.Users.GrantSecretariat(ctx, "", "uid-sekretariat"); err != nil {
		t.Fatal(err)
	}
	// The caller as of after the grant, for tests that call the domain
	// with it (a token is resolved afresh on each request anyway).
	tw.callers[secretariatRol], err = ts.resolver.Domain.Users.Caller(ctx, tw.callers[secretariatRol].UserID)
	must(err)
	same, other := tw.callers[organiserSame], tw.callers[organiserOther]
	makeOrganiser(t, ts.db, &same, tw.orgA.ID)
	makeOrganiser(t, ts.db, &other, tw.orgB.ID)
	tw.callers[organiserSame], tw.callers[organiserOther] = same, other
	_, co := ts.person("conny", true)
	makeOrganiser(t, ts.db, &co, tw.orgA.ID)
	tw.coOrganiser = co.UserID
	_, vera := ts.person("vera", true)
	tw.vera = vera.UserID

	start := ts.now().Add(72 * time.Hour).Truncate(time.Hour)
	tw.activity, err = d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID, PlaceID: &tw.farm.ID,
		Title: "Byttemarked", StartsAt: start, EndsAt: start.Add(5 * time.Hour)}, true)
	must(err)
	tw.draft, err = d.Activities.Create(ctx, boss, activity.Input{OrganisationID: tw.orgA.ID,
		Title: "Udkast", StartsAt: start, EndsAt: start.Add(time.Hour)}, false)
	must(err)
	pending, err := d.Stories.Submit(ctx, vera, story.Input{Title: "Byttemarkedet", Body: "300 gæster og 360 kg tøj.", OrganisationID: &tw.orgA.ID})
	must(err)
	tw.pendingStory = pending.ID
	pub, err := d.Stories.Submit(ctx, vera, story.Input{Title: "Høstfest", Body: "Vi høstede sammen.", OrganisationID: &tw.orgA.ID})
	must(err)
	_, err = d.Stories.Review(ctx, boss, pub.ID, story.ActionPublish, "")
	must(err)
	tw.published = pub.ID
	call, err := d.Stories.OpenCall(ctx, boss, story.CallInput{Title: "Min sommer i Ishøj", Description: "Send dit bedste sommerbillede.",
		Deadline: ts.now().Add(30 * 24 * time.Hour)})
	must(err)
	tw.call = call.ID
	in, err := d.Initiatives.Propose(ctx, vera, initiative.Input{Name: "Dyrk Vejleåparken", Description: "Små haver mellem blokkene.",
		HelpNeeded: "3 med grønne fingre lørdag formiddag"})
	must(err)
	_, err = d.Initiatives.RequestApproval(ctx, vera, in.ID)
	must(err)
	tw.initiative = in.ID
	swap, err := d.Initiatives.Propose(ctx, vera, initiative.Input{Name: "Bytteringen", Description: "Byt værktøj med naboen."})
	must(err)
	tw.proposal = swap.ID
	src, err := d.CalendarImport.AddSource(ctx, boss, "https://kalender.example/det-sker.ics", tw.orgA.ID, nil, nil)
	must(err)
	tw.calendarSource = src.ID
	ts.person("ivan", true)
	inv, err := d.Organisations.Invite(ctx, tw.callers[organiserSame], organisation.InviteInput{OrganisationID: tw.orgA.ID,
		Email: "ivan@test.example"})
	must(err)
	tw.invitation = inv.ID
	expires := ts.now().AddDate(1, 0, 0)
	_, err = d.Volunteer.RecordQualification(ctx, boss, volunteer.QualificationInput{UserID: vera.UserID, OrganisationID: tw.orgA.ID,
		Requirement: volunteer.ChildCertificate, ExpiresAt: &expires})
	must(err)
	tw.slot, err = d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: "Opstilling",
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: 5})
	must(err)
	tw.veraClaim, err = d.Volunteer.Claim(ctx, vera, tw.slot.ID, "vera-1")
	must(err)

	// A slot that has started, for attendance: made directly, since the
	// domain rightly refuses slots in the past.
	past := ts.now().Add(-2 * time.Hour).Truncate(time.Second)
	var pastID, claimID int64
	must(store.Get(ctx, ts.db, &pastID, `INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, taken, created_at)
		VALUES (?, 'Oprydning', ?, ?, 3, 1, ?) RETURNING id`, tw.activity.ID, past, past.Add(time.Hour), past))
	must(store.Get(ctx, ts.db, &claimID, `INSERT INTO slot_claims (slot_id, user_id, status, created_at, confirmed_at)
		VALUES (?, ?, 'CONFIRMED', ?, ?) RETURNING id`, pastID, vera.UserID, past, past))
	tw.pastSlot.ID, tw.veraPastClaim.ID = pastID, claimID
	tw.veraGuest, err = d.Participation.Participate(ctx, vera, participation.Input{ActivityID: tw.activity.ID,
		Status: participation.Going, Guests: 1, IdempotencyKey: "vera-guest-1"})
	must(err)
	// A party at an occurrence that has started, for attendance: made
	// directly, as the past slot.
	must(store.Get(ctx, ts.db, &tw.veraPastGuest.ID, `INSERT INTO participations (activity_id, occurrence_starts_at, user_id, status,
		party_size, created_by, created_at, updated_at, confirmed_at) VALUES (?, ?, ?, 'GOING', 2, ?, ?, ?, ?) RETURNING id`,
		tw.activity.ID, past, vera.UserID, vera.UserID, past, past, past))
	// What the town's making told people is made before the test starts.
	ts.drain()
	return tw
}

type matrixCase struct {
	name    string
	query   string
	vars    func(tw town) map[string]any
	allowed []string
}

func everyoneSignedIn() []string {
	return []string{firebaseAnon, unverified, resident, organiserSame, organiserOther, secretariatRol}
}

var verifiedPeople = []string{resident, organiserSame, organiserOther, secretariatRol}
var managers = []string{organiserSame, secretariatRol}

// matrix lists every mutation with who may call it. Later issues add rows.
var matrix = []matrixCase{
	{"updateMe", `mutation($i: UpdateMeInput!) { updateMe(input: $i) { me { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"displayName": "Nyt navn"} }, everyoneSignedIn()},
	{"recordGuardianConsent", `mutation($i: RecordGuardianConsentInput!) { recordGuardianConsent(input: $i) { user { id } guardianConsentAt userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"userId": globalID(typeUser, tw.vera), "consent": true}
		}, []string{secretariatRol}},
	{"withdrawGuardianConsent", `mutation($i: WithdrawGuardianConsentInput!) { withdrawGuardianConsent(input: $i) { user { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"userId": globalID(typeUser, tw.vera)} }, []string{secretariatRol}},
	{"createOrganisation", `mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"name": "Dyrk Ishøj", "kind": "INFORMAL_INITIATIVE"}
		}, []string{secretariatRol}},
	{"updateOrganisation", `mutation($i: UpdateOrganisationInput!) { updateOrganisation(input: $i) { organisation { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "name": "Røde Kors", "kind": "ASSOCIATION"}
		}, managers},
	{"addOrganiser", `mutation($i: AddOrganiserInput!) { addOrganiser(input: $i) { user { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "email": "ny@test.example"}
		}, managers},
	{"removeOrganiser", `mutation($i: RemoveOrganiserInput!) { removeOrganiser(input: $i) { user { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "userId": globalID(typeUser, tw.coOrganiser)}
		}, managers},
	{"createPlace", `mutation($i: CreatePlaceInput!) { createPlace(input: $i) { place { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"name": "Havhytten"} }, []string{secretariatRol}},
	{"updatePlace", `mutation($i: UpdatePlaceInput!) { updatePlace(input: $i) { place { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"placeId": globalID(typePlace, tw.farm.ID), "name": "Bredekærgård", "address": "Bredekærs Vænge 1"}
		}, []string{secretariatRol}},
	{"exportMyData", `mutation { exportMyData { data userErrors { code } } }`, nil, everyoneSignedIn()},
	{"deleteMyAccount", `mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"stories": "ANONYMISE", "confirm": true} }, everyoneSignedIn()},
	{"claimSlot", `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "k1"}
		}, verifiedPeople},
	{"cancelClaim (someone else's)", `mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { claim { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"claimId": globalID(typeClaim, tw.veraClaim.ID)} }, managers},
	{"createActivity", `mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			start := tw.now.Add(96 * time.Hour).Truncate(time.Hour)
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "title": "Førstehjælp",
				"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339)}
		}, managers},
	{"updateActivity", `mutation($i: UpdateActivityInput!) { updateActivity(input: $i) { activity { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "title": "Stort byttemarked",
				"startsAt": tw.activity.StartsAt.Format(time.RFC3339), "endsAt": tw.activity.EndsAt.Format(time.RFC3339)}
		}, managers},
	{"publishActivity", `mutation($i: ActivityIdInput!) { publishActivity(input: $i) { activity { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"activityId": globalID(typeActivity, tw.draft.ID)} }, managers},
	{"cancelActivity", `mutation($i: ActivityIdInput!) { cancelActivity(input: $i) { activity { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID)}
		}, managers},
	{"addVolunteerSlot", `mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { slot { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "title": "Kaffe",
				"startsAt": tw.activity.StartsAt.Format(time.RFC3339), "endsAt": tw.activity.StartsAt.Add(time.Hour).Format(time.RFC3339), "capacity": 2}
		}, managers},
	{"updateVolunteerSlot", `mutation($i: UpdateVolunteerSlotInput!) { updateVolunteerSlot(input: $i) { slot { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "title": "Opstilling af borde",
				"startsAt": tw.slot.StartsAt.Format(time.RFC3339), "endsAt": tw.slot.EndsAt.Format(time.RFC3339), "capacity": 6}
		}, managers},
	{"removeVolunteerSlot", `mutation($i: RemoveVolunteerSlotInput!) { removeVolunteerSlot(input: $i) { removed userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"slotId": globalID(typeSlot, tw.slot.ID)} }, managers},
	{"signUpVolunteer", `mutation($i: SignUpVolunteerInput!) { signUpVolunteer(input: $i) { claim { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "name": "Grethe", "phone": "12 34 56 78"}
		}, managers},
	{"markAttendance", `mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { claim { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"claimId": globalID(typeClaim, tw.veraPastClaim.ID), "attendance": "ATTENDED"}
		}, managers},
	{"recordQualification", `mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { user { id } qualification { checkedAt } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"userId": globalID(typeUser, tw.vera), "organisationId": globalID(typeOrganisation, tw.orgA.ID),
				"requirement": "CHILD_CERTIFICATE"}
		}, managers},
	{"revokeQualification", `mutation($i: RevokeQualificationInput!) { revokeQualification(input: $i) { revoked userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"userId": globalID(typeUser, tw.vera), "organisationId": globalID(typeOrganisation, tw.orgA.ID),
				"requirement": "CHILD_CERTIFICATE"}
		}, managers},
	{"inviteOrganiser (by e-mail)", `mutation($i: InviteOrganiserInput!) { inviteOrganiser(input: $i) { invitation { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "email": "ny@test.example"}
		}, managers},
	{"inviteOrganiser (by id, a volunteer of the organisation)", `mutation($i: InviteOrganiserInput!) { inviteOrganiser(input: $i) { invitation { id inviteeName } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "userId": globalID(typeUser, tw.vera)}
		}, managers},
	{"acceptOrganiserInvitation (someone else's)", `mutation($i: OrganiserInvitationIdInput!) { acceptOrganiserInvitation(input: $i) { invitation { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"invitationId": globalID(typeOrganiserInvitation, tw.invitation)}
		}, nil},
	{"declineOrganiserInvitation (someone else's)", `mutation($i: OrganiserInvitationIdInput!) { declineOrganiserInvitation(input: $i) { invitation { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"invitationId": globalID(typeOrganiserInvitation, tw.invitation)}
		}, nil},
	{"revokeOrganiserInvitation", `mutation($i: OrganiserInvitationIdInput!) { revokeOrganiserInvitation(input: $i) { invitation { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"invitationId": globalID(typeOrganiserInvitation, tw.invitation)}
		}, managers},
	{"registerDevice", `mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { registered userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"token": "fcm-token-1", "platform": "ANDROID"} }, everyoneSignedIn()},
	{"unregisterDevice", `mutation($i: UnregisterDeviceInput!) { unregisterDevice(input: $i) { unregistered userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"token": "fcm-token-none"} }, everyoneSignedIn()},
	{"follow", `mutation($i: FollowInput!) { follow(input: $i) { follows { createdAt } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID)}
		}, everyoneSignedIn()},
	{"unfollow", `mutation($i: FollowInput!) { unfollow(input: $i) { follows { createdAt } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"theme": "mad"} }, everyoneSignedIn()},
	{"updateNotificationPreferences", `mutation($i: NotificationPreferencesInput!) { updateNotificationPreferences(input: $i) { preferences { quietHoursStart } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"newEvents": false, "quietHoursStart": "23:00"} }, everyoneSignedIn()},
	{"markNotificationsRead", `mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"all": true} }, everyoneSignedIn()},
	{"sendAnnouncement (followers of the organisation)", `mutation($i: SendAnnouncementInput!) { sendAnnouncement(input: $i) { announcement { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"audience": "FOLLOWERS", "organisationId": globalID(typeOrganisation, tw.orgA.ID), "title": "Husk", "body": "Vi ses lørdag."}
		}, managers},
	{"sendAnnouncement (volunteers of an activity)", `mutation($i: SendAnnouncementInput!) { sendAnnouncement(input: $i) { announcement { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"audience": "ACTIVITY_VOLUNTEERS", "activityId": globalID(typeActivity, tw.activity.ID), "title": "Husk", "body": "Mød op kl. 9."}
		}, managers},
	{"sendAnnouncement (participants of an activity)", `mutation($i: SendAnnouncementInput!) { sendAnnouncement(input: $i) { announcement { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"audience": "PARTICIPANTS", "activityId": globalID(typeActivity, tw.activity.ID), "title": "Husk", "body": "Tag en tallerken med."}
		}, managers},
	{"sendAnnouncement (town-wide)", `mutation($i: SendAnnouncementInput!) { sendAnnouncement(input: $i) { announcement { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"audience": "TOWN", "title": "Byfest", "body": "Kom til byfest på havnen."}
		}, []string{secretariatRol}},
	{"submitStory", `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"title": "Spisevenner", "body": "Vi spiste sammen.", "consentPeople": true, "hasChildren": false}
		}, verifiedPeople},
	{"editStory (someone else's)", `mutation($i: EditStoryInput!) { editStory(input: $i) { story { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.pendingStory), "title": "Ny titel", "body": "Ny tekst",
				"consentPeople": true, "hasChildren": false}
		}, nil},
	{"withdrawStory (someone else's)", `mutation($i: StoryIdInput!) { withdrawStory(input: $i) { story { id } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"storyId": globalID(typeStory, tw.pendingStory)} }, nil},
	{"reviewStory", `mutation($i: ReviewStoryInput!) { reviewStory(input: $i) { story { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.pendingStory), "action": "PUBLISH"}
		}, []string{secretariatRol}},
	{"featureStory", `mutation($i: FeatureStoryInput!) { featureStory(input: $i) { story { id featured } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.published), "featured": true}
		},
		[]string{secretariatRol}},
	{"recordMediaPickup", `mutation($i: RecordMediaPickupInput!) { recordMediaPickup(input: $i) { story { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.published), "outlet": "TV 2 Lorry", "pickedUpAt": tw.now.Format(time.RFC3339)}
		}, []string{secretariatRol}},
	{"reactToStory", `mutation($i: ReactToStoryInput!) { reactToStory(input: $i) { story { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.published), "kind": "HEART"}
		},
		everyoneSignedIn()},
	// Firebase's anonymous sign-in costs a tap: three such accounts hid any
	// story. Reporting takes a verified account.
	{"reportStory", `mutation($i: ReportStoryInput!) { reportStory(input: $i) { story { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, tw.published), "reason": "Forkert billede"}
		},
		verifiedPeople},
	{"markStoryReporter", `mutation($i: MarkStoryReporterInput!) { markStoryReporter(input: $i) { marked userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"userId": globalID(typeUser, tw.vera), "misuse": true, "reason": "Anmelder alt"}
		},
		[]string{secretariatRol}},
	{"openCall (for an organisation)", `mutation($i: OpenCallInput!) { openCall(input: $i) { call { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"title": "Ishøj i 1970'erne", "description": "Gamle familiebilleder.",
				"deadline": tw.now.Add(60 * 24 * time.Hour).Format(time.RFC3339), "organisationId": globalID(typeOrganisation, tw.orgA.ID)}
		}, managers},
	{"closeCall (the municipality's)", `mutation($i: CallIdInput!) { closeCall(input: $i) { call { id status } userErrors { code } } }`,
		func(tw town) map[string]any { return map[string]any{"callId": globalID(typeCall, tw.call)} }, []string{secretariatRol}},
	{"proposeInitiative", `mutation($i: ProposeInitiativeInput!) { proposeInitiative(input: $i) { initiative { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"name": "Lektiecafé", "description": "Hjælp til lektier."}
		}, verifiedPeople},
	{"joinInitiative", `mutation($i: JoinInitiativeInput!) { joinInitiative(input: $i) { initiative { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.proposal), "message": "Jeg er med"}
		},
		verifiedPeople},
	{"leaveInitiative", `mutation($i: InitiativeIdInput!) { leaveInitiative(input: $i) { initiative { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.initiative)}
		},
		everyoneSignedIn()},
	{"requestInitiativeApproval (someone else's)", `mutation($i: InitiativeIdInput!) { requestInitiativeApproval(input: $i) { initiative { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.proposal)}
		}, nil},
	{"approveInitiative", `mutation($i: ApproveInitiativeInput!) { approveInitiative(input: $i) { initiative { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.initiative)}
		},
		[]string{secretariatRol}},
	{"mergeInitiative", `mutation($i: MergeInitiativeInput!) { mergeInitiative(input: $i) { initiative { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.proposal), "organisationId": globalID(typeOrganisation, tw.orgA.ID),
				"message": "Røde Kors gør allerede dette – kom og vær med!"}
		}, []string{secretariatRol}},
	{"closeInitiative (someone else's)", `mutation($i: InitiativeIdInput!) { closeInitiative(input: $i) { initiative { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.proposal)}
		},
		[]string{secretariatRol}},
	{"reportInitiative", `mutation($i: ReportInitiativeInput!) { reportInitiative(input: $i) { userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"initiativeId": globalID(typeInitiative, tw.proposal), "reason": "Spam"}
		},
		verifiedPeople},
	{"addCalendarSource", `mutation($i: AddCalendarSourceInput!) { addCalendarSource(input: $i) { source { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"url": "https://kultur.example/kalender.ics", "organisationId": globalID(typeOrganisation, tw.orgA.ID)}
		}, []string{secretariatRol}},
	{"removeCalendarSource", `mutation($i: CalendarSourceIdInput!) { removeCalendarSource(input: $i) { removed userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"sourceId": globalID(typeCalendarSource, tw.calendarSource)}
		},
		[]string{secretariatRol}},
	{"fetchCalendarSource", `mutation($i: CalendarSourceIdInput!) { fetchCalendarSource(input: $i) { source { id } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"sourceId": globalID(typeCalendarSource, tw.calendarSource)}
		},
		[]string{secretariatRol}},
	{"participate", `mutation($i: ParticipateInput!) { participate(input: $i) { participation { id status } headcount { going } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "status": "GOING", "guests": 2, "idempotencyKey": "p1"}
		}, verifiedPeople},
	{"cancelParticipation (someone else's)", `mutation($i: ParticipationIdInput!) { cancelParticipation(input: $i) { participation { id status } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"participationId": globalID(typeParticipation, tw.veraGuest.ID)}
		}, managers},
	{"signUpGuest", `mutation($i: SignUpGuestInput!) { signUpGuest(input: $i) { participation { id person { phone } } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "name": "Grethe", "phone": "12 34 56 78", "partySize": 3}
		}, managers},
	{"markParticipantAttendance", `mutation($i: MarkParticipantAttendanceInput!) { markParticipantAttendance(input: $i) { participation { id attendance } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"participationId": globalID(typeParticipation, tw.veraPastGuest.ID), "attendance": "ATTENDED"}
		}, managers},
	{"setParticipationSettings", `mutation($i: ParticipationSettingsInput!) { setParticipationSettings(input: $i) { activity { participationSettings { mode seats } } userErrors { code } } }`,
		func(tw town) map[string]any {
			return map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "mode": "SEAT_LIMITED", "seats": 30, "maxPartySize": 4}
		}, managers},
	{"createCalendarFeed", `mutation { createCalendarFeed { url userErrors { code } } }`, nil, everyoneSignedIn()},
	{"revokeCalendarFeed", `mutation { revokeCalendarFeed { revoked userErrors { code } } }`, nil, everyoneSignedIn()},
	// Covers: whoever may edit the thing (issue 19).
	{"setCover (activity)", setCoverMutation, coverInput(func(tw town) string { return globalID(typeActivity, tw.activity.ID) }), managers},
	{"setCover (draft activity)", setCoverMutation, coverInput(func(tw town) string { return globalID(typeActivity, tw.draft.ID) }), managers},
	{"setCover (organisation)", setCoverMutation, coverInput(func(tw town) string { return globalID(typeOrganisation, tw.orgA.ID) }), managers},
	{"setCover (place)", setCoverMutation, coverInput(func(tw town) string { return globalID(typePlace, tw.farm.ID) }), []string{secretariatRol}},
	{"setCover (someone else's initiative)", setCoverMutation, coverInput(func(tw town) string { return globalID(typeInitiative, tw.initiative) }), []string{secretariatRol}},
	{"removeCover (activity)", removeCoverMutation, targetInput(func(tw town) string { return globalID(typeActivity, tw.activity.ID) }), managers},
	{"removeCover (draft activity)", removeCoverMutation, targetInput(func(tw town) string { return globalID(typeActivity, tw.draft.ID) }), managers},
	{"removeCover (organisation)", removeCoverMutation, targetInput(func(tw town) string { return globalID(typeOrganisation, tw.orgA.ID) }), managers},
	{"removeCover (place)", removeCoverMutation, targetInput(func(tw town) string { return globalID(typePlace, tw.farm.ID) }), []string{secretariatRol}},
	{"removeCover (someone else's initiative)", removeCoverMutation, targetInput(func(tw town) string { return globalID(typeInitiative, tw.initiative) }), []string{secretariatRol}},
}

const (
	setCoverMutation = `mutation($i: SetCoverInput!) { setCover(input: $i) {
		activity { id cover { url } } organisation { id cover { url } } place { id cover { url } } initiative { id cover { url } } userErrors { code } } }`
	removeCoverMutation = `mutation($i: RemoveCoverInput!) { removeCover(input: $i) {
		activity { id } organisation { id } place { id } initiative { id } userErrors { code } } }`
)

func coverInput(target func(tw town) string) func(tw town) map[string]any {
	return func(tw town) map[string]any {
		return map[string]any{"targetId": target(tw), "file": coverFile(), "alt": "Et billede"}
	}
}

func targetInput(target func(tw town) string) func(tw town) map[string]any {
	return func(tw town) map[string]any { return map[string]any{"targetId": target(tw)} }
}

// refusal tells how a call was refused, or "" when it was allowed and
// succeeded. Anything else (a fault, an unexpected user error) fails.
func refusal(t *testing.T, resp map[string]any, err error) string {
	t.Helper()
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, `"code":"FORBIDDEN"`):
			return "FORBIDDEN"
		case strings.Contains(msg, `"code":"UNAUTHENTICATED"`):
			return "UNAUTHENTICATED"
		}
		t.Fatalf("unexpected error: %v", err)
	}
	for _, v := range resp {
		payload, _ := v.(map[string]any)
		ues, _ := payload["userErrors"].([]any)
		if len(ues) == 0 {
			continue
		}
		code := ues[0].(map[string]any)["code"]
		switch code {
		case "VERIFIED_ACCOUNT_REQUIRED":
			return "VERIFIED_ACCOUNT_REQUIRED"
		case "INITIATIVE_NOT_JOINED":
			// Allowed: anyone signed in may leave, and this one had not joined.
			return ""
		case "STORY_NOT_FOUND", "ACTIVITY_NOT_FOUND", "SLOT_NOT_FOUND", "CLAIM_NOT_FOUND", "PARTICIPATION_NOT_FOUND",
			"INVITATION_NOT_FOUND", "INVITATION_WRONG_ACCOUNT", "USER_NOT_FOUND":
			// A story, a draft (and its slots), someone else's claim or sign-up, an
			// invitation or a person one may not see is answered as if it
			// did not exist, so its existence does not leak; an organiser
			// sees an invitation but cannot answer it.
			return code.(string)
		}
		t.Fatalf("unexpected user errors: %v", ues)
	}
	return ""
}

func TestAuthorisationMatrix(t *testing.T) {
	// Every cell starts from the same town. Making it through the domain
	// costs far more than copying a database file, so it is made once and
	// each cell gets a copy.
	ctx := context.Background()
	template := filepath.Join(t.TempDir(), "town.db")
	tdb, err := store.Open(ctx, template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tdb.Close() })
	if _, err := tdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tts := newTestServer(t, tdb)
	tw := makeTown(t, tts)
	// Fold the write-ahead log into the file, so a copy holds everything.
	if _, err := tdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	townFile, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	for _, mc := range matrix {
		for _, role := range roles {
			t.Run(mc.name+"/"+role, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "cell.db")
				if err := os.WriteFile(path, townFile, 0o600); err != nil {
					t.Fatal(err)
				}
				db, err := store.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				ts := newTestServer(t, db)
				tts.tokens.mu.Lock()
				for token, id := range tts.tokens.identities {
					ts.tokens.identities[token] = id
				}
				tts.tokens.mu.Unlock()
				var resp map[string]any
				var vs map[string]any
				if mc.vars != nil {
					vs = map[string]any{"i": mc.vars(tw)}
				}
				err = ts.client.Post(mc.query, &resp, vars(flatten(vs)...), bearer(tw.tokens[role]))
				got := refusal(t, resp, err)
				want := contains(mc.allowed, role)
				switch {
				case want && got != "":
					t.Errorf("%s as %s: refused with %s, want allowed", mc.name, role, got)
				case !want && got == "":
					t.Errorf("%s as %s: ALLOWED, want refused", mc.name, role)
				case !want && role == anonymous && got != "UNAUTHENTICATED":
					t.Errorf("%s as visitor: %s, want UNAUTHENTICATED", mc.name, got)
				}
			})
		}
	}
}

func flatten(m map[string]any) []any {
	var out []any
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Restricted fields are null for those who may not see them.
func TestRestrictedFields(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	q := `query($a: ID!, $d: ID!, $o: ID!) {
		activity(id: $a) { slots { claims { volunteer { email phone } } } }
		draft: activity(id: $d) { id }
		organisation(id: $o) { organisers { id } }
	}`
	type result struct {
		Activity struct {
			Slots []struct {
				Claims []struct {
					Volunteer struct{ Email, Phone *string }
				}
			}
		}
		Draft        *struct{ ID string }
		Organisation struct{ Organisers []struct{ ID string } }
	}
	for _, role := range roles {
		var r result
		ts.client.MustPost(q, &r, vars("a", globalID(typeActivity, tw.activity.ID), "d", globalID(typeActivity, tw.draft.ID),
			"o", globalID(typeOrganisation, tw.orgA.ID)), bearer(tw.tokens[role]))
		mayManage := contains(managers, role)
		if got := r.Activity.Slots[0].Claims != nil; got != mayManage {
			t.Errorf("slot claims visible to %s: %v, want %v", role, got, mayManage)
		}
		if mayManage && (len(r.Activity.Slots[0].Claims) != 1 || r.Activity.Slots[0].Claims[0].Volunteer.Email == nil) {
			t.Errorf("%s cannot see the volunteer's e-mail: %+v", role, r.Activity.Slots[0].Claims)
		}
		if got := r.Draft != nil; got != mayManage {
			t.Errorf("draft visible to %s: %v, want %v", role, got, mayManage)
		}
		if got := r.Organisation.Organisers != nil; got != mayManage {
			t.Errorf("organisers visible to %s: %v, want %v", role, got, mayManage)
		}
	}

	// A visitor has no "me".
	var me struct{ Me *struct{ ID string } }
	ts.client.MustPost(`{ me { id } }`, &me)
	if me.Me != nil {
		t.Error("me for a visitor")
	}
}
