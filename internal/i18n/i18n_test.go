package i18n

import (
	"encoding/json"
	"testing"
)

// Every language must have every message Danish has, so no person ever
// sees a bare code.
func TestCataloguesComplete(t *testing.T) {
	read := func(name string) map[string]string {
		b, err := locales.ReadFile("locales/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	da := read("da")
	for _, lang := range Supported() {
		other := read(lang)
		for id := range da {
			if other[id] == "" {
				t.Errorf("%s lacks %s", lang, id)
			}
		}
	}
}

func TestTextAndMatch(t *testing.T) {
	if got := Text("da", "TOO_LONG", map[string]any{"Max": 120}); got != "Der må højst være 120 tegn." {
		t.Errorf("da TOO_LONG = %q", got)
	}
	if got := Text("en", "SLOT_NOT_FOUND", nil); got != "The volunteer slot does not exist." {
		t.Errorf("en SLOT_NOT_FOUND = %q", got)
	}
	// A language without a catalogue falls back to Danish.
	if got := Text("ar", "SLOT_NOT_FOUND", nil); got != "Vagten findes ikke." {
		t.Errorf("ar fallback = %q", got)
	}
	for _, c := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"en-GB,en;q=0.9"}, "en"},
		{[]string{"", "da-DK"}, "da"},
		{[]string{"ar"}, "da"},
		{[]string{"tr,en;q=0.5"}, "en"},
		{[]string{"%%%"}, "da"},
	} {
		if got := Match(c.prefs...); got != c.want {
			t.Errorf("Match(%q) = %q, want %q", c.prefs, got, c.want)
		}
	}
}
