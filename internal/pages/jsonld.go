package pages

import (
	"bytes"
	"encoding/json"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/tz"
)

// The schema.org structured data of the pages, as Google's event and
// article rich results read it: https://schema.org/Event and
// https://schema.org/Article. Times carry Ishøj's offset.

type ldThing = map[string]any

// jsonLD encodes v for a <script type="application/ld+json">. Go's JSON
// encoder escapes <, > and &, so the text cannot end the script element.
func jsonLD(v any) (template.JS, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return template.JS(bytes.TrimSpace(buf.Bytes())), nil
}

func ldTime(t time.Time) string { return t.In(tz.Copenhagen).Format(time.RFC3339) }

func (s *Service) publisher() ldThing {
	return ldThing{"@type": "Organization", "name": "Vores Ishøj", "url": s.frontURL()}
}

func ldOrganisation(s *Service, o organisation.Organisation) ldThing {
	return ldThing{"@type": "Organization", "name": o.Name, "url": s.links.Organisation(o.ID)}
}

// danishAddress reads "street, 2635 Ishøj", the form places are written
// in; an address in another form is the street, in Ishøj.
var danishAddress = regexp.MustCompile(`^(.*?),\s*(\d{4})\s+(\S.*)$`)

func ldAddress(address string) ldThing {
	a := ldThing{"@type": "PostalAddress", "addressLocality": "Ishøj", "addressCountry": "DK"}
	if m := danishAddress.FindStringSubmatch(strings.TrimSpace(address)); m != nil {
		a["streetAddress"], a["postalCode"], a["addressLocality"] = m[1], m[2], m[3]
	} else if address != "" {
		a["streetAddress"] = address
	}
	return a
}

func ldPlace(s *Service, p place.Place) ldThing {
	pl := ldThing{"@type": "Place", "name": p.Name, "url": s.links.Place(p.ID), "address": ldAddress(p.Address)}
	if p.Latitude != nil && p.Longitude != nil {
		pl["geo"] = ldThing{"@type": "GeoCoordinates", "latitude": *p.Latitude, "longitude": *p.Longitude}
	}
	return pl
}

// eventJSONLD describes an activity as one Event per date shown (Google
// wants a recurring event as its occurrences), or its first date when
// none is coming up. A cancelled activity is EventCancelled, a moved one
// EventRescheduled.
func eventJSONLD(s *Service, a activity.Activity, b *activityBody, org organisation.Organisation, pl *place.Place, img *image) (template.JS, error) {
	status := "https://schema.org/EventScheduled"
	if a.Status == activity.Cancelled {
		status = "https://schema.org/EventCancelled"
	}
	dates := b.Occurrences
	if len(dates) == 0 {
		dates = []activity.Occurrence{{ActivityID: a.ID, StartsAt: a.StartsAt, EndsAt: a.EndsAt}}
	}
	var events []ldThing
	for _, o := range dates {
		status := status
		// A moved activity is EventRescheduled on each of its dates, with
		// the date it had before (Google's previousStartDate).
		prev, moved := a.PreviousStart(o)
		if moved && a.Status != activity.Cancelled {
			status = "https://schema.org/EventRescheduled"
		}
		ev := ldThing{
			"@context":            "https://schema.org",
			"@type":               "Event",
			"name":                a.Title,
			"url":                 s.links.Activity(a.ID),
			"startDate":           ldTime(o.StartsAt),
			"endDate":             ldTime(o.EndsAt),
			"eventStatus":         status,
			"eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
			"organizer":           ldOrganisation(s, org),
		}
		if status == "https://schema.org/EventRescheduled" {
			ev["previousStartDate"] = ldTime(prev)
		}
		if a.Description != "" {
			ev["description"] = summary(a.Description, 500)
		}
		if pl != nil {
			ev["location"] = ldPlace(s, *pl)
		} else {
			// Google requires a location; an activity without a place is
			// somewhere in Ishøj.
			ev["location"] = ldThing{"@type": "Place", "name": "Ishøj", "address": ldAddress("")}
		}
		if img != nil {
			ev["image"] = []string{img.URL}
		}
		if a.Status != activity.Cancelled {
			// Activities in Vores Ishøj are free to attend.
			ev["isAccessibleForFree"] = true
		}
		events = append(events, ev)
	}
	if len(events) == 1 {
		return jsonLD(events[0])
	}
	return jsonLD(events)
}

func articleJSONLD(s *Service, st story.Story, b *storyBody, org *organisation.Organisation, p *page) (template.JS, error) {
	art := ldThing{
		"@context":         "https://schema.org",
		"@type":            "Article",
		"headline":         summary(st.Title, 110),
		"url":              p.Canonical,
		"mainEntityOfPage": p.Canonical,
		"dateModified":     ldTime(st.UpdatedAt),
		"author":           ldThing{"@type": "Person", "name": b.Author},
		"publisher":        s.publisher(),
		"inLanguage":       "da",
	}
	if !b.Published.IsZero() {
		art["datePublished"] = ldTime(b.Published)
	}
	if p.Description != "" {
		art["description"] = p.Description
	}
	var imgs []string
	for _, ph := range b.Photos {
		imgs = append(imgs, ph.URL)
	}
	if len(imgs) > 0 {
		art["image"] = imgs
	}
	if org != nil {
		art["sourceOrganization"] = ldOrganisation(s, *org)
	}
	return jsonLD(art)
}

func organisationJSONLD(s *Service, o organisation.Organisation, links []link.Link) (template.JS, error) {
	org := ldOrganisation(s, o)
	org["@context"] = "https://schema.org"
	if o.Description != "" {
		org["description"] = summary(o.Description, 500)
	}
	var same []string
	for _, l := range links {
		same = append(same, l.URL)
	}
	if len(same) > 0 {
		org["sameAs"] = same
	}
	return jsonLD(org)
}

func placeJSONLD(s *Service, p place.Place) (template.JS, error) {
	pl := ldPlace(s, p)
	pl["@context"] = "https://schema.org"
	return jsonLD(pl)
}

func websiteJSONLD(s *Service, l *lang) (template.JS, error) {
	return jsonLD(ldThing{"@context": "https://schema.org", "@type": "WebSite", "name": l.T("pages.site_name"),
		"url": s.frontURL(), "inLanguage": l.Code, "publisher": s.publisher()})
}
