// Package participation is residents taking part in activities as guests:
// "I'm coming" (GOING) or INTERESTED on one occurrence, with a party (the
// person and the children or friends they bring), in one of three modes
// an organiser sets per activity — OPEN (drop in; saying so is a
// courtesy), REGISTRATION (one signs up to come) and SEAT_LIMITED (seats
// run out: a waitlist that is promoted automatically).
//
// Seat-limited sign-up keeps the volunteer claim engine's guarantees
// (internal/volunteer) with the parts both share in internal/seat: every
// change runs in one transaction that locks the person, then the
// activity's participation_settings row, under which the seats taken are
// counted from the rows, so the parties GOING never hold more seats than
// the occurrence has, at every commit; the waitlist position is computed
// (1..n without gaps); a freed seat goes to the first waiting party that
// fits (seat.Fill: a party is never split, and one too big for the seats
// free keeps its place); and an idempotency key per tap makes a phone's
// retries return the first answer.
package participation

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// User error codes raised by this package; shared ones (REQUIRED,
// OUT_OF_RANGE, IDEMPOTENCY_KEY_REUSED, ...) are defined where they
// started.
const (
	CodeActivityNotFound      = "ACTIVITY_NOT_FOUND"
	CodeActivityCancelled     = "ACTIVITY_CANCELLED"
	CodeOccurrenceNotFound    = "OCCURRENCE_NOT_FOUND"
	CodeOccurrenceStarted     = "OCCURRENCE_STARTED"
	CodeOccurrenceNotStarted  = "OCCURRENCE_NOT_STARTED"
	CodeRegistrationNotOpen   = "REGISTRATION_NOT_OPEN"
	CodeRegistrationClosed    = "REGISTRATION_CLOSED"
	CodePartyTooLarge         = "PARTY_TOO_LARGE"
	CodeNotEnoughSeats        = "NOT_ENOUGH_SEATS"
	CodeSeatsBelowGoing       = "SEATS_BELOW_GOING"
	CodeParticipationNotFound = "PARTICIPATION_NOT_FOUND"
	CodeNotGoing              = "PARTICIPATION_NOT_GOING"
	CodeTooManySignups        = "TOO_MANY_SIGNUPS"
	CodeOutOfRange            = "OUT_OF_RANGE"
	CodeInvalidWindow         = "INVALID_REGISTRATION_WINDOW"
)

// Mode is how an activity takes guests.
type Mode string

const (
	Open         Mode = "OPEN"
	Registration Mode = "REGISTRATION"
	SeatLimited  Mode = "SEAT_LIMITED"
)

// Statuses of a participation.
const (
	Going      = "GOING"
	Interested = "INTERESTED"
	Waitlisted = "WAITLISTED"
	Cancelled  = "CANCELLED"
)

// Attendance values an organiser records once the occurrence started.
const (
	Attended = "ATTENDED"
	NoShow   = "NO_SHOW"
)

// Limits.
const (
	DefaultMaxPartySize = 6
	MaxPartySize        = 20
	MaxSeats            = 2000
	// MaxMinutesBefore bounds the window settings: 90 days.
	MaxMinutesBefore = 90 * 24 * 60
	MaxName          = 100
	MaxPageSize      = 100
)

// Settings is how an activity takes guests; an activity nobody set has
// the defaults (OPEN, parties of up to DefaultMaxPartySize).
type Settings struct {
	ActivityID   int64 `db:"activity_id"`
	Mode         Mode  `db:"mode"`
	Seats        *int  `db:"seats"`
	MaxPartySize int   `db:"max_party_size"`
	// The registration window and cancellation deadline are minutes
	// before each occurrence starts, so they hold for every date of a
	// recurring activity.
	OpensMinutesBefore  *int `db:"opens_minutes_before"`
	ClosesMinutesBefore *int `db:"closes_minutes_before"`
	CancelMinutesBefore *int `db:"cancel_minutes_before"`
	// NotifyFilling tells the organisers when an occurrence reaches 80 %
	// and 100 % of its seats.
	NotifyFilling bool      `db:"notify_filling"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// Defaults are the settings of an activity nobody configured.
func Defaults(activityID int64) Settings {
	return Settings{ActivityID: activityID, Mode: Open, MaxPartySize: DefaultMaxPartySize, NotifyFilling: true}
}

func before(start time.Time, minutes *int) *time.Time {
	if minutes == nil {
		return nil
	}
	t := start.Add(-time.Duration(*minutes) * time.Minute)
	return &t
}

// OpensAt is when registration for the occurrence starting at start opens
// (nil: at once).
func (s Settings) OpensAt(start time.Time) *time.Time { return before(start, s.OpensMinutesBefore) }

// ClosesAt is when registration closes (nil: when the occurrence starts).
func (s Settings) ClosesAt(start time.Time) *time.Time { return before(start, s.ClosesMinutesBefore) }

// CancelDeadline is when cancelling starts to count as late (nil: never).
func (s Settings) CancelDeadline(start time.Time) *time.Time {
	return before(start, s.CancelMinutesBefore)
}

// Limited reports whether seats run out.
func (s Settings) Limited() bool { return s.Mode == SeatLimited && s.Seats != nil }

// Participation is one person's (and their party's) taking part in one
// occurrence.
type Participation struct {
	ID                 int64     `db:"id"`
	ActivityID         int64     `db:"activity_id"`
	OccurrenceStartsAt time.Time `db:"occurrence_starts_at"`
	UserID             int64     `db:"user_id"`
	Status             string    `db:"status"`
	// PartySize is the person plus their guests.
	PartySize int `db:"party_size"`
	// WaitlistPosition is 1 for the next party in line; set only when
	// WAITLISTED.
	WaitlistPosition *int       `db:"waitlist_position"`
	Attendance       *string    `db:"attendance"`
	LateCancel       bool       `db:"late_cancel"`
	CreatedBy        *int64     `db:"created_by"`
	CreatedAt        time.Time  `db:"created_at"`
	UpdatedAt        time.Time  `db:"updated_at"`
	ConfirmedAt      *time.Time `db:"confirmed_at"`
	PromotedAt       *time.Time `db:"promoted_at"`
	CancelledAt      *time.Time `db:"cancelled_at"`
}

// Guests is how many the person brings.
func (p Participation) Guests() int { return p.PartySize - 1 }

// Occurrence names one date of an activity.
type Occurrence struct {
	ActivityID int64
	StartsAt   time.Time
}

// Headcount is what anyone who may see the activity may know of one
// occurrence: counts, never names. People count the whole party.
type Headcount struct {
	Occurrence
	Going, GoingParties           int
	Interested                    int
	Waitlisted, WaitlistedParties int
	// Seats is nil unless the activity is seat-limited.
	Seats *int
}

// SeatsLeft is how many more people can be GOING; nil when seats do not
// run out.
func (h Headcount) SeatsLeft() *int {
	if h.Seats == nil {
		return nil
	}
	n := max(*h.Seats-h.Going, 0)
	return &n
}

// Notifier writes notifications inside the transaction of the change
// that causes them (notify.Service.Notify).
type Notifier interface {
	Notify(ctx context.Context, tx *sqlx.Tx, ns ...notify.NewNotification) error
}

// Config tunes the service.
type Config struct {
	// Signups is how many participations one person may make in a while
	// (CLAIMS_PER_HOUR, shared with slot claims); the zero Quota limits
	// nothing.
	Signups ratelimit.Quota
	// Now is the clock; clock.Real when nil.
	Now func() time.Time
}

// Service runs the participation rules.
type Service struct {
	db      *store.DB
	bus     event.Publisher
	notify  Notifier
	signups ratelimit.Quota
	now     func() time.Time
}

// NewService returns a Service on db; notifications go through n (nil:
// none) and live-update signals to bus.
func NewService(db *store.DB, bus event.Publisher, n Notifier, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = clock.Real
	}
	return &Service{db: db, bus: bus, notify: n, signups: cfg.Signups, now: cfg.Now}
}

func (s *Service) clock() time.Time { return s.now().UTC() }

func (s *Service) publish(ctx context.Context, events []event.Event) {
	if len(events) > 0 {
		s.bus.Publish(ctx, events...)
	}
}

// visibleTo reports whether caller may see p: its person, the activity's
// organisers and the secretariat. To anyone else it does not exist.
func (p Participation) visibleTo(caller user.Caller, organisationID int64) bool {
	return (caller.SignedIn() && p.UserID == caller.UserID) || caller.OrganiserOf(organisationID)
}
