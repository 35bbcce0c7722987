// Package scalar holds the custom GraphQL scalars.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/tz"
)

// Codes of the user errors for a Time the client sent; the error
// presenter answers them as BAD_USER_INPUT in the caller's language.
const (
	CodeInvalidTime    = "INVALID_TIME"
	CodeTimeOutOfRange = "TIME_OUT_OF_RANGE"
)

// TimeExample is the format a Time is read in, shown in the error.
const TimeExample = "2026-07-06T10:00:00+02:00"

// MarshalTime writes t as RFC 3339 with the Europe/Copenhagen offset, which
// is how people in Ishøj read times.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.In(tz.Copenhagen).Format(time.RFC3339)))
	})
}

// UnmarshalTime reads an RFC 3339 time; an offset is required so that no
// time is ever guessed. What it refuses is the client's mistake: a user
// error saying what is expected, never an internal one.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.New(CodeInvalidTime).With("Example", TimeExample)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.New(CodeInvalidTime).With("Example", TimeExample)
	}
	// Outside these years MarshalTime cannot write the time back as the
	// same instant: Copenhagen kept local mean time (+00:50:20) before
	// 1894, and 9999-12-31T23:00Z is already the year 10000 there.
	if y := t.UTC().Year(); y < 1900 || y > 9998 {
		return time.Time{}, apperr.New(CodeTimeOutOfRange).With("Min", 1900).With("Max", 9998)
	}
	// Times are written to the second, so they are read to the second.
	return t.UTC().Truncate(time.Second), nil
}
