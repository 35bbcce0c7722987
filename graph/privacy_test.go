package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A person downloads everything we hold and then deletes their account:
// personal data goes, upcoming claims are cancelled and the waitlist moves
// up, published stories stay anonymised when the person chooses so.
func TestExportAndDeleteAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		token, rasmus := ts.person("rasmus2", true)

		// Fill the slot so rasmus' claim can free a place for someone waiting.
		var claim struct {
			ClaimSlot struct {
				Claim      *struct{ ID, Status string }
				UserErrors []struct{ Code string }
			}
		}
		q := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { code } } }`
		ts.client.MustPost(q, &claim, vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "r1"}), bearer(token))
		if claim.ClaimSlot.Claim == nil || claim.ClaimSlot.Claim.Status != "CONFIRMED" {
			t.Fatalf("claim: %+v", claim.ClaimSlot)
		}
		for _, name := range []string{"p1", "p2", "p3", "w1"} {
			tok, _ := ts.person(name, true)
			ts.client.MustPost(q, &claim, vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "k"}), bearer(tok))
		}
		if claim.ClaimSlot.Claim.Status != "WAITLISTED" {
			t.Fatalf("w1 should wait: %+v", claim.ClaimSlot.Claim)
		}
		// Two stories: one published, one pending.
		for _, st := range []string{"PUBLISHED", "PENDING_REVIEW"} {
			if _, err := store.Exec(ctx, db, `INSERT INTO stories (author_id, author_name, title, body, status, created_at, updated_at, published_at)
				VALUES (?, 'Rasmus', ?, 'Tekst', ?, ?, ?, ?)`, rasmus.UserID, "Historie "+st, st, tw.activity.CreatedAt, tw.activity.CreatedAt, tw.activity.CreatedAt); err != nil {
				t.Fatal(err)
			}
		}

		var export struct {
			ExportMyData struct {
				Data map[string]any
			}
		}
		ts.client.MustPost(`mutation { exportMyData { data } }`, &export, bearer(token))
		data := export.ExportMyData.Data
		profile, _ := data["profile"].(map[string]any)
		if profile["email"] != "rasmus2@test.example" || len(data["claims"].([]any)) != 1 || len(data["stories"].([]any)) != 2 {
			t.Fatalf("export: %+v", data)
		}

		var del struct {
			DeleteMyAccount struct {
				Deleted    bool
				UserErrors []struct{ Code string }
			}
		}
		dq := `mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) { deleted userErrors { code } } }`
		ts.client.MustPost(dq, &del, vars("i", map[string]any{"stories": "ANONYMISE", "confirm": false}), bearer(token))
		if del.DeleteMyAccount.Deleted || len(del.DeleteMyAccount.UserErrors) != 1 || del.DeleteMyAccount.UserErrors[0].Code != "CONFIRMATION_REQUIRED" {
			t.Fatalf("unconfirmed delete: %+v", del)
		}
		ts.client.MustPost(dq, &del, vars("i", map[string]any{"stories": "ANONYMISE", "confirm": true}), bearer(token))
		if !del.DeleteMyAccount.Deleted {
			t.Fatalf("delete: %+v", del)
		}

		var row struct {
			Email       *string `db:"email"`
			Phone       *string `db:"phone"`
			UID         *string `db:"firebase_uid"`
			DisplayName string  `db:"display_name"`
		}
		if err := store.Get(ctx, db, &row, `SELECT email, phone, firebase_uid, display_name FROM users WHERE id = ?`, rasmus.UserID); err != nil {
			t.Fatal(err)
		}
		if row.Email != nil || row.Phone != nil || row.UID != nil || row.DisplayName != "" {
			t.Errorf("personal data left: %+v", row)
		}
		var live, waiting, stories, named int
		store.Get(ctx, db, &live, `SELECT COUNT(*) FROM slot_claims WHERE user_id = ? AND status <> 'CANCELLED'`, rasmus.UserID)
		store.Get(ctx, db, &waiting, `SELECT waitlisted FROM volunteer_slots WHERE id = ?`, tw.slot.ID)
		store.Get(ctx, db, &stories, `SELECT COUNT(*) FROM stories WHERE title LIKE 'Historie %'`)
		store.Get(ctx, db, &named, `SELECT COUNT(*) FROM stories WHERE author_id = ? OR author_name = 'Rasmus'`, rasmus.UserID)
		if live != 0 || waiting != 0 {
			t.Errorf("after delete: %d live claims, %d waiting (the waitlisted person should be promoted)", live, waiting)
		}
		if stories != 1 || named != 0 {
			t.Errorf("stories: %d left (want the published one), %d still named", stories, named)
		}

		// The token from before the deletion is refused rather than
		// starting a new account (TestDeletionLeavesNothing).
		resp, err := ts.client.RawPost(`{ me { id } }`, bearer(token))
		if err == nil && !strings.Contains(string(resp.Errors), "UNAUTHENTICATED") {
			t.Errorf("old token: %s %s, want UNAUTHENTICATED", resp.Data, resp.Errors)
		}
	})
}
