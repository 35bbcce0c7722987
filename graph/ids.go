package graph

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/gid"
)

// globalID and parseGlobalID are internal/gid's codec under the names the
// resolvers use.
func globalID(typ string, id int64) string { return gid.Encode(typ, id) }

func parseGlobalID(s string) (string, int64, bool) { return gid.Decode(s) }

// idOf decodes a global ID of the expected type. A malformed id or one of
// another type is the person's mistake, reported on field.
func idOf(typ, gid string, field ...string) (int64, error) {
	t, id, ok := parseGlobalID(gid)
	if !ok || t != typ {
		return 0, apperr.New("INVALID_ID", field...)
	}
	return id, nil
}

// optionalID decodes an optional global ID.
func optionalID(typ string, gid *string, field ...string) (*int64, error) {
	if gid == nil {
		return nil, nil
	}
	id, err := idOf(typ, *gid, field...)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// cursor is the opaque position in a list: a time or a string, then an id.
type cursor struct {
	D  *int       `json:"d,omitempty"`
	T  *time.Time `json:"t,omitempty"`
	S  *string    `json:"s,omitempty"`
	ID int64      `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s *string) (*cursor, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	bad := apperr.New("INVALID_CURSOR", "after")
	// A cursor may carry a name of up to 120 characters, which JSON can
	// escape to six bytes each and base64 grows by a third: about 1,100.
	if len(*s) > 2000 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID <= 0 {
		return nil, bad
	}
	return &c, nil
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageSize validates `first`.
func pageSize(first *int) (int, error) {
	if first == nil {
		return defaultPageSize, nil
	}
	if *first < 1 || *first > maxPageSize {
		return 0, apperr.New("INVALID_PAGE_SIZE", "first").With("Max", maxPageSize)
	}
	return *first, nil
}

// pageArgs reads `first` and `after`.
func pageArgs(first *int, after *string) (int, *cursor, error) {
	limit, err := pageSize(first)
	if err != nil {
		return 0, nil, err
	}
	c, err := decodeCursor(after)
	return limit, c, err
}

// cursorTime is the time of a keyset cursor; a cursor without one was
// made for another list.
func cursorTime(c *cursor) (time.Time, error) {
	if c.T == nil {
		return time.Time{}, apperr.New("INVALID_CURSOR", "after")
	}
	return *c.T, nil
}

// cursorDistance is the distance of a keyset cursor of a list ordered
// by distance; a cursor of the other order is refused, so changing the
// order starts a new list.
func cursorDistance(c *cursor, byDistance bool) (int, error) {
	if byDistance != (c.D != nil) {
		return 0, apperr.New("INVALID_CURSOR", "after")
	}
	if c.D == nil {
		return 0, nil
	}
	return *c.D, nil
}

// cursorName is the name of a keyset cursor.
func cursorName(c *cursor) (string, error) {
	if c.S == nil {
		return "", apperr.New("INVALID_CURSOR", "after")
	}
	return *c.S, nil
}

// connection turns rows fetched with limit+1 into at most limit edges and
// the page info: the extra row only says there is a next page.
func connection[T, E any](rows []T, limit int, cursorOf func(*T) cursor, edge func(cur string, node *T) E) ([]E, *model.PageInfo) {
	info := &model.PageInfo{HasNextPage: len(rows) > limit}
	if len(rows) > limit {
		rows = rows[:limit]
	}
	edges := make([]E, 0, len(rows))
	for i := range rows {
		cur := encodeCursor(cursorOf(&rows[i]))
		edges = append(edges, edge(cur, &rows[i]))
		if i == 0 {
			info.StartCursor = &cur
		}
		info.EndCursor = &cur
	}
	return edges, info
}

// pageOf pages a list the domain returned whole, sorted by key (ascending,
// or descending when desc): the first limit+1 rows after the cursor, for
// connection. The cursor holds the sort key, not a position, so a page
// starts in the right place even when the row it was made from has left
// the list (a cancelled claim). Lists a person holds are short enough to
// read whole; the page keeps the answer small.
func pageOf[T any](rows []T, limit int, after *cursor, key func(*T) cursor, desc bool) ([]T, error) {
	start := 0
	if after != nil {
		if _, err := cursorTime(after); err != nil {
			return nil, err
		}
		start = len(rows)
		for i := range rows {
			if keyAfter(key(&rows[i]), *after, desc) {
				start = i
				break
			}
		}
	}
	return rows[start:min(len(rows), start+limit+1)], nil
}

// keyAfter reports whether key k comes after cursor c in a list sorted
// by time, then id.
func keyAfter(k, c cursor, desc bool) bool {
	order := k.T.Compare(*c.T)
	if order == 0 {
		order = cmp.Compare(k.ID, c.ID)
	}
	if desc {
		return order < 0
	}
	return order > 0
}

// timeKey is a cursor of a time and an id.
func timeKey(t time.Time, id int64) cursor { return cursor{T: &t, ID: id} }
