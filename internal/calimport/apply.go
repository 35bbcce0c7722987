package calimport

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/store"
)

// applied is what to do once the import has committed.
type applied struct {
	events []event.Event
	// refresh is set when a recurring activity was created or changed and
	// its occurrences must be expanded.
	refresh bool
}

// imported is an activity as a previous import left it.
type imported struct {
	ID          int64           `db:"id"`
	UID         string          `db:"source_uid"`
	PlaceID     *int64          `db:"place_id"`
	Title       string          `db:"title"`
	Description string          `db:"description"`
	StartsAt    time.Time       `db:"starts_at"`
	EndsAt      time.Time       `db:"ends_at"`
	Recurrence  *string         `db:"recurrence"`
	Status      activity.Status `db:"status"`
	links       []string
}

// apply brings the source's activities in line with the feed, inside tx.
func (s *Service) apply(ctx context.Context, tx *sqlx.Tx, src Source, f feed, now time.Time) (Result, applied, error) {
	var res Result
	var out applied
	var olds []imported
	err := store.Select(ctx, tx, &olds, `SELECT id, source_uid, place_id, title, description, starts_at, ends_at,
		recurrence, status FROM activities WHERE source_id = ?`, src.ID)
	if err != nil {
		return res, out, fmt.Errorf("imported activities of source %d: %w", src.ID, err)
	}
	var links []struct {
		ActivityID int64  `db:"activity_id"`
		URL        string `db:"url"`
	}
	err = store.Select(ctx, tx, &links, `SELECT l.activity_id, l.url FROM channel_links l
		JOIN activities a ON a.id = l.activity_id WHERE a.source_id = ? ORDER BY l.position, l.id`, src.ID)
	if err != nil {
		return res, out, fmt.Errorf("links of imported activities: %w", err)
	}
	byUID := make(map[string]*imported, len(olds))
	byID := make(map[int64]*imported, len(olds))
	for i := range olds {
		byUID[olds[i].UID] = &olds[i]
		byID[olds[i].ID] = &olds[i]
	}
	for _, l := range links {
		byID[l.ActivityID].links = append(byID[l.ActivityID].links, l.URL)
	}

	present := map[string]bool{}
	for _, it := range f.Items {
		present[it.UID] = true
		old := byUID[it.UID]
		if it.Cancelled {
			if old != nil && old.Status != activity.Cancelled {
				if err := s.cancel(ctx, tx, src, old.ID, now, &out); err != nil {
					return res, out, err
				}
				res.Cancelled++
			} else {
				res.Unchanged++
			}
			continue
		}
		w := s.want(src, it)
		if old == nil {
			if err := s.create(ctx, tx, src, w, now, &out); err != nil {
				return res, out, err
			}
			res.Created++
			continue
		}
		changed := !same(*old, w)
		restored := old.Status == activity.Cancelled
		if changed || restored {
			if err := s.update(ctx, tx, src, old.ID, w, now, restored, &out); err != nil {
				return res, out, err
			}
		}
		if !equalStrings(old.links, w.links()) {
			if err := link.Replace(ctx, tx, link.Link{ActivityID: &old.ID}, w.linkList()); err != nil {
				return res, out, err
			}
			changed = true
		}
		switch {
		case restored:
			res.Restored++
		case changed:
			res.Updated++
		default:
			res.Unchanged++
		}
	}
	res.Skipped = len(f.Skipped)

	// What left the feed is called off, unless it is over: feeds commonly
	// drop past events, and history should stay as it was.
	for _, old := range olds {
		if present[old.UID] || f.Skipped[old.UID] || old.Status == activity.Cancelled || !upcoming(old, now) {
			continue
		}
		if err := s.cancel(ctx, tx, src, old.ID, now, &out); err != nil {
			return res, out, err
		}
		res.Cancelled++
	}
	return res, out, nil
}

// wanted is an activity as the feed wants it.
type wanted struct {
	item
	PlaceID *int64
	link    *link.Link
}

func (s *Service) want(src Source, it item) wanted {
	w := wanted{item: it, PlaceID: src.PlaceID}
	if src.PlaceID == nil && it.Location != "" {
		// Without a place of our own the event's location is all people
		// have to find it.
		loc := i18n.Text(i18n.Default, "calimport.location", map[string]any{"Location": it.Location})
		if w.Description == "" {
			w.Description = loc
		} else {
			w.Description += "\n\n" + loc
		}
		w.Description = clip(w.Description, maxDescription)
	}
	if it.URL != "" {
		if l, err := link.Normalise(link.Web, it.URL, ""); err == nil {
			w.link = &l
		}
	}
	return w
}

func (w wanted) links() []string {
	if w.link == nil {
		return nil
	}
	return []string{w.link.URL}
}

func (w wanted) linkList() []link.Link {
	if w.link == nil {
		return nil
	}
	return []link.Link{*w.link}
}

func same(old imported, w wanted) bool {
	return old.Title == w.Title && old.Description == w.Description &&
		old.StartsAt.Equal(w.StartsAt) && old.EndsAt.Equal(w.EndsAt) &&
		equalPtr(old.Recurrence, w.Recurrence) && equalPtr(old.PlaceID, w.PlaceID)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// upcoming reports whether an activity still has an occurrence to come.
func upcoming(a imported, now time.Time) bool {
	if a.Recurrence == nil {
		return a.EndsAt.After(now)
	}
	occ, err := activity.Expand(activity.Activity{StartsAt: a.StartsAt, EndsAt: a.EndsAt, Recurrence: a.Recurrence}, now.Add(activity.Horizon))
	if err != nil || len(occ) == 0 {
		return a.EndsAt.After(now)
	}
	return occ[len(occ)-1].EndsAt.After(now)
}

func searchText(w wanted) string {
	return strings.ToLower(w.Title + " " + w.Description)
}

func (s *Service) create(ctx context.Context, tx *sqlx.Tx, src Source, w wanted, now time.Time, out *applied) error {
	var id int64
	// Imported events are published at once: the sources are calendars the
	// secretariat chose, chiefly the municipality's own.
	err := store.Get(ctx, tx, &id, `INSERT INTO activities
		(organisation_id, place_id, title, description, search_text, starts_at, ends_at, recurrence, status,
		 created_by, created_at, updated_at, published_at, source_id, source_uid, source_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PUBLISHED', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		src.OrganisationID, w.PlaceID, w.Title, w.Description, searchText(w), w.StartsAt, w.EndsAt, w.Recurrence,
		src.CreatedBy, now, now, now, src.ID, w.UID, src.URL)
	if err != nil {
		return fmt.Errorf("insert imported activity %q: %w", w.UID, err)
	}
	for _, t := range src.Themes {
		if _, err := store.Exec(ctx, tx, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, ?)`, id, t); err != nil {
			return fmt.Errorf("insert theme of imported activity: %w", err)
		}
	}
	if err := link.Replace(ctx, tx, link.Link{ActivityID: &id}, w.linkList()); err != nil {
		return err
	}
	if err := s.occurrences(ctx, tx, id, w, out); err != nil {
		return err
	}
	// Only what is still to come is news for followers.
	if w.Recurrence != nil || w.EndsAt.After(now) {
		out.events = append(out.events, event.Event{Kind: event.ActivityPublished, ActivityID: id, OrganisationID: src.OrganisationID})
	}
	return nil
}

func (s *Service) update(ctx context.Context, tx *sqlx.Tx, src Source, id int64, w wanted, now time.Time, restore bool, out *applied) error {
	_, err := store.Exec(ctx, tx, `UPDATE activities SET place_id = ?, title = ?, description = ?, search_text = ?,
		starts_at = ?, ends_at = ?, recurrence = ?, status = 'PUBLISHED', cancelled_at = NULL,
		published_at = COALESCE(published_at, ?), updated_at = ? WHERE id = ?`,
		w.PlaceID, w.Title, w.Description, searchText(w), w.StartsAt, w.EndsAt, w.Recurrence, now, now, id)
	if err != nil {
		return fmt.Errorf("update imported activity %d: %w", id, err)
	}
	if err := s.occurrences(ctx, tx, id, w, out); err != nil {
		return err
	}
	kind := event.ActivityChanged
	if restore {
		kind = event.ActivityPublished
	}
	out.events = append(out.events, event.Event{Kind: kind, ActivityID: id, OrganisationID: src.OrganisationID})
	return nil
}

// occurrences rewrites a one-off's single occurrence in the transaction;
// a recurring activity is expanded by the activity package after commit.
func (s *Service) occurrences(ctx context.Context, tx *sqlx.Tx, id int64, w wanted, out *applied) error {
	if w.Recurrence != nil {
		out.refresh = true
		return nil
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM occurrences WHERE activity_id = ?`, id); err != nil {
		return fmt.Errorf("clear occurrences of %d: %w", id, err)
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, id, w.StartsAt, w.EndsAt)
	if err != nil {
		return fmt.Errorf("insert occurrence of %d: %w", id, err)
	}
	return nil
}

// cancel calls off an imported activity the feed no longer holds or marks
// cancelled, with what hangs on it (volunteer claims).
func (s *Service) cancel(ctx context.Context, tx *sqlx.Tx, src Source, id int64, now time.Time, out *applied) error {
	n, err := store.Exec(ctx, tx, `UPDATE activities SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?
		WHERE id = ? AND status <> 'CANCELLED'`, now, now, id)
	if err != nil {
		return fmt.Errorf("cancel imported activity %d: %w", id, err)
	}
	if n == 0 {
		return nil
	}
	if s.onCancel != nil {
		evs, err := s.onCancel(ctx, tx, id, now)
		if err != nil {
			return err
		}
		out.events = append(out.events, evs...)
	}
	out.events = append(out.events, event.Event{Kind: event.ActivityCancelled, ActivityID: id, OrganisationID: src.OrganisationID})
	return nil
}
