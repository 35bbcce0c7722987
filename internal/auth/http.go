package auth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/user"
)

const (
	// msgSessionInvalid is the catalogue id of the text shown when a token
	// is refused. sessionInvalidDa stands in while the catalogue lacks it.
	msgSessionInvalid = "SESSION_INVALID"
	sessionInvalidDa  = "Log ind igen – din session er ikke gyldig."
)

// Middleware puts the caller named by the Authorization header in the
// request context. See Authenticator.Middleware.
func Middleware(v Verifier, users *user.Service, log *slog.Logger) func(http.Handler) http.Handler {
	return NewAuthenticator(v, users, log).Middleware
}

// Middleware puts the caller named by the Authorization header in the
// request context. Without the header the request goes on as an anonymous
// visitor. A header that cannot be trusted is answered 401 in the shape
// of a GraphQL error, so the app's one error path sends the person to
// sign in again rather than quietly showing them as signed out.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		switch {
		case errors.Is(err, ErrInvalidToken):
			a.log.InfoContext(r.Context(), "sign-in token refused", slog.String("path", r.URL.Path), slog.Any("error", err))
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, http.StatusUnauthorized, apperr.CodeUnauthenticated, sessionInvalidText(lang))
			return
		case errors.Is(err, user.ErrEmailNotVerified):
			a.log.InfoContext(r.Context(), "sign-in refused until the e-mail is verified", slog.String("path", r.URL.Path), slog.Any("error", err))
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, http.StatusForbidden, apperr.CodeEmailNotVerified, i18n.Text(lang, apperr.CodeEmailNotVerified, nil))
			return
		case err != nil:
			a.log.ErrorContext(r.Context(), "authenticate request", slog.String("path", r.URL.Path), slog.Any("error", err))
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, http.StatusInternalServerError, apperr.CodeInternal, i18n.Text(lang, apperr.CodeInternal, nil))
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func sessionInvalidText(lang string) string {
	// i18n.Text falls back to the id itself when no language has it.
	if msg := i18n.Text(lang, msgSessionInvalid, nil); msg != msgSessionInvalid {
		return msg
	}
	return sessionInvalidDa
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{
		Message:    message,
		Extensions: map[string]string{"code": code},
	}}})
}
