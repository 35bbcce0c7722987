package media

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// SignedFor is how long a signed URL is good for at most. A URL is signed
// for a five-minute window (see Sign), so it stays good for five to ten
// minutes and the same viewer asking again within the window gets the
// same URL, which their browser has cached.
const (
	SignedFor    = 10 * time.Minute
	signedWindow = 5 * time.Minute
)

// Errors of Check. The handler answers both with 403.
var (
	ErrSignatureExpired = errors.New("media: signature expired")
	ErrSignatureInvalid = errors.New("media: signature invalid")
)

// Signer makes and checks the signatures of URLs for blobs that are not
// public: an HMAC-SHA256 of the key and the expiry time.
type Signer struct {
	secret []byte
}

// NewSigner returns a Signer with secret, which must be at least 32 bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 32 {
		return nil, errors.New("media: signing secret shorter than 32 bytes")
	}
	return &Signer{secret: secret}, nil
}

// RandomSigner returns a Signer with a fresh secret of its own: its URLs
// hold only in this process. For tests, and for services no server wires.
func RandomSigner() *Signer {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return &Signer{secret: b}
}

// LoadSigner returns the Signer of the database's secret, making the
// secret if there is none yet. Every replica reads the same row, so a URL
// one replica signs is good on all of them; the first replica to start
// makes it, and a second one starting at the same moment keeps the
// first's (ON CONFLICT DO NOTHING).
func LoadSigner(ctx context.Context, db *store.DB, now time.Time) (*Signer, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := store.Exec(ctx, db, `INSERT INTO media_secrets (id, secret, created_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO NOTHING`, hex.EncodeToString(b), now); err != nil {
		return nil, fmt.Errorf("make media signing secret: %w", err)
	}
	var secret string
	if err := store.Get(ctx, db, &secret, `SELECT secret FROM media_secrets WHERE id = 1`); err != nil {
		return nil, fmt.Errorf("read media signing secret: %w", err)
	}
	raw, err := hex.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("read media signing secret: %w", err)
	}
	return NewSigner(raw)
}

// Sign returns the query ("exp=…&sig=…") that lets whoever holds it fetch
// the blob at key until the end of the next five-minute window after now.
func (s *Signer) Sign(key string, now time.Time) string {
	exp := now.Truncate(signedWindow).Add(SignedFor).Unix()
	v := url.Values{}
	v.Set("exp", strconv.FormatInt(exp, 10))
	v.Set("sig", s.mac(key, exp))
	return v.Encode()
}

// Check verifies the signature of key in query (as Sign made it) at now,
// and returns how long it stays good.
func (s *Signer) Check(key string, query url.Values, now time.Time) (time.Duration, error) {
	exp, err := strconv.ParseInt(query.Get("exp"), 10, 64)
	if err != nil {
		return 0, ErrSignatureInvalid
	}
	if !hmac.Equal([]byte(query.Get("sig")), []byte(s.mac(key, exp))) {
		return 0, ErrSignatureInvalid
	}
	left := time.Unix(exp, 0).Sub(now)
	if left <= 0 {
		return 0, ErrSignatureExpired
	}
	if left > SignedFor {
		// Only a holder of the secret makes a signature; this one comes
		// from a replica whose clock runs ahead. It is honoured, but no
		// cache keeps it longer than one of ours.
		left = SignedFor
	}
	return left, nil
}

// mac is the signature: 128 bits of HMAC-SHA256, URL-safe.
func (s *Signer) mac(key string, exp int64) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
