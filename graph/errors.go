package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/requestid"
	"github.com/ishoj/voresishoj/internal/store"
)

// presentError is the one place errors become what a client sees. Known
// errors get a code and a message in the caller's language; anything else
// is logged with the request id and shown as a generic message, so no
// internal detail leaks.
func (r *Resolver) presentError(ctx context.Context, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		// gqlgen's own validation and parsing errors.
		return gqlErr
	}
	e := graphql.DefaultErrorPresenter(ctx, err)
	lang := i18n.Language(ctx)
	set := func(code string, msg string) *gqlerror.Error {
		e.Message = msg
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		e.Extensions["code"] = code
		return e
	}
	switch {
	case errors.Is(err, apperr.ErrUnauthenticated):
		return set(apperr.CodeUnauthenticated, i18n.Text(lang, apperr.CodeUnauthenticated, nil))
	case errors.Is(err, apperr.ErrForbidden):
		return set(apperr.CodeForbidden, i18n.Text(lang, apperr.CodeForbidden, nil))
	case errors.Is(err, store.ErrNotFound):
		return set(apperr.CodeNotFound, i18n.Text(lang, apperr.CodeNotFound, nil))
	}
	if ues := apperr.UserErrors(err); len(ues) > 0 {
		// A user error outside a payload (e.g. a bad id or cursor in a
		// query argument).
		e = set(apperr.CodeBadUserInput, i18n.Text(lang, ues[0].Code, ues[0].Params))
		e.Extensions["userErrorCode"] = ues[0].Code
		if len(ues[0].Field) > 0 {
			e.Extensions["field"] = ues[0].Field
		}
		if s := retryAfter(ues[0]); s != nil {
			e.Extensions["retryAfterSeconds"] = *s
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// The request timeout cut the answer off: not a fault to log.
		return set(apperr.CodeTimeout, i18n.Text(lang, apperr.CodeInternal, nil))
	}
	if errors.Is(err, context.Canceled) {
		return set(apperr.CodeInternal, i18n.Text(lang, apperr.CodeInternal, nil))
	}
	r.Log.ErrorContext(ctx, "resolver failed", slog.String("error", err.Error()),
		slog.String("path", e.Path.String()), slog.String("request_id", requestid.From(ctx)))
	return set(apperr.CodeInternal, i18n.Text(lang, apperr.CodeInternal, nil))
}

// recoverPanic turns a panic in a resolver into an internal error for the
// client and a stack trace in the log.
func (r *Resolver) recoverPanic(ctx context.Context, p any) error {
	r.Log.ErrorContext(ctx, "resolver panicked", slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())), slog.String("request_id", requestid.From(ctx)))
	return errors.New("internal error")
}

// userErrors turns the domain's user errors into the payload list, in the
// caller's language. Any other error is returned for the presenter.
func userErrors(ctx context.Context, err error) ([]model.UserError, error) {
	ues := apperr.UserErrors(err)
	if ues == nil {
		return nil, err
	}
	lang := i18n.Language(ctx)
	out := make([]model.UserError, len(ues))
	for i, ue := range ues {
		field := append([]string{"input"}, ue.Field...)
		out[i] = model.UserError{Code: ue.Code, ErrorCode: ue.Code, Message: i18n.Text(lang, ue.Code, ue.Params), Field: field,
			RetryAfterSeconds: retryAfter(ue)}
		noteUserError(ctx, ue.Code)
	}
	return out, nil
}

// retryAfter is the wait a spent limit names (ratelimit.Quota.Check).
func retryAfter(ue *apperr.UserError) *int {
	if s, ok := ue.Params["RetryAfterSeconds"].(int); ok {
		return &s
	}
	return nil
}
