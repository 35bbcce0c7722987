// Package volunteer is the volunteer-slot engine: capacity-limited slots on
// activities that loosely attached volunteers claim in one tap, with a
// waitlist that is promoted automatically, no overbooking, no double
// booking of one person, a cap on confirmed hours per day and sign-ups that
// survive a phone's retries.
//
// Every change runs in one transaction that first locks the rows it
// depends on: the people whose bookings it changes (in id order), then the
// slot. SQLite serialises writers anyway (BEGIN IMMEDIATE); on PostgreSQL
// the row locks make the checks and the counters race-free. The slot keeps
// denormalised counters (taken, waitlisted) that every path updates
// together with the claims, so taken == count(CONFIRMED) <= capacity and
// waitlisted == count(WAITLISTED) hold at every commit.
package volunteer

import (
	"context"
	"time"

	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// User error codes raised by this package. Shared ones (REQUIRED,
// TOO_LONG, INVALID_INPUT, VERIFIED_ACCOUNT_REQUIRED) live in apperr.
const (
	CodeSlotNotFound          = "SLOT_NOT_FOUND"
	CodeSlotInPast            = "SLOT_IN_PAST"
	CodeSlotNotStarted        = "SLOT_NOT_STARTED"
	CodeSignupNotOpen         = "SIGNUP_NOT_OPEN"
	CodeSignupClosed          = "SIGNUP_CLOSED"
	CodeAlreadyClaimed        = "ALREADY_CLAIMED"
	CodeOverlapsOtherClaim    = "OVERLAPS_OTHER_CLAIM"
	CodeDailyLimitReached     = "DAILY_LIMIT_REACHED"
	CodeTooManyClaims         = "TOO_MANY_CLAIMS"
	CodeRequirementNotMet     = "REQUIREMENT_NOT_MET"
	CodeActivityCancelled     = "ACTIVITY_CANCELLED"
	CodeActivityNotFound      = "ACTIVITY_NOT_FOUND"
	CodeIdempotencyKeyReused  = seat.CodeKeyReused
	CodeCapacityBelowTaken    = "CAPACITY_BELOW_TAKEN"
	CodeClaimNotFound         = "CLAIM_NOT_FOUND"
	CodeClaimNotConfirmed     = "CLAIM_NOT_CONFIRMED"
	CodeUserNotFound          = "USER_NOT_FOUND"
	CodeOutOfRange            = "OUT_OF_RANGE"
	CodeEndsBeforeStarts      = "ENDS_BEFORE_STARTS"
	CodeInPast                = "IN_PAST"
	CodeSlotTooLong           = "SLOT_TOO_LONG"
	CodeUnknownRequirement    = "UNKNOWN_REQUIREMENT"
	CodeOccurrenceNotFound    = "OCCURRENCE_NOT_FOUND"
	CodeSlotOutsideOccurrence = "SLOT_OUTSIDE_OCCURRENCE"
	CodeInvalidSignupWindow   = "INVALID_SIGNUP_WINDOW"
	CodeInvalidCancelDeadline = "INVALID_CANCEL_DEADLINE"
	CodeOwnQualification      = "OWN_QUALIFICATION"
	CodeInFuture              = "IN_FUTURE"
	CodeValidityTooLong       = "VALIDITY_TOO_LONG"
	CodeOrganisationNotFound  = "ORGANISATION_NOT_FOUND"
)

// Requirements a slot may ask of its volunteers; an organiser of the
// slot's organisation records that they have seen the document with
// RecordQualification.
const (
	ChildCertificate = "CHILD_CERTIFICATE" // børneattest
	FoodHygiene      = "FOOD_HYGIENE"
	FirstAid         = "FIRST_AID"
	DrivingLicence   = "DRIVING_LICENCE"
)

// Requirements lists the known requirements.
var Requirements = []string{ChildCertificate, FoodHygiene, FirstAid, DrivingLicence}

func knownRequirement(r string) bool {
	for _, k := range Requirements {
		if k == r {
			return true
		}
	}
	return false
}

// Claim statuses.
const (
	Confirmed  = "CONFIRMED"
	Waitlisted = "WAITLISTED"
	Cancelled  = "CANCELLED"
)

// Attendance values an organiser records after the slot started.
const (
	Attended = "ATTENDED"
	NoShow   = "NO_SHOW"
)

// Limits on input.
const (
	MaxTitle       = 120
	MaxDescription = 2000
	MaxCapacity    = 500
	MaxSlotLength  = 24 * time.Hour
	// SlotMargin is how far a slot may lie before its occurrence starts
	// (setting up) and after it ends (clearing up).
	SlotMargin        = 12 * time.Hour
	MaxIdempotencyKey = seat.MaxKey
	MaxName           = 100
	MaxPageSize       = 100
)

// Slot is a capacity-limited volunteer shift on an activity.
type Slot struct {
	ID                 int64      `db:"id"`
	ActivityID         int64      `db:"activity_id"`
	OccurrenceStartsAt *time.Time `db:"occurrence_starts_at"`
	Title              string     `db:"title"`
	Description        string     `db:"description"`
	StartsAt           time.Time  `db:"starts_at"`
	EndsAt             time.Time  `db:"ends_at"`
	Capacity           int        `db:"capacity"`
	Taken              int        `db:"taken"`
	Waitlisted         int        `db:"waitlisted"`
	Requirement        *string    `db:"requirement"`
	SignupOpensAt      *time.Time `db:"signup_opens_at"`
	SignupClosesAt     *time.Time `db:"signup_closes_at"`
	CancelDeadline     *time.Time `db:"cancel_deadline"`
	CreatedBy          *int64     `db:"created_by"`
	CreatedAt          time.Time  `db:"created_at"`
	// ChangedAt is when it last changed; nil before the first change.
	ChangedAt *time.Time `db:"updated_at"`
}

// UpdatedAt is when the slot last changed (its claims' counts included).
func (s Slot) UpdatedAt() time.Time {
	if s.ChangedAt != nil {
		return *s.ChangedAt
	}
	return s.CreatedAt
}

// SpotsLeft is how many more people can be confirmed.
func (s Slot) SpotsLeft() int {
	if n := s.Capacity - s.Taken; n > 0 {
		return n
	}
	return 0
}

// Duration is how long the shift lasts.
func (s Slot) Duration() time.Duration { return s.EndsAt.Sub(s.StartsAt) }

// Claim is one person's place (or place in the queue) on a slot.
type Claim struct {
	ID     int64  `db:"id"`
	SlotID int64  `db:"slot_id"`
	UserID int64  `db:"user_id"`
	Status string `db:"status"`
	// WaitlistPosition is 1 for the next in line; set only when WAITLISTED.
	WaitlistPosition *int       `db:"waitlist_position"`
	Attendance       *string    `db:"attendance"`
	LateCancel       bool       `db:"late_cancel"`
	CreatedBy        *int64     `db:"created_by"`
	CreatedAt        time.Time  `db:"created_at"`
	ConfirmedAt      *time.Time `db:"confirmed_at"`
	PromotedAt       *time.Time `db:"promoted_at"`
	CancelledAt      *time.Time `db:"cancelled_at"`
	// ChangedAt is when it last changed; nil before the first change.
	ChangedAt *time.Time `db:"updated_at"`
}

// UpdatedAt is when the claim last changed, its waitlist position
// included.
func (c Claim) UpdatedAt() time.Time {
	if c.ChangedAt != nil {
		return *c.ChangedAt
	}
	return c.CreatedAt
}

// Live reports whether the claim still holds a place or a queue position.
func (c Claim) Live() bool { return c.Status != Cancelled }

// visibleTo reports whether caller may see the claim, which is on an
// activity of organisationID: its volunteer, the activity's organisers and
// the secretariat. To anyone else it does not exist.
func (c Claim) visibleTo(caller user.Caller, organisationID int64) bool {
	return (caller.SignedIn() && c.UserID == caller.UserID) || caller.OrganiserOf(organisationID)
}

// Config tunes the service.
type Config struct {
	// DailyLimit caps a person's confirmed hours per Europe/Copenhagen
	// calendar day; 8 hours when zero.
	DailyLimit time.Duration
	// Claims is how many places one person may take in a while (the
	// setting CLAIMS_PER_HOUR); the zero Quota limits nothing.
	Claims ratelimit.Quota
	// Now is the clock; clock.Real when nil. The server passes its own
	// (DEV_NOW) and tests set it.
	Now func() time.Time
}

// Service runs the volunteer-slot rules.
type Service struct {
	db         *store.DB
	bus        event.Publisher
	dailyLimit time.Duration
	claims     ratelimit.Quota
	now        func() time.Time
	loc        *time.Location
	batch      batcher
}

// NewService returns a Service on db publishing to bus.
func NewService(db *store.DB, bus event.Publisher, cfg Config) *Service {
	if cfg.DailyLimit <= 0 {
		cfg.DailyLimit = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = clock.Real
	}
	return &Service{db: db, bus: bus, dailyLimit: cfg.DailyLimit, claims: cfg.Claims, now: cfg.Now, loc: tz.Copenhagen}
}

// DailyLimit is the configured cap on confirmed hours per day.
func (s *Service) DailyLimit() time.Duration { return s.dailyLimit }

func (s *Service) clock() time.Time { return s.now().UTC() }

func (s *Service) publish(ctx context.Context, events []event.Event) {
	if len(events) > 0 {
		s.bus.Publish(ctx, events...)
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
