package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// Preferences are what a person wants pushed, and their quiet hours in
// minutes of the day, Copenhagen time. Switching a kind off only stops the
// push: the notification still appears in the in-app inbox.
type Preferences struct {
	UserID        int64 `db:"user_id"`
	NewEvents     bool  `db:"new_events"`
	Announcements bool  `db:"announcements"`
	Reminders     bool  `db:"reminders"`
	Waitlist      bool  `db:"waitlist"`
	Stories       bool  `db:"stories"`
	QuietStart    int   `db:"quiet_start"`
	QuietEnd      int   `db:"quiet_end"`
}

// DefaultPreferences: everything on, quiet 22:00–07:00.
func DefaultPreferences(userID int64) Preferences {
	return Preferences{
		UserID: userID, NewEvents: true, Announcements: true, Reminders: true,
		Waitlist: true, Stories: true, QuietStart: 22 * 60, QuietEnd: 7 * 60,
	}
}

// Wants reports whether a push of kind is wanted. Changes to and
// cancellations of an activity are always pushed: the person follows it or
// has a shift in it and would otherwise turn up to nothing.
func (p Preferences) Wants(k Kind) bool {
	switch k {
	case KindNewEvent:
		return p.NewEvents
	case KindAnnouncement:
		return p.Announcements
	case KindReminder24h, KindReminder2h, KindLateCancellation, KindGuestReminder24h, KindGuestReminder2h:
		return p.Reminders
	case KindWaitlistPromoted, KindSeatPromoted:
		return p.Waitlist
	case KindStoryPublished, KindStoryRejected, KindStoryHidden, KindStoryChangesRequested:
		return p.Stories
	}
	return true
}

// QuietUntil returns when a non-urgent push created at now may go out:
// now itself outside quiet hours, else the end of the quiet period.
func (p Preferences) QuietUntil(now time.Time) time.Time {
	if p.QuietStart == p.QuietEnd {
		return now
	}
	local := now.In(tz.Copenhagen)
	minute := local.Hour()*60 + local.Minute()
	quiet := false
	if p.QuietStart < p.QuietEnd {
		quiet = minute >= p.QuietStart && minute < p.QuietEnd
	} else {
		quiet = minute >= p.QuietStart || minute < p.QuietEnd
	}
	if !quiet {
		return now
	}
	day := local
	if minute >= p.QuietEnd {
		day = local.AddDate(0, 0, 1)
	}
	// time.Date normalises across daylight-saving changes.
	end := time.Date(day.Year(), day.Month(), day.Day(), p.QuietEnd/60, p.QuietEnd%60, 0, 0, tz.Copenhagen)
	return end.UTC()
}

// Preferences returns c's own preferences, the defaults if never set.
func (s *Service) Preferences(ctx context.Context, c user.Caller) (Preferences, error) {
	userID := c.UserID
	if err := c.RequireSignedIn(); err != nil {
		return Preferences{}, err
	}
	p := DefaultPreferences(userID)
	err := store.Get(ctx, s.db, &p, `
		SELECT user_id, new_events, announcements, reminders, waitlist, stories, quiet_start, quiet_end
		FROM notification_preferences WHERE user_id = ?`, userID)
	if err != nil && !store.IsNotFound(err) {
		return Preferences{}, fmt.Errorf("preferences of user %d: %w", userID, err)
	}
	return p, nil
}

// Error codes raised here; the texts are in the i18n catalogue.
const (
	CodeInvalidQuietHours   = "INVALID_QUIET_HOURS"
	CodeInvalidPlatform     = "INVALID_PLATFORM"
	CodeInvalidAudience     = "INVALID_AUDIENCE"
	CodeSendingLimitReached = "SENDING_LIMIT_REACHED"
	CodeInvalidFollowTarget = "INVALID_FOLLOW_TARGET"
)

// UpdatePreferences stores the caller's preferences.
func (s *Service) UpdatePreferences(ctx context.Context, caller user.Caller, p Preferences) (Preferences, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Preferences{}, err
	}
	var errs apperr.List
	if p.QuietStart < 0 || p.QuietStart >= 24*60 {
		errs.Add(CodeInvalidQuietHours, "quietStart")
	}
	if p.QuietEnd < 0 || p.QuietEnd >= 24*60 {
		errs.Add(CodeInvalidQuietHours, "quietEnd")
	}
	if err := errs.Err(); err != nil {
		return Preferences{}, err
	}
	p.UserID = caller.UserID
	_, err := store.Exec(ctx, s.db, `
		INSERT INTO notification_preferences
			(user_id, new_events, announcements, reminders, waitlist, stories, quiet_start, quiet_end, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET
			new_events = excluded.new_events, announcements = excluded.announcements,
			reminders = excluded.reminders, waitlist = excluded.waitlist, stories = excluded.stories,
			quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at`,
		p.UserID, p.NewEvents, p.Announcements, p.Reminders, p.Waitlist, p.Stories, p.QuietStart, p.QuietEnd, s.now())
	if err != nil {
		return Preferences{}, fmt.Errorf("update preferences of user %d: %w", p.UserID, err)
	}
	return p, nil
}
