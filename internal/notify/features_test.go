package notify

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

func hasCode(err error, code string) bool {
	for _, e := range apperr.UserErrors(err) {
		if e.Code == code {
			return true
		}
	}
	return false
}

func TestQuietUntil(t *testing.T) {
	p := DefaultPreferences(1)
	cph := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, tz.Copenhagen).UTC()
	}
	tests := []struct {
		name     string
		now, out time.Time
	}{
		{"midday is not quiet", cph(2026, 6, 10, 12, 0), cph(2026, 6, 10, 12, 0)},
		{"late evening waits for the morning", cph(2026, 6, 10, 23, 15), cph(2026, 6, 11, 7, 0)},
		{"22:00 sharp is quiet", cph(2026, 6, 10, 22, 0), cph(2026, 6, 11, 7, 0)},
		{"early morning waits until 07:00", cph(2026, 6, 11, 5, 30), cph(2026, 6, 11, 7, 0)},
		{"07:00 is awake", cph(2026, 6, 11, 7, 0), cph(2026, 6, 11, 7, 0)},
		{"across the change to summer time", cph(2026, 3, 28, 23, 0), cph(2026, 3, 29, 7, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.QuietUntil(tt.now); !got.Equal(tt.out) {
				t.Errorf("QuietUntil(%s) = %s, want %s", tt.now.In(tz.Copenhagen), got.In(tz.Copenhagen), tt.out.In(tz.Copenhagen))
			}
		})
	}
	none := p
	none.QuietStart, none.QuietEnd = 0, 0
	if now := cph(2026, 6, 10, 23, 0); !none.QuietUntil(now).Equal(now) {
		t.Error("equal start and end should mean no quiet hours")
	}
}

// At 23:00 a new event waits until 07:00 as a push but is in the inbox at
// once; an urgent reminder goes now.
func TestQuietHoursDelayPushNotInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		night := time.Date(2026, 6, 10, 23, 0, 0, 0, tz.Copenhagen)
		s := newService(t, db, push.NewLog(nil), Config{Now: fixedClock(night.UTC())})
		u := f.user("da")
		ctx := context.Background()
		err := db.Transact(ctx, func(tx *sqlx.Tx) error {
			return s.Notify(ctx, tx,
				NewNotification{UserID: u, Kind: KindNewEvent, ActivityID: f.activity, Params: map[string]any{"Activity": "HavhyttenFri", "Organisation": "Røde Kors", "Time": "x"}},
				NewNotification{UserID: u, Kind: KindReminder2h, ActivityID: f.activity, Urgent: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		inbox, err := s.Notifications(ctx, user.Caller{UserID: u}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(inbox) != 2 {
			t.Fatalf("inbox has %d notifications, want 2 at once", len(inbox))
		}
		morning := time.Date(2026, 6, 11, 7, 0, 0, 0, tz.Copenhagen)
		for _, n := range inbox {
			want := night
			if n.Kind == KindNewEvent {
				want = morning
			}
			if !n.SendAfter.Equal(want) {
				t.Errorf("%s send_after %s, want %s", n.Kind, n.SendAfter.In(tz.Copenhagen), want)
			}
		}
		var scheduled []store.Time
		if err := store.Select(ctx, db, &scheduled, `SELECT scheduled_at FROM river_job WHERE kind = 'notify_deliver' ORDER BY scheduled_at`); err != nil {
			t.Fatal(err)
		}
		atMorning := 0
		for _, at := range scheduled {
			if at.Equal(morning) {
				atMorning++
			}
		}
		// The urgent one is scheduled at River's (real) now.
		if len(scheduled) != 2 || atMorning != 1 {
			t.Errorf("delivery jobs scheduled at %v, want one at %s", scheduled, morning.UTC())
		}
	})
}

// Switching announcements off keeps them out of the phone but in the inbox.
func TestPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		srv, sender := fakeFCM(t)
		s := newService(t, db, sender, Config{})
		ctx := context.Background()
		tokens := f.followersWithDevices(2)
		var users []int64
		if err := store.Select(ctx, db, &users, `SELECT user_id FROM devices ORDER BY token`); err != nil {
			t.Fatal(err)
		}
		p, err := s.Preferences(ctx, user.Caller{UserID: users[0]})
		if err != nil {
			t.Fatal(err)
		}
		if p != DefaultPreferences(users[0]) {
			t.Fatalf("preferences never set = %+v, want the defaults", p)
		}
		p.Announcements = false
		if _, err := s.UpdatePreferences(ctx, resident(users[0]), p); err != nil {
			t.Fatal(err)
		}
		bad := p
		bad.QuietEnd = 24 * 60
		if _, err := s.UpdatePreferences(ctx, resident(users[0]), bad); !hasCode(err, CodeInvalidQuietHours) {
			t.Errorf("quiet end 24:00: err = %v, want %s", err, CodeInvalidQuietHours)
		}
		if got, _ := s.Preferences(ctx, user.Caller{UserID: users[0]}); got.Announcements || !got.NewEvents {
			t.Fatalf("stored preferences %+v", got)
		}

		start(t, s)
		if _, err := s.SendAnnouncement(ctx, secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org}, "Hej", "Besked"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the wanted push", func() bool { return srv.Count(tokens[1]) == 1 })
		time.Sleep(100 * time.Millisecond)
		if n := srv.Count(tokens[0]); n != 0 {
			t.Errorf("the person who switched announcements off got %d pushes", n)
		}
		inbox, err := s.Notifications(ctx, user.Caller{UserID: users[0]}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(inbox) != 1 || inbox[0].Push {
			t.Errorf("inbox %+v, want the announcement without push", inbox)
		}
	})
}

func TestSendingLimitAndAudienceRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{AnnouncementsPerDay: 3})
		ctx := context.Background()
		org := organiser(f.user("da"), f.org)
		followers := Audience{Kind: AudienceFollowers, OrganisationID: f.org}
		for i := range 3 {
			if _, err := s.SendAnnouncement(ctx, org, followers, "Nyt "+strconv.Itoa(i), "Tekst"); err != nil {
				t.Fatalf("announcement %d: %v", i+1, err)
			}
		}
		if _, err := s.SendAnnouncement(ctx, org, followers, "Nr 4", "Tekst"); !hasCode(err, CodeSendingLimitReached) {
			t.Fatalf("fourth announcement: err = %v, want %s", err, CodeSendingLimitReached)
		}
		sec := secretariat(f.user("da"))
		for i := range 4 {
			if _, err := s.SendAnnouncement(ctx, sec, followers, "Kommunen "+strconv.Itoa(i), "Tekst"); err != nil {
				t.Fatalf("secretariat announcement %d: %v", i+1, err)
			}
		}

		slot := f.slot(f.activity, time.Now().Add(48*time.Hour))
		volunteer := f.user("en")
		f.claim(slot, volunteer, "CONFIRMED")

		tests := []struct {
			name   string
			caller user.Caller
			aud    Audience
			want   func(error) bool
		}{
			{"organiser of another organisation", organiser(f.user("da"), f.org+1000), followers, isErr(apperr.ErrForbidden)},
			{"resident", resident(f.user("da")), followers, isErr(apperr.ErrForbidden)},
			{"unverified organiser", user.Caller{UserID: f.user("da"), Organises: map[int64]bool{f.org: true}}, followers, code(apperr.CodeVerifiedAccountRequired)},
			{"signed out", user.Caller{}, followers, isErr(apperr.ErrUnauthenticated)},
			{"organiser town-wide", org, Audience{Kind: AudienceTown}, isErr(apperr.ErrForbidden)},
			{"followers without organisation", sec, Audience{Kind: AudienceFollowers}, code(CodeInvalidAudience)},
			{"unknown audience", sec, Audience{Kind: "EVERYONE"}, code(CodeInvalidAudience)},
			{"slot of a missing activity", sec, Audience{Kind: AudienceSlotVolunteers, SlotID: 999999}, code(apperr.CodeNotFound)},
		}
		for _, tt := range tests {
			_, err := s.SendAnnouncement(ctx, tt.caller, tt.aud, "Titel", "Tekst")
			if !tt.want(err) {
				t.Errorf("%s: err = %v", tt.name, err)
			}
		}

		// The secretariat may announce town-wide; the slot's volunteers
		// are reachable by the secretariat even past the organiser limit.
		a, err := s.SendAnnouncement(ctx, sec, Audience{Kind: AudienceSlotVolunteers, SlotID: slot}, "Vagt", "Husk handsker")
		if err != nil {
			t.Fatal(err)
		}
		if a.Recipients != 1 || a.ActivityID == nil || *a.ActivityID != f.activity {
			t.Errorf("slot announcement %+v, want 1 recipient on activity %d", a, f.activity)
		}
		if _, err := s.SendAnnouncement(ctx, sec, Audience{Kind: AudienceTown}, "Byen", "Alle"); err != nil {
			t.Errorf("town-wide by the secretariat: %v", err)
		}
		inbox, _ := s.Notifications(ctx, user.Caller{UserID: volunteer}, 0, 10)
		if len(inbox) != 2 || inbox[0].Title != "Byen" || inbox[1].Data()["slotId"] != gid.Encode("VolunteerSlot", slot) {
			t.Errorf("volunteer's inbox %+v", inbox)
		}
	})
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}
func code(c string) func(error) bool { return func(err error) bool { return hasCode(err, c) } }

func TestDevicesMoveBetweenPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{})
		ctx := context.Background()
		a, b := f.user("da"), f.user("en")
		if _, err := s.RegisterDevice(ctx, resident(a), "shared-phone", PlatformAndroid, "da-DK", "1.0.0"); err != nil {
			t.Fatal(err)
		}
		d, err := s.RegisterDevice(ctx, resident(b), "shared-phone", PlatformIOS, "en-GB", "1.1.0")
		if err != nil {
			t.Fatal(err)
		}
		if d.UserID != b || d.Platform != PlatformIOS || d.AppVersion != "1.1.0" {
			t.Errorf("re-registered device %+v", d)
		}
		if ds, _ := s.Devices(ctx, a); len(ds) != 0 {
			t.Errorf("the first person still has %d devices", len(ds))
		}
		if ds, _ := s.Devices(ctx, b); len(ds) != 1 {
			t.Errorf("the second person has %d devices, want 1", len(ds))
		}
		if removed, err := s.UnregisterDevice(ctx, resident(a), "shared-phone"); err != nil || removed {
			t.Errorf("someone else's token: removed=%v err=%v", removed, err)
		}
		if removed, err := s.UnregisterDevice(ctx, resident(b), "shared-phone"); err != nil || !removed {
			t.Errorf("own token: removed=%v err=%v", removed, err)
		}
		if _, err := s.RegisterDevice(ctx, resident(a), "t", "SYMBIAN", "", ""); !hasCode(err, CodeInvalidPlatform) {
			t.Errorf("bad platform: %v", err)
		}
		if _, err := s.RegisterDevice(ctx, user.Caller{}, "t", PlatformWeb, "", ""); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("signed out: %v", err)
		}
	})
}

// Following an organisation, place or theme brings a NEW_EVENT when a
// matching activity is published, once per person, in their language.
func TestFollowThenActivityPublished(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{})
		ctx := context.Background()
		byOrg, byPlace, byTheme, both, nobody := f.user("da"), f.user("en"), f.user("da"), f.user("da"), f.user("da")
		follow := func(u int64, tg Target) {
			t.Helper()
			if err := s.Follow(ctx, resident(u), tg); err != nil {
				t.Fatal(err)
			}
		}
		follow(byOrg, Target{Kind: TargetOrganisation, OrganisationID: f.org})
		follow(byOrg, Target{Kind: TargetOrganisation, OrganisationID: f.org}) // twice is fine
		follow(byPlace, Target{Kind: TargetPlace, PlaceID: f.place})
		follow(byTheme, Target{Kind: TargetTheme, Theme: "havn"})
		follow(both, Target{Kind: TargetOrganisation, OrganisationID: f.org})
		follow(both, Target{Kind: TargetTheme, Theme: "havn"})
		follow(nobody, Target{Kind: TargetTheme, Theme: "sport"})
		if err := s.Follow(ctx, resident(nobody), Target{Kind: TargetPlace, PlaceID: 424242}); !hasCode(err, apperr.CodeNotFound) {
			t.Errorf("follow a missing place: %v", err)
		}
		if err := s.Follow(ctx, resident(nobody), Target{Kind: TargetPlace, OrganisationID: 1}); !hasCode(err, CodeInvalidFollowTarget) {
			t.Errorf("follow a muddled target: %v", err)
		}
		if fs, _ := s.Follows(ctx, user.Caller{UserID: both}); len(fs) != 2 || fs[1].Theme != "havn" {
			t.Errorf("follows %+v", fs)
		}

		if err := s.HandleEvent(ctx, event.Event{Kind: event.ActivityPublished, ActivityID: f.activity, OrganisationID: f.org}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []int64{byOrg, byPlace, byTheme, both} {
			inbox, err := s.Notifications(ctx, user.Caller{UserID: u}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(inbox) != 1 || inbox[0].Kind != KindNewEvent || inbox[0].Link() != "voresishoj://activity/"+gid.Encode("Activity", f.activity) {
				t.Fatalf("user %d inbox %+v, want one NEW_EVENT", u, inbox)
			}
			wantTitle := i18n.Text("da", "push.NEW_EVENT.title", map[string]any{"Organisation": "Ældre i bevægelse"})
			if u == byPlace {
				wantTitle = "New from Ældre i bevægelse"
			}
			if inbox[0].Title != wantTitle {
				t.Errorf("user %d title %q, want %q", u, inbox[0].Title, wantTitle)
			}
		}
		if inbox, _ := s.Notifications(ctx, user.Caller{UserID: nobody}, 0, 10); len(inbox) != 0 {
			t.Errorf("someone following another theme got %+v", inbox)
		}
		if ok, err := s.Unfollow(ctx, resident(byOrg), Target{Kind: TargetOrganisation, OrganisationID: f.org}); err != nil || !ok {
			t.Errorf("unfollow: %v %v", ok, err)
		}
		if n, err := s.MarkRead(ctx, resident(both), nil, true); err != nil || n != 1 {
			t.Errorf("mark all read: %d %v", n, err)
		}
		if n, _ := s.UnreadCount(ctx, user.Caller{UserID: both}); n != 0 {
			t.Errorf("unread after marking all read: %d", n)
		}
	})
}

// Reminders are created 24 h and 2 h ahead, once each, with the claim id
// the app needs to give the shift back.
func TestReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{})
		ctx := context.Background()
		now := s.now()
		vol := f.user("da")
		soon := f.claim(f.slot(f.activity, now.Add(90*time.Minute)), vol, "CONFIRMED")
		tomorrow := f.claim(f.slot(f.activity, now.Add(20*time.Hour)), vol, "CONFIRMED")
		f.claim(f.slot(f.activity, now.Add(20*time.Hour)), vol, "WAITLISTED")
		f.claim(f.slot(f.activity, now.Add(72*time.Hour)), vol, "CONFIRMED")

		n, err := s.CreateReminders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("created %d reminders, want 2", n)
		}
		if n, err := s.CreateReminders(ctx); err != nil || n != 0 {
			t.Fatalf("second run created %d reminders (err %v), want 0", n, err)
		}
		inbox, _ := s.Notifications(ctx, user.Caller{UserID: vol}, 0, 10)
		got := map[Kind]string{}
		for _, n := range inbox {
			got[n.Kind] = n.Data()["claimId"]
		}
		if got[KindReminder2h] != gid.Encode("SlotClaim", soon) || got[KindReminder24h] != gid.Encode("SlotClaim", tomorrow) {
			t.Errorf("reminders %v, want 2H for claim %d and 24H for claim %d", got, soon, tomorrow)
		}
	})
}

// Every kind builds a push with the contract's data keys, an Android
// channel, a TTL and texts in Danish and English.
func TestMessageContract(t *testing.T) {
	now := time.Date(2026, 6, 10, 10, 0, 0, 0, time.UTC)
	for _, k := range Kinds {
		nn := NewNotification{UserID: 1, Kind: k, ActivityID: 7, SlotID: 8, ClaimID: 9}
		n := Notification{ID: 42, Kind: k, Title: "t", Body: "b", DataJSON: nn.dataJSON(), DeepLink: nn.deepLink(), CollapseKey: nn.collapseKey()}
		m := Message(n, "tok", now)
		for _, key := range []string{"type", "deepLink", "notificationId", "activityId", "slotId", "claimId"} {
			if m.Data[key] == "" {
				t.Errorf("%s: data key %q missing", k, key)
			}
		}
		if m.Data["notificationId"] != gid.Encode("Notification", 42) || m.Data["type"] != string(k) || m.ChannelID == "" || m.CollapseKey == "" || m.TTL <= 0 {
			t.Errorf("%s: message %+v", k, m)
		}
		for _, lang := range []string{"da", "en"} {
			for _, part := range []string{"title", "body"} {
				id := "push." + string(k) + "." + part
				if i18n.Text(lang, id, map[string]any{}) == id {
					t.Errorf("%s has no %s text", id, lang)
				}
			}
		}
	}
	exp := now.Add(30 * time.Minute)
	m := Message(Notification{ID: 1, Kind: KindReminder2h, ExpiresAt: &exp}, "tok", now)
	if m.TTL != 30*time.Minute || m.Priority != push.PriorityHigh || m.ChannelID != ChannelReminders {
		t.Errorf("2h reminder 30 min before the shift: %+v", m)
	}
}

// A promotion tells the volunteer (urgent when the shift is near); a late
// cancellation tells the organisers; a cancelled activity tells its
// volunteers and organisers.
func TestClaimAndActivityEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{})
		ctx := context.Background()
		vol, org := f.user("en"), f.user("da")
		f.exec(`INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, f.org, org, time.Now().UTC())
		slot := f.slot(f.activity, s.now().Add(3*time.Hour))
		claim := f.claim(slot, vol, "CONFIRMED")

		events := []event.Event{
			{Kind: event.ClaimPromoted, ClaimID: claim, SlotID: slot, UserID: vol},
			{Kind: event.ClaimCancelled, ClaimID: claim, SlotID: slot, UserID: vol, Late: true},
			{Kind: event.ClaimCancelled, ClaimID: claim, SlotID: slot, UserID: vol}, // in time: nobody told
			{Kind: event.ActivityCancelled, ActivityID: f.activity},
		}
		for _, e := range events {
			if err := s.HandleEvent(ctx, e); err != nil {
				t.Fatalf("%s: %v", e.Kind, err)
			}
		}
		kinds := func(u int64) []Kind {
			inbox, err := s.Notifications(ctx, user.Caller{UserID: u}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ks []Kind
			for _, n := range inbox {
				ks = append(ks, n.Kind)
				if n.Kind == KindWaitlistPromoted && (!n.Urgent || n.Data()["claimId"] != gid.Encode("SlotClaim", claim)) {
					t.Errorf("promotion 3 hours ahead: %+v", n)
				}
			}
			return ks
		}
		if got := kinds(vol); len(got) != 2 || got[0] != KindActivityCancelled || got[1] != KindWaitlistPromoted {
			t.Errorf("volunteer got %v", got)
		}
		// The cancellation had no actor here, so every organiser hears of it.
		if got := kinds(org); len(got) != 2 || got[0] != KindActivityCancelled || got[1] != KindLateCancellation {
			t.Errorf("organiser got %v", got)
		}
	})
}

// A text about a person without a display name (an account from before
// names were asked for) names them with the neutral stand-in in each
// reader's language, never with an empty string.
func TestTextsNeverShowAnEmptyName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := newService(t, db, push.NewLog(nil), Config{})
		ctx := context.Background()
		vol, orgDa, orgEn := f.user("da"), f.user("da"), f.user("en")
		f.exec(`UPDATE users SET display_name = '' WHERE id = ?`, vol)
		for _, o := range []int64{orgDa, orgEn} {
			f.exec(`INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, f.org, o, time.Now().UTC())
		}
		slot := f.slot(f.activity, s.now().Add(3*time.Hour))
		claim := f.claim(slot, vol, "CONFIRMED")
		if err := s.HandleEvent(ctx, event.Event{Kind: event.ClaimCancelled, ClaimID: claim, SlotID: slot, UserID: vol, Late: true}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			to   int64
			want string
		}{{orgDa, "En frivillig har meldt afbud til "}, {orgEn, "A volunteer has cancelled "}} {
			inbox, err := s.Notifications(ctx, user.Caller{UserID: c.to}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(inbox) != 1 || inbox[0].Kind != KindLateCancellation || !strings.HasPrefix(inbox[0].Body, c.want) {
				t.Errorf("late cancellation to %d: %+v, want a body starting %q", c.to, inbox, c.want)
			}
		}
	})

	// The parameters shared by every recipient are left as they are.
	params := map[string]any{"Person": "", "Initiative": "Loppemarked"}
	if got := withShownNames("en", params); got["Person"] != "A volunteer" || params["Person"] != "" {
		t.Errorf("withShownNames: %v, shared %v", got, params)
	}
	if named := map[string]any{"Volunteer": "Bo"}; withShownNames("da", named)["Volunteer"] != "Bo" {
		t.Error("a name was replaced")
	}
}
