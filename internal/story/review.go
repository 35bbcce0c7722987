package story

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Action is what a reviewer does with a story.
type Action string

const (
	ActionPublish        Action = "PUBLISH"
	ActionReject         Action = "REJECT"
	ActionRequestChanges Action = "REQUEST_CHANGES"
)

// User error codes of moderation.
const (
	CodeInvalidStatusChange = "STORY_INVALID_STATUS_CHANGE"
	CodeStoryNotPublished   = "STORY_NOT_PUBLISHED"
	CodeReasonRequired      = "REASON_REQUIRED"
	CodeOutletRequired      = "OUTLET_REQUIRED"
	CodeInvalidDate         = "INVALID_DATE"
)

const maxReason = 1000

// mayReview reports whether c may review st: the secretariat always;
// organisers of the story's organisation when the secretariat allows it
// for that organisation, but never their own story.
func mayReview(c user.Caller, st Story) bool {
	if !c.SignedIn() {
		return false
	}
	if c.Secretariat {
		return true
	}
	if st.AuthorID != nil && *st.AuthorID == c.UserID {
		return false
	}
	return st.OrganisationID != nil && st.OrganisersMayReview && c.Organises[*st.OrganisationID]
}

// CanSee reports whether c may see st: published stories are public;
// any other state only for the author, the secretariat and those allowed
// to review it.
func CanSee(c user.Caller, st Story) bool {
	if st.Status == Published {
		return true
	}
	if !c.SignedIn() {
		return false
	}
	if st.AuthorID != nil && *st.AuthorID == c.UserID {
		return true
	}
	return mayReview(c, st)
}

// ReviewReasonVisible reports whether c may read why st was rejected or
// sent back: its author and its moderators, never its readers. Once a
// story is published only the secretariat moderates it.
func ReviewReasonVisible(c user.Caller, st Story) bool {
	if !c.SignedIn() {
		return false
	}
	isAuthor := st.AuthorID != nil && *st.AuthorID == c.UserID
	return isAuthor || c.Secretariat || (st.Status != Published && mayReview(c, st))
}

// Review publishes, rejects or sends back a story. REJECT and
// REQUEST_CHANGES need a reason, which the author sees. Publishing a
// story hidden by reports restores it. Whatever is done with a hidden
// story, its reports have been weighed: they are kept (the secretariat
// sees who reported) but count no more, and the same people cannot report
// it again. Every action goes into the moderation log.
func (s *Service) Review(ctx context.Context, c user.Caller, id int64, action Action, reason string) (Story, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Story{}, err
	}
	reason = strings.TrimSpace(reason)
	switch action {
	case ActionPublish:
	case ActionReject, ActionRequestChanges:
		if reason == "" {
			return Story{}, apperr.New(CodeReasonRequired, "reason")
		}
	default:
		return Story{}, apperr.New(apperr.CodeInvalid, "action")
	}
	if len([]rune(reason)) > maxReason {
		return Story{}, apperr.New(apperr.CodeTooLong, "reason").With("Max", maxReason)
	}
	now := s.now()
	var firstPublish bool
	var discarded int
	var st Story
	var events []event.Event
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		st, err = s.lockStory(ctx, tx, id)
		if err != nil {
			return err
		}
		if !mayReview(c, st) {
			if !CanSee(c, st) {
				return apperr.New(CodeStoryNotFound)
			}
			return apperr.ErrForbidden
		}
		// A story withheld while its author, a child, waits for a
		// guardian's consent comes back only with that consent.
		var withheld bool
		if err := store.Get(ctx, tx, &withheld, `SELECT withheld_status IS NOT NULL FROM stories WHERE id = ?`, id); err != nil {
			return fmt.Errorf("story %d withheld: %w", id, err)
		}
		if withheld {
			return apperr.New(CodeInvalidStatusChange).With("Status", string(st.Status))
		}
		logAction := string(action)
		switch {
		case action == ActionPublish && (st.Status == PendingReview || st.Status == ChangesRequested || st.Status == Hidden):
			firstPublish = st.PublishedAt == nil
			// A restored story keeps its first publication time, so it
			// returns to its place in the feed.
			_, err = store.Exec(ctx, tx, `UPDATE stories SET status = ?, published_at = COALESCE(published_at, ?),
				review_reason = '', updated_at = ? WHERE id = ?`, Published, now, now, id)
			if st.Status == Hidden {
				logAction = "RESTORE"
			}
		case action == ActionReject && st.Status != Rejected && st.Status != Withdrawn:
			_, err = store.Exec(ctx, tx, `UPDATE stories SET status = ?, review_reason = ?, updated_at = ? WHERE id = ?`,
				Rejected, reason, now, id)
			if err == nil {
				// A rejected story is never shown again; its text stays for
				// the author to read the reason, its photos go.
				discarded, err = discardPhotosTx(ctx, tx, id, now)
			}
		case action == ActionRequestChanges && (st.Status == PendingReview || st.Status == Hidden):
			_, err = store.Exec(ctx, tx, `UPDATE stories SET status = ?, review_reason = ?, updated_at = ? WHERE id = ?`,
				ChangesRequested, reason, now, id)
		default:
			return apperr.New(CodeInvalidStatusChange).With("Status", string(st.Status))
		}
		if err == nil && st.Status == Hidden {
			// New reports start a new count.
			_, err = store.Exec(ctx, tx, `UPDATE story_reports SET reviewed_at = ? WHERE story_id = ? AND reviewed_at IS NULL`, now, id)
		}
		if err != nil {
			return fmt.Errorf("review story %d: %w", id, err)
		}
		// Phones hold published stories only: one published, or no longer.
		if action == ActionPublish || st.Status == Published {
			if err := changelog.Record(ctx, tx, now, changelog.Story, id); err != nil {
				return err
			}
		}
		if err := logModeration(ctx, tx, id, &c.UserID, logAction, reason, now); err != nil {
			return err
		}
		// Only the first publication is news: a story restored after
		// reports must not notify followers or the author a second time.
		// A rejection or a request for changes tells the author why.
		events = nil
		e := event.Event{StoryID: id, ActorID: c.UserID}
		if st.AuthorID != nil {
			e.UserID = *st.AuthorID
		}
		if st.OrganisationID != nil {
			e.OrganisationID = *st.OrganisationID
		}
		switch {
		case firstPublish:
			e.Kind = event.StoryPublished
		case action == ActionReject:
			e.Kind, e.Reason = event.StoryRejected, reason
		case action == ActionRequestChanges:
			e.Kind, e.Reason = event.StoryChangesRequested, reason
		default:
			return nil
		}
		events = []event.Event{e}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Story{}, err
	}
	slog.InfoContext(ctx, "story reviewed", slog.Int64("story_id", id), slog.Int64("user_id", c.UserID),
		slog.String("action", string(action)))
	if discarded > 0 {
		s.sweep(ctx)
	}
	if len(events) > 0 {
		s.bus.Publish(ctx, events...)
	}
	return s.byID(ctx, id)
}

func logModeration(ctx context.Context, q store.Querier, storyID int64, actorID *int64, action, reason string, now time.Time) error {
	_, err := store.Exec(ctx, q, `INSERT INTO moderation_log (story_id, actor_id, action, reason, created_at)
		VALUES (?, ?, ?, ?, ?)`, storyID, actorID, action, reason, now)
	if err != nil {
		return fmt.Errorf("log moderation of story %d: %w", storyID, err)
	}
	return nil
}

// QueueKey is a position in the review queue, oldest first.
type QueueKey struct {
	CreatedAt time.Time
	ID        int64
}

// ReviewQueue returns the stories waiting for the caller's review, oldest
// first: new and edited stories and those hidden by reports.
func (s *Service) ReviewQueue(ctx context.Context, c user.Caller, after *QueueKey, limit int) ([]Story, error) {
	if err := c.RequireSignedIn(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		limit = 100
	}
	where := []string{"s.status IN ('PENDING_REVIEW', 'HIDDEN')", "s.withheld_status IS NULL"}
	var args []any
	if !c.Secretariat {
		if len(c.Organises) == 0 {
			return nil, apperr.ErrForbidden
		}
		where = append(where, `s.organisation_id IN (SELECT o.organisation_id FROM organisers o
			JOIN organisations g ON g.id = o.organisation_id
			WHERE o.user_id = ? AND g.organisers_may_review = TRUE)`,
			"(s.author_id IS NULL OR s.author_id <> ?)")
		args = append(args, c.UserID, c.UserID)
	}
	if after != nil {
		where = append(where, "(s.created_at > ? OR (s.created_at = ? AND s.id > ?))")
		args = append(args, after.CreatedAt, after.CreatedAt, after.ID)
	}
	args = append(args, limit)
	var sts []Story
	err := store.Select(ctx, s.db, &sts, `SELECT `+columns+` FROM stories s WHERE `+strings.Join(where, " AND ")+`
		ORDER BY s.created_at, s.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return visible(c, sts), nil
}

// ModerationEntry is one line of the audit log: who did what, when, why.
// ActorID is empty for what the system did (hiding after reports).
type ModerationEntry struct {
	ID        int64     `db:"id"`
	StoryID   int64     `db:"story_id"`
	ActorID   *int64    `db:"actor_id"`
	Action    string    `db:"action"`
	Reason    string    `db:"reason"`
	CreatedAt time.Time `db:"created_at"`
}

// ModerationLog returns the audit log of a story, oldest first, to those
// who may review it.
func (s *Service) ModerationLog(ctx context.Context, c user.Caller, storyID int64) ([]ModerationEntry, error) {
	st, err := s.byID(ctx, storyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(CodeStoryNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !mayReview(c, st) {
		return nil, apperr.ErrForbidden
	}
	var log []ModerationEntry
	err = store.Select(ctx, s.db, &log, `SELECT id, story_id, actor_id, action, reason, created_at
		FROM moderation_log WHERE story_id = ? ORDER BY id`, storyID)
	if err != nil {
		return nil, fmt.Errorf("moderation log of story %d: %w", storyID, err)
	}
	return log, nil
}

// Feature marks a published story for the branding campaign "Alt ligger
// på vejen hjem", or unmarks it.
func (s *Service) Feature(ctx context.Context, c user.Caller, id int64, featured bool) (Story, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Story{}, err
	}
	now := s.now()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		st, err := s.lockStory(ctx, tx, id)
		if err != nil {
			return err
		}
		if featured && st.Status != Published {
			return apperr.New(CodeStoryNotPublished)
		}
		if st.Featured == featured {
			return nil
		}
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET featured = ?, updated_at = ? WHERE id = ?`, featured, now, id); err != nil {
			return fmt.Errorf("feature story %d: %w", id, err)
		}
		if err := changelog.Record(ctx, tx, now, changelog.Story, id); err != nil {
			return err
		}
		action := "FEATURE"
		if !featured {
			action = "UNFEATURE"
		}
		return logModeration(ctx, tx, id, &c.UserID, action, "", now)
	})
	if err != nil {
		return Story{}, err
	}
	return s.byID(ctx, id)
}

// MediaPickup records that regional or national media picked up a story.
type MediaPickup struct {
	ID         int64     `db:"id"`
	StoryID    int64     `db:"story_id"`
	Outlet     string    `db:"outlet"`
	URL        string    `db:"url"`
	PickedUpAt time.Time `db:"picked_up_at"`
	RecordedBy *int64    `db:"recorded_by"`
	CreatedAt  time.Time `db:"created_at"`
}

// RecordMediaPickup notes that outlet (e.g. "TV 2 Lorry") ran the story on
// date; rawURL is optional.
func (s *Service) RecordMediaPickup(ctx context.Context, c user.Caller, id int64, outlet, rawURL string, date time.Time) (MediaPickup, error) {
	if err := c.RequireSecretariat(); err != nil {
		return MediaPickup{}, err
	}
	now := s.now()
	var errs apperr.List
	outlet = strings.TrimSpace(outlet)
	if outlet == "" {
		errs.Add(CodeOutletRequired, "outlet")
	} else if len([]rune(outlet)) > 120 {
		errs.Add(apperr.CodeTooLong, "outlet").With("Max", 120)
	}
	var u string
	if strings.TrimSpace(rawURL) != "" {
		l, err := link.Normalise(link.Web, rawURL, "", "url")
		if err != nil {
			ue := apperr.UserErrors(err)
			if ue == nil {
				return MediaPickup{}, err
			}
			errs = append(errs, ue...)
		}
		u = l.URL
	}
	if date.IsZero() || date.After(now.Add(24*time.Hour)) {
		errs.Add(CodeInvalidDate, "date")
	}
	if err := errs.Err(); err != nil {
		return MediaPickup{}, err
	}
	var m MediaPickup
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.lockStory(ctx, tx, id); err != nil {
			return err
		}
		err := store.Get(ctx, tx, &m.ID, `INSERT INTO media_pickups (story_id, outlet, url, picked_up_at, recorded_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, outlet, u, date.UTC(), c.UserID, now)
		if err != nil {
			return fmt.Errorf("insert media pickup: %w", err)
		}
		return logModeration(ctx, tx, id, &c.UserID, "MEDIA_PICKUP", outlet, now)
	})
	if err != nil {
		return MediaPickup{}, err
	}
	m = MediaPickup{ID: m.ID, StoryID: id, Outlet: outlet, URL: u, PickedUpAt: date.UTC(), RecordedBy: &c.UserID, CreatedAt: now}
	return m, nil
}

// MediaPickups returns the media pickups of each story, oldest first, for
// the secretariat; for anyone else the map is empty (a restricted field:
// null). A story without pickups maps to an empty list.
func (s *Service) MediaPickups(ctx context.Context, c user.Caller, storyIDs []int64) (map[int64][]MediaPickup, error) {
	if len(storyIDs) == 0 || !c.Secretariat {
		return nil, nil
	}
	q, args, err := store.In(`SELECT id, story_id, outlet, url, picked_up_at, recorded_by, created_at
		FROM media_pickups WHERE story_id IN (?) ORDER BY picked_up_at, id`, storyIDs)
	if err != nil {
		return nil, err
	}
	var rows []MediaPickup
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("media pickups: %w", err)
	}
	m := make(map[int64][]MediaPickup, len(storyIDs))
	for _, id := range storyIDs {
		m[id] = []MediaPickup{}
	}
	for _, r := range rows {
		m[r.StoryID] = append(m[r.StoryID], r)
	}
	return m, nil
}
