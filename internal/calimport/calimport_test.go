package calimport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// The feed changes between runs; after each run the database holds exactly
// what the feed says, with no event imported twice.
func TestImportFollowsTheFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src := f.addSource(t, "/det-sker.ics", nil, "kultur", "faellesskab")

		cph := tz.Copenhagen
		day := time.Date(f.now.In(cph).Year(), f.now.In(cph).Month(), f.now.In(cph).Day(), 0, 0, 0, 0, cph).AddDate(0, 0, 20)
		aStart := day.Add(9 * time.Hour).UTC()                        // 09:00 local, given in UTC
		bStart := day.AddDate(0, 0, 1).Add(19 * time.Hour)            // 19:00 local, TZID
		cStart := day.AddDate(0, 0, 2).Add(14 * time.Hour)            // 14:00 local, floating
		dDay := day.AddDate(0, 0, 3)                                  // all day
		fStart := f.now.Add(-10 * 24 * time.Hour).Truncate(time.Hour) // over
		ny, _ := time.LoadLocation("America/New_York")
		xStart := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, ny).AddDate(0, 0, 4)
		// A weekly series through the end of daylight saving time, always
		// in October (the last Sunday of October is between 25 and 31).
		y := f.now.In(cph).Year()
		if f.now.After(time.Date(y, 9, 30, 0, 0, 0, 0, cph)) {
			y++
		}
		eStart := time.Date(y, 10, 10, 10, 0, 0, 0, cph)

		common := []string{
			vevent("a@ishoj.dk", "Loppemarked", "DTSTART:"+utcStamp(aStart), "DTEND:"+utcStamp(aStart.Add(2*time.Hour))),
			vevent("b@ishoj.dk", "Koncert i Kulturhuset", "DTSTART;TZID=Europe/Copenhagen:"+localStamp(bStart), "DURATION:PT2H"),
			vevent("d@ishoj.dk", "Byfest", "DTSTART;VALUE=DATE:"+dateStamp(dDay)),
			vevent("e@ishoj.dk", "Strikkeklub", "DTSTART;TZID=Europe/Copenhagen:"+localStamp(eStart),
				"DTEND;TZID=Europe/Copenhagen:"+localStamp(eStart.Add(time.Hour)), "RRULE:FREQ=WEEKLY;COUNT=4"),
			vevent("f@ishoj.dk", "Sommerfest", "DTSTART:"+utcStamp(fStart), "DTEND:"+utcStamp(fStart.Add(3*time.Hour))),
			vevent("g@ishoj.dk", "Havnefest", "DTSTART:"+utcStamp(aStart.Add(48*time.Hour)),
				"DESCRIPTION:Kom og vær med\\, alle er velkomne", "LOCATION:Ishøj Havn", "URL:http://example.dk/havnefest"),
			vevent("x@ishoj.dk", "Venskabsby-møde", "DTSTART;TZID=America/New_York:"+xStart.Format("20060102T150405")),
		}
		first := append(append([]string{}, common...),
			vevent("c@ishoj.dk", "Fællesspisning", "DTSTART:"+localStamp(cStart)),
			vevent("h@ishoj.dk", "Aflyst foredrag", "DTSTART:"+utcStamp(aStart), "STATUS:CANCELLED"),
			"BEGIN:VTODO\r\nUID:todo@ishoj.dk\r\nSUMMARY:Husk plakater\r\nEND:VTODO",
		)
		f.feed.set(calendar(first...), "")

		// Run 1: everything is new.
		res := f.fetch(t, src)
		if res.Created != 8 || res.Cancelled != 0 || res.Updated != 0 {
			t.Fatalf("first run: %+v", res)
		}
		got := f.imported(t, src.ID)
		if len(got) != 8 {
			t.Fatalf("imported %d activities, want 8: %v", len(got), got)
		}
		if _, ok := got["h@ishoj.dk"]; ok {
			t.Error("an event cancelled in the feed was created")
		}
		if _, ok := got["todo@ishoj.dk"]; ok {
			t.Error("a VTODO was imported")
		}
		wantTimes := map[string][2]time.Time{
			"a@ishoj.dk": {aStart, aStart.Add(2 * time.Hour)},
			"b@ishoj.dk": {bStart, bStart.Add(2 * time.Hour)},
			"c@ishoj.dk": {cStart, cStart.Add(time.Hour)},
			"d@ishoj.dk": {dDay, dDay.AddDate(0, 0, 1)},
			"e@ishoj.dk": {eStart, eStart.Add(time.Hour)},
			"x@ishoj.dk": {xStart, xStart.Add(time.Hour)},
		}
		for uid, w := range wantTimes {
			r := got[uid]
			if !r.StartsAt.Equal(w[0]) || !r.EndsAt.Equal(w[1]) {
				t.Errorf("%s: %s – %s, want %s – %s", uid, r.StartsAt.UTC(), r.EndsAt.UTC(), w[0].UTC(), w[1].UTC())
			}
		}
		for uid, r := range got {
			if r.Status != "PUBLISHED" {
				t.Errorf("%s is %s, want PUBLISHED", uid, r.Status)
			}
			if r.SourceURL == nil || *r.SourceURL != src.URL {
				t.Errorf("%s source_url = %v, want %s", uid, r.SourceURL, src.URL)
			}
		}
		if e := got["e@ishoj.dk"]; e.Recurrence == nil || *e.Recurrence != "FREQ=WEEKLY;COUNT=4" {
			t.Errorf("recurrence = %v", e.Recurrence)
		}
		// The series keeps 10:00 local time across the change to winter time.
		occ := f.occurrences(t, got["e@ishoj.dk"].ID)
		if len(occ) != 4 {
			t.Fatalf("series has %d occurrences, want 4: %v", len(occ), occ)
		}
		for _, o := range occ {
			if l := o.In(cph); l.Hour() != 10 || l.Minute() != 0 {
				t.Errorf("occurrence at %s local, want 10:00", l)
			}
		}
		if occ[0].UTC().Hour() != 8 || occ[3].UTC().Hour() != 9 {
			t.Errorf("occurrences in UTC %s … %s: want 08:00 in summer time and 09:00 in winter time", occ[0].UTC(), occ[3].UTC())
		}
		g := got["g@ishoj.dk"]
		if g.Description != "Kom og vær med, alle er velkomne\n\nSted: Ishøj Havn" {
			t.Errorf("description = %q", g.Description)
		}
		var links []string
		if err := store.Select(ctx, db, &links, `SELECT url FROM channel_links WHERE activity_id = ? AND kind = 'WEB'`, g.ID); err != nil {
			t.Fatal(err)
		}
		if len(links) != 1 || links[0] != "https://example.dk/havnefest" {
			t.Errorf("links = %v", links)
		}
		var themes []string
		if err := store.Select(ctx, db, &themes, `SELECT theme FROM activity_themes WHERE activity_id = ? ORDER BY theme`, g.ID); err != nil {
			t.Fatal(err)
		}
		if strings.Join(themes, ",") != "faellesskab,kultur" {
			t.Errorf("themes = %v", themes)
		}
		origins, err := f.svc.OriginsByActivityIDs(ctx, []int64{g.ID})
		if err != nil {
			t.Fatal(err)
		}
		if o := origins[g.ID]; o.UID != "g@ishoj.dk" || o.CalendarURL != src.URL || o.SourceID == nil || *o.SourceID != src.ID {
			t.Errorf("origin = %+v", o)
		}
		if n := countKind(f.events.Snapshot(), event.ActivityPublished); n != 7 {
			t.Errorf("%d activity.published events, want 7 (not the one that is over)", n)
		}

		// Run 2: a title and a time change, a future event and a past one
		// disappear, a new one appears.
		bMoved := bStart.Add(time.Hour)
		second := append([]string{}, common...)
		second[0] = vevent("a@ishoj.dk", "Stort loppemarked", "DTSTART:"+utcStamp(aStart), "DTEND:"+utcStamp(aStart.Add(2*time.Hour)))
		second[1] = vevent("b@ishoj.dk", "Koncert i Kulturhuset", "DTSTART;TZID=Europe/Copenhagen:"+localStamp(bMoved), "DURATION:PT2H")
		second = append(second[:4], second[5:]...) // f@ (over) leaves the feed
		second = append(second, vevent("i@ishoj.dk", "Fotokonkurrence", "DTSTART:"+utcStamp(aStart.Add(72*time.Hour))))
		f.feed.set(calendar(second...), "")
		f.events.Events = nil

		res = f.fetch(t, src)
		if res.Created != 1 || res.Updated != 2 || res.Cancelled != 1 || res.Unchanged != 4 {
			t.Fatalf("second run: %+v", res)
		}
		got = f.imported(t, src.ID)
		if len(got) != 9 {
			t.Fatalf("%d activities after run 2, want 9", len(got))
		}
		if got["a@ishoj.dk"].Title != "Stort loppemarked" {
			t.Errorf("title not updated: %q", got["a@ishoj.dk"].Title)
		}
		if b := got["b@ishoj.dk"]; !b.StartsAt.Equal(bMoved) || !b.EndsAt.Equal(bMoved.Add(2*time.Hour)) {
			t.Errorf("b not moved: %s", b.StartsAt)
		}
		if occ := f.occurrences(t, got["b@ishoj.dk"].ID); len(occ) != 1 || !occ[0].Equal(bMoved) {
			t.Errorf("b occurrences = %v, want only %s", occ, bMoved.UTC())
		}
		if c := got["c@ishoj.dk"]; c.Status != "CANCELLED" || c.CancelledAt == nil {
			t.Errorf("removed future event is %s", c.Status)
		}
		if fr := got["f@ishoj.dk"]; fr.Status != "PUBLISHED" {
			t.Errorf("removed past event is %s, want it left as it was", fr.Status)
		}
		evs := f.events.Snapshot()
		if countKind(evs, event.ActivityCancelled) != 1 || countKind(evs, event.ActivityChanged) != 2 || countKind(evs, event.ActivityPublished) != 1 {
			t.Errorf("events after run 2: %+v", evs)
		}

		// Run 3: the cancelled event comes back and is published again.
		third := append(append([]string{}, second...), vevent("c@ishoj.dk", "Fællesspisning", "DTSTART:"+localStamp(cStart)))
		f.feed.set(calendar(third...), "")
		res = f.fetch(t, src)
		if res.Restored != 1 || res.Created != 0 || res.Updated != 0 || res.Cancelled != 0 {
			t.Fatalf("third run: %+v", res)
		}
		if c := f.imported(t, src.ID)["c@ishoj.dk"]; c.Status != "PUBLISHED" || c.CancelledAt != nil {
			t.Errorf("returned event is %s (cancelled_at %v)", c.Status, c.CancelledAt)
		}

		// Runs 4 and 5: the same feed changes nothing and duplicates nothing.
		before := f.snapshot(t)
		for run := 4; run <= 5; run++ {
			res = f.fetch(t, src)
			if res.Created != 0 || res.Updated != 0 || res.Cancelled != 0 || res.Restored != 0 || res.Unchanged != 8 {
				t.Fatalf("run %d: %+v", run, res)
			}
		}
		if after := f.snapshot(t); after != before {
			t.Errorf("an unchanged feed changed the database:\n%s\nvs\n%s", before, after)
		}
		var total int
		if err := store.Get(ctx, db, &total, `SELECT COUNT(*) FROM activities`); err != nil {
			t.Fatal(err)
		}
		if total != 9 {
			t.Errorf("%d activities in all, want 9", total)
		}
		if s := f.source(t, src.ID); s.Failures != 0 || s.LastError != nil || s.LastSuccessAt == nil ||
			!s.NextFetchAt.Equal(f.now.Add(time.Hour)) {
			t.Errorf("source after success: %+v", s)
		}
	})
}

func countKind(evs []event.Event, k event.Kind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// A calendar with a place of its own gives every activity that place, and
// the event's LOCATION is not repeated in the description.
func TestSourcePlace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src := f.addSource(t, "/bredekaergaard.ics", &f.place)
		start := f.now.Add(48 * time.Hour)
		f.feed.set(calendar(vevent("1@b", "Aktiviteter for børn", "DTSTART:"+utcStamp(start), "LOCATION:Laden",
			"DESCRIPTION:Bål og snobrød")), "")
		f.fetch(t, src)
		r := f.imported(t, src.ID)["1@b"]
		if r.PlaceID == nil || *r.PlaceID != f.place || r.Description != "Bål og snobrød" {
			t.Errorf("place %v, description %q", r.PlaceID, r.Description)
		}
	})
}

// A failed or refused fetch records why, schedules a retry with backoff,
// and leaves everything already imported as it was.
func TestFailuresChangeNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src := f.addSource(t, "/det-sker.ics", nil)
		start := f.now.Add(72 * time.Hour)
		good := calendar(
			vevent("1@x", "Spisevenner", "DTSTART:"+utcStamp(start)),
			vevent("2@x", "Dyrk Ishøj", "DTSTART:"+utcStamp(start.Add(24*time.Hour)), "RRULE:FREQ=WEEKLY;COUNT=3"),
		)
		f.feed.set(good, "")
		f.fetch(t, src)
		before := f.snapshot(t)

		huge := calendar(vevent("1@x", "Spisevenner", "DTSTART:"+utcStamp(start), "DESCRIPTION:"+strings.Repeat("x", 6<<20)))
		cases := []struct {
			name   string
			setup  func()
			code   string
			detail string
		}{
			{"truncated", func() { f.feed.set(good[:len(good)/2], "") }, CodeInvalidICal, "complete"},
			{"not a calendar", func() { f.feed.set("<html><body>Siden findes ikke</body></html>", "") }, CodeInvalidICal, ""},
			{"broken line", func() {
				f.feed.set("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1@x\r\n;;;\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "")
			}, CodeInvalidICal, ""},
			{"huge", func() { f.feed.set(huge, "") }, CodeTooBig, ""},
			{"server error", func() { f.feed.set(good, ""); f.feed.misbehave(500, 0) }, CodeHTTPStatus, "500"},
			{"timeout", func() { f.feed.set(good, ""); f.feed.misbehave(0, 3*time.Second) }, CodeTimeout, ""},
		}
		for i, c := range cases {
			c.setup()
			f.now = f.now.Add(time.Minute)
			_, err := f.svc.Fetch(ctx, src.ID)
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Code != c.code || !strings.Contains(fe.Detail, c.detail) {
				t.Fatalf("%s: error %v, want code %s", c.name, err, c.code)
			}
			s := f.source(t, src.ID)
			failures := i + 1
			if s.LastError == nil || *s.LastError != c.code || s.Failures != failures {
				t.Errorf("%s: last error %v, failures %d", c.name, s.LastError, s.Failures)
			}
			if want := f.now.Add(Backoff(failures, 0)); !s.NextFetchAt.Equal(want) {
				t.Errorf("%s: next fetch %s, want %s", c.name, s.NextFetchAt, want)
			}
			if msg := s.ErrorMessage("da"); msg == "" || msg == c.code {
				t.Errorf("%s: no Danish message for %s", c.name, c.code)
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("%s changed the database:\n%s\nvs\n%s", c.name, before, after)
			}
		}
		if s := f.source(t, src.ID); s.ErrorMessage("en") != "The calendar did not answer in time." {
			t.Errorf("English message = %q", s.ErrorMessage("en"))
		}

		// Back to normal: the error is cleared and the schedule reset.
		f.feed.set(good, "")
		f.fetch(t, src)
		s := f.source(t, src.ID)
		if s.Failures != 0 || s.LastError != nil || s.LastErrorDetail != nil || !s.NextFetchAt.Equal(f.now.Add(time.Hour)) {
			t.Errorf("after recovery: %+v", s)
		}
	})
}

// With an ETag the second request is conditional; 304 changes nothing.
func TestNotModified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src := f.addSource(t, "/det-sker.ics", nil)
		start := f.now.Add(72 * time.Hour)
		f.feed.set(calendar(vevent("1@x", "Spisevenner", "DTSTART:"+utcStamp(start))), `"v1"`)
		f.fetch(t, src)
		if s := f.source(t, src.ID); s.ETag == nil || *s.ETag != `"v1"` {
			t.Fatalf("etag not kept: %v", s.ETag)
		}
		before := f.snapshot(t)
		f.now = f.now.Add(2 * time.Hour)
		res := f.fetch(t, src)
		if !res.NotModified {
			t.Fatalf("second fetch: %+v, want not modified", res)
		}
		if got := f.feed.lastRequest().Get("If-None-Match"); got != `"v1"` {
			t.Errorf("If-None-Match = %q", got)
		}
		if after := f.snapshot(t); after != before {
			t.Errorf("304 changed the database")
		}
		s := f.source(t, src.ID)
		if s.ETag == nil || *s.ETag != `"v1"` || !s.LastSuccessAt.Equal(f.now) || !s.NextFetchAt.Equal(f.now.Add(time.Hour)) {
			t.Errorf("source after 304: %+v", s)
		}

		// A new version is fetched in full.
		f.feed.set(calendar(vevent("1@x", "Spisevenner i Kulturhuset AAB", "DTSTART:"+utcStamp(start))), `"v2"`)
		res = f.fetch(t, src)
		if res.NotModified || res.Updated != 1 {
			t.Fatalf("third fetch: %+v", res)
		}
		if got := f.imported(t, src.ID)["1@x"].Title; got != "Spisevenner i Kulturhuset AAB" {
			t.Errorf("title = %q", got)
		}
	})
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		failures int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, time.Minute},
		{2, 0, 2 * time.Minute},
		{3, 0, 4 * time.Minute},
		{11, 0, 1024 * time.Minute},
		{12, 0, 24 * time.Hour},
		{500, 0, 24 * time.Hour},
		{1, 0.5, 54 * time.Second},
		{500, 0.999999, 24*time.Hour - time.Duration(0.999999*float64(24*time.Hour)/5)},
	} {
		if got := Backoff(c.failures, c.jitter); got != c.want {
			t.Errorf("Backoff(%d, %v) = %s, want %s", c.failures, c.jitter, got, c.want)
		}
	}
}

// RunDue fetches what is due once, even when called again at once.
func TestRunDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.feed.set(calendar(vevent("1@x", "Spisevenner", "DTSTART:"+utcStamp(f.now.Add(time.Hour*50)))), "")
		a := f.addSource(t, "/a.ics", nil)
		f.now = f.now.Add(time.Second)
		b := f.addSource(t, "/b.ics", nil)
		n, err := f.svc.RunDue(ctx, a.NextFetchAt)
		if err != nil || n != 1 {
			t.Fatalf("RunDue = %d, %v; want only the first source", n, err)
		}
		if got := f.imported(t, a.ID); len(got) != 1 {
			t.Errorf("source a imported %d", len(got))
		}
		if got := f.imported(t, b.ID); len(got) != 0 {
			t.Errorf("source b imported %d before it was due", len(got))
		}
		n, err = f.svc.RunDue(ctx, b.NextFetchAt)
		if err != nil || n != 1 {
			t.Fatalf("second RunDue = %d, %v; want only b", n, err)
		}
		due, err := f.svc.DueSources(ctx, b.NextFetchAt.Add(time.Minute))
		if err != nil || len(due) != 0 {
			t.Errorf("due after both ran: %v, %v", due, err)
		}
		// Both sources hold the same UID; each keeps its own activity.
		var total int
		if err := store.Get(ctx, db, &total, `SELECT COUNT(*) FROM activities WHERE source_uid = '1@x'`); err != nil || total != 2 {
			t.Errorf("%d activities for the UID across two sources, want 2 (%v)", total, err)
		}
	})
}

func TestAddSourceRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		resident := user.Caller{UserID: f.admin.UserID, Verified: true}
		if _, err := f.svc.AddSource(ctx, resident, "https://ishoj.dk/kalender.ics", f.org, nil, nil); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident: %v, want forbidden", err)
		}
		if _, err := f.svc.Sources(ctx, resident); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("resident listing: %v, want forbidden", err)
		}
		strict := NewService(db, nil, f.svc.themes, f.events, Options{Logger: quiet, Now: f.svc.now})
		missing := int64(999)
		for _, c := range []struct {
			url    string
			org    int64
			place  *int64
			themes []string
			code   string
		}{
			{"ftp://ishoj.dk/kalender.ics", f.org, nil, nil, CodeURLInvalid},
			{"https://user:pw@ishoj.dk/kalender.ics", f.org, nil, nil, CodeURLInvalid},
			{"kalender.ics", f.org, nil, nil, CodeURLInvalid},
			{"http://localhost:8080/kalender.ics", f.org, nil, nil, CodeURLPrivate},
			{"http://10.0.0.7/kalender.ics", f.org, nil, nil, CodeURLPrivate},
			{"http://[::1]/kalender.ics", f.org, nil, nil, CodeURLPrivate},
			{"http://169.254.169.254/latest/meta-data", f.org, nil, nil, CodeURLPrivate},
			{"https://ishoj.dk/kalender.ics", missing, nil, nil, "ORGANISATION_NOT_FOUND"},
			{"https://ishoj.dk/kalender.ics", f.org, &missing, nil, "PLACE_NOT_FOUND"},
			{"https://ishoj.dk/kalender.ics", f.org, nil, []string{"fodbold"}, "UNKNOWN_THEME"},
		} {
			_, err := strict.AddSource(ctx, f.admin, c.url, c.org, c.place, c.themes)
			errs := apperr.UserErrors(err)
			if len(errs) != 1 || errs[0].Code != c.code {
				t.Errorf("%s: %v, want %s", c.url, err, c.code)
			}
		}
		src, err := strict.AddSource(ctx, f.admin, "webcal://Ishoj.DK/det-sker.ics", f.org, &f.place, []string{"kultur"})
		if err != nil {
			t.Fatal(err)
		}
		if src.URL != "https://ishoj.dk/det-sker.ics" || len(src.Themes) != 1 || src.NextFetchAt.After(f.now) {
			t.Errorf("source = %+v", src)
		}
		_, err = strict.AddSource(ctx, f.admin, "https://ishoj.dk/det-sker.ics", f.org, nil, nil)
		if errs := apperr.UserErrors(err); len(errs) != 1 || errs[0].Code != CodeSourceExists {
			t.Errorf("duplicate: %v", err)
		}
		all, err := f.svc.Sources(ctx, f.admin)
		if err != nil || len(all) != 1 || all[0].Themes[0] != "kultur" {
			t.Errorf("sources = %+v, %v", all, err)
		}

		// A name that resolves inside the network is refused when dialling.
		var id int64
		err = store.Get(ctx, db, &id, `INSERT INTO calendar_sources (url, organisation_id, created_at, failures, next_fetch_at)
			VALUES (?, ?, ?, 0, ?) RETURNING id`, f.srv.URL+"/x.ics", f.org, f.now, f.now)
		if err != nil {
			t.Fatal(err)
		}
		f.feed.set(calendar(), "")
		_, err = strict.Fetch(ctx, id)
		var fe *FetchError
		if !errors.As(err, &fe) || fe.Code != CodeUnreachable || !errors.Is(err, errPrivateAddress) {
			t.Errorf("fetch from 127.0.0.1: %v, want refused", err)
		}
	})
}

// Removing a source keeps what it imported, marked with the calendar's URL.
func TestRemoveSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src := f.addSource(t, "/det-sker.ics", nil, "kultur")
		f.feed.set(calendar(vevent("1@x", "Spisevenner", "DTSTART:"+utcStamp(f.now.Add(50*time.Hour)))), "")
		f.fetch(t, src)
		id := f.imported(t, src.ID)["1@x"].ID
		if err := f.svc.RemoveSource(ctx, f.admin, src.ID); err != nil {
			t.Fatal(err)
		}
		err := f.svc.RemoveSource(ctx, f.admin, src.ID)
		if errs := apperr.UserErrors(err); len(errs) != 1 || errs[0].Code != CodeSourceNotFound {
			t.Errorf("second removal: %v", err)
		}
		o, err := f.svc.OriginsByActivityIDs(ctx, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		if o[id].SourceID != nil || o[id].CalendarURL != src.URL {
			t.Errorf("origin after removal: %+v", o[id])
		}
		var status string
		if err := store.Get(ctx, db, &status, `SELECT status FROM activities WHERE id = ?`, id); err != nil || status != "PUBLISHED" {
			t.Errorf("activity after removal: %s, %v", status, err)
		}
	})
}

// An event that leaves the feed is cancelled with what hangs on it, by
// the same cancel hook as an organiser's cancellation (in the server,
// volunteer.CancelActivityClaims), inside the import's transaction.
func TestDroppedEventCancelsWhatHangsOnIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var hooked []int64
		f.svc.activities.SetCancelHook(func(ctx context.Context, tx *sqlx.Tx, activityID int64, now time.Time) ([]event.Event, error) {
			var status string
			if err := store.Get(ctx, tx, &status, `SELECT status FROM activities WHERE id = ?`, activityID); err != nil {
				return nil, err
			}
			if status != "CANCELLED" {
				t.Errorf("hook sees activity %d %s inside the transaction, want CANCELLED", activityID, status)
			}
			hooked = append(hooked, activityID)
			return []event.Event{{Kind: event.ClaimCancelled, ActivityID: activityID}}, nil
		})
		src := f.addSource(t, "/kalender.ics", nil)
		start := f.now.Add(72 * time.Hour).Truncate(time.Hour)
		f.feed.set(calendar(vevent("a@ishoj.dk", "Loppemarked", "DTSTART:"+utcStamp(start), "DURATION:PT2H")), "")
		f.fetch(t, src)
		id := f.imported(t, src.ID)["a@ishoj.dk"].ID

		f.events.Events = nil
		f.feed.set(calendar(), "")
		if res := f.fetch(t, src); res.Cancelled != 1 {
			t.Fatalf("second run: %+v", res)
		}
		if len(hooked) != 1 || hooked[0] != id {
			t.Errorf("cancel hook ran for %v, want [%d]", hooked, id)
		}
		evs := f.events.Snapshot()
		if countKind(evs, event.ClaimCancelled) != 1 || countKind(evs, event.ActivityCancelled) != 1 {
			t.Errorf("events after the import = %+v", evs)
		}
	})
}

// An event the calendar moves moves its volunteer slots with it, by the
// same move hook as an organiser's move (in the server,
// volunteer.MoveActivitySlots), inside the import's transaction; a change
// that keeps the time moves nothing.
func TestMovedEventMovesWhatHangsOnIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		type move struct {
			id     int64
			offset time.Duration
		}
		var moves []move
		f.svc.activities.SetMoveHook(func(ctx context.Context, tx *sqlx.Tx, activityID int64, offset time.Duration, now time.Time) ([]event.Event, error) {
			moves = append(moves, move{activityID, offset})
			return []event.Event{{Kind: event.SlotChanged, ActivityID: activityID}}, nil
		})
		src := f.addSource(t, "/kalender.ics", nil)
		start := f.now.Add(72 * time.Hour).Truncate(time.Hour)
		f.feed.set(calendar(vevent("a@ishoj.dk", "Loppemarked", "DTSTART:"+utcStamp(start), "DURATION:PT2H")), "")
		f.fetch(t, src)
		id := f.imported(t, src.ID)["a@ishoj.dk"].ID

		f.feed.set(calendar(vevent("a@ishoj.dk", "Loppemarked på havnen", "DTSTART:"+utcStamp(start), "DURATION:PT2H")), "")
		f.fetch(t, src)
		if len(moves) != 0 {
			t.Fatalf("a new title moved the slots: %+v", moves)
		}

		f.events.Events = nil
		f.feed.set(calendar(vevent("a@ishoj.dk", "Loppemarked på havnen", "DTSTART:"+utcStamp(start.Add(90*time.Minute)), "DURATION:PT2H")), "")
		f.fetch(t, src)
		if len(moves) != 1 || moves[0] != (move{id, 90 * time.Minute}) {
			t.Fatalf("move hook ran %+v, want once for %d by 1h30m", moves, id)
		}
		evs := f.events.Snapshot()
		if countKind(evs, event.SlotChanged) != 1 || countKind(evs, event.ActivityChanged) != 1 {
			t.Errorf("events after the move = %+v", evs)
		}
	})
}
