package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// crashFanOut is the size of the fan-out a worker is killed in.
const crashFanOut = 20000

// A worker killed in the middle of a fan-out to 20,000 devices (no
// cleanup: its database and its connections to FCM are gone at once, the
// batch it had at FCM is never recorded) is replaced by a fresh one:
// every device receives the push at least once, every repeat carries the
// same collapse identity on every platform, and all is done within 60 s
// of the restart.
func TestWorkerKilledMidFanOutEveryDeviceReached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.bulkFollowers(crashFanOut)
		srv, sender := fakeFCM(t)
		srv.DiscardRequests()
		cfg := Config{Lease: 5 * time.Second}

		victimDB := storetest.Reopen(t, db)
		kill := &killSwitch{base: srv.Client().Transport, dead: make(chan struct{}), released: make(chan struct{})}
		victimSender, err := push.NewFCM(context.Background(), "vores-ishoj-test", push.FCMOptions{Endpoint: srv.URL(),
			HTTPClient: &http.Client{Transport: kill}})
		if err != nil {
			t.Fatal(err)
		}
		victim := newService(t, victimDB, victimSender, cfg)
		if err := victim.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			close(kill.released)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = victim.river.StopAndCancel(ctx)
		})

		if _, err := victim.SendAnnouncement(context.Background(), secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Vandet er afbrudt", "Vandet er afbrudt i Ishøj Landsby til kl. 16."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "a third of the fan-out", func() bool { return srv.Stats().Accepted >= crashFanOut/3 })
		kill.kill(victimDB)
		atKill := srv.Stats().Accepted
		if atKill >= crashFanOut {
			t.Fatalf("all %d devices were sent before the kill; the test proves nothing", atKill)
		}
		c := statusCounts(t, db)
		t.Logf("killed with %d of %d devices accepted by FCM; deliveries %v", atKill, crashFanOut, c)
		if c[statusSending] == 0 {
			t.Errorf("no delivery was SENDING at the kill; the test does not cut off a batch")
		}

		restart := time.Now()
		second := newService(t, db, sender, cfg)
		start(t, second)
		waitFor(t, slowdown*90*time.Second, "every device reached and every delivery settled", func() bool {
			return len(srv.Delivered()) == crashFanOut && settled(t, db, crashFanOut)
		})
		took := time.Since(restart)
		t.Logf("all devices reached %.1fs after the restart", took.Seconds())
		if took > slowdown*60*time.Second {
			t.Errorf("the fan-out finished %s after the restart, want within %ds", took, slowdown*60)
		}

		var twice int
		for _, tok := range tokens {
			cs := srv.Collapses(tok)
			if len(cs) == 0 {
				t.Fatalf("device %s never received the push", tok)
			}
			if len(cs) > 1 {
				twice++
			}
			for _, c := range cs {
				if c.One() == "" || c.One() != cs[0].One() {
					t.Fatalf("device %s got pushes with collapse identities %+v, want one and the same on every platform", tok, cs)
				}
			}
		}
		t.Logf("%d devices received the push twice, each time with the same collapse identity", twice)
		if c := statusCounts(t, db); c[statusSent] != crashFanOut {
			t.Errorf("deliveries by status %v, want %d SENT", c, crashFanOut)
		}
	})
}

// killSwitch carries a worker's requests to FCM until kill; from then on
// nothing it sends leaves, and nothing FCM answered comes back, as when
// its process dies: FCM may have accepted messages the worker never hears
// of.
type killSwitch struct {
	base     http.RoundTripper
	dead     chan struct{}
	released chan struct{} // closed when the test ends, to let the goroutines go
	once     sync.Once
}

func (k *killSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-k.dead:
		<-k.released
		return nil, errors.New("killed")
	default:
	}
	resp, err := k.base.RoundTrip(r)
	select {
	case <-k.dead:
		if resp != nil {
			resp.Body.Close()
		}
		<-k.released
		return nil, errors.New("killed")
	default:
	}
	return resp, err
}

// kill cuts the worker off from FCM and from its database at once: what it
// would write next (outcomes, job states, its leadership) is never written.
func (k *killSwitch) kill(db *store.DB) {
	k.once.Do(func() {
		close(k.dead)
		db.Close()
	})
}

// bulkFollowers makes n residents who follow the organisation, each with
// one device (Android, iOS and web in turn), and returns the tokens.
func (f *fixture) bulkFollowers(n int) []string {
	f.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	err := f.db.Transact(ctx, func(tx *sqlx.Tx) error {
		const per = 500
		for start := 0; start < n; start += per {
			rows := min(per, n-start)
			args := make([]any, 0, 4*rows)
			for i := range rows {
				args = append(args, fmt.Sprintf("Bulk %d", start+i), true, now, now)
			}
			q := `INSERT INTO users (display_name, email_verified, created_at, updated_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", rows), ", ")
			if _, err := store.Exec(ctx, tx, q, args...); err != nil {
				return err
			}
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO follows (user_id, kind, organisation_id, created_at)
			SELECT id, 'ORGANISATION', ?, ? FROM users WHERE display_name LIKE 'Bulk %'`, f.org, now); err != nil {
			return err
		}
		_, err := store.Exec(ctx, tx, `INSERT INTO devices (token, user_id, platform, created_at, last_seen_at)
			SELECT 'bulk-' || id, id, CASE id % 3 WHEN 0 THEN 'ANDROID' WHEN 1 THEN 'IOS' ELSE 'WEB' END, ?, ?
			FROM users WHERE display_name LIKE 'Bulk %'`, now, now)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	var tokens []string
	if err := store.Select(ctx, f.db, &tokens, `SELECT token FROM devices WHERE token LIKE 'bulk-%' ORDER BY id`); err != nil {
		f.t.Fatal(err)
	}
	if len(tokens) != n {
		f.t.Fatalf("%d devices made, want %d", len(tokens), n)
	}
	return tokens
}
