package scalar

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
)

func marshal(t *testing.T, v time.Time) string {
	t.Helper()
	var b bytes.Buffer
	MarshalTime(v).MarshalGQL(&b)
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("MarshalTime(%v) wrote %s, not a quoted string: %v", v, b.String(), err)
	}
	return s
}

func TestTime(t *testing.T) {
	got, err := UnmarshalTime("2026-07-06T10:00:00+02:00")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 7, 6, 8, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("UnmarshalTime = %v, want %v in UTC", got, want)
	}
	// Winter time: Copenhagen is UTC+1.
	if s := marshal(t, time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)); s != "2026-01-06T10:00:00+01:00" {
		t.Fatalf("MarshalTime = %s", s)
	}
	// What is refused is a user error with a code, not an internal one.
	for bad, code := range map[any]string{"2026-07-06T10:00:00": CodeInvalidTime, "2026-07-06": CodeInvalidTime, "": CodeInvalidTime,
		1751796000: CodeInvalidTime, nil: CodeInvalidTime, true: CodeInvalidTime,
		"0001-01-01T00:00:00Z": CodeTimeOutOfRange, "9999-12-31T23:30:00Z": CodeTimeOutOfRange} {
		_, err := UnmarshalTime(bad)
		if ues := apperr.UserErrors(err); len(ues) != 1 || ues[0].Code != code {
			t.Errorf("UnmarshalTime(%#v) = %v, want the user error %s", bad, err, code)
		}
	}
}

// FuzzTime checks that every time the API accepts is written back as the
// same instant, so a client that sends a time it read gets what it meant.
func FuzzTime(f *testing.F) {
	for _, s := range []string{
		"2026-07-06T10:00:00+02:00", "2026-10-25T02:30:00+01:00", "2026-03-29T02:30:00Z",
		"2026-07-06T10:00:00.123456789-07:00", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59+23:59", "2026-02-30T10:00:00Z", "2026-07-06 10:00:00+02:00", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := UnmarshalTime(s)
		if err != nil {
			return
		}
		if v.Location() != time.UTC {
			t.Fatalf("UnmarshalTime(%q) = %v, not in UTC", s, v)
		}
		out := marshal(t, v)
		back, err := UnmarshalTime(out)
		if err != nil {
			t.Fatalf("UnmarshalTime(%q) = %v, written as %q, which is refused: %v", s, v, out, err)
		}
		if !back.Equal(v) {
			t.Fatalf("UnmarshalTime(%q) = %v, written as %q, read back as %v", s, v, out, back)
		}
	})
}
