package activity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// Input is a new or changed activity as an organiser gives it.
type Input struct {
	OrganisationID int64
	PlaceID        *int64
	Title          string
	Description    string
	StartsAt       time.Time
	EndsAt         time.Time
	Recurrence     *string
	Themes         []string
	Links          []LinkInput
	// KeepSlots leaves the volunteer slots where they are when an update
	// moves the activity; by default they move with it.
	KeepSlots bool
}

// LinkInput is a channel link as a person gives it.
type LinkInput struct {
	Kind  link.Kind
	URL   string
	Label string
}

const maxDuration = 14 * 24 * time.Hour

// LongestOccurrence bounds how long any stored occurrence lasts, made here
// (maxDuration) or imported (clamped); listing relies on it to read only
// occurrences that start shortly before the window.
const LongestOccurrence = 31 * 24 * time.Hour

// CancelHook cancels what hangs on an activity (volunteer claims) inside
// the cancelling transaction and returns the events to publish after it.
// The volunteer package provides it; app wiring sets it, which keeps this
// package free of the volunteer rules.
type CancelHook func(ctx context.Context, tx *sqlx.Tx, activityID int64, now time.Time) ([]event.Event, error)

// SetCancelHook sets what cancelling an activity also cancels.
func (s *Service) SetCancelHook(h CancelHook) { s.onCancel = h }

// MoveHook moves what hangs on an activity (volunteer slots that have not
// started) by offset, inside the transaction that moved the activity, and
// returns the events of that. The volunteer package provides it.
type MoveHook func(ctx context.Context, tx *sqlx.Tx, activityID int64, offset time.Duration, now time.Time) ([]event.Event, error)

// SetMoveHook sets what moving an activity also moves.
func (s *Service) SetMoveHook(h MoveHook) { s.onMove = h }

// SetGuestHooks sets what cancelling and moving an activity does to its
// guests' sign-ups: they are cancelled with it, and always move with it
// to the same occurrence at its new time (KeepSlots keeps only slots).
// The participation package provides them; the people whose sign-ups a
// cancellation released are named by events of kind
// event.ParticipationChanged with UserID.
func (s *Service) SetGuestHooks(cancel CancelHook, move MoveHook) {
	s.onCancelGuests, s.onMoveGuests = cancel, move
}

func (s *Service) validate(ctx context.Context, q store.Querier, in *Input, checkPast bool) ([]link.Link, error) {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	// Whole seconds: recurrence rules and calendars know no finer time.
	in.StartsAt = in.StartsAt.UTC().Truncate(time.Second)
	in.EndsAt = in.EndsAt.UTC().Truncate(time.Second)
	var errs apperr.List
	if in.Title == "" {
		errs.Add(apperr.CodeRequired, "title")
	} else if len([]rune(in.Title)) > 200 {
		errs.Add(apperr.CodeTooLong, "title").With("Max", 200)
	}
	if len([]rune(in.Description)) > 10000 {
		errs.Add(apperr.CodeTooLong, "description").With("Max", 10000)
	}
	switch {
	case in.StartsAt.IsZero():
		errs.Add(apperr.CodeRequired, "startsAt")
	case !in.EndsAt.After(in.StartsAt):
		errs.Add("ENDS_BEFORE_START", "endsAt")
	case in.EndsAt.Sub(in.StartsAt) > maxDuration:
		errs.Add("TOO_LONG_DURATION", "endsAt").With("Max", int(maxDuration.Hours()/24))
	}
	if checkPast && !in.StartsAt.IsZero() && in.StartsAt.Before(s.now()) {
		errs.Add("STARTS_IN_PAST", "startsAt")
	}
	if in.Recurrence != nil {
		rule := strings.TrimPrefix(strings.TrimSpace(*in.Recurrence), "RRULE:")
		if rule == "" {
			in.Recurrence = nil
		} else if len(rule) > 500 {
			errs.Add(apperr.CodeTooLong, "recurrence").With("Max", 500)
		} else if r, err := parseRule(rule, in.StartsAt); err != nil {
			errs.Add("INVALID_RECURRENCE", "recurrence")
		} else {
			// RFC 5545 counts DTSTART as the first instance; a start that the
			// rule would not produce is almost always a mistake.
			if first := r.After(in.StartsAt.In(tz.Copenhagen).Add(-time.Second), true); !first.Equal(in.StartsAt) {
				errs.Add("RECURRENCE_START_MISMATCH", "startsAt")
			}
			in.Recurrence = &rule
		}
	}
	if err := s.themes.Validate(ctx, in.Themes, "themes"); err != nil {
		errs = append(errs, apperr.UserErrors(err)...)
		if apperr.UserErrors(err) == nil {
			return nil, err
		}
	}
	if in.PlaceID != nil {
		var n int
		if err := store.Get(ctx, q, &n, `SELECT COUNT(*) FROM places WHERE id = ?`, *in.PlaceID); err != nil {
			return nil, err
		}
		if n == 0 {
			errs.Add("PLACE_NOT_FOUND", "placeId")
		}
	}
	if len(in.Links) > 10 {
		errs.Add(apperr.CodeTooLong, "links").With("Max", 10)
	}
	links := make([]link.Link, 0, len(in.Links))
	for i, l := range in.Links {
		nl, err := link.Normalise(l.Kind, l.URL, l.Label, "links", fmt.Sprint(i), "url")
		if err != nil {
			errs = append(errs, apperr.UserErrors(err)...)
			continue
		}
		links = append(links, nl)
	}
	return links, errs.Err()
}

// Create adds an activity as a draft, or published at once when publish
// is set. Organisers of the organisation and the secretariat may.
func (s *Service) Create(ctx context.Context, c user.Caller, in Input, publish bool) (Activity, error) {
	if err := c.RequireVerified(); err != nil {
		return Activity{}, err
	}
	if err := c.RequireOrganiserOf(in.OrganisationID); err != nil {
		return Activity{}, err
	}
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM organisations WHERE id = ?`, in.OrganisationID); err != nil {
		return Activity{}, err
	}
	if n == 0 {
		return Activity{}, apperr.New("ORGANISATION_NOT_FOUND", "organisationId")
	}
	links, err := s.validate(ctx, s.db, &in, true)
	if err != nil {
		return Activity{}, err
	}
	now := s.now()
	status := Draft
	var publishedAt *time.Time
	if publish {
		status, publishedAt = Published, &now
	}
	var a Activity
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		var id int64
		err := store.Get(ctx, tx, &id, `INSERT INTO activities
			(organisation_id, place_id, title, description, search_title, search_text, starts_at, ends_at, recurrence, status,
			 created_by, created_at, updated_at, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.OrganisationID, in.PlaceID, in.Title, in.Description, store.SearchText(in.Title), SearchText(in.Title, in.Description), in.StartsAt, in.EndsAt, in.Recurrence,
			status, c.UserID, now, now, publishedAt)
		if err != nil {
			return fmt.Errorf("insert activity: %w", err)
		}
		if err := s.writeDetails(ctx, tx, id, in, links); err != nil {
			return err
		}
		if a, err = activityByID(ctx, tx, id); err != nil {
			return err
		}
		if err := materialise(ctx, tx, a, now); err != nil {
			return err
		}
		if publish {
			events = []event.Event{{Kind: event.ActivityPublished, ActivityID: a.ID, OrganisationID: a.OrganisationID, ActorID: c.UserID}}
			if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
				return err
			}
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Activity{}, err
	}
	s.publish(ctx, events)
	return a, nil
}

func (s *Service) publish(ctx context.Context, events []event.Event) {
	if len(events) > 0 {
		s.bus.Publish(ctx, events...)
	}
}

func (s *Service) writeDetails(ctx context.Context, tx *sqlx.Tx, id int64, in Input, links []link.Link) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM activity_themes WHERE activity_id = ?`, id); err != nil {
		return fmt.Errorf("clear themes: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range in.Themes {
		if seen[t] {
			continue
		}
		seen[t] = true
		if _, err := store.Exec(ctx, tx, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, ?)`, id, t); err != nil {
			return fmt.Errorf("insert theme: %w", err)
		}
	}
	return link.Replace(ctx, tx, link.Link{ActivityID: &id}, links)
}

// Update changes an activity. The organisation cannot change; a cancelled
// activity cannot be edited.
func (s *Service) Update(ctx context.Context, c user.Caller, id int64, in Input) (Activity, error) {
	old, err := s.authorise(ctx, c, id)
	if err != nil {
		return Activity{}, err
	}
	if old.Status == Cancelled {
		return Activity{}, apperr.New("INVALID_STATUS_CHANGE")
	}
	in.OrganisationID = old.OrganisationID
	// Only a changed start must lie in the future; an ongoing series may
	// have its description edited.
	links, err := s.validate(ctx, s.db, &in, !in.StartsAt.Equal(old.StartsAt))
	if err != nil {
		return Activity{}, err
	}
	now := s.now()
	var a Activity
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		events = nil
		_, err := store.Exec(ctx, tx, `UPDATE activities SET place_id = ?, title = ?, description = ?, search_title = ?, search_text = ?,
			starts_at = ?, ends_at = ?, recurrence = ?, rescheduled_from = ?, updated_at = ? WHERE id = ?`,
			in.PlaceID, in.Title, in.Description, store.SearchText(in.Title), SearchText(in.Title, in.Description), in.StartsAt, in.EndsAt, in.Recurrence,
			rescheduledFrom(old, in.StartsAt), now, id)
		if err != nil {
			return fmt.Errorf("update activity %d: %w", id, err)
		}
		if err := s.writeDetails(ctx, tx, id, in, links); err != nil {
			return err
		}
		if a, err = activityByID(ctx, tx, id); err != nil {
			return err
		}
		if err := materialise(ctx, tx, a, now); err != nil {
			return err
		}
		// Its slots keep their place in the activity: moved by the same
		// offset, unless the organiser asked to place them by hand.
		if offset := a.StartsAt.Sub(old.StartsAt); offset != 0 && !in.KeepSlots && s.onMove != nil {
			evs, err := s.onMove(ctx, tx, id, offset, now)
			if err != nil {
				return err
			}
			events = append(events, evs...)
		}
		if offset := a.StartsAt.Sub(old.StartsAt); offset != 0 && s.onMoveGuests != nil {
			evs, err := s.onMoveGuests(ctx, tx, id, offset, now)
			if err != nil {
				return err
			}
			events = append(events, evs...)
		}
		// Only what changes whether and where people go is news; a
		// corrected description is not worth a push to every follower.
		if a.Status == Published && movedOrRelocated(old, a) {
			events = append(events, event.Event{Kind: event.ActivityChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID, ActorID: c.UserID})
		}
		// A draft's edits are no phone's business (drafts are not synced,
		// and a log row would tell everyone the draft exists).
		if a.Status != Draft {
			if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
				return err
			}
		}
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Activity{}, err
	}
	s.publish(ctx, events)
	return a, nil
}

// movedOrRelocated reports whether b differs from a in time, recurrence
// or place.
func movedOrRelocated(a, b Activity) bool {
	return !a.StartsAt.Equal(b.StartsAt) || !a.EndsAt.Equal(b.EndsAt) ||
		!equalPtr(a.Recurrence, b.Recurrence) || !equalPtr(a.PlaceID, b.PlaceID)
}

func equalPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Publish makes a draft visible to everyone.
func (s *Service) Publish(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	old, err := s.authorise(ctx, c, id)
	if err != nil {
		return Activity{}, err
	}
	if old.Status != Draft {
		return Activity{}, apperr.New("INVALID_STATUS_CHANGE")
	}
	now := s.now()
	e := event.Event{Kind: event.ActivityPublished, ActivityID: id, OrganisationID: old.OrganisationID, ActorID: c.UserID}
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		n, err := store.Exec(ctx, tx, `UPDATE activities SET status = 'PUBLISHED', published_at = ?, updated_at = ?
			WHERE id = ? AND status = 'DRAFT'`, now, now, id)
		if err != nil {
			return fmt.Errorf("publish activity %d: %w", id, err)
		}
		if n == 0 {
			return apperr.New("INVALID_STATUS_CHANGE")
		}
		if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
			return err
		}
		return s.bus.Record(ctx, tx, e)
	})
	if err != nil {
		return Activity{}, err
	}
	s.bus.Publish(ctx, e)
	return activityByID(ctx, s.db, id)
}

// Cancel calls an activity off: it stays visible as cancelled, its future
// occurrences go, and every live volunteer claim on it is cancelled. Its
// volunteers (confirmed and waitlisted), the other organisers and its
// followers are told, through the outbox in the same transaction.
func (s *Service) Cancel(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	old, err := s.authorise(ctx, c, id)
	if err != nil {
		return Activity{}, err
	}
	if old.Status == Cancelled {
		return Activity{}, apperr.New("INVALID_STATUS_CHANGE")
	}
	now := s.now()
	var events []event.Event
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		cancelled, evs, err := s.CancelTx(ctx, tx, id, c.UserID, now)
		if err != nil {
			return err
		}
		if !cancelled {
			return apperr.New("INVALID_STATUS_CHANGE")
		}
		events = evs
		return s.bus.Record(ctx, tx, events...)
	})
	if err != nil {
		return Activity{}, err
	}
	s.publish(ctx, events)
	return activityByID(ctx, s.db, id)
}

// authorise loads an activity the caller may manage.
func (s *Service) authorise(ctx context.Context, c user.Caller, id int64) (Activity, error) {
	if err := c.RequireVerified(); err != nil {
		return Activity{}, err
	}
	a, err := activityByID(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.VisibleTo(c)) {
		// Someone else's draft is not there, as far as the caller knows.
		return Activity{}, apperr.New("ACTIVITY_NOT_FOUND", "id")
	}
	if err != nil {
		return Activity{}, err
	}
	if err := c.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Activity{}, err
	}
	return a, nil
}
