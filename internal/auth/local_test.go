package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func newLocal(t *testing.T, users *user.Service) *Local {
	t.Helper()
	l, err := NewLocal(t.TempDir(), users)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l
}

func TestLocalIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	users := user.NewService(storetest.SQLite(t), clock.Real)
	dir := t.TempDir()
	l, err := NewLocal(dir, users)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}

	token, err := l.IssueForEmail(ctx, " Aase.Hansen@Example.DK ", "")
	if err != nil {
		t.Fatalf("IssueForEmail: %v", err)
	}
	id, err := l.Verify(ctx, token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := user.Identity{UID: "local:aase.hansen@example.dk", Email: "aase.hansen@example.dk", EmailVerified: true,
		AuthTime: id.AuthTime}
	if time.Since(id.AuthTime) > time.Minute || time.Until(id.AuthTime) > time.Second {
		t.Errorf("auth time %s, want the time of issue", id.AuthTime)
	}
	if id != want {
		t.Fatalf("identity = %+v, want %+v", id, want)
	}

	// IssueForEmail made the person: resolving the identity again finds a
	// verified resident rather than creating anyone.
	caller, err := users.Resolve(ctx, id)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if !caller.SignedIn() || !caller.Verified || caller.Secretariat {
		t.Fatalf("caller = %+v, want a verified resident", caller)
	}
	again, err := l.IssueForEmail(ctx, "aase.hansen@example.dk", "")
	if err != nil {
		t.Fatalf("IssueForEmail again: %v", err)
	}
	id2, err := l.Verify(ctx, again)
	if err != nil {
		t.Fatalf("Verify second token: %v", err)
	}
	if c2, err := users.Resolve(ctx, id2); err != nil || c2.UserID != caller.UserID {
		t.Fatalf("second sign-in resolved to %+v, %v; want user %d", c2, err, caller.UserID)
	}

	info, err := os.Stat(filepath.Join(dir, LocalKeyFile))
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}

	// A restart reads the same key, so tokens survive it.
	restarted, err := NewLocal(dir, users)
	if err != nil {
		t.Fatalf("NewLocal after restart: %v", err)
	}
	if _, err := restarted.Verify(ctx, token); err != nil {
		t.Fatalf("Verify after restart: %v", err)
	}
	if got, err := restarted.VerifyAndCheckRevoked(ctx, token); err != nil || got != want {
		t.Fatalf("VerifyAndCheckRevoked = %+v, %v", got, err)
	}
}

func TestLocalRejects(t *testing.T) {
	ctx := context.Background()
	users := user.NewService(storetest.SQLite(t), clock.Real)
	l := newLocal(t, users)
	issued := time.Date(2025, 7, 6, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return issued }
	token, err := l.IssueForEmail(ctx, "aase@example.dk", "")
	if err != nil {
		t.Fatalf("IssueForEmail: %v", err)
	}
	parts := strings.Split(token, ".")

	// Claims changed to someone else but the signature kept.
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "local:boss@ishoj.dk"
	claims["email"] = "boss@ishoj.dk"
	forged, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

	// Signed correctly, but by the key of another installation.
	foreign, err := newLocal(t, users).IssueForEmail(ctx, "aase@example.dk", "")
	if err != nil {
		t.Fatalf("IssueForEmail elsewhere: %v", err)
	}

	cases := []struct {
		name  string
		token string
		now   time.Time
	}{
		{"tampered claims", tampered, issued},
		{"unsigned", unsigned, issued},
		{"foreign key", foreign, issued},
		{"expired", token, issued.Add(LocalTokenTTL)},
		{"issued in the future", token, issued.Add(-time.Hour)},
		{"garbage", "not-a-token", issued},
		{"empty", "", issued},
		{"bad base64", "a.b.c!", issued},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l.now = func() time.Time { return tc.now }
			id, err := l.Verify(ctx, tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", id, err)
			}
		})
	}

	// Just before expiry the same token is still good.
	l.now = func() time.Time { return issued.Add(LocalTokenTTL - time.Second) }
	if _, err := l.Verify(ctx, token); err != nil {
		t.Fatalf("Verify before expiry: %v", err)
	}
}

func TestLocalIssueRefusesNonAddresses(t *testing.T) {
	l := newLocal(t, user.NewService(storetest.SQLite(t), clock.Real))
	for _, email := range []string{"", "aase", "Aase <aase@example.dk>", "@example.dk"} {
		if token, err := l.IssueForEmail(context.Background(), email, ""); err == nil {
			t.Errorf("IssueForEmail(%q) = %q, want an error", email, token)
		}
	}
}

func TestLocalDamagedKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LocalKeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(dir, nil); err == nil {
		t.Fatal("NewLocal accepted a damaged key")
	}
}
