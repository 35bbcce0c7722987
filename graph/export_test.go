package graph

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/story"
)

type exportAnswer struct {
	ExportMyData struct {
		Data              map[string]any
		DownloadURL       *string
		DownloadExpiresAt *string
		UserErrors        []struct{ Code string }
	}
}

const exportMutation = `mutation { exportMyData { data downloadUrl downloadExpiresAt userErrors { code } } }`

// items is the list at key of the export, or nil.
func items(x map[string]any, key string) []map[string]any {
	list, _ := x[key].([]any)
	var out []map[string]any
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

// The export of someone who did everything the app offers holds every
// item of it, from every table with a column that points to them, and
// nothing of anyone else; the ZIP behind its link has the same document
// and every photo of theirs, byte for byte; the link works for no other
// token, not after it is replaced and not after it expires.
func TestExportHasEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tw := makeTown(t, ts)
		ctx := context.Background()
		p := makeBusyPerson(t, ts, tw)
		id := p.caller.UserID

		// Someone else with a life of their own in the same town.
		otherToken, other := ts.person("naboen", true)
		d := ts.resolver.Domain
		_, err := d.Volunteer.Claim(ctx, other, tw.slot.ID, "naboen-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Notify.RegisterDevice(ctx, other, "fcm-token-of-the-neighbour", notify.PlatformIOS, "da-DK", "1.4.0"); err != nil {
			t.Fatal(err)
		}
		if err := d.Stories.React(ctx, other, tw.published, story.Heart); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Stories.Submit(ctx, other, story.Input{Title: "Naboens hemmelige historie", Body: "Kun til redaktionen.",
			OrganisationID: &tw.orgA.ID, ConsentPeople: true}); err != nil {
			t.Fatal(err)
		}

		// The cover of the initiative they proposed is their upload too.
		if _, err := d.Initiatives.SetCover(ctx, p.caller, p.proposal, media.Upload{Reader: bytes.NewReader(testJPEG(t)), Alt: "Lektier"}); err != nil {
			t.Fatal(err)
		}

		// The notifications these acts cause are made by jobs; the export
		// is compared with the tables after they have all run.
		ts.drain()
		var x exportAnswer
		ts.client.MustPost(exportMutation, &x, bearer(p.token))
		data := x.ExportMyData.Data
		if data == nil || x.ExportMyData.DownloadURL == nil || x.ExportMyData.DownloadExpiresAt == nil {
			t.Fatalf("export: %+v", x.ExportMyData)
		}

		// Every section is described in both languages, and every
		// description names a section.
		sections, _ := data["sections"].(map[string]any)
		for k := range data {
			s, _ := sections[k].(map[string]any)
			if s["da"] == "" || s["da"] == nil || s["en"] == "" || s["en"] == nil {
				t.Errorf("section %q has no Danish and English description", k)
			}
		}
		for k := range sections {
			if _, ok := data[k]; !ok {
				t.Errorf("description of %q, which is not in the document", k)
			}
		}

		// Every row that points to the person is in the section the
		// privacy register says exports it.
		for _, c := range userColumns(t, db) {
			var n int
			if err := store.Get(ctx, db, &n, `SELECT COUNT(*) FROM `+c.Table+` WHERE `+c.Column+` = ?`, id); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				continue
			}
			sections := privacy.ExportSections(c.Table, c.Column)
			if len(sections) == 0 {
				t.Errorf("%d rows of %s.%s point to the person but no export section holds them", n, c.Table, c.Column)
				continue
			}
			got := 0
			for _, section := range sections {
				got += len(items(data, section))
				if _, single := data[section].(map[string]any); single {
					got++
				}
			}
			if got < n {
				t.Errorf("%s.%s: %d rows point to the person, sections %v have %d", c.Table, c.Column, n, sections, got)
			}
		}

		profile, _ := data["profile"].(map[string]any)
		if profile["email"] != "dorte@test.example" || profile["calendarFeed"] != true {
			t.Errorf("profile %v", profile)
		}
		ids := func(key, field string) map[string]bool {
			out := map[string]bool{}
			for _, m := range items(data, key) {
				out[fmt.Sprint(m[field])] = true
			}
			return out
		}
		for _, want := range []struct {
			section, field string
			value          any
		}{
			{"claims", "id", p.pastClaim},
			{"stories", "id", p.publishedStory},
			{"stories", "id", p.pendingStory},
			{"storyReactions", "storyId", tw.published},
			{"storyReports", "storyId", tw.published},
			{"initiativesProposed", "id", p.proposal},
			{"initiativesJoined", "initiativeId", tw.initiative},
			{"initiativeReports", "initiativeId", tw.proposal},
			{"devices", "token", p.deviceToken},
			{"follows", "organisationId", tw.orgA.ID},
			{"inbox", "title", "Sommerfest"},
			{"organises", "organisationId", tw.orgB.ID},
			{"activitiesCreated", "title", "Ungeråd-møde"},
			{"qualificationsRecordedForOthers", "requirement", "CHILD_CERTIFICATE"},
		} {
			if !ids(want.section, want.field)[fmt.Sprint(want.value)] {
				t.Errorf("%s has no item with %s %v: %v", want.section, want.field, want.value, data[want.section])
			}
		}
		if prefs, _ := data["notificationPreferences"].(map[string]any); prefs["stories"] != false {
			t.Errorf("preferences %v, want stories off", prefs)
		}
		photos := 0
		for _, st := range items(data, "stories") {
			photos += len(items(st, "photos"))
		}
		if photos != 2 || len(items(data, "photoFiles")) != 5 {
			t.Errorf("%d photos in the stories and %d photo files, want 2 and 5 (two renditions each and the initiative's cover)", photos, len(items(data, "photoFiles")))
		}

		// Nothing of anyone else: not the neighbour's, not vera's, whose
		// qualification the person recorded.
		doc, _ := json.Marshal(data)
		for _, foreign := range []string{"naboen@test.example", "fcm-token-of-the-neighbour", "Naboens hemmelige historie",
			"vera@test.example", "Byttemarkedet"} {
			if bytes.Contains(doc, []byte(foreign)) {
				t.Errorf("the export holds someone else's %q", foreign)
			}
		}

		// The ZIP behind the link.
		srv := httptest.NewServer(d.Privacy.DownloadHandler())
		defer srv.Close()
		link, err := url.Parse(*x.ExportMyData.DownloadURL)
		if err != nil || !strings.HasPrefix(link.Path, privacy.DownloadPrefix) {
			t.Fatalf("download url %q: %v", *x.ExportMyData.DownloadURL, err)
		}
		get := func(path string) (*http.Response, []byte) {
			t.Helper()
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}
		resp, body := get(link.Path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" ||
			resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		var inZip map[string]any
		if err := json.Unmarshal(files["export.json"], &inZip); err != nil {
			t.Fatalf("export.json: %v", err)
		}
		if len(items(inZip, "claims")) != len(items(data, "claims")) || len(items(inZip, "devices")) != 1 {
			t.Errorf("export.json differs from the API's answer")
		}
		covers := 0
		for _, f := range items(inZip, "photoFiles") {
			var key string
			if f["initiativeId"] != nil {
				covers++
				if err := store.Get(ctx, db, &key, `SELECT cover_key FROM initiatives WHERE id = ? AND proposer_id = ?`, f["initiativeId"], id); err != nil {
					t.Fatalf("cover file %v: %v", f, err)
				}
			}
			for _, st := range items(inZip, "stories") {
				for _, ph := range items(st, "photos") {
					if fmt.Sprint(ph["id"]) == fmt.Sprint(f["photoId"]) {
						key, _ = ph["key"+strings.ToUpper(f["rendition"].(string)[:1])+f["rendition"].(string)[1:]].(string)
					}
				}
			}
			rc, err := ts.blobs.Open(ctx, key)
			if err != nil {
				t.Fatalf("photo %v: %v", f, err)
			}
			want, _ := io.ReadAll(rc)
			rc.Close()
			if got := files[f["file"].(string)]; len(want) == 0 || !bytes.Equal(got, want) {
				t.Errorf("%v in the ZIP: %d bytes, want the %d of the stored photo", f["file"], len(got), len(want))
			}
		}
		if len(files) != 6 || covers != 1 {
			t.Errorf("ZIP files %d (%d initiative covers), want export.json, 4 photos and the initiative's cover", len(files), covers)
		}

		// Another token, one letter changed, or a made-up one: 404.
		token := strings.TrimSuffix(strings.TrimPrefix(link.Path, privacy.DownloadPrefix), ".zip")
		flipped := []byte(token)
		flipped[0] ^= 1
		for _, path := range []string{privacy.DownloadPrefix + string(flipped) + ".zip", privacy.DownloadPrefix + token,
			privacy.DownloadPrefix + "../" + token + ".zip", privacy.DownloadPrefix + strings.Repeat("A", len(token)) + ".zip"} {
			if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
		}
		// The neighbour's own export is theirs: their link shows their
		// data, and asking makes no link to anyone else's.
		var theirs exportAnswer
		ts.client.MustPost(exportMutation, &theirs, bearer(otherToken))
		if p, _ := theirs.ExportMyData.Data["profile"].(map[string]any); p["email"] != "naboen@test.example" {
			t.Errorf("the neighbour's export: %v", p)
		}
		tl, _ := url.Parse(*theirs.ExportMyData.DownloadURL)
		if _, b := get(tl.Path); bytes.Contains(b, []byte("dorte@test.example")) || bytes.Contains(b, []byte(p.deviceToken)) {
			t.Error("the neighbour's ZIP holds the person's data")
		}
		// A visitor gets no export.
		resp2, err := ts.client.RawPost(exportMutation)
		if err == nil && !strings.Contains(string(resp2.Errors), "UNAUTHENTICATED") {
			t.Errorf("anonymous export: %s %s", resp2.Data, resp2.Errors)
		}
		// A new link ends the one before; a link ends when it expires.
		var again exportAnswer
		ts.client.MustPost(exportMutation, &again, bearer(p.token))
		if resp, _ := get(link.Path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("replaced link: %d, want 404", resp.StatusCode)
		}
		nl, _ := url.Parse(*again.ExportMyData.DownloadURL)
		if _, err := store.Exec(ctx, db, `UPDATE data_exports SET expires_at = ? WHERE user_id = ?`, ts.now().Add(-time.Second), id); err != nil {
			t.Fatal(err)
		}
		if resp, _ := get(nl.Path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("expired link: %d, want 404", resp.StatusCode)
		}
	})
}
