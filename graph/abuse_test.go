package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

type userErrorJSON struct {
	Code, Message     string
	Field             []string
	RetryAfterSeconds *int
}

const reportStory = `mutation($i: ReportStoryInput!) { reportStory(input: $i) { userErrors { code } } }`

func (ts *testServer) report(token, storyID string) string {
	ts.t.Helper()
	var out struct {
		ReportStory struct{ UserErrors []struct{ Code string } }
	}
	ts.client.MustPost(reportStory, &out, vars("i", map[string]any{"storyId": storyID, "reason": "Upassende"}), bearer(token))
	if len(out.ReportStory.UserErrors) > 0 {
		return out.ReportStory.UserErrors[0].Code
	}
	return ""
}

func (ts *testServer) inFeed(id string) bool {
	ts.t.Helper()
	var feed struct {
		Stories struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	ts.client.MustPost(`{ stories(first: 50) { edges { node { id } } } }`, &feed)
	for _, e := range feed.Stories.Edges {
		if e.Node.ID == id {
			return true
		}
	}
	return false
}

// Hole 3 through the API: three anonymous Firebase accounts no longer
// hide a story; three verified people do, which puts it back in the
// secretariat's queue and tells them; the secretariat sees who reported,
// marks a misuser and restores the story.
func TestReportingThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		sid := globalID(typeStory, tw.published)
		boss := tw.tokens[secretariatRol]

		for i := range 3 {
			token, _ := ts.person(fmt.Sprint("anonym", i), false)
			if code := ts.report(token, sid); code != "VERIFIED_ACCOUNT_REQUIRED" {
				t.Errorf("anonymous report %d: %q, want VERIFIED_ACCOUNT_REQUIRED", i, code)
			}
		}
		if !ts.inFeed(sid) {
			t.Fatal("three anonymous accounts hid the story")
		}

		var reporters []string
		for i := range story.ReportThreshold {
			token, _ := ts.person(fmt.Sprint("laeser", i), true)
			reporters = append(reporters, token)
			if code := ts.report(token, sid); code != "" {
				t.Fatalf("report %d: %s", i, code)
			}
		}
		if ts.inFeed(sid) {
			t.Fatal("hidden story still in the feed")
		}
		if code := ts.report(reporters[0], sid); code != "STORY_NOT_FOUND" {
			t.Errorf("reporting a hidden story: %q", code)
		}

		var queue struct {
			ReviewQueue struct {
				Edges []struct{ Node struct{ ID, Status string } }
			}
		}
		ts.client.MustPost(`{ reviewQueue(first: 20) { edges { node { id status } } } }`, &queue, bearer(boss))
		inQueue := false
		for _, e := range queue.ReviewQueue.Edges {
			inQueue = inQueue || (e.Node.ID == sid && e.Node.Status == "HIDDEN")
		}
		if !inQueue {
			t.Errorf("hidden story not in the review queue: %+v", queue)
		}

		var inbox struct {
			Me struct {
				Notifications struct {
					Edges []struct {
						Node struct{ Kind, Title, DeepLink string }
					}
				}
			}
		}
		ts.client.MustPost(`{ me { notifications(first: 5) { edges { node { kind title deepLink } } } } }`, &inbox, bearer(boss))
		if e := inbox.Me.Notifications.Edges; len(e) == 0 || e[0].Node.Kind != "STORY_HIDDEN" ||
			e[0].Node.DeepLink != "voresishoj://story/"+globalID(typeStory, tw.published) || !strings.Contains(e[0].Node.Title, "skjult") {
			t.Errorf("secretariat's inbox: %+v", inbox)
		}

		type reportsJSON struct {
			Story *struct {
				Reports []struct {
					Reporter                         *struct{ ID string }
					Reason                           string
					Reviewed, ReporterMarked, Counts bool
				}
			}
		}
		reportsQuery := `query($id: ID!) { story(id: $id) { reports { reporter { id } reason reviewed reporterMarked counts } } }`
		var seen reportsJSON
		ts.client.MustPost(reportsQuery, &seen, vars("id", sid), bearer(boss))
		if seen.Story == nil || len(seen.Story.Reports) != story.ReportThreshold || !seen.Story.Reports[0].Counts ||
			seen.Story.Reports[0].Reporter == nil || seen.Story.Reports[0].Reason != "Upassende" {
			t.Fatalf("reports as the secretariat: %+v", seen)
		}
		misuser := seen.Story.Reports[0].Reporter.ID

		var marked struct {
			MarkStoryReporter struct {
				Marked     bool
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: MarkStoryReporterInput!) { markStoryReporter(input: $i) { marked userErrors { code } } }`, &marked,
			vars("i", map[string]any{"userId": misuser, "misuse": true, "reason": "anmelder alt"}), bearer(boss))
		if !marked.MarkStoryReporter.Marked {
			t.Errorf("mark: %+v", marked)
		}

		var restored struct {
			ReviewStory struct{ Story *struct{ Status string } }
		}
		ts.client.MustPost(`mutation($i: ReviewStoryInput!) { reviewStory(input: $i) { story { status } } }`, &restored,
			vars("i", map[string]any{"storyId": sid, "action": "PUBLISH"}), bearer(boss))
		if restored.ReviewStory.Story == nil || restored.ReviewStory.Story.Status != "PUBLISHED" || !ts.inFeed(sid) {
			t.Fatalf("restore: %+v", restored)
		}
		seen = reportsJSON{}
		ts.client.MustPost(reportsQuery, &seen, vars("id", sid), bearer(boss))
		for _, r := range seen.Story.Reports {
			if !r.Reviewed || r.Counts || (r.Reporter.ID == misuser) != r.ReporterMarked {
				t.Errorf("report after restore: %+v", r)
			}
		}
		// Who reported is for the secretariat only.
		for _, role := range []string{anonymous, resident, organiserSame} {
			var other reportsJSON
			ts.client.MustPost(reportsQuery, &other, vars("id", sid), bearer(tw.tokens[role]))
			if other.Story == nil || other.Story.Reports != nil {
				t.Errorf("%s sees reports: %+v", role, other)
			}
		}
	})
}

// The per-person limits answer a typed user error in the caller's
// language, with the limit in the message and the wait for the app.
func TestActionLimitsThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		d := &ts.resolver.Domain
		blobs, err := media.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		d.Stories = story.NewService(db, &event.Recorder{}, blobs, d.Themes, ts.resolver.Now, d.Notify,
			story.Limits{Submissions: ratelimit.Quota{N: 2, Per: 24 * time.Hour}, Reports: ratelimit.Quota{N: 1, Per: 24 * time.Hour}})
		d.Volunteer = volunteer.NewService(db, &event.Recorder{}, volunteer.Config{Now: ts.resolver.Now, Claims: ratelimit.Quota{N: 2, Per: time.Hour}})
		author := tw.tokens[resident]
		english, _ := ts.person("english", true)
		var me struct {
			UpdateMe struct{ UserErrors []struct{ Code string } }
		}
		ts.client.MustPost(`mutation { updateMe(input: {language: "en"}) { userErrors { code } } }`, &me, bearer(english))

		submit := `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id } userErrors { code message field retryAfterSeconds } } }`
		var out struct {
			SubmitStory struct {
				Story      *struct{ ID string }
				UserErrors []userErrorJSON
			}
		}
		in := map[string]any{"title": "Spisevenner", "body": "Vi spiste sammen.", "consentPeople": true, "hasChildren": false}
		for _, token := range []string{author, author, english, english} {
			out.SubmitStory.Story = nil
			ts.client.MustPost(submit, &out, vars("i", in), bearer(token))
			if out.SubmitStory.Story == nil {
				t.Fatalf("submit: %+v", out)
			}
		}
		// In the person's language: Danish by default.
		for _, c := range []struct{ token, want string }{{author, "højst 2 historier i døgnet"}, {english, "at most 2 stories a day"}} {
			out.SubmitStory.UserErrors = nil
			ts.client.MustPost(submit, &out, vars("i", in), bearer(c.token))
			ue := out.SubmitStory.UserErrors
			if len(ue) != 1 || ue[0].Code != "TOO_MANY_STORIES" || !strings.Contains(ue[0].Message, c.want) ||
				ue[0].RetryAfterSeconds == nil || *ue[0].RetryAfterSeconds < 23*3600 {
				t.Errorf("third story: %+v", out.SubmitStory)
			}
		}

		var rep struct {
			ReportStory struct{ UserErrors []userErrorJSON }
		}
		ts.client.MustPost(reportStory, &rep, vars("i", map[string]any{"storyId": globalID(typeStory, tw.published)}), bearer(author))
		second, err := d.Stories.Submit(context.Background(), tw.callers[organiserSame], story.Input{Title: "Høstfest", Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Stories.Review(context.Background(), tw.callers[secretariatRol], second.ID, story.ActionPublish, ""); err != nil {
			t.Fatal(err)
		}
		ts.client.MustPost(`mutation($i: ReportStoryInput!) { reportStory(input: $i) { userErrors { code message retryAfterSeconds } } }`, &rep,
			vars("i", map[string]any{"storyId": globalID(typeStory, second.ID)}), bearer(author))
		if ue := rep.ReportStory.UserErrors; len(ue) != 1 || ue[0].Code != "TOO_MANY_REPORTS" || !strings.Contains(ue[0].Message, "højst 1 historier") {
			t.Errorf("second report: %+v", rep)
		}

		claim := `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } userErrors { code message retryAfterSeconds } } }`
		cancel := `mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { claim { status } userErrors { code } } }`
		var limited []userErrorJSON
		for i := range 5 {
			var cl struct {
				ClaimSlot struct {
					Claim      *struct{ ID string }
					UserErrors []userErrorJSON
				}
			}
			ts.client.MustPost(claim, &cl, vars("i", map[string]any{"slotId": globalID(typeSlot, tw.slot.ID), "idempotencyKey": fmt.Sprint("k", i)}),
				bearer(english))
			if cl.ClaimSlot.Claim == nil {
				limited = cl.ClaimSlot.UserErrors
				break
			}
			var cn struct {
				CancelClaim struct {
					Claim      *struct{ Status string }
					UserErrors []struct{ Code string }
				}
			}
			ts.client.MustPost(cancel, &cn, vars("i", map[string]any{"claimId": cl.ClaimSlot.Claim.ID}), bearer(english))
			if len(cn.CancelClaim.UserErrors) > 0 {
				t.Fatalf("cancel: %+v", cn)
			}
		}
		if len(limited) != 1 || limited[0].Code != "TOO_MANY_CLAIMS" || !strings.Contains(limited[0].Message, "at most 2 shifts an hour") ||
			limited[0].RetryAfterSeconds == nil {
			t.Errorf("third claim in an hour: %+v", limited)
		}
	})
}

// Hole 8 through the API: a decompression bomb uploaded as a story photo
// is refused from its header with IMAGE_TOO_LARGE on that photo, in
// Danish, and nothing is stored.
func TestPhotoBombThroughTheAPI(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t))
	tw := makeTown(t, ts)
	bomb := writeTemp(t, "bomb.png", mediatest.PNGZeros(4000, 4000, 16, mediatest.PNGRGBA, false))
	fine := writeTemp(t, "fine.jpg", mediatest.JPEG(640, 480, nil))
	var out struct {
		SubmitStory struct {
			Story      *struct{ ID string }
			UserErrors []userErrorJSON
		}
	}
	ts.client.MustPost(`mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id } userErrors { code message field } } }`, &out,
		vars("i", map[string]any{"title": "Bombe", "body": "x", "consentPeople": true, "hasChildren": false,
			"photos": []map[string]any{{"file": fine}, {"file": bomb}}}), client.WithFiles(), bearer(tw.tokens[resident]))
	ue := out.SubmitStory.UserErrors
	if out.SubmitStory.Story != nil || len(ue) != 1 || ue[0].Code != media.CodeImageTooLarge ||
		strings.Join(ue[0].Field, ".") != "input.photos.1" || !strings.Contains(ue[0].Message, "4000 × 4000") {
		t.Fatalf("bomb upload: %+v", out.SubmitStory)
	}
}
