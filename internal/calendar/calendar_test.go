package calendar

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// kidsDescription is long enough to be folded over several lines.
const kidsDescription = "Bål, lege og kreativt værksted på Bredekærgård for børn og deres forældre, " +
	"bedsteforældre og naboer; vi laver mad over bål, og alle er velkomne – også første gang."

// now is the fixed clock of every test: a Friday in March 2026, before the
// switch to summer time on 29 March.
var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc *Service
	srv *httptest.Server

	volunteer, other     int64
	roedeKors, aeldre    int64
	bredekaer, havhytten int64

	fleaMarket, kidsSunday, cancelledTalk, draft, longPast, lastWeek int64

	setupSlot, waitSlot, cancelledClaimSlot, talkSlot, oldSlot, otherSlot int64
}

func insert(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := store.Get(context.Background(), db, &id, query+" RETURNING id", args...); err != nil {
		t.Fatalf("insert: %v\n%s", err, query)
	}
	return id
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := store.Exec(context.Background(), db, query, args...); err != nil {
		t.Fatalf("exec: %v\n%s", err, query)
	}
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{}
	created := now.Add(-400 * 24 * time.Hour)

	f.volunteer = insert(t, db, `INSERT INTO users (firebase_uid, email, email_verified, display_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, "uid-1", "frivillig@example.dk", true, "Fatma", created, created)
	f.other = insert(t, db, `INSERT INTO users (firebase_uid, email, email_verified, display_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, "uid-2", "anden@example.dk", true, "Jens", created, created)

	f.roedeKors = insert(t, db, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`,
		"Røde Kors", created, created)
	f.aeldre = insert(t, db, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'ASSOCIATION', ?, ?)`,
		"Ældre i bevægelse", created, created)

	f.bredekaer = insert(t, db, `INSERT INTO places (name, address, latitude, longitude, created_at) VALUES (?, ?, ?, ?, ?)`,
		"Bredekærgård", "Bredekærs Vænge 1, 2635 Ishøj", 55.6160, 12.3280, created)
	f.havhytten = insert(t, db, `INSERT INTO places (name, address, created_at) VALUES (?, ?, ?)`,
		"Havhytten", "Ishøj Strandvej; ved havnen", created)

	activity := func(org, place int64, title, desc string, start, end time.Time, rule *string, status string, publishedAt, cancelledAt *time.Time, updated time.Time) int64 {
		return insert(t, db, `INSERT INTO activities (organisation_id, place_id, title, description, starts_at, ends_at,
				recurrence, status, created_at, updated_at, published_at, cancelled_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			org, place, title, desc, start, end, rule, status, created, updated, publishedAt, cancelledAt)
	}
	occurrence := func(id int64, start, end time.Time) {
		exec(t, db, `INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, id, start, end)
	}
	published := now.Add(-10 * 24 * time.Hour)
	updated := now.Add(-5 * 24 * time.Hour)

	fleaStart := time.Date(2026, 4, 10, 14, 0, 0, 0, time.UTC)
	f.fleaMarket = activity(f.roedeKors, f.bredekaer, "Byttemarked", "Tøj, legetøj, bøger.\r\nTag en pose med!",
		fleaStart, fleaStart.Add(3*time.Hour), nil, "PUBLISHED", &published, nil, updated)
	occurrence(f.fleaMarket, fleaStart, fleaStart.Add(3*time.Hour))
	exec(t, db, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, 'kultur'), (?, 'boern')`, f.fleaMarket, f.fleaMarket)

	// First Sunday of every month, 10:00-13:00 Copenhagen time: 09:00Z in
	// winter, 08:00Z in summer.
	rule := "FREQ=MONTHLY;BYDAY=1SU"
	kidsStart := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f.kidsSunday = activity(f.aeldre, f.bredekaer, "Aktiviteter for børn", kidsDescription,
		kidsStart, kidsStart.Add(3*time.Hour), &rule, "PUBLISHED", &published, nil, updated)
	occurrence(f.kidsSunday, kidsStart, kidsStart.Add(3*time.Hour))
	occurrence(f.kidsSunday, time.Date(2026, 4, 5, 8, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 11, 0, 0, 0, time.UTC))
	occurrence(f.kidsSunday, time.Date(2026, 5, 3, 8, 0, 0, 0, time.UTC), time.Date(2026, 5, 3, 11, 0, 0, 0, time.UTC))
	exec(t, db, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, 'boern')`, f.kidsSunday)

	talkStart := time.Date(2026, 4, 20, 17, 0, 0, 0, time.UTC)
	cancelled := now.Add(-24 * time.Hour)
	f.cancelledTalk = activity(f.roedeKors, f.havhytten, "Foredrag om havnen", "",
		talkStart, talkStart.Add(2*time.Hour), nil, "CANCELLED", &published, &cancelled, cancelled)
	occurrence(f.cancelledTalk, talkStart, talkStart.Add(2*time.Hour))
	exec(t, db, `INSERT INTO activity_themes (activity_id, theme) VALUES (?, 'historie')`, f.cancelledTalk)

	draftStart := time.Date(2026, 4, 12, 10, 0, 0, 0, time.UTC)
	f.draft = activity(f.roedeKors, f.bredekaer, "Kladde", "", draftStart, draftStart.Add(time.Hour), nil, "DRAFT", nil, nil, updated)
	occurrence(f.draft, draftStart, draftStart.Add(time.Hour))

	oldStart := time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC)
	f.longPast = activity(f.roedeKors, f.bredekaer, "Gammelt loppemarked", "", oldStart, oldStart.Add(time.Hour), nil, "PUBLISHED", &oldStart, nil, oldStart)
	occurrence(f.longPast, oldStart, oldStart.Add(time.Hour))

	weekStart := now.Add(-7 * 24 * time.Hour)
	f.lastWeek = activity(f.roedeKors, f.havhytten, "HavhyttenFri", "", weekStart, weekStart.Add(4*time.Hour), nil, "PUBLISHED", &published, nil, updated)
	occurrence(f.lastWeek, weekStart, weekStart.Add(4*time.Hour))

	slot := func(activityID int64, title, desc string, start time.Time, d time.Duration) int64 {
		return insert(t, db, `INSERT INTO volunteer_slots (activity_id, title, description, starts_at, ends_at, capacity, created_at)
			VALUES (?, ?, ?, ?, ?, 2, ?)`, activityID, title, desc, start, start.Add(d), created)
	}
	claim := func(slotID, userID int64, status string) {
		var confirmed *time.Time
		if status == "CONFIRMED" {
			c := now.Add(-3 * 24 * time.Hour)
			confirmed = &c
		}
		exec(t, db, `INSERT INTO slot_claims (slot_id, user_id, status, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?)`,
			slotID, userID, status, now.Add(-4*24*time.Hour), confirmed)
	}
	f.setupSlot = slot(f.fleaMarket, "Opstilling", "Borde og stande stilles op", fleaStart.Add(-time.Hour), 2*time.Hour)
	f.waitSlot = slot(f.fleaMarket, "Kasse", "", fleaStart, 3*time.Hour)
	f.cancelledClaimSlot = slot(f.kidsSunday, "Bålvagt", "", time.Date(2026, 4, 5, 8, 0, 0, 0, time.UTC), 3*time.Hour)
	f.talkSlot = slot(f.cancelledTalk, "Kaffe", "", talkStart, 2*time.Hour)
	f.oldSlot = slot(f.longPast, "Oprydning", "", oldStart, time.Hour)
	f.otherSlot = slot(f.fleaMarket, "Nedpakning", "", fleaStart.Add(3*time.Hour), time.Hour)

	claim(f.setupSlot, f.volunteer, "CONFIRMED")
	claim(f.waitSlot, f.volunteer, "WAITLISTED")
	claim(f.cancelledClaimSlot, f.volunteer, "CANCELLED")
	claim(f.talkSlot, f.volunteer, "CONFIRMED")
	claim(f.oldSlot, f.volunteer, "CONFIRMED")
	claim(f.otherSlot, f.other, "CONFIRMED")

	f.svc = NewService(db, "https://voresishoj.example", func() time.Time { return now })
	mux := http.NewServeMux()
	mux.Handle("/ical/", f.svc.Handler())
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// get fetches path (or the path of a full feed URL) from the test server.
func (f *fixture) get(t *testing.T, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+u.RequestURI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func parse(t *testing.T, body []byte) *ics.Calendar {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse feed: %v\n%s", err, body)
	}
	return cal
}

func uids(cal *ics.Calendar) []string {
	var out []string
	for _, ev := range cal.Events() {
		out = append(out, ev.Id())
	}
	slices.Sort(out)
	return out
}

func event(t *testing.T, cal *ics.Calendar, uid string) *ics.VEvent {
	t.Helper()
	for _, ev := range cal.Events() {
		if ev.Id() == uid {
			return ev
		}
	}
	t.Fatalf("no event %s in feed", uid)
	return nil
}

func prop(ev *ics.VEvent, p ics.ComponentProperty) string {
	if v := ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func calProp(cal *ics.Calendar, name string) string {
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == name {
			return p.Value
		}
	}
	return ""
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestPersonalFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		feed, err := f.svc.CreateFeed(ctx, user.Caller{UserID: f.volunteer, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(feed, "https://voresishoj.example/ical/me/") || !strings.HasSuffix(feed, ".ics") {
			t.Fatalf("feed URL = %q", feed)
		}

		resp, body := f.get(t, feed)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=300" {
			t.Errorf("Cache-Control = %q", cc)
		}
		if !strings.Contains(string(body), "\r\n") || strings.Contains(strings.ReplaceAll(string(body), "\r\n", ""), "\n") {
			t.Error("lines must end in CRLF and nothing else")
		}
		cal := parse(t, body)
		for name, want := range map[string]string{
			"PRODID":        "-//Ishøj Kommune//Vores Ishøj//DA",
			"VERSION":       "2.0",
			"METHOD":        "PUBLISH",
			"X-WR-CALNAME":  "Vores Ishøj – mine vagter",
			"X-WR-TIMEZONE": "Europe/Copenhagen",
		} {
			if got := calProp(cal, name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}

		// Only confirmed claims, not the waitlisted or cancelled ones, not
		// another person's, not one from last autumn.
		want := sorted(slotUID(f.setupSlot), slotUID(f.talkSlot))
		if got := uids(cal); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}

		setup := event(t, cal, slotUID(f.setupSlot))
		if got := prop(setup, ics.ComponentPropertySummary); got != "Opstilling – Byttemarked" {
			t.Errorf("SUMMARY = %q", got)
		}
		if got := prop(setup, ics.ComponentPropertyDescription); got != "Borde og stande stilles op" {
			t.Errorf("DESCRIPTION = %q", got)
		}
		if got := prop(setup, ics.ComponentPropertyLocation); got != "Bredekærgård, Bredekærs Vænge 1, 2635 Ishøj" {
			t.Errorf("LOCATION = %q", got)
		}
		if got := prop(setup, ics.ComponentPropertyStatus); got != "CONFIRMED" {
			t.Errorf("STATUS = %q", got)
		}
		if got := prop(setup, ics.ComponentPropertyDtStart); got != "20260410T130000Z" {
			t.Errorf("DTSTART = %q", got)
		}
		start, err := setup.GetStartAt()
		if err != nil || !start.Equal(time.Date(2026, 4, 10, 13, 0, 0, 0, time.UTC)) {
			t.Errorf("start = %v, %v", start, err)
		}
		end, err := setup.GetEndAt()
		if err != nil || !end.Equal(time.Date(2026, 4, 10, 15, 0, 0, 0, time.UTC)) {
			t.Errorf("end = %v, %v", end, err)
		}
		if setup.GetProperty(ics.ComponentPropertyDtstamp) == nil {
			t.Error("DTSTAMP missing")
		}

		talk := event(t, cal, slotUID(f.talkSlot))
		if got := prop(talk, ics.ComponentPropertyStatus); got != "CANCELLED" {
			t.Errorf("shift on a cancelled activity: STATUS = %q", got)
		}
		if got := prop(talk, ics.ComponentPropertyLocation); got != "Havhytten, Ishøj Strandvej; ved havnen" {
			t.Errorf("LOCATION = %q", got)
		}

		// The other person's feed holds only their shift.
		otherFeed, err := f.svc.CreateFeed(ctx, user.Caller{UserID: f.other, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		_, body = f.get(t, otherFeed)
		if got, want := uids(parse(t, body)), []string{slotUID(f.otherSlot)}; !slices.Equal(got, want) {
			t.Errorf("other person's events = %v, want %v", got, want)
		}
	})
}

func slotUID(id int64) string     { return "slot-" + itoa(id) + "@voresishoj" }
func activityUID(id int64) string { return "activity-" + itoa(id) + "@voresishoj" }
func itoa(id int64) string        { return strconv.FormatInt(id, 10) }

func TestFeedTokenLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		caller := user.Caller{UserID: f.volunteer, Verified: true}

		if got, err := f.svc.FeedURL(ctx, user.Caller{UserID: f.volunteer}); err != nil || got != nil {
			t.Fatalf("FeedURL before any feed = %v, %v; want nil", got, err)
		}

		first, err := f.svc.CreateFeed(ctx, caller)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.CreateFeed(ctx, caller)
		if err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Fatal("a new feed must get a new token")
		}
		if resp, _ := f.get(t, first); resp.StatusCode != http.StatusNotFound {
			t.Errorf("replaced URL: status = %d, want 404", resp.StatusCode)
		}
		if resp, _ := f.get(t, second); resp.StatusCode != http.StatusOK {
			t.Errorf("new URL: status = %d, want 200", resp.StatusCode)
		}
		if got, err := f.svc.FeedURL(ctx, user.Caller{UserID: f.volunteer}); err != nil || got == nil || *got != second {
			t.Errorf("FeedURL = %v, %v; want %s", got, err, second)
		}

		if err := f.svc.RevokeFeed(ctx, caller); err != nil {
			t.Fatal(err)
		}
		resp, body := f.get(t, second)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoked URL: status = %d, want 404", resp.StatusCode)
		}
		if strings.Contains(string(body), "BEGIN:VCALENDAR") {
			t.Error("revoked URL still serves a calendar")
		}
		if got, err := f.svc.FeedURL(ctx, user.Caller{UserID: f.volunteer}); err != nil || got != nil {
			t.Errorf("FeedURL after revoke = %v, %v; want nil", got, err)
		}

		token := strings.TrimSuffix(strings.TrimPrefix(second, "https://voresishoj.example/ical/me/"), ".ics")
		wellFormed := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
		for _, path := range []string{
			"/ical/me/garbage.ics",
			"/ical/me/" + wellFormed + ".ics",
			"/ical/me/" + token + ".ics", // revoked
			"/ical/me/" + token,          // no suffix
			"/ical/me/.ics",
			"/ical/me/" + strings.Repeat("a", 5000) + ".ics",
			"/ical/me/x'%20OR%20'1'='1.ics",
		} {
			if resp, _ := f.get(t, path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status = %d, want 404", path, resp.StatusCode)
			}
		}

		if _, err := f.svc.CreateFeed(ctx, user.Caller{}); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("CreateFeed by a visitor: err = %v, want ErrUnauthenticated", err)
		}
		if err := f.svc.RevokeFeed(ctx, user.Caller{}); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("RevokeFeed by a visitor: err = %v, want ErrUnauthenticated", err)
		}

		// A deleted account's token stops working even if it was left set.
		third, err := f.svc.CreateFeed(ctx, caller)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, db, `UPDATE users SET deleted_at = ? WHERE id = ?`, now, f.volunteer)
		if resp, _ := f.get(t, third); resp.StatusCode != http.StatusNotFound {
			t.Errorf("deleted account's feed: status = %d, want 404", resp.StatusCode)
		}
	})
}

func TestPublicFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)

		resp, body := f.get(t, "/ical/activities.ics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d: %s", resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
			t.Errorf("Cache-Control = %q", cc)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		cal := parse(t, body)
		if got := calProp(cal, "X-WR-CALNAME"); got != "Vores Ishøj – aktiviteter" {
			t.Errorf("X-WR-CALNAME = %q", got)
		}
		// Not the draft, not the one from October; last week's still shows.
		want := sorted(activityUID(f.fleaMarket), activityUID(f.kidsSunday), activityUID(f.cancelledTalk), activityUID(f.lastWeek))
		if got := uids(cal); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}

		flea := event(t, cal, activityUID(f.fleaMarket))
		if got := prop(flea, ics.ComponentPropertySummary); got != "Byttemarked" {
			t.Errorf("SUMMARY = %q", got)
		}
		if got := prop(flea, ics.ComponentPropertyDescription); got != "Tøj, legetøj, bøger.\nTag en pose med!" {
			t.Errorf("DESCRIPTION = %q", got)
		}
		if got := prop(flea, ics.ComponentPropertyDtStart); got != "20260410T140000Z" {
			t.Errorf("one-off DTSTART = %q, want UTC", got)
		}
		if got := prop(flea, ics.ComponentPropertyDtEnd); got != "20260410T170000Z" {
			t.Errorf("one-off DTEND = %q, want UTC", got)
		}
		if flea.GetProperty(ics.ComponentPropertyRrule) != nil {
			t.Error("one-off has an RRULE")
		}
		var cats []string
		for _, p := range flea.GetProperties(ics.ComponentPropertyCategories) {
			cats = append(cats, p.Value)
		}
		if !slices.Equal(cats, []string{"boern", "kultur"}) {
			t.Errorf("CATEGORIES = %v", cats)
		}
		if got, want := prop(flea, ics.ComponentPropertyUrl), weblink.New("https://voresishoj.example").Activity(f.fleaMarket); got != want {
			t.Errorf("URL = %q, want %q", got, want)
		}
		if got := prop(flea, ics.ComponentPropertyLocation); got != "Bredekærgård, Bredekærs Vænge 1, 2635 Ishøj" {
			t.Errorf("LOCATION = %q", got)
		}
		if got := prop(flea, ics.ComponentPropertyGeo); got != "55.616000;12.328000" {
			t.Errorf("GEO = %q", got)
		}
		if got, err := flea.GetLastModifiedAt(); err != nil || !got.Equal(now.Add(-5*24*time.Hour)) {
			t.Errorf("LAST-MODIFIED = %v, %v", got, err)
		}
		if got := prop(flea, ics.ComponentPropertyStatus); got != "CONFIRMED" {
			t.Errorf("STATUS = %q", got)
		}

		for _, line := range strings.Split(string(body), "\r\n") {
			if len(line) > 75 {
				t.Errorf("line of %d octets, RFC 5545 folds at 75: %q", len(line), line)
			}
		}
		// The recurring one is a single event the calendar app expands, at
		// 10:00 local time whatever the season.
		kids := event(t, cal, activityUID(f.kidsSunday))
		if got := prop(kids, ics.ComponentPropertyRrule); got != "FREQ=MONTHLY;BYDAY=1SU" {
			t.Errorf("RRULE = %q", got)
		}
		if got := prop(kids, ics.ComponentPropertyDescription); got != kidsDescription {
			t.Errorf("folded DESCRIPTION = %q", got)
		}
		dtstart := kids.GetProperty(ics.ComponentPropertyDtStart)
		if dtstart == nil || dtstart.Value != "20260301T100000" || !slices.Equal(dtstart.ICalParameters["TZID"], []string{"Europe/Copenhagen"}) {
			t.Errorf("recurring DTSTART = %+v, want 20260301T100000 in Europe/Copenhagen", dtstart)
		}
		if start, err := kids.GetStartAt(); err != nil || !start.Equal(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("recurring start = %v, %v", start, err)
		}
		if end, err := kids.GetEndAt(); err != nil || !end.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("recurring end = %v, %v", end, err)
		}
		zones := cal.Timezones()
		if len(zones) != 1 || zones[0].GetProperty(ics.ComponentPropertyTzid).Value != "Europe/Copenhagen" {
			t.Fatalf("VTIMEZONE = %v", zones)
		}
		if n := len(zones[0].SubComponents()); n != 2 {
			t.Errorf("VTIMEZONE has %d sub-components, want DAYLIGHT and STANDARD", n)
		}
		for _, line := range []string{
			"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n",
			"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n",
		} {
			if !strings.Contains(string(body), line) {
				t.Errorf("VTIMEZONE lacks\n%s", line)
			}
		}
		if strings.Contains(string(body), "\r\nX-X-") {
			t.Error("a property lost its name")
		}

		talk := event(t, cal, activityUID(f.cancelledTalk))
		if got := prop(talk, ics.ComponentPropertyStatus); got != "CANCELLED" {
			t.Errorf("cancelled activity: STATUS = %q", got)
		}

		orgGID := base64.RawURLEncoding.EncodeToString([]byte("Organisation:" + itoa(f.roedeKors)))
		placeGID := base64.RawURLEncoding.EncodeToString([]byte("Place:" + itoa(f.havhytten)))
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"organisation=" + itoa(f.roedeKors), sorted(activityUID(f.fleaMarket), activityUID(f.cancelledTalk), activityUID(f.lastWeek))},
			{"organisation=" + orgGID, sorted(activityUID(f.fleaMarket), activityUID(f.cancelledTalk), activityUID(f.lastWeek))},
			{"organisation=" + itoa(f.aeldre), []string{activityUID(f.kidsSunday)}},
			{"place=" + itoa(f.havhytten), sorted(activityUID(f.cancelledTalk), activityUID(f.lastWeek))},
			{"place=" + placeGID, sorted(activityUID(f.cancelledTalk), activityUID(f.lastWeek))},
			{"theme=boern", sorted(activityUID(f.fleaMarket), activityUID(f.kidsSunday))},
			{"theme=boern&organisation=" + itoa(f.aeldre), []string{activityUID(f.kidsSunday)}},
			{"theme=sport", nil},
			{"organisation=999999", nil},
		} {
			resp, body := f.get(t, "/ical/activities.ics?"+tc.query)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status = %d", tc.query, resp.StatusCode)
				continue
			}
			if got := uids(parse(t, body)); !slices.Equal(got, tc.want) {
				t.Errorf("%s: events = %v, want %v", tc.query, got, tc.want)
			}
		}

		for _, q := range []string{
			"organisation=abc",
			"organisation=" + placeGID, // a place's id where an organisation's belongs
			"place=-3",
			"theme=" + url.QueryEscape("boern' OR '1'='1"),
		} {
			if resp, _ := f.get(t, "/ical/activities.ics?"+q); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status = %d, want 400", q, resp.StatusCode)
			}
		}
	})
}

func TestETag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		feed, err := f.svc.CreateFeed(context.Background(), user.Caller{UserID: f.volunteer, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/ical/activities.ics", feed} {
			resp, body := f.get(t, path)
			etag := resp.Header.Get("ETag")
			if resp.StatusCode != http.StatusOK || etag == "" {
				t.Fatalf("%s: status %d, ETag %q", path, resp.StatusCode, etag)
			}
			again, body2 := f.get(t, path)
			if again.Header.Get("ETag") != etag || string(body2) != string(body) {
				t.Errorf("%s: an unchanged feed must render the same", path)
			}
			resp, body = f.get(t, path, "If-None-Match", etag)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("%s with If-None-Match: status %d, %d bytes; want 304, empty", path, resp.StatusCode, len(body))
			}
			resp, _ = f.get(t, path, "If-None-Match", `"other", W/`+etag)
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("%s with weak If-None-Match list: status %d, want 304", path, resp.StatusCode)
			}
			resp, _ = f.get(t, path, "If-None-Match", `"stale"`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s with stale If-None-Match: status %d, want 200", path, resp.StatusCode)
			}
		}

		// A change to what the feed shows changes the tag.
		resp, _ := f.get(t, "/ical/activities.ics")
		before := resp.Header.Get("ETag")
		exec(t, db, `UPDATE activities SET title = ?, updated_at = ? WHERE id = ?`, "Stort byttemarked", now, f.fleaMarket)
		resp, _ = f.get(t, "/ical/activities.ics", "If-None-Match", before)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == before {
			t.Errorf("after a change: status %d, ETag %q (before %q)", resp.StatusCode, resp.Header.Get("ETag"), before)
		}
	})
}

func TestNormaliseRule(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"FREQ=MONTHLY;BYDAY=1SU", "FREQ=MONTHLY;BYDAY=1SU"},
		{"RRULE:FREQ=WEEKLY;BYDAY=SA", "FREQ=WEEKLY;BYDAY=SA"},
		// Local UNTIL in summer time (UTC+2) and as a date (midnight, UTC+1).
		{"FREQ=WEEKLY;UNTIL=20260815T100000", "FREQ=WEEKLY;UNTIL=20260815T080000Z"},
		{"FREQ=WEEKLY;UNTIL=20261231", "FREQ=WEEKLY;UNTIL=20261230T230000Z"},
		{"FREQ=WEEKLY;UNTIL=20261231T230000Z", "FREQ=WEEKLY;UNTIL=20261231T230000Z"},
		{"FREQ=DAILY\r\nX-EVIL:1", ""},
		{"  ", ""},
	} {
		if got := normaliseRule(tc.in); got != tc.want {
			t.Errorf("normaliseRule(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The personal feed holds what the person comes to as a guest beside
// their shifts: going confirmed, waitlisted tentative; not what they are
// only interested in, nor what they gave up, nor another person's.
func TestPersonalFeedHasPlans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		sunday := time.Date(2026, 4, 5, 8, 0, 0, 0, time.UTC)
		guest := func(userID, activityID int64, start time.Time, status string, party int) int64 {
			return insert(t, db, `INSERT INTO participations (activity_id, occurrence_starts_at, user_id, status, party_size, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, activityID, start, userID, status, party, now, now)
		}
		family := guest(f.volunteer, f.kidsSunday, sunday, "GOING", 3)
		waiting := guest(f.volunteer, f.fleaMarket, time.Date(2026, 4, 10, 14, 0, 0, 0, time.UTC), "WAITLISTED", 1)
		guest(f.volunteer, f.kidsSunday, time.Date(2026, 5, 3, 8, 0, 0, 0, time.UTC), "INTERESTED", 1)
		guest(f.volunteer, f.lastWeek, now.Add(-7*24*time.Hour), "CANCELLED", 1)
		guest(f.other, f.kidsSunday, sunday, "GOING", 2)

		feed, err := f.svc.CreateFeed(ctx, user.Caller{UserID: f.volunteer, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		_, body := f.get(t, feed)
		cal := parse(t, body)
		planUID := func(id int64) string { return "participation-" + itoa(id) + "@voresishoj" }
		want := sorted(slotUID(f.setupSlot), slotUID(f.talkSlot), planUID(family), planUID(waiting))
		if got := uids(cal); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		ev := event(t, cal, planUID(family))
		if got := prop(ev, ics.ComponentPropertySummary); got != "Aktiviteter for børn (3 personer)" {
			t.Errorf("SUMMARY = %q", got)
		}
		if got := prop(ev, ics.ComponentPropertyStatus); got != "CONFIRMED" {
			t.Errorf("STATUS = %q", got)
		}
		end, err := ev.GetEndAt()
		if err != nil || !end.Equal(time.Date(2026, 4, 5, 11, 0, 0, 0, time.UTC)) {
			t.Errorf("end = %v, %v", end, err)
		}
		if got := prop(event(t, cal, planUID(waiting)), ics.ComponentPropertyStatus); got != "TENTATIVE" {
			t.Errorf("waitlisted: STATUS = %q", got)
		}
	})
}
