package graph

import (
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Residents propose something new, others join, the secretariat makes it
// an organisation, and the proposer publishes its first activity.
func TestInitiativeLifeCycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		proposer, _ := ts.person("pia", true)
		joinerA, a := ts.person("jens", true)
		joinerB, _ := ts.person("hodan", true)
		boss := tw.tokens[secretariatRol]

		type payload struct {
			Initiative *struct {
				ID, Status   string
				MemberCount  int
				Organisation *struct{ ID string }
				Members      []struct {
					DisplayName string
					Email       *string
				}
			}
			UserErrors []struct{ Code string }
		}
		fields := `initiative { id status memberCount organisation { id } members { displayName email } } userErrors { code }`
		var proposed struct{ ProposeInitiative payload }
		ts.client.MustPost(`mutation($i: ProposeInitiativeInput!) { proposeInitiative(input: $i) { `+fields+` } }`, &proposed,
			vars("i", map[string]any{"name": "Dyrk Strandparken", "description": "Højbede ved blok 3.", "themes": []string{"natur"},
				"helpNeeded": "3 med grønne fingre lørdag formiddag"}), bearer(proposer))
		in := proposed.ProposeInitiative.Initiative
		if in == nil || in.Status != "PROPOSED" {
			t.Fatalf("propose: %+v", proposed)
		}
		for _, tok := range []string{joinerA, joinerB} {
			var joined struct{ JoinInitiative payload }
			ts.client.MustPost(`mutation($i: JoinInitiativeInput!) { joinInitiative(input: $i) { `+fields+` } }`, &joined,
				vars("i", map[string]any{"initiativeId": in.ID, "message": "Jeg er med!"}), bearer(tok))
			if len(joined.JoinInitiative.UserErrors) > 0 {
				t.Fatalf("join: %+v", joined)
			}
		}

		// The proposer sees who joined with their e-mail; a member does not see the others' e-mail.
		q := `query($id: ID!) { initiative(id: $id) { memberCount members { displayName email } } }`
		var asProposer, asMember struct {
			Initiative struct {
				MemberCount int
				Members     []struct {
					DisplayName string
					Email       *string
				}
			}
		}
		ts.client.MustPost(q, &asProposer, vars("id", in.ID), bearer(proposer))
		ts.client.MustPost(q, &asMember, vars("id", in.ID), bearer(joinerB))
		if asProposer.Initiative.MemberCount != 2 || asProposer.Initiative.Members[0].Email == nil {
			t.Errorf("proposer's view: %+v", asProposer)
		}
		for _, m := range asMember.Initiative.Members {
			if m.DisplayName == "jens" && m.Email != nil {
				t.Errorf("a member sees another member's e-mail: %+v", m)
			}
		}

		var req struct{ RequestInitiativeApproval payload }
		ts.client.MustPost(`mutation($i: InitiativeIdInput!) { requestInitiativeApproval(input: $i) { `+fields+` } }`, &req,
			vars("i", map[string]any{"initiativeId": in.ID}), bearer(proposer))
		var approved struct{ ApproveInitiative payload }
		ts.client.MustPost(`mutation($i: ApproveInitiativeInput!) { approveInitiative(input: $i) { `+fields+` } }`, &approved,
			vars("i", map[string]any{"initiativeId": in.ID, "organiserIds": []string{globalID(typeUser, a.UserID)}}), bearer(boss))
		got := approved.ApproveInitiative.Initiative
		if got == nil || got.Status != "ACTIVE" || got.Organisation == nil {
			t.Fatalf("approve: %+v", approved)
		}

		// Everyone who joined is told it has started.
		var inbox struct {
			Me struct {
				Notifications struct {
					Edges []struct{ Node struct{ Kind, Body string } }
				}
			}
		}
		ts.drain()
		ts.client.MustPost(`{ me { notifications(first: 5) { edges { node { kind body } } } } }`, &inbox, bearer(joinerB))
		if len(inbox.Me.Notifications.Edges) == 0 || inbox.Me.Notifications.Edges[0].Node.Kind != "INITIATIVE_APPROVED" {
			t.Errorf("a member was not told of the approval: %+v", inbox)
		}

		// The proposer is now an organiser and publishes an activity.
		start := ts.now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
		var created struct {
			CreateActivity struct {
				Activity   *struct{ ID string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } userErrors { code } } }`, &created,
			vars("i", map[string]any{"organisationId": got.Organisation.ID, "title": "Første plantedag", "publish": true,
				"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(3 * time.Hour).Format(time.RFC3339)}), bearer(proposer))
		if created.CreateActivity.Activity == nil {
			t.Fatalf("the new organiser cannot publish: %+v", created)
		}

		// Merge path: a second proposal folded into an existing organisation.
		var second struct{ ProposeInitiative payload }
		ts.client.MustPost(`mutation($i: ProposeInitiativeInput!) { proposeInitiative(input: $i) { `+fields+` } }`, &second,
			vars("i", map[string]any{"name": "Førstehjælp for alle", "description": "Kurser i førstehjælp."}), bearer(joinerB))
		var merged struct{ MergeInitiative payload }
		ts.client.MustPost(`mutation($i: MergeInitiativeInput!) { mergeInitiative(input: $i) { `+fields+` } }`, &merged,
			vars("i", map[string]any{"initiativeId": second.ProposeInitiative.Initiative.ID,
				"organisationId": globalID(typeOrganisation, tw.orgA.ID), "message": "Røde Kors holder allerede kurser – kom og vær med!"}), bearer(boss))
		if m := merged.MergeInitiative.Initiative; m == nil || m.Status != "MERGED" || m.Organisation == nil {
			t.Fatalf("merge: %+v", merged)
		}

		var list struct {
			Initiatives struct {
				Edges []struct{ Node struct{ Status string } }
			}
		}
		ts.client.MustPost(`query($f: InitiativeFilter) { initiatives(first: 10, filter: $f) { edges { node { status } } } }`, &list,
			vars("f", map[string]any{"status": "ACTIVE"}))
		if len(list.Initiatives.Edges) != 1 {
			t.Errorf("ACTIVE initiatives: %+v", list)
		}
	})
}
