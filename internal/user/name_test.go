package user

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ishoj/voresishoj/internal/apperr"
)

func TestNormaliseName(t *testing.T) {
	for _, good := range []struct{ in, want string }{
		{"  Anna Petersen ", "Anna Petersen"},
		{"محمد علي", "محمد علي"},
		{"عائشہ خان", "عائشہ خان"},           // Urdu
		{"فرزانه\u200cای", "فرزانه\u200cای"}, // Persian with a zero-width non-joiner
		{"Şükrü Yılmaz", "Şükrü Yılmaz"},
		{"Nguyễn Thị Minh", "Nguyễn Thị Minh"},
		{"Jose\u0301", "José"},     // decomposed: stored composed
		{"مُحَمَّد", "مُحَمَّد"},   // Arabic with vowel marks and shadda
		{"Ørsted\u200f", "Ørsted"}, // a trailing right-to-left mark is trimmed
		{"Mette 🌻", "Mette 🌻"},
		{"Ali\u200b", "Ali"},         // a stray zero-width space at the end is trimmed
		{"\ufeffAnna", "Anna"},       // as is a byte order mark from copy and paste
		{"\u2066Anna\u2069", "Anna"}, // and isolates around the name
		{"中村 さくら", "中村 さくら"},
	} {
		got, err := NormaliseName(good.in, MaxDisplayName, "displayName")
		if err != nil || got != good.want {
			t.Errorf("NormaliseName(%q) = %q, %v; want %q", good.in, got, err, good.want)
		}
	}
	for _, bad := range []struct{ in, code string }{
		{"", apperr.CodeRequired},
		{"   ", apperr.CodeRequired},
		{"\u200b\u200b", CodeInvalidName},
		{"\u202e", CodeInvalidName},
		{"Anna\u202egninrom", CodeInvalidName}, // right-to-left override inside
		{"\u2066\u2069", CodeInvalidName},      // isolates and nothing else
		{"\x00Anna", CodeInvalidName},
		{"Anna\nHansen", CodeInvalidName},
		{"\u3164", CodeInvalidName},       // Hangul filler: a letter that shows nothing
		{"An\u3164na", CodeInvalidName},   // ... also inside a name
		{"\ufeff", CodeInvalidName},       // byte order mark
		{"An\u200bna", CodeInvalidName},   // zero-width space inside
		{"\u0301\u0301", CodeInvalidName}, // marks without a letter
		{"Z" + strings.Repeat("\u0336", 8), CodeInvalidName},
		{"🌻", CodeInvalidName},                // no letter
		{"A\u200c\u200cB", CodeInvalidName},   // joiners in a row
		{"\ue000Anna", CodeInvalidName},       // private use
		{"Anna\u2028Hansen", CodeInvalidName}, // line separator
		{"\xff\xfe", CodeInvalidName},         // not UTF-8
		{strings.Repeat("a", 81), apperr.CodeTooLong},
	} {
		_, err := NormaliseName(bad.in, MaxDisplayName, "displayName")
		ues := apperr.UserErrors(err)
		if len(ues) != 1 || ues[0].Code != bad.code || ues[0].Field[0] != "displayName" {
			t.Errorf("NormaliseName(%q) = %v; want %s", bad.in, err, bad.code)
		}
	}
}

// FuzzNormaliseName checks that an accepted name is valid UTF-8, in NFC
// (normalising again changes nothing), within the limit, carries no
// control, bidi or other refused character and has a visible letter.
func FuzzNormaliseName(f *testing.F) {
	for _, s := range []string{"Anna", "محمد", "\u202eX", "\u3164", "Z\u0336\u0336", "a\u200cb", " \u200f ", "Şükrü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, err := NormaliseName(raw, MaxDisplayName)
		if err != nil {
			if name != "" {
				t.Fatalf("NormaliseName(%q) = %q with error %v", raw, name, err)
			}
			return
		}
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayName {
			t.Fatalf("NormaliseName(%q) = %q", raw, name)
		}
		if again, err := NormaliseName(name, MaxDisplayName); err != nil || again != name {
			t.Fatalf("NormaliseName(%q) = %q, then %q, %v: not stable", raw, name, again, err)
		}
		letter := false
		for _, r := range name {
			if refused(r) {
				t.Fatalf("NormaliseName(%q) = %q keeps %U", raw, name, r)
			}
			letter = letter || unicode.In(r, unicode.L, unicode.N)
		}
		if !letter {
			t.Fatalf("NormaliseName(%q) = %q has no letter", raw, name)
		}
	})
}
