// Package apperr holds the errors the domain returns that a person can act
// on: a user error carries a stable code (shown to the app and translated
// into the person's language at the edge), the field it is about and
// optional values for the message. Anything else is an internal fault:
// logged in full and shown to clients only as a generic message.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrUnauthenticated means the request needs a signed-in person.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden means the caller may not do this.
	ErrForbidden = errors.New("forbidden")
)

// Codes shared by several domains. Domain packages declare their own codes
// beside the rules that raise them.
const (
	CodeInvalid                 = "INVALID_INPUT"
	CodeRequired                = "REQUIRED"
	CodeTooLong                 = "TOO_LONG"
	CodeNotFound                = "NOT_FOUND"
	CodeVerifiedAccountRequired = "VERIFIED_ACCOUNT_REQUIRED"
)

// UserError is a problem the person can fix or must know about.
type UserError struct {
	Code  string
	Field []string
	// Params fill the message template, e.g. {"Max": 200}.
	Params map[string]any
}

func (e *UserError) Error() string {
	if len(e.Field) > 0 {
		return fmt.Sprintf("%s (%s)", e.Code, strings.Join(e.Field, "."))
	}
	return e.Code
}

// New returns a user error with a code about the given field path.
func New(code string, field ...string) *UserError {
	return &UserError{Code: code, Field: field}
}

// With adds a message parameter and returns the error for chaining.
func (e *UserError) With(key string, value any) *UserError {
	if e.Params == nil {
		e.Params = map[string]any{}
	}
	e.Params[key] = value
	return e
}

// List collects several user errors, so a form shows all its problems at once.
type List []*UserError

func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Add appends an error.
func (l *List) Add(code string, field ...string) *UserError {
	e := New(code, field...)
	*l = append(*l, e)
	return e
}

// Err returns nil when the list is empty, so `return l.Err()` reads well.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// UserErrors extracts the user errors in err, or nil when err is a fault.
func UserErrors(err error) []*UserError {
	var list List
	if errors.As(err, &list) {
		return list
	}
	var one *UserError
	if errors.As(err, &one) {
		return []*UserError{one}
	}
	return nil
}
