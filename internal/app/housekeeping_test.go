package app

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Three replicas on one database do the housekeeping once between them,
// at once after the cluster starts (not six hours later), as River
// periodic jobs that only the elected leader inserts.
func TestHousekeepingOncePerCluster(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		env := map[string]string{"DATABASE_URL": storetest.URL(t, db)}
		tasks := map[string]bool{}
		for _, task := range (&App{}).housekeeping() {
			tasks[task.Name] = true
		}
		var apps []*started
		for range 3 {
			apps = append(apps, start(t, env))
		}
		ran := func() map[string]int {
			runs, err := apps[0].app.notifier.HousekeepingRuns(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n := map[string]int{}
			for task, states := range runs {
				for state, k := range states {
					n[task] += k
					if state != rivertype.JobStateCompleted {
						t.Logf("%s: %d %s", task, k, state)
					}
				}
			}
			return n
		}
		deadline := time.Now().Add(40 * time.Second)
		for len(ran()) < len(tasks) {
			if time.Now().After(deadline) {
				t.Fatalf("after 40s only %v of the tasks %v ran", ran(), tasks)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// Time for the other two replicas to do it again, if they would.
		time.Sleep(3 * time.Second)
		for task, n := range ran() {
			if !tasks[task] || n != 1 {
				t.Errorf("housekeeping %s ran %d times in three replicas, want once", task, n)
			}
		}
		var done int
		if err := store.Get(context.Background(), db, &done, `SELECT COUNT(*) FROM river_job WHERE kind = 'housekeeping' AND state = 'completed'`); err != nil || done != len(tasks) {
			t.Errorf("%d housekeeping jobs completed, want %d (%v)", done, len(tasks), err)
		}
	})
}
