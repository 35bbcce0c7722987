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
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// ReportThreshold is how many different people must report a published
// story before it is hidden until the secretariat has looked at it. Only
// reports that count are counted: from verified accounts (nobody else may
// report), not yet reviewed, and not from someone the secretariat marked
// as misusing reports.
const ReportThreshold = 3

// User error codes of reports.
const (
	CodeAlreadyReported = "ALREADY_REPORTED"
	CodeTooManyReports  = "TOO_MANY_REPORTS"
	CodeUserNotFound    = "USER_NOT_FOUND"
)

const maxReportReason = 500

// Report flags a published story (its text or a photo) as inappropriate.
//
// Reporting takes a verified account: anonymous ones cost nothing to
// make, and three of them must not be enough to silence anyone. A person
// reports a story once, ever (a report the secretariat has weighed stays
// weighed), and makes at most Limits.Reports reports in a while. At
// ReportThreshold counting reports the story is hidden: it goes back to
// the secretariat's review queue (status HIDDEN, nothing is deleted) and
// every member of the secretariat gets a STORY_HIDDEN notification,
// written in the same transaction. It returns the story as it now is.
func (s *Service) Report(ctx context.Context, c user.Caller, id int64, reason string) (Story, error) {
	if err := c.RequireVerified(); err != nil {
		return Story{}, err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > maxReportReason {
		return Story{}, apperr.New(apperr.CodeTooLong, "reason").With("Max", maxReportReason)
	}
	now := s.now()
	hidden := false
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		hidden = false
		// The person first, then the story (the order Submit and Review
		// keep too): one person's reports queue here, so the limit is
		// counted exactly; concurrent reports of one story queue on the
		// story, so the third is always seen as the third.
		if err := s.lockPerson(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, s.limits.Reports, CodeTooManyReports,
			`SELECT created_at FROM story_reports WHERE user_id = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?`, c.UserID, now); err != nil {
			return err
		}
		st, err := s.lockStory(ctx, tx, id)
		if err != nil {
			return err
		}
		if st.Status != Published {
			return apperr.New(CodeStoryNotFound)
		}
		_, err = store.Exec(ctx, tx, `INSERT INTO story_reports (story_id, user_id, reason, created_at) VALUES (?, ?, ?, ?)`,
			id, c.UserID, reason, now)
		if errors.Is(err, store.ErrAlreadyExists) {
			return apperr.New(CodeAlreadyReported)
		}
		if err != nil {
			return fmt.Errorf("report story %d: %w", id, err)
		}
		var n int
		err = store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM story_reports r
			WHERE r.story_id = ? AND r.reviewed_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM story_reporter_marks m WHERE m.user_id = r.user_id)`, id)
		if err != nil {
			return fmt.Errorf("count reports of story %d: %w", id, err)
		}
		if n < ReportThreshold {
			return nil
		}
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET status = ?, updated_at = ? WHERE id = ?`, Hidden, now, id); err != nil {
			return fmt.Errorf("hide story %d: %w", id, err)
		}
		if err := changelog.Record(ctx, tx, now, changelog.Story, id); err != nil {
			return err
		}
		hidden = true
		if err := logModeration(ctx, tx, id, nil, "AUTO_HIDE", fmt.Sprintf("%d reports", n), now); err != nil {
			return err
		}
		return s.secretariat.NotifySecretariat(ctx, tx, notify.NewNotification{Kind: notify.KindStoryHidden,
			StoryID: id, Params: map[string]any{"Story": st.Title, "Reports": n}})
	})
	if err != nil {
		return Story{}, err
	}
	if hidden {
		slog.WarnContext(ctx, "story hidden after reports", slog.Int64("story_id", id))
	}
	return s.byID(ctx, id)
}

// Report is one person's report of a story, as the secretariat sees it.
type Report struct {
	StoryID    int64      `db:"story_id"`
	UserID     int64      `db:"user_id"`
	Reason     string     `db:"reason"`
	CreatedAt  time.Time  `db:"created_at"`
	ReviewedAt *time.Time `db:"reviewed_at"`
	// ReporterMarked is set when the secretariat marked the reporter as
	// misusing reports: the report counts toward hiding no more.
	ReporterMarked bool `db:"reporter_marked"`
}

// Reviewed reports whether the secretariat looked at the story after the
// report.
func (r Report) Reviewed() bool { return r.ReviewedAt != nil }

// Counts reports whether the report counts toward hiding the story.
func (r Report) Counts() bool { return !r.Reviewed() && !r.ReporterMarked }

// Reports returns the reports of a story, newest first, to the
// secretariat; anyone else gets none (nil): who reported is not for
// organisers, the author or readers.
func (s *Service) Reports(ctx context.Context, c user.Caller, storyID int64) ([]Report, error) {
	if !c.Secretariat {
		return nil, nil
	}
	rs := []Report{}
	err := store.Select(ctx, s.db, &rs, `SELECT r.story_id, r.user_id, r.reason, r.created_at, r.reviewed_at,
		EXISTS (SELECT 1 FROM story_reporter_marks m WHERE m.user_id = r.user_id) AS reporter_marked
		FROM story_reports r WHERE r.story_id = ? ORDER BY r.created_at DESC, r.user_id`, storyID)
	if err != nil {
		return nil, fmt.Errorf("reports of story %d: %w", storyID, err)
	}
	return rs, nil
}

// MarkReporter lets the secretariat mark a person whose reports are
// misuse (misuse true), or take the mark off again. A marked person may
// still report, and is not told: their reports are kept and shown to the
// secretariat, but count toward hiding no more, from now on and for the
// reports they already made. A story they helped hide stays hidden until
// the secretariat restores it: marking is about the person, restoring
// about the story.
func (s *Service) MarkReporter(ctx context.Context, c user.Caller, userID int64, misuse bool, reason string) error {
	if err := c.RequireSecretariat(); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > maxReason {
		return apperr.New(apperr.CodeTooLong, "reason").With("Max", maxReason)
	}
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM users WHERE id = ?`, userID); err != nil {
		return fmt.Errorf("find user %d: %w", userID, err)
	}
	if n == 0 {
		return apperr.New(CodeUserNotFound, "userId")
	}
	var err error
	if misuse {
		_, err = store.Exec(ctx, s.db, `INSERT INTO story_reporter_marks (user_id, marked_by, reason, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET marked_by = excluded.marked_by, reason = excluded.reason`,
			userID, c.UserID, reason, s.now())
	} else {
		_, err = store.Exec(ctx, s.db, `DELETE FROM story_reporter_marks WHERE user_id = ?`, userID)
	}
	if err != nil {
		return fmt.Errorf("mark reporter %d: %w", userID, err)
	}
	slog.InfoContext(ctx, "story reporter marked", slog.Int64("user_id", userID), slog.Bool("misuse", misuse),
		slog.Int64("by", c.UserID))
	return nil
}
