package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

var updateFeed = flag.Bool("update-feed", false, "rewrite graph/testdata/activity-list-*.json from what the server answers now")

// activityListOperation is the app's ActivityList operation with the
// fragments it uses, read from the mobile contract.
func activityListOperation(t *testing.T) string {
	t.Helper()
	op, err := os.ReadFile("../mobile-contract/operations/activity-list.graphql")
	if err != nil {
		t.Fatal(err)
	}
	frags, err := os.ReadFile("../mobile-contract/operations/fragments.graphql")
	if err != nil {
		t.Fatal(err)
	}
	// Only ActivityList: the file holds the Themes query too.
	doc := string(op)
	doc = doc[strings.Index(doc, "query ActivityList"):]
	if i := strings.Index(doc, "\nquery "); i > 0 {
		doc = doc[:i]
	}
	for _, name := range []string{"ActivityCard", "Picture"} {
		m := regexp.MustCompile(`(?s)fragment ` + name + ` on .*?\n}\n`).Find(frags)
		if m == nil {
			t.Fatalf("fragment %s not in fragments.graphql", name)
		}
		doc += "\n" + string(m)
	}
	return doc
}

// feedWorld is a fixed world, at a fixed time on a fresh SQLite database,
// so the answers are the same byte for byte from run to run: twenty
// published activities, slots on ten of them (one to three each, some
// claimed), a volunteer and an organiser.
func feedWorld(t *testing.T) (ts *testServer, volunteerToken, organiserToken string) {
	t.Setenv(clocktest.Env, "2027-03-03T09:00:00Z")
	db := storetest.SQLite(t)
	ts = newTestServer(t, db)
	w := makeWorld(t, ts, 20)
	ctx := context.Background()
	d := ts.resolver.Domain
	volunteerToken, vera := ts.person("vera", true)
	organiserToken, olga := ts.person("olga", true)
	makeOrganiser(t, db, &olga, w.history.ID)
	for i, a := range w.oneOffs[:10] {
		for j := 0; j <= i%3; j++ {
			start := a.StartsAt.Add(time.Duration(j) * time.Hour)
			s, err := d.Volunteer.AddSlot(ctx, w.boss, volunteer.NewSlot{ActivityID: a.ID, Title: "Hjælper",
				StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 1 + j})
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 && i%2 == 0 && i < 8 {
				if _, err := d.Volunteer.Claim(ctx, vera, s.ID, "feed-"+strconv.FormatInt(s.ID, 10)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return ts, volunteerToken, organiserToken
}

// The feed's JSON is what it was before the fields were bound inline
// (graph/testdata/activity-list-*.json was written by the server with
// resolvers for id, themes, place, organisation and slots), for a
// visitor, a volunteer and an organiser.
func TestActivityListPayloadUnchanged(t *testing.T) {
	ts, vol, org := feedWorld(t)
	doc := activityListOperation(t)
	for _, c := range []struct{ who, token string }{{"anonymous", ""}, {"volunteer", vol}, {"organiser", org}} {
		for _, first := range []int{5, 20} {
			body := postFeed(t, ts, doc, first, c.token)
			if bytes.Contains(body, []byte(`"errors"`)) {
				t.Fatalf("%s: %s", c.who, body)
			}
			// The bytes as sent, keys in the server's order, indented.
			var got bytes.Buffer
			if err := json.Indent(&got, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", "activity-list-"+c.who+"-"+strconv.Itoa(first)+".json")
			if *updateFeed {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s, first %d: the feed answers differently from %s:\n%s", c.who, first, path, firstDiff(got.String(), string(want)))
			}
		}
	}
}

// firstDiff shows the first line where got and want part.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + g[i] + "\nwant: " + w[i]
		}
	}
	return "lengths differ: got " + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w))
}

// postFeed posts the operation over the server's HTTP handler and returns
// the body as the server wrote it.
func postFeed(t *testing.T, ts *testServer, doc string, first int, token string) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"operationName": "ActivityList", "query": doc, "variables": map[string]any{"first": first}})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	ts.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("%d: %s", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// goroutinesCreated is how many goroutines the process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A page of the feed starts no goroutine per field: the fields every item
// asks for are bound inline (graph/model.Activity), and what is left is
// gqlgen's one goroutine per element of a list of objects (the edges, and
// the slots of an activity with more than one), which gqlgen v0.17 starts
// whatever the fields, and the database driver's per statement. With a
// resolver for id, themes, place, organisation and slots, as before, a
// page of 20 started 145 (gqlgen runs all but one of an object's
// concurrent fields on goroutines of their own); now 45.
func TestActivityListNoGoroutinePerField(t *testing.T) {
	ts, vol, _ := feedWorld(t)
	doc := activityListOperation(t)
	var slotsInLists int64
	for _, a := range mustActivities(t, ts) {
		if n := len(a); n > 1 {
			slotsInLists += int64(n)
		}
	}
	for _, token := range []string{"", vol} {
		// Warm: the first request of a caller starts their session's reads.
		postFeed(t, ts, doc, 20, token)
		// The count is the process's: background work (the notifier's
		// polls, other tests' servers) may start a goroutine during a
		// request, so the fewest of twenty tries is the request's own.
		fewest := func(doc string, first int) int64 {
			best := int64(-1)
			for try := 0; try < 20; try++ {
				before := goroutinesCreated()
				body := postFeed(t, ts, doc, first, token)
				n := int64(goroutinesCreated() - before)
				if bytes.Contains(body, []byte(`"errors"`)) {
					t.Fatalf("%s", body)
				}
				if best < 0 || n < best {
					best = n
				}
			}
			return best
		}
		// What any request starts (the transport's, the middleware's).
		request := fewest(`query ActivityList { __typename }`, 0)
		page := fewest(doc, 20) - request
		// The edges (20), the slots of the activities with more than one,
		// and what database/sql and the driver start for the page's five
		// statements (a watcher of the context per query), with room for
		// noise: 60 here. One goroutine more per activity would be 65;
		// the resolvers as before were 145.
		allowed := 20 + slotsInLists + 25
		if page > allowed {
			t.Errorf("caller %q: a page of 20 started %d goroutines beyond a request's own, want at most %d (one per list element); a goroutine per field is back",
				token, page, allowed)
		}
		t.Logf("caller %q: a page of 20 started %d goroutines beyond a request's %d (allowed: %d)", token, page, request, allowed)
	}
}

// mustActivities is the slots per activity of the feed's first page, as a
// visitor sees them.
func mustActivities(t *testing.T, ts *testServer) [][]volunteer.Slot {
	t.Helper()
	ctx := context.Background()
	d := ts.resolver.Domain
	var visitor user.Caller
	rows, err := d.Activities.List(ctx, visitor, activity.Filter{From: ts.now()}, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	slots, err := d.Volunteer.SlotsByActivityIDs(ctx, visitor, ids)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int64][]volunteer.Slot{}
	for _, s := range slots {
		by[s.ActivityID] = append(by[s.ActivityID], s)
	}
	out := make([][]volunteer.Slot, 0, len(ids))
	for _, id := range ids {
		out = append(out, by[id])
	}
	return out
}
