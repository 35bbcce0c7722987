// Package scalar holds the custom GraphQL scalars.
package scalar

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ishoj/voresishoj/internal/tz"
)

// MarshalTime writes t as RFC 3339 with the Europe/Copenhagen offset, which
// is how people in Ishøj read times.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.In(tz.Copenhagen).Format(time.RFC3339)))
	})
}

// UnmarshalTime reads an RFC 3339 time; an offset is required so that no
// time is ever guessed.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errors.New("time must be an RFC 3339 string with an offset, e.g. 2026-07-06T10:00:00+02:00")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("time must be RFC 3339 with an offset, e.g. 2026-07-06T10:00:00+02:00")
	}
	// Outside these years MarshalTime cannot write the time back as the
	// same instant: Copenhagen kept local mean time (+00:50:20) before
	// 1894, and 9999-12-31T23:00Z is already the year 10000 there.
	if y := t.UTC().Year(); y < 1900 || y > 9998 {
		return time.Time{}, errors.New("time must be between the years 1900 and 9998")
	}
	// Times are written to the second, so they are read to the second.
	return t.UTC().Truncate(time.Second), nil
}
