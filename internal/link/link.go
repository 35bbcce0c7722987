// Package link holds the typed links to the other channels — Facebook,
// Instagram, YouTube and the web — that organisations, activities and
// stories carry, so the app can show the right icon and open the right app.
package link

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
)

// Kind is the channel a link points to.
type Kind string

const (
	Facebook  Kind = "FACEBOOK"
	Instagram Kind = "INSTAGRAM"
	YouTube   Kind = "YOUTUBE"
	Web       Kind = "WEB"
)

// Link is a link owned by exactly one organisation, activity or story.
type Link struct {
	ID             int64  `db:"id"`
	OrganisationID *int64 `db:"organisation_id"`
	ActivityID     *int64 `db:"activity_id"`
	StoryID        *int64 `db:"story_id"`
	Kind           Kind   `db:"kind"`
	URL            string `db:"url"`
	Label          string `db:"label"`
	Position       int    `db:"position"`
}

// Service reads links.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

const columns = `id, organisation_id, activity_id, story_id, kind, url, label, position`

// Links are parts of what they hang on: these reads are for objects the
// caller was given by its package's read that took the caller (a draft's
// or an unpublished story's links are seen with it, never without it).

// ByOrganisationIDs returns the links of the given organisations.
func (s *Service) ByOrganisationIDs(ctx context.Context, ids []int64) ([]Link, error) {
	return s.by(ctx, "organisation_id", ids)
}

// ByActivityIDs returns the links of the given activities.
func (s *Service) ByActivityIDs(ctx context.Context, ids []int64) ([]Link, error) {
	return s.by(ctx, "activity_id", ids)
}

// ByStoryIDs returns the links of the given stories.
func (s *Service) ByStoryIDs(ctx context.Context, ids []int64) ([]Link, error) {
	return s.by(ctx, "story_id", ids)
}

// by is shared by the three owners; column is one of three constants above,
// never input.
func (s *Service) by(ctx context.Context, column string, ids []int64) ([]Link, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM channel_links WHERE `+column+` IN (?) ORDER BY position, id`, ids)
	if err != nil {
		return nil, err
	}
	var links []Link
	if err := store.Select(ctx, s.db, &links, q, args...); err != nil {
		return nil, fmt.Errorf("links by %s: %w", column, err)
	}
	return links, nil
}

// Replace sets the links of one owner, inside the caller's transaction.
// Exactly one of the owner ids is non-nil.
func Replace(ctx context.Context, q store.Querier, owner Link, links []Link) error {
	var column string
	var id int64
	switch {
	case owner.OrganisationID != nil:
		column, id = "organisation_id", *owner.OrganisationID
	case owner.ActivityID != nil:
		column, id = "activity_id", *owner.ActivityID
	case owner.StoryID != nil:
		column, id = "story_id", *owner.StoryID
	default:
		return fmt.Errorf("replace links: no owner")
	}
	if _, err := store.Exec(ctx, q, `DELETE FROM channel_links WHERE `+column+` = ?`, id); err != nil {
		return fmt.Errorf("delete links: %w", err)
	}
	for i, l := range links {
		_, err := store.Exec(ctx, q, `INSERT INTO channel_links (organisation_id, activity_id, story_id, kind, url, label, position)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, owner.OrganisationID, owner.ActivityID, owner.StoryID, l.Kind, l.URL, l.Label, i)
		if err != nil {
			return fmt.Errorf("insert link: %w", err)
		}
	}
	return nil
}

var hostsByKind = map[Kind][]string{
	Facebook:  {"facebook.com", "fb.com", "fb.me", "m.facebook.com"},
	Instagram: {"instagram.com"},
	YouTube:   {"youtube.com", "youtu.be", "m.youtube.com"},
}

// Normalise validates a link given by a person and returns it cleaned:
// https only, a host that fits the kind, no credentials, at most 2,000
// characters. A WEB link may point anywhere on https.
func Normalise(kind Kind, raw, label string, field ...string) (Link, error) {
	raw = strings.TrimSpace(raw)
	label = strings.TrimSpace(label)
	if len(raw) > 2000 {
		return Link{}, apperr.New(apperr.CodeTooLong, field...).With("Max", 2000)
	}
	if len([]rune(label)) > 100 {
		return Link{}, apperr.New(apperr.CodeTooLong, field...).With("Max", 100)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return Link{}, apperr.New("INVALID_URL", field...)
	}
	if u.Scheme == "http" {
		u.Scheme = "https"
	}
	if u.Scheme != "https" {
		return Link{}, apperr.New("INVALID_URL", field...)
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	switch kind {
	case Web:
	case Facebook, Instagram, YouTube:
		ok := false
		for _, h := range hostsByKind[kind] {
			if host == h {
				ok = true
			}
		}
		if !ok {
			return Link{}, apperr.New("LINK_HOST_MISMATCH", field...).With("Kind", string(kind))
		}
	default:
		return Link{}, apperr.New(apperr.CodeInvalid, field...)
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	return Link{Kind: kind, URL: u.String(), Label: label}, nil
}
