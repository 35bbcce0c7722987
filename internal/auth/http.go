package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

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
// visitor. A header that cannot be trusted is refused with a GraphQL
// error coded UNAUTHENTICATED, so the app's one error path sends the
// person to sign in again rather than quietly showing them as signed out.
// How it is refused follows the GraphQL over HTTP spec (writeError).
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		switch {
		case errors.Is(err, ErrInvalidToken):
			a.log.InfoContext(r.Context(), "sign-in token refused", slog.String("path", r.URL.Path), slog.Any("error", err))
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, r, http.StatusUnauthorized, apperr.CodeUnauthenticated, sessionInvalidText(lang))
			return
		case errors.Is(err, user.ErrEmailNotVerified):
			a.log.InfoContext(r.Context(), "sign-in refused until the e-mail is verified", slog.String("path", r.URL.Path), slog.Any("error", err))
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, r, http.StatusForbidden, apperr.CodeEmailNotVerified, i18n.Text(lang, apperr.CodeEmailNotVerified, nil))
			return
		case err != nil:
			a.log.ErrorContext(r.Context(), "authenticate request", slog.String("path", r.URL.Path), slog.Any("error", err))
			lang := i18n.Match(r.Header.Get("Accept-Language"))
			writeError(w, r, http.StatusInternalServerError, apperr.CodeInternal, i18n.Text(lang, apperr.CodeInternal, nil))
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

// The media types a refusal can be written in.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
	mediaEventStream     = "text/event-stream"
)

// responseMedia picks the media type of the answer from Accept as gqlgen
// picks it for the answers it writes (the first one listed that it
// knows), so a refusal comes in the shape the client's next answer would.
func responseMedia(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case mediaGraphQLResponse, mediaEventStream:
			return mediaType
		case mediaJSON, "application/*", "*/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// writeError answers a request refused before GraphQL saw it with a
// well-formed GraphQL response, {"errors":[{message, extensions:{code}}]},
// in the media type the client reads:
//
//   - application/graphql-response+json (Apollo Client 4's and urql's
//     default): the status says what happened (401, 500); a client may
//     trust the body of any status in this media type, and Apollo reads it
//     as CombinedGraphQLErrors with the code.
//   - application/json (also for */* and no Accept): 200 for a refused
//     token, as the spec asks of every response to a well-formed request
//     in this media type, because a client cannot tell a 4xx body from an
//     intermediary's; Apollo only reads a 2xx body as GraphQL errors. A
//     fault on our side keeps its 500.
//   - text/event-stream alone (urql's subscriptions, graphql-sse): one
//     "next" event with the errors and "complete", as gqlgen's SSE
//     transport answers a request it cannot execute.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{
		Message:    message,
		Extensions: map[string]string{"code": code},
	}}})
	w.Header().Set("Cache-Control", "no-store")
	switch responseMedia(r.Header.Get("Accept")) {
	case mediaGraphQLResponse:
		w.Header().Set("Content-Type", mediaGraphQLResponse)
		w.WriteHeader(status)
		_, _ = w.Write(append(body, '\n'))
	case mediaEventStream:
		w.Header().Set("Content-Type", mediaEventStream)
		w.WriteHeader(http.StatusOK)
		_, _ = fmt.Fprintf(w, "event: next\ndata: %s\n\nevent: complete\n\n", body)
	default:
		if status < http.StatusInternalServerError {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", mediaJSON)
		w.WriteHeader(status)
		_, _ = w.Write(append(body, '\n'))
	}
}
