package participation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// The waitlist position is not stored: it is the participation's rank by
// id among the occurrence's waitlisted ones, as for slot claims.
const columns = `p.id, p.activity_id, p.occurrence_starts_at, p.user_id, p.status, p.party_size,
	CASE WHEN p.status = 'WAITLISTED' THEN (SELECT COUNT(*) FROM participations w
		WHERE w.activity_id = p.activity_id AND w.occurrence_starts_at = p.occurrence_starts_at
		AND w.status = 'WAITLISTED' AND w.id <= p.id) END AS waitlist_position,
	p.attendance, p.late_cancel, p.created_by, p.created_at, p.updated_at, p.confirmed_at, p.promoted_at, p.cancelled_at`

const settingsColumns = `activity_id, mode, seats, max_party_size, opens_minutes_before, closes_minutes_before,
	cancel_minutes_before, notify_filling, updated_at`

func byID(ctx context.Context, q store.Querier, id int64) (Participation, error) {
	var p Participation
	if err := store.Get(ctx, q, &p, `SELECT `+columns+` FROM participations p WHERE p.id = ?`, id); err != nil {
		return Participation{}, fmt.Errorf("participation %d: %w", id, err)
	}
	return p, nil
}

type activityInfo struct {
	ID             int64           `db:"id"`
	Title          string          `db:"title"`
	OrganisationID int64           `db:"organisation_id"`
	Status         activity.Status `db:"status"`
}

func (a activityInfo) visibleTo(c user.Caller) bool {
	return activity.Visible(c, a.Status, a.OrganisationID)
}

// activityFor reads an activity a caller names; one they may not see is
// not found, as if it did not exist.
func activityFor(ctx context.Context, q store.Querier, c user.Caller, id int64) (activityInfo, error) {
	var a activityInfo
	err := store.Get(ctx, q, &a, `SELECT id, title, organisation_id, status FROM activities WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.visibleTo(c)) {
		return activityInfo{}, apperr.New(CodeActivityNotFound, "activityId")
	}
	if err != nil {
		return activityInfo{}, fmt.Errorf("activity %d: %w", id, err)
	}
	return a, nil
}

// settingsOf reads an activity's settings, the defaults when none were
// set.
func settingsOf(ctx context.Context, q store.Querier, activityID int64) (Settings, error) {
	var st Settings
	err := store.Get(ctx, q, &st, `SELECT `+settingsColumns+` FROM participation_settings WHERE activity_id = ?`, activityID)
	if errors.Is(err, store.ErrNotFound) {
		return Defaults(activityID), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("participation settings of activity %d: %w", activityID, err)
	}
	return st, nil
}

// lockActivity takes the lock every change to an activity's
// participations holds: its settings row, made with the defaults the
// first time. On PostgreSQL the row lock queues the changes; SQLite's
// write transactions are serial anyway.
func (s *Service) lockActivity(ctx context.Context, tx *sqlx.Tx, activityID int64, now time.Time) (Settings, error) {
	d := Defaults(activityID)
	_, err := store.Exec(ctx, tx, `INSERT INTO participation_settings (activity_id, mode, max_party_size, notify_filling, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO NOTHING`, activityID, d.Mode, d.MaxPartySize, d.NotifyFilling, now)
	if err != nil {
		return Settings{}, fmt.Errorf("participation settings of activity %d: %w", activityID, err)
	}
	var st Settings
	err = store.Get(ctx, tx, &st, `SELECT `+settingsColumns+` FROM participation_settings WHERE activity_id = ?`+s.db.ForUpdate(), activityID)
	if err != nil {
		return Settings{}, fmt.Errorf("lock participations of activity %d: %w", activityID, err)
	}
	return st, nil
}

func (s *Service) lockUser(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	var id int64
	err := store.Get(ctx, tx, &id, `SELECT id FROM users WHERE id = ? AND deleted_at IS NULL`+s.db.ForUpdate(), userID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New("USER_NOT_FOUND", "userId")
	}
	if err != nil {
		return fmt.Errorf("lock user %d: %w", userID, err)
	}
	return nil
}

// occurrence finds the date a sign-up is for: the one starting at start,
// or, when start is nil, the next that has not started. It must not have
// started.
func occurrence(ctx context.Context, q store.Querier, activityID int64, start *time.Time, now time.Time) (activity.Occurrence, error) {
	var o activity.Occurrence
	var err error
	if start != nil {
		err = store.Get(ctx, q, &o, `SELECT activity_id, starts_at, ends_at FROM occurrences WHERE activity_id = ? AND starts_at = ?`,
			activityID, start.UTC())
	} else {
		err = store.Get(ctx, q, &o, `SELECT activity_id, starts_at, ends_at FROM occurrences WHERE activity_id = ? AND starts_at > ?
			ORDER BY starts_at LIMIT 1`, activityID, now)
	}
	if errors.Is(err, store.ErrNotFound) {
		return activity.Occurrence{}, apperr.New(CodeOccurrenceNotFound, "occurrenceStartsAt")
	}
	if err != nil {
		return activity.Occurrence{}, fmt.Errorf("occurrence of activity %d: %w", activityID, err)
	}
	if !now.Before(o.StartsAt) {
		return activity.Occurrence{}, apperr.New(CodeOccurrenceStarted, "occurrenceStartsAt")
	}
	return o, nil
}

// seatsGoing is how many people (parties counted whole) are GOING to the
// occurrence; under lockActivity it cannot change.
func seatsGoing(ctx context.Context, q store.Querier, o Occurrence) (int, error) {
	var n int
	err := store.Get(ctx, q, &n, `SELECT COALESCE(SUM(party_size), 0) FROM participations
		WHERE activity_id = ? AND occurrence_starts_at = ? AND status = 'GOING'`, o.ActivityID, o.StartsAt.UTC())
	if err != nil {
		return 0, fmt.Errorf("seats taken at activity %d %s: %w", o.ActivityID, o.StartsAt, err)
	}
	return n, nil
}

// Input is one tap on "I'm coming" or "Interested".
type Input struct {
	ActivityID int64
	// OccurrenceStartsAt picks the date; nil means the next one.
	OccurrenceStartsAt *time.Time
	// Status is GOING or INTERESTED.
	Status string
	// Guests come with the person (children, a friend).
	Guests         int
	IdempotencyKey string
}

// replayable are the refusals a retry with the same key gets again.
var replayable = map[string]bool{
	CodeActivityNotFound: true, CodeActivityCancelled: true, CodeOccurrenceNotFound: true, CodeOccurrenceStarted: true,
	CodeRegistrationNotOpen: true, CodeRegistrationClosed: true, CodePartyTooLarge: true, CodeNotEnoughSeats: true,
}

// Participate says the caller is GOING (with Guests) or INTERESTED. On a
// seat-limited activity GOING takes the party's seats while they are free
// and joins the waitlist otherwise (a full occurrence is not an error).
// Tapping again changes the answer: a smaller party gives seats back, a
// larger one needs the extra seats free (else NOT_ENOUGH_SEATS and the
// party keeps what it had), INTERESTED gives the seats back; a waitlisted
// party that changes its size keeps its place in the queue.
//
// The key makes retries safe as for slot claims: every call with a key
// this person used for this occurrence returns the participation as it is
// now, or the refusal the first call got.
func (s *Service) Participate(ctx context.Context, caller user.Caller, in Input) (Participation, error) {
	if err := caller.RequireShown(); err != nil {
		return Participation{}, err
	}
	key, err := seat.Key(in.IdempotencyKey)
	if err != nil {
		return Participation{}, err
	}
	if in.Status != Going && in.Status != Interested {
		return Participation{}, apperr.New(apperr.CodeInvalid, "status")
	}
	if in.Guests < 0 || in.Guests >= MaxPartySize {
		return Participation{}, apperr.New(CodeOutOfRange, "guests").With("Min", 0).With("Max", MaxPartySize-1)
	}
	self := func(context.Context, *sqlx.Tx) (int64, error) { return caller.UserID, nil }
	return s.participate(ctx, caller, in, key, self)
}

// SignUpOnBehalf lets an organiser put a resident without the app on the
// list (name, phone, party size), under the same rules as a sign-up in
// the app; the resident is found again by phone, so a second sign-up
// changes theirs instead of making another person.
func (s *Service) SignUpOnBehalf(ctx context.Context, caller user.Caller, activityID int64, start *time.Time, name, phone string, partySize int) (Participation, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Participation{}, err
	}
	a, err := activityFor(ctx, s.db, caller, activityID)
	if err != nil {
		return Participation{}, err
	}
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Participation{}, err
	}
	name, phone, err = user.NormaliseWithoutApp(name, phone, MaxName)
	if err != nil {
		return Participation{}, err
	}
	if partySize < 1 || partySize > MaxPartySize {
		return Participation{}, apperr.New(CodeOutOfRange, "partySize").With("Min", 1).With("Max", MaxPartySize)
	}
	resident := func(ctx context.Context, tx *sqlx.Tx) (int64, error) {
		return user.WithoutAppTx(ctx, tx, name, phone, s.clock())
	}
	in := Input{ActivityID: activityID, OccurrenceStartsAt: start, Status: Going, Guests: partySize - 1}
	return s.participate(ctx, caller, in, "", resident)
}

func (s *Service) participate(ctx context.Context, caller user.Caller, in Input, key string,
	who func(context.Context, *sqlx.Tx) (int64, error)) (Participation, error) {
	now := s.clock()
	var (
		p      Participation
		userID int64
		occ    Occurrence
		events []event.Event
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		var err error
		if userID, err = who(ctx, tx); err != nil {
			return err
		}
		// The person first, then the activity, the order every change
		// here takes its locks in.
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if key != "" {
			replayed, err := s.replay(ctx, tx, userID, key, in)
			if err != nil || replayed != nil {
				if replayed != nil {
					p = *replayed
				}
				return err
			}
		}
		a, err := activityFor(ctx, tx, caller, in.ActivityID)
		if err != nil {
			return err
		}
		if a.Status == activity.Cancelled {
			return apperr.New(CodeActivityCancelled, "activityId")
		}
		o, err := occurrence(ctx, tx, a.ID, in.OccurrenceStartsAt, now)
		if err != nil {
			return err
		}
		occ = Occurrence{ActivityID: a.ID, StartsAt: o.StartsAt.UTC()}
		st, err := s.lockActivity(ctx, tx, a.ID, now)
		if err != nil {
			return err
		}
		goingBefore, err := seatsGoing(ctx, tx, occ)
		if err != nil {
			return err
		}
		if opens := st.OpensAt(occ.StartsAt); opens != nil && now.Before(*opens) {
			return apperr.New(CodeRegistrationNotOpen, "occurrenceStartsAt").With("OpensAt", *opens)
		}
		if closes := st.ClosesAt(occ.StartsAt); closes != nil && !now.Before(*closes) {
			return apperr.New(CodeRegistrationClosed, "occurrenceStartsAt")
		}
		size := in.Guests + 1
		if size > st.MaxPartySize {
			return apperr.New(CodePartyTooLarge, "guests").With("Max", st.MaxPartySize-1)
		}
		if caller.UserID == userID && s.signups.Enabled() {
			var latest []time.Time
			err := store.Select(ctx, tx, &latest, `SELECT created_at FROM participations
				WHERE user_id = ? AND created_by = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?`,
				userID, userID, s.signups.Since(now), s.signups.N)
			if err != nil {
				return fmt.Errorf("count sign-ups of user %d: %w", userID, err)
			}
			if err := s.signups.Check(CodeTooManySignups, latest, now); err != nil {
				return err
			}
		}
		var cur *Participation
		var live Participation
		err = store.Get(ctx, tx, &live, `SELECT `+columns+` FROM participations p
			WHERE p.activity_id = ? AND p.occurrence_starts_at = ? AND p.user_id = ? AND p.status <> 'CANCELLED'`,
			occ.ActivityID, occ.StartsAt, userID)
		switch {
		case err == nil:
			cur = &live
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("live participation of user %d: %w", userID, err)
		}
		status, err := s.place(ctx, tx, st, occ, cur, in.Status, size)
		if err != nil {
			return err
		}
		var id int64
		if cur == nil {
			var createdBy *int64
			if caller.UserID != 0 {
				createdBy = &caller.UserID
			}
			var confirmedAt *time.Time
			if status == Going {
				confirmedAt = &now
			}
			err = store.Get(ctx, tx, &id, `INSERT INTO participations
				(activity_id, occurrence_starts_at, user_id, status, party_size, created_by, created_at, updated_at, confirmed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				occ.ActivityID, occ.StartsAt, userID, status, size, createdBy, now, now, confirmedAt)
			if err != nil {
				return fmt.Errorf("insert participation: %w", err)
			}
		} else {
			id = cur.ID
			if cur.Status != status || cur.PartySize != size {
				_, err = store.Exec(ctx, tx, `UPDATE participations SET status = ?, party_size = ?, updated_at = ?,
					confirmed_at = CASE WHEN ? = 'GOING' AND status <> 'GOING' THEN ? ELSE confirmed_at END
					WHERE id = ?`, status, size, now, status, now, id)
				if err != nil {
					return fmt.Errorf("update participation %d: %w", id, err)
				}
			}
		}
		if key != "" {
			_, err := store.Exec(ctx, tx, `INSERT INTO participation_keys (user_id, key, activity_id, occurrence_starts_at, participation_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, userID, key, occ.ActivityID, occ.StartsAt, id, now)
			if err != nil {
				return fmt.Errorf("remember idempotency key: %w", err)
			}
		}
		// Seats given back (a smaller party, GOING to INTERESTED) go to
		// the waitlist at once.
		if err := s.promote(ctx, tx, a, st, occ, caller.UserID, now); err != nil {
			return err
		}
		if err := s.tellFilling(ctx, tx, a, st, occ, goingBefore, caller.UserID, now); err != nil {
			return err
		}
		if p, err = byID(ctx, tx, id); err != nil {
			return err
		}
		events = []event.Event{{Kind: event.ParticipationChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID, UserID: userID,
			StartsAt: occ.StartsAt}}
		return nil
	})
	if err != nil {
		if key != "" {
			s.rememberRefusal(ctx, userID, key, in, err, now)
		}
		return Participation{}, err
	}
	s.publish(ctx, events)
	return p, nil
}

// place decides the status a participation of size takes when its person
// asks for want, given what they hold now (cur, nil for none). Only GOING
// on a seat-limited activity can be refused or queued.
func (s *Service) place(ctx context.Context, tx *sqlx.Tx, st Settings, occ Occurrence, cur *Participation, want string, size int) (string, error) {
	if want == Interested || !st.Limited() {
		return want, nil
	}
	if cur != nil && cur.Status == Waitlisted {
		// Keeps its place in the queue; promote admits it if it now fits.
		return Waitlisted, nil
	}
	going, err := seatsGoing(ctx, tx, occ)
	if err != nil {
		return "", err
	}
	free := *st.Seats - going
	if cur != nil && cur.Status == Going {
		if size <= cur.PartySize || size-cur.PartySize <= free {
			return Going, nil
		}
		return "", apperr.New(CodeNotEnoughSeats, "guests").With("Free", max(free, 0))
	}
	if size <= free {
		return Going, nil
	}
	return Waitlisted, nil
}

// promote gives the occurrence's free seats to the waitlist, first party
// that fits first (seat.Fill), and tells each promoted person in the same
// transaction. Nobody is promoted once the occurrence has started, and
// not on a cancelled activity. Without a seat limit (the organiser opened
// it up) everyone waiting is GOING.
func (s *Service) promote(ctx context.Context, tx *sqlx.Tx, a activityInfo, st Settings, occ Occurrence, actor int64, now time.Time) error {
	if !now.Before(occ.StartsAt) || a.Status == activity.Cancelled {
		return nil
	}
	var waiting []struct {
		ID        int64 `db:"id"`
		UserID    int64 `db:"user_id"`
		PartySize int   `db:"party_size"`
	}
	err := store.Select(ctx, tx, &waiting, `SELECT id, user_id, party_size FROM participations
		WHERE activity_id = ? AND occurrence_starts_at = ? AND status = 'WAITLISTED' ORDER BY id`, occ.ActivityID, occ.StartsAt)
	if err != nil {
		return fmt.Errorf("waitlist of activity %d: %w", occ.ActivityID, err)
	}
	if len(waiting) == 0 {
		return nil
	}
	free := MaxSeats * MaxPartySize
	if st.Limited() {
		going, err := seatsGoing(ctx, tx, occ)
		if err != nil {
			return err
		}
		free = *st.Seats - going
	}
	queue := make([]seat.Waiting, len(waiting))
	for i, w := range waiting {
		queue[i] = seat.Waiting{ID: w.ID, UserID: w.UserID, Size: w.PartySize}
	}
	chosen, err := seat.Fill(free, queue, func(seat.Waiting) (bool, error) { return true, nil })
	if err != nil {
		return err
	}
	for _, w := range chosen {
		n, err := store.Exec(ctx, tx, `UPDATE participations SET status = 'GOING', confirmed_at = ?, promoted_at = ?, updated_at = ?
			WHERE id = ? AND status = 'WAITLISTED'`, now, now, now, w.ID)
		if err != nil {
			return fmt.Errorf("promote participation %d: %w", w.ID, err)
		}
		if n != 1 {
			return fmt.Errorf("promote participation %d: it left the waitlist under a lock", w.ID)
		}
	}
	return s.tellPromoted(ctx, tx, a, occ, chosen, actor, now)
}

// Cancel gives up a participation. Its person may until the occurrence
// starts; the activity's organisers and the secretariat at any time.
// After the cancellation deadline it is marked late. Freed seats go to
// the waitlist at once. Cancelling a cancelled one returns it unchanged.
func (s *Service) Cancel(ctx context.Context, caller user.Caller, id int64) (Participation, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Participation{}, err
	}
	notFound := apperr.New(CodeParticipationNotFound, "participationId")
	p, err := byID(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) {
		return Participation{}, notFound
	}
	if err != nil {
		return Participation{}, err
	}
	a, err := activityFor(ctx, s.db, caller, p.ActivityID)
	if apperr.UserErrors(err) != nil || (err == nil && !p.visibleTo(caller, a.OrganisationID)) {
		return Participation{}, notFound
	}
	if err != nil {
		return Participation{}, err
	}
	organiser := caller.OrganiserOf(a.OrganisationID)
	now := s.clock()
	occ := Occurrence{ActivityID: p.ActivityID, StartsAt: p.OccurrenceStartsAt.UTC()}
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		st, err := s.lockActivity(ctx, tx, p.ActivityID, now)
		if err != nil {
			return err
		}
		cur, err := byID(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		if cur.Status == Cancelled {
			p = cur
			return nil
		}
		if !organiser && !now.Before(occ.StartsAt) {
			return apperr.New(CodeOccurrenceStarted, "participationId")
		}
		deadline := st.CancelDeadline(occ.StartsAt)
		late := cur.Status == Going && deadline != nil && now.After(*deadline)
		_, err = store.Exec(ctx, tx, `UPDATE participations SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?, late_cancel = ?
			WHERE id = ?`, now, now, late, id)
		if err != nil {
			return fmt.Errorf("cancel participation %d: %w", id, err)
		}
		if err := s.promote(ctx, tx, a, st, occ, caller.UserID, now); err != nil {
			return err
		}
		events = []event.Event{{Kind: event.ParticipationChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID, UserID: cur.UserID,
			StartsAt: occ.StartsAt}}
		p, err = byID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Participation{}, err
	}
	s.publish(ctx, events)
	return p, nil
}

// replay returns the earlier answer for a key this person already used,
// or (nil, nil) for a new key.
func (s *Service) replay(ctx context.Context, tx *sqlx.Tx, userID int64, key string, in Input) (*Participation, error) {
	var k struct {
		ActivityID      int64      `db:"activity_id"`
		StartsAt        store.Time `db:"occurrence_starts_at"`
		ParticipationID *int64     `db:"participation_id"`
		ErrorCode       *string    `db:"error_code"`
	}
	err := store.Get(ctx, tx, &k, `SELECT activity_id, occurrence_starts_at, participation_id, error_code
		FROM participation_keys WHERE user_id = ? AND key = ?`, userID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	// A tap that named no date was remembered with the date it got.
	same := k.ActivityID == in.ActivityID && (in.OccurrenceStartsAt == nil || k.StartsAt.Equal(*in.OccurrenceStartsAt))
	id, err := seat.Remembered{SameTarget: same, ResultID: k.ParticipationID, ErrorCode: k.ErrorCode}.Answer("activityId")
	if err != nil {
		return nil, fmt.Errorf("key %q of user %d: %w", key, userID, err)
	}
	p, err := byID(ctx, tx, id)
	if errors.Is(err, store.ErrNotFound) {
		// The activity was deleted since, taking its participations.
		return nil, apperr.New(CodeActivityNotFound, "activityId")
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// rememberRefusal stores the rule that refused a sign-up under its key,
// in a transaction of its own because the sign-up's was rolled back.
// Failing to only means a retry is judged afresh, so it is logged.
func (s *Service) rememberRefusal(ctx context.Context, userID int64, key string, in Input, err error, now time.Time) {
	code := seat.Refusal(err, replayable)
	if userID == 0 || code == "" {
		return
	}
	var start time.Time
	if in.OccurrenceStartsAt != nil {
		start = in.OccurrenceStartsAt.UTC()
	}
	_, xerr := store.Exec(ctx, s.db, `INSERT INTO participation_keys (user_id, key, activity_id, occurrence_starts_at, error_code, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, key) DO NOTHING`, userID, key, in.ActivityID, start, code, now)
	if xerr != nil {
		slog.WarnContext(ctx, "remember refused participation", "user_id", userID, "activity_id", in.ActivityID, "error", xerr)
	}
}

// PurgeKeys forgets idempotency keys created before olderThan.
func (s *Service) PurgeKeys(ctx context.Context, olderThan time.Time) (int64, error) {
	n, err := store.Exec(ctx, s.db, `DELETE FROM participation_keys WHERE created_at < ?`, olderThan.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge participation keys: %w", err)
	}
	return n, nil
}
