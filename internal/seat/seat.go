// Package seat is what volunteer slots (internal/volunteer) and guest
// participation (internal/participation) share about taking places that
// run out: the idempotency key a phone sends with each tap, the answer
// remembered under it, and who on a waitlist takes places that free up.
// It holds no SQL: each owner keeps its rows and its lock, and asks this
// package the questions both must answer alike.
package seat

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// CodeKeyReused answers a key already used for something else.
const CodeKeyReused = "IDEMPOTENCY_KEY_REUSED"

// MaxKey is the longest idempotency key, in characters.
const MaxKey = 100

// Key checks the idempotency key of one tap (field idempotencyKey): the
// app must send one, of at most MaxKey characters.
func Key(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	switch n := utf8.RuneCountInString(key); {
	case n == 0:
		return "", apperr.New(apperr.CodeRequired, "idempotencyKey")
	case n > MaxKey:
		return "", apperr.New(apperr.CodeTooLong, "idempotencyKey").With("Max", MaxKey)
	}
	return key, nil
}

// Remembered is what was stored under a key the person used before.
type Remembered struct {
	// SameTarget says the earlier call was for what this one asks for
	// (the same slot, the same occurrence).
	SameTarget bool
	// ResultID is what the earlier call made (a claim, a participation),
	// or nil when it was refused with ErrorCode.
	ResultID  *int64
	ErrorCode *string
}

// Answer is the earlier call's answer: the id of what it made, or the
// same user error (about field) it got. A key used for another target is
// IDEMPOTENCY_KEY_REUSED.
func (r Remembered) Answer(field string) (int64, error) {
	switch {
	case !r.SameTarget:
		return 0, apperr.New(CodeKeyReused, "idempotencyKey")
	case r.ErrorCode != nil:
		return 0, apperr.New(*r.ErrorCode, field)
	case r.ResultID == nil:
		return 0, fmt.Errorf("idempotency key with neither result nor error")
	}
	return *r.ResultID, nil
}

// Refusal is the code of err when it is one of the rules a retry with the
// same key must get again (replayable), and "" otherwise: an internal
// error or a passing limit is judged afresh on the retry.
func Refusal(err error, replayable map[string]bool) string {
	if ues := apperr.UserErrors(err); len(ues) > 0 && replayable[ues[0].Code] {
		return ues[0].Code
	}
	return ""
}

// Waiting is one entry of a waitlist, in queue order: a person (Size 1)
// or a party.
type Waiting struct {
	ID     int64
	UserID int64
	Size   int
}

// Fill decides who of queue takes free places, in queue order. Each entry
// whose size fits the places still free is asked admit; one admit turns
// down (a volunteer now busy at that time) or that does not fit (a party
// of 3 when one place is free) is passed over and keeps its position, and
// the next is asked. An entry never takes part of its size: a family is
// not split. Passing over, rather than waiting for the head of the queue,
// keeps places from standing empty while someone behind could use them;
// the one passed over is first again when enough places free up.
func Fill(free int, queue []Waiting, admit func(Waiting) (bool, error)) ([]Waiting, error) {
	var taken []Waiting
	for _, w := range queue {
		if free <= 0 {
			break
		}
		if w.Size > free {
			continue
		}
		ok, err := admit(w)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		free -= w.Size
		taken = append(taken, w)
	}
	return taken, nil
}
