package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

const nearQuery = `query($near: GeoPointInput, $within: Int, $bbox: BoundingBoxInput, $order: ActivityOrder, $porder: PlaceOrder, $first: Int, $after: String) {
  activities(first: $first, after: $after, filter: {near: $near, within: $within, bbox: $bbox}, orderBy: $order) {
    edges { cursor distance node { title place { name } } }
    pageInfo { hasNextPage endCursor }
  }
  places(filter: {near: $near, within: $within, bbox: $bbox}, orderBy: $porder) { edges { distance node { name } } }
}`

type nearPage struct {
	Activities struct {
		Edges []struct {
			Cursor   string
			Distance *int
			Node     struct {
				Title string
				Place *struct{ Name string }
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	Places struct {
		Edges []struct {
			Distance *int
			Node     struct{ Name string }
		}
	}
}

// TestNearMe lists activities and places near a point and on a map
// through the API, as a visitor, on both databases.
func TestNearMe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		d := ts.resolver.Domain
		boss := secretariat(t, db)
		org, err := d.Organisations.Create(ctx, boss, organisation.Input{Name: "Glashuset", Kind: organisation.Association})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(name string, lat, lng float64) place.Place {
			p, err := d.Places.Create(ctx, boss, place.Input{Name: name, Latitude: &lat, Longitude: &lng})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		kultur := mk("Kulturhuset AAB", 55.6166, 12.3522)
		farm := mk("Bredekærgård", 55.6207, 12.3398)
		havn := mk("Ishøj Havn", 55.6062, 12.3711)
		if _, err := d.Places.Create(ctx, boss, place.Input{Name: "Et sted uden position"}); err != nil {
			t.Fatal(err)
		}
		start := ts.now().Add(24 * time.Hour).Truncate(time.Hour)
		for i, at := range []*int64{&havn.ID, &kultur.ID, &farm.ID, nil, &kultur.ID} {
			s := start.Add(time.Duration(i) * time.Hour)
			if _, err := d.Activities.Create(ctx, boss, activity.Input{OrganisationID: org.ID, PlaceID: at,
				Title: "Aktivitet " + string(rune('A'+i)), StartsAt: s, EndsAt: s.Add(time.Hour)}, true); err != nil {
				t.Fatal(err)
			}
		}
		vejleaa := map[string]any{"lat": 55.6172, "lng": 12.3531}

		// Near Vejleåparken, by distance, a page of one at a time.
		var titles []string
		var dists []int
		var after *string
		for range 10 {
			var resp nearPage
			ts.client.MustPost(nearQuery, &resp, vars("near", vejleaa, "within", 2000, "order", "DISTANCE", "porder", "DISTANCE", "first", 1, "after", after))
			for _, e := range resp.Activities.Edges {
				titles = append(titles, e.Node.Title)
				dists = append(dists, *e.Distance)
			}
			if !resp.Activities.PageInfo.HasNextPage {
				if got := resp.Places.Edges; len(got) != 3 || got[0].Node.Name != "Kulturhuset AAB" || *got[0].Distance != 87 ||
					got[2].Node.Name != "Ishøj Havn" || *got[2].Distance != 1666 {
					t.Errorf("places near Vejleåparken = %+v", got)
				}
				break
			}
			after = resp.Activities.PageInfo.EndCursor
		}
		if want := []string{"Aktivitet B", "Aktivitet E", "Aktivitet C", "Aktivitet A"}; !slices.Equal(titles, want) {
			t.Errorf("by distance = %v, want %v", titles, want)
		}
		if want := []int{87, 87, 921, 1666}; !slices.Equal(dists, want) {
			t.Errorf("distances = %v, want %v", dists, want)
		}

		// Within 1 km, by time (the default order).
		var resp nearPage
		ts.client.MustPost(nearQuery, &resp, vars("near", vejleaa, "within", 1000))
		titles = nil
		for _, e := range resp.Activities.Edges {
			titles = append(titles, e.Node.Title)
		}
		if want := []string{"Aktivitet B", "Aktivitet C", "Aktivitet E"}; !slices.Equal(titles, want) {
			t.Errorf("within 1 km by time = %v, want %v", titles, want)
		}

		// A map over the harbour: no distances.
		resp = nearPage{}
		ts.client.MustPost(nearQuery, &resp, vars("bbox", map[string]any{"south": 55.60, "west": 12.36, "north": 55.61, "east": 12.38}))
		if e := resp.Activities.Edges; len(e) != 1 || e[0].Node.Title != "Aktivitet A" || e[0].Distance != nil {
			t.Errorf("map over the harbour = %+v", e)
		}

		// A cursor of one order does not page the other.
		resp = nearPage{}
		ts.client.MustPost(nearQuery, &resp, vars("near", vejleaa, "first", 1))
		var bad struct{ Errors gqlErrors }
		err = ts.client.Post(nearQuery, &bad, vars("near", vejleaa, "first", 1, "order", "DISTANCE", "after", resp.Activities.PageInfo.EndCursor))
		if err == nil || !strings.Contains(err.Error(), "INVALID_CURSOR") && !strings.Contains(err.Error(), "Sidemarkøren") {
			t.Errorf("a time cursor in a distance list: %v", err)
		}
	})
}

func TestNearMeMistakes(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	for _, c := range []struct {
		query, userCode, danish, english, arabic string
	}{
		{`{ activities(filter: {near: {lat: 55.6, lng: 12.3}, within: 50001}) { edges { cursor } } }`, "RADIUS_TOO_LARGE",
			"højst 50 km", "at most 50 km", "٥٠"},
		{`{ places(filter: {bbox: {south: 54, west: 12, north: 56, east: 12.1}}) { edges { cursor } } }`, "RADIUS_TOO_LARGE",
			"højst 200 km", "at most 200 km", "٢٠٠"},
		{`{ activities(filter: {near: {lat: 91, lng: 12.3}}) { edges { cursor } } }`, "INVALID_LOCATION",
			"findes ikke på kortet", "not on the map", "الخريطة"},
		{`{ activities(filter: {within: 100}) { edges { cursor } } }`, "INVALID_LOCATION", "kortet", "map", "الخريطة"},
		{`{ activities(orderBy: DISTANCE) { edges { cursor } } }`, "INVALID_LOCATION", "kortet", "map", "الخريطة"},
		{`{ places(orderBy: DISTANCE) { edges { cursor } } }`, "INVALID_LOCATION", "kortet", "map", "الخريطة"},
		{`{ places(filter: {bbox: {south: 55.7, west: 12.3, north: 55.6, east: 12.4}}) { edges { cursor } } }`, "INVALID_LOCATION",
			"kortet", "map", "الخريطة"},
		{`{ activities(filter: {near: {lat: 55.6, lng: 12.3}, within: -5}) { edges { cursor } } }`, "OUT_OF_RANGE", "mellem 1 og 50000", "between 1 and 50000", ""},
	} {
		for _, l := range []struct{ tag, want string }{{"", c.danish}, {"en", c.english}, {"ar", c.arabic}} {
			errs := postErrorsLang(t, ts, c.query, l.tag)
			if len(errs) != 1 || errs[0].Extensions["code"] != apperr.CodeBadUserInput || errs[0].Extensions["userErrorCode"] != c.userCode ||
				!strings.Contains(errs[0].Message, l.want) {
				t.Errorf("%s [%s]: %+v, want %s with %q", c.query, l.tag, errs, c.userCode, l.want)
			}
		}
	}
	// Not a number, or a number no float holds: the document is refused
	// as GraphQL, never a fault.
	for _, q := range []string{
		`{ activities(filter: {near: {lat: "nord", lng: 12.3}}) { edges { cursor } } }`,
		`{ activities(filter: {near: {lat: 1e400, lng: 12.3}}) { edges { cursor } } }`,
		`{ activities(filter: {near: {lat: 55.6}}) { edges { cursor } } }`,
	} {
		errs := postErrors(t, ts, q)
		if len(errs) == 0 || errs[0].Extensions["code"] == apperr.CodeInternal {
			t.Errorf("%s: %+v", q, errs)
		}
	}
}

// postErrorsLang is postErrors with an Accept-Language (none when empty).
func postErrorsLang(t *testing.T, ts *testServer, query, language string) gqlErrors {
	t.Helper()
	h := NewHandler(ts.resolver, Options{Development: true})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(mustJSON(map[string]any{"query": query})))
	req.Header.Set("Content-Type", "application/json")
	if language != "" {
		req.Header.Set("Accept-Language", language)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("status %d for %q", w.Code, query)
	}
	var resp struct{ Errors gqlErrors }
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response is not JSON: %s", w.Body.String())
	}
	return resp.Errors
}
