package graph

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Covers: uploaded by whoever may edit the thing, made safe like story
// photos, seen by whoever may see the thing, in every size offered, and
// removed with their sizes when replaced or taken away.
func TestCovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		srv := httptest.NewServer(media.Handler(ts.blobs, ts.resolver.Domain.MediaAccess()))
		defer srv.Close()
		organiser, boss := tw.tokens[organiserSame], tw.tokens[secretariatRol]

		type cover struct {
			URL, Full   string
			Width       int
			Height      int
			Alt         string
			Placeholder *string
		}
		type payload struct {
			Activity *struct {
				ID    string
				Cover *cover
			}
			Organisation *struct {
				ID    string
				Cover *cover
			}
			Place *struct {
				ID    string
				Cover *cover
			}
			Initiative *struct {
				ID    string
				Cover *cover
			}
			UserErrors []struct{ Code string }
		}
		const fields = `cover { url(width: 640, height: 360, fit: COVER) full: url width height alt placeholder }`
		set := func(token, target string, file []byte) (payload, error) {
			t.Helper()
			var out struct{ SetCover payload }
			err := ts.client.Post(`mutation($i: SetCoverInput!) { setCover(input: $i) {
				activity { id `+fields+` } organisation { id `+fields+` } place { id `+fields+` } initiative { id `+fields+` }
				userErrors { code } } }`, &out,
				vars("i", map[string]any{"targetId": target, "file": writeTemp(t, "cover.jpg", file), "alt": "Bålet ved gården"}),
				client.WithFiles(), bearer(token))
			return out.SetCover, err
		}
		fetch := func(apiURL string) (int, string, []byte) {
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
			return res.StatusCode, res.Header.Get("Cache-Control"), body
		}
		keyOf := func(apiURL string) string {
			u, _ := url.Parse(apiURL)
			return strings.TrimPrefix(u.Path, media.Prefix)
		}
		gone := func(key string) bool {
			_, err := ts.blobs.Open(ctx, key)
			return errors.Is(err, media.ErrNotFound)
		}

		// A published activity: its organiser uploads a phone photo with
		// a GPS position; anyone may load every size, without EXIF.
		act := globalID(typeActivity, tw.activity.ID)
		p, err := set(organiser, act, mediatest.JPEG(2400, 1600, &mediatest.EXIF{GPS: true, Orientation: 1}))
		if err != nil || len(p.UserErrors) > 0 || p.Activity == nil || p.Activity.Cover == nil {
			t.Fatalf("organiser sets a cover: %+v %v", p, err)
		}
		c := p.Activity.Cover
		if c.Width != 1920 || c.Height != 1280 || c.Alt != "Bålet ved gården" || c.Placeholder == nil || strings.Contains(c.URL, "sig=") {
			t.Errorf("cover %+v: want 1920×1280 (at most 1920 wide), the alt text, a placeholder and a plain URL", c)
		}
		code, cc, body := fetch(c.URL)
		if code != 200 || cc != "public, max-age=3600" {
			t.Fatalf("GET public cover variant: %d %q", code, cc)
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 640 || cfg.Height != 360 {
			t.Errorf("variant is %+v, %v; want 640×360", cfg, err)
		}
		_, _, full := fetch(c.Full)
		if mediatest.HasEXIF(body) || mediatest.HasEXIF(full) {
			t.Error("a cover kept EXIF")
		}
		first := keyOf(c.URL)

		// Nobody else may change it: a stranger, an organiser of another
		// organisation, a visitor.
		if p, _ := set(tw.tokens[unverified], act, mediatest.JPEG(100, 100, nil)); len(p.UserErrors) == 0 || p.UserErrors[0].Code != "VERIFIED_ACCOUNT_REQUIRED" {
			t.Errorf("an unverified account sets the cover: %+v", p)
		}
		for _, role := range []string{resident, organiserOther} {
			p, err := set(tw.tokens[role], act, mediatest.JPEG(100, 100, nil))
			if err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
				t.Errorf("%s sets the cover: %+v %v, want FORBIDDEN", role, p, err)
			}
		}
		if _, err := set("", act, mediatest.JPEG(100, 100, nil)); err == nil || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
			t.Errorf("a visitor sets the cover: %v, want UNAUTHENTICATED", err)
		}

		// Hostile uploads are user errors, and change nothing.
		for _, bad := range []struct {
			name string
			data []byte
			code string
		}{
			{"png bomb", mediatest.PNGZeros(4000, 4000, 16, mediatest.PNGRGBA, false), media.CodeImageTooLarge},
			{"claims 100000×100000", mediatest.PNGClaiming(100000, 100000), media.CodeImageTooLarge},
			{"not an image", []byte("<?php echo 'hi'; ?>"), media.CodePhotoTypeNotAllowed},
		} {
			p, err := set(organiser, act, bad.data)
			if err != nil || len(p.UserErrors) == 0 || p.UserErrors[0].Code != bad.code {
				t.Errorf("%s: %+v %v, want %s", bad.name, p, err, bad.code)
			}
		}
		if p, _ := set(organiser, "not-an-id", mediatest.JPEG(100, 100, nil)); len(p.UserErrors) == 0 || p.UserErrors[0].Code != "INVALID_ID" {
			t.Errorf("a malformed target: %+v, want INVALID_ID", p)
		}
		if p, _ := set(organiser, globalID(typeStory, tw.published), mediatest.JPEG(100, 100, nil)); len(p.UserErrors) == 0 || p.UserErrors[0].Code != "INVALID_ID" {
			t.Errorf("a story as target: %+v, want INVALID_ID", p)
		}

		// Replaced: the old source and its sizes go.
		p, err = set(boss, act, mediatest.PNG(800, 600))
		if err != nil || p.Activity == nil || p.Activity.Cover == nil {
			t.Fatalf("secretariat replaces the cover: %+v %v", p, err)
		}
		if !gone(first) || !gone("v/"+strings.TrimSuffix(first, ".jpg")+"/640x360-cover.jpg") {
			t.Error("the replaced cover or its variant is still stored")
		}
		if code, _, _ := fetch(c.URL); code != 404 {
			t.Errorf("GET the replaced cover: %d, want 404", code)
		}

		// A draft's cover is its organisers' only, at signed URLs.
		draft := globalID(typeActivity, tw.draft.ID)
		p, err = set(organiser, draft, mediatest.JPEG(800, 600, nil))
		if err != nil || p.Activity == nil || p.Activity.Cover == nil || !strings.Contains(p.Activity.Cover.URL, "sig=") {
			t.Fatalf("organiser sets a draft's cover: %+v %v, want a signed URL", p, err)
		}
		signed := p.Activity.Cover.URL
		if code, cc, _ := fetch(signed); code != 200 || !strings.HasPrefix(cc, "private, max-age=") {
			t.Errorf("GET signed draft cover: %d %q", code, cc)
		}
		if code, _, _ := fetch(strings.SplitN(signed, "?", 2)[0] + "?w=640"); code != 404 {
			t.Errorf("GET draft cover without signature: %d, want 404", code)
		}
		var seen struct{ Activity *struct{ Cover *cover } }
		if err := ts.client.Post(`query($id: ID!) { activity(id: $id) { cover { url } } }`, &seen, vars("id", draft)); err == nil && seen.Activity != nil {
			t.Errorf("a visitor sees the draft and its cover: %+v", seen.Activity)
		}

		// Organisation (its organisers), place (the secretariat),
		// initiative (the secretariat for someone else's): public.
		for _, tc := range []struct {
			who, target string
		}{
			{organiser, globalID(typeOrganisation, tw.orgA.ID)},
			{boss, globalID(typePlace, tw.farm.ID)},
			{boss, globalID(typeInitiative, tw.initiative)},
		} {
			p, err := set(tc.who, tc.target, mediatest.JPEG(600, 400, nil))
			var cv *cover
			switch {
			case p.Organisation != nil:
				cv = p.Organisation.Cover
			case p.Place != nil:
				cv = p.Place.Cover
			case p.Initiative != nil:
				cv = p.Initiative.Cover
			}
			if err != nil || cv == nil {
				t.Errorf("cover of %s: %+v %v", tc.target, p, err)
				continue
			}
			// Never enlarged: a 640×360 cover of a 600×400 source is 600×338.
			code, cc, body := fetch(cv.URL)
			cfg, _, _ := image.DecodeConfig(bytes.NewReader(body))
			if code != 200 || cc != "public, max-age=3600" || cfg.Width != 600 || cfg.Height != 338 {
				t.Errorf("GET cover of %s: %d %q %d×%d", tc.target, code, cc, cfg.Width, cfg.Height)
			}
		}

		// Removed: gone, with its file.
		var rm struct {
			RemoveCover struct {
				Activity   *struct{ Cover *cover }
				UserErrors []struct{ Code string }
			}
		}
		ts.client.MustPost(`mutation($i: RemoveCoverInput!) { removeCover(input: $i) { activity { cover { url } } userErrors { code } } }`,
			&rm, vars("i", map[string]any{"targetId": draft}), bearer(organiser))
		if rm.RemoveCover.Activity == nil || rm.RemoveCover.Activity.Cover != nil {
			t.Errorf("removeCover: %+v", rm.RemoveCover)
		}
		if !gone(keyOf(signed)) {
			t.Error("the removed cover is still stored")
		}
		var queued int
		if err := store.Get(ctx, db, &queued, `SELECT COUNT(*) FROM media_deletions`); err != nil || queued != 0 {
			t.Errorf("%d cover files waiting for removal (%v)", queued, err)
		}
	})
}
