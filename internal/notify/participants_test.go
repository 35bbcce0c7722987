package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func hasUserCode(err error, code string) bool {
	for _, ue := range apperr.UserErrors(err) {
		if ue.Code == code {
			return true
		}
	}
	return false
}

// An announcement to PARTICIPANTS reaches the guests GOING and WAITLISTED
// of the activity (of one occurrence when it names one, of every
// occurrence that has not ended otherwise), each with one inbox entry
// and one push; nobody INTERESTED, cancelled, at a past date or on
// another activity, and no resident without the app, who has no device.
// Only the activity's organisers and the secretariat may send it.
func TestParticipantsAnnouncement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		guests := participation.NewService(db, w.bus, w.notifier, participation.Config{Now: w.now})
		_, mette := w.organiser("mette")
		w.follower("follower")
		start := w.now().Add(72 * time.Hour).Truncate(time.Hour)
		act := w.activity(mette, "Spisevenner", start)
		next := start.Add(7 * 24 * time.Hour)
		past := w.now().Add(-7 * 24 * time.Hour).Truncate(time.Hour)
		w.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?), (?, ?, ?)`,
			act.ID, next, next.Add(3*time.Hour), act.ID, past, past.Add(3*time.Hour))
		other := w.activity(mette, "Loppemarked", start)
		seats := 2
		if _, err := guests.Configure(ctx, mette, act.ID, participation.SettingsInput{Mode: participation.SeatLimited,
			Seats: &seats, MaxPartySize: 6}); err != nil {
			t.Fatal(err)
		}
		keys := 0
		say := func(name string, activityID int64, at time.Time, status string, guestsN int) participation.Participation {
			t.Helper()
			id := w.person(name)
			keys++
			p, err := guests.Participate(ctx, resident(id), participation.Input{ActivityID: activityID, OccurrenceStartsAt: &at,
				Status: status, Guests: guestsN, IdempotencyKey: "tap-" + name})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return p
		}
		say("going", act.ID, start, participation.Going, 1) // both seats
		if p := say("waiting", act.ID, start, participation.Going, 0); p.Status != participation.Waitlisted {
			t.Fatalf("waiting is %s, want WAITLISTED", p.Status)
		}
		say("maybe", act.ID, start, participation.Interested, 0)
		gave := say("gave-up", act.ID, start, participation.Going, 0)
		id := gave.UserID
		if _, err := guests.Cancel(ctx, resident(id), gave.ID); err != nil {
			t.Fatal(err)
		}
		say("next-week", act.ID, next, participation.Going, 0)
		say("elsewhere", other.ID, start, participation.Going, 0)
		// Came last week: a past date is not "the participants" any more.
		lastWeek := w.person("last-week")
		w.exec(`INSERT INTO participations (activity_id, occurrence_starts_at, user_id, status, party_size, created_at, updated_at)
			VALUES (?, ?, ?, 'GOING', 1, ?, ?)`, act.ID, past, lastWeek, past, past)
		// Signed up by the organiser by phone: no app, no device.
		if _, err := guests.SignUpOnBehalf(ctx, mette, act.ID, &next, "Karen", "20304050", 1); err != nil {
			t.Fatal(err)
		}
		w.settle()

		send := func(c user.Caller, occ time.Time, title string) (notify.Announcement, error) {
			return w.notifier.Announce(ctx, c, notify.NewAnnouncement{
				Audience: notify.Audience{Kind: notify.AudienceParticipants, ActivityID: act.ID, OccurrenceStartsAt: occ},
				Title:    title, Body: "Vi spiser i den store sal."})
		}
		a, err := send(mette, time.Time{}, "Ny sal")
		if err != nil {
			t.Fatal(err)
		}
		if a.Recipients != 3 || a.Audience != notify.AudienceParticipants {
			t.Errorf("sent to %d (%s), want 3 PARTICIPANTS", a.Recipients, a.Audience)
		}
		w.expect("every upcoming date", notify.KindAnnouncement, "going", "waiting", "next-week")

		a, err = send(mette, start, "I morgen")
		if err != nil {
			t.Fatal(err)
		}
		if a.Recipients != 2 || a.OccurrenceStartsAt == nil || !a.OccurrenceStartsAt.Equal(start) {
			t.Errorf("sent to %d for %v, want 2 for %s", a.Recipients, a.OccurrenceStartsAt, start)
		}
		w.expect("one date", notify.KindAnnouncement, "going", "waiting")

		// One past date may still be told ("thank you for coming").
		sec := user.Caller{UserID: w.person("sekretariat"), Verified: true, Named: true, Secretariat: true}
		if a, err = send(sec, past, "Tak"); err != nil || a.Recipients != 1 {
			t.Fatalf("the secretariat to last week's guests: %+v, %v", a, err)
		}
		w.expect("a past date", notify.KindAnnouncement, "last-week")

		// Refused: a stranger, an organiser of another organisation, a
		// date the activity does not have, a slot or an occurrence where
		// they do not belong.
		stranger := resident(w.person("stranger"))
		if _, err := send(stranger, time.Time{}, "Hej"); err == nil {
			t.Error("a stranger sent to the participants")
		}
		elsewhere := user.Caller{UserID: w.person("other-org"), Verified: true, Named: true, Organises: map[int64]bool{w.org + 999: true}}
		if _, err := send(elsewhere, time.Time{}, "Hej"); err == nil {
			t.Error("another organisation's organiser sent to the participants")
		}
		if _, err := send(mette, start.Add(time.Hour), "Hej"); !hasUserCode(err, notify.CodeOccurrenceNotFound) {
			t.Errorf("a date without an occurrence: %v, want %s", err, notify.CodeOccurrenceNotFound)
		}
		for what, aud := range map[string]notify.Audience{
			"no activity":           {Kind: notify.AudienceParticipants},
			"a slot":                {Kind: notify.AudienceParticipants, ActivityID: act.ID, SlotID: 1},
			"followers on one date": {Kind: notify.AudienceFollowers, OrganisationID: w.org, OccurrenceStartsAt: start},
			"volunteers on a date":  {Kind: notify.AudienceActivityVolunteers, ActivityID: act.ID, OccurrenceStartsAt: start},
		} {
			if _, err := w.notifier.Announce(ctx, mette, notify.NewAnnouncement{Audience: aud, Title: "x", Body: "y"}); !hasUserCode(err, notify.CodeInvalidAudience) {
				t.Errorf("%s: %v, want %s", what, err, notify.CodeInvalidAudience)
			}
		}
		if _, err := w.notifier.Announce(ctx, mette, notify.NewAnnouncement{Audience: notify.Audience{Kind: notify.AudienceParticipants,
			ActivityID: act.ID + 999}, Title: "x", Body: "y"}); err == nil {
			t.Error("an activity that does not exist was accepted")
		}
		w.expect("refusals", notify.KindAnnouncement)

		// A retry with the same key and date returns the first; another
		// date under the same key is refused.
		in := notify.NewAnnouncement{Audience: notify.Audience{Kind: notify.AudienceParticipants, ActivityID: act.ID, OccurrenceStartsAt: next},
			Title: "Husk", Body: "Tag en tallerken med.", IdempotencyKey: "k-1"}
		first, err := w.notifier.Announce(ctx, sec, in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := w.notifier.Announce(ctx, sec, in)
		if err != nil || again.ID != first.ID {
			t.Errorf("retry: %d, %v, want %d", again.ID, err, first.ID)
		}
		in.Audience.OccurrenceStartsAt = start
		if _, err := w.notifier.Announce(ctx, sec, in); !hasUserCode(err, notify.CodeIdempotencyKeyReused) {
			t.Errorf("same key, other date: %v", err)
		}
		w.expect("next week, once", notify.KindAnnouncement, "next-week")
		var stored int
		if err := store.Get(ctx, db, &stored, `SELECT COUNT(*) FROM announcements WHERE audience = 'PARTICIPANTS'`); err != nil || stored != 4 {
			t.Errorf("%d PARTICIPANTS announcements stored (%v), want 4", stored, err)
		}
	})
}
