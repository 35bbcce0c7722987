package seat

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
)

func TestFill(t *testing.T) {
	q := []Waiting{{ID: 1, Size: 3}, {ID: 2, Size: 1}, {ID: 3, Size: 2}, {ID: 4, Size: 1}}
	ids := func(ws []Waiting) []int64 {
		var out []int64
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	all := func(Waiting) (bool, error) { return true, nil }
	cases := []struct {
		free int
		want []int64
	}{
		{0, nil},
		{1, []int64{2}},    // the party of 3 is passed over, not split
		{2, []int64{2, 4}}, // 2 fits first; then 3 (2) no longer fits, 4 does
		{3, []int64{1}},    // the head fits and takes them all
		{4, []int64{1, 2}}, // in queue order
		{7, []int64{1, 2, 3, 4}},
	}
	for _, c := range cases {
		got, err := Fill(c.free, q, all)
		if err != nil || !slices.Equal(ids(got), c.want) {
			t.Errorf("Fill(%d) = %v, %v; want %v", c.free, ids(got), err, c.want)
		}
	}
	// One admit turns down keeps its place and frees nothing.
	got, _ := Fill(1, q, func(w Waiting) (bool, error) { return w.ID != 2, nil })
	if !slices.Equal(ids(got), []int64{4}) {
		t.Errorf("with 2 turned down: %v", ids(got))
	}
	boom := errors.New("boom")
	if _, err := Fill(5, q, func(Waiting) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("admit's error: %v", err)
	}
}

func TestKeyAndAnswer(t *testing.T) {
	if k, err := Key("  tap-1 "); err != nil || k != "tap-1" {
		t.Errorf("Key = %q, %v", k, err)
	}
	for _, bad := range []string{" ", strings.Repeat("ø", MaxKey+1)} {
		if _, err := Key(bad); apperr.UserErrors(err) == nil {
			t.Errorf("Key(%d chars) = %v", len(bad), err)
		}
	}
	id, code := int64(7), "SLOT_IN_PAST"
	if got, err := (Remembered{SameTarget: true, ResultID: &id}).Answer("slotId"); err != nil || got != 7 {
		t.Errorf("result: %d, %v", got, err)
	}
	_, err := Remembered{SameTarget: true, ErrorCode: &code}.Answer("slotId")
	if ues := apperr.UserErrors(err); len(ues) != 1 || ues[0].Code != code || ues[0].Field[0] != "slotId" {
		t.Errorf("refusal: %v", err)
	}
	_, err = Remembered{SameTarget: false, ResultID: &id}.Answer("slotId")
	if ues := apperr.UserErrors(err); len(ues) != 1 || ues[0].Code != CodeKeyReused {
		t.Errorf("other target: %v", err)
	}
	if _, err := (Remembered{SameTarget: true}).Answer("slotId"); err == nil || apperr.UserErrors(err) != nil {
		t.Errorf("neither: %v", err)
	}
	replayable := map[string]bool{code: true}
	if Refusal(apperr.New(code, "x"), replayable) != code || Refusal(apperr.New("TOO_MANY_CLAIMS"), replayable) != "" || Refusal(boomErr(), replayable) != "" {
		t.Error("Refusal")
	}
}

func boomErr() error { return errors.New("database down") }
