package graph

import (
	"testing"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The volunteer journey through the API: find an open slot, claim it,
// retry on a bad connection, wait, be promoted when someone cancels.
func TestVolunteerJourney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		olga := tw.tokens[organiserSame]

		// The organiser adds a slot for one person.
		var add struct {
			AddVolunteerSlot struct {
				Slot       *struct{ ID string }
				UserErrors []struct {
					Code  string
					Field []string
				}
			}
		}
		ts.client.MustPost(`mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { slot { id } userErrors { code field } } }`, &add,
			vars("i", map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "title": "Åbn Havhytten",
				"startsAt": tw.activity.StartsAt.Format("2006-01-02T15:04:05Z07:00"), "endsAt": tw.activity.StartsAt.Add(3600e9).Format("2006-01-02T15:04:05Z07:00"),
				"capacity": 1}), bearer(olga))
		if add.AddVolunteerSlot.Slot == nil {
			t.Fatalf("add slot: %+v", add.AddVolunteerSlot.UserErrors)
		}
		slotID := add.AddVolunteerSlot.Slot.ID

		// Bad input is a user error with a Danish message and a field path.
		var bad struct {
			AddVolunteerSlot struct {
				UserErrors []struct {
					Code, Message string
					Field         []string
				}
			}
		}
		ts.client.MustPost(`mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { userErrors { code message field } } }`, &bad,
			vars("i", map[string]any{"activityId": globalID(typeActivity, tw.activity.ID), "title": "",
				"startsAt": "2020-01-01T10:00:00+01:00", "endsAt": "2020-01-01T09:00:00+01:00", "capacity": 0}), bearer(olga))
		if len(bad.AddVolunteerSlot.UserErrors) < 3 || bad.AddVolunteerSlot.UserErrors[0].Field[0] != "input" || bad.AddVolunteerSlot.UserErrors[0].Message == "" {
			t.Errorf("bad slot input: %+v", bad.AddVolunteerSlot.UserErrors)
		}

		var open struct {
			OpenSlots struct {
				Edges []struct {
					Node struct {
						ID        string
						SpotsLeft int
					}
				}
			}
		}
		ts.client.MustPost(`{ openSlots(first: 50) { edges { node { id spotsLeft } } } }`, &open)
		found := false
		for _, e := range open.OpenSlots.Edges {
			found = found || (e.Node.ID == slotID && e.Node.SpotsLeft == 1)
		}
		if !found {
			t.Fatalf("new slot not among open slots: %+v", open)
		}

		claim := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status waitlistPosition } userErrors { code } } }`
		type claimResp struct {
			ClaimSlot struct {
				Claim *struct {
					ID, Status       string
					WaitlistPosition *int
				}
				UserErrors []struct{ Code string }
			}
		}
		anna, _ := ts.person("anna", true)
		bo, _ := ts.person("bo", true)
		var first, retry, second claimResp
		ts.client.MustPost(claim, &first, vars("i", map[string]any{"slotId": slotID, "idempotencyKey": "tap-1"}), bearer(anna))
		ts.client.MustPost(claim, &retry, vars("i", map[string]any{"slotId": slotID, "idempotencyKey": "tap-1"}), bearer(anna))
		ts.client.MustPost(claim, &second, vars("i", map[string]any{"slotId": slotID, "idempotencyKey": "tap-1"}), bearer(bo))
		if first.ClaimSlot.Claim == nil || first.ClaimSlot.Claim.Status != "CONFIRMED" || retry.ClaimSlot.Claim == nil ||
			retry.ClaimSlot.Claim.ID != first.ClaimSlot.Claim.ID {
			t.Fatalf("claim and retry: %+v %+v", first.ClaimSlot, retry.ClaimSlot)
		}
		if second.ClaimSlot.Claim == nil || second.ClaimSlot.Claim.Status != "WAITLISTED" || *second.ClaimSlot.Claim.WaitlistPosition != 1 {
			t.Fatalf("full slot should waitlist: %+v", second.ClaimSlot)
		}

		var view struct {
			Node struct {
				Taken, SpotsLeft, WaitlistLength int
				MyClaim                          *struct{ Status string }
			}
		}
		q := `query($id: ID!) { node(id: $id) { ... on VolunteerSlot { taken spotsLeft waitlistLength myClaim { status } } } }`
		ts.client.MustPost(q, &view, vars("id", slotID), bearer(bo))
		if view.Node.Taken != 1 || view.Node.SpotsLeft != 0 || view.Node.WaitlistLength != 1 || view.Node.MyClaim == nil || view.Node.MyClaim.Status != "WAITLISTED" {
			t.Fatalf("slot as bo sees it: %+v", view.Node)
		}

		var cancel struct {
			CancelClaim struct {
				Claim      *struct{ Status string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { claim { status } userErrors { code } } }`, &cancel,
			vars("i", map[string]any{"claimId": first.ClaimSlot.Claim.ID}), bearer(anna))
		if cancel.CancelClaim.Claim == nil || cancel.CancelClaim.Claim.Status != "CANCELLED" {
			t.Fatalf("cancel: %+v", cancel.CancelClaim)
		}
		var mine struct {
			Me struct {
				Claims []struct {
					Status string
					Slot   struct{ ID string }
				}
			}
		}
		ts.client.MustPost(`{ me { claims { status slot { id } } } }`, &mine, bearer(bo))
		if len(mine.Me.Claims) != 1 || mine.Me.Claims[0].Status != "CONFIRMED" || mine.Me.Claims[0].Slot.ID != slotID {
			t.Fatalf("bo should be promoted: %+v", mine.Me.Claims)
		}
	})
}
