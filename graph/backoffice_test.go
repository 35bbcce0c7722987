package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// With trusted documents on, as in production, the secretariat runs its
// back office through the manifest's documents, sent by hash: it adds an
// organisation and a place, edits both and reads the organisation back. A
// resident sending the same hash is refused by the domain, not by a
// missing document.
func TestBackOfficeThroughTrustedDocuments(t *testing.T) {
	docs, _, _ := loadManifest(t)
	byName := map[string]string{}
	for hash, doc := range docs {
		name, _, _ := strings.Cut(doc, "(")
		byName[strings.TrimSpace(name)] = hash
	}
	for _, op := range []string{"mutation CreateOrganisation", "mutation UpdateOrganisation", "mutation CreatePlace", "mutation UpdatePlace", "query OrganisationForEditing"} {
		if byName[op] == "" {
			t.Fatalf("no %q in the manifest", op)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServerWith(t, db, Options{TrustedDocuments: docs})
		if _, _, err := user.NewService(db, clock.Real).GrantSecretariat(context.Background(), "boss@test.example", ""); err != nil {
			t.Fatal(err)
		}
		boss, _ := ts.person("boss", true)
		resident, _ := ts.person("resident", true)
		send := func(token, op string, vars map[string]any) reply {
			t.Helper()
			req := postJSON(mustJSON(map[string]any{"extensions": persisted(byName[op]), "variables": vars}))
			req.Header.Set("Authorization", "Bearer "+token)
			return ts.do(req)
		}
		payload := func(r reply, field string) map[string]any {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", field, r.Errors)
			}
			p, _ := r.Data[field].(map[string]any)
			if ues, _ := p["userErrors"].([]any); len(ues) > 0 {
				t.Fatalf("%s: userErrors %v", field, ues)
			}
			return p
		}

		r := send(boss, "mutation CreateOrganisation", map[string]any{"input": map[string]any{
			"name": "Ishøj Strandrensere", "kind": "ASSOCIATION", "description": "Vi samler affald på stranden."}})
		org := payload(r, "createOrganisation")["organisation"].(map[string]any)
		r = send(boss, "mutation UpdateOrganisation", map[string]any{"input": map[string]any{
			"organisationId": org["id"], "name": "Ishøj Strandrensere", "kind": "ASSOCIATION", "description": "Hver første søndag."}})
		if got := payload(r, "updateOrganisation")["organisation"].(map[string]any)["description"]; got != "Hver første søndag." {
			t.Errorf("updated description = %v", got)
		}
		r = send(boss, "query OrganisationForEditing", map[string]any{"id": org["id"]})
		if len(r.Errors) > 0 || r.Data["node"].(map[string]any)["organisers"] == nil {
			t.Errorf("OrganisationForEditing as the secretariat: %+v %v", r.Errors, r.Data)
		}
		r = send(boss, "mutation CreatePlace", map[string]any{"input": map[string]any{
			"name": "Strandparken, p-pladsen", "address": "Strandvejen 1, 2635 Ishøj"}})
		created := payload(r, "createPlace")["place"].(map[string]any)
		if created["name"] != "Strandparken, p-pladsen" {
			t.Errorf("created place = %v", created)
		}
		r = send(boss, "mutation UpdatePlace", map[string]any{"input": map[string]any{
			"placeId": created["id"], "name": "Strandparken, p-pladsen", "address": "Strandvejen 3, 2635 Ishøj",
			"latitude": 55.6061, "longitude": 12.3713}})
		if got := payload(r, "updatePlace")["place"].(map[string]any); got["address"] != "Strandvejen 3, 2635 Ishøj" || got["latitude"] != 55.6061 {
			t.Errorf("updated place = %v", got)
		}

		r = send(resident, "mutation CreatePlace", map[string]any{"input": map[string]any{"name": "Mit sted"}})
		if r.code() != apperr.CodeForbidden || r.Data["createPlace"] != nil {
			t.Errorf("a resident's CreatePlace: %+v %v", r.Errors, r.Data)
		}
	})
}
