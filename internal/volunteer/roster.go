package volunteer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Roster lists who signed up for a slot: the confirmed in sign-up order,
// then the waitlist in queue order. Organisers of the activity and the
// secretariat may see it.
func (s *Service) Roster(ctx context.Context, caller user.Caller, slotID int64) ([]Claim, error) {
	if _, _, err := s.slotForOrganiser(ctx, caller, slotID); err != nil {
		return nil, err
	}
	m, err := s.Rosters(ctx, caller, []int64{slotID})
	return m[slotID], err
}

// Rosters returns the roster (see Roster) of each slot among slotIDs that
// c may see the roster of: those of activities c organises, or all for
// the secretariat. The others are absent from the map (a restricted field:
// null); a slot nobody signed up for maps to an empty list.
func (s *Service) Rosters(ctx context.Context, c user.Caller, slotIDs []int64) (map[int64][]Claim, error) {
	if len(slotIDs) == 0 || !c.SignedIn() || (!c.Secretariat && !organisesAny(c)) {
		// Most people organise nothing: their answer costs no statement.
		return nil, nil
	}
	q, args, err := store.In(`SELECT s.id, a.organisation_id FROM volunteer_slots s JOIN activities a ON a.id = s.activity_id
		WHERE s.id IN (?)`, slotIDs)
	if err != nil {
		return nil, err
	}
	var slots []struct {
		ID             int64 `db:"id"`
		OrganisationID int64 `db:"organisation_id"`
	}
	if err := store.Select(ctx, s.db, &slots, q, args...); err != nil {
		return nil, fmt.Errorf("organisations of slots: %w", err)
	}
	m := map[int64][]Claim{}
	var mine []int64
	for _, sl := range slots {
		if c.OrganiserOf(sl.OrganisationID) {
			m[sl.ID] = []Claim{}
			mine = append(mine, sl.ID)
		}
	}
	if len(mine) == 0 {
		return m, nil
	}
	q, args, err = store.In(`SELECT `+claimColumns+` FROM slot_claims c
		WHERE c.slot_id IN (?) AND c.status <> 'CANCELLED'
		ORDER BY c.slot_id, CASE c.status WHEN 'CONFIRMED' THEN 0 ELSE 1 END, c.id`, mine)
	if err != nil {
		return nil, err
	}
	var claims []Claim
	if err := store.Select(ctx, s.db, &claims, q, args...); err != nil {
		return nil, fmt.Errorf("rosters of slots: %w", err)
	}
	for _, cl := range claims {
		m[cl.SlotID] = append(m[cl.SlotID], cl)
	}
	return m, nil
}

// MarkAttendance records whether a confirmed volunteer came. Organisers
// of the activity and the secretariat may, once the slot has started. A
// NO_SHOW does not count towards the person's hours.
func (s *Service) MarkAttendance(ctx context.Context, caller user.Caller, claimID int64, attendance string) (Claim, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Claim{}, err
	}
	if attendance != Attended && attendance != NoShow {
		return Claim{}, apperr.New(apperr.CodeInvalid, "attendance")
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
	if !c.visibleTo(caller, a.OrganisationID) {
		return Claim{}, apperr.New(CodeClaimNotFound, "claimId")
	}
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Claim{}, err
	}
	if s.clock().Before(sl.StartsAt) {
		return Claim{}, apperr.New(CodeSlotNotStarted, "claimId")
	}
	now := s.clock()
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		n, err := store.Exec(ctx, tx, `UPDATE slot_claims SET attendance = ? WHERE id = ? AND status = 'CONFIRMED'`, attendance, claimID)
		if err != nil {
			return fmt.Errorf("mark attendance of claim %d: %w", claimID, err)
		}
		if n == 0 {
			return apperr.New(CodeClaimNotConfirmed, "claimId")
		}
		return logChanges(ctx, tx, now, []event.Event{{ClaimID: claimID, UserID: c.UserID}})
	})
	if err != nil {
		return Claim{}, err
	}
	return claimByID(ctx, s.db, claimID)
}

// ClaimsByUser returns c's own shifts. Upcoming ones (not yet ended),
// confirmed or waitlisted, come soonest first; past ones are only those
// they held a place on, latest first.
func (s *Service) ClaimsByUser(ctx context.Context, c user.Caller, upcoming bool, now time.Time) ([]Claim, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	query := `SELECT ` + claimColumns + ` FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id = ? AND c.status <> 'CANCELLED' AND s.ends_at > ?
		ORDER BY s.starts_at, c.id`
	if !upcoming {
		query = `SELECT ` + claimColumns + ` FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
			WHERE c.user_id = ? AND c.status = 'CONFIRMED' AND s.ends_at <= ?
			ORDER BY s.starts_at DESC, c.id DESC`
	}
	var claims []Claim
	if err := store.Select(ctx, s.db, &claims, query, c.UserID, now.UTC()); err != nil {
		return nil, fmt.Errorf("claims of user %d: %w", c.UserID, err)
	}
	return claims, nil
}

// MyClaims returns c's live claim on each of the slots that has one (for
// VolunteerSlot.myClaim).
func (s *Service) MyClaims(ctx context.Context, c user.Caller, slotIDs []int64) ([]Claim, error) {
	if len(slotIDs) == 0 || !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+claimColumns+` FROM slot_claims c
		WHERE c.slot_id IN (?) AND c.user_id = ? AND c.status <> 'CANCELLED'`, slotIDs, c.UserID)
	if err != nil {
		return nil, err
	}
	var claims []Claim
	if err := store.Select(ctx, s.db, &claims, q, args...); err != nil {
		return nil, fmt.Errorf("claims of user %d on slots: %w", c.UserID, err)
	}
	return claims, nil
}

// ClaimsByIDs returns the claims among ids that c may see, in no
// particular order: a claim is its volunteer's and the organisers' of its
// activity (and the secretariat's).
func (s *Service) ClaimsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Claim, error) {
	if len(ids) == 0 || !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+claimColumns+`, a.organisation_id AS activity_organisation_id
		FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id JOIN activities a ON a.id = s.activity_id
		WHERE c.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Claim
		ActivityOrganisationID int64 `db:"activity_organisation_id"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("claims by ids: %w", err)
	}
	claims := make([]Claim, 0, len(rows))
	for _, r := range rows {
		if r.Claim.visibleTo(c, r.ActivityOrganisationID) {
			claims = append(claims, r.Claim)
		}
	}
	return claims, nil
}

// Hours is the time c has given: confirmed claims on slots that have
// ended, except those marked NO_SHOW, in total and per organisation.
func (s *Service) Hours(ctx context.Context, c user.Caller) (time.Duration, map[int64]time.Duration, error) {
	userID := c.UserID
	if !c.SignedIn() {
		return 0, nil, nil
	}
	var rows []struct {
		StartsAt       time.Time `db:"starts_at"`
		EndsAt         time.Time `db:"ends_at"`
		OrganisationID int64     `db:"organisation_id"`
	}
	err := store.Select(ctx, s.db, &rows, `SELECT s.starts_at, s.ends_at, a.organisation_id
		FROM slot_claims c
		JOIN volunteer_slots s ON s.id = c.slot_id
		JOIN activities a ON a.id = s.activity_id
		WHERE c.user_id = ? AND c.status = 'CONFIRMED' AND s.ends_at <= ?
		  AND (c.attendance IS NULL OR c.attendance <> 'NO_SHOW')`, userID, s.clock())
	if err != nil {
		return 0, nil, fmt.Errorf("hours of user %d: %w", userID, err)
	}
	var total time.Duration
	perOrg := map[int64]time.Duration{}
	for _, r := range rows {
		d := r.EndsAt.Sub(r.StartsAt)
		total += d
		perOrg[r.OrganisationID] += d
	}
	return total, perOrg, nil
}

// Qualification is a document an organisation has seen for one of its
// volunteers, such as a børneattest. In Denmark each association obtains
// the certificate for its own volunteers, so a record counts for the slots
// of that organisation only.
type Qualification struct {
	UserID         int64     `db:"user_id"`
	OrganisationID int64     `db:"organisation_id"`
	Requirement    string    `db:"requirement"`
	CheckedAt      time.Time `db:"checked_at"`
	ExpiresAt      time.Time `db:"expires_at"`
	RecordedBy     *int64    `db:"recorded_by"`
	RecordedAt     time.Time `db:"recorded_at"`
}

// DefaultValidity is how long a record lasts when no expiry is given:
// associations commonly ask for a new børneattest every two years, and
// Danish first-aid certificates are valid for two.
const DefaultValidity = 2

// MaxValidity is the longest a record may last, in years after the check.
const MaxValidity = 5

// QualificationInput is what an organiser records having checked.
type QualificationInput struct {
	UserID int64
	// OrganisationID is the organisation that checked it; 0 means the
	// caller's one organisation, for an organiser of exactly one.
	OrganisationID int64
	Requirement    string
	// CheckedAt is when the document was seen; nil is now.
	CheckedAt *time.Time
	// ExpiresAt is when it must be seen again; nil is DefaultValidity
	// years after CheckedAt.
	ExpiresAt *time.Time
}

// RecordQualification notes that an organisation has seen the document
// for a person, replacing its earlier record. An organiser of that
// organisation or the secretariat records it, and never for themself.
// The record satisfies that organisation's slots until it expires.
func (s *Service) RecordQualification(ctx context.Context, caller user.Caller, in QualificationInput) (Qualification, error) {
	if err := caller.RequireVerified(); err != nil {
		return Qualification{}, err
	}
	if in.OrganisationID == 0 {
		only, ok := onlyOrganisation(caller)
		if !ok {
			if !caller.Secretariat && !organisesAny(caller) {
				return Qualification{}, apperr.ErrForbidden
			}
			return Qualification{}, apperr.New(apperr.CodeRequired, "organisationId")
		}
		in.OrganisationID = only
	}
	if !caller.OrganiserOf(in.OrganisationID) {
		return Qualification{}, apperr.ErrForbidden
	}
	if in.UserID == caller.UserID {
		return Qualification{}, apperr.New(CodeOwnQualification, "userId")
	}
	now := s.clock()
	checked := now
	if in.CheckedAt != nil {
		checked = in.CheckedAt.UTC()
	}
	var errs apperr.List
	if !knownRequirement(in.Requirement) {
		errs.Add(CodeUnknownRequirement, "requirement")
	}
	if checked.After(now.Add(5 * time.Minute)) {
		errs.Add(CodeInFuture, "checkedAt")
	}
	expires := checked.AddDate(DefaultValidity, 0, 0)
	if in.ExpiresAt != nil {
		expires = in.ExpiresAt.UTC()
	}
	switch {
	case !expires.After(now):
		errs.Add(CodeInPast, "expiresAt")
	case expires.After(checked.AddDate(MaxValidity, 0, 0)):
		errs.Add(CodeValidityTooLong, "expiresAt").With("Years", MaxValidity)
	}
	if err := errs.Err(); err != nil {
		return Qualification{}, err
	}
	q := Qualification{UserID: in.UserID, OrganisationID: in.OrganisationID, Requirement: in.Requirement,
		CheckedAt: checked, ExpiresAt: expires, RecordedBy: &caller.UserID, RecordedAt: now}
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var deleted *time.Time
		err := store.Get(ctx, tx, &deleted, `SELECT deleted_at FROM users WHERE id = ?`, in.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && deleted != nil) {
			return apperr.New(CodeUserNotFound, "userId")
		}
		if err != nil {
			return fmt.Errorf("find user %d: %w", in.UserID, err)
		}
		_, err = store.Exec(ctx, tx, `INSERT INTO user_qualifications
			(user_id, organisation_id, requirement, checked_at, expires_at, recorded_by, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, organisation_id, requirement) DO UPDATE
			SET checked_at = excluded.checked_at, expires_at = excluded.expires_at,
				recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at`,
			q.UserID, q.OrganisationID, q.Requirement, q.CheckedAt, q.ExpiresAt, q.RecordedBy, q.RecordedAt)
		if errors.Is(err, store.ErrConflict) {
			return apperr.New(CodeOrganisationNotFound, "organisationId")
		}
		return err
	})
	if err != nil {
		if apperr.UserErrors(err) != nil {
			return Qualification{}, err
		}
		return Qualification{}, fmt.Errorf("record qualification of user %d: %w", in.UserID, err)
	}
	return q, nil
}

// RevokeQualification deletes an organisation's record, for when it was
// wrong or the organisation learns something new. The same people who may
// record it may; removed reports whether there was one.
func (s *Service) RevokeQualification(ctx context.Context, caller user.Caller, userID, orgID int64, requirement string) (bool, error) {
	if err := caller.RequireVerified(); err != nil {
		return false, err
	}
	if !caller.OrganiserOf(orgID) {
		return false, apperr.ErrForbidden
	}
	n, err := store.Exec(ctx, s.db, `DELETE FROM user_qualifications WHERE user_id = ? AND organisation_id = ? AND requirement = ?`,
		userID, orgID, requirement)
	if err != nil {
		return false, fmt.Errorf("revoke qualification of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// Qualifications returns what has been recorded for a person, as the
// caller may see it: the person sees all their records, the secretariat
// everyone's, an organiser those of the organisations they organise.
func (s *Service) Qualifications(ctx context.Context, caller user.Caller, userID int64) ([]Qualification, error) {
	if !caller.SignedIn() {
		return nil, nil
	}
	var qs []Qualification
	err := store.Select(ctx, s.db, &qs, `SELECT user_id, organisation_id, requirement, checked_at, expires_at, recorded_by, recorded_at
		FROM user_qualifications WHERE user_id = ? ORDER BY requirement, organisation_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("qualifications of user %d: %w", userID, err)
	}
	if caller.UserID == userID || caller.Secretariat {
		return qs, nil
	}
	visible := qs[:0]
	for _, q := range qs {
		if caller.Organises[q.OrganisationID] {
			visible = append(visible, q)
		}
	}
	return visible, nil
}

func organisesAny(c user.Caller) bool {
	for _, ok := range c.Organises {
		if ok {
			return true
		}
	}
	return false
}

// onlyOrganisation is the caller's organisation when they organise
// exactly one.
func onlyOrganisation(c user.Caller) (int64, bool) {
	var only int64
	n := 0
	for id, ok := range c.Organises {
		if ok {
			only, n = id, n+1
		}
	}
	return only, n == 1
}

// CancelActivityClaims cancels every live claim on the activity's slots
// that have not started yet, inside the caller's transaction (the activity
// package's, which marks the activity cancelled). Slots that have started
// keep their claims: they carry people's hours. It returns the events to
// publish once that transaction has committed.
func (s *Service) CancelActivityClaims(ctx context.Context, tx *sqlx.Tx, activityID int64, now time.Time) ([]event.Event, error) {
	now = now.UTC()
	a, err := activityOf(ctx, tx, activityID)
	if err != nil {
		return nil, err
	}
	var slots []Slot
	err = store.Select(ctx, tx, &slots, `SELECT `+slotColumns+` FROM volunteer_slots s
		WHERE s.activity_id = ? AND s.starts_at > ? ORDER BY s.id`+s.db.ForUpdate(), activityID, now)
	if err != nil {
		return nil, fmt.Errorf("lock slots of activity %d: %w", activityID, err)
	}
	var events []event.Event
	for _, sl := range slots {
		var live []struct {
			ID     int64 `db:"id"`
			UserID int64 `db:"user_id"`
		}
		err := store.Select(ctx, tx, &live, `SELECT id, user_id FROM slot_claims WHERE slot_id = ? AND status <> 'CANCELLED' ORDER BY id`, sl.ID)
		if err != nil {
			return nil, fmt.Errorf("claims of slot %d: %w", sl.ID, err)
		}
		if len(live) == 0 {
			continue
		}
		_, err = store.Exec(ctx, tx, `UPDATE slot_claims SET status = 'CANCELLED', cancelled_at = ? WHERE slot_id = ? AND status <> 'CANCELLED'`, now, sl.ID)
		if err != nil {
			return nil, fmt.Errorf("cancel claims of slot %d: %w", sl.ID, err)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET taken = 0, waitlisted = 0 WHERE id = ?`, sl.ID); err != nil {
			return nil, fmt.Errorf("reset counters of slot %d: %w", sl.ID, err)
		}
		for _, c := range live {
			events = append(events, event.Event{Kind: event.ClaimCancelled, SlotID: sl.ID, ActivityID: activityID,
				OrganisationID: a.OrganisationID, ClaimID: c.ID, UserID: c.UserID})
		}
		events = append(events, event.Event{Kind: event.SlotChanged, SlotID: sl.ID, ActivityID: activityID, OrganisationID: a.OrganisationID})
	}
	if err := logChanges(ctx, tx, now, events); err != nil {
		return nil, err
	}
	return events, nil
}

// MoveActivitySlots moves the activity's slots that have not started by
// offset, with their signup windows and cancel deadlines, inside the
// caller's transaction (the activity package's, which moved the
// activity). Their volunteers are told by the activity's change, so it
// returns only the live-update events.
func (s *Service) MoveActivitySlots(ctx context.Context, tx *sqlx.Tx, activityID int64, offset time.Duration, now time.Time) ([]event.Event, error) {
	a, err := activityOf(ctx, tx, activityID)
	if err != nil {
		return nil, err
	}
	var slots []Slot
	err = store.Select(ctx, tx, &slots, `SELECT `+slotColumns+` FROM volunteer_slots s
		WHERE s.activity_id = ? AND s.starts_at > ? ORDER BY s.id`+s.db.ForUpdate(), activityID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("lock slots of activity %d: %w", activityID, err)
	}
	move := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		m := t.Add(offset).UTC()
		return &m
	}
	var events []event.Event
	for _, sl := range slots {
		_, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET occurrence_starts_at = ?, starts_at = ?, ends_at = ?,
			signup_opens_at = ?, signup_closes_at = ?, cancel_deadline = ? WHERE id = ?`,
			move(sl.OccurrenceStartsAt), sl.StartsAt.Add(offset).UTC(), sl.EndsAt.Add(offset).UTC(),
			move(sl.SignupOpensAt), move(sl.SignupClosesAt), move(sl.CancelDeadline), sl.ID)
		if err != nil {
			return nil, fmt.Errorf("move slot %d: %w", sl.ID, err)
		}
		events = append(events, event.Event{Kind: event.SlotChanged, SlotID: sl.ID, ActivityID: activityID, OrganisationID: a.OrganisationID})
	}
	if err := logChanges(ctx, tx, now, events); err != nil {
		return nil, err
	}
	return events, nil
}

// CancelUserClaims cancels a person's live claims on slots that have not
// started, inside the caller's transaction (account deletion), promoting
// from each waitlist a freed confirmed place. Claims on slots that have
// started are kept: they carry hours already given. It returns the events
// to publish once that transaction has committed.
func (s *Service) CancelUserClaims(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) ([]event.Event, error) {
	now = now.UTC()
	var claims []struct {
		ID     int64  `db:"id"`
		SlotID int64  `db:"slot_id"`
		Status string `db:"status"`
	}
	err := store.Select(ctx, tx, &claims, `SELECT c.id, c.slot_id, c.status FROM slot_claims c
		JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id = ? AND c.status <> 'CANCELLED' AND s.starts_at > ? ORDER BY c.slot_id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("live claims of user %d: %w", userID, err)
	}
	var events []event.Event
	for _, c := range claims {
		sl, err := s.lockSlotAndWaitlist(ctx, tx, c.SlotID)
		if err != nil {
			return nil, err
		}
		a, err := activityOf(ctx, tx, sl.ActivityID)
		if err != nil {
			return nil, err
		}
		if _, err := store.Exec(ctx, tx, `UPDATE slot_claims SET status = 'CANCELLED', cancelled_at = ? WHERE id = ?`, now, c.ID); err != nil {
			return nil, fmt.Errorf("cancel claim %d: %w", c.ID, err)
		}
		counter := "waitlisted"
		if c.Status == Confirmed {
			counter = "taken"
			sl.Taken--
		} else {
			sl.Waitlisted--
		}
		if _, err := store.Exec(ctx, tx, `UPDATE volunteer_slots SET `+counter+` = `+counter+` - 1 WHERE id = ?`, sl.ID); err != nil {
			return nil, fmt.Errorf("uncount claim on slot %d: %w", sl.ID, err)
		}
		events = append(events, event.Event{Kind: event.ClaimCancelled, SlotID: sl.ID, ActivityID: sl.ActivityID,
			OrganisationID: a.OrganisationID, ClaimID: c.ID, UserID: userID})
		if c.Status == Confirmed {
			promoted, err := s.promote(ctx, tx, sl, a.OrganisationID, now)
			if err != nil {
				return nil, err
			}
			events = append(events, promoted...)
		}
		events = append(events, event.Event{Kind: event.SlotChanged, SlotID: sl.ID, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID})
	}
	if err := logChanges(ctx, tx, now, events); err != nil {
		return nil, err
	}
	return events, nil
}
