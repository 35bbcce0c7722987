package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Photos of a story in review are for its author and reviewers only,
// through URLs signed for minutes; once it is published anyone may load
// them; a rejected or withdrawn story's photos are gone.
func TestPhotoAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		if err := ts.resolver.Domain.Organisations.SetOrganisersMayReview(ctx, tw.callers[secretariatRol], tw.orgA.ID, true); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(media.Handler(ts.blobs, ts.resolver.Domain.Stories.MediaAccess()))
		defer srv.Close()
		author, boss := tw.tokens[resident], tw.tokens[secretariatRol]

		submit := func(title string) (id string, photo string) {
			t.Helper()
			var out struct {
				SubmitStory struct {
					Story *struct {
						ID     string
						Photos []struct{ SmallURL, LargeURL string }
					}
					UserErrors []struct{ Code string }
				}
			}
			ts.client.MustPost(`mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id photos { smallUrl largeUrl } } userErrors { code } } }`,
				&out, vars("i", map[string]any{"title": title, "body": "Vi var mange.", "organisationId": globalID(typeOrganisation, tw.orgA.ID),
					"consentPeople": true, "hasChildren": false, "photos": []map[string]any{{"file": writeTemp(t, "p.png", mediatest.PNG(64, 48)), "alt": "Bål"}}}),
				client.WithFiles(), bearer(author))
			st := out.SubmitStory.Story
			if st == nil || len(st.Photos) != 1 {
				t.Fatalf("submit: %+v", out.SubmitStory)
			}
			return st.ID, st.Photos[0].LargeURL
		}
		// photoURL is the story's large photo URL as token's holder is
		// given it; "" when they are given no photo.
		photoURL := func(id, token string) string {
			t.Helper()
			var out struct {
				Story *struct{ Photos []struct{ LargeURL string } }
			}
			ts.client.MustPost(`query($id: ID!) { story(id: $id) { photos { largeUrl } } }`, &out, vars("id", id), bearer(token))
			if out.Story == nil || len(out.Story.Photos) == 0 {
				return ""
			}
			return out.Story.Photos[0].LargeURL
		}
		// imageURL is a 640×360 cover-fit variant of the story's photo as
		// token's holder is given it, and its placeholder.
		imageURL := func(id, token string) (string, *string) {
			t.Helper()
			var out struct {
				Story *struct {
					Photos []struct {
						Image struct {
							URL         string
							Placeholder *string
						}
					}
				}
			}
			ts.client.MustPost(`query($id: ID!) { story(id: $id) { photos { image { url(width: 600, height: 340, fit: COVER) placeholder } } } }`,
				&out, vars("id", id), bearer(token))
			if out.Story == nil || len(out.Story.Photos) == 0 {
				return "", nil
			}
			return out.Story.Photos[0].Image.URL, out.Story.Photos[0].Image.Placeholder
		}
		// fetch loads an API URL from the media server.
		fetch := func(apiURL string) (int, string) {
			t.Helper()
			u, err := url.Parse(apiURL)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.Get(srv.URL + u.RequestURI())
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode == 200 && !strings.HasPrefix(string(body), "\xFF\xD8\xFF") {
				t.Errorf("GET %s: 200 but not a JPEG", apiURL)
			}
			return res.StatusCode, res.Header.Get("Cache-Control")
		}
		unsigned := func(u string) string { return strings.SplitN(u, "?", 2)[0] }

		id, submitted := submit("Bål ved Strandparken")
		if !strings.Contains(submitted, "?exp=") || !strings.Contains(submitted, "&sig=") {
			t.Fatalf("the author's URL of a pending photo %q is not signed", submitted)
		}
		for _, role := range []string{resident, secretariatRol, organiserSame} {
			u := photoURL(id, tw.tokens[role])
			if u == "" {
				t.Errorf("%s is given no photo of a story they may review", role)
				continue
			}
			if code, cc := fetch(u); code != 200 || !strings.HasPrefix(cc, "private, max-age=") {
				t.Errorf("%s GET signed %s = %d %q, want 200 private", role, u, code, cc)
			}
		}
		for _, role := range []string{anonymous, organiserOther, unverified} {
			if u := photoURL(id, tw.tokens[role]); u != "" {
				t.Errorf("%s is given the photo %s of a story in review", role, u)
			}
		}
		// The image type's variants follow the same rules as the photo.
		variant, placeholder := imageURL(id, author)
		if !strings.Contains(variant, "w=640") || !strings.Contains(variant, "h=360") || !strings.Contains(variant, "sig=") {
			t.Errorf("the author's variant URL %q: want w=640, h=360 and a signature", variant)
		}
		if placeholder == nil || len(*placeholder) < 20 {
			t.Errorf("placeholder %v", placeholder)
		}
		if code, cc := fetch(variant); code != 200 || !strings.HasPrefix(cc, "private, max-age=") {
			t.Errorf("GET signed variant = %d %q, want 200 private", code, cc)
		}
		if u, _ := imageURL(id, tw.tokens[organiserOther]); u != "" {
			t.Errorf("an organiser of another organisation is given the variant %s", u)
		}
		if code, _ := fetch(unsigned(variant) + "?w=640"); code != 404 {
			t.Errorf("GET variant of a pending photo without signature = %d, want 404", code)
		}
		// Anyone holding only the key (a stranger who saw the URL without
		// its signature, or guessed) gets nothing.
		if code, _ := fetch(unsigned(submitted)); code != 404 {
			t.Errorf("GET pending photo without signature = %d, want 404", code)
		}
		if code, _ := fetch(unsigned(submitted) + "?exp=9999999999&sig=AAAAAAAAAAAAAAAAAAAAAA"); code != 403 {
			t.Errorf("GET pending photo with a forged signature = %d, want 403", code)
		}
		// Ten minutes on, the signature no longer holds.
		later := httptest.NewServer(media.Handler(ts.blobs, media.Access{Public: ts.resolver.Domain.Stories.PhotoPublic,
			Signer: ts.resolver.Domain.Stories.MediaAccess().Signer, Now: func() time.Time { return ts.now().Add(media.SignedFor + time.Second) }}))
		defer later.Close()
		u, _ := url.Parse(submitted)
		res, err := http.Get(later.URL + u.RequestURI())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Errorf("GET with an expired signature = %d, want 403", res.StatusCode)
		}

		review := func(id, action string) {
			t.Helper()
			in := map[string]any{"storyId": id, "action": action}
			if action != "PUBLISH" {
				in["reason"] = "Vi mangler samtykke."
			}
			var out struct {
				ReviewStory struct{ UserErrors []struct{ Code string } }
			}
			ts.client.MustPost(`mutation($i: ReviewStoryInput!) { reviewStory(input: $i) { userErrors { code } } }`, &out, vars("i", in), bearer(boss))
			if len(out.ReviewStory.UserErrors) > 0 {
				t.Fatalf("review %s: %+v", action, out.ReviewStory.UserErrors)
			}
		}
		review(id, "PUBLISH")
		public := photoURL(id, "")
		if public == "" || public != unsigned(public) || public != unsigned(submitted) {
			t.Errorf("published photo URL %q, want the plain URL %q", public, unsigned(submitted))
		}
		if code, cc := fetch(public); code != 200 || cc != "public, max-age=3600" {
			t.Errorf("GET published photo = %d %q, want 200 public, max-age=3600", code, cc)
		}
		publicVariant, _ := imageURL(id, "")
		if strings.Contains(publicVariant, "sig=") {
			t.Errorf("published variant URL %q is signed", publicVariant)
		}
		if code, cc := fetch(publicVariant); code != 200 || cc != "public, max-age=3600" {
			t.Errorf("GET published variant = %d %q, want 200 public, max-age=3600", code, cc)
		}
		// Hidden again (here: rejected after publication), the plain URL
		// stops working at once, and the files go.
		review(id, "REJECT")
		if code, _ := fetch(public); code != 404 {
			t.Errorf("GET photo of a rejected story = %d, want 404", code)
		}
		if code, _ := fetch(submitted); code != 404 {
			t.Errorf("GET photo of a rejected story with its signed URL = %d, want 404 (the file is gone)", code)
		}
		if _, err := ts.blobs.Open(ctx, strings.TrimPrefix(unsigned(u.Path), media.Prefix)); !errors.Is(err, media.ErrNotFound) {
			t.Errorf("file of a rejected story's photo: %v, want it gone", err)
		}
		if u := photoURL(id, author); u != "" {
			t.Errorf("the author still sees photo %s of the rejected story", u)
		}
		if code, _ := fetch(variant); code != 404 {
			t.Errorf("GET variant of a rejected story with its signed URL = %d, want 404", code)
		}
		pu, _ := url.Parse(publicVariant)
		if _, err := ts.blobs.Open(ctx, "v/"+strings.TrimSuffix(strings.TrimPrefix(pu.Path, media.Prefix), ".jpg")+"/640x360-cover.jpg"); !errors.Is(err, media.ErrNotFound) {
			t.Errorf("cached variant of a rejected story's photo: %v, want it gone", err)
		}

		// A withdrawn story's photos go too.
		id2, withdrawn := submit("Snobrød")
		var out struct {
			WithdrawStory struct{ UserErrors []struct{ Code string } }
		}
		ts.client.MustPost(`mutation($i: StoryIdInput!) { withdrawStory(input: $i) { userErrors { code } } }`, &out,
			vars("i", map[string]any{"storyId": id2}), bearer(author))
		if len(out.WithdrawStory.UserErrors) > 0 {
			t.Fatalf("withdraw: %+v", out.WithdrawStory.UserErrors)
		}
		if code, _ := fetch(withdrawn); code != 404 {
			t.Errorf("GET photo of a withdrawn story with its signed URL = %d, want 404", code)
		}
		var queued int
		if err := store.Get(ctx, db, &queued, `SELECT COUNT(*) FROM media_deletions`); err != nil {
			t.Fatal(err)
		}
		if queued != 0 {
			t.Errorf("%d photo files still waiting for removal", queued)
		}
	})
}
