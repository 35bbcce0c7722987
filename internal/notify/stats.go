package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// recordedStatus is the status record gives a delivery with result r;
// givenUp says the delivery has used its attempts.
func recordedStatus(r push.Result, givenUp bool) string {
	if inDoubt(r) {
		r.Outcome = push.Retry // sent again, see record
	}
	switch {
	case r.Outcome == push.Delivered:
		return statusSent
	case r.Outcome == push.Unregistered:
		return "UNREGISTERED"
	case r.Outcome == push.Retry && !givenUp:
		return "RETRY"
	}
	return statusFailed
}

func (s *Service) recorded(tally map[string]int) {
	if s.cfg.Recorded == nil {
		return
	}
	for status, n := range tally {
		if n > 0 {
			s.cfg.Recorded(strings.ToLower(status), n)
		}
	}
}

// QueueCount is the number of jobs of one kind in one state.
type QueueCount struct {
	Kind  string `db:"kind"`
	State string `db:"state"`
	N     int    `db:"n"`
}

// QueueDepth counts the jobs waiting or running, by kind and state; the
// queue is River's, in the same database, and shared by every replica.
func (s *Service) QueueDepth(ctx context.Context) ([]QueueCount, error) {
	var out []QueueCount
	if err := store.Select(ctx, s.db, &out, `SELECT kind, state, COUNT(*) AS n FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running')
		GROUP BY kind, state ORDER BY kind, state`); err != nil {
		return nil, fmt.Errorf("count queued jobs: %w", err)
	}
	return out, nil
}

// OnJobFailed calls f for each job attempt that fails on this replica,
// with the job's kind and whether it was given up (discarded), until the
// returned function is called. Call it before Start.
func (s *Service) OnJobFailed(f func(kind string, final bool)) (stop func()) {
	events, cancel := s.river.Subscribe(river.EventKindJobFailed)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			if e.Job != nil {
				f(e.Job.Kind, e.Job.State == rivertype.JobStateDiscarded)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// DeliveryCounts is how far one announcement has reached its audience.
// Push counts are per device.
type DeliveryCounts struct {
	AnnouncementID int64
	// Notified is how many inbox entries were made; Complete says the
	// fan-out is done.
	Notified int
	Complete bool
	// Sent, Pending (PENDING, SENDING, RETRY), Failed (FAILED, and UNKNOWN
	// from before pushes were resent), Unregistered: deliveries by status.
	Sent, Pending, Failed, Unregistered int
	// QuietHours counts recipients whose push is held until their quiet
	// hours end; their deliveries are made then.
	QuietHours int
}

// AnnouncementDeliveries returns the delivery counts of the announcements
// among ids, for the secretariat only (nil for anyone else): who was
// reached, who is still waiting, and what failed.
func (s *Service) AnnouncementDeliveries(ctx context.Context, c user.Caller, ids []int64) (map[int64]DeliveryCounts, error) {
	if len(ids) == 0 || !c.Secretariat {
		return nil, nil
	}
	out := make(map[int64]DeliveryCounts, len(ids))
	q, args, err := store.In(`SELECT id, fanned_out_at FROM announcements WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var anns []struct {
		ID          int64      `db:"id"`
		FannedOutAt *time.Time `db:"fanned_out_at"`
	}
	if err := store.Select(ctx, s.db, &anns, q, args...); err != nil {
		return nil, fmt.Errorf("announcements %v: %w", ids, err)
	}
	for _, a := range anns {
		out[a.ID] = DeliveryCounts{AnnouncementID: a.ID, Complete: a.FannedOutAt != nil}
	}
	q, args, err = store.In(`SELECT announcement_id, COUNT(*) AS n,
			COALESCE(SUM(CASE WHEN push = ? AND send_after > ? THEN 1 ELSE 0 END), 0) AS held
		FROM notifications WHERE announcement_id IN (?) GROUP BY announcement_id`, true, s.now(), ids)
	if err != nil {
		return nil, err
	}
	var made []struct {
		ID   int64 `db:"announcement_id"`
		N    int   `db:"n"`
		Held int   `db:"held"`
	}
	if err := store.Select(ctx, s.db, &made, q, args...); err != nil {
		return nil, fmt.Errorf("notifications of announcements: %w", err)
	}
	for _, m := range made {
		dc := out[m.ID]
		dc.Notified, dc.QuietHours = m.N, m.Held
		out[m.ID] = dc
	}
	q, args, err = store.In(`SELECT n.announcement_id, d.status, COUNT(*) AS n
		FROM deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE n.announcement_id IN (?) GROUP BY n.announcement_id, d.status`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID     int64  `db:"announcement_id"`
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("deliveries of announcements: %w", err)
	}
	for _, r := range rows {
		dc, ok := out[r.ID]
		if !ok {
			continue
		}
		switch r.Status {
		case statusSent:
			dc.Sent += r.N
		case statusPending, statusSending, statusRetry:
			dc.Pending += r.N
		case statusUnregistered:
			dc.Unregistered += r.N
		default:
			dc.Failed += r.N
		}
		out[r.ID] = dc
	}
	return out, nil
}

// DeliveryRetention is how long delivery rows are kept: the record of
// which device got which push, and the secretariat's counts.
const DeliveryRetention = 30 * 24 * time.Hour

// PurgeDeliveries deletes delivery rows created before before that are
// done with (sent, given up, unregistered, or left from before resending),
// a thousand at a time so that no statement holds the table long; rows
// still waiting are kept whatever their age. It returns how many went. The
// periodic housekeeping calls it with now - DeliveryRetention.
func (s *Service) PurgeDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := store.Exec(ctx, s.db, `DELETE FROM deliveries WHERE id IN (
			SELECT id FROM deliveries WHERE created_at < ? AND status IN ('SENT', 'FAILED', 'UNREGISTERED', 'UNKNOWN') LIMIT 1000)`, before.UTC())
		if err != nil {
			return total, fmt.Errorf("purge deliveries: %w", err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
