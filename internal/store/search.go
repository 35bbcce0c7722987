package store

import "strings"

// Searchable rows keep a search_text column: the text a search may match,
// lower-cased, so that one LIKE finds it on both databases alike
// (PostgreSQL's LIKE is case-sensitive and SQLite's folds only ASCII
// letters, so neither would let "Ø" find "ø"). The package that writes a table fills the column through
// SearchText with the fields people search by; lists match it with
// SearchPattern.

// SearchText is the search_text of a row made of parts.
func SearchText(parts ...string) string {
	return strings.ToLower(strings.Join(parts, " "))
}

// SearchPattern is the LIKE pattern (with ESCAPE '\') that finds q as
// typed anywhere in a search_text.
func SearchPattern(q string) string {
	return LikePattern(strings.ToLower(q))
}
