package i18n

import (
	"encoding/json"
	"io/fs"
	"sort"
	"strings"
	"testing"
)

// languages are the languages of Ishøj the catalogue must have.
var languages = []string{"da", "en", "ar", "tr", "ur"}

// pluralForms are CLDR's plural categories for cardinal numbers.
var pluralForms = map[string][]string{
	"da": {"one", "other"},
	"en": {"one", "other"},
	"tr": {"one", "other"},
	"ur": {"one", "other"},
	"ar": {"zero", "one", "two", "few", "many", "other"},
}

var formOrder = []string{"zero", "one", "two", "few", "many", "other"}

// entry is one message in one language: its text per plural form, or
// under "" when it has none.
type entry struct {
	file  string
	forms map[string]string
}

// catalogue reads every locale file as it is on disk: lang → id → entry.
func catalogue(t *testing.T) map[string]map[string]entry {
	t.Helper()
	files, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]entry{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "locales/"), ".json")
		lang := name[strings.LastIndex(name, ".")+1:]
		b, err := locales.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if out[lang] == nil {
			out[lang] = map[string]entry{}
		}
		for id, v := range raw {
			e := entry{file: f, forms: map[string]string{}}
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				e.forms[""] = s
			} else if err := json.Unmarshal(v, &e.forms); err != nil {
				t.Fatalf("%s %s: neither a text nor plural forms: %v", f, id, err)
			}
			if prev, ok := out[lang][id]; ok {
				t.Errorf("%s is in both %s and %s", id, prev.file, f)
			}
			out[lang][id] = e
		}
	}
	return out
}

// Every language has every message any language has, so no person ever
// sees a bare code or a sentence in a language they did not ask for, and
// a message with plural forms has every form its language's CLDR rule
// chooses between.
func TestCataloguesComplete(t *testing.T) {
	cat := catalogue(t)
	var got []string
	for lang := range cat {
		got = append(got, lang)
	}
	sort.Strings(got)
	want := append([]string(nil), languages...)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("catalogue languages %v, want %v", got, want)
	}
	ids := map[string]bool{}
	for _, msgs := range cat {
		for id := range msgs {
			ids[id] = true
		}
	}
	for id := range ids {
		for _, lang := range languages {
			e, ok := cat[lang][id]
			if !ok {
				t.Errorf("%s lacks %s (locales/<area>.%s.json)", lang, id, lang)
				continue
			}
			if _, plain := e.forms[""]; plain {
				if strings.TrimSpace(e.forms[""]) == "" {
					t.Errorf("%s %s is empty", lang, id)
				}
				continue
			}
			for _, form := range pluralForms[lang] {
				if strings.TrimSpace(e.forms[form]) == "" {
					t.Errorf("%s %s lacks the plural form %q", lang, id, form)
				}
			}
			for form := range e.forms {
				if !contains(pluralForms[lang], form) && form != "description" {
					t.Errorf("%s %s has form %q, which %s does not use", lang, id, form, lang)
				}
			}
		}
	}
	if len(Supported()) != len(languages) || Supported()[0] != Default {
		t.Errorf("Supported() = %v", Supported())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
