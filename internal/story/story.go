// Package story holds the stories residents tell of meeting across
// cultures and ages: submitted by residents, reviewed by the secretariat,
// published, featured for the campaign.
package story

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// Status is where a story is in review.
type Status string

const (
	PendingReview    Status = "PENDING_REVIEW"
	ChangesRequested Status = "CHANGES_REQUESTED"
	Published        Status = "PUBLISHED"
	Rejected         Status = "REJECTED"
	Withdrawn        Status = "WITHDRAWN"
	Hidden           Status = "HIDDEN"
)

// Story is a story as stored.
type Story struct {
	ID             int64      `db:"id"`
	AuthorID       *int64     `db:"author_id"`
	AuthorName     string     `db:"author_name"`
	Title          string     `db:"title"`
	Body           string     `db:"body"`
	Status         Status     `db:"status"`
	ActivityID     *int64     `db:"activity_id"`
	OrganisationID *int64     `db:"organisation_id"`
	Featured       bool       `db:"featured"`
	CreatedAt      time.Time  `db:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
	PublishedAt    *time.Time `db:"published_at"`
	CallID         *int64     `db:"call_id"`
	// The author's confirmations: the people in the photos agreed, and
	// whether children appear (then a guardian agreed too).
	ConsentPeople   bool `db:"consent_people"`
	HasChildren     bool `db:"has_children"`
	ConsentGuardian bool `db:"consent_guardian"`
	// ReviewReason is the reason of the latest REJECT or REQUEST_CHANGES,
	// shown to the author.
	ReviewReason string `db:"review_reason"`
	// OrganisersMayReview is copied from the story's organisation: whether
	// its organisers may review (and so see) the story before publishing.
	OrganisersMayReview bool `db:"organisers_may_review"`
}

// Service reads and writes stories.
type Service struct {
	db          *store.DB
	bus         event.Publisher
	media       media.Store
	signer      *media.Signer
	themes      *theme.Service
	secretariat Notifier
	limits      Limits
	now         func() time.Time
	// maxPhotoBytes is media.MaxUploadBytes; tests lower it.
	maxPhotoBytes int64
}

// Notifier tells the secretariat, inside the transaction of the change
// that it must hear about; notify.Service is the one.
type Notifier interface {
	NotifySecretariat(ctx context.Context, tx *sqlx.Tx, n notify.NewNotification) error
}

// Limits are what one person may do in a while; a zero Quota limits
// nothing. The server takes them from its settings (STORIES_PER_DAY,
// STORY_REPORTS_PER_DAY).
type Limits struct {
	Submissions ratelimit.Quota
	Reports     ratelimit.Quota
}

// NewService returns a Service on db that keeps photos in blobs,
// publishes events on bus after commit and tells the secretariat through
// secretariat. now is the clock.
func NewService(db *store.DB, bus event.Publisher, blobs media.Store, themes *theme.Service, now func() time.Time,
	secretariat Notifier, limits Limits) *Service {
	return &Service{
		db:            db,
		bus:           bus,
		media:         blobs,
		signer:        media.RandomSigner(),
		themes:        themes,
		secretariat:   secretariat,
		limits:        limits,
		now:           now,
		maxPhotoBytes: media.MaxUploadBytes,
	}
}

const columns = `s.id, s.author_id, s.author_name, s.title, s.body, s.status, s.activity_id, s.organisation_id,
	s.featured, s.created_at, s.updated_at, s.published_at, s.call_id, s.consent_people, s.has_children,
	s.consent_guardian, s.review_reason,
	COALESCE((SELECT o.organisers_may_review FROM organisations o WHERE o.id = s.organisation_id), FALSE) AS organisers_may_review`

// Story returns the story with id as c may see it (see CanSee), redacted
// for c (see ReviewReasonVisible); one c may not see is not found, as if
// it did not exist.
func (s *Service) Story(ctx context.Context, c user.Caller, id int64) (Story, error) {
	st, err := s.byID(ctx, id)
	if err != nil {
		return Story{}, err
	}
	if !CanSee(c, st) {
		return Story{}, fmt.Errorf("story %d: %w", id, store.ErrNotFound)
	}
	return redact(c, st), nil
}

// byID reads a story whatever its state, for this package's own rules.
func (s *Service) byID(ctx context.Context, id int64) (Story, error) {
	var st Story
	if err := store.Get(ctx, s.db, &st, `SELECT `+columns+` FROM stories s WHERE s.id = ?`, id); err != nil {
		return Story{}, fmt.Errorf("story %d: %w", id, err)
	}
	return st, nil
}

// ByIDs returns the stories among ids that c may see, redacted for c, in
// no particular order.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Story, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+` FROM stories s WHERE s.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var sts []Story
	if err := store.Select(ctx, s.db, &sts, q, args...); err != nil {
		return nil, fmt.Errorf("stories by ids: %w", err)
	}
	return visible(c, sts), nil
}

// visible keeps the stories c may see, redacted for c.
func visible(c user.Caller, sts []Story) []Story {
	out := sts[:0]
	for _, st := range sts {
		if CanSee(c, st) {
			out = append(out, redact(c, st))
		}
	}
	return out
}

// redact blanks what c may not see of a story c may see.
func redact(c user.Caller, st Story) Story {
	if !ReviewReasonVisible(c, st) {
		st.ReviewReason = ""
	}
	return st
}

// Filter narrows the list of published stories.
type Filter struct {
	Themes         []string
	OrganisationID *int64
	ActivityID     *int64
	CallID         *int64
	Featured       *bool
	Search         string
}

// Key is a position in the list of stories, newest first.
type Key struct {
	PublishedAt time.Time
	ID          int64
}

// ListPublished returns up to limit published stories after the key,
// newest first, as c may see them.
func (s *Service) ListPublished(ctx context.Context, c user.Caller, f Filter, after *Key, limit int) ([]Story, error) {
	where := []string{"s.status = 'PUBLISHED'"}
	var args []any
	if f.OrganisationID != nil {
		where = append(where, "s.organisation_id = ?")
		args = append(args, *f.OrganisationID)
	}
	if f.ActivityID != nil {
		where = append(where, "s.activity_id = ?")
		args = append(args, *f.ActivityID)
	}
	if f.CallID != nil {
		where = append(where, "s.call_id = ?")
		args = append(args, *f.CallID)
	}
	if f.Featured != nil {
		where = append(where, "s.featured = ?")
		args = append(args, *f.Featured)
	}
	if len(f.Themes) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM story_themes t WHERE t.story_id = s.id AND t.theme IN (?))")
		args = append(args, f.Themes)
	}
	if cond, cargs := s.db.SearchWhere("stories", "s", f.Search); cond != "" {
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if after != nil {
		where = append(where, "(s.published_at < ? OR (s.published_at = ? AND s.id < ?))")
		args = append(args, after.PublishedAt, after.PublishedAt, after.ID)
	}
	args = append(args, limit)
	q, args, err := store.In(`SELECT `+columns+` FROM stories s WHERE `+strings.Join(where, " AND ")+`
		ORDER BY s.published_at DESC, s.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	var sts []Story
	if err := store.Select(ctx, s.db, &sts, q, args...); err != nil {
		return nil, fmt.Errorf("list stories: %w", err)
	}
	return visible(c, sts), nil
}

// ThemesByIDs returns the theme slugs of each story, for stories the
// caller was given by a read that took the caller.
func (s *Service) ThemesByIDs(ctx context.Context, ids []int64) (map[int64][]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT story_id, theme FROM story_themes WHERE story_id IN (?) ORDER BY theme`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		StoryID int64  `db:"story_id"`
		Theme   string `db:"theme"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("themes of stories: %w", err)
	}
	m := make(map[int64][]string, len(ids))
	for _, r := range rows {
		m[r.StoryID] = append(m[r.StoryID], r.Theme)
	}
	return m, nil
}

// ForSync returns up to limit published stories, by id after afterID, as
// c may see them, for a phone's first sync (internal/offline); later ones
// follow the change log. next is the id to go on after, 0 when there are
// no more.
func (s *Service) ForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (sts []Story, next int64, err error) {
	var ids []int64
	err = store.Select(ctx, s.db, &ids, `SELECT id FROM stories WHERE id > ? AND status = 'PUBLISHED' ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("stories for sync: %w", err)
	}
	sts, err = s.ByIDs(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return sts, 0, err
	}
	return sts, ids[len(ids)-1], nil
}
