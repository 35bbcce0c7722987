package volunteer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// The waitlist position is not stored: it is the claim's rank by id among
// the slot's waitlisted claims, so positions stay 1..n without gaps
// whatever leaves the queue.
const claimColumns = `c.id, c.slot_id, c.user_id, c.status,
	CASE WHEN c.status = 'WAITLISTED' THEN (SELECT COUNT(*) FROM slot_claims w
		WHERE w.slot_id = c.slot_id AND w.status = 'WAITLISTED' AND w.id <= c.id) END AS waitlist_position,
	c.attendance, c.late_cancel, c.created_by, c.created_at, c.confirmed_at, c.promoted_at, c.cancelled_at, c.updated_at`

func claimByID(ctx context.Context, q store.Querier, id int64) (Claim, error) {
	var c Claim
	if err := store.Get(ctx, q, &c, `SELECT `+claimColumns+` FROM slot_claims c WHERE c.id = ?`, id); err != nil {
		return Claim{}, fmt.Errorf("claim %d: %w", id, err)
	}
	return c, nil
}

// Claim takes a place on the slot for the caller: CONFIRMED while there is
// room, WAITLISTED when the slot is full (a full slot is not an error).
//
// idempotencyKey makes retries safe: the phone sends the same key for
// every retry of one tap, and every call with a key already used by this
// person for this slot returns the answer the first call got — the claim
// (in its current state) or the same user error — without doing anything
// again. A new tap sends a new key and is judged afresh.
func (s *Service) Claim(ctx context.Context, caller user.Caller, slotID int64, idempotencyKey string) (Claim, error) {
	if err := caller.RequireShown(); err != nil {
		return Claim{}, err
	}
	key, err := seat.Key(idempotencyKey)
	if err != nil {
		return Claim{}, err
	}
	return s.claimQueued(ctx, caller, slotID, key)
}

// SignUpOnBehalf lets an organiser sign up a resident who has no
// smartphone. The resident is found by phone among people without the app
// (so a second sign-up reuses them, and a repeated tap is ALREADY_CLAIMED
// rather than a duplicate person), or created with has_app = false. The
// same rules apply as when the resident claims for themself.
func (s *Service) SignUpOnBehalf(ctx context.Context, caller user.Caller, slotID int64, name, phone string) (Claim, error) {
	if _, _, err := s.slotForOrganiser(ctx, caller, slotID); err != nil {
		return Claim{}, err
	}
	name, phone, err := user.NormaliseWithoutApp(name, phone, MaxName)
	if err != nil {
		return Claim{}, err
	}
	resident := func(ctx context.Context, tx *sqlx.Tx) (int64, error) {
		return user.WithoutAppTx(ctx, tx, name, phone, s.clock())
	}
	return s.claim(ctx, caller, slotID, "", resident)
}

// claim runs the whole claim in one transaction: lock the person, replay
// an already used key, check the rules, lock the slot, insert the claim,
// move the counter and remember the key. who names the person inside the
// transaction (SignUpOnBehalf may create them there).
func (s *Service) claim(ctx context.Context, caller user.Caller, slotID int64, key string,
	who func(context.Context, *sqlx.Tx) (int64, error)) (Claim, error) {
	now := s.clock()
	var (
		c      Claim
		userID int64
		events []event.Event
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		var err error
		if userID, err = who(ctx, tx); err != nil {
			return err
		}
		// The person first, then the slot: two claims by one person on
		// overlapping slots queue here, so the second sees the first
		// when it checks for overlaps.
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if key != "" {
			replayed, err := s.replay(ctx, tx, userID, key, slotID)
			if err != nil || replayed != nil {
				if replayed != nil {
					c = *replayed
				}
				return err
			}
		}
		// A person's own claims are limited, counted from their claims
		// (locked above, so two at once are counted one after the other);
		// an organiser signing people up at the desk is not.
		if caller.UserID == userID && s.claims.Enabled() {
			var latest []time.Time
			err := store.Select(ctx, tx, &latest, `SELECT created_at FROM slot_claims
				WHERE user_id = ? AND created_by = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?`,
				userID, userID, s.claims.Since(now), s.claims.N)
			if err != nil {
				return fmt.Errorf("count claims of user %d: %w", userID, err)
			}
			if err := s.claims.Check(CodeTooManyClaims, latest, now); err != nil {
				return err
			}
		}
		// The rules are checked on the slot as read without its lock:
		// they depend on its times and requirement, its activity, and the
		// person's own claims (locked above), not on the others claiming.
		// Only the counter needs the slot's lock, which on PostgreSQL is
		// where claims on one slot queue, so the queue moves faster when
		// the checks are done before it. Under the lock the slot and the
		// activity are read again; if an organiser changed either in
		// between, the rules are checked again.
		seen, checked, err := claimedSlot(ctx, tx, slotID, "")
		if err != nil {
			return err
		}
		if err := s.checkClaimable(ctx, tx, caller, userID, seen, checked, now); err != nil {
			return err
		}
		sl, a, err := claimedSlot(ctx, tx, slotID, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if !sameRules(seen, sl) || a != checked {
			if err := s.checkClaimable(ctx, tx, caller, userID, sl, a, now); err != nil {
				return err
			}
		}

		status, counter := Waitlisted, "waitlisted"
		var confirmedAt *time.Time
		if sl.Taken < sl.Capacity {
			status, counter, confirmedAt = Confirmed, "taken", &now
		}
		var createdBy *int64
		if caller.UserID != 0 {
			createdBy = &caller.UserID
		}
		var id int64
		err = store.Get(ctx, tx, &id, `INSERT INTO slot_claims (slot_id, user_id, status, created_by, created_at, confirmed_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, slotID, userID, status, createdBy, now, confirmedAt)
		if store.IsAlreadyExists(err) {
			return apperr.New(CodeAlreadyClaimed, "slotId")
		}
		if err != nil {
			return fmt.Errorf("insert claim: %w", err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET `+counter+` = `+counter+` + 1 WHERE id = ?`, slotID); err != nil {
			return fmt.Errorf("count claim on slot %d: %w", slotID, err)
		}
		if key != "" {
			_, err := store.Exec(ctx, tx, `INSERT INTO idempotency_keys (user_id, key, slot_id, claim_id, created_at)
				VALUES (?, ?, ?, ?, ?)`, userID, key, slotID, id, now)
			if err != nil {
				return fmt.Errorf("remember idempotency key: %w", err)
			}
		}
		if c, err = claimByID(ctx, tx, id); err != nil {
			return err
		}
		kind := event.ClaimWaitlisted
		if status == Confirmed {
			kind = event.ClaimConfirmed
		}
		events = []event.Event{
			{Kind: kind, SlotID: slotID, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID, ClaimID: id, UserID: userID},
			{Kind: event.SlotChanged, SlotID: slotID, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID},
		}
		if err := logChanges(ctx, tx, now, events); err != nil {
			return err
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		if key != "" {
			s.rememberRefusal(ctx, userID, key, slotID, err, now)
		}
		return Claim{}, err
	}
	s.publish(ctx, events)
	return c, nil
}

// claimedSlot reads the slot a claim names, with lock, and its activity; a
// missing slot is the claimant's error.
func claimedSlot(ctx context.Context, tx *sqlx.Tx, slotID int64, lock string) (Slot, activityInfo, error) {
	sl, err := slotByID(ctx, tx, slotID, lock)
	if errors.Is(err, store.ErrNotFound) {
		return Slot{}, activityInfo{}, apperr.New(CodeSlotNotFound, "slotId")
	}
	if err != nil {
		return Slot{}, activityInfo{}, err
	}
	a, err := activityOf(ctx, tx, sl.ActivityID)
	return sl, a, err
}

// sameRules reports whether two reads of a slot agree on everything the
// claim rules look at.
func sameRules(a, b Slot) bool {
	return a.ActivityID == b.ActivityID && a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) &&
		equalPtr(a.Requirement, b.Requirement) && equalTime(a.SignupOpensAt, b.SignupOpensAt) &&
		equalTime(a.SignupClosesAt, b.SignupClosesAt)
}

func equalPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func equalTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

// replay returns the earlier answer for a key this person already used:
// the claim, or the user error the first call got. It returns (nil, nil)
// for a new key.
func (s *Service) replay(ctx context.Context, tx *sqlx.Tx, userID int64, key string, slotID int64) (*Claim, error) {
	var k struct {
		SlotID    int64   `db:"slot_id"`
		ClaimID   *int64  `db:"claim_id"`
		ErrorCode *string `db:"error_code"`
	}
	err := store.Get(ctx, tx, &k, `SELECT slot_id, claim_id, error_code FROM idempotency_keys WHERE user_id = ? AND key = ?`, userID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	claimID, err := seat.Remembered{SameTarget: k.SlotID == slotID, ResultID: k.ClaimID, ErrorCode: k.ErrorCode}.Answer("slotId")
	if err != nil {
		return nil, fmt.Errorf("key %q of user %d: %w", key, userID, err)
	}
	c, err := claimByID(ctx, tx, claimID)
	if errors.Is(err, store.ErrNotFound) {
		// The slot was removed since, taking its claims with it.
		return nil, apperr.New(CodeSlotNotFound, "slotId")
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// replayableCodes are the refusals a retry with the same key gets again.
var replayableCodes = map[string]bool{
	CodeSlotNotFound: true, CodeSlotInPast: true, CodeSignupNotOpen: true, CodeSignupClosed: true,
	CodeAlreadyClaimed: true, CodeOverlapsOtherClaim: true, CodeDailyLimitReached: true,
	CodeRequirementNotMet: true, CodeActivityCancelled: true,
}

// rememberRefusal stores the rule that refused a claim under its key, in
// a transaction of its own because the claim's was rolled back. Failing
// to remember only means a retry is judged afresh, so it is logged, not
// returned.
func (s *Service) rememberRefusal(ctx context.Context, userID int64, key string, slotID int64, err error, now time.Time) {
	code := seat.Refusal(err, replayableCodes)
	if userID == 0 || code == "" {
		return
	}
	_, xerr := store.Exec(ctx, s.db, `INSERT INTO idempotency_keys (user_id, key, slot_id, error_code, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, key) DO NOTHING`, userID, key, slotID, code, now)
	if xerr != nil {
		slog.WarnContext(ctx, "remember refused claim", "user_id", userID, "slot_id", slotID, "error", xerr)
	}
}

// PurgeIdempotencyKeys forgets keys created before olderThan. Keep them at
// least a day: a phone may retry for hours on a poor connection.
func (s *Service) PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int64, error) {
	n, err := store.Exec(ctx, s.db, `DELETE FROM idempotency_keys WHERE created_at < ?`, olderThan.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

func (s *Service) lockUser(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	var id int64
	err := store.Get(ctx, tx, &id, `SELECT id FROM users WHERE id = ? AND deleted_at IS NULL`+s.db.ForUpdate(), userID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(CodeUserNotFound, "userId")
	}
	if err != nil {
		return fmt.Errorf("lock user %d: %w", userID, err)
	}
	return nil
}

// lockSlotAndWaitlist locks, in the global order (people by id, then the
// slot), everything a change that may promote from the slot's waitlist
// touches. Someone who joins the queue between the two statements is
// locked later by promote if their turn comes; that rare path can deadlock
// and is retried by Transact.
func (s *Service) lockSlotAndWaitlist(ctx context.Context, tx *sqlx.Tx, slotID int64) (Slot, error) {
	err := s.db.LockRows(ctx, tx, `SELECT id FROM users WHERE id IN
		(SELECT user_id FROM slot_claims WHERE slot_id = ? AND status = 'WAITLISTED') ORDER BY id`, slotID)
	if err != nil {
		return Slot{}, fmt.Errorf("lock waitlist of slot %d: %w", slotID, err)
	}
	sl, err := slotByID(ctx, tx, slotID, s.db.ForUpdate())
	if errors.Is(err, store.ErrNotFound) {
		return Slot{}, apperr.New(CodeSlotNotFound, "slotId")
	}
	return sl, err
}

// checkClaimable applies the rules for taking (or queueing for) a place.
// Overlap and the daily limit are checked against confirmed claims even
// when the new claim will only be waitlisted: queueing for a time one is
// already busy is pointless.
func (s *Service) checkClaimable(ctx context.Context, q store.Querier, caller user.Caller, userID int64, sl Slot, a activityInfo, now time.Time) error {
	if err := slotOpen(caller, sl, a, now); err != nil {
		return err
	}
	var live int
	err := store.Get(ctx, q, &live, `SELECT COUNT(*) FROM slot_claims WHERE slot_id = ? AND user_id = ? AND status <> 'CANCELLED'`, sl.ID, userID)
	if err != nil {
		return fmt.Errorf("check existing claim: %w", err)
	}
	if live > 0 {
		return apperr.New(CodeAlreadyClaimed, "slotId")
	}
	if err := s.checkRequirement(ctx, q, userID, a.OrganisationID, sl); err != nil {
		return err
	}
	return s.checkSchedule(ctx, q, userID, sl)
}

// slotOpen applies the rules of claiming that depend on the slot and
// its activity alone: visible to the caller, not cancelled, not begun,
// sign-up open.
func slotOpen(caller user.Caller, sl Slot, a activityInfo, now time.Time) error {
	if !a.visibleTo(caller) {
		return apperr.New(CodeSlotNotFound, "slotId")
	}
	if a.Status == "CANCELLED" {
		return apperr.New(CodeActivityCancelled, "slotId")
	}
	if !now.Before(sl.StartsAt) {
		return apperr.New(CodeSlotInPast, "slotId")
	}
	if sl.SignupOpensAt != nil && now.Before(*sl.SignupOpensAt) {
		return apperr.New(CodeSignupNotOpen, "slotId").With("OpensAt", *sl.SignupOpensAt)
	}
	if sl.SignupClosesAt != nil && !now.Before(*sl.SignupClosesAt) {
		return apperr.New(CodeSignupClosed, "slotId")
	}
	return nil
}

// checkRequirement asks for a qualification recorded by the organisation
// of the slot (organisationID) and still valid when the slot ends: a
// certificate checked by another association does not count here.
func (s *Service) checkRequirement(ctx context.Context, q store.Querier, userID, organisationID int64, sl Slot) error {
	if sl.Requirement == nil {
		return nil
	}
	var n int
	err := store.Get(ctx, q, &n, `SELECT COUNT(*) FROM user_qualifications
		WHERE user_id = ? AND organisation_id = ? AND requirement = ? AND expires_at >= ?`,
		userID, organisationID, *sl.Requirement, sl.EndsAt)
	if err != nil {
		return fmt.Errorf("check qualification: %w", err)
	}
	if n == 0 {
		return apperr.New(CodeRequirementNotMet, "slotId").With("Requirement", *sl.Requirement)
	}
	return nil
}

// checkSchedule refuses a slot that overlaps one of the person's confirmed
// slots or would take their confirmed hours on any Copenhagen calendar day
// the slot touches above the daily limit. A slot crossing midnight counts
// towards each day with the part that falls in it.
func (s *Service) checkSchedule(ctx context.Context, q store.Querier, userID int64, sl Slot) error {
	first, end := s.scheduleWindow(sl)
	var booked []booking
	err := store.Select(ctx, q, &booked, `SELECT c.user_id, s.starts_at, s.ends_at
		FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id = ? AND c.status = 'CONFIRMED' AND c.slot_id <> ? AND s.starts_at < ? AND s.ends_at > ?`,
		userID, sl.ID, end.UTC(), first.UTC())
	if err != nil {
		return fmt.Errorf("confirmed slots of user %d: %w", userID, err)
	}
	return s.fitsSchedule(sl, booked)
}

// scheduleWindow is the Copenhagen calendar days sl touches, [first, end).
func (s *Service) scheduleWindow(sl Slot) (first, end time.Time) {
	return s.startOfDay(sl.StartsAt), s.startOfDay(sl.EndsAt.Add(-time.Nanosecond)).AddDate(0, 0, 1)
}

// fitsSchedule is checkSchedule's judgement on the person's confirmed
// slots booked on the days of sl.
func (s *Service) fitsSchedule(sl Slot, booked []booking) error {
	first, _ := s.scheduleWindow(sl)
	for _, b := range booked {
		if b.StartsAt.Before(sl.EndsAt) && b.EndsAt.After(sl.StartsAt) {
			return apperr.New(CodeOverlapsOtherClaim, "slotId")
		}
	}
	for day := first; day.Before(sl.EndsAt); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		total := overlap(sl.StartsAt, sl.EndsAt, day, next)
		for _, b := range booked {
			total += overlap(b.StartsAt, b.EndsAt, day, next)
		}
		if total > s.dailyLimit {
			return apperr.New(CodeDailyLimitReached, "slotId").With("Hours", s.dailyLimit.Hours())
		}
	}
	return nil
}

func (s *Service) startOfDay(t time.Time) time.Time {
	l := t.In(s.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc)
}

// overlap is the length of [a1, a2) ∩ [b1, b2).
func overlap(a1, a2, b1, b2 time.Time) time.Duration {
	start, end := a1, a2
	if b1.After(start) {
		start = b1
	}
	if b2.Before(end) {
		end = b2
	}
	if !end.After(start) {
		return 0
	}
	return end.Sub(start)
}

// promote fills the slot's free places from the waitlist, earliest claim
// first. Someone whose turn comes but who could not take the place now —
// it overlaps a shift they confirmed since joining the queue, would break
// their daily limit, or their qualification has lapsed — is passed over
// and stays in the queue (a later free place may suit them), and the next
// in line is asked. Nobody is promoted once the slot has started: the
// place would be useless to them. sl must carry the current counters.
func (s *Service) promote(ctx context.Context, tx *sqlx.Tx, sl Slot, organisationID int64, now time.Time) ([]event.Event, error) {
	free := sl.Capacity - sl.Taken
	if free <= 0 || sl.Waitlisted == 0 || !now.Before(sl.StartsAt) {
		return nil, nil
	}
	var waiting []struct {
		ID     int64 `db:"id"`
		UserID int64 `db:"user_id"`
	}
	err := store.Select(ctx, tx, &waiting, `SELECT id, user_id FROM slot_claims WHERE slot_id = ? AND status = 'WAITLISTED' ORDER BY id`, sl.ID)
	if err != nil {
		return nil, fmt.Errorf("waitlist of slot %d: %w", sl.ID, err)
	}
	queue := make([]seat.Waiting, len(waiting))
	for i, w := range waiting {
		queue[i] = seat.Waiting{ID: w.ID, UserID: w.UserID, Size: 1}
	}
	chosen, err := seat.Fill(free, queue, func(w seat.Waiting) (bool, error) {
		// Usually already locked by lockSlotAndWaitlist; taking it again
		// is free. A deleted account's claim is left for the deletion to
		// clean up.
		err := s.lockUser(ctx, tx, w.UserID)
		if err == nil {
			err = s.checkRequirement(ctx, tx, w.UserID, organisationID, sl)
		}
		if err == nil {
			err = s.checkSchedule(ctx, tx, w.UserID, sl)
		}
		if apperr.UserErrors(err) != nil {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	var events []event.Event
	for _, w := range chosen {
		n, err := store.Exec(ctx, tx, `UPDATE slot_claims SET status = 'CONFIRMED', confirmed_at = ?, promoted_at = ?
			WHERE id = ? AND status = 'WAITLISTED'`, now, now, w.ID)
		if err != nil {
			return nil, fmt.Errorf("promote claim %d: %w", w.ID, err)
		}
		if n != 1 {
			return nil, fmt.Errorf("promote claim %d: it left the waitlist under a lock", w.ID)
		}
		events = append(events, event.Event{Kind: event.ClaimPromoted, SlotID: sl.ID, ActivityID: sl.ActivityID,
			OrganisationID: organisationID, ClaimID: w.ID, UserID: w.UserID})
	}
	if len(events) > 0 {
		_, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET taken = taken + ?, waitlisted = waitlisted - ? WHERE id = ?`,
			len(events), len(events), sl.ID)
		if err != nil {
			return nil, fmt.Errorf("count promotions on slot %d: %w", sl.ID, err)
		}
	}
	return events, nil
}

// CancelClaim gives up a claim. The volunteer may cancel their own claim
// until the slot starts; organisers of the activity and the secretariat
// may cancel anyone's at any time. After the slot's cancel deadline the
// claim is marked late_cancel and the event says Late, so organisers can
// see who dropped out at short notice. A freed confirmed place goes to the
// waitlist at once. Cancelling a cancelled claim returns it unchanged.
func (s *Service) CancelClaim(ctx context.Context, caller user.Caller, claimID int64) (Claim, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Claim{}, err
	}
	c, err := claimByID(ctx, s.db, claimID)
	if errors.Is(err, store.ErrNotFound) {
		return Claim{}, apperr.New(CodeClaimNotFound, "claimId")
	}
	if err != nil {
		return Claim{}, err
	}
	sl, err := slotByID(ctx, s.db, c.SlotID, "")
	if err != nil {
		return Claim{}, err
	}
	a, err := activityOf(ctx, s.db, sl.ActivityID)
	if err != nil {
		return Claim{}, err
	}
	organiser := caller.OrganiserOf(a.OrganisationID)
	if !c.visibleTo(caller, a.OrganisationID) {
		// Someone else's claim is not there, as far as the caller knows.
		return Claim{}, apperr.New(CodeClaimNotFound, "claimId")
	}
	now := s.clock()
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		sl, err := s.lockSlotAndWaitlist(ctx, tx, c.SlotID)
		if apperr.UserErrors(err) != nil {
			return apperr.New(CodeClaimNotFound, "claimId")
		}
		if err != nil {
			return err
		}
		cur, err := claimByID(ctx, tx, claimID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(CodeClaimNotFound, "claimId")
		}
		if err != nil {
			return err
		}
		if cur.Status == Cancelled {
			c = cur
			return nil
		}
		if !organiser && !now.Before(sl.StartsAt) {
			return apperr.New(CodeSlotInPast, "claimId")
		}
		late := sl.CancelDeadline != nil && now.After(*sl.CancelDeadline)
		_, err = store.Exec(ctx, tx, `UPDATE slot_claims SET status = 'CANCELLED', cancelled_at = ?, late_cancel = ? WHERE id = ?`,
			now, late, claimID)
		if err != nil {
			return fmt.Errorf("cancel claim %d: %w", claimID, err)
		}
		counter := "waitlisted"
		if cur.Status == Confirmed {
			counter = "taken"
			sl.Taken--
		} else {
			sl.Waitlisted--
		}
		if _, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET `+counter+` = `+counter+` - 1 WHERE id = ?`, sl.ID); err != nil {
			return fmt.Errorf("uncount claim on slot %d: %w", sl.ID, err)
		}
		events = []event.Event{{Kind: event.ClaimCancelled, SlotID: sl.ID, ActivityID: sl.ActivityID,
			OrganisationID: a.OrganisationID, ClaimID: claimID, UserID: cur.UserID, Late: late, ActorID: caller.UserID}}
		if cur.Status == Confirmed {
			promoted, err := s.promote(ctx, tx, sl, a.OrganisationID, now)
			if err != nil {
				return err
			}
			events = append(events, promoted...)
		}
		events = append(events, event.Event{Kind: event.SlotChanged, SlotID: sl.ID, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID})
		if err := logChanges(ctx, tx, now, events); err != nil {
			return err
		}
		if c, err = claimByID(ctx, tx, claimID); err != nil {
			return err
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Claim{}, err
	}
	s.publish(ctx, events)
	return c, nil
}
