package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// AudienceKind is who an announcement goes to.
type AudienceKind string

const (
	// AudienceFollowers: the followers of one organisation.
	AudienceFollowers AudienceKind = "FOLLOWERS"
	// AudienceActivityVolunteers: everyone with a live claim on a slot of
	// one activity (confirmed or waitlisted).
	AudienceActivityVolunteers AudienceKind = "ACTIVITY_VOLUNTEERS"
	// AudienceSlotVolunteers: everyone with a live claim on one slot.
	AudienceSlotVolunteers AudienceKind = "SLOT_VOLUNTEERS"
	// AudienceTown: every resident; the secretariat only.
	AudienceTown AudienceKind = "TOWN"
)

// Audience names the recipients; only the id of its kind is set.
type Audience struct {
	Kind           AudienceKind
	OrganisationID int64
	ActivityID     int64
	SlotID         int64
}

// Announcement is an announcement as sent.
type Announcement struct {
	ID             int64        `db:"id"`
	SenderID       int64        `db:"sender_id"`
	Audience       AudienceKind `db:"audience"`
	OrganisationID *int64       `db:"organisation_id"`
	ActivityID     *int64       `db:"activity_id"`
	SlotID         *int64       `db:"slot_id"`
	Title          string       `db:"title"`
	Body           string       `db:"body"`
	Recipients     int          `db:"recipients"`
	BySecretariat  bool         `db:"by_secretariat"`
	CreatedAt      time.Time    `db:"created_at"`
}

const (
	maxAnnouncementTitle = 80
	maxAnnouncementBody  = 500
)

// SendAnnouncement sends an organiser's or the secretariat's message to an
// audience: an inbox entry for every recipient and a push to those who
// want announcements. Organisers may send to their own organisation's
// followers and volunteers, at most Config.AnnouncementsPerDay times per
// organisation in 24 hours; the secretariat may send anything, also
// town-wide, without limit.
func (s *Service) SendAnnouncement(ctx context.Context, caller user.Caller, aud Audience, title, body string) (Announcement, error) {
	if err := caller.RequireVerified(); err != nil {
		return Announcement{}, err
	}
	title, body = strings.TrimSpace(title), strings.TrimSpace(body)
	var errs apperr.List
	if title == "" {
		errs.Add(apperr.CodeRequired, "title")
	} else if utf8.RuneCountInString(title) > maxAnnouncementTitle {
		errs.Add(apperr.CodeTooLong, "title").With("Max", maxAnnouncementTitle)
	}
	if body == "" {
		errs.Add(apperr.CodeRequired, "body")
	} else if utf8.RuneCountInString(body) > maxAnnouncementBody {
		errs.Add(apperr.CodeTooLong, "body").With("Max", maxAnnouncementBody)
	}
	if err := errs.Err(); err != nil {
		return Announcement{}, err
	}

	var out Announcement
	err := s.transact(ctx, func(tx *sqlx.Tx, add func([]NewNotification) error) error {
		orgID, err := s.audienceOrganisation(ctx, tx, &aud)
		if err != nil {
			return err
		}
		if aud.Kind == AudienceTown {
			if err := caller.RequireSecretariat(); err != nil {
				return err
			}
		} else if err := caller.RequireOrganiserOf(orgID); err != nil {
			return err
		}
		now := s.now()
		if !caller.Secretariat {
			if err := s.checkSendingLimit(ctx, tx, orgID, now); err != nil {
				return err
			}
		}
		recipients, err := s.audienceUsers(ctx, tx, aud)
		if err != nil {
			return err
		}
		var org any
		if orgID != 0 {
			org = orgID
		}
		err = store.Get(ctx, tx, &out, `
			INSERT INTO announcements
				(sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id, sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at`,
			caller.UserID, aud.Kind, org, nullID(aud.ActivityID), nullID(aud.SlotID), title, body,
			len(recipients), caller.Secretariat, now)
		if err != nil {
			return fmt.Errorf("insert announcement: %w", err)
		}
		ns := make([]NewNotification, 0, len(recipients))
		for _, u := range recipients {
			ns = append(ns, NewNotification{
				UserID: u, Kind: KindAnnouncement, Title: title, Body: body,
				AnnouncementID: out.ID, ActivityID: aud.ActivityID, SlotID: aud.SlotID,
			})
		}
		return add(ns)
	})
	if err != nil {
		return Announcement{}, err
	}
	return out, nil
}

// audienceOrganisation validates aud and returns the organisation it
// belongs to (0 for town-wide), filling in the activity of a slot.
func (s *Service) audienceOrganisation(ctx context.Context, tx *sqlx.Tx, aud *Audience) (int64, error) {
	var orgID int64
	var err error
	switch aud.Kind {
	case AudienceTown:
		if aud.OrganisationID != 0 || aud.ActivityID != 0 || aud.SlotID != 0 {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		return 0, nil
	case AudienceFollowers:
		if aud.OrganisationID == 0 || aud.ActivityID != 0 || aud.SlotID != 0 {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		err = store.Get(ctx, tx, &orgID, `SELECT id FROM organisations WHERE id = ?`, aud.OrganisationID)
	case AudienceActivityVolunteers:
		if aud.ActivityID == 0 || aud.SlotID != 0 {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		err = store.Get(ctx, tx, &orgID, `SELECT organisation_id FROM activities WHERE id = ?`, aud.ActivityID)
	case AudienceSlotVolunteers:
		if aud.SlotID == 0 {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		var row struct {
			ActivityID     int64 `db:"activity_id"`
			OrganisationID int64 `db:"organisation_id"`
		}
		err = store.Get(ctx, tx, &row, `SELECT vs.activity_id, a.organisation_id FROM volunteer_slots vs
			JOIN activities a ON a.id = vs.activity_id WHERE vs.id = ?`, aud.SlotID)
		if aud.ActivityID != 0 && aud.ActivityID != row.ActivityID && err == nil {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		aud.ActivityID, orgID = row.ActivityID, row.OrganisationID
	default:
		return 0, apperr.New(CodeInvalidAudience, "audience")
	}
	if store.IsNotFound(err) {
		return 0, apperr.New(apperr.CodeNotFound, "audience")
	}
	if err != nil {
		return 0, fmt.Errorf("audience %+v: %w", *aud, err)
	}
	if aud.OrganisationID != 0 && aud.OrganisationID != orgID {
		return 0, apperr.New(CodeInvalidAudience, "audience")
	}
	aud.OrganisationID = orgID
	// Serialise announcements of one organisation so that two sent at
	// once cannot both pass the limit.
	if err := s.db.LockRows(ctx, tx, `SELECT id FROM organisations WHERE id = ?`, orgID); err != nil {
		return 0, fmt.Errorf("lock organisation %d: %w", orgID, err)
	}
	return orgID, nil
}

func (s *Service) checkSendingLimit(ctx context.Context, tx *sqlx.Tx, orgID int64, now time.Time) error {
	var sent int
	err := store.Get(ctx, tx, &sent, `SELECT COUNT(*) FROM announcements
		WHERE organisation_id = ? AND by_secretariat = ? AND created_at > ?`, orgID, false, now.Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("announcements sent by organisation %d: %w", orgID, err)
	}
	if sent >= s.cfg.AnnouncementsPerDay {
		return apperr.New(CodeSendingLimitReached).With("Max", s.cfg.AnnouncementsPerDay)
	}
	return nil
}

func (s *Service) audienceUsers(ctx context.Context, tx *sqlx.Tx, aud Audience) ([]int64, error) {
	var users []int64
	var err error
	switch aud.Kind {
	case AudienceTown:
		err = store.Select(ctx, tx, &users, `SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id`)
	case AudienceFollowers:
		err = store.Select(ctx, tx, &users, `SELECT user_id FROM follows
			WHERE kind = 'ORGANISATION' AND organisation_id = ? ORDER BY user_id`, aud.OrganisationID)
	case AudienceActivityVolunteers:
		err = store.Select(ctx, tx, &users, `SELECT DISTINCT c.user_id FROM slot_claims c
			JOIN volunteer_slots vs ON vs.id = c.slot_id
			WHERE vs.activity_id = ? AND c.status <> 'CANCELLED' ORDER BY c.user_id`, aud.ActivityID)
	case AudienceSlotVolunteers:
		err = store.Select(ctx, tx, &users, `SELECT DISTINCT user_id FROM slot_claims
			WHERE slot_id = ? AND status <> 'CANCELLED' ORDER BY user_id`, aud.SlotID)
	}
	if err != nil {
		return nil, fmt.Errorf("audience %s: %w", aud.Kind, err)
	}
	return users, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
