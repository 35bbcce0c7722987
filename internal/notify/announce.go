package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

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
	// AudienceParticipants: the guests of one activity, or of one of its
	// occurrences: those GOING and those WAITLISTED, who both plan to come
	// and act on "we moved to the big hall" or "bring a plate". INTERESTED
	// is left out: they said maybe, hold no seat, and follow the activity
	// if they want its news. Residents an organiser signed up without the
	// app (users.has_app false and no Firebase account) are skipped and not
	// counted in Recipients: they have no device and no inbox, and the
	// organiser rings them.
	AudienceParticipants AudienceKind = "PARTICIPANTS"
)

// CodeOccurrenceNotFound: the activity has no occurrence at that time.
const CodeOccurrenceNotFound = "OCCURRENCE_NOT_FOUND"

// Audience names the recipients; only the id of its kind is set.
type Audience struct {
	Kind           AudienceKind
	OrganisationID int64
	ActivityID     int64
	SlotID         int64
	// OccurrenceStartsAt narrows PARTICIPANTS to one occurrence; zero is
	// every occurrence that has not ended when it is sent.
	OccurrenceStartsAt time.Time
}

// Announcement is an announcement as sent.
type Announcement struct {
	ID             int64        `db:"id"`
	SenderID       int64        `db:"sender_id"`
	Audience       AudienceKind `db:"audience"`
	OrganisationID *int64       `db:"organisation_id"`
	ActivityID     *int64       `db:"activity_id"`
	SlotID         *int64       `db:"slot_id"`
	// OccurrenceStartsAt is the occurrence of a PARTICIPANTS announcement
	// sent to one.
	OccurrenceStartsAt *time.Time `db:"occurrence_starts_at"`
	Title              string     `db:"title"`
	Body               string     `db:"body"`
	// Recipients is the size of the audience when it was sent.
	Recipients    int       `db:"recipients"`
	BySecretariat bool      `db:"by_secretariat"`
	CreatedAt     time.Time `db:"created_at"`
	// FannedOutAt is when every recipient had their inbox entry; nil while
	// the fan-out job is at it.
	FannedOutAt *time.Time `db:"fanned_out_at"`
}

// NewAnnouncement is what sendAnnouncement asks for.
type NewAnnouncement struct {
	Audience    Audience
	Title, Body string
	// IdempotencyKey, when set, makes a retry safe: the sender's second
	// announcement with the same key is not sent again, and returns the
	// first (IDEMPOTENCY_KEY_REUSED if it asked for something else).
	IdempotencyKey string
}

const (
	maxAnnouncementTitle = 80
	maxAnnouncementBody  = 500
	// MaxIdempotencyKey is the longest idempotency key, as for claims.
	MaxIdempotencyKey = 100
	// CodeIdempotencyKeyReused: the key was used for another announcement.
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
)

// Fan-out chunks: how many recipients get their inbox entries in the
// request, and in each transaction of the fan-out job after it. Most
// announcements (an organisation's followers, an activity's volunteers)
// are done in the request; a town-wide one returns after the first chunk.
const (
	announceFirstChunk = 1000
	announceChunk      = 2000
)

// SendAnnouncement is Announce without an idempotency key.
func (s *Service) SendAnnouncement(ctx context.Context, caller user.Caller, aud Audience, title, body string) (Announcement, error) {
	return s.Announce(ctx, caller, NewAnnouncement{Audience: aud, Title: title, Body: body})
}

// Announce sends an organiser's or the secretariat's message to an
// audience: an inbox entry for every recipient and a push to those who
// want announcements. Organisers may send to their own organisation's
// followers and volunteers, at most Config.AnnouncementsPerDay times per
// organisation in 24 hours; the secretariat may send anything, also
// town-wide, without limit.
//
// The announcement, its audience size and the first recipients' inbox
// entries are written in one transaction with the job that fans out to
// the rest (AnnounceArgs), in chunks of their own transactions, so the
// request returns at once whatever the audience. Who joins the audience
// while the fan-out runs (a new resident, a new follower) gets it too.
func (s *Service) Announce(ctx context.Context, caller user.Caller, in NewAnnouncement) (Announcement, error) {
	if err := caller.RequireVerified(); err != nil {
		return Announcement{}, err
	}
	aud := in.Audience
	title, body := strings.TrimSpace(in.Title), strings.TrimSpace(in.Body)
	key := strings.TrimSpace(in.IdempotencyKey)
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
	if len(key) > MaxIdempotencyKey {
		errs.Add(apperr.CodeTooLong, "idempotencyKey").With("Max", MaxIdempotencyKey)
	}
	if err := errs.Err(); err != nil {
		return Announcement{}, err
	}

	var out Announcement
	err := s.transact(ctx, func(tx *sqlx.Tx, add func([]NewNotification) error) error {
		out = Announcement{}
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
		if key != "" {
			first, found, err := s.announcementByKey(ctx, tx, caller.UserID, key)
			if err != nil {
				return err
			}
			if found {
				if !first.sameAs(aud, title, body) {
					return apperr.New(CodeIdempotencyKeyReused, "idempotencyKey")
				}
				out = first
				return nil
			}
		}
		now := s.now()
		if !caller.Secretariat {
			if err := s.checkSendingLimit(ctx, tx, orgID, now); err != nil {
				return err
			}
		}
		size, err := s.audienceSize(ctx, tx, aud, now)
		if err != nil {
			return err
		}
		var org, idem any
		if orgID != 0 {
			org = orgID
		}
		if key != "" {
			idem = key
		}
		err = store.Get(ctx, tx, &out, `
			INSERT INTO announcements
				(sender_id, audience, organisation_id, activity_id, slot_id, occurrence_starts_at, title, body, recipients,
				 by_secretariat, created_at, idempotency_key, fanned_out_to)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
			ON CONFLICT (sender_id, idempotency_key) DO NOTHING
			RETURNING `+announcementColumns,
			caller.UserID, aud.Kind, org, nullID(aud.ActivityID), nullID(aud.SlotID), nullTime(aud.OccurrenceStartsAt), title, body,
			size, caller.Secretariat, now, idem)
		if store.IsNotFound(err) && key != "" {
			// A request with the same key committed while this one ran.
			first, found, err := s.announcementByKey(ctx, tx, caller.UserID, key)
			if err != nil {
				return err
			}
			if !found || !first.sameAs(aud, title, body) {
				return apperr.New(CodeIdempotencyKeyReused, "idempotencyKey")
			}
			out = first
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert announcement: %w", err)
		}
		done, err := s.fanOutChunk(ctx, tx, add, out.ID, announceFirstChunk)
		if err != nil {
			return err
		}
		if done {
			t := s.now()
			out.FannedOutAt = &t
			return nil
		}
		if _, err := s.river.InsertTx(ctx, tx.Tx, AnnounceArgs{AnnouncementID: out.ID}, &river.InsertOpts{MaxAttempts: 25}); err != nil {
			return fmt.Errorf("enqueue fan-out of announcement %d: %w", out.ID, err)
		}
		return nil
	})
	if err != nil {
		return Announcement{}, err
	}
	return out, nil
}

const announcementColumns = `id, COALESCE(sender_id, 0) AS sender_id, audience, organisation_id, activity_id, slot_id,
	occurrence_starts_at, title, body, recipients, by_secretariat, created_at, fanned_out_at`

// announcementByKey finds the announcement sender sent with key. Of two
// requests with one key at once, the second waits at the unique index
// for the first to commit (or at the organisation's lock) and returns it.
func (s *Service) announcementByKey(ctx context.Context, tx *sqlx.Tx, sender int64, key string) (Announcement, bool, error) {
	var a Announcement
	err := store.Get(ctx, tx, &a, `SELECT `+announcementColumns+` FROM announcements WHERE sender_id = ? AND idempotency_key = ?`, sender, key)
	if store.IsNotFound(err) {
		return Announcement{}, false, nil
	}
	if err != nil {
		return Announcement{}, false, fmt.Errorf("announcement by idempotency key: %w", err)
	}
	return a, true, nil
}

// sameAs reports whether a is what a retry asking for aud, title and body
// would have sent.
func (a Announcement) sameAs(aud Audience, title, body string) bool {
	deref := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	var occ time.Time
	if a.OccurrenceStartsAt != nil {
		occ = *a.OccurrenceStartsAt
	}
	return a.Audience == aud.Kind && deref(a.OrganisationID) == aud.OrganisationID && deref(a.ActivityID) == aud.ActivityID &&
		deref(a.SlotID) == aud.SlotID && occ.Equal(aud.OccurrenceStartsAt) && a.Title == title && a.Body == body
}

// AnnounceArgs is the River job that gives the recipients of an
// announcement their inbox entries (and so their pushes) after the first
// chunk, which the request did.
type AnnounceArgs struct {
	AnnouncementID int64 `json:"announcement_id"`
}

// Kind is River's name for the job.
func (AnnounceArgs) Kind() string { return "notify_announce" }

type announceWorker struct {
	river.WorkerDefaults[AnnounceArgs]
	s *Service
}

// Timeout is the lease, as for delivery jobs: a run ends after half of it.
func (w *announceWorker) Timeout(*river.Job[AnnounceArgs]) time.Duration { return w.s.cfg.Lease }

func (w *announceWorker) Work(ctx context.Context, job *river.Job[AnnounceArgs]) error {
	return w.s.fanOut(ctx, job.Args.AnnouncementID)
}

// fanOut gives the rest of the announcement's audience their inbox
// entries, a chunk per transaction. The chunk and the announcement's
// cursor (fanned_out_to, the last recipient done, in id order) are
// committed together, so a run that dies anywhere leaves the next to go
// on where the last commit left off, and nobody gets two entries. A run
// stops after half the lease and comes back at once (as deliver does).
func (s *Service) fanOut(ctx context.Context, id int64) error {
	begun := time.Now()
	for {
		if ctx.Err() != nil || time.Since(begun) > s.cfg.Lease/2 {
			return river.JobSnooze(0)
		}
		var done bool
		err := s.transact(ctx, func(tx *sqlx.Tx, add func([]NewNotification) error) error {
			var err error
			done, err = s.fanOutChunk(ctx, tx, add, id, announceChunk)
			return err
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// fanOutChunk writes the inbox entries of the next n recipients of
// announcement id after its cursor and moves the cursor on; at the end of
// the audience it marks the announcement fanned out and reports done.
func (s *Service) fanOutChunk(ctx context.Context, tx *sqlx.Tx, add func([]NewNotification) error, id int64, n int) (bool, error) {
	if err := s.db.LockRows(ctx, tx, `SELECT id FROM announcements WHERE id = ?`, id); err != nil {
		return false, fmt.Errorf("lock announcement %d: %w", id, err)
	}
	var a struct {
		Announcement
		FannedOutTo int64 `db:"fanned_out_to"`
	}
	err := store.Get(ctx, tx, &a, `SELECT `+announcementColumns+`, fanned_out_to FROM announcements WHERE id = ?`, id)
	if store.IsNotFound(err) {
		return true, nil // its organisation was deleted, and it with it
	}
	if err != nil {
		return false, fmt.Errorf("announcement %d: %w", id, err)
	}
	if a.FannedOutAt != nil {
		return true, nil
	}
	aud := Audience{Kind: a.Audience}
	if a.OrganisationID != nil {
		aud.OrganisationID = *a.OrganisationID
	}
	if a.ActivityID != nil {
		aud.ActivityID = *a.ActivityID
	}
	if a.SlotID != nil {
		aud.SlotID = *a.SlotID
	}
	if a.OccurrenceStartsAt != nil {
		aud.OccurrenceStartsAt = *a.OccurrenceStartsAt
	}
	// The audience is who it was when it was sent (upcoming is upcoming
	// then), so a chunk run later does not drop an occurrence that has
	// since ended.
	recipients, err := s.audienceUsers(ctx, tx, aud, a.CreatedAt, a.FannedOutTo, n)
	if err != nil {
		return false, err
	}
	if len(recipients) > 0 {
		ns := make([]NewNotification, 0, len(recipients))
		for _, u := range recipients {
			ns = append(ns, NewNotification{
				UserID: u, Kind: KindAnnouncement, Title: a.Title, Body: a.Body,
				AnnouncementID: a.ID, ActivityID: aud.ActivityID, SlotID: aud.SlotID,
			})
		}
		if err := add(ns); err != nil {
			return false, err
		}
		if _, err := store.Exec(ctx, tx, `UPDATE announcements SET fanned_out_to = ? WHERE id = ?`, recipients[len(recipients)-1], id); err != nil {
			return false, fmt.Errorf("move fan-out of announcement %d on: %w", id, err)
		}
	}
	if len(recipients) == n {
		return false, nil
	}
	if _, err := store.Exec(ctx, tx, `UPDATE announcements SET fanned_out_at = ? WHERE id = ?`, s.now(), id); err != nil {
		return false, fmt.Errorf("finish fan-out of announcement %d: %w", id, err)
	}
	return true, nil
}

// audienceOrganisation validates aud and returns the organisation it
// belongs to (0 for town-wide), filling in the activity of a slot.
func (s *Service) audienceOrganisation(ctx context.Context, tx *sqlx.Tx, aud *Audience) (int64, error) {
	var orgID int64
	var err error
	switch aud.Kind {
	case AudienceTown:
		if aud.OrganisationID != 0 || aud.ActivityID != 0 || aud.SlotID != 0 || !aud.OccurrenceStartsAt.IsZero() {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		return 0, nil
	case AudienceFollowers:
		if aud.OrganisationID == 0 || aud.ActivityID != 0 || aud.SlotID != 0 || !aud.OccurrenceStartsAt.IsZero() {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		err = store.Get(ctx, tx, &orgID, `SELECT id FROM organisations WHERE id = ?`, aud.OrganisationID)
	case AudienceActivityVolunteers:
		if aud.ActivityID == 0 || aud.SlotID != 0 || !aud.OccurrenceStartsAt.IsZero() {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		err = store.Get(ctx, tx, &orgID, `SELECT organisation_id FROM activities WHERE id = ?`, aud.ActivityID)
	case AudienceParticipants:
		if aud.ActivityID == 0 || aud.SlotID != 0 {
			return 0, apperr.New(CodeInvalidAudience, "audience")
		}
		err = store.Get(ctx, tx, &orgID, `SELECT organisation_id FROM activities WHERE id = ?`, aud.ActivityID)
		if err == nil && !aud.OccurrenceStartsAt.IsZero() {
			aud.OccurrenceStartsAt = aud.OccurrenceStartsAt.UTC()
			var one int
			err = store.Get(ctx, tx, &one, `SELECT 1 FROM occurrences WHERE activity_id = ? AND starts_at = ?`,
				aud.ActivityID, aud.OccurrenceStartsAt)
			if store.IsNotFound(err) {
				return 0, apperr.New(CodeOccurrenceNotFound, "occurrenceStartsAt")
			}
		}
	case AudienceSlotVolunteers:
		if aud.SlotID == 0 || !aud.OccurrenceStartsAt.IsZero() {
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

// participantsOf is the condition on participations p (and their users
// u) that makes a PARTICIPANTS audience, with three parameters: the
// activity, the occurrence (NULL for every one) and the time it was sent
// (for "every one": those that had not ended by then).
const participantsOf = `p.activity_id = ? AND p.status IN ('GOING', 'WAITLISTED')
	AND u.deleted_at IS NULL AND (u.has_app = TRUE OR u.firebase_uid IS NOT NULL)
	AND EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = p.activity_id AND o.starts_at = p.occurrence_starts_at
		AND (o.starts_at = ? OR o.ends_at > ?))`

// participantsArgs are participantsOf's parameters for aud sent at sent.
func participantsArgs(aud Audience, sent time.Time) []any {
	if aud.OccurrenceStartsAt.IsZero() {
		return []any{aud.ActivityID, nil, sent.UTC()}
	}
	// One occurrence: its guests even after it ended ("thank you for
	// coming", a lost umbrella); the far future never matches ends_at.
	return []any{aud.ActivityID, aud.OccurrenceStartsAt.UTC(), farFuture}
}

// farFuture is later than any occurrence ends.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// audienceUsers returns up to limit recipients of aud, sent at sent, with
// ids above after, in id order.
func (s *Service) audienceUsers(ctx context.Context, tx *sqlx.Tx, aud Audience, sent time.Time, after int64, limit int) ([]int64, error) {
	var users []int64
	var err error
	switch aud.Kind {
	case AudienceTown:
		err = store.Select(ctx, tx, &users, `SELECT id FROM users WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?`, after, limit)
	case AudienceFollowers:
		err = store.Select(ctx, tx, &users, `SELECT user_id FROM follows
			WHERE kind = 'ORGANISATION' AND organisation_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`, aud.OrganisationID, after, limit)
	case AudienceActivityVolunteers:
		err = store.Select(ctx, tx, &users, `SELECT DISTINCT c.user_id FROM slot_claims c
			JOIN volunteer_slots vs ON vs.id = c.slot_id
			WHERE vs.activity_id = ? AND c.status <> 'CANCELLED' AND c.user_id > ? ORDER BY c.user_id LIMIT ?`, aud.ActivityID, after, limit)
	case AudienceSlotVolunteers:
		err = store.Select(ctx, tx, &users, `SELECT DISTINCT user_id FROM slot_claims
			WHERE slot_id = ? AND status <> 'CANCELLED' AND user_id > ? ORDER BY user_id LIMIT ?`, aud.SlotID, after, limit)
	case AudienceParticipants:
		args := append(participantsArgs(aud, sent), after, limit)
		err = store.Select(ctx, tx, &users, `SELECT DISTINCT p.user_id FROM participations p JOIN users u ON u.id = p.user_id
			WHERE `+participantsOf+` AND p.user_id > ? ORDER BY p.user_id LIMIT ?`, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("audience %s: %w", aud.Kind, err)
	}
	return users, nil
}

// audienceSize counts the recipients of aud, sent at sent.
func (s *Service) audienceSize(ctx context.Context, tx *sqlx.Tx, aud Audience, sent time.Time) (int, error) {
	var n int
	var err error
	switch aud.Kind {
	case AudienceTown:
		err = store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`)
	case AudienceFollowers:
		err = store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM follows WHERE kind = 'ORGANISATION' AND organisation_id = ?`, aud.OrganisationID)
	case AudienceActivityVolunteers:
		err = store.Get(ctx, tx, &n, `SELECT COUNT(DISTINCT c.user_id) FROM slot_claims c
			JOIN volunteer_slots vs ON vs.id = c.slot_id
			WHERE vs.activity_id = ? AND c.status <> 'CANCELLED'`, aud.ActivityID)
	case AudienceSlotVolunteers:
		err = store.Get(ctx, tx, &n, `SELECT COUNT(DISTINCT user_id) FROM slot_claims WHERE slot_id = ? AND status <> 'CANCELLED'`, aud.SlotID)
	case AudienceParticipants:
		err = store.Get(ctx, tx, &n, `SELECT COUNT(DISTINCT p.user_id) FROM participations p JOIN users u ON u.id = p.user_id
			WHERE `+participantsOf, participantsArgs(aud, sent)...)
	}
	if err != nil {
		return 0, fmt.Errorf("size of audience %s: %w", aud.Kind, err)
	}
	return n, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AnnouncementsByIDs returns the announcements among ids that c may see,
// in no particular order: those c sent, those of an organisation c
// organises, every one to the secretariat, and those c received (their
// deep link opens them).
func (s *Service) AnnouncementsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Announcement, error) {
	if len(ids) == 0 || !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+announcementColumns+` FROM announcements WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var all []Announcement
	if err := store.Select(ctx, s.db, &all, q, args...); err != nil {
		return nil, fmt.Errorf("announcements by ids: %w", err)
	}
	var others []int64
	for _, a := range all {
		if !(a.SenderID == c.UserID || c.Secretariat || (a.OrganisationID != nil && c.OrganiserOf(*a.OrganisationID))) {
			others = append(others, a.ID)
		}
	}
	received := map[int64]bool{}
	if len(others) > 0 {
		q, args, err := store.In(`SELECT DISTINCT announcement_id FROM notifications WHERE user_id = ? AND announcement_id IN (?)`, c.UserID, others)
		if err != nil {
			return nil, err
		}
		var got []int64
		if err := store.Select(ctx, s.db, &got, q, args...); err != nil {
			return nil, fmt.Errorf("announcements received: %w", err)
		}
		for _, id := range got {
			received[id] = true
		}
	}
	out := all[:0]
	for _, a := range all {
		if !slices.Contains(others, a.ID) || received[a.ID] {
			out = append(out, a)
		}
	}
	return out, nil
}
