package notify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	pushTextsBegin = "<!-- push-texts: generated from internal/i18n/locales (push.* keys); TestPushTextsInContract checks it, and UPDATE_PUSH_TEXTS=1 go test ./internal/notify -run TestPushTextsInContract writes it -->"
	pushTextsEnd   = "<!-- /push-texts -->"
)

// pushLanguages are the languages of the catalogue, in the order PUSH.md
// lists them.
var pushLanguages = []string{"da", "en", "ar", "tr", "ur"}

// pushTexts is PUSH.md's section of push texts as the catalogue has them:
// every push.KIND.title and .body, per language.
func pushTexts(t *testing.T) string {
	t.Helper()
	texts := map[string]map[string]string{} // "push.KIND.title" -> lang -> text
	for _, lang := range pushLanguages {
		files, err := filepath.Glob(filepath.Join("..", "i18n", "locales", "*"+lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if base := filepath.Base(f); base != lang+".json" && !strings.HasSuffix(base, "."+lang+".json") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for k, v := range m {
				if !strings.HasPrefix(k, "push.") {
					continue
				}
				if texts[k] == nil {
					texts[k] = map[string]string{}
				}
				texts[k][lang] = text(v)
			}
		}
	}
	kinds := map[string]bool{}
	for k := range texts {
		kinds[strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(k, "push."), ".title"), ".body")] = true
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString(pushTextsBegin + "\n")
	for _, k := range names {
		b.WriteString("\n### `" + k + "`\n\n| Language | Title | Body |\n|---|---|---|\n")
		for _, lang := range pushLanguages {
			title, body := texts["push."+k+".title"][lang], texts["push."+k+".body"][lang]
			if title == "" || body == "" {
				t.Errorf("push.%s lacks a title or body in %s", k, lang)
			}
			b.WriteString("| " + lang + " | " + cell(title) + " | " + cell(body) + " |\n")
		}
	}
	b.WriteString("\n" + pushTextsEnd)
	return b.String()
}

// text is a catalogue entry as PUSH.md shows it: a plain text, or the
// plural forms by CLDR category.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		var forms []string
		for _, cat := range []string{"zero", "one", "two", "few", "many", "other"} {
			if s, ok := v[cat].(string); ok {
				forms = append(forms, cat+": "+s)
			}
		}
		return strings.Join(forms, " / ")
	}
	return ""
}

// PUSH.md lists every push's title and body in every language, as the
// catalogue has them, so the app team and translators read the texts the
// server sends.
func TestPushTextsInContract(t *testing.T) {
	doc, err := os.ReadFile(pushContract)
	if err != nil {
		t.Fatal(err)
	}
	want := pushTexts(t)
	s := string(doc)
	i, j := strings.Index(s, pushTextsBegin), strings.Index(s, pushTextsEnd)
	if os.Getenv("UPDATE_PUSH_TEXTS") == "1" {
		if i < 0 || j < i {
			t.Fatalf("%s has no push-texts section to write", pushContract)
		}
		if err := os.WriteFile(pushContract, []byte(s[:i]+want+s[j+len(pushTextsEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if i < 0 || j < i {
		t.Fatalf("%s has no push-texts section", pushContract)
	}
	if got := s[i : j+len(pushTextsEnd)]; got != want {
		t.Errorf("%s's push texts differ from the catalogue: run UPDATE_PUSH_TEXTS=1 go test ./internal/notify -run TestPushTextsInContract", pushContract)
	}
}
