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

// A spent limit says the limit and the wait in hours and minutes.
func TestLimitMessages(t *testing.T) {
	for _, c := range []struct {
		lang, code     string
		hours, minutes int
		want           string
	}{
		{"da", "TOO_MANY_STORIES", 1, 30, "Du kan indsende højst 10 historier i døgnet. Prøv igen om 1 t. og 30 min."},
		{"da", "TOO_MANY_REPORTS", 2, 0, "Du kan anmelde højst 10 historier i døgnet. Prøv igen om 2 t."},
		{"da", "TOO_MANY_CLAIMS", 0, 12, "Du kan tage højst 10 vagter i timen. Prøv igen om 12 min."},
		{"en", "TOO_MANY_STORIES", 1, 30, "You can submit at most 10 stories a day. Try again in 1 h 30 min."},
		{"en", "TOO_MANY_CLAIMS", 0, 1, "You can take at most 10 shifts an hour. Try again in 1 min."},
		{"en", "TOO_MANY_REPORTS", 3, 0, "You can report at most 10 stories a day. Try again in 3 h."},
	} {
		got := Text(c.lang, c.code, map[string]any{"Max": 10, "WaitHours": c.hours, "WaitMinutes": c.minutes})
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.lang, c.code, got, c.want)
		}
	}
}
