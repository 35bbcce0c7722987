package notify

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// An announcement sent again with the same idempotency key (a client that
// timed out and retried, or two taps at once) is sent once: one
// announcement, one inbox entry and one push per device. The same key
// for another message is refused.
func TestAnnouncementWithSameKeySentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(40)
		srv, sender := fakeFCM(t)
		s := newService(t, db, sender, Config{})
		start(t, s)
		ctx := context.Background()
		sec := secretariat(f.user("da"))
		in := NewAnnouncement{Audience: Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			Title: "Vandet er afbrudt", Body: "Til kl. 16.", IdempotencyKey: "send-7f3a"}

		// Two at once, then a retry after both answered.
		var wg sync.WaitGroup
		got := make([]Announcement, 3)
		errs := make([]error, 3)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.Announce(ctx, sec, in)
			}()
		}
		wg.Wait()
		got[2], errs[2] = s.Announce(ctx, sec, in)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("send %d: %v", i+1, err)
			}
			if got[i].ID != got[0].ID || got[i].Recipients != 40 {
				t.Errorf("send %d returned announcement %d to %d, want %d to 40", i+1, got[i].ID, got[i].Recipients, got[0].ID)
			}
		}
		other := in
		other.Body = "Til kl. 18."
		if _, err := s.Announce(ctx, sec, other); !hasCode(err, CodeIdempotencyKeyReused) {
			t.Errorf("the same key for another text: err = %v, want %s", err, CodeIdempotencyKeyReused)
		}
		// Another sender's key is theirs.
		if _, err := s.Announce(ctx, secretariat(f.user("da")), in); err != nil {
			t.Errorf("another sender with the same key: %v", err)
		}

		waitFor(t, 30*time.Second, "all deliveries settled", func() bool { return settled(t, db, 2*len(tokens)) })
		var anns, entries int
		if err := store.Get(ctx, db, &anns, `SELECT COUNT(*) FROM announcements WHERE sender_id = ?`, sec.UserID); err != nil {
			t.Fatal(err)
		}
		if err := store.Get(ctx, db, &entries, `SELECT COUNT(*) FROM notifications WHERE announcement_id = ?`, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if anns != 1 || entries != 40 {
			t.Errorf("%d announcements with %d inbox entries, want 1 with 40", anns, entries)
		}
		for _, tok := range tokens {
			// Once for the first sender's announcement, once for the second's.
			if n := srv.Count(tok); n != 2 {
				t.Errorf("device %s got %d pushes, want 2 (one per sender)", tok, n)
			}
		}
		if _, err := s.Announce(ctx, sec, NewAnnouncement{Audience: in.Audience, Title: "T", Body: "B",
			IdempotencyKey: string(make([]byte, MaxIdempotencyKey+1))}); !hasCode(err, "TOO_LONG") {
			t.Errorf("a key of %d bytes: err = %v, want TOO_LONG", MaxIdempotencyKey+1, err)
		}
	})
}

// A town-wide announcement returns at once with its audience size and the
// first chunk of inbox entries; the fan-out job makes the rest, each
// resident one, and the secretariat sees how far it got.
func TestTownWideAnnouncementFansOutInChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 5000
		tokens := f.bulkFollowers(n)
		srv, sender := fakeFCM(t)
		s := newService(t, db, sender, Config{})
		ctx := context.Background()
		sec := secretariat(f.user("da"))
		org := organiser(f.user("da"), f.org)
		var residents int
		if err := store.Get(ctx, db, &residents, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`); err != nil {
			t.Fatal(err)
		}

		a, err := s.Announce(ctx, sec, NewAnnouncement{Audience: Audience{Kind: AudienceTown}, Title: "Byfest", Body: "Lørdag på torvet."})
		if err != nil {
			t.Fatal(err)
		}
		if a.Recipients != residents || a.FannedOutAt != nil {
			t.Fatalf("announcement to %d (fanned out at %v), want %d residents and a fan-out under way", a.Recipients, a.FannedOutAt, residents)
		}
		counts := func() DeliveryCounts {
			t.Helper()
			m, err := s.AnnouncementDeliveries(ctx, sec, []int64{a.ID})
			if err != nil {
				t.Fatal(err)
			}
			return m[a.ID]
		}
		if dc := counts(); dc.Notified != announceFirstChunk || dc.Complete {
			t.Errorf("before the job: %+v, want the first %d inbox entries", dc, announceFirstChunk)
		}
		if m, err := s.AnnouncementDeliveries(ctx, org, []int64{a.ID}); err != nil || m != nil {
			t.Errorf("an organiser sees delivery counts %v (%v), want none", m, err)
		}

		start(t, s)
		waitFor(t, 60*time.Second, "every device reached", func() bool { return len(srv.Delivered()) == n && settled(t, db, n) })
		var doubled int
		if err := store.Get(ctx, db, &doubled, `SELECT COUNT(*) FROM (SELECT user_id FROM notifications
			WHERE announcement_id = ? GROUP BY user_id HAVING COUNT(*) > 1) x`, a.ID); err != nil {
			t.Fatal(err)
		}
		if doubled != 0 {
			t.Errorf("%d residents got two inbox entries", doubled)
		}
		dc := counts()
		if dc.Notified != residents || !dc.Complete || dc.Sent != n || dc.Pending != 0 || dc.Failed != 0 {
			t.Errorf("after the fan-out: %+v, want %d notified, complete, %d sent", dc, residents, n)
		}
		for _, tok := range tokens {
			if c := srv.Count(tok); c != 1 {
				t.Fatalf("device %s got %d pushes, want 1", tok, c)
			}
		}
	})
}
