package notify

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/ishoj/voresishoj/internal/store"
)

// Migrate creates or updates River's own tables. It runs after the goose
// migrations, at start-up and in `migrate`.
func Migrate(ctx context.Context, db *store.DB) error {
	m, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("prepare river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

func (s *Service) newRiverClient() (*river.Client[*sql.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{s: s})
	river.AddWorker(workers, &reminderWorker{s: s})
	river.AddWorker(workers, &announceWorker{s: s})
	river.AddWorker(workers, &eventWorker{s: s})
	river.AddWorker(workers, &initiativeWorker{s: s})
	river.AddWorker(workers, &housekeepingWorker{s: s})
	cooldown := min(100*time.Millisecond, s.cfg.FetchPollInterval)
	rc, err := river.NewClient(s.db.RiverDriver(), &river.Config{
		Logger:            s.log.With(slog.String("component", "river")),
		FetchPollInterval: s.cfg.FetchPollInterval,
		FetchCooldown:     cooldown,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.Workers}},
		Workers:           workers,
		RetryPolicy:       s.cfg.JobRetryPolicy,
		// A job whose worker died (process killed) is picked up again
		// once it has run longer than this and its kind's timeout; the
		// delivery rows make the second run safe. River checks every 30s.
		RescueStuckJobsAfter: s.cfg.Lease,
		// The default for kinds without a Timeout of their own; a
		// delivery run ends well within it (see deliver).
		JobTimeout: s.cfg.Lease,
		// Only the elected leader inserts periodic jobs: once per cluster.
		PeriodicJobs: append([]*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(s.cfg.ReminderInterval),
				func() (river.JobArgs, *river.InsertOpts) { return ReminderArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}, s.periodicJobs()...),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return rc, nil
}

// Timeout of the reminder job, which reads the shifts of the coming day:
// it keeps the five minutes it had before the default became the short
// delivery lease. River rescues it only after this.
func (w *reminderWorker) Timeout(*river.Job[ReminderArgs]) time.Duration { return 5 * time.Minute }

// Start runs delivery and reminder jobs until Stop. Every replica starts
// one; River hands each job to one of them at a time.
func (s *Service) Start(ctx context.Context) error {
	if err := s.river.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	return nil
}

// Stop takes no more jobs and lets running ones finish until ctx ends,
// then cancels them: a cancelled job goes back to the queue as retryable,
// for the next start or another replica. Deliveries not yet sent stay in
// the database.
func (s *Service) Stop(ctx context.Context) error {
	err := s.river.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("stop river: %w", err)
	}
	s.log.Warn("jobs still running at the shutdown deadline; cancelling them")
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.river.StopAndCancel(cctx); err != nil {
		return fmt.Errorf("stop river: %w", err)
	}
	return nil
}
