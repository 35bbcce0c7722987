package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Migration 00008 rewrites the phone numbers profiles stored as typed into
// the E.164 form user.NormalisePhone makes.
func TestMigratePhonesToE164(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.MigrateTo(ctx, 7); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		stored := map[string]string{
			"12345678":      "+4512345678", // "12 34 56 78" in a profile
			"004512345678":  "+4512345678",
			"0046701234567": "+46701234567",
			"+4587654321":   "+4587654321", // Firebase phone sign-in, or a sign-up by an organiser
			"123456789":     "123456789",   // no rule made it; left alone
		}
		ids := map[string]int64{}
		for phone := range stored {
			var id int64
			if err := store.Get(ctx, db, &id, `INSERT INTO users (phone, display_name, created_at, updated_at)
				VALUES (?, '', ?, ?) RETURNING id`, phone, now, now); err != nil {
				t.Fatal(err)
			}
			ids[phone] = id
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for before, want := range stored {
			var got string
			if err := store.Get(ctx, db, &got, `SELECT phone FROM users WHERE id = ?`, ids[before]); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%q became %q, want %q", before, got, want)
			}
		}
	})
}
