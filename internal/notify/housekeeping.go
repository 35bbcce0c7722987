package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/store"
)

// Task is periodic work done once per cluster: River's elected leader
// inserts its job on schedule (and once when it becomes leader), and one
// replica works it. A replica restarted often still has its share done,
// and three replicas do not do it three times.
type Task struct {
	// Name identifies the task in its job and the log.
	Name string
	// Every is how often it runs; at most one job per Every is inserted.
	Every time.Duration
	// Run does the work; an error is logged and retried as River retries
	// jobs, and the next period runs it anyway.
	Run func(ctx context.Context) error
}

// HousekeepingArgs is the job of one Task.
type HousekeepingArgs struct {
	Task string `json:"task"`
}

// Kind is River's name for the job.
func (HousekeepingArgs) Kind() string { return "housekeeping" }

type housekeepingWorker struct {
	river.WorkerDefaults[HousekeepingArgs]
	s *Service
}

// Timeout leaves a slow task (calendars fetched one after another) room;
// River rescues it only after this.
func (w *housekeepingWorker) Timeout(*river.Job[HousekeepingArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *housekeepingWorker) Work(ctx context.Context, job *river.Job[HousekeepingArgs]) error {
	t, ok := w.s.tasks[job.Args.Task]
	if !ok {
		// A task an older or newer build knew: nothing to do here.
		w.s.log.WarnContext(ctx, "unknown housekeeping task", slog.String("task", job.Args.Task))
		return nil
	}
	start := time.Now()
	if err := t.Run(ctx); err != nil {
		return fmt.Errorf("housekeeping %s: %w", t.Name, err)
	}
	w.s.log.InfoContext(ctx, "housekeeping done", slog.String("task", t.Name), slog.Duration("took", time.Since(start)))
	return nil
}

// periodicJobs are the River periodic jobs of the configured tasks.
func (s *Service) periodicJobs() []*river.PeriodicJob {
	var jobs []*river.PeriodicJob
	for _, t := range s.cfg.Housekeeping {
		name, every := t.Name, t.Every
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				// Unique per period: a leader elected again within it (a
				// restart, a failover) does not insert it a second time.
				return HousekeepingArgs{Task: name}, &river.InsertOpts{MaxAttempts: 3,
					UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: every}}
			},
			&river.PeriodicJobOpts{ID: "housekeeping-" + name, RunOnStart: true}))
	}
	return jobs
}

// InboxRetention is how long a notification stays in the inbox (and its
// delivery rows with it): half a year, longer than anyone scrolls back,
// while the table stays bounded (five town-wide announcements wrote 100,000
// rows).
const InboxRetention = 180 * 24 * time.Hour

// PurgeNotifications deletes the notifications made before before, with
// their deliveries, a thousand at a time so no transaction holds the table
// for long. It returns how many it deleted.
func (s *Service) PurgeNotifications(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		// Ids grow with creation time, so the oldest come first and the
		// walk along the primary key stops early.
		n, err := store.Exec(ctx, s.db, `DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE created_at < ? ORDER BY id LIMIT 1000)`, before.UTC())
		if err != nil {
			return total, fmt.Errorf("purge notifications before %s: %w", before.Format(time.RFC3339), err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}

// HousekeepingRuns counts the housekeeping jobs River holds, per task and
// state (completed jobs are kept a day): what ran, and where.
func (s *Service) HousekeepingRuns(ctx context.Context) (map[string]map[rivertype.JobState]int, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().Kinds(HousekeepingArgs{}.Kind()).
		States(rivertype.JobStates()...).First(10000))
	if err != nil {
		return nil, fmt.Errorf("list housekeeping jobs: %w", err)
	}
	out := map[string]map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		var a HousekeepingArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			return nil, fmt.Errorf("housekeeping job %d: %w", j.ID, err)
		}
		if out[a.Task] == nil {
			out[a.Task] = map[rivertype.JobState]int{}
		}
		out[a.Task][j.State]++
	}
	return out, nil
}
