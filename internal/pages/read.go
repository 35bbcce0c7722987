package pages

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/volunteer"
	"github.com/ishoj/voresishoj/internal/weblink"
)

const (
	// shownOccurrences is how many dates an activity page lists.
	shownOccurrences = 6
	// listLength is how many items a list page or section shows; the
	// app has the rest.
	listLength   = 30
	frontLength  = 6
	descriptionN = 200
)

// The parts of pages.

type named struct{ Name, URL, Address string }

type activityItem struct {
	Title, URL, Place string
	StartsAt, EndsAt  time.Time
	Cancelled         bool
}

type dateItem struct {
	StartsAt, EndsAt time.Time
	MovedFrom        *time.Time
}

type storyItem struct {
	Title, URL, Summary string
	Published           time.Time
	Image               *image
}

type slotItem struct {
	Title, Description, Anchor string
	OpenInApp                  template.URL
	StartsAt, EndsAt           time.Time
	SpotsLeft                  int
}

type activityBody struct {
	Title        string
	Cancelled    bool
	Rescheduled  bool
	Description  []string
	Organisation *named
	Place        *named
	Occurrences  []activity.Occurrence
	// Dates are the Occurrences as shown, with the start each had
	// before the activity was moved.
	Dates   []dateItem
	Slots   []slotItem
	Cards   []card
	Stories []storyItem
}

type storyBody struct {
	Title, Author string
	Published     time.Time
	Paragraphs    []string
	Photos        []image
	Organisation  *named
	Activity      *activityItem
	Cards         []card
}

// deepLink is the app's own link to an object: the scheme the app
// registers, with the object's global id, as the push deep links.
func deepLink(kind string, typ string, id int64) template.URL {
	// The scheme is ours and the id is base64url, so the link is safe to
	// put in an href as it is (html/template would blank an unknown scheme).
	return template.URL("voresishoj://" + kind + "/" + gid.Encode(typ, id))
}

func (s *Service) activityPage(r *http.Request, l *lang) (*page, error) {
	id, err := idOf(r, "Activity", weblink.Activities)
	if err != nil {
		return nil, err
	}
	a, err := s.d.Activities.Activity(ctx(r), anonymous, id)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	occ, err := s.d.Activities.Occurrences(ctx(r), []int64{id}, now, nil, shownOccurrences)
	if err != nil {
		return nil, err
	}
	b := &activityBody{Title: a.Title, Cancelled: a.Status == activity.Cancelled,
		Description: paragraphs(a.Description), Occurrences: occ[id]}
	if b.Cancelled {
		// A cancelled activity takes place on none of its dates.
		b.Occurrences = nil
	}
	b.Rescheduled = a.Rescheduled() && !b.Cancelled
	for _, o := range b.Occurrences {
		d := dateItem{StartsAt: o.StartsAt, EndsAt: o.EndsAt}
		if prev, ok := a.PreviousStart(o); ok && b.Rescheduled {
			d.MovedFrom = &prev
		}
		b.Dates = append(b.Dates, d)
	}
	org, err := s.organisation(r, a.OrganisationID)
	if err != nil {
		return nil, err
	}
	b.Organisation = &named{Name: org.Name, URL: s.links.Organisation(org.ID)}
	var pl *place.Place
	if a.PlaceID != nil {
		p, err := s.d.Places.Place(ctx(r), anonymous, *a.PlaceID)
		if err != nil && !store.IsNotFound(err) {
			return nil, err
		}
		if err == nil {
			pl = &p
			b.Place = &named{Name: p.Name, URL: s.links.Place(p.ID), Address: p.Address}
		}
	}
	if !b.Cancelled {
		slots, err := s.d.Volunteer.SlotsByActivityIDs(ctx(r), anonymous, []int64{id})
		if err != nil {
			return nil, err
		}
		for _, sl := range slots {
			if !openSlot(sl, now) {
				continue
			}
			b.Slots = append(b.Slots, slotItem{Title: sl.Title, Description: sl.Description,
				Anchor: "slot-" + gid.Encode("VolunteerSlot", sl.ID), OpenInApp: deepLink("slot", "VolunteerSlot", sl.ID),
				StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, SpotsLeft: sl.SpotsLeft()})
		}
	}
	links, err := s.d.Links.ByActivityIDs(ctx(r), []int64{id})
	if err != nil {
		return nil, err
	}
	b.Cards = s.cards(r, l, links)
	stories, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{ActivityID: &id}, nil, frontLength)
	if err != nil {
		return nil, err
	}
	if b.Stories, err = s.storyItems(r, stories); err != nil {
		return nil, err
	}

	p := &page{Kind: "activity", Title: a.Title, Canonical: s.links.Activity(id), Body: b,
		OpenInApp: deepLink("activity", "Activity", id)}
	p.Description = summary(a.Description, descriptionN)
	if p.Description == "" {
		// A preview without a description says when and where instead.
		var parts []string
		if len(b.Dates) > 0 {
			parts = append(parts, l.When(b.Dates[0].StartsAt, b.Dates[0].EndsAt))
		}
		if b.Place != nil {
			parts = append(parts, b.Place.Name)
		}
		if b.Place == nil || b.Place.Name != org.Name {
			parts = append(parts, org.Name)
		}
		p.Description = strings.Join(parts, " · ")
	}
	if b.Cancelled {
		p.Title = l.T("pages.activity.cancelled") + ": " + a.Title
	}
	// A story photo from the activity stands in for its cover image.
	for _, st := range b.Stories {
		if st.Image != nil {
			p.Image = st.Image
			break
		}
	}
	p.JSONLD, err = eventJSONLD(s, a, b, org, pl, p.Image)
	if err != nil {
		return nil, err
	}
	// Open slots and the dates change without the activity changing, so
	// the page has no Last-Modified, only its ETag.
	return p, nil
}

// openSlot reports whether a visitor could still sign up for sl.
func openSlot(sl volunteer.Slot, now time.Time) bool {
	if !sl.StartsAt.After(now) || sl.SpotsLeft() == 0 {
		return false
	}
	return sl.SignupClosesAt == nil || sl.SignupClosesAt.After(now)
}

func (s *Service) organisation(r *http.Request, id int64) (organisation.Organisation, error) {
	return s.d.Organisations.Organisation(ctx(r), anonymous, id)
}

func (s *Service) storyPage(r *http.Request, l *lang) (*page, error) {
	id, err := idOf(r, "Story", weblink.Stories)
	if err != nil {
		return nil, err
	}
	st, err := s.d.Stories.Story(ctx(r), anonymous, id)
	if store.IsNotFound(err) {
		gone, gerr := s.d.Stories.WasPublished(ctx(r), id)
		if gerr != nil {
			return nil, gerr
		}
		if gone {
			return nil, fmt.Errorf("story %d: %w", id, errGone)
		}
	}
	if err != nil {
		return nil, err
	}
	b := &storyBody{Title: st.Title, Author: authorName(l, st.AuthorName), Paragraphs: paragraphs(st.Body)}
	if st.PublishedAt != nil {
		b.Published = *st.PublishedAt
	}
	photos, err := s.d.Stories.Photos(ctx(r), anonymous, []int64{id})
	if err != nil {
		return nil, err
	}
	for _, ph := range photos[id] {
		b.Photos = append(b.Photos, s.photoImage(l, st.Title, ph))
	}
	lastModified := st.UpdatedAt
	var org *organisation.Organisation
	if st.OrganisationID != nil {
		o, err := s.organisation(r, *st.OrganisationID)
		if err != nil {
			return nil, err
		}
		org = &o
		b.Organisation = &named{Name: o.Name, URL: s.links.Organisation(o.ID)}
		lastModified = latest(lastModified, o.UpdatedAt)
	}
	if st.ActivityID != nil {
		a, err := s.d.Activities.Activity(ctx(r), anonymous, *st.ActivityID)
		if err != nil && !store.IsNotFound(err) {
			return nil, err
		}
		if err == nil {
			b.Activity = &activityItem{Title: a.Title, URL: s.links.Activity(a.ID)}
			lastModified = latest(lastModified, a.UpdatedAt)
		}
	}
	links, err := s.d.Links.ByStoryIDs(ctx(r), []int64{id})
	if err != nil {
		return nil, err
	}
	b.Cards = s.cards(r, l, links)

	p := &page{Kind: "story", Title: st.Title, Canonical: s.links.Story(id), Body: b, OGType: "article",
		Description: summary(st.Body, descriptionN), Published: b.Published, Modified: st.UpdatedAt,
		OpenInApp: deepLink("story", "Story", id)}
	if len(b.Photos) > 0 {
		p.Image = &b.Photos[0]
	}
	p.JSONLD, err = articleJSONLD(s, st, b, org, p)
	if err != nil {
		return nil, err
	}
	// Link cards may learn their titles later; they are not a change of
	// the story, so only the ETag sees them.
	p.LastModified = lastModified
	return p, nil
}

func authorName(l *lang, name string) string {
	if name == "" {
		return l.T("pages.story.anonymous")
	}
	return name
}

// photoImage is a story photo as the page shows it: the large rendition,
// with the alt text its author wrote, or one that says what it is.
func (s *Service) photoImage(l *lang, title string, ph story.Photo) image {
	alt := ph.AltText
	if alt == "" {
		alt = l.TP("pages.story.photo_alt", map[string]any{"Title": title})
	}
	return image{URL: s.links.URL("/media/" + ph.KeyLarge), Alt: alt, Width: ph.Width, Height: ph.Height}
}

// storyItems are stories for a list, with their first photos.
func (s *Service) storyItems(r *http.Request, sts []story.Story) ([]storyItem, error) {
	if len(sts) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(sts))
	for i, st := range sts {
		ids[i] = st.ID
	}
	photos, err := s.d.Stories.Photos(ctx(r), anonymous, ids)
	if err != nil {
		return nil, err
	}
	l := s.language(r)
	out := make([]storyItem, len(sts))
	for i, st := range sts {
		out[i] = storyItem{Title: st.Title, URL: s.links.Story(st.ID), Summary: summary(st.Body, 160)}
		if st.PublishedAt != nil {
			out[i].Published = *st.PublishedAt
		}
		if ps := photos[st.ID]; len(ps) > 0 {
			img := s.photoImage(l, st.Title, ps[0])
			// In a list the small rendition is enough.
			img.URL = s.links.URL("/media/" + ps[0].KeySmall)
			img.Width, img.Height = 0, 0
			out[i].Image = &img
		}
	}
	return out, nil
}

// activityItems are listed activities with their places' names.
func (s *Service) activityItems(r *http.Request, as []activity.Listed) ([]activityItem, error) {
	var placeIDs []int64
	for _, a := range as {
		if a.PlaceID != nil {
			placeIDs = append(placeIDs, *a.PlaceID)
		}
	}
	places, err := s.d.Places.ByIDs(ctx(r), anonymous, placeIDs)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, p := range places {
		names[p.ID] = p.Name
	}
	out := make([]activityItem, len(as))
	for i, a := range as {
		out[i] = activityItem{Title: a.Title, URL: s.links.Activity(a.ID), StartsAt: a.Occurrence.StartsAt,
			EndsAt: a.Occurrence.EndsAt, Cancelled: a.Status == activity.Cancelled}
		if a.PlaceID != nil {
			out[i].Place = names[*a.PlaceID]
		}
	}
	return out, nil
}

func (s *Service) upcoming(r *http.Request, f activity.Filter, n int) ([]activityItem, error) {
	f.From = s.opts.Now()
	as, err := s.d.Activities.List(ctx(r), anonymous, f, nil, n)
	if err != nil {
		return nil, err
	}
	return s.activityItems(r, as)
}

type organisationBody struct {
	Name, Kind  string
	Description []string
	Activities  []activityItem
	Stories     []storyItem
	Cards       []card
}

func (s *Service) organisationPage(r *http.Request, l *lang) (*page, error) {
	id, err := idOf(r, "Organisation", weblink.Organisations)
	if err != nil {
		return nil, err
	}
	o, err := s.organisation(r, id)
	if err != nil {
		return nil, err
	}
	b := &organisationBody{Name: o.Name, Kind: l.T("pages.org_kind." + string(o.Kind)), Description: paragraphs(o.Description)}
	if b.Activities, err = s.upcoming(r, activity.Filter{OrganisationID: &id}, listLength); err != nil {
		return nil, err
	}
	sts, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{OrganisationID: &id}, nil, frontLength)
	if err != nil {
		return nil, err
	}
	if b.Stories, err = s.storyItems(r, sts); err != nil {
		return nil, err
	}
	links, err := s.d.Links.ByOrganisationIDs(ctx(r), []int64{id})
	if err != nil {
		return nil, err
	}
	b.Cards = s.cards(r, l, links)
	p := &page{Kind: "organisation", Title: o.Name, Canonical: s.links.Organisation(id), Body: b,
		Description: summary(o.Description, descriptionN), OpenInApp: deepLink("organisation", "Organisation", id)}
	p.JSONLD, err = organisationJSONLD(s, o, links)
	return p, err
}

type placeBody struct {
	Name, Address, MapURL string
	Description           []string
	Activities            []activityItem
}

func (s *Service) placePage(r *http.Request, l *lang) (*page, error) {
	id, err := idOf(r, "Place", weblink.Places)
	if err != nil {
		return nil, err
	}
	pl, err := s.d.Places.Place(ctx(r), anonymous, id)
	if err != nil {
		return nil, err
	}
	b := &placeBody{Name: pl.Name, Address: pl.Address, Description: paragraphs(pl.Description)}
	if pl.Latitude != nil && pl.Longitude != nil {
		lat, lon := strconv.FormatFloat(*pl.Latitude, 'f', 5, 64), strconv.FormatFloat(*pl.Longitude, 'f', 5, 64)
		b.MapURL = "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=17/" + lat + "/" + lon
	}
	if b.Activities, err = s.upcoming(r, activity.Filter{PlaceID: &id}, listLength); err != nil {
		return nil, err
	}
	p := &page{Kind: "place", Title: pl.Name, Canonical: s.links.Place(id), Body: b,
		Description: summary(pl.Description+" "+pl.Address, descriptionN), OpenInApp: deepLink("place", "Place", id)}
	p.JSONLD, err = placeJSONLD(s, pl)
	return p, err
}

type callBody struct {
	Title        string
	Description  []string
	Deadline     time.Time
	Open         bool
	Organisation *named
	Stories      []storyItem
}

func (s *Service) callPage(r *http.Request, l *lang) (*page, error) {
	id, err := idOf(r, "Call", weblink.Calls)
	if err != nil {
		return nil, err
	}
	calls, err := s.d.Stories.CallsByIDs(ctx(r), anonymous, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("call %d: %w", id, store.ErrNotFound)
	}
	c := calls[0]
	b := &callBody{Title: c.Title, Description: paragraphs(c.Description), Deadline: c.Deadline, Open: c.Open(s.opts.Now())}
	if c.OrganisationID != nil {
		o, err := s.organisation(r, *c.OrganisationID)
		if err != nil {
			return nil, err
		}
		b.Organisation = &named{Name: o.Name, URL: s.links.Organisation(o.ID)}
	}
	sts, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{CallID: &id}, nil, listLength)
	if err != nil {
		return nil, err
	}
	if b.Stories, err = s.storyItems(r, sts); err != nil {
		return nil, err
	}
	return &page{Kind: "call", Title: c.Title, Canonical: s.links.Call(id), Body: b,
		Description: summary(c.Description, descriptionN), OpenInApp: deepLink("call", "Call", id)}, nil
}

type frontBody struct {
	Activities []activityItem
	Stories    []storyItem
	Calls      []callItem
}

type callItem struct {
	Title, URL string
	Deadline   time.Time
}

func (s *Service) frontPage(r *http.Request, l *lang) (*page, error) {
	b := &frontBody{}
	var err error
	if b.Activities, err = s.upcoming(r, activity.Filter{}, frontLength); err != nil {
		return nil, err
	}
	featured := true
	sts, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{Featured: &featured}, nil, frontLength)
	if err != nil {
		return nil, err
	}
	if len(sts) == 0 {
		if sts, err = s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{}, nil, frontLength); err != nil {
			return nil, err
		}
	}
	if b.Stories, err = s.storyItems(r, sts); err != nil {
		return nil, err
	}
	calls, err := s.d.Stories.Calls(ctx(r), anonymous, true)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		b.Calls = append(b.Calls, callItem{Title: c.Title, URL: s.links.Call(c.ID), Deadline: c.Deadline})
	}
	p := &page{Kind: "front", Title: l.T("pages.front.title"), Canonical: s.frontURL(), Body: b,
		Description: l.T("pages.front.intro")}
	for _, st := range b.Stories {
		if st.Image != nil {
			p.Image = st.Image
			break
		}
	}
	p.JSONLD, err = websiteJSONLD(s, l)
	return p, err
}

func (s *Service) activitiesPage(r *http.Request, l *lang) (*page, error) {
	items, err := s.upcoming(r, activity.Filter{}, listLength)
	if err != nil {
		return nil, err
	}
	return &page{Kind: "activities", Title: l.T("pages.activities.title"), Canonical: s.links.URL(weblink.Activities),
		Description: l.T("pages.front.intro"), Body: items}, nil
}

func (s *Service) storiesPage(r *http.Request, l *lang) (*page, error) {
	sts, err := s.d.Stories.ListPublished(ctx(r), anonymous, story.Filter{}, nil, listLength)
	if err != nil {
		return nil, err
	}
	items, err := s.storyItems(r, sts)
	if err != nil {
		return nil, err
	}
	return &page{Kind: "stories", Title: l.T("pages.stories.title"), Canonical: s.links.URL(weblink.Stories),
		Description: l.T("pages.stories.intro"), Body: items}, nil
}

func (s *Service) appPage(r *http.Request, l *lang) (*page, error) {
	return &page{Kind: "app", Title: l.T("pages.app.title"), Canonical: s.links.URL(weblink.App),
		Description: l.T("pages.app.pitch"), OpenInApp: template.URL("voresishoj://notifications")}, nil
}

// slotRedirect sends a slot's address to its activity's page, at the
// slot; a slot a visitor may not see is not found.
func (s *Service) slotRedirect(w http.ResponseWriter, r *http.Request) {
	s.serve(func(r *http.Request, l *lang) (*page, error) {
		id, err := idOf(r, "VolunteerSlot", weblink.Slots)
		if err != nil {
			return nil, err
		}
		sl, err := s.d.Volunteer.Slot(ctx(r), anonymous, id)
		if err != nil {
			return nil, err
		}
		to := s.links.Activity(sl.ActivityID)
		if q := r.URL.Query().Get("lang"); q != "" && supported(q) {
			to += "?lang=" + url.QueryEscape(q)
		}
		return nil, redirect{to: to + "#slot-" + gid.Encode("VolunteerSlot", id)}
	})(w, r)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
