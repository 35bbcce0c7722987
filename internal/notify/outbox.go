package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/ishoj/voresishoj/internal/event"
)

// EventArgs is the outbox: a domain event recorded by Record in the
// transaction of the change. Its job turns the event into inbox entries
// and their delivery jobs, in one transaction that also completes the job,
// so an event is told once whether the request that caused it is still
// there or not, and a job cut off half-way is simply run again.
type EventArgs struct {
	Event event.Event `json:"event"`
}

// Kind is River's name for the job.
func (EventArgs) Kind() string { return "notify_event" }

// tells says which events someone is told of; the others (a claim
// confirmed, a slot's counters) only feed live updates.
func tells(e event.Event) bool {
	switch e.Kind {
	case event.ActivityPublished, event.ActivityChanged, event.ActivityCancelled,
		event.ClaimPromoted, event.StoryPublished, event.StoryRejected, event.StoryChangesRequested,
		event.SlotMoved, event.SlotRemoved:
		return true
	case event.ClaimCancelled:
		return e.Late
	}
	return false
}

// Record keeps the events someone must hear about in tx, as jobs that run
// once tx has committed (event.Outbox). If tx rolls back, nothing was
// promised.
func (s *Service) Record(ctx context.Context, tx *sqlx.Tx, events ...event.Event) error {
	var params []river.InsertManyParams
	for _, e := range events {
		if !tells(e) {
			continue
		}
		params = append(params, river.InsertManyParams{Args: EventArgs{Event: e}, InsertOpts: &river.InsertOpts{MaxAttempts: 25}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := s.river.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("record %d events: %w", len(params), err)
	}
	return nil
}

type eventWorker struct {
	river.WorkerDefaults[EventArgs]
	s *Service
}

// Timeout lets a town-wide fan-out (tens of thousands of inbox entries)
// finish. Should River rescue the job as stuck meanwhile (after the push
// lease) and start it again, only one of the two runs can complete it in
// its transaction; the other rolls back what it wrote.
func (w *eventWorker) Timeout(*river.Job[EventArgs]) time.Duration { return 5 * time.Minute }

func (w *eventWorker) Work(ctx context.Context, job *river.Job[EventArgs]) error {
	e := job.Args.Event
	ns, err := w.s.eventNotifications(ctx, e)
	if err != nil {
		return fmt.Errorf("notifications for %s: %w", e.Kind, err)
	}
	return tellAndComplete(ctx, w.s, job, ns)
}

// tellAndComplete writes ns and completes job in one transaction: a
// crash before the commit leaves neither, after it both, so a job run
// again (retried, rescued) never tells anyone twice. Live subscriptions
// hear of the notifications after the commit.
func tellAndComplete[T river.JobArgs](ctx context.Context, s *Service, job *river.Job[T], ns []NewNotification) error {
	var created []Created
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		if created, err = s.insert(ctx, tx, ns); err != nil {
			return err
		}
		// The driver named here is only a type parameter; the client's
		// own (SQLite or PostgreSQL) does the work.
		if _, err := river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx.Tx, job); err != nil {
			return fmt.Errorf("complete job %d: %w", job.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(created) > 0 {
		s.log.DebugContext(ctx, "told", slog.String("job", job.Kind), slog.Int("notifications", len(created)))
		if s.onCreated != nil {
			s.onCreated(ctx, created)
		}
	}
	return nil
}
