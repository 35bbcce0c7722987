package notify

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// Each push carries the https page of its deep link (web push's
// fcm_options.link), under PUBLIC_URL, through the real Admin SDK to the
// fake FCM: an activity's page, a story's, and the app page for what has
// no page of its own.
func TestPushCarriesWebLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(3)
		srv, sender := fakeFCM(t)
		const public = "https://voresishoj.example"
		s := newService(t, db, sender, Config{PublicURL: public})
		start(t, s)

		var users []int64
		if err := store.Select(context.Background(), db, &users, `SELECT user_id FROM devices ORDER BY token`); err != nil {
			t.Fatal(err)
		}
		story := f.insert(`INSERT INTO stories (author_name, title, body, status, created_at, updated_at) VALUES ('', 'Havnen', 'Tekst', 'PUBLISHED', ?, ?) RETURNING id`,
			time.Now().UTC(), time.Now().UTC())
		l := weblink.New(public)
		want := map[string]string{
			tokens[0]: l.Activity(f.activity),
			tokens[1]: l.Story(story),
			tokens[2]: l.URL(weblink.App),
		}
		err := db.Transact(context.Background(), func(tx *sqlx.Tx) error {
			return s.Notify(context.Background(), tx,
				NewNotification{UserID: users[0], Kind: KindActivityChanged, ActivityID: f.activity,
					Params: map[string]any{"Activity": "Havnefest"}},
				NewNotification{UserID: users[1], Kind: KindStoryPublished, StoryID: story, Params: map[string]any{"Story": "Havnen"}},
				NewNotification{UserID: users[2], Kind: KindOrganiserInvitation, Params: map[string]any{"Organisation": "Ældre i bevægelse"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "three pushes", func() bool { return len(srv.Delivered()) == 3 })
		for _, r := range srv.Requests() {
			w := r.Message.Webpush
			if w == nil || w.FCMOptions == nil || w.FCMOptions.Link != want[r.Token] {
				t.Errorf("push to %s: webpush %+v, want link %s", r.Token, w, want[r.Token])
			}
		}
	})
}
