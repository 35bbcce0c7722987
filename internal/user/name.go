package user

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/i18n"
)

// CodeInvalidName refuses a name that shows nothing (only spaces,
// zero-width or control characters), that could reorder the text around
// it (bidi overrides), or that is made of combining marks piled up.
const CodeInvalidName = "INVALID_NAME"

// MaxDisplayName is the longest display name, in characters.
const MaxDisplayName = 80

// maxMarks is how many combining marks may follow one letter. Real names
// need at most three (Vietnamese "ễ", Arabic shadda with a vowel, Hebrew
// points); "Zalgo" text piles up dozens that spill over other lines.
const maxMarks = 4

// NormaliseName checks a name people will see beside stories, rosters
// and initiatives, and returns it trimmed and in NFC. Any script is fine
// (Danish, Arabic, Urdu, Turkish, Vietnamese, ...). Refused: control
// characters, line breaks, private-use characters, the bidi embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069: they make the
// text after the name run backwards), and invisible characters except
// the few real names need: zero-width (non-)joiner, as Persian and Urdu
// write with, the left-to-right, right-to-left and Arabic letter marks,
// and variation selectors (emoji). A name must contain a visible letter or
// digit; the Hangul fillers (U+3164 and kin) are letters that show
// nothing and are refused with the other default-ignorable characters.
func NormaliseName(raw string, max int, field ...string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", apperr.New(CodeInvalidName, field...)
	}
	// Invisible characters at either end do nothing for a name and often
	// come with copy and paste (a byte order mark, a direction mark).
	name := norm.NFC.String(strings.TrimFunc(raw, func(r rune) bool {
		return unicode.IsSpace(r) || invisible(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
	}))
	if name == "" {
		if raw == "" || strings.TrimSpace(raw) == "" {
			return "", apperr.New(apperr.CodeRequired, field...)
		}
		return "", apperr.New(CodeInvalidName, field...)
	}
	if utf8.RuneCountInString(name) > max {
		return "", apperr.New(apperr.CodeTooLong, field...).With("Max", max)
	}
	visible, marks, prevInvisible := false, 0, false
	for i, r := range name {
		switch {
		case refused(r):
			return "", apperr.New(CodeInvalidName, field...)
		case unicode.In(r, unicode.Mn, unicode.Me):
			marks++
			if i == 0 || marks > maxMarks {
				return "", apperr.New(CodeInvalidName, field...)
			}
			continue
		case invisible(r):
			// Joiners and marks go between visible characters, one at a time.
			if prevInvisible {
				return "", apperr.New(CodeInvalidName, field...)
			}
			prevInvisible, marks = true, 0
			continue
		}
		prevInvisible, marks = false, 0
		if unicode.In(r, unicode.L, unicode.N) {
			visible = true
		}
	}
	if !visible {
		return "", apperr.New(CodeInvalidName, field...)
	}
	return name, nil
}

// invisible reports the zero-width characters a name may carry.
func invisible(r rune) bool {
	switch {
	case r == '\u200c', r == '\u200d', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	case r >= '\ufe00' && r <= '\ufe0f', r >= 0xe0100 && r <= 0xe01ef:
		return true
	}
	return false
}

// refused reports characters no name may contain.
func refused(r rune) bool {
	switch {
	case invisible(r):
		return false
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true // bidi embeddings, overrides, isolates
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp):
		return true // controls, other format characters (ZWSP, BOM, tags, ...), private use, line breaks
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return true // letters and marks that show nothing: Hangul fillers, the grapheme joiner, ...
	case r == utf8.RuneError:
		return true
	}
	return false
}

// ShownName is name as a text shows it in language lang: the name, or
// a neutral stand-in ("En frivillig", "A volunteer") when the person has
// none (an account from before names were asked for, a deleted account,
// a token without a name). Every text that puts a person's name in a
// sentence or a list goes through it, so none reads " har meldt afbud".
func ShownName(lang, name string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return i18n.Text(lang, "person.unnamed", nil)
}
