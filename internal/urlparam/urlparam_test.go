package urlparam

import (
	"encoding/base64"
	"testing"
)

func TestID(t *testing.T) {
	gid := base64.RawURLEncoding.EncodeToString([]byte("Organisation:12"))
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12", 12, true}, {gid, 12, true}, {"0", 0, false}, {"-3", 0, false}, {"abc", 0, false},
		{base64.RawURLEncoding.EncodeToString([]byte("Place:12")), 0, false},
	} {
		got, ok := ID(c.in, "Organisation")
		if got != c.want || ok != c.ok {
			t.Errorf("ID(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestTheme(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"natur", "natur", true}, {base64.RawURLEncoding.EncodeToString([]byte("Theme:mad")), "mad", true},
		{"Natur", "", false}, {"a b", "", false}, {"", "", false},
	} {
		got, ok := Theme(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Theme(%q) = %q, %v", c.in, got, ok)
		}
	}
}
