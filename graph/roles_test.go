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

func codes(ues []struct{ Code string }) string {
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
			t.Fatalf("addOrganiser: %s", codes(add.AddOrganiser.UserErrors))
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
		ts.client.MustPost(record, &rec, vars("i", map[string]any{"userId": globalID(typeUser, vilma.UserID), "requirement": "CHILD_CERTIFICATE",
			"expiresAt": time.Now().AddDate(1, 0, 0).Format(time.RFC3339)}), bearer(omar))
		if len(rec.RecordQualification.UserErrors) != 0 {
			t.Fatalf("record for the other organisation: %s", codes(rec.RecordQualification.UserErrors))
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
		if claim.ClaimSlot.Claim != nil || codes(claim.ClaimSlot.UserErrors) != "REQUIREMENT_NOT_MET" {
			t.Fatalf("another organisation's certificate let vilma claim: %+v", claim.ClaimSlot)
		}

		// Olga may not certify herself.
		err := ts.client.Post(record, &rec, vars("i", map[string]any{"userId": globalID(typeUser, tw.callers[organiserSame].UserID),
			"requirement": "CHILD_CERTIFICATE", "expiresAt": time.Now().AddDate(1, 0, 0).Format(time.RFC3339)}), bearer(olga))
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
