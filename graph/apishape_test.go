package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// Shapes an app's normalised cache relies on (issue 18): payloads that
// carry what changed, typed codes, connections that page.

// claimSlot's payload carries the slot as it is after the call, also when
// the claim was refused, so a cache updates myClaim and the counts.
func TestClaimPayloadCarriesTheSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		anna, _ := ts.person("anna", true)
		type resp struct {
			ClaimSlot struct {
				Claim *struct{ ID, Status string }
				Slot  *struct {
					ID                               string
					Taken, SpotsLeft, WaitlistLength int
					MyClaim                          *struct{ ID string }
				}
				UserErrors []struct{ Code, ErrorCode string }
			}
		}
		q := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) {
			claim { id status } slot { id taken spotsLeft waitlistLength myClaim { id } } userErrors { code errorCode } } }`
		slotID := globalID(typeSlot, tw.slot.ID)
		var first resp
		ts.client.MustPost(q, &first, vars("i", map[string]any{"slotId": slotID, "idempotencyKey": "a-1"}), bearer(anna))
		p := first.ClaimSlot
		if p.Claim == nil || p.Slot == nil || p.Slot.ID != slotID || p.Slot.MyClaim == nil || p.Slot.MyClaim.ID != p.Claim.ID ||
			p.Slot.Taken != tw.slot.Taken+2 || p.Slot.SpotsLeft != tw.slot.Capacity-tw.slot.Taken-2 {
			// vera's claim was made after tw.slot was read, anna's now.
			t.Fatalf("claim payload: %+v", p)
		}
		var again resp
		ts.client.MustPost(q, &again, vars("i", map[string]any{"slotId": slotID, "idempotencyKey": "a-2"}), bearer(anna))
		p = again.ClaimSlot
		if p.Claim != nil || len(p.UserErrors) != 1 || p.UserErrors[0].ErrorCode != volunteer.CodeAlreadyClaimed ||
			p.UserErrors[0].Code != p.UserErrors[0].ErrorCode || p.Slot == nil || p.Slot.MyClaim == nil {
			t.Fatalf("refused claim: %+v", p)
		}
		var bad resp
		ts.client.MustPost(q, &bad, vars("i", map[string]any{"slotId": "nope", "idempotencyKey": "a-3"}), bearer(anna))
		if p := bad.ClaimSlot; p.Slot != nil || len(p.UserErrors) != 1 || p.UserErrors[0].ErrorCode != "INVALID_ID" {
			t.Fatalf("malformed id: %+v", p)
		}
	})
}

// markNotificationsRead returns the entries it changed and the new count.
func TestMarkReadReturnsWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		token, c := ts.person("anna", true)
		other, oc := ts.person("bo", true)
		_ = other
		now := ts.now().UTC()
		var ids []int64
		for i, uid := range []int64{c.UserID, c.UserID, c.UserID, oc.UserID} {
			var id int64
			if err := store.Get(context.Background(), db, &id, `INSERT INTO notifications (user_id, kind, title, body, send_after, created_at)
				VALUES (?, 'ANNOUNCEMENT', ?, 'Tekst', ?, ?) RETURNING id`, uid, fmt.Sprint("Besked ", i), now, now); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		type resp struct {
			MarkNotificationsRead struct {
				Marked        int
				Notifications []struct {
					ID     string
					Type   string
					ReadAt *string
				}
				Me         *struct{ UnreadNotifications int }
				UserErrors []struct{ ErrorCode string }
			}
		}
		q := `mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) {
			marked notifications { id type readAt } me { unreadNotifications } userErrors { errorCode } } }`
		var one resp
		// Bo's notification is not anna's: ignored, not reported.
		ts.client.MustPost(q, &one, vars("i", map[string]any{"ids": []string{globalID(typeNotification, ids[0]), globalID(typeNotification, ids[3])}}),
			bearer(token))
		p := one.MarkNotificationsRead
		if p.Marked != 1 || len(p.Notifications) != 1 || p.Notifications[0].ID != globalID(typeNotification, ids[0]) ||
			p.Notifications[0].ReadAt == nil || p.Notifications[0].Type != "ANNOUNCEMENT" || p.Me == nil || p.Me.UnreadNotifications != 2 {
			t.Fatalf("mark one: %+v", p)
		}
		var all resp
		ts.client.MustPost(q, &all, vars("i", map[string]any{"all": true}), bearer(token))
		p = all.MarkNotificationsRead
		want := []string{globalID(typeNotification, ids[2]), globalID(typeNotification, ids[1])}
		var got []string
		for _, n := range p.Notifications {
			got = append(got, n.ID)
		}
		if p.Marked != 2 || !slices.Equal(got, want) || p.Me.UnreadNotifications != 0 {
			t.Fatalf("mark all: %+v, want %v", p, want)
		}
		var none resp
		ts.client.MustPost(q, &none, vars("i", map[string]any{"all": true}), bearer(token))
		if p := none.MarkNotificationsRead; p.Marked != 0 || p.Notifications == nil || len(p.Notifications) != 0 {
			t.Fatalf("nothing left to mark: %+v", p)
		}
	})
}

// NotificationKind lists every kind the inbox can hold.
func TestNotificationKindEnum(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	var schemaKinds []string
	for _, v := range s.Types["NotificationKind"].EnumValues {
		schemaKinds = append(schemaKinds, v.Name)
	}
	want := []string{}
	for _, k := range notify.Kinds {
		want = append(want, string(k))
	}
	// The initiative events internal/notify turns into notifications
	// (INITIATIVE_PROPOSED reaches nobody yet).
	for _, k := range []initiative.EventKind{initiative.EventJoined, initiative.EventApprovalRequested, initiative.EventApproved,
		initiative.EventMerged, initiative.EventClosed, initiative.EventClosedStale, initiative.EventHidden,
		initiative.EventRestored, initiative.EventRemoved} {
		want = append(want, string(k))
	}
	slices.Sort(want)
	slices.Sort(schemaKinds)
	if !slices.Equal(schemaKinds, want) {
		t.Errorf("NotificationKind = %v, want %v", schemaKinds, want)
	}
}

// Every labelled enum value has a label in every language, and labels
// answer in the caller's language.
func TestLabels(t *testing.T) {
	for name, values := range enumValues() {
		if len(values) == 0 {
			t.Errorf("%s has no values", name)
		}
		for _, v := range values {
			for _, l := range i18n.Supported() {
				key := labelKey(name, v)
				if i18n.Text(l, key, nil) == key {
					t.Errorf("%s has no %s label", key, l)
				}
			}
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		var da, en struct {
			Labels []struct{ Value, Label string }
		}
		q := `{ labels(enum: REQUIREMENT) { value label } }`
		ts.client.MustPost(q, &da)
		ts.client.MustPost(q, &en, lang("en"))
		if len(da.Labels) != 4 || da.Labels[0].Value != "CHILD_CERTIFICATE" || da.Labels[0].Label != "Børneattest" ||
			len(en.Labels) != 4 || en.Labels[0].Label != "Child protection certificate" {
			t.Errorf("labels: da %+v, en %+v", da.Labels, en.Labels)
		}
	})
}

// The paged lists walk the same items as the lists they replace, in the
// same order, whatever the page size; totalCount is the whole list.
func TestConnectionsMatchTheirLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		d := ts.resolver.Domain
		boss := tw.callers[secretariatRol]
		anna, ac := ts.person("anna", true)
		// More slots on the activity, and anna on three of them.
		start := tw.slot.StartsAt
		for i := range 4 {
			sl, err := d.Volunteer.AddSlot(ctx, boss, volunteer.NewSlot{ActivityID: tw.activity.ID, Title: fmt.Sprint("Vagt ", i),
				StartsAt: start.Add(time.Duration(i) * time.Hour), EndsAt: start.Add(time.Duration(i+1) * time.Hour), Capacity: 2})
			if err != nil {
				t.Fatal(err)
			}
			if i < 3 {
				if _, err := d.Volunteer.Claim(ctx, ac, sl.ID, fmt.Sprint("k", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := d.Stories.OpenCall(ctx, boss, story.CallInput{Title: "Min vinter", Description: "Send et vinterbillede.",
			Deadline: ts.now().Add(60 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, list, conn, path string
			vars                   map[string]any
			token                  string
		}{
			{"Me.claims", `{ x: me { claims { id } } }`, `query($first: Int, $after: String) { x: me { c: claimsConnection(first: $first, after: $after) { %s } } }`,
				"x.claims", nil, anna},
			{"Me.stories", `{ x: me { stories { id } } }`, `query($first: Int, $after: String) { x: me { c: storiesConnection(first: $first, after: $after) { %s } } }`,
				"x.stories", nil, "token-vera"},
			{"Activity.slots", `query($id: ID!) { x: activity(id: $id) { slots { id } } }`,
				`query($id: ID!, $first: Int, $after: String) { x: activity(id: $id) { c: slotsConnection(first: $first, after: $after) { %s } } }`,
				"x.slots", map[string]any{"id": globalID(typeActivity, tw.activity.ID)}, anna},
			{"Query.calls", `{ x: calls(open: false) { id } }`, `query($first: Int, $after: String) { c: callsConnection(open: false, first: $first, after: $after) { %s } }`,
				"x", nil, anna},
		}
		for _, c := range cases {
			var listed []any
			r, err := ts.client.RawPost(c.list, vars(flatten(c.vars)...), bearer(c.token))
			if err != nil || len(r.Errors) > 0 {
				t.Fatalf("%s: %v %s", c.name, err, r.Errors)
			}
			listed, _ = dig(r.Data, c.path).([]any)
			var want []string
			for _, o := range listed {
				want = append(want, o.(map[string]any)["id"].(string))
			}
			if len(want) < 2 {
				t.Fatalf("%s: only %d items to page through", c.name, len(want))
			}
			for _, size := range []int{1, 2, 100} {
				var got []string
				var after any
				for page := 0; page <= len(want)+1; page++ {
					v := map[string]any{"first": size, "after": after}
					for k, x := range c.vars {
						v[k] = x
					}
					sel := "edges { cursor node { id } } pageInfo { hasNextPage endCursor hasPreviousPage startCursor }"
					if c.name != "Me.stories" && c.name != "Activity.slots" {
						sel += " totalCount"
					}
					r, err := ts.client.RawPost(fmt.Sprintf(c.conn, sel), vars(flatten(v)...), bearer(c.token))
					if err != nil || len(r.Errors) > 0 {
						t.Fatalf("%s: %v %s", c.name, err, r.Errors)
					}
					conn, _ := dig(r.Data, "c").(map[string]any)
					if conn == nil {
						conn, _ = dig(r.Data, "x.c").(map[string]any)
					}
					if tc, ok := conn["totalCount"]; ok && int(tc.(float64)) != len(want) {
						t.Errorf("%s: totalCount %v, want %d", c.name, tc, len(want))
					}
					for _, e := range conn["edges"].([]any) {
						got = append(got, e.(map[string]any)["node"].(map[string]any)["id"].(string))
					}
					info := conn["pageInfo"].(map[string]any)
					if !info["hasNextPage"].(bool) {
						break
					}
					after = info["endCursor"]
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s in pages of %d: %v, want %v", c.name, size, got, want)
				}
			}
		}
	})
}

// A page starts after the cursor's key even when the row the cursor was
// made from has left the list (a claim cancelled between two pages).
func TestPageOfAfterARemovedRow(t *testing.T) {
	base := time.Date(2027, 6, 1, 10, 0, 0, 0, time.UTC)
	type row struct {
		at time.Time
		id int64
	}
	var rows []row
	for i := range 5 {
		rows = append(rows, row{base.Add(time.Duration(i) * time.Hour), int64(i + 1)})
	}
	key := func(r *row) cursor { return timeKey(r.at, r.id) }
	gone := timeKey(base.Add(90*time.Minute), 99) // between rows 2 and 3
	got, err := pageOf(rows, 2, &gone, key, false)
	if err != nil || len(got) != 3 || got[0].id != 3 {
		t.Errorf("ascending after a removed row: %v %v", got, err)
	}
	slices.Reverse(rows)
	got, err = pageOf(rows, 2, &gone, key, true)
	if err != nil || len(got) != 2 || got[0].id != 2 {
		t.Errorf("descending after a removed row: %v %v", got, err)
	}
	if _, err := pageOf(rows, 2, &cursor{ID: 3}, key, false); err == nil {
		t.Error("a cursor without a time (another list's) is accepted")
	}
}

// updateMe returns the person as Me and as User, so both cache entries of
// one person change together; Me.user is the same person.
func TestUpdateMeReturnsTheUserToo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		token, c := ts.person("anna", true)
		var r struct {
			UpdateMe struct {
				Me   struct{ ID, DisplayName string }
				User struct{ ID, DisplayName string }
			}
		}
		ts.client.MustPost(`mutation { updateMe(input: {displayName: "Anna Ny"}) { me { id displayName } user { id displayName } } }`, &r, bearer(token))
		if r.UpdateMe.Me.ID != globalID(typeUser, c.UserID) || r.UpdateMe.User.ID != r.UpdateMe.Me.ID || r.UpdateMe.User.DisplayName != "Anna Ny" {
			t.Fatalf("updateMe: %+v", r.UpdateMe)
		}
		var q struct {
			Me struct {
				ID   string
				User struct{ ID, DisplayName string }
			}
		}
		ts.client.MustPost(`{ me { id user { id displayName } } }`, &q, bearer(token))
		if q.Me.User.ID != q.Me.ID || q.Me.User.DisplayName != "Anna Ny" {
			t.Fatalf("me.user: %+v", q.Me)
		}
	})
}

// A malformed or wrong-type id in a query's argument, or in a filter, is
// one error wherever it is: BAD_USER_INPUT with userErrorCode INVALID_ID
// and the field it was in. Only node and nodes answer null instead
// (Relay's rule: null for any id they cannot show). Mutations put it in
// their payload's userErrors (their matrix rows and fuzz tests check that).
func TestMalformedIDsAreOneError(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	ts := newTestServer(t, storetest.SQLite(t))
	token, _ := ts.person("anna", true)
	isID := func(name string) bool { return name == "ID" }
	checked := 0
	for _, f := range s.Query.Fields {
		if f.Name == "node" || f.Name == "nodes" || len(f.Arguments) == 0 {
			continue
		}
		sel := ""
		if def := s.Types[f.Type.Name()]; def.Kind != "SCALAR" && def.Kind != "ENUM" {
			sel = "{ __typename }"
		}
		for _, a := range f.Arguments {
			var value any
			var field []string
			switch {
			case isID(a.Type.Name()) && a.Type.Elem == nil:
				value, field = globalID("Nothing", 1), []string{a.Name}
			case isID(a.Type.Name()):
				value, field = []string{"%%%"}, []string{a.Name}
			case s.Types[a.Type.Name()].Kind == "INPUT_OBJECT":
				for _, in := range s.Types[a.Type.Name()].Fields {
					if isID(in.Type.Name()) && in.Type.Elem == nil {
						value, field = map[string]any{in.Name: "%%%"}, []string{a.Name, in.Name}
						break
					}
				}
			}
			if value == nil {
				continue
			}
			// Other required arguments get a harmless value.
			var decls, uses []string
			vs := map[string]any{"v": value}
			decls, uses = append(decls, "$v: "+a.Type.String()), append(uses, a.Name+": $v")
			for _, o := range f.Arguments {
				if o.Name == a.Name || !o.Type.NonNull || o.DefaultValue != nil {
					continue
				}
				t.Fatalf("%s needs %s too; give the test a value for it", f.Name, o.Name)
			}
			doc := fmt.Sprintf("query(%s) { %s(%s) %s }", decls[0], f.Name, uses[0], sel)
			r, err := ts.client.RawPost(doc, vars(flatten(vs)...), bearer(token))
			if err != nil {
				t.Fatal(err)
			}
			var errs []struct {
				Extensions struct {
					Code, UserErrorCode string
					Field               []string
				}
			}
			if err := json.Unmarshal(r.Errors, &errs); err != nil || len(errs) != 1 ||
				errs[0].Extensions.Code != "BAD_USER_INPUT" || errs[0].Extensions.UserErrorCode != "INVALID_ID" ||
				!slices.Equal(errs[0].Extensions.Field, field) {
				t.Errorf("%s(%s: %v): %s, want BAD_USER_INPUT INVALID_ID on %s", f.Name, a.Name, value, r.Errors, field)
			}
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("checked only %d arguments; is the walk broken?", checked)
	}
	// node and nodes: null, no error.
	var n struct {
		Node  *struct{ ID string }
		Nodes []*struct{ ID string }
	}
	ts.client.MustPost(`{ node(id: "%%%") { id } nodes(ids: ["%%%", "`+globalID("Nothing", 1)+`"]) { id } }`, &n)
	if n.Node != nil || len(n.Nodes) != 2 || n.Nodes[0] != nil || n.Nodes[1] != nil {
		t.Errorf("node and nodes: %+v", n)
	}
}
