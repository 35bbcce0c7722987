package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// languageChosenMigration is 00016_language_chosen.sql.
const languageChosenMigration = 16

// A stored language other than Danish was chosen; a stored 'da' cannot be
// told from the default and counts as not chosen, so Accept-Language
// decides for that person from now on.
func TestLanguageChosenMigration(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.MigrateTo(ctx, languageChosenMigration-1); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		ids := map[string]int64{}
		for _, l := range []string{"da", "en", "ar"} {
			var id int64
			if err := store.Get(ctx, db, &id, `INSERT INTO users (display_name, language, created_at, updated_at)
				VALUES (?, ?, ?, ?) RETURNING id`, "p-"+l, l, now, now); err != nil {
				t.Fatal(err)
			}
			ids[l] = id
		}
		if _, err := db.MigrateTo(ctx, languageChosenMigration); err != nil {
			t.Fatal(err)
		}
		for l, want := range map[string]bool{"da": false, "en": true, "ar": true} {
			var got struct {
				Language string `db:"language"`
				Chosen   bool   `db:"language_chosen"`
			}
			if err := store.Get(ctx, db, &got, `SELECT language, language_chosen FROM users WHERE id = ?`, ids[l]); err != nil {
				t.Fatal(err)
			}
			if got.Language != l || got.Chosen != want {
				t.Errorf("%s: %+v, want chosen %v", l, got, want)
			}
		}
	})
}
