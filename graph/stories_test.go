package graph

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A resident's story goes from submission through review to the public
// feed; readers' open apps hear of it, and the author is told.
func TestStoryLifeCycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		srv := httptest.NewServer(ts.handler)
		defer srv.Close()
		author, boss, reader := tw.tokens[resident], tw.tokens[secretariatRol], tw.tokens[organiserOther]

		// A JPEG photo, sent as a GraphQL multipart upload.
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for x := 0; x < 640; x++ {
			img.Set(x, x%480, color.RGBA{200, 30, 30, 255})
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		photo := writeTemp(t, "havhytten.jpg", buf.Bytes())

		var submitted struct {
			SubmitStory struct {
				Story *struct {
					ID, Status string
					Photos     []struct {
						SmallURL string
						Width    int
					}
				}
				UserErrors []struct{ Code string }
			}
		}
		submit := `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id status photos { smallUrl width } } userErrors { code } } }`
		ts.client.MustPost(submit, &submitted, vars("i", map[string]any{
			"title": "Lørdag i Havhytten", "body": "Vi åbnede Havhytten og fik besøg af tyve naboer.",
			"organisationId": globalID(typeOrganisation, tw.orgA.ID), "consentPeople": true, "hasChildren": false,
			"links":  []map[string]any{{"kind": "YOUTUBE", "url": "https://youtu.be/dQw4w9WgXcQ"}},
			"photos": []map[string]any{{"file": photo, "alt": "Havhytten set fra stranden"}},
		}), client.WithFiles(), bearer(author))
		st := submitted.SubmitStory.Story
		if st == nil || st.Status != "PENDING_REVIEW" || len(st.Photos) != 1 || st.Photos[0].Width != 640 ||
			!strings.Contains(st.Photos[0].SmallURL, "/media/") {
			t.Fatalf("submit: %+v", submitted.SubmitStory)
		}

		// Children in the photos need a guardian's consent: nothing stored.
		var refused struct {
			SubmitStory struct {
				Story      *struct{ ID string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(submit, &refused, vars("i", map[string]any{
			"title": "Børnesøndag", "body": "Bål og snobrød.", "consentPeople": true, "hasChildren": true,
		}), bearer(author))
		if len(refused.SubmitStory.UserErrors) == 0 || refused.SubmitStory.UserErrors[0].Code != "GUARDIAN_CONSENT_REQUIRED" {
			t.Errorf("missing guardian consent: %+v", refused)
		}

		// Unpublished stories are invisible to other readers.
		var peek struct{ Story *struct{ ID string } }
		ts.client.MustPost(`query($id: ID!) { story(id: $id) { id } }`, &peek, vars("id", st.ID), bearer(reader))
		if peek.Story != nil {
			t.Error("a pending story is visible to another resident")
		}

		c := dial(t, srv.URL, "graphql-transport-ws")
		c.init(reader)
		c.send(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{"query": `subscription { storyPublished { id title } }`}})
		time.Sleep(100 * time.Millisecond)

		var reviewed struct {
			ReviewStory struct {
				Story      *struct{ Status string }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: ReviewStoryInput!) { reviewStory(input: $i) { story { status } userErrors { code } } }`, &reviewed,
			vars("i", map[string]any{"storyId": st.ID, "action": "PUBLISH"}), bearer(boss))
		if reviewed.ReviewStory.Story == nil || reviewed.ReviewStory.Story.Status != "PUBLISHED" {
			t.Fatalf("review: %+v", reviewed)
		}
		m, err := c.next(2 * time.Second)
		b, _ := json.Marshal(m)
		if err != nil || !strings.Contains(string(b), "Lørdag i Havhytten") {
			t.Fatalf("storyPublished: %s %v", b, err)
		}

		var feed struct {
			Stories struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		ts.client.MustPost(`{ stories(first: 10) { edges { node { id } } } }`, &feed)
		if len(feed.Stories.Edges) == 0 || feed.Stories.Edges[0].Node.ID != st.ID {
			t.Errorf("the feed does not start with the new story: %+v", feed)
		}

		var inbox struct {
			Me struct {
				Notifications struct {
					Edges []struct{ Node struct{ Kind string } }
				}
			}
		}
		// The outbox's job tells the author right after the commit.
		ts.drain()
		ts.client.MustPost(`{ me { notifications(first: 5) { edges { node { kind } } } } }`, &inbox, bearer(author))
		if len(inbox.Me.Notifications.Edges) == 0 || inbox.Me.Notifications.Edges[0].Node.Kind != "STORY_PUBLISHED" {
			t.Errorf("author not told: %+v", inbox)
		}

		// Three reports from different people hide it until reviewed.
		for _, role := range []string{resident, organiserSame, organiserOther} {
			var rep struct {
				ReportStory struct{ UserErrors []struct{ Code string } }
			}
			ts.client.MustPost(`mutation($i: ReportStoryInput!) { reportStory(input: $i) { userErrors { code } } }`, &rep,
				vars("i", map[string]any{"storyId": st.ID, "reason": "Upassende"}), bearer(tw.tokens[role]))
		}
		ts.client.MustPost(`{ stories(first: 10) { edges { node { id } } } }`, &feed)
		for _, e := range feed.Stories.Edges {
			if e.Node.ID == st.ID {
				t.Error("a story with three reports is still in the feed")
			}
		}
	})
}

func writeTemp(t *testing.T, name string, b []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*-"+name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
