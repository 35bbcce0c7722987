package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
)

// urgentWithin: a push about something starting sooner than this may break
// quiet hours (a promotion at 23:00 for a shift at 08:00 must not wait
// until 07:00 to be seen, and a shift starting within 2 hours is never
// reminded in the morning after).
const urgentWithin = 12 * time.Hour

// EventHandler returns a bus handler that turns domain events into
// notifications, logging what it could not do.
//
// Events arrive after the change committed, so these notifications are
// written in a transaction of their own: a crash between the domain's
// commit and this handler loses them (a small at-most-once window). The
// honest fix is an outbox row written in the domain's transaction; the
// domain can already avoid the window by calling Notify with its tx.
func (s *Service) EventHandler() event.Handler {
	return func(ctx context.Context, e event.Event) {
		if err := s.HandleEvent(ctx, e); err != nil {
			s.log.ErrorContext(ctx, "notifications for event not created", slog.String("kind", string(e.Kind)),
				slog.Int64("activity_id", e.ActivityID), slog.Int64("claim_id", e.ClaimID), slog.Any("error", err))
		}
	}
}

// HandleEvent creates the notifications event e causes.
func (s *Service) HandleEvent(ctx context.Context, e event.Event) error {
	var ns []NewNotification
	var err error
	switch e.Kind {
	case event.ActivityPublished:
		ns, err = s.activityNotifications(ctx, e.ActivityID, KindNewEvent, false)
	case event.ActivityChanged:
		ns, err = s.activityNotifications(ctx, e.ActivityID, KindActivityChanged, true)
	case event.ActivityCancelled:
		ns, err = s.activityNotifications(ctx, e.ActivityID, KindActivityCancelled, true)
	case event.ClaimPromoted:
		ns, err = s.claimNotifications(ctx, e.ClaimID, KindWaitlistPromoted)
	case event.ClaimCancelled:
		if e.Late {
			ns, err = s.claimNotifications(ctx, e.ClaimID, KindLateCancellation)
		}
	case event.StoryPublished:
		ns, err = s.storyNotifications(ctx, e.StoryID)
	}
	if err != nil {
		return fmt.Errorf("notifications for %s: %w", e.Kind, err)
	}
	return s.notifyInOwnTx(ctx, ns)
}

type activityInfo struct {
	ID             int64      `db:"id"`
	Title          string     `db:"title"`
	OrganisationID int64      `db:"organisation_id"`
	Organisation   string     `db:"organisation"`
	PlaceID        *int64     `db:"place_id"`
	StartsAt       store.Time `db:"starts_at"`
}

// activityNotifications tells followers of the activity's organisation,
// place or themes and, for changes, everyone with a live claim on it.
func (s *Service) activityNotifications(ctx context.Context, activityID int64, kind Kind, volunteers bool) ([]NewNotification, error) {
	now := s.now()
	var a activityInfo
	// The next occurrence decides urgency: for a recurring activity that
	// is the date people are about to go to.
	err := store.Get(ctx, s.db, &a, `
		SELECT a.id, a.title, a.organisation_id, o.name AS organisation, a.place_id,
			COALESCE((SELECT MIN(oc.starts_at) FROM occurrences oc WHERE oc.activity_id = a.id AND oc.ends_at > ?), a.starts_at) AS starts_at
		FROM activities a JOIN organisations o ON o.id = a.organisation_id
		WHERE a.id = ?`, now, activityID)
	if err != nil {
		return nil, fmt.Errorf("activity %d: %w", activityID, err)
	}
	var place int64
	if a.PlaceID != nil {
		place = *a.PlaceID
	}
	query := `
		SELECT user_id FROM follows WHERE kind = 'ORGANISATION' AND organisation_id = ?
		UNION SELECT user_id FROM follows WHERE kind = 'PLACE' AND place_id = ?
		UNION SELECT f.user_id FROM follows f JOIN activity_themes t ON t.theme = f.theme
			WHERE f.kind = 'THEME' AND t.activity_id = ?`
	args := []any{a.OrganisationID, place, a.ID}
	if volunteers {
		query += `
		UNION SELECT c.user_id FROM slot_claims c JOIN volunteer_slots vs ON vs.id = c.slot_id
			WHERE vs.activity_id = ? AND c.status <> 'CANCELLED'`
		args = append(args, a.ID)
	}
	var users []int64
	if err := store.Select(ctx, s.db, &users, query, args...); err != nil {
		return nil, fmt.Errorf("recipients for activity %d: %w", activityID, err)
	}
	urgent := kind != KindNewEvent && a.StartsAt.After(now) && a.StartsAt.Sub(now) < urgentWithin
	params := map[string]any{"Activity": a.Title, "Organisation": a.Organisation, "Time": localTime(a.StartsAt.Time)}
	ns := make([]NewNotification, 0, len(users))
	for _, u := range users {
		ns = append(ns, NewNotification{UserID: u, Kind: kind, Params: params, ActivityID: a.ID, Urgent: urgent})
	}
	return ns, nil
}

type claimInfo struct {
	ClaimID        int64      `db:"claim_id"`
	UserID         int64      `db:"user_id"`
	Volunteer      string     `db:"volunteer"`
	SlotID         int64      `db:"slot_id"`
	Slot           string     `db:"slot"`
	StartsAt       store.Time `db:"starts_at"`
	ActivityID     int64      `db:"activity_id"`
	Activity       string     `db:"activity"`
	OrganisationID int64      `db:"organisation_id"`
}

func (s *Service) claimInfo(ctx context.Context, claimID int64) (claimInfo, error) {
	var c claimInfo
	err := store.Get(ctx, s.db, &c, `
		SELECT c.id AS claim_id, c.user_id, u.display_name AS volunteer, vs.id AS slot_id, vs.title AS slot,
			vs.starts_at, a.id AS activity_id, a.title AS activity, a.organisation_id
		FROM slot_claims c
		JOIN users u ON u.id = c.user_id
		JOIN volunteer_slots vs ON vs.id = c.slot_id
		JOIN activities a ON a.id = vs.activity_id
		WHERE c.id = ?`, claimID)
	if err != nil {
		return claimInfo{}, fmt.Errorf("claim %d: %w", claimID, err)
	}
	return c, nil
}

// claimNotifications: a promotion tells the volunteer; a late
// cancellation tells the organisers, who must find someone else.
func (s *Service) claimNotifications(ctx context.Context, claimID int64, kind Kind) ([]NewNotification, error) {
	c, err := s.claimInfo(ctx, claimID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	base := NewNotification{
		Kind:       kind,
		Params:     map[string]any{"Activity": c.Activity, "Slot": c.Slot, "Time": localTime(c.StartsAt.Time), "Volunteer": c.Volunteer},
		ActivityID: c.ActivityID, SlotID: c.SlotID, ClaimID: c.ClaimID,
		Urgent:    c.StartsAt.Sub(now) < urgentWithin,
		ExpiresAt: c.StartsAt.Time,
	}
	if kind == KindWaitlistPromoted {
		base.UserID = c.UserID
		return []NewNotification{base}, nil
	}
	var organisers []int64
	if err := store.Select(ctx, s.db, &organisers, `SELECT user_id FROM organisers WHERE organisation_id = ? ORDER BY user_id`, c.OrganisationID); err != nil {
		return nil, fmt.Errorf("organisers of %d: %w", c.OrganisationID, err)
	}
	ns := make([]NewNotification, 0, len(organisers))
	for _, u := range organisers {
		n := base
		n.UserID = u
		ns = append(ns, n)
	}
	return ns, nil
}

func (s *Service) storyNotifications(ctx context.Context, storyID int64) ([]NewNotification, error) {
	var st struct {
		AuthorID *int64 `db:"author_id"`
		Title    string `db:"title"`
	}
	if err := store.Get(ctx, s.db, &st, `SELECT author_id, title FROM stories WHERE id = ?`, storyID); err != nil {
		return nil, fmt.Errorf("story %d: %w", storyID, err)
	}
	if st.AuthorID == nil {
		return nil, nil
	}
	return []NewNotification{{UserID: *st.AuthorID, Kind: KindStoryPublished, Params: map[string]any{"Story": st.Title}, StoryID: storyID}}, nil
}

// localTime formats t for a push text, in Copenhagen time; the format reads
// in both Danish and English.
func localTime(t time.Time) string {
	return t.In(tz.Copenhagen).Format("02.01. 15:04")
}
