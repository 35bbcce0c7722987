package store

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Searchable rows keep two columns of folded text: search_title (the
// title or name) and search_text (everything a search may match, title
// included). The package that writes a table fills them through
// SearchText; lists and the search across kinds match them through
// ParseSearch and the dialect's SearchMatch.
//
// Folding happens here, in Go, not in the database, so both databases
// compare the same letters: PostgreSQL's unaccent and SQLite's
// remove_diacritics disagree (SQLite keeps ø and æ), and unaccent is an
// extension a managed server may not offer.
//
// A row written before migration 00015 has a NULL search_title; its owner
// folds it again at start (RefreshSearch in each package).

// SearchText folds the parts of a row into its search text.
func SearchText(parts ...string) string {
	return Fold(strings.Join(parts, " "))
}

// Fold is the text a search compares: lower case, without diacritics
// (café = cafe, ş = s, Arabic vowel marks dropped), with the Danish and
// Norwegian letters spelled out as people type them without a Danish
// keyboard (ø = o, æ = ae, å = aa = a), and the Arabic letters that
// Arabic, Persian and Urdu keyboards type differently made one.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // the marks NFKD split off: accents, rings, harakat, hamza
		}
		r = unicode.ToLower(r)
		switch r {
		case 'ø':
			b.WriteByte('o')
		case 'æ':
			b.WriteString("ae")
		case 'œ':
			b.WriteString("oe")
		case 'ß':
			b.WriteString("ss")
		case 'þ':
			b.WriteString("th")
		case 'ı': // Turkish dotless i
			b.WriteByte('i')
		case 'ð', 'đ':
			b.WriteByte('d')
		case 'ł':
			b.WriteByte('l')
		case 'ـ': // tatweel, a stretch with no meaning
		case 'ي', 'ى': // Arabic yeh and alef maksura, as Urdu's and Persian's yeh
			b.WriteRune('ی')
		case 'ك': // Arabic kaf, as Urdu's and Persian's keheh
			b.WriteRune('ک')
		case 'ة': // teh marbuta, often typed as heh
			b.WriteRune('ه')
		default:
			if unicode.IsControl(r) {
				b.WriteByte(' ')
				continue
			}
			b.WriteRune(r)
		}
	}
	// "aa" is how å was written before 1948 and still is in names
	// ("Vejleaa"); å already became a above.
	return strings.ReplaceAll(b.String(), "aa", "a")
}

// Search is a query as typed, parsed into folded words. Every word must be
// found in a row, anywhere, also inside a longer word (Danish glues words
// together: "cafe" finds "Lektiecafé"), which makes a word typed halfway
// a prefix search while typing.
type Search struct {
	Words []string
}

// MaxSearchWords is the most words a query may have; the domain refuses
// more.
const MaxSearchWords = 10

// ParseSearch folds q and splits it into words: runs of letters and
// digits. Everything else — quotes, *, -, parentheses, operators of either
// database's own query language — only separates words, so no input
// reaches a search engine as syntax. NEAR, AND and OR are words like any
// other.
func ParseSearch(q string) Search {
	var s Search
	for _, w := range strings.FieldsFunc(Fold(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if !containsWord(s.Words, w) {
			s.Words = append(s.Words, w)
		}
	}
	return s
}

func containsWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// Empty reports whether the query has no word to look for (it was empty
// or only punctuation).
func (s Search) Empty() bool { return len(s.Words) == 0 }

// trigram is the shortest word a trigram index finds; shorter ones are
// matched by LIKE on the rows the longer ones found, or by a scan.
const trigram = 3

func (s Search) long() []string {
	var out []string
	for _, w := range s.Words {
		if len([]rune(w)) >= trigram {
			out = append(out, w)
		}
	}
	return out
}

func (s Search) short() []string {
	var out []string
	for _, w := range s.Words {
		if len([]rune(w)) < trigram {
			out = append(out, w)
		}
	}
	return out
}

// SearchTier is one way a search finds rows of a table: Join follows
// "FROM table alias", Where is ANDed into the conditions, with Args in
// order. Key is the row's id as the index that finds the rows orders them:
// "ORDER BY Key DESC LIMIT n" is read from that index and stops after n
// rows, however many match.
type SearchTier struct {
	Join  string
	Where string
	Args  []any
	Key   string
}

// SearchSQL is how a search over one table reads in the dialect. Title
// finds the rows whose title has every word, Text those whose text has
// every word (on PostgreSQL also another form of a Danish word). InTitle
// is the condition that every word is in the title, for the rows Text
// found. Score ranks rows found either way, higher first; it is worked
// out only for the rows a search reads, never for every match.
type SearchSQL struct {
	Title SearchTier
	Text  SearchTier
	// Stem, on PostgreSQL, finds the rows with another form of a Danish
	// word that Text did not find; nil on SQLite, which has no stemmer.
	Stem        *SearchTier
	InTitle     string
	InTitleArgs []any
	Score       string
	ScoreArgs   []any
}

// SearchMatch is the SQL that finds s in table (one whose rows have
// search_title and search_text, indexed by migration 00015), read as
// alias.
//
// SQLite: the FTS5 table <table>_search (trigram tokenizer) finds the
// words of three letters or more, <table>_title_search (00030) those in
// the title;
// shorter words are matched by LIKE on the rows those found. PostgreSQL:
// trigram GIN indexes find the words inside search_title (00029) and
// search_text, and the Danish
// stemmer finds them as forms of the same word ("børnene" finds "børn").
//
// The score is the same on both: a word found in the title counts most,
// a word found where a word begins (typed halfway) next, and of equal
// scores the shorter text, the closer match. Neither bm25 nor ts_rank: FTS5's
// bm25 counts every row each word is in on every query, so a common word
// would cost as many rows as it matches.
//
// s must not be Empty. table and alias are constants of the caller.
func (db *DB) SearchMatch(table, alias string, s Search) SearchSQL {
	var out SearchSQL
	likes := func(col string) (string, []any) {
		var conds []string
		var args []any
		for _, w := range s.Words {
			conds = append(conds, alias+`.`+col+` LIKE ? ESCAPE '\'`)
			args = append(args, LikePattern(w))
		}
		return strings.Join(conds, " AND "), args
	}
	out.InTitle, out.InTitleArgs = likes("search_title")

	var points []string
	for _, w := range s.Words {
		points = append(points,
			`CASE WHEN `+alias+`.search_title LIKE ? ESCAPE '\' THEN 4 ELSE 0 END`,
			`CASE WHEN ' ' || `+alias+`.search_text LIKE ? ESCAPE '\' THEN 2 ELSE 0 END`)
		out.ScoreArgs = append(out.ScoreArgs, LikePattern(w), wordStartPattern(w))
	}
	out.Score = `CAST((` + strings.Join(points, " + ") + `) * 10000 - CASE WHEN LENGTH(` + alias + `.search_text) > 9999 THEN 9999 ELSE LENGTH(` + alias + `.search_text) END AS REAL)`

	if db.Dialect == Postgres {
		text, textArgs := likes("search_text")
		query := strings.Join(s.Words, " ")
		// The title's own trigram index (migration 00029) finds them.
		out.Title = SearchTier{Where: out.InTitle, Args: out.InTitleArgs, Key: alias + `.id`}
		out.Text = SearchTier{Where: text, Args: textArgs, Key: alias + `.id`}
		// Its own tier, not an OR in Text: the planner cannot tell how
		// many rows a word's stem is in, and ordering by the primary key
		// it would read the whole table for a rare word. "+ 0" keeps it
		// to the GIN index; the stem tier is read only when the words
		// themselves found less than a page.
		out.Stem = &SearchTier{Where: `to_tsvector('danish', ` + alias + `.search_text) @@ plainto_tsquery('danish', ?) AND NOT (` + text + `)`,
			Args: append([]any{query}, textArgs...), Key: `(` + alias + `.id + 0)`}
		return out
	}

	shortLikes := func(col string) ([]string, []any) {
		var conds []string
		var args []any
		for _, w := range s.short() {
			conds = append(conds, alias+`.`+col+` LIKE ? ESCAPE '\'`)
			args = append(args, LikePattern(w))
		}
		return conds, args
	}
	long := s.long()
	if len(long) == 0 {
		tc, ta := shortLikes("search_title")
		xc, xa := shortLikes("search_text")
		out.Title = SearchTier{Where: strings.Join(tc, " AND "), Args: ta, Key: alias + `.id`}
		out.Text = SearchTier{Where: strings.Join(xc, " AND "), Args: xa, Key: alias + `.id`}
		return out
	}
	fts := table + "_search"
	join := `JOIN ` + fts + ` ON ` + fts + `.rowid = ` + alias + `.id`
	phrases := make([]string, len(long))
	for i, w := range long {
		// Words are letters and digits only (ParseSearch), so a phrase in
		// double quotes is always one literal string to FTS5.
		phrases[i] = `"` + w + `"`
	}
	tc, ta := shortLikes("search_title")
	xc, xa := shortLikes("search_text")
	// Titles have their own FTS5 table (migration 00030): 00015's, asked
	// for its title column, would walk every row whose text has the word.
	titles := table + "_title_search"
	out.Title = SearchTier{Join: `JOIN ` + titles + ` ON ` + titles + `.rowid = ` + alias + `.id`,
		Where: strings.Join(append([]string{titles + ` MATCH ?`}, tc...), " AND "),
		Args:  append([]any{strings.Join(phrases, " AND ")}, ta...), Key: titles + `.rowid`}
	out.Text = SearchTier{Join: join, Where: strings.Join(append([]string{fts + ` MATCH ?`}, xc...), " AND "),
		Args: append([]any{strings.Join(phrases, " AND ")}, xa...), Key: fts + `.rowid`}
	return out
}

// wordStartPattern matches w where a word of the text begins, in the text
// with a space put before it.
func wordStartPattern(w string) string {
	return "% " + strings.TrimPrefix(LikePattern(w), "%")
}

// SearchFilter is the condition that a row of table, read as alias, matches
// s, for lists that search among their own filters and keep their own
// order. s must not be Empty.
func (db *DB) SearchFilter(table, alias string, s Search) (string, []any) {
	sm := db.SearchMatch(table, alias, s)
	m := sm.Text
	if sm.Stem != nil {
		return `((` + m.Where + `) OR to_tsvector('danish', ` + alias + `.search_text) @@ plainto_tsquery('danish', ?))`,
			append(append([]any{}, m.Args...), strings.Join(s.Words, " "))
	}
	if m.Join == "" {
		return m.Where, m.Args
	}
	// The FTS table's rows are the table's ids; a subquery keeps the
	// list's own joins and order as they are.
	fts := table + "_search"
	phrases, rest := m.Args[0], m.Args[1:]
	cond := alias + `.id IN (SELECT rowid FROM ` + fts + ` WHERE ` + fts + ` MATCH ?)`
	for range rest {
		cond += ` AND ` + alias + `.search_text LIKE ? ESCAPE '\'`
	}
	return cond, append([]any{phrases}, rest...)
}

// SearchWhere is the condition of a list's search filter q on table, read
// as alias: "" when q is blank, which filters nothing, and a condition no
// row meets when q has no word (only punctuation), as a literal search for
// it would find nothing either.
func (db *DB) SearchWhere(table, alias, q string) (string, []any) {
	if strings.TrimSpace(q) == "" {
		return "", nil
	}
	s := ParseSearch(q)
	if s.Empty() {
		return "1 = 0", nil
	}
	return db.SearchFilter(table, alias, s)
}
