package graph

import (
	"context"
	"testing"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
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
