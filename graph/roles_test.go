package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// signIn makes a token for an identity as the Firebase token would carry
// it, without resolving it yet: the first request does.
func (ts *testServer) signIn(token string, id user.Identity) string {
	ts.tokens.mu.Lock()
	ts.tokens.identities[token] = id
	ts.tokens.mu.Unlock()
	return token
}

type userErrorsOnly struct {
	UserErrors []struct{ Code string }
}

func errorCodes(ues []struct{ Code string }) string {
	var cs []string
	for _, u := range ues {
		cs = append(cs, u.Code)
	}
	return strings.Join(cs, ",")
}

// Hole 1: an unverified Firebase account for an address does not become
// secretariat when the address is granted the role; the account that
// proves the address does, at its next request.
func TestGrantSecretariatWaitsForVerifiedEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		squatter := ts.signIn("token-squatter", user.Identity{UID: "uid-squatter", Email: "borgmester@ishoj.example", Name: "Borgmester"})
		var me struct{ Me struct{ Role string } }
		ts.client.MustPost(`{ me { role } }`, &me, bearer(squatter))

		if _, err := grantSecretariatForTest(ctx, ts, "Borgmester@Ishoj.example"); err != nil {
			t.Fatal(err)
		}
		ts.client.MustPost(`{ me { role } }`, &me, bearer(squatter))
		if me.Me.Role != "RESIDENT" {
			t.Fatalf("an unverified account for the address became %s", me.Me.Role)
		}

		// The owner proves the address (Firebase sets email_verified on
		// the same uid once the link in the e-mail is followed).
		owner := ts.signIn("token-owner", user.Identity{UID: "uid-squatter", Email: "borgmester@ishoj.example", EmailVerified: true, Name: "Borgmester"})
		ts.client.MustPost(`{ me { role } }`, &me, bearer(owner))
		if me.Me.Role != "SECRETARIAT" {
			t.Fatalf("the verified owner of the address is %s, want SECRETARIAT", me.Me.Role)
		}
	})
}

// Hole 1, second half: an organiser naming a co-organiser by e-mail does
// not make an unverified squatter of that address an organiser, and no
// newcomer can remove the organiser who was there first.
func TestOrganiserByEmailIsNotSquatted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		olga := tw.tokens[organiserSame]
		squatter := ts.signIn("token-squatter", user.Identity{UID: "uid-squatter", Email: "kasserer@rodekors.example", Name: "Kasserer"})
		var me struct {
			Me struct {
				ID        string
				Organises []struct{ ID string }
			}
		}
		ts.client.MustPost(`{ me { id organises { id } } }`, &me, bearer(squatter))

		var add struct{ AddOrganiser userErrorsOnly }
		ts.client.MustPost(`mutation($i: AddOrganiserInput!) { addOrganiser(input: $i) { userErrors { code } } }`, &add,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "email": "kasserer@rodekors.example"}), bearer(olga))
		if len(add.AddOrganiser.UserErrors) != 0 {
			t.Fatalf("addOrganiser: %s", errorCodes(add.AddOrganiser.UserErrors))
		}
		ts.client.MustPost(`{ me { id organises { id } } }`, &me, bearer(squatter))
		if len(me.Me.Organises) != 0 {
			t.Fatalf("the unverified squatter of the address organises %v", me.Me.Organises)
		}

		var remove struct{ RemoveOrganiser userErrorsOnly }
		err := ts.client.Post(`mutation($i: RemoveOrganiserInput!) { removeOrganiser(input: $i) { userErrors { code } } }`, &remove,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "userId": globalID(typeUser, tw.callers[organiserSame].UserID)}), bearer(squatter))
		if err == nil && len(remove.RemoveOrganiser.UserErrors) == 0 {
			t.Fatal("the squatter removed the organiser")
		}
		var orgs struct {
			Organisation struct{ Organisers []struct{ ID string } }
		}
		ts.client.MustPost(`query($o: ID!) { organisation(id: $o) { organisers { id } } }`, &orgs,
			vars("o", globalID(typeOrganisation, tw.orgA.ID)), bearer(olga))
		if !strings.Contains(mustJSON(orgs), globalID(typeUser, tw.callers[organiserSame].UserID)) {
			t.Fatalf("the first organiser is gone: %+v", orgs)
		}
	})
}

// Hole 4: naming someone co-organiser by id, then removing them, showed
// their e-mail and phone. Now the person is only invited, and nothing in
// the answers shows their contact details.
func TestNamingAnOrganiserLeaksNoContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		olga := tw.tokens[organiserSame]
		phone := "+4512345678"
		_, stranger := ts.person("fremmed", true)
		if _, err := ts.resolver.Domain.Users.UpdateProfile(context.Background(), stranger, user.ProfileInput{Phone: &phone}, []string{"da"}); err != nil {
			t.Fatal(err)
		}
		strangerID := globalID(typeUser, stranger.UserID)

		var add struct {
			AddOrganiser struct {
				User       *struct{ Email, Phone *string }
				UserErrors []struct{ Code string }
			}
		}
		_ = ts.client.Post(`mutation($i: AddOrganiserInput!) { addOrganiser(input: $i) { user { email phone } userErrors { code } } }`, &add,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "userId": strangerID}), bearer(olga))
		if u := add.AddOrganiser.User; u != nil && (u.Email != nil || u.Phone != nil) {
			t.Fatalf("addOrganiser showed the stranger's contact: %v %v", deref(u.Email), deref(u.Phone))
		}
		var seen struct {
			Organisation struct {
				Organisers []struct{ Email, Phone *string }
			}
			Node *struct{ Email, Phone *string }
		}
		ts.client.MustPost(`query($o: ID!, $u: ID!) { organisation(id: $o) { organisers { email phone } } node(id: $u) { ... on User { email phone } } }`, &seen,
			vars("o", globalID(typeOrganisation, tw.orgA.ID), "u", strangerID), bearer(olga))
		if s := mustJSON(seen); strings.Contains(s, "fremmed@test.example") || strings.Contains(s, phone) {
			t.Fatalf("the stranger's contact is visible to the organiser: %s", s)
		}
	})
}

// Hole 5: a børneattest counts only for the organisation that checked
// it, and nobody certifies themself.
func TestQualificationIsPerOrganisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		omar, olga := tw.tokens[organiserOther], tw.tokens[organiserSame]
		record := `mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { userErrors { code } } }`

		// Omar organises the other organisation; his record is for it.
		vilmaToken, vilma := ts.person("vilma", true)
		var rec struct{ RecordQualification userErrorsOnly }
		var named struct {
			RecordQualification struct {
				User       *struct{ DisplayName string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { user { displayName } userErrors { code } } }`, &named,
			vars("i", map[string]any{"userId": globalID(typeUser, vilma.UserID), "requirement": "CHILD_CERTIFICATE",
				"expiresAt": ts.now().AddDate(1, 0, 0).Format(time.RFC3339)}), bearer(omar))
		if len(named.RecordQualification.UserErrors) != 0 {
			t.Fatalf("record for the other organisation: %s", errorCodes(named.RecordQualification.UserErrors))
		}
		if named.RecordQualification.User != nil {
			t.Errorf("recording for an id told a stranger's name: %+v", named.RecordQualification.User)
		}

		kids := addSlotForTest(t, ts, tw, "CHILD_CERTIFICATE")
		var claim struct {
			ClaimSlot struct {
				Claim      *struct{ Status string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } userErrors { code } } }`, &claim,
			vars("i", map[string]any{"slotId": kids, "idempotencyKey": "vilma-kids"}), bearer(vilmaToken))
		if claim.ClaimSlot.Claim != nil || errorCodes(claim.ClaimSlot.UserErrors) != "REQUIREMENT_NOT_MET" {
			t.Fatalf("another organisation's certificate let vilma claim: %+v", claim.ClaimSlot)
		}

		// Olga may not certify herself.
		err := ts.client.Post(record, &rec, vars("i", map[string]any{"userId": globalID(typeUser, tw.callers[organiserSame].UserID),
			"requirement": "CHILD_CERTIFICATE", "expiresAt": ts.now().AddDate(1, 0, 0).Format(time.RFC3339)}), bearer(olga))
		if err == nil && len(rec.RecordQualification.UserErrors) == 0 {
			t.Fatal("an organiser certified herself")
		}
	})
}

// Display names that show nothing, or that reorder what follows them,
// are refused; real names in any script are not.
func TestDisplayNameCharacters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		token, _ := ts.person("navn", true)
		q := `mutation($i: UpdateMeInput!) { updateMe(input: $i) { me { displayName } userErrors { code field } } }`
		type result struct {
			UpdateMe struct {
				Me         *struct{ DisplayName string }
				UserErrors []struct {
					Code  string
					Field []string
				}
			}
		}
		for _, bad := range []string{"\u202e\u200b", "\u200b\u200c\u200d", "\x01\x02", "\u2066\u2069", "\u3164", "\ufeff", "a\u202eb"} {
			var r result
			ts.client.MustPost(q, &r, vars("i", map[string]any{"displayName": bad}), bearer(token))
			if r.UpdateMe.Me != nil || len(r.UpdateMe.UserErrors) == 0 || r.UpdateMe.UserErrors[0].Field[1] != "displayName" {
				t.Errorf("display name %q accepted: %+v", bad, r.UpdateMe)
			}
		}
		for _, good := range []string{"محمد علي", "عائشہ خان", "Şükrü Yılmaz", "Nguyễn Thị Minh", "Zoë Ørsted", "José", "Dvořák", "Дарья", "فرزانه\u200cای"} {
			var r result
			ts.client.MustPost(q, &r, vars("i", map[string]any{"displayName": good}), bearer(token))
			if r.UpdateMe.Me == nil {
				t.Errorf("display name %q refused: %+v", good, r.UpdateMe.UserErrors)
			}
		}
	})
}

// A person whose Firebase uid changes while the e-mail stays (the account
// was deleted and made again in Firebase) is the same person here when
// both tokens say the address is verified, and gets a clear answer — not
// a 500 — when the new one does not.
func TestUIDChangeWithSameEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		var me struct{ Me struct{ ID, Email string } }
		first := ts.signIn("token-first", user.Identity{UID: "uid-1", Email: "karin@ishoj.example", EmailVerified: true, Name: "Karin"})
		ts.client.MustPost(`{ me { id email } }`, &me, bearer(first))
		id := me.Me.ID

		unverified := ts.signIn("token-unverified", user.Identity{UID: "uid-2", Email: "karin@ishoj.example", Name: "Karin"})
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+unverified)
		// Apollo's Accept: a refusal before GraphQL keeps its status in
		// this media type (in plain JSON it is a 200, internal/auth).
		req.Header.Set("Accept", "application/graphql-response+json,application/json;q=0.9")
		ts.handler.ServeHTTP(w, req)
		if w.Code == http.StatusInternalServerError || w.Code == http.StatusOK || !strings.Contains(w.Body.String(), "EMAIL_NOT_VERIFIED") {
			t.Errorf("new unverified uid for a taken address: %d %s", w.Code, w.Body)
		}

		second := ts.signIn("token-second", user.Identity{UID: "uid-3", Email: "karin@ishoj.example", EmailVerified: true, Name: "Karin"})
		ts.client.MustPost(`{ me { id email } }`, &me, bearer(second))
		if me.Me.ID != id {
			t.Errorf("the new verified uid is user %s, want the same person %s", me.Me.ID, id)
		}
	})
}

// grantSecretariatForTest runs what `voresishoj grant-secretariat --email` runs.
func grantSecretariatForTest(ctx context.Context, ts *testServer, email string) (bool, error) {
	_, pending, err := ts.resolver.Domain.Users.GrantSecretariat(ctx, email, "")
	return pending, err
}

// addSlotForTest adds a slot with the requirement to the town's
// published activity (of orgA) and returns its global id.
func addSlotForTest(t *testing.T, ts *testServer, tw town, requirement string) string {
	t.Helper()
	sl, err := ts.resolver.Domain.Volunteer.AddSlot(context.Background(), secretariat(t, ts.db), volunteer.NewSlot{ActivityID: tw.activity.ID,
		Title: "Børnehjørnet", StartsAt: tw.activity.StartsAt.Add(3 * time.Hour), EndsAt: tw.activity.StartsAt.Add(4 * time.Hour),
		Capacity: 3, Requirement: requirement})
	if err != nil {
		t.Fatal(err)
	}
	return globalID(typeSlot, sl.ID)
}

// The invitation flow through the API: the organiser invites a volunteer
// by id and someone by e-mail; the invitee finds it in me, is told in the
// inbox, accepts, and only then shows among the organisers. Who sees what
// of an invitation follows the domain's rules for every role.
func TestOrganiserInvitationFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		olga, vera := tw.tokens[organiserSame], "token-vera"
		invite := `mutation($i: InviteOrganiserInput!) { inviteOrganiser(input: $i) {
			invitation { id status email inviteeName invitedByName organisation { name } expiresAt } userErrors { code } } }`
		type invitation struct {
			ID, Status, InvitedByName, ExpiresAt string
			Email, InviteeName                   *string
			Organisation                         struct{ Name string }
		}
		var inv struct {
			InviteOrganiser struct {
				Invitation *invitation
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(invite, &inv, vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID),
			"userId": globalID(typeUser, tw.vera)}), bearer(olga))
		got := inv.InviteOrganiser.Invitation
		if got == nil || got.Status != "PENDING" || deref(got.InviteeName) != "vera" || got.Email != nil || got.Organisation.Name != tw.orgA.Name {
			t.Fatalf("invite vera: %+v", inv.InviteOrganiser)
		}
		veraInvitation := got.ID

		// The stranger by id is not found; the same by e-mail is invited
		// without a word about whether the address has an account.
		_, stranger := ts.person("fremmed", true)
		ts.client.MustPost(invite, &inv, vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID),
			"userId": globalID(typeUser, stranger.UserID)}), bearer(olga))
		if errorCodes(inv.InviteOrganiser.UserErrors) != "USER_NOT_FOUND" {
			t.Errorf("invite a stranger by id: %+v", inv.InviteOrganiser)
		}
		ts.client.MustPost(invite, &inv, vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID),
			"email": "fremmed@test.example"}), bearer(olga))
		if got := inv.InviteOrganiser.Invitation; got == nil || got.InviteeName != nil || deref(got.Email) != "fremmed@test.example" {
			t.Errorf("invite by e-mail: %+v", inv.InviteOrganiser)
		}

		// What each role sees of the organisation's invitations and its own.
		q := `query($o: ID!) { organisation(id: $o) { organiserInvitations { id } } me { organiserInvitations { id } } }`
		for _, role := range roles {
			var r struct {
				Organisation struct{ OrganiserInvitations *[]struct{ ID string } }
				Me           *struct{ OrganiserInvitations []struct{ ID string } }
			}
			ts.client.MustPost(q, &r, vars("o", globalID(typeOrganisation, tw.orgA.ID)), bearer(tw.tokens[role]))
			if got, want := r.Organisation.OrganiserInvitations != nil, contains(managers, role); got != want {
				t.Errorf("organisation's invitations visible to %s: %v, want %v", role, got, want)
			}
			if r.Me != nil && len(r.Me.OrganiserInvitations) != 0 {
				t.Errorf("%s has invitations %v", role, r.Me.OrganiserInvitations)
			}
		}
		var mine struct {
			Me struct {
				OrganiserInvitations []invitation
				Notifications        struct {
					Edges []struct{ Node struct{ Kind, Title string } }
				}
			}
		}
		ts.client.MustPost(`{ me { organiserInvitations { id status invitedByName organisation { name } } notifications(first: 5) { edges { node { kind title } } } } }`,
			&mine, bearer(vera))
		if len(mine.Me.OrganiserInvitations) != 1 || mine.Me.OrganiserInvitations[0].ID != veraInvitation || mine.Me.OrganiserInvitations[0].InvitedByName != "olga" {
			t.Fatalf("vera's invitations: %+v", mine.Me.OrganiserInvitations)
		}
		if s := mustJSON(mine.Me.Notifications); !strings.Contains(s, "ORGANISER_INVITATION") || !strings.Contains(s, "Invitation fra Røde Kors Ishøj") {
			t.Errorf("vera was not told: %s", s)
		}

		// Only vera answers it.
		accept := `mutation($i: OrganiserInvitationIdInput!) { acceptOrganiserInvitation(input: $i) { invitation { status } userErrors { code } } }`
		var acc struct {
			AcceptOrganiserInvitation struct {
				Invitation *struct{ Status string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(accept, &acc, vars("i", map[string]any{"invitationId": veraInvitation}), bearer(olga))
		if errorCodes(acc.AcceptOrganiserInvitation.UserErrors) != "INVITATION_WRONG_ACCOUNT" {
			t.Errorf("olga accepting vera's invitation: %+v", acc)
		}
		ts.client.MustPost(accept, &acc, vars("i", map[string]any{"invitationId": veraInvitation}), bearer(tw.tokens[organiserOther]))
		if errorCodes(acc.AcceptOrganiserInvitation.UserErrors) != "INVITATION_NOT_FOUND" {
			t.Errorf("omar accepting vera's invitation: %+v", acc)
		}
		ts.client.MustPost(accept, &acc, vars("i", map[string]any{"invitationId": "bm9wZQ"}), bearer(vera))
		if errorCodes(acc.AcceptOrganiserInvitation.UserErrors) != "INVALID_ID" {
			t.Errorf("malformed id: %+v", acc)
		}
		ts.client.MustPost(accept, &acc, vars("i", map[string]any{"invitationId": veraInvitation}), bearer(vera))
		if acc.AcceptOrganiserInvitation.Invitation == nil || acc.AcceptOrganiserInvitation.Invitation.Status != "ACCEPTED" {
			t.Fatalf("vera accepting: %+v", acc)
		}
		var orgs struct {
			Organisation struct{ Organisers []struct{ ID string } }
		}
		ts.client.MustPost(`query($o: ID!) { organisation(id: $o) { organisers { id } } }`, &orgs,
			vars("o", globalID(typeOrganisation, tw.orgA.ID)), bearer(olga))
		if !strings.Contains(mustJSON(orgs), globalID(typeUser, tw.vera)) {
			t.Errorf("vera is not among the organisers after accepting: %+v", orgs)
		}
		// The newcomer cannot remove the organiser who invited her.
		var rm struct{ RemoveOrganiser userErrorsOnly }
		ts.client.MustPost(`mutation($i: RemoveOrganiserInput!) { removeOrganiser(input: $i) { userErrors { code } } }`, &rm,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "userId": globalID(typeUser, tw.callers[organiserSame].UserID)}),
			bearer(vera))
		if errorCodes(rm.RemoveOrganiser.UserErrors) != "ORGANISER_SENIOR" {
			t.Errorf("newcomer removing the senior organiser: %+v", rm)
		}
	})
}

// A volunteer sees their own records with the organisation that checked
// each; recording gives the record back in the payload.
func TestMyQualifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		var rec struct {
			RecordQualification struct {
				Qualification *struct {
					CheckedAt, ExpiresAt string
					Organisation         struct{ Name string }
				}
				UserErrors []struct{ Code string }
			}
		}
		checked := ts.now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
		ts.client.MustPost(`mutation($i: RecordQualificationInput!) { recordQualification(input: $i) {
			qualification { checkedAt expiresAt organisation { name } } userErrors { code } } }`, &rec,
			vars("i", map[string]any{"userId": globalID(typeUser, tw.vera), "requirement": "FIRST_AID",
				"checkedAt": checked.Format(time.RFC3339)}), bearer(tw.tokens[organiserOther]))
		q := rec.RecordQualification.Qualification
		// Compared as instants: the API writes times in Copenhagen's offset,
		// so between 23:00 and 24:00 UTC its date is a day after UTC's.
		if q == nil || q.Organisation.Name != tw.orgB.Name {
			t.Fatalf("record: %+v", rec.RecordQualification)
		}
		if expires, err := time.Parse(time.RFC3339, q.ExpiresAt); err != nil || !expires.Equal(checked.AddDate(2, 0, 0)) {
			t.Fatalf("expiresAt %q, want two years after %s (%v)", q.ExpiresAt, checked.Format(time.RFC3339), err)
		}
		var me struct {
			Me struct {
				Qualifications []struct {
					Requirement  string
					Organisation struct{ Name string }
				}
			}
		}
		ts.client.MustPost(`{ me { qualifications { requirement organisation { name } } } }`, &me, bearer("token-vera"))
		got := map[string]bool{}
		for _, q := range me.Me.Qualifications {
			got[q.Requirement+"@"+q.Organisation.Name] = true
		}
		if len(got) != 2 || !got["CHILD_CERTIFICATE@"+tw.orgA.Name] || !got["FIRST_AID@"+tw.orgB.Name] {
			t.Errorf("vera's qualifications: %+v", me.Me.Qualifications)
		}
	})
}
