package participation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Participation is private: its person, the activity's organisers and
// the secretariat see it; everyone else sees counts (Headcounts).

// where reads the participations matching cond (on participations p)
// that c may see.
func (s *Service) where(ctx context.Context, c user.Caller, cond string, args ...any) ([]Participation, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+columns+`, a.status AS activity_status, a.organisation_id AS activity_organisation_id
		FROM participations p JOIN activities a ON a.id = p.activity_id
		WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Participation
		ActivityStatus         activity.Status `db:"activity_status"`
		ActivityOrganisationID int64           `db:"activity_organisation_id"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, err
	}
	out := make([]Participation, 0, len(rows))
	for _, r := range rows {
		if r.visibleTo(c, r.ActivityOrganisationID) && activity.Visible(c, r.ActivityStatus, r.ActivityOrganisationID) {
			out = append(out, r.Participation)
		}
	}
	return out, nil
}

// ByIDs returns the participations among ids that c may see.
func (s *Service) ByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Participation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ps, err := s.where(ctx, c, `p.id IN (?)`, ids)
	if err != nil {
		return nil, fmt.Errorf("participations by ids: %w", err)
	}
	return ps, nil
}

// Mine lists the caller's live participations (GOING, WAITLISTED,
// INTERESTED): upcoming ones (the occurrence has not started) earliest
// first, or past ones latest first.
func (s *Service) Mine(ctx context.Context, c user.Caller, upcoming bool, limit int) ([]Participation, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	cond := `p.user_id = ? AND p.status <> 'CANCELLED' AND p.occurrence_starts_at > ? ORDER BY p.occurrence_starts_at, p.id LIMIT ?`
	if !upcoming {
		cond = `p.user_id = ? AND p.status <> 'CANCELLED' AND p.occurrence_starts_at <= ? ORDER BY p.occurrence_starts_at DESC, p.id DESC LIMIT ?`
	}
	ps, err := s.where(ctx, c, cond, c.UserID, s.clock(), limit)
	if err != nil {
		return nil, fmt.Errorf("participations of user %d: %w", c.UserID, err)
	}
	return ps, nil
}

// MineAt returns the caller's live participation in each of occs that has
// one.
func (s *Service) MineAt(ctx context.Context, c user.Caller, occs []Occurrence) (map[Occurrence]Participation, error) {
	out := map[Occurrence]Participation{}
	if len(occs) == 0 || !c.SignedIn() {
		return out, nil
	}
	ids, starts := split(occs)
	ps, err := s.where(ctx, c, `p.user_id = ? AND p.status <> 'CANCELLED' AND p.activity_id IN (?) AND p.occurrence_starts_at IN (?)`,
		c.UserID, ids, starts)
	if err != nil {
		return nil, fmt.Errorf("my participations: %w", err)
	}
	for _, p := range ps {
		out[Occurrence{ActivityID: p.ActivityID, StartsAt: p.OccurrenceStartsAt.UTC()}] = p
	}
	return out, nil
}

func split(occs []Occurrence) ([]int64, []time.Time) {
	ids := make([]int64, 0, len(occs))
	starts := make([]time.Time, 0, len(occs))
	for _, o := range occs {
		ids = append(ids, o.ActivityID)
		starts = append(starts, o.StartsAt.UTC())
	}
	return ids, starts
}

// Headcounts counts each of occs: people GOING and waiting (parties
// counted whole), INTERESTED, and the seats. Counts are public for
// activities the caller was given.
func (s *Service) Headcounts(ctx context.Context, occs []Occurrence) (map[Occurrence]Headcount, error) {
	out := make(map[Occurrence]Headcount, len(occs))
	if len(occs) == 0 {
		return out, nil
	}
	ids, starts := split(occs)
	q, args, err := store.In(`SELECT activity_id, occurrence_starts_at, status, COUNT(*) AS parties, SUM(party_size) AS people
		FROM participations WHERE activity_id IN (?) AND occurrence_starts_at IN (?) AND status <> 'CANCELLED'
		GROUP BY activity_id, occurrence_starts_at, status`, ids, starts)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"occurrence_starts_at"`
		Status     string     `db:"status"`
		Parties    int        `db:"parties"`
		People     int        `db:"people"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("headcounts: %w", err)
	}
	settings, err := s.SettingsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range occs {
		o.StartsAt = o.StartsAt.UTC()
		h := Headcount{Occurrence: o}
		if st := settings[o.ActivityID]; st.Limited() {
			h.Seats = st.Seats
		}
		out[o] = h
	}
	for _, r := range rows {
		o := Occurrence{ActivityID: r.ActivityID, StartsAt: r.StartsAt.Time}
		h, ok := out[o]
		if !ok {
			continue // the cross product of the two lists asked for more
		}
		switch r.Status {
		case Going:
			h.Going, h.GoingParties = r.People, r.Parties
		case Waitlisted:
			h.Waitlisted, h.WaitlistedParties = r.People, r.Parties
		case Interested:
			h.Interested = r.People
		}
		out[o] = h
	}
	return out, nil
}

// UpcomingHeadcounts counts the first limit occurrences of the activity
// that have not ended, earliest first (see Headcounts).
func (s *Service) UpcomingHeadcounts(ctx context.Context, activityID int64, limit int) ([]Headcount, error) {
	var starts []store.Time
	err := store.Select(ctx, s.db, &starts, `SELECT starts_at FROM occurrences WHERE activity_id = ? AND ends_at > ?
		ORDER BY starts_at LIMIT ?`, activityID, s.clock(), limit)
	if err != nil {
		return nil, fmt.Errorf("upcoming occurrences of activity %d: %w", activityID, err)
	}
	occs := make([]Occurrence, len(starts))
	for i, t := range starts {
		occs[i] = Occurrence{ActivityID: activityID, StartsAt: t.Time.UTC()}
	}
	hs, err := s.Headcounts(ctx, occs)
	if err != nil {
		return nil, err
	}
	out := make([]Headcount, len(occs))
	for i, o := range occs {
		out[i] = hs[o]
	}
	return out, nil
}

// Attendees lists who signed up for each of occs whose list c may see
// (organisers of the activity and the secretariat): GOING in sign-up
// order, then the waitlist in queue order, then INTERESTED. The others
// are absent from the map (a restricted field: null).
func (s *Service) Attendees(ctx context.Context, c user.Caller, occs []Occurrence) (map[Occurrence][]Participation, error) {
	out := map[Occurrence][]Participation{}
	if len(occs) == 0 || !c.SignedIn() || (!c.Secretariat && len(c.Organises) == 0) {
		return out, nil
	}
	ids, _ := split(occs)
	q, args, err := store.In(`SELECT id, organisation_id FROM activities WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var acts []struct {
		ID             int64 `db:"id"`
		OrganisationID int64 `db:"organisation_id"`
	}
	if err := store.Select(ctx, s.db, &acts, q, args...); err != nil {
		return nil, fmt.Errorf("organisations of activities: %w", err)
	}
	mine := map[int64]bool{}
	for _, a := range acts {
		if c.OrganiserOf(a.OrganisationID) {
			mine[a.ID] = true
		}
	}
	var want []Occurrence
	for _, o := range occs {
		o.StartsAt = o.StartsAt.UTC()
		if mine[o.ActivityID] {
			out[o] = []Participation{}
			want = append(want, o)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	ids, starts := split(want)
	ps, err := s.where(ctx, c, `p.activity_id IN (?) AND p.occurrence_starts_at IN (?) AND p.status <> 'CANCELLED'
		ORDER BY p.activity_id, p.occurrence_starts_at,
		CASE p.status WHEN 'GOING' THEN 0 WHEN 'WAITLISTED' THEN 1 ELSE 2 END, p.id`, ids, starts)
	if err != nil {
		return nil, fmt.Errorf("attendees: %w", err)
	}
	for _, p := range ps {
		o := Occurrence{ActivityID: p.ActivityID, StartsAt: p.OccurrenceStartsAt.UTC()}
		if l, ok := out[o]; ok {
			out[o] = append(l, p)
		}
	}
	return out, nil
}

// MarkAttendance records whether a GOING party came. Organisers of the
// activity and the secretariat may, once the occurrence has started.
func (s *Service) MarkAttendance(ctx context.Context, caller user.Caller, id int64, attendance string) (Participation, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return Participation{}, err
	}
	if attendance != Attended && attendance != NoShow {
		return Participation{}, apperr.New(apperr.CodeInvalid, "attendance")
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
	if err := caller.RequireOrganiserOf(a.OrganisationID); err != nil {
		return Participation{}, err
	}
	now := s.clock()
	if now.Before(p.OccurrenceStartsAt) {
		return Participation{}, apperr.New(CodeOccurrenceNotStarted, "participationId")
	}
	if p.Status != Going {
		return Participation{}, apperr.New(CodeNotGoing, "participationId")
	}
	_, err = store.Exec(ctx, s.db, `UPDATE participations SET attendance = ?, updated_at = ? WHERE id = ? AND status = 'GOING'`,
		attendance, now, id)
	if err != nil {
		return Participation{}, fmt.Errorf("mark attendance of participation %d: %w", id, err)
	}
	s.publish(ctx, []event.Event{{Kind: event.ParticipationChanged, ActivityID: a.ID, OrganisationID: a.OrganisationID, UserID: p.UserID,
		StartsAt: p.OccurrenceStartsAt.UTC()}})
	return byID(ctx, s.db, id)
}

// ForgetPersonTx removes, inside the transaction that deletes their
// account, everything about a person's participations: unlike a shift's
// hours, having come as a guest is kept for no one. Seats they held on
// upcoming occurrences go to the waitlists.
func (s *Service) ForgetPersonTx(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error {
	now = now.UTC()
	var held []struct {
		ActivityID int64      `db:"activity_id"`
		StartsAt   store.Time `db:"occurrence_starts_at"`
	}
	err := store.Select(ctx, tx, &held, `SELECT DISTINCT activity_id, occurrence_starts_at FROM participations
		WHERE user_id = ? AND status = 'GOING' AND occurrence_starts_at > ? ORDER BY activity_id`, userID, now)
	if err != nil {
		return fmt.Errorf("seats of user %d: %w", userID, err)
	}
	for _, h := range held {
		if _, err := s.lockActivity(ctx, tx, h.ActivityID, now); err != nil {
			return err
		}
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM participations WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete participations of %d: %w", userID, err)
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM participation_keys WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete participation keys of %d: %w", userID, err)
	}
	for _, h := range held {
		var a activityInfo
		err := store.Get(ctx, tx, &a, `SELECT id, title, organisation_id, status FROM activities WHERE id = ?`, h.ActivityID)
		if err != nil {
			return fmt.Errorf("activity %d: %w", h.ActivityID, err)
		}
		st, err := settingsOf(ctx, tx, h.ActivityID)
		if err != nil {
			return err
		}
		if err := s.promote(ctx, tx, a, st, Occurrence{ActivityID: h.ActivityID, StartsAt: h.StartsAt.Time}, userID, now); err != nil {
			return err
		}
	}
	return nil
}
