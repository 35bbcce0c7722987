package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
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
