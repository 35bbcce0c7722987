package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The Accept headers real clients send.
const (
	urqlAccept             = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	urqlSubscriptionAccept = "text/event-stream, multipart/mixed"
)

func withAccept(r *http.Request, accept string) *http.Request {
	r.Header.Set("Accept", accept)
	return r
}

// Queries and mutations answer JSON whatever Accept lists; only
// subscriptions answer an event stream.
func TestEventStreamOnlyForSubscriptions(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)

	for _, accept := range []string{urqlAccept, urqlSubscriptionAccept, "text/event-stream"} {
		r := ts.do(withAccept(postQuery(`{ themes { slug } }`, nil), accept))
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("query with Accept %q: content type %q", accept, ct)
		}
		if r.status != http.StatusOK || len(r.Errors) > 0 || r.Data["themes"] == nil {
			t.Errorf("query with Accept %q: status %d %+v", accept, r.status, r.Errors)
		}
	}
	// A mutation, signed in, as urql sends it.
	req := withAccept(postJSON(mustJSON(map[string]any{
		"query":     `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } userErrors { code } } }`,
		"variables": map[string]any{"i": map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "urql-1"}},
	})), urqlAccept)
	req.Header.Set("Authorization", "Bearer "+tw.tokens[resident])
	r := ts.do(req)
	if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("mutation: content type %q", ct)
	}
	payload, _ := r.Data["claimSlot"].(map[string]any)
	if claim, _ := payload["claim"].(map[string]any); claim["status"] != "CONFIRMED" {
		t.Errorf("mutation: %+v %+v", r.Data, r.Errors)
	}
	// A request that fails before it is an operation answers JSON too.
	r = ts.do(withAccept(postJSON(`{"query":"{ themes { nosuchfield } }"}`), urqlAccept))
	if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") || r.status < 400 || len(r.Errors) == 0 {
		t.Errorf("invalid query: %d %q %+v", r.status, ct, r.Errors)
	}

	// A subscription with urql's Accept for subscriptions streams.
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body := `{"query":"subscription($a: ID!) { slotChanged(activityId: $a) { taken } }","variables":{"a":"` + globalID(typeActivity, tw.activity.ID) + `"}}`
	sreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
	sreq.Header.Set("Content-Type", "application/json")
	sreq.Header.Set("Accept", urqlSubscriptionAccept)
	resp, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("subscription: content type %q", ct)
	}
}

// A document sent by hash is recognised as a query, not streamed.
func TestEventStreamWithTrustedDocuments(t *testing.T) {
	docs, hash, _ := loadManifest(t)
	ts := newTestServerWith(t, storetest.SQLite(t), Options{TrustedDocuments: docs})
	r := ts.do(withAccept(postQuery("", persisted(hash)), urqlAccept))
	if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") || len(r.Errors) > 0 || r.Data["themes"] == nil {
		t.Errorf("hashed query with urql's Accept: %q %+v", ct, r.Errors)
	}
}

// A query that accepts an event stream keeps the request deadline and
// the body limit.
func TestEventStreamQueryLimits(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Limits: Limits{Timeout: time.Nanosecond, MaxBodyBytes: 1 << 10}})
	if r := ts.do(withAccept(postQuery(`{ themes { slug } }`, nil), urqlAccept)); r.code() != codeTimeout {
		t.Errorf("past the deadline with urql's Accept: %+v %+v", r.Data, r.Errors)
	}
	big := withAccept(postJSON(`{"query":"{ __typename }","variables":{"x":"`+strings.Repeat("a", 2<<10)+`"}}`), urqlAccept)
	big.ContentLength = -1 // no Content-Length: found out while reading
	if r := ts.do(big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 KB body over a 1 KB limit with urql's Accept: %d %+v", r.status, r.Errors)
	}
}

// A query that accepts an event stream takes no live connection slot;
// a subscription over server-sent events does.
func TestEventStreamSlotsOnlyForSubscriptions(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Development: true, MaxConnectionsPerPerson: 1})
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()
	subscribe := func() *http.Response {
		t.Helper()
		body := `{"query":"subscription($a: ID!) { slotChanged(activityId: $a) { taken } }","variables":{"a":"` + globalID(typeActivity, tw.activity.ID) + `"}}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", urqlSubscriptionAccept)
		req.Header.Set("Authorization", "Bearer "+tw.tokens[resident])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := subscribe()
	defer first.Body.Close()
	if first.StatusCode != http.StatusOK || !strings.HasPrefix(first.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("first subscription: %d %s", first.StatusCode, first.Header.Get("Content-Type"))
	}
	// The person's one slot is taken; urql's queries still pass.
	for range 3 {
		req := withAccept(postQuery(`{ me { id } }`, nil), urqlAccept)
		req.Header.Set("Authorization", "Bearer "+tw.tokens[resident])
		if r := ts.do(req); r.status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("query with urql's Accept beside a stream: %d %+v", r.status, r.Errors)
		}
	}
	second := subscribe()
	defer second.Body.Close()
	if second.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second subscription over a cap of one: %d", second.StatusCode)
	}
}
