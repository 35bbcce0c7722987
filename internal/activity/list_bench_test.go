package activity_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/loadgen"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// BenchmarkList reads the first page of the activity list from 1,000
// generated activities, beside a baseline that reads 21 activity rows by
// primary key: the floor for a page on the same database.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	now := time.Now().UTC()
	dbs := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		dbs["postgres"] = storetest.Postgres
	}
	for name, open := range dbs {
		db := open(b)
		if _, err := loadgen.Seed(ctx, db, loadgen.Scale{Activities: 1000}, now); err != nil {
			b.Fatal(err)
		}
		svc := activity.NewService(db, theme.NewService(db), &event.Recorder{}, clock.Real)
		b.Run(name+"/baseline", func(b *testing.B) {
			for b.Loop() {
				var ids []int64
				if err := store.Select(ctx, db, &ids, `SELECT id FROM activities WHERE status = 'PUBLISHED' ORDER BY id LIMIT ?`, 21); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/list", func(b *testing.B) {
			for b.Loop() {
				rows, err := svc.List(ctx, user.Caller{}, activity.Filter{From: now}, nil, 21)
				if err != nil || len(rows) != 21 {
					b.Fatal(len(rows), err)
				}
			}
		})
	}
}
