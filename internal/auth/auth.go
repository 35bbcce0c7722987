// Package auth turns the sign-in token a request carries into the caller
// of that request. The phone app signs people in with Firebase and sends
// the Firebase ID token as a bearer token, on HTTP in the Authorization
// header and on websockets in the connection_init payload. An embedded
// installation without a Firebase project uses Local, which issues and
// checks tokens of its own.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/user"
)

// ErrInvalidToken means the token cannot be trusted: malformed, expired,
// meant for another project, badly signed or revoked, or the account
// behind it is gone. The error returned wraps it together with the cause.
// The app answers it by signing the person in again.
var ErrInvalidToken = errors.New("invalid sign-in token")

// Verifier checks sign-in tokens and says whom they identify.
type Verifier interface {
	// Verify checks the token on its own, without asking the issuer
	// whether it has been revoked since, so it is cheap enough for every
	// request.
	Verify(ctx context.Context, token string) (user.Identity, error)
	// VerifyAndCheckRevoked also asks the issuer whether the token was
	// revoked or the account disabled; meant for sensitive acts.
	VerifyAndCheckRevoked(ctx context.Context, token string) (user.Identity, error)
}

// SessionRevoker ends every session of a sign-in account, so that it can
// get no new tokens; Firebase and Local implement it.
type SessionRevoker interface {
	RevokeSessions(ctx context.Context, uid string) error
}

// Authenticator resolves the caller of a request from its token. HTTP
// requests and websocket connections share it, so both follow the same
// rules: no token is an anonymous visitor, a bad token is an error.
type Authenticator struct {
	verifier Verifier
	users    *user.Service
	log      *slog.Logger
}

// NewAuthenticator returns an Authenticator that checks tokens with v and
// finds or creates the people behind them in users.
func NewAuthenticator(v Verifier, users *user.Service, log *slog.Logger) *Authenticator {
	if log == nil {
		log = slog.Default()
	}
	return &Authenticator{verifier: v, users: users, log: log}
}

// Authenticate returns ctx carrying the caller named by an Authorization
// value ("Bearer <token>"). An empty value leaves ctx as it is, which
// makes the caller an anonymous visitor. Errors wrapping ErrInvalidToken
// mean the person must sign in again, user.ErrEmailNotVerified that they
// must verify their e-mail first; any other error is our fault.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (context.Context, error) {
	authorization = strings.TrimSpace(authorization)
	if authorization == "" {
		return ctx, nil
	}
	token, err := bearerToken(authorization)
	if err != nil {
		return ctx, err
	}
	id, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return ctx, err
	}
	caller, err := a.users.Resolve(ctx, id)
	if err != nil {
		if isDeletedAccount(err) {
			return ctx, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
		return ctx, fmt.Errorf("resolve caller %s: %w", id.UID, err)
	}
	ctx = user.WithCaller(ctx, caller)
	return context.WithValue(ctx, sessionKey{}, session{verifier: a.verifier, token: token}), nil
}

// FromInitPayload does what Authenticate does for a websocket, from the
// connection_init payload: {"authorization": "Bearer <token>"}.
func (a *Authenticator) FromInitPayload(ctx context.Context, payload map[string]any) (context.Context, error) {
	raw, ok := payload["authorization"]
	if !ok {
		raw, ok = payload["Authorization"]
	}
	if !ok || raw == nil {
		return ctx, nil
	}
	s, ok := raw.(string)
	if !ok {
		return ctx, fmt.Errorf("%w: authorization in connection_init is a %T, not a string", ErrInvalidToken, raw)
	}
	return a.Authenticate(ctx, s)
}

func bearerToken(authorization string) (string, error) {
	scheme, token, ok := strings.Cut(authorization, " ")
	// The scheme is case-insensitive (RFC 6750 via RFC 9110).
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: authorization is not a bearer token", ErrInvalidToken)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalidToken)
	}
	return token, nil
}

// isDeletedAccount recognises user.Service.Resolve refusing a token whose
// account was deleted.
func isDeletedAccount(err error) bool {
	return errors.Is(err, user.ErrAccountDeleted)
}

type sessionKey struct{}

// session is the token the request was authenticated with, kept so that
// sensitive acts can ask the issuer whether it is still good.
type session struct {
	verifier Verifier
	token    string
}

// CheckRevoked makes sure the token of the request in ctx has not been
// revoked nor its account disabled since it was issued. Sensitive
// mutations (deleting an account, granting rights, town-wide
// announcements) call it first; it costs a round trip to Firebase.
// Visitors without a token get apperr.ErrUnauthenticated, as do revoked
// tokens.
func CheckRevoked(ctx context.Context) error {
	s, ok := ctx.Value(sessionKey{}).(session)
	if !ok {
		return apperr.ErrUnauthenticated
	}
	_, err := s.verifier.VerifyAndCheckRevoked(ctx, s.token)
	if errors.Is(err, ErrInvalidToken) {
		return fmt.Errorf("%w: %w", apperr.ErrUnauthenticated, err)
	}
	if err != nil {
		return fmt.Errorf("check token revocation: %w", err)
	}
	return nil
}
