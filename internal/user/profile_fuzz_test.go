package user

import (
	"strings"
	"testing"
)

// FuzzNormalisePhone checks that whatever a person types, a phone number
// that is accepted is stored as digits with at most a leading +, and that
// the number is long enough to be one.
func FuzzNormalisePhone(f *testing.F) {
	for _, s := range []string{
		"12 34 56 78", "+45 12345678", "+4512345678", "  12345678  ", "1234567",
		"+", "+ + 12345678", "12-34-56-78", "１２３４５６７８", "12345678\n", "\u00a012345678\u2003",
		"+       1", "1       2", strings.Repeat("9", 21),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := NormalisePhone(raw, "phone")
		if err != nil {
			if p != "" {
				t.Fatalf("NormalisePhone(%q) = %q with error %v", raw, p, err)
			}
			return
		}
		digits := strings.TrimPrefix(p, "+")
		for _, r := range digits {
			if r < '0' || r > '9' {
				t.Fatalf("NormalisePhone(%q) = %q: not only digits and a leading +", raw, p)
			}
		}
		if len(digits) < 8 {
			t.Fatalf("NormalisePhone(%q) = %q: fewer than 8 digits", raw, p)
		}
		again, err := NormalisePhone(p, "phone")
		if err != nil || again != p {
			t.Fatalf("NormalisePhone(%q) = %q, then %q, %v: not idempotent", raw, p, again, err)
		}
	})
}
