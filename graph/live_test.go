package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// wsClient speaks graphql-transport-ws (the protocol of the graphql-ws
// library the app uses) to a test server.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, url, subprotocol string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{subprotocol}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(v map[string]any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, v); err != nil {
		c.t.Fatalf("send %v: %v", v, err)
	}
}

// next reads messages until one that is not a ping or keep-alive.
func (c *wsClient) next(timeout time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var m map[string]any
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return nil, err
		}
		switch m["type"] {
		case "ping":
			_ = wsjson.Write(ctx, c.conn, map[string]any{"type": "pong"})
		case "pong", "ka":
		default:
			return m, nil
		}
	}
}

func (c *wsClient) init(token string) {
	c.t.Helper()
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	m, err := c.next(3 * time.Second)
	if err != nil || m["type"] != "connection_ack" {
		c.t.Fatalf("init: %v %v", m, err)
	}
}

func closeCode(err error) websocket.StatusCode {
	return websocket.CloseStatus(err)
}

func TestSubscriptions(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	// A resident watches the activity's slots; an organiser's token makes a
	// claim through a plain HTTP request meanwhile.
	c := dial(t, srv.URL, "graphql-transport-ws")
	c.init(tw.tokens[resident])
	c.send(map[string]any{"id": "s1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($a: ID!) { slotChanged(activityId: $a) { id taken spotsLeft waitlistLength claims { id } } }`,
		"variables": map[string]any{"a": globalID(typeActivity, tw.activity.ID)},
	}})
	other := dial(t, srv.URL, "graphql-ws") // the legacy protocol, for older clients
	other.init(tw.tokens[organiserSame])
	other.send(map[string]any{"id": "1", "type": "start", "payload": map[string]any{
		"query":     `subscription($a: ID!) { slotChanged(activityId: $a) { taken claims { id } } }`,
		"variables": map[string]any{"a": globalID(typeActivity, tw.activity.ID)},
	}})
	time.Sleep(100 * time.Millisecond) // let both subscriptions reach the broker

	var resp map[string]any
	ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } } }`, &resp,
		vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "live-1"}), bearer(tw.tokens[resident]))

	m, err := c.next(time.Second)
	if err != nil {
		t.Fatalf("no slotChanged within a second: %v", err)
	}
	b, _ := json.Marshal(m)
	if m["type"] != "next" || m["id"] != "s1" || !strings.Contains(string(b), `"taken":2`) || !strings.Contains(string(b), `"spotsLeft":3`) {
		t.Fatalf("slotChanged: %s", b)
	}
	// The roster is an organiser's: null for the resident, there for the organiser.
	if !strings.Contains(string(b), `"claims":null`) {
		t.Errorf("restricted field leaked into a resident's subscription: %s", b)
	}
	m, err = other.next(time.Second)
	b, _ = json.Marshal(m)
	if err != nil || m["type"] != "data" || !strings.Contains(string(b), `"claims":[{`) {
		t.Errorf("organiser on the legacy protocol: %s %v", b, err)
	}

	// activityPublished with a filter: only a matching activity arrives.
	c.send(map[string]any{"id": "s2", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($f: ActivityFilter) { activityPublished(filter: $f) { title themes } }`,
		"variables": map[string]any{"f": map[string]any{"themes": []string{"mad"}}},
	}})
	time.Sleep(100 * time.Millisecond)
	start := ts.now().Add(120 * time.Hour).Truncate(time.Hour)
	for _, in := range []activity.Input{
		{OrganisationID: tw.orgA.ID, Title: "Strikkecafé", StartsAt: start, EndsAt: start.Add(time.Hour), Themes: []string{"kreativ"}},
		{OrganisationID: tw.orgA.ID, Title: "Spisevenner", StartsAt: start, EndsAt: start.Add(time.Hour), Themes: []string{"mad"}},
	} {
		if _, err := ts.resolver.Domain.Activities.Create(context.Background(), tw.callers[organiserSame], in, true); err != nil {
			t.Fatal(err)
		}
	}
	m, err = c.next(time.Second)
	b, _ = json.Marshal(m)
	if err != nil || m["id"] != "s2" || !strings.Contains(string(b), "Spisevenner") {
		t.Fatalf("activityPublished: %s %v", b, err)
	}

	// complete ends a subscription; the id can then be used again.
	c.send(map[string]any{"id": "s2", "type": "complete"})
	c.send(map[string]any{"id": "s2", "type": "subscribe", "payload": map[string]any{"query": `subscription { storyPublished { id } }`}})
	// A second subscribe with a live id breaks the protocol: 4409.
	c.send(map[string]any{"id": "s2", "type": "subscribe", "payload": map[string]any{"query": `subscription { storyPublished { id } }`}})
	for {
		m, err = c.next(2 * time.Second)
		if err != nil {
			break
		}
		// gqlgen's answer to the complete above, and the end of the
		// operations the close cuts short.
	}
	if closeCode(err) != closeSubscriberExists {
		t.Errorf("duplicate id: got %v %v, want close 4409", m, err)
	}
}

func TestWebsocketRefusals(t *testing.T) {
	ts := newTestServerWith(t, storetest.SQLite(t), Options{Development: true,
		Websocket: WebsocketLimits{InitTimeout: 200 * time.Millisecond, MaxOperations: 2}, MaxConnectionsPerPerson: 2})
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	// No connection_init in time: 4408.
	c := dial(t, srv.URL, "graphql-transport-ws")
	if _, err := c.next(2 * time.Second); closeCode(err) != closeInitTimeout {
		t.Errorf("silent client: %v, want close 4408", err)
	}

	// A bad token: 4403.
	c = dial(t, srv.URL, "graphql-transport-ws")
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer forged"}})
	if _, err := c.next(2 * time.Second); closeCode(err) != closeForbidden {
		t.Errorf("bad token: %v, want close 4403", err)
	}

	// Too many operations on one connection: an error for that id, and the
	// connection lives on.
	c = dial(t, srv.URL, "graphql-transport-ws")
	c.init(tw.tokens[resident])
	for _, id := range []string{"a", "b", "c"} {
		c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": `subscription { storyPublished { id } }`}})
	}
	m, err := c.next(2 * time.Second)
	if err != nil || m["type"] != "error" || m["id"] != "c" {
		t.Errorf("third operation: %v %v, want an error for c", m, err)
	}

	// Too many connections for one person: 4429 for the third.
	c2 := dial(t, srv.URL, "graphql-transport-ws")
	c2.init(tw.tokens[resident])
	c3 := dial(t, srv.URL, "graphql-transport-ws")
	c3.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + tw.tokens[resident]}})
	if _, err := c3.next(2 * time.Second); closeCode(err) != closeTooManyInitRequest {
		t.Errorf("third connection: %v, want close 4429", err)
	}

	// A browser from a foreign origin is refused; phones send no Origin.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Origin", "https://evil.example")
	_, _, err = websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{HTTPHeader: req.Header, Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil {
		t.Error("foreign origin accepted")
	}
	var ce websocket.CloseError
	_ = errors.As(err, &ce)
}

// Server-sent events carry a subscription to clients without websockets.
func TestServerSentEvents(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	body := `{"query":"subscription($a: ID!) { slotChanged(activityId: $a) { taken } }","variables":{"a":"` + globalID(typeActivity, tw.activity.ID) + `"}}`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	claimed := make(chan struct{})
	// The claim's answer may still be on its way when the event is here;
	// the database must outlive it.
	defer func() { <-claimed }()
	go func() {
		defer close(claimed)
		time.Sleep(200 * time.Millisecond)
		var out map[string]any
		ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } } }`, &out,
			vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "sse-1"}), bearer(tw.tokens[resident]))
	}()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), `"taken":2`) {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended before the event: %q %v", got.String(), err)
		}
	}
	if !strings.Contains(got.String(), "event: next") {
		t.Errorf("not an SSE next event: %q", got.String())
	}
}

// TestSubscriptionReadsCurrentState sends two updates on one connection:
// each must show the slot as it is then, not what the connection's first
// message loaded (loaders are per response, not per connection).
func TestSubscriptionReadsCurrentState(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	c := dial(t, srv.URL, "graphql-transport-ws")
	c.init(tw.tokens[resident])
	c.send(map[string]any{"id": "s1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($a: ID!) { slotChanged(activityId: $a) { taken myClaim { status } } }`,
		"variables": map[string]any{"a": globalID(typeActivity, tw.activity.ID)},
	}})
	time.Sleep(100 * time.Millisecond)

	var claimed struct {
		ClaimSlot struct{ Claim struct{ ID string } }
	}
	ts.client.MustPost(`mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } } }`, &claimed,
		vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": "fresh-1"}), bearer(tw.tokens[resident]))
	m, err := c.next(time.Second)
	b, _ := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"myClaim":{"status":"CONFIRMED"},"taken":2`) {
		t.Fatalf("after the claim: %s %v", b, err)
	}

	var cancelled map[string]any
	ts.client.MustPost(`mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { userErrors { code } } }`, &cancelled,
		vars("i", map[string]any{"claimId": claimed.ClaimSlot.Claim.ID}), bearer(tw.tokens[resident]))
	m, err = c.next(time.Second)
	b, _ = json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"myClaim":null,"taken":1`) {
		t.Fatalf("after cancelling, the subscription shows: %s %v", b, err)
	}
}

// TestSharedLoadOncePerSignal: the subscribers one signal wakes share one
// read, however late they come; the next signal reads again.
func TestSharedLoadOncePerSignal(t *testing.T) {
	var s shared
	loads := 0
	var mu sync.Mutex
	load := func() (int, error) {
		mu.Lock()
		defer mu.Unlock()
		loads++
		return loads, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := sharedLoad(&s, "slot:1", "sig-a", load); err != nil || v != 1 {
				t.Errorf("signal a read %d, %v; want the first read", v, err)
			}
		}()
	}
	wg.Wait()
	if v, _ := sharedLoad(&s, "slot:1", "sig-a", load); v != 1 || loads != 1 {
		t.Fatalf("a late subscriber of signal a: value %d after %d reads, want 1 after 1", v, loads)
	}
	if v, _ := sharedLoad(&s, "slot:1", "sig-b", load); v != 2 {
		t.Fatalf("the next signal read %d, want a new read (2)", v)
	}
	if v, _ := sharedLoad(&s, "slot:1", "", load); v != 3 {
		t.Fatalf("a signal without id read %d, want a new read (3)", v)
	}
}

// headcountUpdated carries the counts of the occurrence that changed, so
// the app need not read again: every subscriber gets them, one filtered
// to another date gets nothing, and a change of the settings sends each
// upcoming date's counts.
func TestHeadcountUpdatedCarriesCounts(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()
	ctx := context.Background()
	seats := 3
	if _, err := ts.resolver.Domain.Participation.Configure(ctx, tw.callers[organiserSame], tw.activity.ID, participation.SettingsInput{
		Mode: participation.SeatLimited, Seats: &seats, MaxPartySize: 4}); err != nil {
		t.Fatal(err)
	}
	act := globalID(typeActivity, tw.activity.ID)
	occ := tw.activity.StartsAt.UTC()
	query := `subscription($a: ID!, $o: Time) { headcountUpdated(activityId: $a, occurrenceStartsAt: $o) {
		activityId occurrenceStartsAt headcount { going goingParties interested waitlisted waitlistedParties seats seatsLeft } } }`
	subscribe := func(token string, o any) *wsClient {
		c := dial(t, srv.URL, "graphql-transport-ws")
		c.init(token)
		c.send(map[string]any{"id": "h", "type": "subscribe", "payload": map[string]any{
			"query": query, "variables": map[string]any{"a": act, "o": o}}})
		return c
	}
	visitor := subscribe("", nil)
	theirs := subscribe(tw.tokens[resident], occ.Format(time.RFC3339))
	elsewhere := subscribe(tw.tokens[resident], occ.Add(24*time.Hour).Format(time.RFC3339))
	time.Sleep(100 * time.Millisecond)

	var resp map[string]any
	ts.client.MustPost(`mutation($i: ParticipateInput!) { participate(input: $i) { userErrors { code } } }`, &resp,
		vars("i", map[string]any{"activityId": act, "occurrenceStartsAt": occ.Format(time.RFC3339), "status": "GOING", "guests": 1,
			"idempotencyKey": "hc-1"}), bearer(tw.tokens[resident]))
	// What a query reads now is what the subscribers were sent.
	var read struct {
		Activity struct {
			NextOccurrence struct {
				StartsAt  string
				Headcount map[string]any
			}
		}
	}
	ts.client.MustPost(`query($a: ID!) { activity(id: $a) { nextOccurrence { startsAt
		headcount { going goingParties interested waitlisted waitlistedParties seats seatsLeft } } } }`, &read, vars("a", act))
	if read.Activity.NextOccurrence.Headcount["going"] == float64(0) {
		t.Fatalf("the sign-up did not count: %+v", read)
	}
	wantB, _ := json.Marshal(map[string]any{"activityId": act, "occurrenceStartsAt": read.Activity.NextOccurrence.StartsAt,
		"headcount": read.Activity.NextOccurrence.Headcount})
	want := string(wantB)
	for name, c := range map[string]*wsClient{"visitor": visitor, "resident": theirs} {
		m, err := c.next(time.Second)
		if err != nil {
			t.Fatalf("%s: no headcountUpdated within a second: %v", name, err)
		}
		b, _ := json.Marshal(m["payload"].(map[string]any)["data"].(map[string]any)["headcountUpdated"])
		if !sameJSONInstant(t, string(b), want) {
			t.Errorf("%s got %s, want %s", name, b, want)
		}
	}
	if m, err := elsewhere.next(300 * time.Millisecond); err == nil {
		t.Errorf("a subscriber to another date got %v", m)
	}

	// More seats: the signal names no date, and the counts of each that
	// has not ended come (this activity has one), the waiting party
	// promoted.
	seats = 5
	if _, err := ts.resolver.Domain.Participation.Configure(ctx, tw.callers[organiserSame], tw.activity.ID, participation.SettingsInput{
		Mode: participation.SeatLimited, Seats: &seats, MaxPartySize: 4}); err != nil {
		t.Fatal(err)
	}
	m, err := visitor.next(time.Second)
	b, _ := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"seats":5`) || strings.Contains(string(b), `"waitlisted":2`) {
		t.Fatalf("after the seats changed: %s %v", b, err)
	}
	if m, err := visitor.next(300 * time.Millisecond); err == nil {
		t.Errorf("one occurrence, yet a second message: %v", m)
	}
	// The organiser's filter by date gets it too.
	m, err = theirs.next(time.Second)
	b, _ = json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"seats":5`) {
		t.Errorf("the filtered subscriber after the seats changed: %s %v", b, err)
	}
}

// sameJSONInstant compares two JSON objects, reading occurrenceStartsAt
// as an instant whatever its zone.
func sameJSONInstant(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gt, err1 := time.Parse(time.RFC3339, g["occurrenceStartsAt"].(string))
	wt, err2 := time.Parse(time.RFC3339, w["occurrenceStartsAt"].(string))
	if err1 != nil || err2 != nil || !gt.Equal(wt) {
		return false
	}
	delete(g, "occurrenceStartsAt")
	delete(w, "occurrenceStartsAt")
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

// A subscription's response waits, idle, inside withLoaders for the next
// signal; it must not hold a set of loaders while it waits (9 KiB per
// idle subscriber, a third of the memory over a bare websocket server).
// They are made when the first field asks, once per response.
func TestIdleSubscriptionHoldsNoLoaders(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	r := ts.resolver
	var idle, first, again *loaders
	r.withLoaders(context.Background(), func(ctx context.Context) *graphql.Response {
		box := ctx.Value(loadersKey{}).(*loaderBox)
		box.mu.Lock()
		idle = box.l
		box.mu.Unlock()
		first = r.loaders(ctx)
		again = r.loaders(ctx)
		return nil
	})
	if idle != nil {
		t.Error("the response made its loaders before any field asked")
	}
	if first == nil || first != again {
		t.Errorf("fields of one response got loaders %p and %p, want one set", first, again)
	}
}
