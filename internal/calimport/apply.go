package calimport

import (
	"context"
	"fmt"
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
	activity.Activity
	UID   string `db:"source_uid"`
	links []string
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
	// Who must hear of the changes is told through the outbox, in tx.
	if err := s.bus.Record(ctx, tx, out.events...); err != nil {
		return res, out, err
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
	occ, err := activity.Expand(a.Activity, now.Add(activity.Horizon))
	if err != nil || len(occ) == 0 {
		return a.EndsAt.After(now)
	}
	return occ[len(occ)-1].EndsAt.After(now)
}

// imported is w as the activity package writes it.
func (w wanted) imported(src Source) activity.Imported {
	in := activity.Input{OrganisationID: src.OrganisationID, PlaceID: w.PlaceID, Title: w.Title, Description: w.Description,
		StartsAt: w.StartsAt, EndsAt: w.EndsAt, Recurrence: w.Recurrence, Themes: src.Themes}
	if w.link != nil {
		in.Links = []activity.LinkInput{{Kind: w.link.Kind, URL: w.link.URL, Label: w.link.Label}}
	}
	return activity.Imported{Input: in, SourceID: src.ID, SourceUID: w.UID, SourceURL: src.URL, CreatedBy: src.CreatedBy}
}

func (s *Service) create(ctx context.Context, tx *sqlx.Tx, src Source, w wanted, now time.Time, out *applied) error {
	id, err := s.activities.ImportTx(ctx, tx, w.imported(src), now)
	if err != nil {
		return err
	}
	out.refresh = out.refresh || w.Recurrence != nil
	// Only what is still to come is news for followers.
	if w.Recurrence != nil || w.EndsAt.After(now) {
		out.events = append(out.events, event.Event{Kind: event.ActivityPublished, ActivityID: id, OrganisationID: src.OrganisationID})
	}
	return nil
}

func (s *Service) update(ctx context.Context, tx *sqlx.Tx, src Source, id int64, w wanted, now time.Time, restore bool, out *applied) error {
	moved, err := s.activities.UpdateImportTx(ctx, tx, id, w.imported(src), now)
	if err != nil {
		return err
	}
	out.events = append(out.events, moved...)
	out.refresh = out.refresh || w.Recurrence != nil
	kind := event.ActivityChanged
	if restore {
		kind = event.ActivityPublished
	}
	out.events = append(out.events, event.Event{Kind: kind, ActivityID: id, OrganisationID: src.OrganisationID})
	return nil
}

// cancel calls off an imported activity the feed no longer holds or marks
// cancelled, with what hangs on it (volunteer claims).
func (s *Service) cancel(ctx context.Context, tx *sqlx.Tx, src Source, id int64, now time.Time, out *applied) error {
	cancelled, evs, err := s.activities.CancelTx(ctx, tx, id, 0, now)
	if err != nil || !cancelled {
		return err
	}
	out.events = append(out.events, evs...)
	return nil
}
