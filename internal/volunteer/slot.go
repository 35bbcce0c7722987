package volunteer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

const slotColumns = `s.id, s.activity_id, s.occurrence_starts_at, s.title, s.description, s.starts_at, s.ends_at,
	s.capacity, s.taken, s.waitlisted, s.requirement, s.signup_opens_at, s.signup_closes_at, s.cancel_deadline,
	s.created_by, s.created_at, s.updated_at`

// NewSlot is what an organiser fills in for a slot. UpdateSlot takes the
// same fields and ignores ActivityID: a slot does not move between
// activities.
type NewSlot struct {
	ActivityID int64
	// OccurrenceStartsAt ties the slot to one date of a recurring activity.
	OccurrenceStartsAt *time.Time
	Title              string
	Description        string
	StartsAt, EndsAt   time.Time
	Capacity           int
	// Requirement is empty or one of Requirements.
	Requirement    string
	SignupOpensAt  *time.Time
	SignupClosesAt *time.Time
	// CancelDeadline is when cancelling starts to count as late.
	CancelDeadline *time.Time
}

func (in *NewSlot) normalise() {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.Requirement = strings.TrimSpace(in.Requirement)
	in.StartsAt, in.EndsAt = in.StartsAt.UTC(), in.EndsAt.UTC()
	in.OccurrenceStartsAt = utcPtr(in.OccurrenceStartsAt)
	in.SignupOpensAt = utcPtr(in.SignupOpensAt)
	in.SignupClosesAt = utcPtr(in.SignupClosesAt)
	in.CancelDeadline = utcPtr(in.CancelDeadline)
}

// validate checks every field and reports all problems at once. A start
// time only has to lie in the future when it is new or changed, so an
// organiser can still fix the description of a slot that has begun.
func (s *Service) validate(ctx context.Context, q store.Querier, activityID int64, in NewSlot, now time.Time, old *Slot) error {
	var errs apperr.List
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		errs.Add(apperr.CodeRequired, "title")
	case n > MaxTitle:
		errs.Add(apperr.CodeTooLong, "title").With("Max", MaxTitle)
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		errs.Add(apperr.CodeTooLong, "description").With("Max", MaxDescription)
	}
	if in.StartsAt.IsZero() {
		errs.Add(apperr.CodeRequired, "startsAt")
	} else if (old == nil || !old.StartsAt.Equal(in.StartsAt)) && !in.StartsAt.After(now) {
		errs.Add(CodeInPast, "startsAt")
	}
	switch {
	case in.EndsAt.IsZero():
		errs.Add(apperr.CodeRequired, "endsAt")
	case !in.StartsAt.IsZero() && !in.EndsAt.After(in.StartsAt):
		errs.Add(CodeEndsBeforeStarts, "endsAt")
	case in.EndsAt.Sub(in.StartsAt) > MaxSlotLength:
		errs.Add(CodeSlotTooLong, "endsAt").With("MaxHours", int(MaxSlotLength/time.Hour))
	}
	if in.Capacity < 1 || in.Capacity > MaxCapacity {
		errs.Add(CodeOutOfRange, "capacity").With("Min", 1).With("Max", MaxCapacity)
	}
	if in.Requirement != "" && !knownRequirement(in.Requirement) {
		errs.Add(CodeUnknownRequirement, "requirement")
	}
	opens, closes := in.SignupOpensAt, in.SignupClosesAt
	switch {
	case opens != nil && closes != nil && !opens.Before(*closes):
		errs.Add(CodeInvalidSignupWindow, "signupClosesAt")
	case closes != nil && !in.StartsAt.IsZero() && closes.After(in.StartsAt):
		errs.Add(CodeInvalidSignupWindow, "signupClosesAt")
	case opens != nil && !in.StartsAt.IsZero() && !opens.Before(in.StartsAt):
		errs.Add(CodeInvalidSignupWindow, "signupOpensAt")
	}
	if in.CancelDeadline != nil && !in.StartsAt.IsZero() && in.CancelDeadline.After(in.StartsAt) {
		errs.Add(CodeInvalidCancelDeadline, "cancelDeadline")
	}
	if in.OccurrenceStartsAt != nil {
		var n int
		err := store.Get(ctx, q, &n, `SELECT COUNT(*) FROM occurrences WHERE activity_id = ? AND starts_at = ?`,
			activityID, *in.OccurrenceStartsAt)
		if err != nil {
			return fmt.Errorf("check occurrence: %w", err)
		}
		if n == 0 {
			errs.Add(CodeOccurrenceNotFound, "occurrenceStartsAt")
		}
	}
	if !in.StartsAt.IsZero() && in.EndsAt.After(in.StartsAt) {
		near, err := nearOccurrence(ctx, q, activityID, in)
		if err != nil {
			return err
		}
		if !near {
			errs.Add(CodeSlotOutsideOccurrence, "startsAt").With("MarginHours", int(SlotMargin/time.Hour))
		}
	}
	return errs.Err()
}

// nearOccurrence reports whether the slot lies within SlotMargin of its
// occurrence: the one it names, or else any of the activity's (a one-off
// has just one), so a shift cannot land on another day or months away
// from what it is for. An occurrence the slot names that does not exist
// is OCCURRENCE_NOT_FOUND already and counts as near here.
func nearOccurrence(ctx context.Context, q store.Querier, activityID int64, in NewSlot) (bool, error) {
	// The slot lies within [occurrence start - margin, occurrence end + margin].
	query := `SELECT COUNT(*) FROM occurrences WHERE activity_id = ? AND starts_at <= ? AND ends_at >= ?`
	args := []any{activityID, in.StartsAt.Add(SlotMargin), in.EndsAt.Add(-SlotMargin)}
	if in.OccurrenceStartsAt != nil {
		var exists int
		if err := store.Get(ctx, q, &exists, `SELECT COUNT(*) FROM occurrences WHERE activity_id = ? AND starts_at = ?`,
			activityID, *in.OccurrenceStartsAt); err != nil {
			return false, fmt.Errorf("check occurrence: %w", err)
		}
		if exists == 0 {
			return true, nil
		}
		query += ` AND starts_at = ?`
		args = append(args, *in.OccurrenceStartsAt)
	}
	var n int
	if err := store.Get(ctx, q, &n, query, args...); err != nil {
		return false, fmt.Errorf("check slot near occurrence: %w", err)
	}
	return n > 0, nil
}

type activityInfo struct {
	OrganisationID int64  `db:"organisation_id"`
	Status         string `db:"status"`
}

// visibleTo reports whether c may see the activity (and so its slots).
func (a activityInfo) visibleTo(c user.Caller) bool {
	return activity.Visible(c, activity.Status(a.Status), a.OrganisationID)
}

func activityOf(ctx context.Context, q store.Querier, activityID int64) (activityInfo, error) {
	var a activityInfo
	err := store.Get(ctx, q, &a, `SELECT organisation_id, status FROM activities WHERE id = ?`, activityID)
	if err != nil {
		return activityInfo{}, fmt.Errorf("activity %d: %w", activityID, err)
	}
	return a, nil
}

// slotForOrganiser reads a slot and checks that the caller organises its
// activity; a missing slot is a user error because the id came from them.
func (s *Service) slotForOrganiser(ctx context.Context, caller user.Caller, id int64) (Slot, activityInfo, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Slot{}, activityInfo{}, err
	}
	sl, err := slotByID(ctx, s.db, id, "")
	if errors.Is(err, store.ErrNotFound) {
		return Slot{}, activityInfo{}, apperr.New(CodeSlotNotFound, "slotId")
	}
	if err != nil {
		return Slot{}, activityInfo{}, err
	}
	a, err := activityOf(ctx, s.db, sl.ActivityID)
	if err != nil {
		return Slot{}, activityInfo{}, err
	}
	if !a.visibleTo(caller) {
		return Slot{}, activityInfo{}, apperr.New(CodeSlotNotFound, "slotId")
	}
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Slot{}, activityInfo{}, err
	}
	return sl, a, nil
}

func slotByID(ctx context.Context, q store.Querier, id int64, lock string) (Slot, error) {
	var sl Slot
	if err := store.Get(ctx, q, &sl, `SELECT `+slotColumns+` FROM volunteer_slots s WHERE s.id = ?`+lock, id); err != nil {
		return Slot{}, fmt.Errorf("slot %d: %w", id, err)
	}
	return sl, nil
}

// AddSlot adds a slot to an activity. Organisers of the activity's
// organisation and the secretariat may.
func (s *Service) AddSlot(ctx context.Context, caller user.Caller, in NewSlot) (Slot, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Slot{}, err
	}
	a, err := activityOf(ctx, s.db, in.ActivityID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.visibleTo(caller)) {
		// Someone else's draft is not there, as far as the caller knows.
		return Slot{}, apperr.New(CodeActivityNotFound, "activityId")
	}
	if err != nil {
		return Slot{}, err
	}
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Slot{}, err
	}
	if a.Status == "CANCELLED" {
		return Slot{}, apperr.New(CodeActivityCancelled, "activityId")
	}
	in.normalise()
	now := s.clock()
	if err := s.validate(ctx, s.db, in.ActivityID, in, now, nil); err != nil {
		return Slot{}, err
	}
	var (
		id     int64
		events []event.Event
	)
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		err := store.Get(ctx, tx, &id, `INSERT INTO volunteer_slots
			(activity_id, occurrence_starts_at, title, description, starts_at, ends_at, capacity, requirement,
			 signup_opens_at, signup_closes_at, cancel_deadline, taken, waitlisted, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?) RETURNING id`,
			in.ActivityID, in.OccurrenceStartsAt, in.Title, in.Description, in.StartsAt, in.EndsAt, in.Capacity,
			nullIfEmpty(in.Requirement), in.SignupOpensAt, in.SignupClosesAt, in.CancelDeadline, caller.UserID, now)
		if err != nil {
			return fmt.Errorf("insert slot: %w", err)
		}
		events = []event.Event{{Kind: event.SlotChanged, SlotID: id, ActivityID: in.ActivityID, OrganisationID: a.OrganisationID}}
		return logChanges(ctx, tx, now, events)
	})
	if err != nil {
		return Slot{}, err
	}
	sl, err := slotByID(ctx, s.db, id, "")
	if err != nil {
		return Slot{}, err
	}
	s.publish(ctx, events)
	return sl, nil
}

// UpdateSlot changes a slot. Raising the capacity promotes people from the
// waitlist; lowering it below the number already confirmed is refused
// rather than silently cancelling someone's shift. Moving the times does
// not re-check the confirmed volunteers' other shifts: they are told the
// new times (SlotMoved) and can cancel.
func (s *Service) UpdateSlot(ctx context.Context, caller user.Caller, id int64, in NewSlot) (Slot, error) {
	_, a, err := s.slotForOrganiser(ctx, caller, id)
	if err != nil {
		return Slot{}, err
	}
	in.normalise()
	now := s.clock()
	var (
		sl     Slot
		events []event.Event
	)
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		old, err := s.lockSlotAndWaitlist(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.validate(ctx, tx, old.ActivityID, in, now, &old); err != nil {
			return err
		}
		if in.Capacity < old.Taken {
			return apperr.New(CodeCapacityBelowTaken, "capacity").With("Taken", old.Taken)
		}
		_, err = store.Exec(ctx, tx, `UPDATE volunteer_slots SET occurrence_starts_at = ?, title = ?, description = ?,
			starts_at = ?, ends_at = ?, capacity = ?, requirement = ?, signup_opens_at = ?, signup_closes_at = ?,
			cancel_deadline = ? WHERE id = ?`,
			in.OccurrenceStartsAt, in.Title, in.Description, in.StartsAt, in.EndsAt, in.Capacity,
			nullIfEmpty(in.Requirement), in.SignupOpensAt, in.SignupClosesAt, in.CancelDeadline, id)
		if err != nil {
			return fmt.Errorf("update slot %d: %w", id, err)
		}
		sl, err = slotByID(ctx, tx, id, "")
		if err != nil {
			return err
		}
		promoted, err := s.promote(ctx, tx, sl, a.OrganisationID, now)
		if err != nil {
			return err
		}
		events = append(promoted, event.Event{Kind: event.SlotChanged, SlotID: id, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID})
		if !sl.StartsAt.Equal(old.StartsAt) || !sl.EndsAt.Equal(old.EndsAt) {
			// Moved, shortened or lengthened: its volunteers are told the
			// new times.
			events = append(events, event.Event{Kind: event.SlotMoved, SlotID: id, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID,
				ActorID: caller.UserID, StartsAt: old.StartsAt, EndsAt: old.EndsAt})
		}
		if err := logChanges(ctx, tx, now, events); err != nil {
			return err
		}
		if sl, err = slotByID(ctx, tx, id, ""); err != nil {
			return err
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Slot{}, err
	}
	s.publish(ctx, events)
	return sl, nil
}

// RemoveSlot deletes a slot that has not started with its claims; its
// volunteers (confirmed and waitlisted) are told through the outbox
// (SlotRemoved names them). A slot that has started is kept: it carries
// people's hours.
func (s *Service) RemoveSlot(ctx context.Context, caller user.Caller, id int64) error {
	_, a, err := s.slotForOrganiser(ctx, caller, id)
	if err != nil {
		return err
	}
	now := s.clock()
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		sl, err := slotByID(ctx, tx, id, s.db.ForUpdate())
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(CodeSlotNotFound, "slotId")
		}
		if err != nil {
			return err
		}
		if !now.Before(sl.StartsAt) {
			return apperr.New(CodeSlotInPast, "slotId")
		}
		var live []struct {
			ID     int64 `db:"id"`
			UserID int64 `db:"user_id"`
		}
		err = store.Select(ctx, tx, &live, `SELECT id, user_id FROM slot_claims WHERE slot_id = ? AND status <> 'CANCELLED' ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("claims of slot %d: %w", id, err)
		}
		if _, err := store.Exec(ctx, tx, `DELETE FROM volunteer_slots WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete slot %d: %w", id, err)
		}
		removed := event.Event{Kind: event.SlotRemoved, SlotID: id, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID,
			ActorID: caller.UserID, Title: sl.Title, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt}
		for _, c := range live {
			events = append(events, event.Event{Kind: event.ClaimCancelled, SlotID: id, ActivityID: sl.ActivityID,
				OrganisationID: a.OrganisationID, ClaimID: c.ID, UserID: c.UserID})
			removed.UserIDs = append(removed.UserIDs, c.UserID)
		}
		events = append(events, removed, event.Event{Kind: event.SlotChanged, SlotID: id, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID})
		if err := logChanges(ctx, tx, now, events); err != nil {
			return err
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events)
	return nil
}

// A slot is seen with its activity: slots of a draft only by the
// activity's organisers and the secretariat (activity.Visible).

// slotsWhere reads the slots matching where (on volunteer_slots s) whose
// activity c may see.
func (s *Service) slotsWhere(ctx context.Context, c user.Caller, where string, args ...any) ([]Slot, error) {
	q, args, err := store.In(`SELECT `+slotColumns+`, a.status AS activity_status, a.organisation_id AS activity_organisation_id
		FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Slot
		ActivityStatus         activity.Status `db:"activity_status"`
		ActivityOrganisationID int64           `db:"activity_organisation_id"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, err
	}
	slots := make([]Slot, 0, len(rows))
	for _, r := range rows {
		if activity.Visible(c, r.ActivityStatus, r.ActivityOrganisationID) {
			slots = append(slots, r.Slot)
		}
	}
	return slots, nil
}

// Slot returns the slot with id as c may see it; one c may not see is
// not found, as if it did not exist.
func (s *Service) Slot(ctx context.Context, c user.Caller, id int64) (Slot, error) {
	slots, err := s.slotsWhere(ctx, c, `s.id = ?`, id)
	if err != nil {
		return Slot{}, fmt.Errorf("slot %d: %w", id, err)
	}
	if len(slots) == 0 {
		return Slot{}, fmt.Errorf("slot %d: %w", id, store.ErrNotFound)
	}
	return slots[0], nil
}

// SlotsByIDs returns the slots among ids that c may see, in no particular
// order.
func (s *Service) SlotsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Slot, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	slots, err := s.slotsWhere(ctx, c, `s.id IN (?)`, ids)
	if err != nil {
		return nil, fmt.Errorf("slots by ids: %w", err)
	}
	return slots, nil
}

// SlotsByActivityIDs returns the slots of the given activities that c may
// see, ordered by start, then id.
func (s *Service) SlotsByActivityIDs(ctx context.Context, c user.Caller, ids []int64) ([]Slot, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	slots, err := s.slotsWhere(ctx, c, `s.activity_id IN (?) ORDER BY s.starts_at, s.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("slots of activities: %w", err)
	}
	return slots, nil
}

// OpenSlots lists upcoming slots of published activities that still have
// room and whose sign-up has not closed, ordered by (starts_at, id) and
// paged by that key. from and to narrow the slots' start times. Only
// published activities have open slots, for every caller.
func (s *Service) OpenSlots(ctx context.Context, c user.Caller, from, to *time.Time, afterStartsAt *time.Time, afterID int64, limit int) ([]Slot, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	now := s.clock()
	where := []string{"a.status = 'PUBLISHED'", "s.starts_at > ?", "s.taken < s.capacity",
		"(s.signup_closes_at IS NULL OR s.signup_closes_at > ?)"}
	args := []any{now, now}
	if from != nil {
		where = append(where, "s.starts_at >= ?")
		args = append(args, from.UTC())
	}
	if to != nil {
		where = append(where, "s.starts_at < ?")
		args = append(args, to.UTC())
	}
	if afterStartsAt != nil {
		where = append(where, "(s.starts_at > ? OR (s.starts_at = ? AND s.id > ?))")
		args = append(args, afterStartsAt.UTC(), afterStartsAt.UTC(), afterID)
	}
	args = append(args, limit)
	var slots []Slot
	err := store.Select(ctx, s.db, &slots, `SELECT `+slotColumns+`
		FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY s.starts_at, s.id
		LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("open slots: %w", err)
	}
	return slots, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// The app keeps offline the slots of activities that are not drafts, as
// long as they have not ended, and the caller's own live claims
// (internal/offline). A draft's slots stay off every phone, its
// organisers' too, as the draft itself does.

// SlotsForSync returns up to limit slots phones keep, by id after afterID,
// as c may see them, for a first sync; next is the id to go on after, 0
// when there are no more.
func (s *Service) SlotsForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (slots []Slot, next int64, err error) {
	var ids []int64
	err = store.Select(ctx, s.db, &ids, `SELECT s.id FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE s.id > ? AND a.status <> 'DRAFT' AND s.ends_at > ? ORDER BY s.id LIMIT ?`, afterID, s.clock(), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("slots for sync: %w", err)
	}
	slots, err = s.SyncedSlots(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return slots, 0, err
	}
	return slots, ids[len(ids)-1], nil
}

// SyncedSlots returns the slots among ids that c may see and phones keep
// (their activity is no draft), in no particular order.
func (s *Service) SyncedSlots(ctx context.Context, c user.Caller, ids []int64) ([]Slot, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	slots, err := s.slotsWhere(ctx, c, `s.id IN (?) AND a.status <> 'DRAFT'`, ids)
	if err != nil {
		return nil, fmt.Errorf("slots for sync: %w", err)
	}
	return slots, nil
}

// ClaimsForSync returns up to limit of c's own live claims on slots not
// ended, by id after afterID, for a first sync; next is the id to go on
// after, 0 when there are no more.
func (s *Service) ClaimsForSync(ctx context.Context, c user.Caller, afterID int64, limit int) (claims []Claim, next int64, err error) {
	if !c.SignedIn() {
		return nil, 0, nil
	}
	var ids []int64
	err = store.Select(ctx, s.db, &ids, `SELECT c.id FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id = ? AND c.id > ? AND c.status <> 'CANCELLED' AND s.ends_at > ? ORDER BY c.id LIMIT ?`,
		c.UserID, afterID, s.clock(), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("claims of user %d for sync: %w", c.UserID, err)
	}
	claims, err = s.SyncedClaims(ctx, c, ids)
	if err != nil || len(ids) < limit {
		return claims, 0, err
	}
	return claims, ids[len(ids)-1], nil
}

// SyncedClaims returns those of c's own claims among ids that are live,
// in no particular order: a released or cancelled claim leaves the phone,
// and an organiser's phone keeps no one else's.
func (s *Service) SyncedClaims(ctx context.Context, c user.Caller, ids []int64) ([]Claim, error) {
	all, err := s.ClaimsByIDs(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	var own []Claim
	for _, cl := range all {
		if cl.UserID == c.UserID && cl.Live() {
			own = append(own, cl)
		}
	}
	return own, nil
}
