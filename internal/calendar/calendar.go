// Package calendar serves iCalendar (RFC 5545) feeds that people subscribe
// to from their calendar app: a personal feed of their confirmed volunteer
// shifts behind a secret, revocable token, and public feeds of published
// activities, optionally narrowed to one organisation, place or theme.
package calendar

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// tokenBytes is the entropy of a feed token. The token is the only thing
// guarding the feed, as calendar apps cannot sign in.
const tokenBytes = 32

// tokenLen is the length of a token in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// Service creates and revokes personal feed tokens and renders the feeds.
type Service struct {
	db        *store.DB
	publicURL string
	now       func() time.Time
	log       *slog.Logger
}

// NewService returns a Service whose feed URLs start with publicURL, e.g.
// "https://voresishoj.dk" (no trailing slash). now is the clock.
func NewService(db *store.DB, publicURL string, now func() time.Time) *Service {
	return &Service{
		db:        db,
		publicURL: publicURL,
		now:       now,
		log:       slog.Default().With("component", "calendar"),
	}
}

// CreateFeed gives the caller a new secret feed URL. Any earlier URL stops
// working at once, which is how a person revokes a URL they shared by
// mistake while keeping a feed.
func (s *Service) CreateFeed(ctx context.Context, caller user.Caller) (string, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return "", err
	}
	// A collision of 256 random bits does not happen; the loop only keeps
	// a unique violation from ever reaching the person as an error.
	for attempt := 0; ; attempt++ {
		token, err := newToken()
		if err != nil {
			return "", err
		}
		ok, err := user.SetCalendarToken(ctx, s.db, caller.UserID, token, s.now().UTC())
		if errors.Is(err, store.ErrAlreadyExists) && attempt < 2 {
			continue
		}
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("set calendar token of user %d: %w", caller.UserID, store.ErrNotFound)
		}
		return s.personalURL(token), nil
	}
}

// RevokeFeed switches the caller's personal feed off; its URL answers 404.
func (s *Service) RevokeFeed(ctx context.Context, caller user.Caller) error {
	if err := caller.RequireSignedIn(); err != nil {
		return err
	}
	return user.ClearCalendarToken(ctx, s.db, caller.UserID, s.now().UTC())
}

// FeedURL returns the user's current personal feed URL, or nil when they
// have none.
func (s *Service) FeedURL(ctx context.Context, userID int64) (*string, error) {
	var token *string
	err := store.Get(ctx, s.db, &token, `SELECT ical_token FROM users WHERE id = ? AND deleted_at IS NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("calendar token of user %d: %w", userID, err)
	}
	if token == nil {
		return nil, nil
	}
	u := s.personalURL(*token)
	return &u, nil
}

func (s *Service) personalURL(token string) string {
	return s.publicURL + "/ical/me/" + token + ".ics"
}

func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedToken rejects anything that cannot be a token before it costs
// a database query.
func wellFormedToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
