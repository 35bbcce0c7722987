package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A mutation's payload returns its object through the same read the
// queries use, so it can never show more than node(id:) (or me) would
// show the same person. This checks every mutation whose payload holds
// one of these types, as every role, from the schema: a new mutation
// without a scenario fails.
var payloadTypes = map[string]bool{
	"Story": true, "Activity": true, "Initiative": true, "User": true, "VolunteerSlot": true, "SlotClaim": true,
	"Me": true, "Organisation": true, "Place": true, "Call": true, "CalendarSource": true, "Notification": true,
	"Participation": true,
}

// payloadScenario runs one mutation as every role, with each input in
// turn (inputs about different things, so they do not disturb each other).
type payloadScenario struct {
	name     string
	mutation string
	inputs   []func(rt readTown) map[string]any
	// someoneSees says at least one role must get the object back, so the
	// scenario is not passing on nothing but refusals.
	someoneSees bool
}

// payloadScenarios are the mutation matrix's cases (their inputs and
// who may call them), and the reactions and reports that round one let
// through: a volunteer reacting to, or un-reacting from, a story that is
// not published got it back with its photos (hole 2 of issue 15).
func payloadScenarios() []payloadScenario {
	var out []payloadScenario
	for _, mc := range matrix {
		name, _, _ := strings.Cut(mc.name, " ")
		sc := payloadScenario{name: mc.name, mutation: name, someoneSees: len(mc.allowed) > 0}
		if mc.vars != nil {
			v := mc.vars
			sc.inputs = append(sc.inputs, func(rt readTown) map[string]any { return v(rt.town) })
		} else {
			sc.inputs = append(sc.inputs, nil)
		}
		out = append(out, sc)
	}
	react := payloadScenario{name: "reactToStory (stories not published)", mutation: "reactToStory"}
	report := payloadScenario{name: "reportStory (stories not published)", mutation: "reportStory"}
	feature := payloadScenario{name: "featureStory (stories not published)", mutation: "featureStory", someoneSees: true}
	for _, st := range []struct {
		name string
		id   func(rt readTown) int64
	}{
		{"pending", func(rt readTown) int64 { return rt.pendingStory }},
		{"changes requested", func(rt readTown) int64 { return rt.changesStory }},
		{"rejected", func(rt readTown) int64 { return rt.rejectedStory }},
		{"hidden", func(rt readTown) int64 { return rt.hiddenStory }},
	} {
		for _, kind := range []any{nil, "HEART"} {
			id, kind := st.id, kind
			react.inputs = append(react.inputs, func(rt readTown) map[string]any {
				return map[string]any{"storyId": globalID(typeStory, id(rt)), "kind": kind}
			})
		}
		id := st.id
		report.inputs = append(report.inputs, func(rt readTown) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, id(rt)), "reason": "Upassende"}
		})
		feature.inputs = append(feature.inputs, func(rt readTown) map[string]any {
			return map[string]any{"storyId": globalID(typeStory, id(rt)), "featured": false}
		})
	}
	out = append(out, react, report, feature)
	out = append(out,
		payloadScenario{name: "leaveInitiative (rasmus and conny joined)", mutation: "leaveInitiative", someoneSees: true,
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"initiativeId": globalID(typeInitiative, rt.initiative)}
			})},
		payloadScenario{name: "joinInitiative (hidden)", mutation: "joinInitiative",
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"initiativeId": globalID(typeInitiative, rt.hiddenInitiative)}
			})},
		payloadScenario{name: "reportInitiative (hidden)", mutation: "reportInitiative",
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"initiativeId": globalID(typeInitiative, rt.hiddenInitiative)}
			})},
		payloadScenario{name: "recordQualification (rasmus)", mutation: "recordQualification", someoneSees: true,
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"userId": globalID(typeUser, rt.rasmus), "requirement": "FIRST_AID"}
			})},
		payloadScenario{name: "cancelClaim (rasmus' own)", mutation: "cancelClaim", someoneSees: true,
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"claimId": globalID(typeClaim, rt.rasmusClaim.ID)}
			})},
		payloadScenario{name: "cancelParticipation (rasmus' own)", mutation: "cancelParticipation", someoneSees: true,
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"participationId": globalID(typeParticipation, rt.rasmusGuest)}
			})},
		payloadScenario{name: "participate (a draft)", mutation: "participate",
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"activityId": globalID(typeActivity, rt.draft.ID), "status": "GOING", "idempotencyKey": "draft-1"}
			})},
		payloadScenario{name: "updateVolunteerSlot (a draft's)", mutation: "updateVolunteerSlot", someoneSees: true,
			inputs: one(func(rt readTown) map[string]any {
				return map[string]any{"slotId": globalID(typeSlot, rt.draftSlot.ID), "title": "Hemmelig vagt",
					"startsAt": rt.draftSlot.StartsAt.Format("2006-01-02T15:04:05Z07:00"),
					"endsAt":   rt.draftSlot.EndsAt.Format("2006-01-02T15:04:05Z07:00"), "capacity": 3}
			})},
	)
	return out
}

func one(f func(rt readTown) map[string]any) []func(rt readTown) map[string]any {
	return []func(rt readTown) map[string]any{f}
}

// payloadFields returns, for each mutation, the payload fields holding
// one of payloadTypes, with their type.
func payloadFields(s *ast.Schema) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, m := range s.Mutation.Fields {
		if strings.HasPrefix(m.Name, "__") {
			continue
		}
		for _, f := range s.Types[m.Type.Name()].Fields {
			if payloadTypes[f.Type.Name()] {
				if out[m.Name] == nil {
					out[m.Name] = map[string]string{}
				}
				out[m.Name][f.Name] = f.Type.Name()
			}
		}
	}
	return out
}

// selection asks for every field of typ that needs no argument, objects
// depth levels down. Interfaces are left out.
func selection(s *ast.Schema, typ string, depth int) string {
	var parts []string
	for _, f := range s.Types[typ].Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		required := false
		for _, a := range f.Arguments {
			required = required || (a.Type.NonNull && a.DefaultValue == nil)
		}
		if required {
			continue
		}
		switch def := s.Types[f.Type.Name()]; def.Kind {
		case ast.Scalar, ast.Enum:
			parts = append(parts, f.Name)
		case ast.Object:
			if depth == 0 {
				continue
			}
			if sub := selection(s, def.Name, depth-1); sub != "" {
				parts = append(parts, f.Name+" { "+sub+" }")
			}
		}
	}
	return strings.Join(parts, " ")
}

// notShownByQuery lists where got (a payload's object) shows something
// want (the same object as the query shows it) does not.
func notShownByQuery(path string, got, want any) []string {
	switch g := got.(type) {
	case nil:
		return nil
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			return []string{path + " (the query shows null)"}
		}
		var out []string
		for k, v := range g {
			out = append(out, notShownByQuery(path+"."+k, v, w[k])...)
		}
		return out
	case []any:
		w, _ := want.([]any)
		var out []string
		for i, v := range g {
			if i >= len(w) {
				out = append(out, fmt.Sprintf("%s.%d (the query shows %d)", path, i, len(w)))
				continue
			}
			out = append(out, notShownByQuery(fmt.Sprintf("%s.%d", path, i), v, w[i])...)
		}
		return out
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return []string{fmt.Sprintf("%s = %v (the query shows %v)", path, got, want)}
		}
		return nil
	}
}

// Every mutation returning one of payloadTypes has a scenario.
func TestEveryPayloadHasAScenario(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	have := map[string]bool{}
	for _, sc := range payloadScenarios() {
		if s.Mutation.Fields.ForName(sc.mutation) == nil {
			t.Errorf("scenario %q: no mutation %s", sc.name, sc.mutation)
		}
		have[sc.mutation] = true
	}
	var missing []string
	for m := range payloadFields(s) {
		if !have[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("mutation %s returns an object but has no payload scenario (add a row to the mutation matrix)", m)
	}
}

// Every mutation has a row in the mutation matrix.
func TestMutationMatrixCoversTheSchema(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	have := map[string]bool{}
	for _, mc := range matrix {
		name, _, _ := strings.Cut(mc.name, " ")
		have[name] = true
	}
	for _, m := range s.Mutation.Fields {
		if !strings.HasPrefix(m.Name, "__") && !have[m.Name] {
			t.Errorf("mutation %s has no row in the mutation matrix", m.Name)
		}
	}
}

// The roles from the least to the most rights, so what the more trusted
// change is seen after the others have tried.
var rolesByRights = []string{anonymous, firebaseAnon, unverified, resident, organiserOther, organiserSame, secretariatRol}

func TestPayloadShowsNothingTheQueryWouldNot(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	fields := payloadFields(s)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Whole objects three levels deep cost more than the operations
		// the app sends; the limit is not what this test is about.
		ts := newTestServerWith(t, db, Options{Development: true})
		for _, sc := range payloadScenarios() {
			pf := fields[sc.mutation]
			if pf == nil {
				continue
			}
			t.Run(sc.name, func(t *testing.T) {
				// Every scenario starts from the same town, once the
				// previous one's notifications are made.
				ts.drain()
				emptyDB(t, db)
				rt := makeReadTown(t, ts)
				seen := 0
				for _, input := range sc.inputs {
					for _, role := range rolesByRights {
						seen += checkPayload(t, ts, s, sc.mutation, pf, input, rt, role)
					}
				}
				if sc.someoneSees && seen == 0 {
					t.Errorf("%s: no role got the object back", sc.name)
				}
			})
		}
	})
}

// checkPayload runs the mutation as role and compares each object in the
// payload with node(id:) (or me) asked by the same role right after. It
// returns how many objects the payload held.
func checkPayload(t *testing.T, ts *testServer, s *ast.Schema, mutation string, pf map[string]string,
	input func(readTown) map[string]any, rt readTown, role string) int {
	t.Helper()
	m := s.Mutation.Fields.ForName(mutation)
	var sel []string
	for f, typ := range pf {
		sel = append(sel, f+" { "+selection(s, typ, 3)+" }")
	}
	sort.Strings(sel)
	doc := fmt.Sprintf("mutation { %s { %s userErrors { code } } }", mutation, strings.Join(sel, " "))
	var vs map[string]any
	if len(m.Arguments) > 0 {
		doc = fmt.Sprintf("mutation($i: %s) { %s(input: $i) { %s userErrors { code } } }", m.Arguments[0].Type.String(), mutation, strings.Join(sel, " "))
		if input != nil {
			vs = map[string]any{"i": input(rt)}
		}
	}
	resp, err := ts.client.RawPost(doc, vars(flatten(vs)...), bearer(rt.tokens[role]))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Errors) > 0 && !strings.Contains(string(resp.Errors), apperr.CodeUnauthenticated) && !strings.Contains(string(resp.Errors), apperr.CodeForbidden) {
		t.Fatalf("%s as %s: %s", mutation, role, resp.Errors)
	}
	payload, _ := dig(resp.Data, mutation).(map[string]any)
	n := 0
	for f, typ := range pf {
		// A payload field holds one object or a list of them
		// (markNotificationsRead's notifications).
		objs, _ := payload[f].([]any)
		if obj, ok := payload[f].(map[string]any); ok {
			objs = []any{obj}
		}
		for _, o := range objs {
			n += checkPayloadObject(t, ts, s, mutation, f, typ, o.(map[string]any), vs, rt, role)
		}
	}
	return n
}

// checkPayloadObject compares one object of a payload with node(id:) (or
// me) asked by the same role; it returns 1.
func checkPayloadObject(t *testing.T, ts *testServer, s *ast.Schema, mutation, f, typ string, obj map[string]any,
	vs map[string]any, rt readTown, role string) int {
	t.Helper()
	{
		q := fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on %s { %s } } }", typ, selection(s, typ, 3))
		qv := map[string]any{"id": obj["id"]}
		if typ == "Me" {
			q, qv = fmt.Sprintf("{ node: me { %s } }", selection(s, typ, 3)), nil
		}
		qr, err := ts.client.RawPost(q, vars(flatten(qv)...), bearer(rt.tokens[role]))
		if err != nil {
			t.Fatal(err)
		}
		if len(qr.Errors) > 0 {
			t.Fatalf("as %s: %s", role, qr.Errors)
		}
		for _, leak := range notShownByQuery(mutation+"."+f, obj, dig(qr.Data, "node")) {
			t.Errorf("%v as %s: %s", vs, role, leak)
		}
	}
	return 1
}

// emptyDB deletes every row a test wrote to a migrated database, so the
// next test starts from a fresh one without paying for the migrations
// again (a second or so on PostgreSQL). What the migrations themselves
// write (the versions, the theme vocabulary) stays.
func emptyDB(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	keep := "'goose_db_version', 'river_migration', 'themes'"
	var tables []string
	if db.Dialect == store.Postgres {
		if err := store.Select(ctx, db, &tables, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT IN (`+keep+`)`); err != nil {
			t.Fatal(err)
		}
		// DELETE, not TRUNCATE: a TRUNCATE of forty tables takes over a
		// second on PostgreSQL (new files for each), a DELETE of their few
		// rows milliseconds. The replica role skips the foreign keys'
		// triggers, so the order does not matter; the sequences start
		// again so every scenario's town has the same ids. A deadlock with
		// a job still running is retried by Transact.
		err := db.Transact(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
			for _, table := range tables {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `SELECT setval(c.oid, 1, false) FROM pg_class c
				WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	// Ordinary tables only: search's FTS5 tables follow their tables
	// through triggers, and a DELETE of their shadow tables would corrupt
	// them.
	if err := store.Select(ctx, db, &tables, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN (`+keep+`)`); err != nil {
		t.Fatal(err)
	}
	err := db.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		for _, table := range tables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A write on something the caller may not see answers as if it did not
// exist: someone else's draft, a slot of it, or someone else's claim tells
// the caller nothing a made-up id would not.
func TestWritesOnHiddenThingsAnswerNotFound(t *testing.T) {
	start := time.Now().Add(240 * time.Hour).Truncate(time.Hour)
	cases := []struct {
		name, query string
		input       func(rt readTown, id string) map[string]any
		typ         string
		hidden      func(rt readTown) int64
	}{
		{"publishActivity", `mutation($i: ActivityIdInput!) { publishActivity(input: $i) { activity { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any { return map[string]any{"activityId": id} },
			typeActivity, func(rt readTown) int64 { return rt.draft.ID }},
		{"updateActivity", `mutation($i: UpdateActivityInput!) { updateActivity(input: $i) { activity { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any {
				return map[string]any{"activityId": id, "title": "Nyt", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339)}
			}, typeActivity, func(rt readTown) int64 { return rt.draft.ID }},
		{"addVolunteerSlot", `mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { slot { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any {
				return map[string]any{"activityId": id, "title": "Vagt", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339), "capacity": 1}
			}, typeActivity, func(rt readTown) int64 { return rt.draft.ID }},
		{"updateVolunteerSlot", `mutation($i: UpdateVolunteerSlotInput!) { updateVolunteerSlot(input: $i) { slot { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any {
				return map[string]any{"slotId": id, "title": "Vagt", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339), "capacity": 1}
			}, typeSlot, func(rt readTown) int64 { return rt.draftSlot.ID }},
		{"claimSlot", `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any {
				return map[string]any{"slotId": id, "idempotencyKey": "k-" + id}
			},
			typeSlot, func(rt readTown) int64 { return rt.draftSlot.ID }},
		{"cancelClaim", `mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { claim { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any { return map[string]any{"claimId": id} },
			typeClaim, func(rt readTown) int64 { return rt.veraClaim.ID }},
		{"markAttendance", `mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { claim { id } userErrors { code field } } }`,
			func(rt readTown, id string) map[string]any {
				return map[string]any{"claimId": id, "attendance": "ATTENDED"}
			},
			typeClaim, func(rt readTown) int64 { return rt.veraPastClaim.ID }},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		rt := makeReadTown(t, ts)
		answer := func(query string, vs map[string]any, role string) string {
			resp, err := ts.client.RawPost(query, vars("i", vs), bearer(rt.tokens[role]))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(map[string]any{"data": resp.Data, "errors": codesOf(resp.Errors)})
			return string(b)
		}
		for _, tc := range cases {
			for _, role := range []string{anonymous, firebaseAnon, unverified, resident, organiserOther} {
				hidden := answer(tc.query, tc.input(rt, globalID(tc.typ, tc.hidden(rt))), role)
				missing := answer(tc.query, tc.input(rt, globalID(tc.typ, 999999)), role)
				if hidden != missing {
					t.Errorf("%s as %s: on the hidden one %s, on a made-up id %s", tc.name, role, hidden, missing)
				}
			}
		}
	})
}

// codesOf keeps the codes of GraphQL errors, which is what a client
// tells apart (messages and paths are the same).
func codesOf(raw json.RawMessage) []any {
	var errs []struct{ Extensions map[string]any }
	_ = json.Unmarshal(raw, &errs)
	var out []any
	for _, e := range errs {
		out = append(out, e.Extensions)
	}
	return out
}
