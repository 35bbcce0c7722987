package graph

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A resident follows an organisation; when it publishes an activity the
// resident's open app hears of it at once and finds it in the inbox.
func TestFollowPublishNotify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		resident, organiser := tw.tokens[resident], tw.tokens[organiserSame]

		var follow struct {
			Follow struct {
				Follows []struct{ Organisation *struct{ Name string } }
			}
		}
		ts.client.MustPost(`mutation($i: FollowInput!) { follow(input: $i) { follows { organisation { name } } } }`, &follow,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID)}), bearer(resident))
		if len(follow.Follow.Follows) != 1 || follow.Follow.Follows[0].Organisation.Name != "Røde Kors Ishøj" {
			t.Fatalf("follow: %+v", follow)
		}

		c := dial(t, srv.URL, "graphql-transport-ws")
		c.init(resident)
		c.send(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{
			"query": `subscription { notificationReceived { id kind title body deepLink data } }`}})
		// Someone else's subscription must never see it.
		other := dial(t, srv.URL, "graphql-transport-ws")
		other.init(tw.tokens[organiserOther])
		other.send(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{
			"query": `subscription { notificationReceived { id } }`}})
		time.Sleep(100 * time.Millisecond)

		start := ts.now().Add(48 * time.Hour).Truncate(time.Hour)
		var created struct {
			CreateActivity struct {
				Activity   *struct{ ID string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } userErrors { code } } }`, &created,
			vars("i", map[string]any{"organisationId": globalID(typeOrganisation, tw.orgA.ID), "title": "Førstehjælpskursus",
				"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(2 * time.Hour).Format(time.RFC3339), "publish": true}), bearer(organiser))
		if created.CreateActivity.Activity == nil {
			t.Fatalf("create: %+v", created)
		}

		m, err := c.next(2 * time.Second)
		b, _ := json.Marshal(m)
		if err != nil || m["type"] != "next" || !strings.Contains(string(b), `"kind":"NEW_EVENT"`) ||
			!strings.Contains(string(b), "Førstehjælpskursus") || !strings.Contains(string(b), "voresishoj://activity/") {
			t.Fatalf("notificationReceived: %s %v", b, err)
		}
		if m, err := other.next(300 * time.Millisecond); err == nil {
			t.Errorf("another person received %v", m)
		}

		var inbox struct {
			Me struct {
				UnreadNotifications int
				Notifications       struct {
					Edges []struct {
						Node struct {
							ID, Kind, Title, DeepLink string
							Data                      map[string]string
						}
					}
				}
			}
		}
		q := `{ me { unreadNotifications notifications(first: 10) { edges { node { id kind title deepLink data } } } } }`
		ts.client.MustPost(q, &inbox, bearer(resident))
		if inbox.Me.UnreadNotifications != 1 || len(inbox.Me.Notifications.Edges) != 1 || inbox.Me.Notifications.Edges[0].Node.Kind != "NEW_EVENT" {
			t.Fatalf("inbox: %+v", inbox)
		}
		// The inbox entry's data is its push's (PUSH.md): notificationId,
		// type and deepLink always.
		node := inbox.Me.Notifications.Edges[0].Node
		_, id, _ := parseGlobalID(node.ID)
		if node.Data["notificationId"] != node.ID || node.Data["type"] != "NEW_EVENT" ||
			node.Data["deepLink"] != node.DeepLink || node.Data["activityId"] == "" {
			t.Errorf("inbox data %v of notification %d", node.Data, id)
		}
		var marked struct{ MarkNotificationsRead struct{ Marked int } }
		ts.client.MustPost(`mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked } }`, &marked,
			vars("i", map[string]any{"ids": []string{inbox.Me.Notifications.Edges[0].Node.ID}}), bearer(resident))
		ts.client.MustPost(q, &inbox, bearer(resident))
		if marked.MarkNotificationsRead.Marked != 1 || inbox.Me.UnreadNotifications != 0 {
			t.Errorf("after mark read: %+v %+v", marked, inbox)
		}

		// An organiser's announcement to the followers lands in the inbox too.
		var ann struct {
			SendAnnouncement struct {
				Announcement *struct{ Recipients int }
				UserErrors   []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: SendAnnouncementInput!) { sendAnnouncement(input: $i) { announcement { recipients } userErrors { code } } }`, &ann,
			vars("i", map[string]any{"audience": "FOLLOWERS", "organisationId": globalID(typeOrganisation, tw.orgA.ID),
				"title": "Kaffe efter kurset", "body": "Bliv gerne og drik en kop kaffe."}), bearer(organiser))
		if ann.SendAnnouncement.Announcement == nil || ann.SendAnnouncement.Announcement.Recipients != 1 {
			t.Fatalf("announce: %+v", ann)
		}
		m, err = c.next(2 * time.Second)
		b, _ = json.Marshal(m)
		if err != nil || !strings.Contains(string(b), "Kaffe efter kurset") {
			t.Errorf("announcement not live: %s %v", b, err)
		}

		// Its deep link carries the global id node(id:) takes, and the
		// recipient opens it; someone it did not reach does not.
		ts.client.MustPost(q, &inbox, bearer(resident))
		link := inbox.Me.Notifications.Edges[0].Node.DeepLink
		annID, ok := strings.CutPrefix(link, "voresishoj://announcement/")
		if !ok || inbox.Me.Notifications.Edges[0].Node.Data["announcementId"] != annID {
			t.Fatalf("announcement deep link %q, data %v", link, inbox.Me.Notifications.Edges[0].Node.Data)
		}
		var opened struct{ Node *struct{ Title string } }
		ts.client.MustPost(`query($id: ID!) { node(id: $id) { ... on Announcement { title } } }`, &opened, vars("id", annID), bearer(resident))
		if opened.Node == nil || opened.Node.Title != "Kaffe efter kurset" {
			t.Errorf("node(%s) for its recipient: %+v", annID, opened.Node)
		}
		opened.Node = nil
		ts.client.MustPost(`query($id: ID!) { node(id: $id) { ... on Announcement { title } } }`, &opened, vars("id", annID), bearer(tw.tokens[organiserOther]))
		if opened.Node != nil {
			t.Errorf("node(%s) for someone it did not reach: %+v", annID, opened.Node)
		}
	})
}
