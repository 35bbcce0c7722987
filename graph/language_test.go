package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A person's language is the one they chose, then their device's
// Accept-Language, then Danish. Before users.language_chosen a signed-in
// person's Accept-Language lost to the stored default 'da'.
func TestLanguageOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		token, _ := ts.person("leila", true)

		type meJSON struct {
			Me struct {
				Language       string
				LanguageChosen bool
			}
		}
		me := func(accept string) meJSON {
			t.Helper()
			var out meJSON
			ts.client.MustPost(`{ me { language languageChosen } }`, &out, bearer(token), lang(accept))
			return out
		}
		type updateJSON struct {
			UpdateMe struct {
				Me *struct {
					Language       string
					LanguageChosen bool
				}
				UserErrors []userErrorJSON
			}
		}
		update := func(language, phone, accept string) updateJSON {
			t.Helper()
			var out updateJSON
			in := map[string]any{}
			if language != "-" {
				in["language"] = language
			}
			if phone != "" {
				in["phone"] = phone
			}
			ts.client.MustPost(`mutation($i: UpdateMeInput!) { updateMe(input: $i) { me { language languageChosen } userErrors { code message field } } }`,
				&out, vars("i", in), bearer(token), lang(accept))
			return out
		}

		// Never chosen: the device decides, else Danish.
		for accept, want := range map[string]string{"ar-SY,ar;q=0.9": "ar", "tr": "tr", "ur-PK": "ur", "en-GB": "en", "": "da", "fr": "da"} {
			if got := me(accept).Me; got.Language != want || got.LanguageChosen {
				t.Errorf("Accept-Language %q: %+v, want %s, not chosen", accept, got, want)
			}
		}
		// Errors too are in the device's language.
		if ue := update("-", "not a phone", "ar").UpdateMe.UserErrors; len(ue) != 1 || ue[0].Message != "رقم الهاتف غير صالح." {
			t.Errorf("INVALID_PHONE with Accept-Language ar: %+v", ue)
		}

		// Arabic, Turkish and Urdu are no longer refused.
		for _, l := range []string{"ar", "tr", "ur", "en", "da"} {
			out := update(l, "", "en")
			if len(out.UpdateMe.UserErrors) != 0 || out.UpdateMe.Me == nil || out.UpdateMe.Me.Language != l || !out.UpdateMe.Me.LanguageChosen {
				t.Errorf("updateMe(language: %s): %+v", l, out.UpdateMe)
			}
		}
		// A choice wins over the device, Danish included.
		if got := me("en").Me; got.Language != "da" || !got.LanguageChosen {
			t.Errorf("chose da, device en: %+v", got)
		}
		update("ur", "", "")
		if ue := update("-", "not a phone", "en").UpdateMe.UserErrors; len(ue) != 1 || ue[0].Message != "فون نمبر درست نہیں ہے۔" {
			t.Errorf("INVALID_PHONE after choosing ur, device en: %+v", ue)
		}
		// An unsupported language is refused in the language in force.
		out := update("fr", "", "en")
		if ue := out.UpdateMe.UserErrors; len(ue) != 1 || ue[0].Code != "INVALID_LANGUAGE" || ue[0].Message != "یہ زبان دستیاب نہیں ہے۔" {
			t.Errorf("updateMe(language: fr): %+v", out.UpdateMe)
		}
		// An empty language gives the choice up: the device decides again.
		if out := update("", "", "tr").UpdateMe; len(out.UserErrors) != 0 || out.Me == nil || out.Me.LanguageChosen || out.Me.Language != "tr" {
			t.Errorf("updateMe(language: \"\"): %+v", out)
		}
		if got := me("en").Me; got.Language != "en" || got.LanguageChosen {
			t.Errorf("after giving up the choice, device en: %+v", got)
		}
	})
}

// A push is in the language the recipient chose, else Danish: a push has
// no request whose Accept-Language could count.
func TestPushInTheRecipientsLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		people := map[string]string{"ar": "", "tr": "", "ur": "", "en": "", "da": "", "none": ""}
		ids := map[string]int64{}
		for l := range people {
			token, c := ts.person("p-"+l, true)
			people[l], ids[l] = token, c.UserID
			if l != "none" {
				var out struct {
					UpdateMe struct{ UserErrors []userErrorJSON }
				}
				ts.client.MustPost(`mutation($l: String) { updateMe(input: {language: $l}) { userErrors { code } } }`, &out, vars("l", l), bearer(token))
				if len(out.UpdateMe.UserErrors) != 0 {
					t.Fatalf("choose %s: %+v", l, out)
				}
			}
		}
		err := db.Transact(ctx, func(tx *sqlx.Tx) error {
			var ns []notify.NewNotification
			for _, id := range ids {
				ns = append(ns, notify.NewNotification{UserID: id, Kind: notify.KindOrganiserInvitation,
					Params: map[string]any{"Organisation": "Ishøj Roklub"}})
			}
			return ts.resolver.Domain.Notify.Notify(ctx, tx, ns...)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"da":   "Invitation fra Ishøj Roklub",
			"none": "Invitation fra Ishøj Roklub",
			"en":   "Invitation from Ishøj Roklub",
			"tr":   "Davet: Ishøj Roklub",
			"ar":   "دعوة من " + i18n.Isolate("Ishøj Roklub"),
			"ur":   i18n.Isolate("Ishøj Roklub") + " کی طرف سے دعوت",
		}
		for l, token := range people {
			var out struct {
				Me struct {
					Notifications struct {
						Edges []struct{ Node struct{ Title, Body string } }
					}
				}
			}
			// The device's language does not count for a push.
			ts.client.MustPost(`{ me { notifications(first: 5) { edges { node { title body } } } } }`, &out, bearer(token), lang("en"))
			edges := out.Me.Notifications.Edges
			if len(edges) != 1 || edges[0].Node.Title != want[l] {
				t.Errorf("%s: %+v, want title %q", l, edges, want[l])
				continue
			}
			if strings.Contains(edges[0].Node.Body, "{{") || edges[0].Node.Body == "" {
				t.Errorf("%s body %q", l, edges[0].Node.Body)
			}
		}
	})
}
