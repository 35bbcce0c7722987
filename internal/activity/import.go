package activity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
)

// Imported is an activity as an outside calendar has it. The calendar
// import (internal/calimport) reads and judges the feed and calls the
// functions below inside its transaction; the activities, their themes
// and occurrences are written here only. The feed, not an organiser,
// decides what it holds, so Input is not validated as Create does; its
// Themes and Links are written when the activity is created, and later
// changes to the links go through link.Replace.
type Imported struct {
	Input
	SourceID  int64
	SourceUID string
	SourceURL string
	CreatedBy *int64
}

// ImportTx adds an imported activity inside tx, published at once: the
// sources are calendars the secretariat chose, chiefly the municipality's
// own. A one-off's occurrence is written here; a recurring activity is
// expanded by RefreshOccurrences after the import commits.
func (s *Service) ImportTx(ctx context.Context, tx *sqlx.Tx, in Imported, now time.Time) (int64, error) {
	var id int64
	err := store.Get(ctx, tx, &id, `INSERT INTO activities
		(organisation_id, place_id, title, description, search_title, search_text, starts_at, ends_at, recurrence, status,
		 created_by, created_at, updated_at, published_at, source_id, source_uid, source_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PUBLISHED', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.OrganisationID, in.PlaceID, in.Title, in.Description, store.SearchText(in.Title), SearchText(in.Title, in.Description),
		in.StartsAt, in.EndsAt, in.Recurrence, in.CreatedBy, now, now, now, in.SourceID, in.SourceUID, in.SourceURL)
	if err != nil {
		return 0, fmt.Errorf("insert imported activity %q: %w", in.SourceUID, err)
	}
	links := make([]link.Link, 0, len(in.Links))
	for _, l := range in.Links {
		// A feed's link that is not a usable one is left out, as the
		// import does with any other part of an event it cannot read.
		if nl, err := link.Normalise(l.Kind, l.URL, l.Label); err == nil {
			links = append(links, nl)
		}
	}
	if err := s.writeDetails(ctx, tx, id, in.Input, links); err != nil {
		return 0, fmt.Errorf("imported activity %q: %w", in.SourceUID, err)
	}
	if err := importedOccurrence(ctx, tx, id, in); err != nil {
		return 0, err
	}
	if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
		return 0, err
	}
	return id, nil
}

// UpdateImportTx brings imported activity id in line with its calendar
// inside tx, publishing it again if it had been cancelled. A calendar that
// moves its event moves the volunteer slots with it, as an organiser's
// move does; it returns the move hook's events (the volunteers told), to
// record in tx.
func (s *Service) UpdateImportTx(ctx context.Context, tx *sqlx.Tx, id int64, in Imported, now time.Time) ([]event.Event, error) {
	// A calendar that moves its event has rescheduled it, as an
	// organiser who moves one has.
	old, err := activityByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	_, err = store.Exec(ctx, tx, `UPDATE activities SET place_id = ?, title = ?, description = ?, search_title = ?, search_text = ?,
		starts_at = ?, ends_at = ?, recurrence = ?, rescheduled_from = ?, status = 'PUBLISHED', cancelled_at = NULL,
		published_at = COALESCE(published_at, ?), updated_at = ? WHERE id = ?`,
		in.PlaceID, in.Title, in.Description, store.SearchText(in.Title), SearchText(in.Title, in.Description), in.StartsAt, in.EndsAt, in.Recurrence,
		rescheduledFrom(old, in.StartsAt), now, now, id)
	if err != nil {
		return nil, fmt.Errorf("update imported activity %d: %w", id, err)
	}
	if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
		return nil, err
	}
	if err := importedOccurrence(ctx, tx, id, in); err != nil {
		return nil, err
	}
	if offset := in.StartsAt.Sub(old.StartsAt); offset != 0 && s.onMove != nil {
		return s.onMove(ctx, tx, id, offset, now)
	}
	return nil, nil
}

// importedOccurrence rewrites a one-off's single occurrence, past or not:
// a calendar's history is kept as the calendar has it.
func importedOccurrence(ctx context.Context, tx *sqlx.Tx, id int64, in Imported) error {
	if in.Recurrence != nil {
		return nil
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM occurrences WHERE activity_id = ?`, id); err != nil {
		return fmt.Errorf("clear occurrences of %d: %w", id, err)
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, id, in.StartsAt, in.EndsAt)
	if err != nil {
		return fmt.Errorf("insert occurrence of %d: %w", id, err)
	}
	return nil
}

// CancelTx calls activity id off inside tx, with what hangs on it (the
// cancel hook: volunteer claims), and returns the events to record in tx
// and publish once it commits: the hook's and, last, ActivityCancelled,
// which names the volunteers whose claims were released. actorID is who
// cancels (zero for an import). It reports false, and does nothing, when
// the activity was cancelled already.
func (s *Service) CancelTx(ctx context.Context, tx *sqlx.Tx, id, actorID int64, now time.Time) (bool, []event.Event, error) {
	var org int64
	err := store.Get(ctx, tx, &org, `UPDATE activities SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?
		WHERE id = ? AND status <> 'CANCELLED' RETURNING organisation_id`, now, now, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("cancel activity %d: %w", id, err)
	}
	if err := changelog.Record(ctx, tx, now, changelog.Activity, id); err != nil {
		return false, nil, err
	}
	e := event.Event{Kind: event.ActivityCancelled, ActivityID: id, OrganisationID: org, ActorID: actorID}
	var evs []event.Event
	for _, hook := range []CancelHook{s.onCancel, s.onCancelGuests} {
		if hook == nil {
			continue
		}
		more, err := hook(ctx, tx, id, now)
		if err != nil {
			return false, nil, err
		}
		evs = append(evs, more...)
	}
	e.UserIDs = releasedPeople(evs)
	return true, append(evs, e), nil
}

// releasedPeople are the people whose claims and guest sign-ups the
// events cancelled: once those are gone the database no longer links
// them to the activity, so the cancellation carries them.
func releasedPeople(evs []event.Event) []int64 {
	var ids []int64
	for _, e := range evs {
		if (e.Kind == event.ClaimCancelled || e.Kind == event.ParticipationChanged) && e.UserID != 0 {
			ids = append(ids, e.UserID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// SearchText is the search_text of an activity: what a search in the
// activity list matches.
func SearchText(title, description string) string {
	return store.SearchText(title, description)
}

// RefreshSearch folds the search text of activities written before
// migration 00015 (those whose search_title is NULL) and reports how many
// it folded. The server runs it at start; it does nothing once every row
// is folded.
func RefreshSearch(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	for {
		var rows []struct {
			ID          int64  `db:"id"`
			Title       string `db:"title"`
			Description string `db:"description"`
		}
		err := store.Select(ctx, db, &rows, `SELECT id, title, description FROM activities WHERE search_title IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return n, fmt.Errorf("activities to fold: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if _, err := store.Exec(ctx, tx, `UPDATE activities SET search_title = ?, search_text = ? WHERE id = ?`,
					store.SearchText(r.Title), SearchText(r.Title, r.Description), r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("fold search text of activities: %w", err)
		}
		n += len(rows)
	}
}
