package i18n

import (
	"unicode"
)

// The isolates of Unicode's bidirectional algorithm (UAX #9). Text between
// FSI and PDI takes its direction from its own first strong letter and
// does not reorder the sentence around it: an Arabic name in a Danish
// sentence, or a Danish place in an Urdu one, then shows in the right
// order and leaves the punctuation after it where it belongs.
const (
	FSI = "\u2068" // first strong isolate
	PDI = "\u2069" // pop directional isolate
)

// rtl are the languages written right to left.
var rtl = map[string]bool{"ar": true, "ur": true, "fa": true, "he": true}

// RTL reports whether lang is written right to left.
func RTL(lang string) bool { return rtl[base(lang)] }

func base(lang string) string {
	for i, r := range lang {
		if r == '-' || r == '_' {
			return lang[:i]
		}
	}
	return lang
}

// Isolate wraps s in FSI … PDI.
func Isolate(s string) string {
	if s == "" {
		return s
	}
	return FSI + s + PDI
}

// isolateIn isolates s where it may need it in a sentence of lang: always
// in a right-to-left sentence, and in a left-to-right one when s holds a
// right-to-left letter. Plain Latin text in a Danish or English sentence
// is left as it is: it cannot be reordered, and clients comparing texts
// keep working.
//
// Text without letters (a number as a string, "10" of "10:00") is never
// isolated: digits keep their order by themselves, and isolating the two
// halves of a time would let a right-to-left sentence swap them.
func isolateIn(lang, s string) string {
	if !hasLetter(s) {
		return s
	}
	if RTL(lang) || hasRTL(s) {
		return Isolate(s)
	}
	return s
}

func hasRTL(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko) {
			return true
		}
	}
	return false
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
