package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"

	"github.com/ishoj/voresishoj/internal/user"
)

// emulatorHostEnv is read by the Firebase Admin SDK itself: when set, the
// SDK sends its calls to the Auth emulator and accepts unsigned tokens.
const emulatorHostEnv = "FIREBASE_AUTH_EMULATOR_HOST"

// Firebase verifies Firebase Authentication ID tokens.
type Firebase struct {
	client *fbauth.Client
}

// NewFirebase returns a verifier for ID tokens of the Firebase project
// projectID. Credentials come from GOOGLE_APPLICATION_CREDENTIALS or the
// metadata server, as the SDK finds them; they are needed for revocation
// checks. With FIREBASE_AUTH_EMULATOR_HOST set, no credentials are used.
func NewFirebase(ctx context.Context, projectID string) (*Firebase, error) {
	if projectID == "" {
		return nil, errors.New("firebase: project id is required")
	}
	var opts []option.ClientOption
	if host := os.Getenv(emulatorHostEnv); host != "" {
		// The emulator trusts tokens without a signature, so a server that
		// has this set by mistake trusts anyone. Say so loudly.
		slog.WarnContext(ctx, "firebase auth emulator in use: sign-in tokens are NOT signature-checked",
			slog.String("emulator_host", host), slog.String("project_id", projectID))
		// The SDK already skips credentials for the emulator; this keeps it
		// from looking for them should that change.
		opts = append(opts, option.WithoutAuthentication())
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("firebase app: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase auth client (are GOOGLE_APPLICATION_CREDENTIALS set?): %w", err)
	}
	return &Firebase{client: client}, nil
}

// Verify checks the token's signature, project and lifetime.
func (f *Firebase) Verify(ctx context.Context, token string) (user.Identity, error) {
	t, err := f.client.VerifyIDToken(ctx, token)
	if err != nil {
		return user.Identity{}, tokenError(err)
	}
	return identityFromToken(t), nil
}

// VerifyAndCheckRevoked also asks Firebase whether the token was revoked
// or the account disabled or deleted.
func (f *Firebase) VerifyAndCheckRevoked(ctx context.Context, token string) (user.Identity, error) {
	t, err := f.client.VerifyIDTokenAndCheckRevoked(ctx, token)
	if err != nil {
		return user.Identity{}, tokenError(err)
	}
	return identityFromToken(t), nil
}

// RevokeSessions revokes every refresh token of the Firebase account uid,
// so the app cannot get new ID tokens for it; the account must sign in
// again. Deleting an account does this first.
func (f *Firebase) RevokeSessions(ctx context.Context, uid string) error {
	err := f.client.RevokeRefreshTokens(ctx, uid)
	if fbauth.IsUserNotFound(err) {
		// Deleted at Firebase already: nothing left to revoke.
		return nil
	}
	if err != nil {
		return fmt.Errorf("revoke firebase refresh tokens: %w", err)
	}
	return nil
}

// tokenError tells a token we must refuse from a failure on our side,
// such as not reaching Google for its signing keys, which must not sign
// people out.
func tokenError(err error) error {
	if fbauth.IsIDTokenInvalid(err) || fbauth.IsUserNotFound(err) || fbauth.IsTenantIDMismatch(err) {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return fmt.Errorf("verify firebase id token: %w", err)
}

func identityFromToken(t *fbauth.Token) user.Identity {
	str := func(key string) string {
		s, _ := t.Claims[key].(string)
		return s
	}
	verified, _ := t.Claims["email_verified"].(bool)
	return user.Identity{
		UID:           t.UID,
		Email:         str("email"),
		EmailVerified: verified,
		Phone:         str("phone_number"),
		Name:          str("name"),
		Anonymous:     t.Firebase.SignInProvider == "anonymous",
		AuthTime:      time.Unix(t.AuthTime, 0),
	}
}
