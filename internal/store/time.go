package store

import (
	"fmt"
	"time"
)

// Time scans a timestamp from either driver. SQLite reports a column's type
// only for plain columns, so an expression such as MIN(starts_at) arrives
// as text; PostgreSQL always sends a time.
type Time struct{ time.Time }

var timeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		t.Time = x.UTC()
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	case nil:
		t.Time = time.Time{}
		return nil
	}
	return fmt.Errorf("store.Time: cannot scan %T", v)
}

func (t *Time) parse(s string) error {
	for _, f := range timeFormats {
		if p, err := time.Parse(f, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("store.Time: unrecognised timestamp %q", s)
}
