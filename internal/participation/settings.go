package participation

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// SettingsInput is what an organiser sets for an activity.
type SettingsInput struct {
	Mode Mode
	// Seats is required for SEAT_LIMITED and ignored otherwise.
	Seats        *int
	MaxPartySize int
	// Minutes before each occurrence starts; nil for no limit.
	OpensMinutesBefore, ClosesMinutesBefore, CancelMinutesBefore *int
	NotifyFilling                                                bool
}

func (in SettingsInput) validate() error {
	var errs apperr.List
	switch in.Mode {
	case Open, Registration:
	case SeatLimited:
		if in.Seats == nil {
			errs.Add(apperr.CodeRequired, "seats")
		} else if *in.Seats < 1 || *in.Seats > MaxSeats {
			errs.Add(CodeOutOfRange, "seats").With("Min", 1).With("Max", MaxSeats)
		}
	default:
		errs.Add(apperr.CodeInvalid, "mode")
	}
	if in.MaxPartySize < 1 || in.MaxPartySize > MaxPartySize {
		errs.Add(CodeOutOfRange, "maxPartySize").With("Min", 1).With("Max", MaxPartySize)
	}
	for _, m := range []struct {
		v     *int
		field string
	}{{in.OpensMinutesBefore, "opensMinutesBefore"}, {in.ClosesMinutesBefore, "closesMinutesBefore"}, {in.CancelMinutesBefore, "cancelMinutesBefore"}} {
		if m.v != nil && (*m.v < 0 || *m.v > MaxMinutesBefore) {
			errs.Add(CodeOutOfRange, m.field).With("Min", 0).With("Max", MaxMinutesBefore)
		}
	}
	if in.OpensMinutesBefore != nil && in.ClosesMinutesBefore != nil && *in.ClosesMinutesBefore >= *in.OpensMinutesBefore {
		errs.Add(CodeInvalidWindow, "closesMinutesBefore")
	}
	return errs.Err()
}

// Configure sets how an activity takes guests. Organisers of the
// activity and the secretariat may. Seats below what an upcoming
// occurrence already has GOING are refused (SEATS_BELOW_GOING) rather
// than cancelling anyone; more seats, or no limit any more, promote from
// the waitlists at once.
func (s *Service) Configure(ctx context.Context, caller user.Caller, activityID int64, in SettingsInput) (Settings, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Settings{}, err
	}
	a, err := activityFor(ctx, s.db, caller, activityID)
	if err != nil {
		return Settings{}, err
	}
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Settings{}, err
	}
	if in.Mode != SeatLimited {
		in.Seats = nil
	}
	if err := in.validate(); err != nil {
		return Settings{}, err
	}
	now := s.clock()
	var st Settings
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.lockActivity(ctx, tx, activityID, now); err != nil {
			return err
		}
		occs, err := upcomingWithParticipants(ctx, tx, activityID, now)
		if err != nil {
			return err
		}
		if in.Seats != nil {
			for _, o := range occs {
				going, err := seatsGoing(ctx, tx, o)
				if err != nil {
					return err
				}
				if going > *in.Seats {
					return apperr.New(CodeSeatsBelowGoing, "seats").With("Going", going)
				}
			}
		}
		_, err = store.Exec(ctx, tx, `UPDATE participation_settings SET mode = ?, seats = ?, max_party_size = ?,
			opens_minutes_before = ?, closes_minutes_before = ?, cancel_minutes_before = ?, notify_filling = ?, updated_at = ?
			WHERE activity_id = ?`, in.Mode, in.Seats, in.MaxPartySize, in.OpensMinutesBefore, in.ClosesMinutesBefore,
			in.CancelMinutesBefore, in.NotifyFilling, now, activityID)
		if err != nil {
			return fmt.Errorf("update participation settings of activity %d: %w", activityID, err)
		}
		if st, err = settingsOf(ctx, tx, activityID); err != nil {
			return err
		}
		for _, o := range occs {
			if err := s.promote(ctx, tx, a, st, o, caller.UserID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	s.publish(ctx, []event.Event{{Kind: event.ParticipationChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID}})
	return st, nil
}

// upcomingWithParticipants lists the occurrences of an activity that have
// not started and have someone GOING or waiting.
func upcomingWithParticipants(ctx context.Context, q store.Querier, activityID int64, now time.Time) ([]Occurrence, error) {
	var starts []store.Time
	err := store.Select(ctx, q, &starts, `SELECT DISTINCT occurrence_starts_at FROM participations
		WHERE activity_id = ? AND occurrence_starts_at > ? AND status IN ('GOING', 'WAITLISTED')
		ORDER BY occurrence_starts_at`, activityID, now)
	if err != nil {
		return nil, fmt.Errorf("upcoming participations of activity %d: %w", activityID, err)
	}
	out := make([]Occurrence, len(starts))
	for i, t := range starts {
		out[i] = Occurrence{ActivityID: activityID, StartsAt: t.Time}
	}
	return out, nil
}

// SettingsOf returns the settings of each activity among ids (the
// defaults for those nobody set). Settings are public: they are read for
// activities the caller was given.
func (s *Service) SettingsOf(ctx context.Context, ids []int64) (map[int64]Settings, error) {
	out := make(map[int64]Settings, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q, args, err := store.In(`SELECT `+settingsColumns+` FROM participation_settings WHERE activity_id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []Settings
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("participation settings: %w", err)
	}
	for _, id := range ids {
		out[id] = Defaults(id)
	}
	for _, r := range rows {
		out[r.ActivityID] = r
	}
	return out, nil
}
