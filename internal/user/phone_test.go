package user

import (
	"strings"
	"testing"
)

// One rule for every phone number a person types: Danish numbers come out
// as +45 and eight digits however they were written.
func TestNormalisePhone(t *testing.T) {
	for raw, want := range map[string]string{
		"12345678":                    "+4512345678",
		"12 34 56 78":                 "+4512345678",
		"1234 5678":                   "+4512345678",
		"12-34-56-78":                 "+4512345678",
		"12.34.56.78":                 "+4512345678",
		"  12345678  ":                "+4512345678",
		"\u00a012345678\u2003":        "+4512345678",
		"+4512345678":                 "+4512345678",
		"+45 12 34 56 78":             "+4512345678",
		"+45 1234 5678":               "+4512345678",
		"(+45) 12345678":              "+4512345678",
		"004512345678":                "+4512345678",
		"0045 12 34 56 78":            "+4512345678",
		"+46 70 123 45 67":            "+46701234567", // Sweden
		"0049 30 1234567":             "+49301234567", // Germany
		"+299 123456":                 "+299123456",   // Greenland
		"":                            "",
		"   ":                         "",
		"1234567":                     "", // seven digits
		"123456789":                   "", // nine digits without a country code
		"+45 1234567":                 "", // +45 takes eight digits
		"+45 123456789":               "",
		"0045 1234 567":               "",
		"+":                           "",
		"+ + 12345678":                "",
		"12345678x":                   "",
		"１２３４５６７８":                    "", // fullwidth digits
		"+       1":                   "",
		"1       2":                   "",
		"+1234567":                    "",
		"+" + strings.Repeat("9", 16): "",
	} {
		got, ok := NormalisePhone(raw)
		if got != want || ok != (want != "") {
			t.Errorf("NormalisePhone(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

// FuzzNormalisePhone checks that whatever a person types, a phone number
// that is accepted is stored in E.164: a + and 8 to 15 digits, eight after
// +45, and that normalising it again changes nothing.
func FuzzNormalisePhone(f *testing.F) {
	for _, s := range []string{
		"12 34 56 78", "+45 12345678", "+4512345678", "  12345678  ", "1234567", "0045 12 34 56 78",
		"+", "+ + 12345678", "12-34-56-78", "１２３４５６７８", "12345678\n", "\u00a012345678\u2003",
		"+       1", "1       2", strings.Repeat("9", 21),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, ok := NormalisePhone(raw)
		if !ok {
			if p != "" {
				t.Fatalf("NormalisePhone(%q) = %q, refused", raw, p)
			}
			return
		}
		digits, plus := strings.CutPrefix(p, "+")
		if !plus {
			t.Fatalf("NormalisePhone(%q) = %q: no leading +", raw, p)
		}
		for _, r := range digits {
			if r < '0' || r > '9' {
				t.Fatalf("NormalisePhone(%q) = %q: not only digits after the +", raw, p)
			}
		}
		if len(digits) < 8 || len(digits) > 15 || strings.HasPrefix(digits, "45") && len(digits) != 10 {
			t.Fatalf("NormalisePhone(%q) = %q: not a phone number's length", raw, p)
		}
		if again, ok := NormalisePhone(p); !ok || again != p {
			t.Fatalf("NormalisePhone(%q) = %q, then %q, %v: not idempotent", raw, p, again, ok)
		}
	})
}
