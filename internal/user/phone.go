package user

import (
	"strings"
	"unicode"
)

// NormalisePhone reads a phone number as people write it in Denmark and
// returns it in E.164 ("+4512345678"), the form Firebase gives for phone
// sign-in, so one number is stored one way however it was typed: spaces,
// dashes, dots and parentheses go; 00 is the international prefix as +
// is; a number without either is Danish and has eight digits, and so has
// one after +45; a number elsewhere has 8 to 15 digits with its country
// code. ok is false for anything else.
func NormalisePhone(raw string) (phone string, ok bool) {
	p := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '.' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, raw)
	international := false
	switch {
	case strings.HasPrefix(p, "+"):
		p, international = p[1:], true
	case strings.HasPrefix(p, "00"):
		p, international = p[2:], true
	}
	if p == "" || strings.ContainsFunc(p, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", false
	}
	switch {
	case !international && len(p) == 8:
		return "+45" + p, true
	case !international:
		return "", false
	case strings.HasPrefix(p, "45") && len(p) == 10:
		return "+" + p, true
	case strings.HasPrefix(p, "45"):
		return "", false
	case len(p) >= 8 && len(p) <= 15:
		return "+" + p, true
	}
	return "", false
}
