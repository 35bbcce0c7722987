package story

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func TestLifeCycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		author := f.person(t, "Amina", user.RoleResident)
		stranger := f.person(t, "Bo", user.RoleResident)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		org := f.organisation(t, "Røde Kors")

		in := Input{
			Title:          "Byttemarked på Bredekærgård",
			Body:           "300 gæster og 360 kg tøj skiftede ejer.",
			OrganisationID: &org,
			Themes:         []string{"baeredygtighed", "faellesskab"},
			Links: []LinkInput{
				{Kind: link.YouTube, URL: "https://youtu.be/dQw4w9WgXcQ?t=42", Label: "Video"},
				{Kind: link.Facebook, URL: "http://www.facebook.com/roedekors/posts/1"},
			},
			Photos: []PhotoInput{
				photo(mediatest.JPEG(1500, 1000, &mediatest.EXIF{GPS: true}), "Boder i gården"),
				photo(mediatest.JPEG(800, 600, &mediatest.EXIF{Orientation: 6, GPS: true}), "Taget på højkant"),
			},
			ConsentPeople: true,
		}
		st, err := f.svc.Submit(ctx, author, in)
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if st.Status != PendingReview || st.AuthorName != "Amina" || *st.AuthorID != author.UserID || !st.ConsentPeople {
			t.Errorf("submitted story = %+v", st)
		}

		// Links are normalised; the YouTube id is extracted.
		links, err := link.NewService(db).ByStoryIDs(ctx, []int64{st.ID})
		if err != nil || len(links) != 2 {
			t.Fatalf("links = %v, %v", links, err)
		}
		if links[0].URL != "https://www.youtube.com/watch?v=dQw4w9WgXcQ" || links[1].URL != "https://www.facebook.com/roedekors/posts/1" {
			t.Errorf("links = %q, %q", links[0].URL, links[1].URL)
		}

		// Photos: stored without EXIF, in the promised sizes, upright.
		photos, err := f.svc.Photos(ctx, author, []int64{st.ID})
		if err != nil || len(photos[st.ID]) != 2 {
			t.Fatalf("photos = %v, %v", photos, err)
		}
		ps := photos[st.ID]
		wantSizes := [][4]int{{320, 213, 1280, 853}, {320, 427, 600, 800}}
		for i, p := range ps {
			small, large := f.readBlob(t, p.KeySmall), f.readBlob(t, p.KeyLarge)
			for _, b := range [][]byte{small, large} {
				if mediatest.HasEXIF(b) {
					t.Errorf("photo %d: stored file has an EXIF segment", i)
				}
			}
			sb, lb := mediatest.Decode(small).Bounds(), mediatest.Decode(large).Bounds()
			got := [4]int{sb.Dx(), sb.Dy(), lb.Dx(), lb.Dy()}
			if got != wantSizes[i] || p.Width != got[2] || p.Height != got[3] {
				t.Errorf("photo %d: sizes %v (row %dx%d), want %v", i, got, p.Width, p.Height, wantSizes[i])
			}
		}
		if ps[0].AltText != "Boder i gården" || ps[1].Position != 1 {
			t.Errorf("photo rows = %+v", ps)
		}
		if n := len(f.blobFiles(t)); n != 4 {
			t.Errorf("%d blobs stored, want 4", n)
		}

		// Unpublished: the author and the secretariat see it, no one else.
		if !CanSee(author, st) || !CanSee(sec, st) || CanSee(stranger, st) || CanSee(user.Caller{}, st) {
			t.Error("pending story visibility wrong")
		}
		// The reads apply it: hidden is not found, and so are its photos.
		for _, c := range []user.Caller{stranger, {}} {
			if _, err := f.svc.Story(ctx, c, st.ID); !store.IsNotFound(err) {
				t.Errorf("pending story read by %d: %v, want not found", c.UserID, err)
			}
			if got, _ := f.svc.ByIDs(ctx, c, []int64{st.ID}); len(got) != 0 {
				t.Errorf("pending story among ByIDs for %d", c.UserID)
			}
			if ps, err := f.svc.Photos(ctx, c, []int64{st.ID}); err != nil || len(ps[st.ID]) != 0 {
				t.Errorf("photos of a pending story for %d: %v, %v", c.UserID, ps, err)
			}
		}
		if got, err := f.svc.Story(ctx, sec, st.ID); err != nil || got.ID != st.ID {
			t.Errorf("secretariat reads pending story: %v", err)
		}
		if list, _ := f.svc.ListPublished(ctx, user.Caller{}, Filter{}, nil, 10); len(list) != 0 {
			t.Errorf("pending story listed: %v", list)
		}
		if _, err := f.svc.Review(ctx, stranger, st.ID, ActionPublish, ""); codes(t, err)[0] != CodeStoryNotFound {
			t.Errorf("stranger review: %v", err)
		}
		if _, err := f.svc.Review(ctx, author, st.ID, ActionPublish, ""); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("author reviews own story: %v, want forbidden", err)
		}
		q, err := f.svc.ReviewQueue(ctx, sec, nil, 10)
		if err != nil || len(q) != 1 || q[0].ID != st.ID {
			t.Errorf("review queue = %v, %v", q, err)
		}

		// Request changes: a reason is required and shown to the author.
		_, err = f.svc.Review(ctx, sec, st.ID, ActionRequestChanges, "  ")
		wantCode(t, err, CodeReasonRequired)
		st, err = f.svc.Review(ctx, sec, st.ID, ActionRequestChanges, "Skriv gerne hvornår det var.")
		if err != nil || st.Status != ChangesRequested || st.ReviewReason != "Skriv gerne hvornår det var." {
			t.Fatalf("request changes: %+v, %v", st, err)
		}

		// The author edits: back in review, one photo removed.
		in.Body = "Den 6. juli: 300 gæster og 360 kg tøj skiftede ejer."
		in.Photos = nil
		in.RemovePhotoIDs = []int64{ps[1].ID}
		if _, err := f.svc.Edit(ctx, stranger, st.ID, in); err == nil {
			t.Error("stranger edited the story")
		}
		st, err = f.svc.Edit(ctx, author, st.ID, in)
		if err != nil || st.Status != PendingReview || st.Body != in.Body {
			t.Fatalf("edit: %+v, %v", st, err)
		}
		if n := f.rows(t, "story_photos"); n != 1 {
			t.Errorf("%d photos after edit, want 1", n)
		}
		if n := len(f.blobFiles(t)); n != 2 {
			t.Errorf("%d blobs after removing a photo, want 2", n)
		}

		// Publish: the event fires after commit, with the author.
		f.now = f.now.Add(time.Hour)
		st, err = f.svc.Review(ctx, sec, st.ID, ActionPublish, "")
		if err != nil || st.Status != Published || st.PublishedAt == nil || !st.PublishedAt.Equal(f.now) {
			t.Fatalf("publish: %+v, %v", st, err)
		}
		// The request for changes before it told the author why.
		want := []event.Event{
			{Kind: event.StoryChangesRequested, StoryID: st.ID, UserID: author.UserID, OrganisationID: org, ActorID: sec.UserID, Reason: "Skriv gerne hvornår det var."},
			{Kind: event.StoryPublished, StoryID: st.ID, UserID: author.UserID, OrganisationID: org, ActorID: sec.UserID},
		}
		if got := f.events.Snapshot(); !reflect.DeepEqual(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if !CanSee(stranger, st) || !CanSee(user.Caller{}, st) {
			t.Error("published story not visible to everyone")
		}
		if list, _ := f.svc.ListPublished(ctx, user.Caller{}, Filter{}, nil, 10); len(list) != 1 {
			t.Errorf("published list = %v", list)
		}
		if _, err := f.svc.Withdraw(ctx, author, st.ID); err == nil {
			t.Error("published story withdrawn by author")
		}
		if _, err := f.svc.Edit(ctx, author, st.ID, in); err == nil {
			t.Error("published story edited by author")
		}

		// Feature for the campaign; secretariat only.
		if _, err := f.svc.Feature(ctx, author, st.ID, true); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident features: %v", err)
		}
		if st, err = f.svc.Feature(ctx, sec, st.ID, true); err != nil || !st.Featured {
			t.Fatalf("feature: %+v, %v", st, err)
		}
		if _, err := f.svc.RecordMediaPickup(ctx, sec, st.ID, "TV 2 Lorry", "https://www.tv2lorry.dk/ishoej/byttemarked", f.now); err != nil {
			t.Fatalf("media pickup: %v", err)
		}

		// Reactions: one per person; changing replaces it.
		readers := []user.Caller{stranger, f.person(t, "Carl", user.RoleResident), f.person(t, "Dorte", user.RoleResident)}
		for _, r := range readers {
			if err := f.svc.React(ctx, r, st.ID, Heart); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.React(ctx, readers[0], st.ID, Clap); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.React(ctx, readers[0], st.ID, "ANGRY"), CodeInvalidReaction)
		counts, err := f.svc.ReactionCounts(ctx, []int64{st.ID})
		if err != nil || counts[st.ID][Heart] != 2 || counts[st.ID][Clap] != 1 {
			t.Errorf("reaction counts = %v, %v", counts, err)
		}
		if err := f.svc.Unreact(ctx, readers[1], st.ID); err != nil {
			t.Fatal(err)
		}
		mine, _ := f.svc.MyReactions(ctx, readers[0], []int64{st.ID})
		if mine[st.ID] != Clap {
			t.Errorf("my reaction = %v", mine)
		}

		// Reports: once per person; the third person hides the story.
		for i, r := range readers {
			st, err = f.svc.Report(ctx, r, st.ID, "Upassende billede")
			if err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
			if i == 0 {
				_, err := f.svc.Report(ctx, r, st.ID, "igen")
				wantCode(t, err, CodeAlreadyReported)
			}
			if wantHidden := i == 2; (st.Status == Hidden) != wantHidden {
				t.Errorf("after %d reports status = %s", i+1, st.Status)
			}
		}
		if CanSee(stranger, st) || !CanSee(author, st) {
			t.Error("hidden story visibility wrong")
		}
		if list, _ := f.svc.ListPublished(ctx, user.Caller{}, Filter{}, nil, 10); len(list) != 0 {
			t.Errorf("hidden story listed")
		}
		wantCode(t, f.svc.React(ctx, stranger, st.ID, Smile), CodeStoryNotFound)
		if q, _ := f.svc.ReviewQueue(ctx, sec, nil, 10); len(q) != 1 || q[0].Status != Hidden {
			t.Errorf("hidden story not in review queue: %v", q)
		}

		// Republish restores it, keeps its place, and does not notify again.
		published := *st.PublishedAt
		f.now = f.now.Add(time.Hour)
		st, err = f.svc.Review(ctx, sec, st.ID, ActionPublish, "")
		if err != nil || st.Status != Published || !st.PublishedAt.Equal(published) || !st.Featured {
			t.Fatalf("republish: %+v, %v", st, err)
		}
		if n := len(f.events.Snapshot()); n != 2 {
			t.Errorf("%d events after republish, want the 2 before it", n)
		}
		// The reports are kept, weighed: the same people cannot report it
		// again, and one more report does not hide it: the count starts over.
		if n := f.rows(t, "story_reports"); n != 3 {
			t.Errorf("%d reports kept after restore, want 3", n)
		}
		_, err = f.svc.Report(ctx, readers[0], st.ID, "")
		wantCode(t, err, CodeAlreadyReported)
		if st, err = f.svc.Report(ctx, f.person(t, "Ejnar", user.RoleResident), st.ID, ""); err != nil || st.Status != Published {
			t.Errorf("report after restore: %s, %v", st.Status, err)
		}

		entries, err := f.svc.ModerationLog(ctx, sec, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		wantActions := []string{"REQUEST_CHANGES", "PUBLISH", "FEATURE", "MEDIA_PICKUP", "AUTO_HIDE", "RESTORE"}
		if !slices.Equal(actions, wantActions) {
			t.Errorf("moderation log = %v, want %v", actions, wantActions)
		}
		if entries[0].Reason != "Skriv gerne hvornår det var." || *entries[0].ActorID != sec.UserID || entries[4].ActorID != nil {
			t.Errorf("log entries = %+v", entries)
		}

		mys, err := f.svc.MyStories(ctx, author)
		if err != nil || len(mys) != 1 || mys[0].ID != st.ID {
			t.Errorf("MyStories = %v, %v", mys, err)
		}

		// The secretariat can reject (take down) a published story.
		st, err = f.svc.Review(ctx, sec, st.ID, ActionReject, "Personfølsomme oplysninger")
		if err != nil || st.Status != Rejected || st.ReviewReason != "Personfølsomme oplysninger" {
			t.Errorf("reject: %+v, %v", st, err)
		}
		_, err = f.svc.Review(ctx, sec, st.ID, ActionRequestChanges, "x")
		wantCode(t, err, CodeInvalidStatusChange)
	})
}

func TestRefusedUploadsStoreNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		author := f.person(t, "Amina", user.RoleResident)
		var gifBuf bytes.Buffer
		if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 8, 8), []color.Color{color.White, color.Black}), nil); err != nil {
			t.Fatal(err)
		}
		good := func() PhotoInput { return photo(mediatest.JPEG(640, 480, &mediatest.EXIF{GPS: true}), "") }
		base := func(photos ...PhotoInput) Input {
			return Input{Title: "Sommer", Body: "Min sommer i Ishøj", Photos: photos, ConsentPeople: true}
		}
		tests := []struct {
			name string
			in   Input
			code string
		}{
			{"gif", base(good(), photo(gifBuf.Bytes(), "")), "PHOTO_TYPE_NOT_ALLOWED"},
			{"text file named .jpg", base(photo([]byte("this is not a photo, it is a text file"), "")), "PHOTO_TYPE_NOT_ALLOWED"},
			{"over 15 MB, streamed", base(good(), PhotoInput{Reader: io.MultiReader(
				bytes.NewReader(mediatest.JPEG(10, 10, nil)), io.LimitReader(zeros{}, 16<<20))}), "PHOTO_TOO_LARGE"},
			{"no consent for people in photos", Input{Title: "Sommer", Body: "x", Photos: []PhotoInput{good()}}, CodeConsentRequired},
			{"children without guardian consent", func() Input { in := base(good()); in.HasChildren = true; return in }(), CodeGuardianConsentRequired},
			{"missing title", Input{Body: "x"}, apperr.CodeRequired},
			{"unknown theme", Input{Title: "x", Body: "x", Themes: []string{"nope"}}, "UNKNOWN_THEME"},
			{"link to another host", Input{Title: "x", Body: "x", Links: []LinkInput{{Kind: link.Instagram, URL: "https://evil.example/p/1"}}}, "LINK_HOST_MISMATCH"},
			{"youtube without video", Input{Title: "x", Body: "x", Links: []LinkInput{{Kind: link.YouTube, URL: "https://www.youtube.com/@ishoj"}}}, CodeInvalidYouTubeLink},
			{"unknown activity", Input{Title: "x", Body: "x", ActivityID: ptr(int64(999))}, "ACTIVITY_NOT_FOUND"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Submit(ctx, author, tt.in)
				wantCode(t, err, tt.code)
				for _, table := range []string{"stories", "story_photos", "channel_links", "story_themes"} {
					if n := f.rows(t, table); n != 0 {
						t.Errorf("%d rows in %s", n, table)
					}
				}
				if files := f.blobFiles(t); len(files) != 0 {
					t.Errorf("blobs left behind: %v", files)
				}
			})
		}

		// Anonymous accounts may not submit.
		_, err := f.svc.Submit(ctx, user.Caller{UserID: author.UserID}, base())
		wantCode(t, err, apperr.CodeVerifiedAccountRequired)
		if _, err := f.svc.Submit(ctx, user.Caller{}, base()); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor submit: %v", err)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestOrganiserReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Sekretariat", user.RoleSecretariat)
		organiser := f.person(t, "Ole", user.RoleResident)
		other := f.person(t, "Ida", user.RoleResident)
		org := f.organisation(t, "Ældre i bevægelse", &organiser)
		otherOrg := f.organisation(t, "Ungerådet")
		var activity int64
		err := store.Get(ctx, db, &activity, `INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Gåtur', ?, ?, 'PUBLISHED', ?, ?) RETURNING id`, org, f.now, f.now.Add(time.Hour), f.now, f.now)
		if err != nil {
			t.Fatal(err)
		}
		// Tied to an activity only: the story belongs to its organisation.
		st, err := f.svc.Submit(ctx, other, Input{Title: "Gåtur ved stranden", Body: "Vi gik.", ActivityID: &activity})
		if err != nil {
			t.Fatal(err)
		}
		if st.OrganisationID == nil || *st.OrganisationID != org {
			t.Fatalf("organisation = %v, want %d", st.OrganisationID, org)
		}
		elsewhere, err := f.svc.Submit(ctx, other, Input{Title: "Ungerådet", Body: "Møde", OrganisationID: &otherOrg})
		if err != nil {
			t.Fatal(err)
		}
		own, err := f.svc.Submit(ctx, organiser, Input{Title: "Min egen", Body: "x", OrganisationID: &org})
		if err != nil {
			t.Fatal(err)
		}

		// Not allowed yet.
		if CanSee(organiser, st) {
			t.Error("organiser sees pending story without permission")
		}
		if _, err := f.svc.Review(ctx, organiser, st.ID, ActionPublish, ""); err == nil {
			t.Error("organiser reviewed without permission")
		}
		if q, err := f.svc.ReviewQueue(ctx, organiser, nil, 10); err != nil || len(q) != 0 {
			t.Errorf("queue without permission = %v, %v", q, err)
		}
		if _, err := f.svc.ReviewQueue(ctx, other, nil, 10); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident queue: %v", err)
		}
		if err := organisation.NewService(f.db, func() time.Time { return f.now }).SetOrganisersMayReview(ctx, organiser, org, true); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser grants themselves review: %v", err)
		}

		if err := organisation.NewService(f.db, func() time.Time { return f.now }).SetOrganisersMayReview(ctx, sec, org, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Story(ctx, organiser, st.ID); err != nil {
			t.Errorf("allowed organiser cannot see pending story: %v", err)
		}
		q, err := f.svc.ReviewQueue(ctx, organiser, nil, 10)
		if err != nil || len(q) != 1 || q[0].ID != st.ID {
			t.Errorf("organiser queue = %v, %v (own story %d and other org's %d must not be there)", q, err, own.ID, elsewhere.ID)
		}
		if _, err := f.svc.Review(ctx, organiser, own.ID, ActionPublish, ""); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser publishes own story: %v", err)
		}
		if _, err := f.svc.Review(ctx, organiser, elsewhere.ID, ActionPublish, ""); err == nil {
			t.Error("organiser reviewed another organisation's story")
		}
		if st, err = f.svc.Review(ctx, organiser, st.ID, ActionPublish, ""); err != nil || st.Status != Published {
			t.Fatalf("organiser publish: %v", err)
		}

		// The secretariat's queue is oldest first, paged.
		q, err = f.svc.ReviewQueue(ctx, sec, nil, 1)
		if err != nil || len(q) != 1 || q[0].ID != elsewhere.ID {
			t.Fatalf("first page = %v, %v", q, err)
		}
		q, err = f.svc.ReviewQueue(ctx, sec, &QueueKey{CreatedAt: q[0].CreatedAt, ID: q[0].ID}, 10)
		if err != nil || len(q) != 1 || q[0].ID != own.ID {
			t.Errorf("second page = %v, %v", q, err)
		}

		// Withdraw by the author while pending.
		if _, err := f.svc.Withdraw(ctx, organiser, elsewhere.ID); err == nil {
			t.Error("someone else withdrew the story")
		}
		w, err := f.svc.Withdraw(ctx, other, elsewhere.ID)
		if err != nil || w.Status != Withdrawn {
			t.Errorf("withdraw = %+v, %v", w, err)
		}
		if CanSee(organiser, w) || !CanSee(other, w) {
			t.Error("withdrawn story visibility wrong")
		}
	})
}

func TestCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Sekretariat", user.RoleSecretariat)
		organiser := f.person(t, "Ole", user.RoleResident)
		resident := f.person(t, "Ida", user.RoleResident)
		org := f.organisation(t, "Thorslunde-Ishøj Lokalhistoriske Forening", &organiser)

		if _, err := f.svc.OpenCall(ctx, resident, CallInput{Title: "x", Deadline: f.now.AddDate(0, 1, 0)}); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident opens call: %v", err)
		}
		if _, err := f.svc.OpenCall(ctx, organiser, CallInput{Title: "x", Deadline: f.now.AddDate(0, 1, 0)}); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser opens municipal call: %v", err)
		}
		_, err := f.svc.OpenCall(ctx, sec, CallInput{Title: "x", Deadline: f.now.Add(-time.Minute)})
		wantCode(t, err, CodeDeadlineInPast)

		summer, err := f.svc.OpenCall(ctx, sec, CallInput{Title: "Min sommer i Ishøj", Description: "Fotokonkurrence", Deadline: f.now.AddDate(0, 0, 14)})
		if err != nil {
			t.Fatal(err)
		}
		seventies, err := f.svc.OpenCall(ctx, organiser, CallInput{Title: "Ishøj i 1970'erne", Deadline: f.now.AddDate(0, 2, 0), OrganisationID: &org})
		if err != nil {
			t.Fatal(err)
		}
		if calls, err := f.svc.Calls(ctx, user.Caller{}, true); err != nil || len(calls) != 2 || calls[0].ID != summer.ID {
			t.Errorf("open calls = %v, %v", calls, err)
		}

		in := Input{Title: "Stranden i juli", Body: "Sol", CallID: &summer.ID, Photos: []PhotoInput{photo(mediatest.PNG(400, 300), "Strand")}, ConsentPeople: true}
		st, err := f.svc.Submit(ctx, resident, in)
		if err != nil || st.CallID == nil || *st.CallID != summer.ID {
			t.Fatalf("submit to call: %+v, %v", st, err)
		}
		if _, err := f.svc.Review(ctx, sec, st.ID, ActionPublish, ""); err != nil {
			t.Fatal(err)
		}
		if list, _ := f.svc.ListPublished(ctx, user.Caller{}, Filter{CallID: &summer.ID}, nil, 10); len(list) != 1 {
			t.Errorf("call's published stories = %v", list)
		}
		if list, _ := f.svc.ListPublished(ctx, user.Caller{}, Filter{CallID: &seventies.ID}, nil, 10); len(list) != 0 {
			t.Errorf("other call's stories = %v", list)
		}
		rows, blobs := f.rows(t, "stories"), len(f.blobFiles(t))

		// After the deadline: refused, and the photo already written is removed.
		f.now = summer.Deadline.Add(time.Second)
		in.Photos = []PhotoInput{photo(mediatest.PNG(400, 300), "For sent")}
		_, err = f.svc.Submit(ctx, resident, in)
		wantCode(t, err, CodeCallClosed)
		if f.rows(t, "stories") != rows || len(f.blobFiles(t)) != blobs || f.rows(t, "story_photos") != 1 {
			t.Error("a refused story left rows or blobs behind")
		}
		if calls, _ := f.svc.Calls(ctx, user.Caller{}, true); len(calls) != 1 || calls[0].ID != seventies.ID {
			t.Errorf("open calls after deadline = %v", calls)
		}

		// Closing early.
		if _, err := f.svc.CloseCall(ctx, resident, seventies.ID); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident closes call: %v", err)
		}
		if c, err := f.svc.CloseCall(ctx, organiser, seventies.ID); err != nil || c.Status != CallClosed {
			t.Fatalf("close: %+v, %v", c, err)
		}
		_, err = f.svc.Submit(ctx, resident, Input{Title: "Farfar kom i 1972", Body: "...", CallID: &seventies.ID})
		wantCode(t, err, CodeCallClosed)
		_, err = f.svc.Submit(ctx, resident, Input{Title: "x", Body: "x", CallID: ptr(int64(999))})
		wantCode(t, err, CodeCallNotFound)
		if all, _ := f.svc.Calls(ctx, user.Caller{}, false); len(all) != 2 {
			t.Errorf("all calls = %v", all)
		}
	})
}

func TestYouTubeLinks(t *testing.T) {
	for _, raw := range []string{
		"https://youtu.be/dQw4w9WgXcQ",
		"https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=abc",
		"http://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
		"https://youtube.com/shorts/dQw4w9WgXcQ?si=xyz",
		"https://www.youtube.com/embed/dQw4w9WgXcQ",
	} {
		l, err := normaliseLink(LinkInput{Kind: link.YouTube, URL: raw}, "links", "0")
		if err != nil || l.URL != "https://www.youtube.com/watch?v=dQw4w9WgXcQ" {
			t.Errorf("%s → %q, %v", raw, l.URL, err)
		}
	}
	for _, raw := range []string{"https://youtu.be/", "https://www.youtube.com/watch?v=short", "https://www.youtube.com/@ishoj", "https://youtu.be/dQw4w9WgXcQ/../x"} {
		if _, err := normaliseLink(LinkInput{Kind: link.YouTube, URL: raw}); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
	if _, err := normaliseLink(LinkInput{Kind: "TIKTOK", URL: "https://tiktok.com/x"}); err == nil {
		t.Error("unknown kind accepted")
	}
}
