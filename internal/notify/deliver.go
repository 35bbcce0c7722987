package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/weblink"
)

// DeliverArgs is the River job that pushes a batch of notifications to
// their recipients' devices.
type DeliverArgs struct {
	NotificationIDs []int64 `json:"notification_ids"`
}

// Kind is River's name for the job.
func (DeliverArgs) Kind() string { return "notify_deliver" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Timeout is the lease: a run ends after half of it (deliver), and River
// hands on a job running longer than this as the job of a dead worker.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return w.s.cfg.Lease }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.deliver(ctx, job.ID, job.Args.NotificationIDs)
}

const (
	// sendTimeout bounds one batch handed to FCM. The batch runs to the end
	// even when the worker is being stopped, so that what FCM accepted is
	// recorded as SENT and not sent again. It leaves room for the Admin
	// SDK's own retries (about 7s per message, 50 messages at a time, so
	// about 70s for a full batch of 500 under lasting 503s).
	sendTimeout = 2 * time.Minute
	// storeTimeout bounds claiming and recording a batch, which also run
	// to the end once begun.
	storeTimeout = 30 * time.Second
)

// Delivery statuses.
const (
	statusPending      = "PENDING"
	statusSending      = "SENDING"
	statusSent         = "SENT"
	statusRetry        = "RETRY"
	statusUnregistered = "UNREGISTERED"
	statusFailed       = "FAILED"
	// statusUnknown was given to rows whose attempt died, before they were
	// sent again instead; older rows may still have it.
	statusUnknown = "UNKNOWN"
	// statusResent is no row's status: it counts rows put back to PENDING
	// after their attempt died (Config.Recorded).
	statusResent = "RESENT"
)

// deliver pushes the notifications ids to every device of their
// recipients at least once, and makes a repeat harmless: every message
// carries a collapse identity derived from its notification (Message),
// with which the phone shows a second copy in place of the first.
//
//  1. one row per (notification, device) is created (UNIQUE), PENDING;
//  2. a batch of rows is claimed SENDING in a committed transaction, so a
//     second job on the same notifications (another replica, a rescued
//     job) leaves them alone while this attempt lives; the attempt renews
//     its lease (claimed_at) every Lease/3 while FCM has the batch;
//  3. the batch goes to FCM and every outcome is recorded in the
//     transaction right after.
//
// An attempt that dies between 2 and 3 (process killed, database gone)
// stops renewing. Once its lease is over (Config.Lease, PUSH_LEASE, a few
// seconds) the job's next run puts those rows back to PENDING and sends
// them again. FCM may have had some of them: those devices get the push
// twice with the same collapse identity and show it once. A message cut
// off before FCM answered (sendTimeout) is likewise sent again.
//
// Steps 2 and 3 ignore the job's cancellation (a stopping worker, the
// job's timeout): once a batch is claimed, it is sent and recorded, and
// the job only stops between batches. A clean stop therefore doubles
// nothing. A run stops claiming after half its lease and comes back at
// once (snooze), so that River's rescuer, which hands the job of a dead
// worker on after the lease, does not take a live run for a dead one.
func (s *Service) deliver(ctx context.Context, jobID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	log := s.log.With(slog.Int64("job_id", jobID))
	begun := time.Now()
	now := s.now()
	if err := s.createDeliveries(ctx, ids, now); err != nil {
		return err
	}
	if err := s.reclaimStale(ctx, log, ids, now); err != nil {
		return err
	}
	for {
		if ctx.Err() != nil || time.Since(begun) > s.cfg.Lease/2 {
			// Carry on in a fresh run, at once and without using up an
			// attempt; on a stopping worker, on the next replica.
			return river.JobSnooze(0)
		}
		batch, claim, err := s.claimBatch(ctx, ids)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		if err := s.sendBatch(ctx, log, claim, batch); err != nil {
			return err
		}
	}
	// Temporary failures wait in RETRY; the job sleeps until the first of
	// them is due instead of holding a worker. Rows still SENDING belong to
	// another live attempt, or to one that died after claiming them; the
	// job comes back when their lease is over to send them again if so.
	var due struct {
		Retry   store.Time `db:"retry"`
		Claimed store.Time `db:"claimed"`
	}
	q, args, err := store.In(`SELECT
			MIN(CASE WHEN status = 'RETRY' THEN next_attempt_at END) AS retry,
			MIN(CASE WHEN status = 'SENDING' THEN claimed_at END) AS claimed
		FROM deliveries
		WHERE notification_id IN (?) AND status IN ('RETRY', 'SENDING')`, ids)
	if err != nil {
		return err
	}
	if err := store.Get(ctx, s.db, &due, q, args...); err != nil {
		return fmt.Errorf("next retry of job %d: %w", jobID, err)
	}
	next := due.Retry.Time
	if !due.Claimed.IsZero() {
		// A second past the lease, so that reclaimStale sees it expired.
		if leaseOver := due.Claimed.Add(s.cfg.Lease + time.Second); next.IsZero() || leaseOver.Before(next) {
			next = leaseOver
		}
	}
	if !next.IsZero() {
		return river.JobSnooze(max(0, next.Sub(s.now())))
	}
	return nil
}

// createDeliveries adds a PENDING row for every device of every recipient
// whose push is wanted and not yet stale. Rows from an earlier run stay as
// they are (ON CONFLICT DO NOTHING), which is what makes the job safe to
// run again.
func (s *Service) createDeliveries(ctx context.Context, ids []int64, now time.Time) error {
	q, args, err := store.In(`
		INSERT INTO deliveries (notification_id, device_id, token, platform, status, attempts, created_at)
		SELECT n.id, d.id, d.token, d.platform, 'PENDING', 0, ?
		FROM notifications n
		JOIN devices d ON d.user_id = n.user_id
		WHERE n.id IN (?) AND n.push = ? AND (n.expires_at IS NULL OR n.expires_at > ?)
		ON CONFLICT (notification_id, device_id) DO NOTHING`, now, ids, true, now)
	if err != nil {
		return err
	}
	if _, err := store.Exec(ctx, s.db, q, args...); err != nil {
		return fmt.Errorf("create deliveries: %w", err)
	}
	return nil
}

// reclaimStale puts rows whose sending attempt died (its lease ran out)
// back to PENDING, to be sent again; see deliver.
func (s *Service) reclaimStale(ctx context.Context, log *slog.Logger, ids []int64, now time.Time) error {
	q, args, err := store.In(`UPDATE deliveries SET status = 'PENDING', claim = NULL
		WHERE notification_id IN (?) AND status = 'SENDING' AND claimed_at < ?`, ids, now.Add(-s.cfg.Lease))
	if err != nil {
		return err
	}
	n, err := store.Exec(ctx, s.db, q, args...)
	if err != nil {
		return fmt.Errorf("reclaim stale deliveries: %w", err)
	}
	s.recorded(map[string]int{statusResent: int(n)})
	if n > 0 {
		log.WarnContext(ctx, "push deliveries sent again: their attempt died while FCM may have had them; a repeat carries the same collapse identity",
			slog.Int64("deliveries", n), slog.Any("notification_ids", ids))
	}
	return nil
}

type claimedDelivery struct {
	ID       int64  `db:"delivery_id"`
	Token    string `db:"token"`
	Attempts int    `db:"attempts"`
	Notification
}

// claimBatch takes up to one batch of due rows for this attempt and
// returns them. It runs to the end even when ctx is cancelled: a claim
// committed but not returned would leave its rows SENDING, sent by nobody
// (lib/pq cancels a transaction's statements, COMMIT included, when its
// context ends, so the commit can succeed while we hear of an error).
func (s *Service) claimBatch(ctx context.Context, ids []int64) ([]claimedDelivery, string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	claim := newClaim()
	var batch []claimedDelivery
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		batch = nil // Transact may run this again
		now := s.now()
		q, args, err := store.In(`SELECT id FROM deliveries
			WHERE notification_id IN (?)
				AND (status = 'PENDING' OR (status = 'RETRY' AND next_attempt_at <= ?))
			ORDER BY id LIMIT ?`, ids, now, s.cfg.BatchSize)
		if err != nil {
			return err
		}
		var due []int64
		if err := store.Select(ctx, tx, &due, q, args...); err != nil {
			return fmt.Errorf("due deliveries: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		// The status condition is checked again under the row lock, so of
		// two attempts racing for a row only one gets it.
		q, args, err = store.In(`UPDATE deliveries
			SET status = 'SENDING', claim = ?, claimed_at = ?, attempts = attempts + 1
			WHERE id IN (?) AND status IN ('PENDING', 'RETRY')`, claim, now, due)
		if err != nil {
			return err
		}
		if _, err := store.Exec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		// Read in the same transaction: what is claimed is what we send.
		err = store.Select(ctx, tx, &batch, `
			SELECT d.id AS delivery_id, d.token, d.attempts,
				n.id, n.user_id, n.kind, n.title, n.body, n.data, n.deep_link, n.collapse_key, n.urgent, n.push,
				n.expires_at, n.send_after, n.created_at, n.read_at
			FROM deliveries d JOIN notifications n ON n.id = d.notification_id
			WHERE d.claim = ? AND d.status = 'SENDING'
			ORDER BY d.id`, claim)
		if err != nil {
			return fmt.Errorf("claimed deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return batch, claim, nil
}

func newClaim() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// sendBatch hands the batch claimed as claim to FCM and records every
// outcome.
func (s *Service) sendBatch(ctx context.Context, log *slog.Logger, claim string, batch []claimedDelivery) error {
	now := s.now()
	msgs := make([]push.Message, len(batch))
	for i, d := range batch {
		msgs[i] = Message(d.Notification, d.Token, now)
		if s.cfg.PublicURL != "" {
			msgs[i].Link = weblink.New(s.cfg.PublicURL).FromDeepLink(d.Notification.DeepLink)
		}
	}
	// Not the job's context: a stopping worker finishes the batch in
	// flight so that what FCM accepted is recorded (see deliver).
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	stopRenewing := s.renewLease(sendCtx, log, claim)
	results, sendErr := s.sender.Send(sendCtx, msgs)
	stopRenewing()
	switch {
	case sendErr != nil:
		// A Sender fails the whole call only for what it finds before
		// sending anything (FCM: an invalid batch), so all may be retried.
		log.WarnContext(ctx, "push batch failed as a whole; will retry", slog.Int("messages", len(msgs)), slog.Any("error", sendErr))
		results = make([]push.Result, len(msgs))
		for i := range results {
			results[i] = push.Result{Token: msgs[i].Token, Outcome: push.Retry, Err: sendErr}
		}
	case len(results) != len(msgs):
		// We cannot tell which messages went out.
		err := fmt.Errorf("sender returned %d results for %d messages", len(results), len(msgs))
		results = make([]push.Result, len(msgs))
		for i := range results {
			results[i] = push.Result{Token: msgs[i].Token, Outcome: outcomeInDoubt, Err: err}
		}
	}
	recordCtx, cancelRecord := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancelRecord()
	var tally map[string]int
	err := s.db.Transact(recordCtx, func(tx *sqlx.Tx) error {
		tally = map[string]int{} // afresh if the transaction is retried
		return s.record(recordCtx, tx, log, claim, batch, results, s.now(), tally)
	})
	if err == nil {
		s.recorded(tally)
	}
	return err
}

// outcomeInDoubt is a result FCM may or may not have accepted.
const outcomeInDoubt push.Outcome = -1

// inDoubt reports whether a Retry result lacks an answer from FCM because
// sendTimeout cut the request off: it may have reached FCM, or not even
// have left. It is sent again like any Retry; a repeat carries the same
// collapse identity.
func inDoubt(r push.Result) bool {
	return r.Outcome == outcomeInDoubt ||
		r.Outcome == push.Retry && (errors.Is(r.Err, context.DeadlineExceeded) || errors.Is(r.Err, context.Canceled))
}

// renewLease keeps the rows of claim SENDING under this attempt's name
// while FCM has them, so that no other run takes them for the rows of a
// dead attempt however long FCM takes. The returned function stops it.
func (s *Service) renewLease(ctx context.Context, log *slog.Logger, claim string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, err := store.Exec(ctx, s.db, `UPDATE deliveries SET claimed_at = ? WHERE claim = ? AND status = 'SENDING'`,
				s.now(), claim); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "push lease not renewed; another run may send the batch again", slog.Any("error", err))
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// record writes the outcome of every delivery of batch. What FCM accepted
// is SENT whoever holds the row now; any other outcome is written only to
// rows still claimed by this attempt, so a late answer does not undo what
// a run that took the rows over has recorded.
func (s *Service) record(ctx context.Context, tx *sqlx.Tx, log *slog.Logger, claim string, batch []claimedDelivery, results []push.Result, now time.Time, tally map[string]int) error {
	var sent []int64
	for i, r := range results {
		d := batch[i]
		tally[recordedStatus(r, d.Attempts >= s.cfg.MaxAttempts)]++
		if inDoubt(r) {
			log.WarnContext(ctx, "push in doubt: sending was cut off before FCM answered; it will be sent again",
				slog.Int64("notification_id", d.Notification.ID), slog.Int64("delivery_id", d.ID), slog.Any("error", r.Err))
			r.Outcome = push.Retry
		}
		switch r.Outcome {
		case push.Delivered:
			sent = append(sent, d.ID)
		case push.Unregistered:
			if _, err := store.Exec(ctx, tx, `UPDATE deliveries SET status = 'UNREGISTERED', claim = NULL, token = '', error = ? WHERE id = ? AND claim = ?`,
				errText(r.Err), d.ID, claim); err != nil {
				return fmt.Errorf("record unregistered delivery %d: %w", d.ID, err)
			}
			// The token will never work again: the device goes, and so do
			// the copies of its token in other deliveries.
			if err := forgetDeviceTx(ctx, tx, d.Token); err != nil {
				return fmt.Errorf("remove unregistered device: %w", err)
			}
		case push.Retry:
			if d.Attempts >= s.cfg.MaxAttempts {
				log.ErrorContext(ctx, "push given up after retries", slog.Int64("notification_id", d.Notification.ID),
					slog.Int64("delivery_id", d.ID), slog.Int("attempts", d.Attempts), slog.Any("error", r.Err))
				if err := s.setStatus(ctx, tx, claim, d.ID, statusFailed, r.Err); err != nil {
					return err
				}
				continue
			}
			next := now.Add(max(s.backoff(d.Attempts), r.RetryAfter))
			if _, err := store.Exec(ctx, tx, `UPDATE deliveries SET status = 'RETRY', claim = NULL, next_attempt_at = ?, error = ? WHERE id = ? AND claim = ?`,
				next, errText(r.Err), d.ID, claim); err != nil {
				return fmt.Errorf("record retry of delivery %d: %w", d.ID, err)
			}
		default:
			log.ErrorContext(ctx, "push failed", slog.Int64("notification_id", d.Notification.ID),
				slog.Int64("delivery_id", d.ID), slog.Any("error", r.Err))
			if err := s.setStatus(ctx, tx, claim, d.ID, statusFailed, r.Err); err != nil {
				return err
			}
		}
	}
	for len(sent) > 0 {
		chunk := sent[:min(len(sent), 500)]
		sent = sent[len(chunk):]
		q, args, err := store.In(`UPDATE deliveries SET status = 'SENT', claim = NULL, sent_at = ?, error = '' WHERE id IN (?)`, now, chunk)
		if err != nil {
			return err
		}
		if _, err := store.Exec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("record sent deliveries: %w", err)
		}
	}
	return nil
}

func (s *Service) setStatus(ctx context.Context, tx *sqlx.Tx, claim string, id int64, status string, cause error) error {
	if _, err := store.Exec(ctx, tx, `UPDATE deliveries SET status = ?, claim = NULL, error = ? WHERE id = ? AND claim = ?`,
		status, errText(cause), id, claim); err != nil {
		return fmt.Errorf("set delivery %d %s: %w", id, status, err)
	}
	return nil
}

// backoff is exponential in the attempts made, with ±20% jitter so that
// the devices FCM throttled together do not come back together.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempts && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.RetryMax)
	jitter := time.Duration(mathrand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
