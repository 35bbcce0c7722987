package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// emulator returns the Auth emulator's host from
// TEST_FIREBASE_AUTH_EMULATOR_HOST and points the Admin SDK at it; outside
// CI the test is skipped without one, in CI it fails.
func emulator(t *testing.T) string {
	t.Helper()
	host := os.Getenv("TEST_FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_FIREBASE_AUTH_EMULATOR_HOST is not set")
		}
		t.Skip("TEST_FIREBASE_AUTH_EMULATOR_HOST not set; Firebase Auth emulator tests not run")
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", host)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	return host
}

type emulatorTokens struct {
	LocalID      string `json:"localId"`
	IDToken      string `json:"idToken"`
	RefreshToken string `json:"refreshToken"`
	// The secure token service answers in its own field names.
	IDTokenSTS      string `json:"id_token"`
	RefreshTokenSTS string `json:"refresh_token"`
}

// emulatorPost calls the emulator as the app's Firebase library would and
// returns the tokens, or the HTTP status when it refuses.
func emulatorPost(t *testing.T, rawURL, contentType string, body []byte) (emulatorTokens, int) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(rawURL, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	defer resp.Body.Close()
	var tok emulatorTokens
	if resp.StatusCode != http.StatusOK {
		return tok, resp.StatusCode
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatalf("emulator: %v", err)
	}
	return tok, resp.StatusCode
}

func identityToolkit(t *testing.T, host, method string, body any) emulatorTokens {
	t.Helper()
	b, _ := json.Marshal(body)
	tok, status := emulatorPost(t, fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/accounts:%s?key=any", host, method), "application/json", b)
	if status != http.StatusOK || tok.IDToken == "" {
		t.Fatalf("emulator %s: status %d", method, status)
	}
	return tok
}

func countUsers(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := store.Get(context.Background(), db, &n, `SELECT COUNT(*) FROM users`); err != nil {
		t.Fatal(err)
	}
	return n
}

// Deleting an account revokes its Firebase refresh tokens, and the ID
// token from before the deletion gets UNAUTHENTICATED instead of making
// the account again, against the Auth emulator. A new sign-in after the
// deletion starts afresh.
func TestDeletionEndsFirebaseSession(t *testing.T) {
	host := emulator(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		users := user.NewService(db, clock.Real)
		fb, err := auth.NewFirebase(ctx, "demo-voresishoj")
		if err != nil {
			t.Fatal(err)
		}
		authn := auth.NewAuthenticator(fb, users, nil)
		svc := privacy.NewService(db, &event.Recorder{}, nil, clock.Real)
		svc.SetSessions(fb)

		email := fmt.Sprintf("slettes-%d@example.dk", time.Now().UnixNano())
		const password = "hemmelig-123"
		acc := identityToolkit(t, host, "signUp", map[string]any{"email": email, "password": password, "returnSecureToken": true})
		reqCtx, err := authn.Authenticate(ctx, "Bearer "+acc.IDToken)
		if err != nil {
			t.Fatal(err)
		}
		before := user.CallerFrom(reqCtx)
		// Firebase counts revocation in whole seconds: a token from the
		// second of the revocation still passes its check (ours refuses
		// it). Nobody deletes an account in the second they signed in.
		time.Sleep(1100 * time.Millisecond)
		if err := svc.DeleteAccount(reqCtx, before, privacy.DeleteStories); err != nil {
			t.Fatalf("delete: %v", err)
		}
		accounts := countUsers(t, db)

		if _, err := authn.Authenticate(ctx, "Bearer "+acc.IDToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("old token after deletion: %v, want it refused", err)
		}
		if _, err := fb.VerifyAndCheckRevoked(ctx, acc.IDToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Firebase on the old token: %v, want revoked", err)
		}
		// Refreshing either fails or gives a token still from the old
		// sign-in, which is refused the same way.
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {acc.RefreshToken}}
		refreshed, status := emulatorPost(t, fmt.Sprintf("http://%s/securetoken.googleapis.com/v1/token?key=any", host),
			"application/x-www-form-urlencoded", []byte(form.Encode()))
		t.Logf("refresh after deletion: HTTP %d", status)
		if status == http.StatusOK {
			if _, err := authn.Authenticate(ctx, "Bearer "+refreshed.IDTokenSTS); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("refreshed token after deletion: %v, want it refused", err)
			}
		}
		if n := countUsers(t, db); n != accounts {
			t.Errorf("old tokens made %d accounts", n-accounts)
		}

		// Signing in again, a second later, is a new beginning.
		time.Sleep(1100 * time.Millisecond)
		again := identityToolkit(t, host, "signInWithPassword", map[string]any{"email": email, "password": password, "returnSecureToken": true})
		reqCtx, err = authn.Authenticate(ctx, "Bearer "+again.IDToken)
		if err != nil {
			t.Fatalf("new sign-in after deletion: %v", err)
		}
		if c := user.CallerFrom(reqCtx); c.UserID == before.UserID || !c.SignedIn() {
			t.Errorf("new sign-in: caller %+v, want a new account", c)
		}
		if err := auth.CheckRevoked(reqCtx); err != nil {
			t.Errorf("CheckRevoked on the new sign-in: %v", err)
		}
	})
}

// Local mode keeps the same rule with its own tokens.
func TestDeletionEndsLocalSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		users := user.NewService(db, clock.Real)
		local, err := auth.NewLocal(t.TempDir(), users)
		if err != nil {
			t.Fatal(err)
		}
		authn := auth.NewAuthenticator(local, users, nil)
		svc := privacy.NewService(db, &event.Recorder{}, nil, clock.Real)
		svc.SetSessions(local)

		token, err := local.IssueForEmail(ctx, "lokal@example.dk", "")
		if err != nil {
			t.Fatal(err)
		}
		reqCtx, err := authn.Authenticate(ctx, "Bearer "+token)
		if err != nil {
			t.Fatal(err)
		}
		before := user.CallerFrom(reqCtx)
		if err := svc.DeleteAccount(reqCtx, before, privacy.AnonymiseStories); err != nil {
			t.Fatal(err)
		}
		accounts := countUsers(t, db)
		_, err = authn.Authenticate(ctx, "Bearer "+token)
		if !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), "deleted") {
			t.Errorf("old local token after deletion: %v, want it refused", err)
		}
		if n := countUsers(t, db); n != accounts {
			t.Errorf("the old token made %d accounts", n-accounts)
		}

		time.Sleep(1100 * time.Millisecond)
		fresh, err := local.IssueForEmail(ctx, "lokal@example.dk", "")
		if err != nil {
			t.Fatalf("new token after deletion: %v", err)
		}
		reqCtx, err = authn.Authenticate(ctx, "Bearer "+fresh)
		if err != nil {
			t.Fatal(err)
		}
		if c := user.CallerFrom(reqCtx); c.UserID == before.UserID {
			t.Errorf("new sign-in got the deleted account %d back", c.UserID)
		}

		// A day later the tombstone forgets even the hash of the uid.
		if err := svc.Housekeep(ctx, time.Now().Add(user.ErasedUIDRetention+time.Minute)); err != nil {
			t.Fatal(err)
		}
		var hashes int
		store.Get(ctx, db, &hashes, `SELECT COUNT(*) FROM users WHERE erased_uid_sha256 IS NOT NULL`)
		if hashes != 0 {
			t.Errorf("%d tombstones still hold a uid hash after %s", hashes, user.ErasedUIDRetention)
		}
	})
}
