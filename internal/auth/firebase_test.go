package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

const emulatorProject = "demo-voresishoj"

// emulatorHost returns TEST_FIREBASE_AUTH_EMULATOR_HOST, skipping the test
// when it is unset outside CI and failing it inside CI, and points the
// Firebase SDK at it.
func emulatorHost(t *testing.T) string {
	t.Helper()
	host := os.Getenv("TEST_FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_FIREBASE_AUTH_EMULATOR_HOST is not set: the Firebase Auth emulator tests must run in CI")
		}
		t.Skip("TEST_FIREBASE_AUTH_EMULATOR_HOST not set; Firebase Auth emulator tests not run")
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", host)
	// Prove the emulator needs no Google credentials.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	return host
}

type emulatorAccount struct {
	LocalID string `json:"localId"`
	IDToken string `json:"idToken"`
}

// emulatorCall posts body to an Identity Toolkit method of the emulator,
// as the app's Firebase client library would.
func emulatorCall(t *testing.T, host, method string, body any) emulatorAccount {
	t.Helper()
	b, _ := json.Marshal(body)
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/accounts:%s?key=any", host, method)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("emulator %s: %v", method, err)
	}
	defer resp.Body.Close()
	var acc emulatorAccount
	if resp.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		t.Fatalf("emulator %s: %s: %s", method, resp.Status, msg.String())
	}
	if err := json.NewDecoder(resp.Body).Decode(&acc); err != nil {
		t.Fatalf("emulator %s: %v", method, err)
	}
	if acc.IDToken == "" || acc.LocalID == "" {
		t.Fatalf("emulator %s: no token or uid in the answer", method)
	}
	return acc
}

// withClaims returns token with its claims changed by edit. The emulator's
// tokens are unsigned (alg "none"), and the SDK checks no signature for
// them, so a forgery must be caught by the other checks.
func withClaims(t *testing.T, token string, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		t.Fatalf("decode emulator token: %v", err)
	}
	edit(claims)
	b, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestFirebaseEmulator(t *testing.T) {
	host := emulatorHost(t)
	ctx := context.Background()
	users := user.NewService(storetest.SQLite(t), clock.Real)

	fb, err := NewFirebase(ctx, emulatorProject)
	if err != nil {
		t.Fatalf("NewFirebase: %v", err)
	}

	email := fmt.Sprintf("aase-%d@example.dk", time.Now().UnixNano())
	const password = "hemmelig-123"
	acc := emulatorCall(t, host, "signUp", map[string]any{"email": email, "password": password, "returnSecureToken": true})

	id, err := fb.Verify(ctx, acc.IDToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.UID != acc.LocalID || id.Email != email || id.EmailVerified || id.Anonymous {
		t.Fatalf("identity = %+v, want uid %s, unverified %s", id, acc.LocalID, email)
	}

	a := NewAuthenticator(fb, users, nil)
	reqCtx, err := a.Authenticate(ctx, "Bearer "+acc.IDToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	caller := user.CallerFrom(reqCtx)
	if !caller.SignedIn() || caller.Verified {
		t.Fatalf("caller = %+v, want a signed-in person with an unverified e-mail", caller)
	}
	if err := CheckRevoked(reqCtx); err != nil {
		t.Fatalf("CheckRevoked on a fresh token: %v", err)
	}

	t.Run("verified e-mail", func(t *testing.T) {
		if _, err := fb.client.UpdateUser(ctx, acc.LocalID, (&fbauth.UserToUpdate{}).EmailVerified(true)); err != nil {
			t.Fatalf("mark e-mail verified: %v", err)
		}
		again := emulatorCall(t, host, "signInWithPassword", map[string]any{"email": email, "password": password, "returnSecureToken": true})
		id, err := fb.VerifyAndCheckRevoked(ctx, again.IDToken)
		if err != nil {
			t.Fatalf("VerifyAndCheckRevoked: %v", err)
		}
		if !id.EmailVerified {
			t.Fatalf("identity = %+v, want a verified e-mail", id)
		}
		c, err := users.Resolve(ctx, id)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		if c.UserID != caller.UserID || !c.Verified {
			t.Fatalf("caller = %+v, want user %d now verified", c, caller.UserID)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		anon := emulatorCall(t, host, "signUp", map[string]any{"returnSecureToken": true})
		id, err := fb.Verify(ctx, anon.IDToken)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !id.Anonymous || id.UID != anon.LocalID || id.Email != "" {
			t.Fatalf("identity = %+v, want anonymous %s", id, anon.LocalID)
		}
		c, err := users.Resolve(ctx, id)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		if !c.SignedIn() || c.Verified {
			t.Fatalf("caller = %+v, want signed in but not verified", c)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		tampered := map[string]string{
			"other user":    withClaims(t, acc.IDToken, func(c map[string]any) { c["sub"], c["user_id"] = "nobody-here", "nobody-here" }),
			"other project": withClaims(t, acc.IDToken, func(c map[string]any) { c["aud"] = "another-project" }),
			"other issuer":  withClaims(t, acc.IDToken, func(c map[string]any) { c["iss"] = "https://evil.example/" + emulatorProject }),
			"expired":       withClaims(t, acc.IDToken, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
			"garbage":       "abc.def",
		}
		for name, token := range tampered {
			if id, err := fb.Verify(ctx, token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s: Verify = %+v, %v; want ErrInvalidToken", name, id, err)
			}
		}
	})

	t.Run("disabled account", func(t *testing.T) {
		if _, err := fb.client.UpdateUser(ctx, acc.LocalID, (&fbauth.UserToUpdate{}).Disabled(true)); err != nil {
			t.Fatalf("disable user: %v", err)
		}
		err := CheckRevoked(reqCtx)
		if !errors.Is(err, apperr.ErrUnauthenticated) || !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("CheckRevoked = %v, want ErrUnauthenticated", err)
		}
		if _, err := fb.VerifyAndCheckRevoked(ctx, acc.IDToken); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("VerifyAndCheckRevoked = %v, want ErrInvalidToken", err)
		}
	})
}
