package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/user"
)

const (
	// LocalKeyFile is the name of the signing key Local keeps in its data
	// directory. Whoever can read it can sign in as anyone.
	LocalKeyFile = "local-auth.key"
	// LocalTokenTTL is how long a token from Local is good for.
	LocalTokenTTL = 12 * time.Hour

	localIssuer    = "voresishoj-local"
	localUIDPrefix = "local:"
	localKeySize   = 32
	// clockSkew is the leeway for tokens that look issued a moment in the
	// future, as Firebase allows.
	clockSkew = 5 * time.Minute
)

// Local issues and verifies sign-in tokens itself, for an installation
// without a Firebase project: trying the app on a laptop, demos, the
// embedded default. Tokens are compact JWTs signed with HMAC-SHA256 under
// a key made on first use. It proves nothing about who asks for a token,
// so it must not face the internet.
type Local struct {
	key   []byte
	users *user.Service
	now   func() time.Time
}

// NewLocal returns a Local signing with the key in dataDir/local-auth.key,
// creating the key (readable by the owner only) when there is none.
func NewLocal(dataDir string, users *user.Service) (*Local, error) {
	key, err := loadOrCreateKey(filepath.Join(dataDir, LocalKeyFile))
	if err != nil {
		return nil, err
	}
	return &Local{key: key, users: users, now: time.Now}, nil
}

func loadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("local auth key dir: %w", err)
	}
	key = make([]byte, localKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("local auth key: %w", err)
	}
	// O_EXCL: when two processes start together, one writes the key and
	// the other reads it, so both sign with the same key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create local auth key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write local auth key: %w", err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read local auth key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < localKeySize {
		return nil, fmt.Errorf("local auth key %s is damaged; delete it to make a new one (everyone signs in again)", path)
	}
	return key, nil
}

type localHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

type localClaims struct {
	Issuer        string `json:"iss"`
	Audience      string `json:"aud"`
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	// Name is Firebase's name claim: the display name a first sign-in
	// takes (user.Service.Resolve). Left out, the person is asked for one.
	Name     string `json:"name,omitempty"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// IssueForEmail returns a token for the person with email, creating them
// as a verified resident when they are new. A name (may be "") goes into
// the token's name claim, as Firebase puts the account's display name
// there: a new person takes it as their display name.
func (l *Local) IssueForEmail(ctx context.Context, email, name string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" {
		return "", fmt.Errorf("issue local token: %q is not an e-mail address", email)
	}
	email = strings.ToLower(addr.Address)
	now := l.now()
	id := user.Identity{UID: localUIDPrefix + email, Email: email, EmailVerified: true, Name: strings.TrimSpace(name), AuthTime: now}
	if _, err := l.users.Resolve(ctx, id); err != nil {
		return "", fmt.Errorf("issue local token for %s: %w", email, err)
	}
	return l.sign(localClaims{
		Issuer:        localIssuer,
		Audience:      localIssuer,
		Subject:       id.UID,
		Email:         email,
		EmailVerified: true,
		Name:          id.Name,
		IssuedAt:      now.Unix(),
		Expires:       now.Add(LocalTokenTTL).Unix(),
	})
}

func (l *Local) sign(c localClaims) (string, error) {
	header, err := json.Marshal(localHeader{Alg: "HS256", Typ: "JWT"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	return signed + "." + enc.EncodeToString(l.mac(signed)), nil
}

func (l *Local) mac(signed string) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Verify checks the token's signature, issuer and lifetime.
func (l *Local) Verify(ctx context.Context, token string) (user.Identity, error) {
	c, err := l.parse(token)
	if err != nil {
		return user.Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	// A local token is issued at sign-in and never refreshed, so its
	// issue time is when the person signed in.
	return user.Identity{UID: c.Subject, Email: c.Email, EmailVerified: c.EmailVerified, Name: c.Name, AuthTime: time.Unix(c.IssuedAt, 0)}, nil
}

// RevokeSessions does nothing: local tokens cannot be revoked one by one.
// A deleted account's tombstone refuses the tokens issued before the
// deletion (user.ErasedUID) for longer than they live.
func (l *Local) RevokeSessions(context.Context, string) error { return nil }

// VerifyAndCheckRevoked is Verify: local tokens cannot be revoked, only
// outlived, or all of them dropped at once by deleting the key.
func (l *Local) VerifyAndCheckRevoked(ctx context.Context, token string) (user.Identity, error) {
	return l.Verify(ctx, token)
}

func (l *Local) parse(token string) (localClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return localClaims{}, errors.New("not a compact JWT")
	}
	enc := base64.RawURLEncoding
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return localClaims{}, errors.New("malformed signature")
	}
	// The signature is checked before anything in the token is believed.
	if !hmac.Equal(sig, l.mac(parts[0]+"."+parts[1])) {
		return localClaims{}, errors.New("bad signature")
	}
	var h localHeader
	if err := decodeSegment(parts[0], &h); err != nil {
		return localClaims{}, fmt.Errorf("header: %w", err)
	}
	if h.Alg != "HS256" {
		return localClaims{}, fmt.Errorf("unexpected algorithm %q", h.Alg)
	}
	var c localClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return localClaims{}, fmt.Errorf("claims: %w", err)
	}
	if c.Issuer != localIssuer || c.Audience != localIssuer {
		return localClaims{}, fmt.Errorf("issued by %q for %q", c.Issuer, c.Audience)
	}
	if !strings.HasPrefix(c.Subject, localUIDPrefix) {
		return localClaims{}, fmt.Errorf("unexpected subject %q", c.Subject)
	}
	now := l.now()
	if now.Unix() >= c.Expires {
		return localClaims{}, fmt.Errorf("expired at %s", time.Unix(c.Expires, 0).UTC().Format(time.RFC3339))
	}
	if time.Unix(c.IssuedAt, 0).After(now.Add(clockSkew)) {
		return localClaims{}, errors.New("issued in the future")
	}
	return c, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
