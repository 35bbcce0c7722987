package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

const fanOut = 1234

// An announcement to 1,234 followers goes through the real Admin SDK to
// the fake FCM and reaches every device exactly once, with two replicas
// sharing the jobs.
func TestFanOutDeliversEachDeviceOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(fanOut)
		srv, sender := fakeFCM(t)
		cfg := Config{BatchSize: 200}
		a := newService(t, db, sender, cfg)
		b := newService(t, db, sender, cfg)
		start(t, a)
		start(t, b)

		sec := f.user("da")
		if _, err := a.SendAnnouncement(context.Background(), secretariat(sec), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Sommerfest", "Kom til sommerfest i Strandparken lørdag."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "all deliveries settled", func() bool { return settled(t, db, fanOut) })

		for _, tok := range tokens {
			if n := srv.Count(tok); n != 1 {
				t.Fatalf("token %s received %d pushes, want 1 (%d tokens reached)", tok, n, len(srv.Delivered()))
			}
		}
		if c := statusCounts(t, db); c[statusSent] != fanOut {
			t.Fatalf("deliveries by status %v, want %d SENT", c, fanOut)
		}
		// Nothing more arrives later (a late retry would double).
		time.Sleep(200 * time.Millisecond)
		if got := len(srv.Delivered()); got != fanOut {
			t.Fatalf("%d tokens received pushes, want %d", got, fanOut)
		}
		req := srv.Requests()[0]
		if req.Message.Android == nil || req.Message.Android.Notification.ChannelID != ChannelAnnouncements {
			t.Errorf("android config %+v, want channel %q", req.Message.Android, ChannelAnnouncements)
		}
		if req.Message.Data["type"] != string(KindAnnouncement) || req.Message.Data["notificationId"] == "" {
			t.Errorf("data %v lacks type or notificationId", req.Message.Data)
		}
	})
}

// 429, 500 and 503 answers are retried until every device has its push,
// once; tokens FCM calls UNREGISTERED or invalid are deleted.
func TestFailuresRetriedAndDeadTokensRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(60)
		srv, sender := fakeFCM(t)
		dead := map[string]bool{tokens[3]: true, tokens[17]: true, tokens[42]: true}
		srv.FailToken(tokens[3], fcmtest.Unregistered)
		srv.FailToken(tokens[17], fcmtest.Unregistered)
		srv.FailToken(tokens[42], fcmtest.InvalidArgument)
		srv.FailNext(10, http.StatusTooManyRequests, time.Second)
		srv.FailNext(10, http.StatusInternalServerError, 0)
		srv.FailNext(2, http.StatusServiceUnavailable, 0)

		s := newService(t, db, sender, Config{})
		start(t, s)
		if _, err := s.SendAnnouncement(context.Background(), secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Husk", "Husk madpakken."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "all deliveries settled", func() bool { return settled(t, db, len(tokens)) })

		var retried int
		for _, tok := range tokens {
			want := 1
			if dead[tok] {
				want = 0
			}
			if n := srv.Count(tok); n != want {
				t.Errorf("token %s received %d pushes, want %d", tok, n, want)
			}
			if srv.Attempts(tok) > 1 {
				retried++
			}
		}
		if retried < 10 {
			t.Errorf("only %d tokens were retried; were the failures injected?", retried)
		}
		c := statusCounts(t, db)
		if c[statusSent] != len(tokens)-len(dead) || c[statusUnregistered] != len(dead) || c[statusFailed] != 0 {
			t.Errorf("deliveries by status %v", c)
		}
		var left int
		if err := store.Get(context.Background(), db, &left, `SELECT COUNT(*) FROM devices WHERE token IN (?, ?, ?)`,
			tokens[3], tokens[17], tokens[42]); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d dead tokens still registered", left)
		}
	})
}

// A worker stopped cleanly in the middle of a fan-out leaves the rest for
// the next one, which sends every device that was missed and none twice
// (a stop finishes the batch in flight). crash_test.go kills one instead.
func TestWorkerStoppedMidFanOutResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(fanOut)
		srv, sender := fakeFCM(t)
		srv.SetLatency(5 * time.Millisecond)
		// A job the stopped client could not record as retryable stays
		// "running" until the rescuer hands it on after the lease.
		cfg := Config{BatchSize: 100, Lease: 5 * time.Second}

		first := newService(t, db, sender, cfg)
		if err := first.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := first.SendAnnouncement(context.Background(), secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org},
			"Sommerfest", "Kom til sommerfest."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "half the fan-out", func() bool { return len(srv.Delivered()) >= fanOut/2 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := first.river.StopAndCancel(ctx); err != nil {
			t.Fatal(err)
		}
		atKill := len(srv.Delivered())
		if atKill >= fanOut {
			t.Fatalf("all %d devices were sent before the worker was stopped; the test proves nothing", atKill)
		}
		t.Logf("%d of %d devices sent when the worker was stopped", atKill, fanOut)

		var states []string
		if err := store.Select(ctx, db, &states, `SELECT state FROM river_job WHERE kind = 'notify_deliver' AND state <> 'completed'`); err != nil {
			t.Fatal(err)
		}
		t.Logf("unfinished delivery jobs after the stop: %v", states)
		for _, st := range states {
			if st == "running" {
				time.Sleep(cfg.Lease) // the rescuer's first tick on start must see it stuck
				break
			}
		}

		srv.SetLatency(0)
		second := newService(t, db, sender, cfg)
		start(t, second)
		waitFor(t, 40*time.Second, "the rest of the fan-out", func() bool { return settled(t, db, fanOut) })
		for _, tok := range tokens {
			if n := srv.Count(tok); n != 1 {
				t.Fatalf("token %s received %d pushes, want exactly 1", tok, n)
			}
		}
	})
}

// A delivery left SENDING by an attempt that died with the batch at FCM is
// sent again once its lease is over, with the same collapse identity as
// the first time; the rest of the notification goes out once.
func TestDeliveryOfDeadAttemptIsResent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(3)
		srv, sender := fakeFCM(t)
		s := newService(t, db, sender, Config{})
		ctx := context.Background()
		if _, err := s.SendAnnouncement(ctx, secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org}, "T", "B"); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		if err := store.Select(ctx, db, &ids, `SELECT id FROM notifications WHERE kind = 'ANNOUNCEMENT' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		now := s.now()
		if err := s.createDeliveries(ctx, ids, now); err != nil {
			t.Fatal(err)
		}
		f.exec(`UPDATE deliveries SET status = 'SENDING', claim = 'dead', claimed_at = ?, attempts = 1 WHERE token = ?`,
			now.Add(-s.cfg.Lease-time.Second), tokens[0])
		if err := s.deliver(ctx, 0, ids); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if n := srv.Count(tok); n != 1 {
				t.Errorf("device %s got %d pushes, want 1", tok, n)
			}
		}
		if c := statusCounts(t, db); c[statusSent] != 3 {
			t.Errorf("deliveries by status %v, want 3 SENT", c)
		}
		var attempts int
		if err := store.Get(ctx, db, &attempts, `SELECT attempts FROM deliveries WHERE token = ?`, tokens[0]); err != nil {
			t.Fatal(err)
		}
		if attempts != 2 {
			t.Errorf("the resent delivery counts %d attempts, want 2", attempts)
		}
		for _, r := range srv.Requests() {
			want := "n" + r.Message.Data["notificationId"]
			if r.Message.Android.CollapseKey != want || r.Message.Android.Notification.Tag != want ||
				r.Message.APNS.Headers["apns-collapse-id"] != want || r.Message.Webpush.Headers["Topic"] != want {
				t.Errorf("push to %s: collapse identity %q/%q/%q/%q, want %q everywhere", r.Token, r.Message.Android.CollapseKey,
					r.Message.Android.Notification.Tag, r.Message.APNS.Headers["apns-collapse-id"], r.Message.Webpush.Headers["Topic"], want)
			}
		}
	})
}

// scriptedSender answers each message with its token's outcome.
type scriptedSender struct {
	outcomes map[string]push.Result
}

func (s *scriptedSender) Send(_ context.Context, msgs []push.Message) ([]push.Result, error) {
	out := make([]push.Result, len(msgs))
	for i, m := range msgs {
		out[i] = s.outcomes[m.Token]
		out[i].Token = m.Token
	}
	return out, nil
}

// A message whose request was cut off before FCM answered may or may not
// have reached it: it is sent again like one FCM answered with a 503,
// since a repeat replaces the first on the phone.
func TestCutOffSendIsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(3)
		sender := &scriptedSender{outcomes: map[string]push.Result{
			tokens[0]: {Outcome: push.Delivered},
			tokens[1]: {Outcome: push.Retry, Err: fmt.Errorf("push: fcm: %w", context.DeadlineExceeded)},
			tokens[2]: {Outcome: push.Retry, Err: errors.New("push: fcm: 503")},
		}}
		s := newService(t, db, sender, Config{})
		ctx := context.Background()
		if _, err := s.SendAnnouncement(ctx, secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org}, "T", "B"); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		if err := store.Select(ctx, db, &ids, `SELECT id FROM notifications WHERE kind = 'ANNOUNCEMENT' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		var snooze *rivertype.JobSnoozeError
		if err := s.deliver(ctx, 0, ids); !errors.As(err, &snooze) {
			t.Fatalf("deliver returned %v, want a snooze for the retries", err)
		}
		if c := statusCounts(t, db); c[statusSent] != 1 || c[statusRetry] != 2 {
			t.Errorf("deliveries by status %v, want one SENT and two RETRY", c)
		}
	})
}

// Rows left SENDING by an attempt that died a moment ago keep the job
// coming back until their lease is over; they are not sent meanwhile
// (the attempt may be alive and slow), and are sent after.
func TestJobWaitsForLeaseOfDeadClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tokens := f.followersWithDevices(2)
		srv, sender := fakeFCM(t)
		now := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
		lease := 20 * time.Second
		s := newService(t, db, sender, Config{Now: fixedClock(now), Lease: lease})
		ctx := context.Background()
		if _, err := s.SendAnnouncement(ctx, secretariat(f.user("da")), Audience{Kind: AudienceFollowers, OrganisationID: f.org}, "T", "B"); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		if err := store.Select(ctx, db, &ids, `SELECT id FROM notifications WHERE kind = 'ANNOUNCEMENT' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if err := s.createDeliveries(ctx, ids, now); err != nil {
			t.Fatal(err)
		}
		f.exec(`UPDATE deliveries SET status = 'SENDING', claim = 'dead', claimed_at = ? WHERE token = ?`, now.Add(-5*time.Second), tokens[0])

		var snooze *rivertype.JobSnoozeError
		if err := s.deliver(ctx, 0, ids); !errors.As(err, &snooze) {
			t.Fatalf("deliver returned %v, want a snooze until the lease is over", err)
		}
		if want := lease - 5*time.Second + time.Second; snooze.Duration != want {
			t.Errorf("snoozed %s, want %s", snooze.Duration, want)
		}
		if srv.Count(tokens[0]) != 0 || srv.Count(tokens[1]) != 1 {
			t.Errorf("pushes: claimed device %d, other %d; want 0 and 1", srv.Count(tokens[0]), srv.Count(tokens[1]))
		}

		later := newService(t, db, sender, Config{Now: fixedClock(now.Add(snooze.Duration)), Lease: lease})
		if err := later.deliver(ctx, 0, ids); err != nil {
			t.Fatalf("after the lease: %v", err)
		}
		if c := statusCounts(t, db); c[statusSent] != 2 {
			t.Errorf("deliveries by status %v, want 2 SENT", c)
		}
		if srv.Count(tokens[0]) != 1 {
			t.Errorf("the device of the dead attempt got %d pushes after the lease, want 1", srv.Count(tokens[0]))
		}
	})
}
