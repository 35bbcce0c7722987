package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/store"
)

// urgentWithin: a push about something starting sooner than this may break
// quiet hours (a promotion at 23:00 for a shift at 08:00 must not wait
// until 07:00 to be seen, and a shift starting within 2 hours is never
// reminded in the morning after).
const urgentWithin = 12 * time.Hour

// HandleEvent creates the notifications event e causes, in a transaction
// of its own. The server does not use it: the outbox job (outbox.go)
// does the same in the transaction that completes the job. Tests do.
func (s *Service) HandleEvent(ctx context.Context, e event.Event) error {
	ns, err := s.eventNotifications(ctx, e)
	if err != nil {
		return fmt.Errorf("notifications for %s: %w", e.Kind, err)
	}
	return s.notifyInOwnTx(ctx, ns)
}

// eventNotifications says who is told of e, and what. Whoever made the
// change is not told of it.
func (s *Service) eventNotifications(ctx context.Context, e event.Event) ([]NewNotification, error) {
	var ns []NewNotification
	var err error
	switch e.Kind {
	case event.ActivityPublished:
		ns, err = s.activityNotifications(ctx, e, KindNewEvent)
	case event.ActivityChanged:
		ns, err = s.activityNotifications(ctx, e, KindActivityChanged)
	case event.ActivityCancelled:
		ns, err = s.activityNotifications(ctx, e, KindActivityCancelled)
	case event.ClaimPromoted:
		ns, err = s.claimNotifications(ctx, e.ClaimID, KindWaitlistPromoted)
	case event.ClaimCancelled:
		if e.Late {
			ns, err = s.claimNotifications(ctx, e.ClaimID, KindLateCancellation)
		}
	case event.SlotMoved:
		ns, err = s.slotMovedNotifications(ctx, e)
	case event.SlotRemoved:
		ns, err = s.slotRemovedNotifications(ctx, e)
	case event.StoryPublished, event.StoryRejected, event.StoryChangesRequested:
		ns, err = s.storyNotifications(ctx, e)
	}
	if err != nil {
		return nil, err
	}
	out := ns[:0]
	for _, n := range ns {
		if e.ActorID == 0 || n.UserID != e.ActorID {
			out = append(out, n)
		}
	}
	return out, nil
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
// place or themes of a new or changed activity; a change or cancellation
// also everyone with a live claim on it (confirmed or waitlisted) and its
// guests; a cancellation also the volunteers and guests whose claims and
// sign-ups it released (e.UserIDs, recorded before they were cancelled)
// and the organisation's other organisers.
func (s *Service) activityNotifications(ctx context.Context, e event.Event, kind Kind) ([]NewNotification, error) {
	now := s.now()
	var a activityInfo
	// The next occurrence decides urgency: for a recurring activity that
	// is the date people are about to go to. A cancelled activity has no
	// occurrences left; its first start stands in.
	err := store.Get(ctx, s.db, &a, `
		SELECT a.id, a.title, a.organisation_id, o.name AS organisation, a.place_id,
			COALESCE((SELECT MIN(oc.starts_at) FROM occurrences oc WHERE oc.activity_id = a.id AND oc.ends_at > ?), a.starts_at) AS starts_at
		FROM activities a JOIN organisations o ON o.id = a.organisation_id
		WHERE a.id = ?`, now, e.ActivityID)
	if err != nil {
		return nil, fmt.Errorf("activity %d: %w", e.ActivityID, err)
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
	if kind != KindNewEvent {
		// Guests too: going, waitlisted or interested in an occurrence
		// still to come (a cancellation's released ones are in e.UserIDs).
		query += `
		UNION SELECT c.user_id FROM slot_claims c JOIN volunteer_slots vs ON vs.id = c.slot_id
			WHERE vs.activity_id = ? AND c.status <> 'CANCELLED'
		UNION SELECT p.user_id FROM participations p
			WHERE p.activity_id = ? AND p.status <> 'CANCELLED' AND p.occurrence_starts_at > ?`
		args = append(args, a.ID, a.ID, now)
	}
	if kind == KindActivityCancelled {
		query += `
		UNION SELECT user_id FROM organisers WHERE organisation_id = ?`
		args = append(args, a.OrganisationID)
	}
	var users []int64
	if err := store.Select(ctx, s.db, &users, query, args...); err != nil {
		return nil, fmt.Errorf("recipients for activity %d: %w", a.ID, err)
	}
	if kind == KindActivityCancelled {
		users = append(users, e.UserIDs...)
	}
	urgent := kind != KindNewEvent && a.StartsAt.After(now) && a.StartsAt.Sub(now) < urgentWithin
	params := map[string]any{"Activity": a.Title, "Organisation": a.Organisation, "Time": a.StartsAt.Time}
	ns := make([]NewNotification, 0, len(users))
	for _, u := range uniqueIDs(users) {
		ns = append(ns, NewNotification{UserID: u, Kind: kind, Params: params, ActivityID: a.ID, Urgent: urgent})
	}
	return ns, nil
}

// uniqueIDs returns ids sorted, each once, without zeros.
func uniqueIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == 0 {
		out = out[1:]
	}
	return out
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
		Params:     map[string]any{"Activity": c.Activity, "Slot": c.Slot, "Time": c.StartsAt.Time, "Volunteer": c.Volunteer},
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

// storyNotifications tells the author that their story was published,
// rejected or sent back for changes, with the reviewer's reason.
func (s *Service) storyNotifications(ctx context.Context, e event.Event) ([]NewNotification, error) {
	var st struct {
		AuthorID *int64 `db:"author_id"`
		Title    string `db:"title"`
	}
	if err := store.Get(ctx, s.db, &st, `SELECT author_id, title FROM stories WHERE id = ?`, e.StoryID); err != nil {
		return nil, fmt.Errorf("story %d: %w", e.StoryID, err)
	}
	if st.AuthorID == nil {
		return nil, nil
	}
	kind := KindStoryPublished
	switch e.Kind {
	case event.StoryRejected:
		kind = KindStoryRejected
	case event.StoryChangesRequested:
		kind = KindStoryChangesRequested
	}
	return []NewNotification{{UserID: *st.AuthorID, Kind: kind, Params: map[string]any{"Story": st.Title, "Reason": e.Reason}, StoryID: e.StoryID}}, nil
}

// slotMovedNotifications tells the volunteers of a slot whose times
// changed (confirmed and waitlisted) the new times.
func (s *Service) slotMovedNotifications(ctx context.Context, e event.Event) ([]NewNotification, error) {
	var sl struct {
		Title    string     `db:"title"`
		StartsAt store.Time `db:"starts_at"`
		EndsAt   store.Time `db:"ends_at"`
		Activity string     `db:"activity"`
	}
	err := store.Get(ctx, s.db, &sl, `SELECT vs.title, vs.starts_at, vs.ends_at, a.title AS activity
		FROM volunteer_slots vs JOIN activities a ON a.id = vs.activity_id WHERE vs.id = ?`, e.SlotID)
	if errors.Is(err, store.ErrNotFound) {
		// Removed since; its removal told them.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", e.SlotID, err)
	}
	var claims []struct {
		ID     int64 `db:"id"`
		UserID int64 `db:"user_id"`
	}
	if err := store.Select(ctx, s.db, &claims, `SELECT id, user_id FROM slot_claims WHERE slot_id = ? AND status <> 'CANCELLED' ORDER BY id`, e.SlotID); err != nil {
		return nil, fmt.Errorf("claims of slot %d: %w", e.SlotID, err)
	}
	now := s.now()
	first := sl.StartsAt.Time
	if !e.StartsAt.IsZero() && e.StartsAt.Before(first) {
		first = e.StartsAt
	}
	params := map[string]any{"Slot": sl.Title, "Activity": sl.Activity,
		"Time": sl.StartsAt.Time, "End": i18n.Clock(sl.EndsAt.Time)}
	ns := make([]NewNotification, 0, len(claims))
	for _, c := range claims {
		ns = append(ns, NewNotification{UserID: c.UserID, Kind: KindSlotChanged, Params: params,
			ActivityID: e.ActivityID, SlotID: e.SlotID, ClaimID: c.ID,
			// Whichever is sooner, the old time or the new, decides
			// whether it may wake someone.
			Urgent:    first.After(now) && first.Sub(now) < urgentWithin,
			ExpiresAt: sl.EndsAt.Time})
	}
	return ns, nil
}

// slotRemovedNotifications tells the volunteers of a removed slot, who
// the event names: their claims went with it.
func (s *Service) slotRemovedNotifications(ctx context.Context, e event.Event) ([]NewNotification, error) {
	var activity string
	if err := store.Get(ctx, s.db, &activity, `SELECT title FROM activities WHERE id = ?`, e.ActivityID); err != nil {
		return nil, fmt.Errorf("activity %d: %w", e.ActivityID, err)
	}
	now := s.now()
	params := map[string]any{"Slot": e.Title, "Activity": activity, "Time": e.StartsAt}
	var ns []NewNotification
	for _, u := range uniqueIDs(e.UserIDs) {
		ns = append(ns, NewNotification{UserID: u, Kind: KindSlotCancelled, Params: params, ActivityID: e.ActivityID,
			Urgent: e.StartsAt.After(now) && e.StartsAt.Sub(now) < urgentWithin, ExpiresAt: e.StartsAt})
	}
	return ns, nil
}
