package graph

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// A person whose sign-in token had no name may browse, but claiming a
// slot or proposing an initiative answers NAME_REQUIRED (in their
// language) until updateMe sets one; then the same tap works. Whoever
// has no name (an older account) is shown under a neutral stand-in,
// never as an empty string.
func TestDisplayNameRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		nina, ninaCaller := ts.signUp("token-nina", user.Identity{UID: "uid-nina", Email: "nina@test.example", EmailVerified: true})

		type userError struct{ ErrorCode, Message string }
		var me struct {
			Me struct {
				DisplayName  string
				NameRequired bool
				User         struct{ DisplayName string }
			}
		}
		ts.client.MustPost(`{ me { displayName nameRequired user { displayName } } }`, &me, bearer(nina))
		if me.Me.DisplayName != "" || !me.Me.NameRequired || me.Me.User.DisplayName != "En frivillig" {
			t.Errorf("me without a name: %+v", me.Me)
		}

		claim := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { errorCode message } } }`
		tap := vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "tap-nina"})
		var refused, english, done struct {
			ClaimSlot struct {
				Claim      *struct{ ID, Status string }
				UserErrors []userError
			}
		}
		ts.client.MustPost(claim, &refused, tap, bearer(nina))
		if refused.ClaimSlot.Claim != nil || len(refused.ClaimSlot.UserErrors) != 1 || refused.ClaimSlot.UserErrors[0].ErrorCode != "NAME_REQUIRED" ||
			refused.ClaimSlot.UserErrors[0].Message != "Vælg det navn, andre skal se dig under, før du gør det." {
			t.Fatalf("claim without a name: %+v", refused.ClaimSlot)
		}
		ts.client.MustPost(claim, &english, tap, bearer(nina), lang("en"))
		if len(english.ClaimSlot.UserErrors) != 1 || english.ClaimSlot.UserErrors[0].Message != "Choose the name others will see you by before you do that." {
			t.Errorf("claim without a name, in English: %+v", english.ClaimSlot)
		}
		var propose struct {
			ProposeInitiative struct {
				Initiative *struct{ ID string }
				UserErrors []userError
			}
		}
		ts.client.MustPost(`mutation($i: ProposeInitiativeInput!) { proposeInitiative(input: $i) { initiative { id } userErrors { errorCode message } } }`,
			&propose, vars("i", map[string]any{"name": "Loppemarked", "description": "På torvet"}), bearer(nina))
		if propose.ProposeInitiative.Initiative != nil || len(propose.ProposeInitiative.UserErrors) != 1 || propose.ProposeInitiative.UserErrors[0].ErrorCode != "NAME_REQUIRED" {
			t.Errorf("proposal without a name: %+v", propose.ProposeInitiative)
		}

		var update struct {
			UpdateMe struct {
				Me         *struct{ NameRequired bool }
				UserErrors []userError
			}
		}
		ts.client.MustPost(`mutation { updateMe(input: {displayName: "Nina"}) { me { nameRequired } userErrors { errorCode message } } }`, &update, bearer(nina))
		if update.UpdateMe.Me == nil || update.UpdateMe.Me.NameRequired {
			t.Fatalf("updateMe: %+v", update.UpdateMe)
		}
		// The refusal was not remembered under the tap's key: the same tap
		// now claims.
		ts.client.MustPost(claim, &done, tap, bearer(nina))
		if done.ClaimSlot.Claim == nil || len(done.ClaimSlot.UserErrors) != 0 {
			t.Fatalf("claim with a name: %+v", done.ClaimSlot)
		}

		// An account that has no name (from before names were asked for)
		// is on the roster under the stand-in, in the reader's language.
		if _, err := store.Exec(context.Background(), db, `UPDATE users SET display_name = '' WHERE id = ?`, ninaCaller.UserID); err != nil {
			t.Fatal(err)
		}
		roster := `query($id: ID!) { node(id: $id) { ... on VolunteerSlot { claims { volunteer { id displayName } } } } }`
		for _, c := range []struct{ lang, want string }{{"da", "En frivillig"}, {"en", "A volunteer"}} {
			var got struct {
				Node struct {
					Claims []struct {
						Volunteer struct{ ID, DisplayName string }
					}
				}
			}
			ts.client.MustPost(roster, &got, vars("id", globalID(typeSlot, tw.slot.ID)), bearer(tw.tokens[organiserSame]), lang(c.lang))
			found := false
			for _, cl := range got.Node.Claims {
				if cl.Volunteer.DisplayName == "" {
					t.Errorf("%s: an empty name on the roster: %+v", c.lang, got.Node.Claims)
				}
				found = found || (cl.Volunteer.ID == globalID(typeUser, ninaCaller.UserID) && cl.Volunteer.DisplayName == c.want)
			}
			if !found {
				t.Errorf("%s: nina not on the roster as %q: %+v", c.lang, c.want, got.Node.Claims)
			}
		}
	})
}

// A person who says they are under 13 may browse but not claim a slot
// (PARENTAL_CONSENT_REQUIRED) until the secretariat records a guardian's
// consent; only the secretariat may record it, and withdrawing it
// restricts the person again.
func TestUnder13NeedsGuardianConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		kid, kidCaller := ts.person("kalle", true)

		type userError struct{ ErrorCode, Message string }
		var upd struct {
			UpdateMe struct {
				Me *struct {
					AgeGroup                *string
					GuardianConsentRequired bool
				}
				UserErrors []userError
			}
		}
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: UNDER_13}) { me { ageGroup guardianConsentRequired } userErrors { errorCode } } }`, &upd, bearer(kid))
		if upd.UpdateMe.Me == nil || upd.UpdateMe.Me.AgeGroup == nil || *upd.UpdateMe.Me.AgeGroup != "UNDER_13" || !upd.UpdateMe.Me.GuardianConsentRequired {
			t.Fatalf("updateMe under 13: %+v", upd.UpdateMe)
		}

		claim := func(key string) []userError {
			var out struct {
				ClaimSlot struct {
					Claim      *struct{ ID string }
					UserErrors []userError
				}
			}
			ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } userErrors { errorCode message } } }`, &out,
				vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": key}), bearer(kid))
			if (out.ClaimSlot.Claim == nil) == (len(out.ClaimSlot.UserErrors) == 0) {
				t.Fatalf("claim: %+v", out.ClaimSlot)
			}
			return out.ClaimSlot.UserErrors
		}
		if ues := claim("k1"); len(ues) != 1 || ues[0].ErrorCode != "PARENTAL_CONSENT_REQUIRED" || !strings.HasPrefix(ues[0].Message, "Når du er under 13 år") {
			t.Fatalf("claim under 13: %+v", ues)
		}
		// Browsing works.
		var browse struct {
			Me         struct{ DisplayName string }
			Activities struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		ts.client.MustPost(`{ me { displayName } activities(first: 1) { edges { node { id } } } }`, &browse, bearer(kid))
		if browse.Me.DisplayName != "kalle" || len(browse.Activities.Edges) != 1 {
			t.Errorf("browsing under 13: %+v", browse)
		}

		record := func(token string, consent bool) (map[string]any, error) {
			var out map[string]any
			err := ts.client.Post(`mutation($i: RecordGuardianConsentInput!) { recordGuardianConsent(input: $i) { user { id } guardianConsentAt userErrors { errorCode } } }`,
				&out, vars("i", map[string]any{"userId": globalID(typeUser, kidCaller.UserID), "consent": consent}), bearer(token))
			return out, err
		}
		if _, err := record(tw.tokens[organiserSame], true); err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
			t.Errorf("an organiser recording consent: %v", err)
		}
		if _, err := record(kid, true); err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
			t.Errorf("the child recording consent: %v", err)
		}
		out, err := record(tw.tokens[secretariatRol], true)
		if err != nil {
			t.Fatal(err)
		}
		if p := out["recordGuardianConsent"].(map[string]any); p["guardianConsentAt"] == nil || p["user"] == nil {
			t.Fatalf("secretariat recording consent: %v", out)
		}
		if ues := claim("k2"); len(ues) != 0 {
			t.Fatalf("claim with consent: %+v", ues)
		}
		if out, err := record(tw.tokens[secretariatRol], false); err != nil || out["recordGuardianConsent"].(map[string]any)["guardianConsentAt"] != nil {
			t.Fatalf("withdrawing: %v %v", out, err)
		}
		var again struct {
			ProposeInitiative struct{ UserErrors []userError }
		}
		ts.client.MustPost(`mutation { proposeInitiative(input: {name: "Legeplads", description: "En ny legeplads"}) { userErrors { errorCode } } }`, &again, bearer(kid))
		if ues := again.ProposeInitiative.UserErrors; len(ues) != 1 || ues[0].ErrorCode != "PARENTAL_CONSENT_REQUIRED" {
			t.Errorf("after withdrawal: %+v", ues)
		}
		// The child cannot answer the age question again to get past it:
		// once under 13, only a recorded consent lifts the restrictions.
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: AT_LEAST_13}) { me { ageGroup guardianConsentRequired } userErrors { errorCode } } }`, &upd, bearer(kid))
		if ues := upd.UpdateMe.UserErrors; len(ues) != 1 || ues[0].ErrorCode != "PARENTAL_CONSENT_REQUIRED" {
			t.Errorf("saying 13 or older without consent: %+v", upd.UpdateMe)
		}
		ts.client.MustPost(`mutation { proposeInitiative(input: {name: "Legeplads", description: "En ny legeplads"}) { userErrors { errorCode } } }`, &again, bearer(kid))
		if ues := again.ProposeInitiative.UserErrors; len(ues) != 1 || ues[0].ErrorCode != "PARENTAL_CONSENT_REQUIRED" {
			t.Errorf("after saying 13 or older without consent: %+v", ues)
		}
		// With consent recorded the person may say they are 13 or older,
		// and stays unrestricted.
		if _, err := record(tw.tokens[secretariatRol], true); err != nil {
			t.Fatal(err)
		}
		upd.UpdateMe.UserErrors = nil
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: AT_LEAST_13}) { me { ageGroup guardianConsentRequired } userErrors { errorCode } } }`, &upd, bearer(kid))
		if upd.UpdateMe.Me == nil || upd.UpdateMe.Me.GuardianConsentRequired || len(upd.UpdateMe.UserErrors) != 0 {
			t.Errorf("at 13 with consent: %+v", upd.UpdateMe)
		}
	})
}

// A person who has not said whether they are under 13 (a new account, or
// one made before the question was asked) may browse, but every act that
// shows them to others answers AGE_REQUIRED, in their language, until
// updateMe sets ageGroup; Me.ageRequired says so. The refusal is not kept
// under the tap's idempotency key: after answering, the same tap claims.
func TestAgeRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		d := ts.resolver.Domain
		// ulla is an organiser of orgA with a story from before the age
		// question, invited to organise orgB too.
		ulla, c := ts.signUp("token-ulla", user.Identity{UID: "uid-ulla", Email: "ulla@test.example", EmailVerified: true, Name: "Ulla"})
		makeOrganiser(t, ts.db, &c, tw.orgA.ID)
		old, err := d.Stories.Submit(ctx, c, story.Input{Title: "Før", Body: "Fra før aldersspørgsmålet.", OrganisationID: &tw.orgA.ID})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := d.Organisations.Invite(ctx, tw.callers[organiserOther], organisation.InviteInput{OrganisationID: tw.orgB.ID, Email: "ulla@test.example"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(ctx, db, `UPDATE users SET age_group = NULL WHERE id = ?`, c.UserID); err != nil {
			t.Fatal(err)
		}

		var me struct{ Me struct{ AgeRequired bool } }
		ts.client.MustPost(`{ me { ageRequired } }`, &me, bearer(ulla))
		if !me.Me.AgeRequired {
			t.Fatalf("me of a person who never answered: %+v", me.Me)
		}
		claimTap := map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "tap-ulla"}
		claim := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } userErrors { errorCode message } } }`
		acts := []struct{ name, query string }{
			{"claimSlot", claim},
			{"participate", `mutation($i: ParticipateInput!) { participate(input: $i) { participation { id } userErrors { errorCode message } } }`},
			{"submitStory", `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id } userErrors { errorCode message } } }`},
			{"editStory", `mutation($i: EditStoryInput!) { editStory(input: $i) { story { id } userErrors { errorCode message } } }`},
			{"proposeInitiative", `mutation($i: ProposeInitiativeInput!) { proposeInitiative(input: $i) { initiative { id } userErrors { errorCode message } } }`},
			{"joinInitiative", `mutation($i: JoinInitiativeInput!) { joinInitiative(input: $i) { initiative { id } userErrors { errorCode message } } }`},
			{"inviteOrganiser", `mutation($i: InviteOrganiserInput!) { inviteOrganiser(input: $i) { invitation { id } userErrors { errorCode message } } }`},
			{"acceptOrganiserInvitation", `mutation($i: OrganiserInvitationIdInput!) { acceptOrganiserInvitation(input: $i) { invitation { id } userErrors { errorCode message } } }`},
		}
		inputs := map[string]map[string]any{
			"claimSlot":   claimTap,
			"participate": {"activityId": globalID(typeActivity, tw.activity.ID), "status": "GOING", "idempotencyKey": "tap-ulla-p"},
			"submitStory": {"title": "Spisevenner", "body": "Vi spiste sammen.", "consentPeople": true, "hasChildren": false},
			"editStory": {"storyId": globalID(typeStory, old.ID), "title": "Ny titel", "body": "Ny tekst",
				"consentPeople": true, "hasChildren": false},
			"proposeInitiative":         {"name": "Lektiecafé", "description": "Hjælp til lektier."},
			"joinInitiative":            {"initiativeId": globalID(typeInitiative, tw.proposal), "message": "Jeg er med"},
			"inviteOrganiser":           {"organisationId": globalID(typeOrganisation, tw.orgA.ID), "email": "ny@test.example"},
			"acceptOrganiserInvitation": {"invitationId": globalID(typeOrganiserInvitation, inv.ID)},
		}
		for _, a := range acts {
			for _, l := range []struct{ lang, want string }{
				{"da", "Fortæl først, om du er under 13 år. Appen spørger dig."},
				{"en", "First say whether you are under 13. The app will ask you."},
			} {
				var out map[string]map[string]any
				ts.client.MustPost(a.query, &out, vars("i", inputs[a.name]), bearer(ulla), lang(l.lang))
				ues, _ := out[a.name]["userErrors"].([]any)
				if len(ues) != 1 || ues[0].(map[string]any)["errorCode"] != "AGE_REQUIRED" || ues[0].(map[string]any)["message"] != l.want {
					t.Errorf("%s (%s) without an answer: %+v", a.name, l.lang, out)
				}
			}
		}
		var n int
		if err := store.Get(ctx, db, &n, `SELECT (SELECT COUNT(*) FROM slot_claims WHERE user_id = ?) + (SELECT COUNT(*) FROM participations WHERE user_id = ?)
			+ (SELECT COUNT(*) FROM stories WHERE author_id = ?) + (SELECT COUNT(*) FROM initiative_members WHERE user_id = ?)
			+ (SELECT COUNT(*) FROM initiatives WHERE proposer_id = ?)`,
			c.UserID, c.UserID, c.UserID, c.UserID, c.UserID); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("refused acts stored something: %d rows (want the one old story)", n)
		}

		var upd struct {
			UpdateMe struct {
				Me         *struct{ AgeRequired bool }
				UserErrors []struct{ ErrorCode string }
			}
		}
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: AT_LEAST_13}) { me { ageRequired } userErrors { errorCode } } }`, &upd, bearer(ulla))
		if upd.UpdateMe.Me == nil || upd.UpdateMe.Me.AgeRequired || len(upd.UpdateMe.UserErrors) != 0 {
			t.Fatalf("answering: %+v", upd.UpdateMe)
		}
		var done struct {
			ClaimSlot struct {
				Claim      *struct{ ID string }
				UserErrors []struct{ ErrorCode string }
			}
		}
		ts.client.MustPost(claim, &done, vars("i", claimTap), bearer(ulla))
		if done.ClaimSlot.Claim == nil || len(done.ClaimSlot.UserErrors) != 0 {
			t.Fatalf("the same tap after answering: %+v", done.ClaimSlot)
		}
	})
}

// Someone who says they are under 13 after having claimed, signed up and
// written ends where a child who said it first is: in the same change
// their upcoming claim is released and the waitlisted volunteer promoted
// and told, their sign-up as a guest cancelled, and their stories
// withheld from everyone but themself (not deleted; the secretariat
// cannot publish them either) until a guardian's consent is recorded,
// which brings the stories back. Withdrawing that consent
// (withdrawGuardianConsent, secretariat only) makes them a restricted
// child again, even after they said AT_LEAST_13, with the same effects.
func TestUnder13AfterActing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		d := ts.resolver.Domain
		boss := secretariat(t, db)
		kid, kc := ts.person("kalle", true)
		_, wanda := ts.person("wanda", true)
		one, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: "Kaffe",
			StartsAt: tw.activity.StartsAt, EndsAt: tw.activity.StartsAt.Add(time.Hour), Capacity: 1})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := d.Volunteer.Claim(ctx, kc, one.ID, "kalle-1")
		if err != nil || mine.Status != volunteer.Confirmed {
			t.Fatalf("kalle's claim: %+v %v", mine, err)
		}
		waiting, err := d.Volunteer.Claim(ctx, wanda, one.ID, "wanda-1")
		if err != nil || waiting.Status != volunteer.Waitlisted {
			t.Fatalf("wanda's claim: %+v %v", waiting, err)
		}
		seat, err := d.Participation.Participate(ctx, kc, participation.Input{ActivityID: tw.activity.ID, Status: participation.Going, IdempotencyKey: "kalle-p"})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := d.Stories.Submit(ctx, kc, story.Input{Title: "Min dag", Body: "Jeg hjalp til.", OrganisationID: &tw.orgA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Stories.Review(ctx, tw.callers[secretariatRol], pub.ID, story.ActionPublish, ""); err != nil {
			t.Fatal(err)
		}
		pending, err := d.Stories.Submit(ctx, kc, story.Input{Title: "Min anden dag", Body: "Igen.", OrganisationID: &tw.orgA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Initiatives.Join(ctx, kc, tw.initiative, "Jeg vil gerne hjælpe"); err != nil {
			t.Fatal(err)
		}
		ts.drain()

		statusOf := func(table string, id int64) string {
			t.Helper()
			var st string
			if err := store.Get(ctx, db, &st, `SELECT status FROM `+table+` WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			return st
		}
		publicStory := func(id int64) bool {
			t.Helper()
			var out struct{ Node *struct{ ID string } }
			ts.client.MustPost(`query($id: ID!) { node(id: $id) { ... on Story { id } } }`, &out, vars("id", globalID(typeStory, id)))
			return out.Node != nil && out.Node.ID != ""
		}
		inQueue := func(id int64) bool {
			t.Helper()
			q, err := d.Stories.ReviewQueue(ctx, tw.callers[secretariatRol], nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range q {
				if st.ID == id {
					return true
				}
			}
			return false
		}
		promoted := func(userID int64) int {
			t.Helper()
			ts.drain()
			var n int
			if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'WAITLIST_PROMOTED'`, userID); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if !publicStory(pub.ID) || !inQueue(pending.ID) {
			t.Fatal("before: the published story is not public or the pending one not in the queue")
		}

		var upd struct {
			UpdateMe struct {
				Me *struct {
					AgeGroup                *string
					GuardianConsentRequired bool
				}
				UserErrors []struct{ ErrorCode string }
			}
		}
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: UNDER_13}) { me { ageGroup guardianConsentRequired } userErrors { errorCode } } }`, &upd, bearer(kid))
		if upd.UpdateMe.Me == nil || !upd.UpdateMe.Me.GuardianConsentRequired {
			t.Fatalf("saying UNDER_13: %+v", upd.UpdateMe)
		}
		if st := statusOf("slot_claims", mine.ID); st != "CANCELLED" {
			t.Errorf("kalle's claim after UNDER_13: %s", st)
		}
		if st := statusOf("slot_claims", waiting.ID); st != "CONFIRMED" {
			t.Errorf("wanda's claim after kalle's went: %s", st)
		}
		if n := promoted(wanda.UserID); n != 1 {
			t.Errorf("wanda was told %d times she got the place", n)
		}
		if st := statusOf("participations", seat.ID); st != "CANCELLED" {
			t.Errorf("kalle's sign-up after UNDER_13: %s", st)
		}
		// Members are listed by name to everyone signed in.
		var memberships int
		if err := store.Get(ctx, db, &memberships, `SELECT COUNT(*) FROM initiative_members WHERE user_id = ?`, kc.UserID); err != nil || memberships != 0 {
			t.Errorf("kalle is still a member of %d initiatives after UNDER_13 (%v)", memberships, err)
		}
		if publicStory(pub.ID) || inQueue(pending.ID) {
			t.Errorf("after UNDER_13: published story public %v, pending in the queue %v", publicStory(pub.ID), inQueue(pending.ID))
		}
		if st := statusOf("stories", pub.ID); st != "HIDDEN" {
			t.Errorf("withheld story: %s", st)
		}
		if _, err := d.Stories.Review(ctx, tw.callers[secretariatRol], pub.ID, story.ActionPublish, ""); err == nil {
			t.Error("the secretariat published a withheld story")
		}
		// The child still sees their own stories.
		var own struct{ Node *struct{ ID, Status string } }
		ts.client.MustPost(`query($id: ID!) { node(id: $id) { ... on Story { id status } } }`, &own, vars("id", globalID(typeStory, pub.ID)), bearer(kid))
		if own.Node == nil || own.Node.Status != "HIDDEN" {
			t.Errorf("the author's own withheld story: %+v", own.Node)
		}

		consent := func(token string, mutation string) map[string]any {
			t.Helper()
			var out map[string]any
			q := `mutation($i: RecordGuardianConsentInput!) { recordGuardianConsent(input: $i) { user { id } userErrors { errorCode } } }`
			in := map[string]any{"userId": globalID(typeUser, kc.UserID), "consent": true}
			if mutation == "withdraw" {
				q = `mutation($i: WithdrawGuardianConsentInput!) { withdrawGuardianConsent(input: $i) { user { id } userErrors { errorCode } } }`
				in = map[string]any{"userId": globalID(typeUser, kc.UserID)}
			}
			if err := ts.client.Post(q, &out, vars("i", in), bearer(token)); err != nil {
				return map[string]any{"error": err.Error()}
			}
			return out
		}
		if out := consent(tw.tokens[secretariatRol], "record"); out["error"] != nil {
			t.Fatal(out)
		}
		if !publicStory(pub.ID) || !inQueue(pending.ID) || statusOf("stories", pending.ID) != "PENDING_REVIEW" {
			t.Errorf("after consent: published story public %v, pending in the queue %v", publicStory(pub.ID), inQueue(pending.ID))
		}
		// With consent the child may say 13, and claim again.
		ts.client.MustPost(`mutation { updateMe(input: {ageGroup: AT_LEAST_13}) { me { ageGroup guardianConsentRequired } userErrors { errorCode } } }`, &upd, bearer(kid))
		if len(upd.UpdateMe.UserErrors) != 0 {
			t.Fatalf("AT_LEAST_13 with consent: %+v", upd.UpdateMe)
		}
		again, err := d.Volunteer.Claim(ctx, mustCaller(t, ts, kc.UserID), tw.slot.ID, "kalle-2")
		if err != nil || again.Status != volunteer.Confirmed {
			t.Fatalf("claim with consent: %+v %v", again, err)
		}

		// Only the secretariat withdraws; the stranger, an organiser and
		// the child are refused, and nothing changes.
		for _, who := range []string{resident, organiserSame} {
			if out := consent(tw.tokens[who], "withdraw"); out["error"] == nil || !strings.Contains(out["error"].(string), "FORBIDDEN") {
				t.Errorf("%s withdrawing: %v", who, out)
			}
		}
		if out := consent(kid, "withdraw"); out["error"] == nil || !strings.Contains(out["error"].(string), "FORBIDDEN") {
			t.Errorf("the child withdrawing: %v", out)
		}
		if st := statusOf("slot_claims", again.ID); st != "CONFIRMED" {
			t.Fatalf("a refused withdrawal changed the claim: %s", st)
		}
		if out := consent(tw.tokens[secretariatRol], "withdraw"); out["error"] != nil {
			t.Fatal(out)
		}
		var me struct {
			Me struct {
				AgeGroup                string
				GuardianConsentRequired bool
			}
		}
		ts.client.MustPost(`{ me { ageGroup guardianConsentRequired } }`, &me, bearer(kid))
		if me.Me.AgeGroup != "UNDER_13" || !me.Me.GuardianConsentRequired {
			t.Errorf("after withdrawal: %+v", me.Me)
		}
		if st := statusOf("slot_claims", again.ID); st != "CANCELLED" {
			t.Errorf("claim after withdrawal: %s", st)
		}
		if publicStory(pub.ID) {
			t.Error("the story is public after withdrawal")
		}
		var claim struct {
			ClaimSlot struct{ UserErrors []struct{ ErrorCode string } }
		}
		ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { userErrors { errorCode } } }`, &claim,
			vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "kalle-3"}), bearer(kid))
		if ues := claim.ClaimSlot.UserErrors; len(ues) != 1 || ues[0].ErrorCode != "PARENTAL_CONSENT_REQUIRED" {
			t.Errorf("claim after withdrawal: %+v", ues)
		}
		// Hostile and wrong input: a malformed id, someone who does not exist.
		for _, id := range []string{"not-an-id", globalID(typeUser, 999999), globalID(typeStory, pub.ID)} {
			var out struct {
				WithdrawGuardianConsent struct {
					User       *struct{ ID string }
					UserErrors []struct{ ErrorCode string }
				}
			}
			ts.client.MustPost(`mutation($i: WithdrawGuardianConsentInput!) { withdrawGuardianConsent(input: $i) { user { id } userErrors { errorCode } } }`,
				&out, vars("i", map[string]any{"userId": id}), bearer(tw.tokens[secretariatRol]))
			if out.WithdrawGuardianConsent.User != nil || len(out.WithdrawGuardianConsent.UserErrors) != 1 {
				t.Errorf("withdrawing for %q: %+v", id, out.WithdrawGuardianConsent)
			}
		}
	})
}

func mustCaller(t *testing.T, ts *testServer, id int64) user.Caller {
	t.Helper()
	c, err := ts.resolver.Domain.Users.Caller(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
