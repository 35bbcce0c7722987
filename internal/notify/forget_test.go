package notify

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// A person whose account is deleted gets no push on their former phone:
// not the one already queued when they deleted it, nor any later, through
// the real Admin SDK to the fake FCM; the others get theirs.
func TestForgottenPersonGetsNoPush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		tokens := f.followersWithDevices(3)
		srv, sender := fakeFCM(t)
		s := newService(t, db, sender, Config{})
		sec := f.user("da")
		var gone int64
		if err := store.Get(ctx, db, &gone, `SELECT user_id FROM devices WHERE token = ?`, tokens[0]); err != nil {
			t.Fatal(err)
		}

		// Queued while the workers are not running, then the account goes.
		if _, err := s.SendAnnouncement(ctx, secretariat(sec), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Sommerfest", "Kom til sommerfest i Strandparken lørdag."); err != nil {
			t.Fatal(err)
		}
		if err := db.Transact(ctx, func(tx *sqlx.Tx) error { return ForgetPersonTx(ctx, tx, gone) }); err != nil {
			t.Fatal(err)
		}
		start(t, s)
		waitFor(t, 30*time.Second, "the queued push settled", func() bool { return settled(t, db, 2) })

		if _, err := s.SendAnnouncement(ctx, secretariat(sec), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Loppemarked", "Loppemarked ved Kulturhuset søndag."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the later push settled", func() bool { return settled(t, db, 4) })
		time.Sleep(200 * time.Millisecond)
		if n := srv.Attempts(tokens[0]); n != 0 {
			t.Errorf("the deleted person's phone was sent %d pushes", n)
		}
		for _, tok := range tokens[1:] {
			if n := srv.Count(tok); n != 2 {
				t.Errorf("%s received %d pushes, want 2", tok, n)
			}
		}
		for _, table := range []string{"devices", "follows", "notifications", "notification_preferences"} {
			var n int
			store.Get(ctx, db, &n, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, gone)
			if n != 0 {
				t.Errorf("%d rows of %s left for the deleted person", n, table)
			}
		}
		var copies int
		store.Get(ctx, db, &copies, `SELECT COUNT(*) FROM deliveries WHERE token = ?`, tokens[0])
		if copies != 0 {
			t.Errorf("%d deliveries keep a copy of the deleted person's device token", copies)
		}
	})
}
