package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// Migration 00028 rebuilds announcements on SQLite to widen its CHECK.
// notifications.announcement_id refers to it ON DELETE SET NULL, so a
// rebuild with foreign keys on would have cut every inbox entry loose
// from its announcement; this proves the links, the ids and the foreign
// keys survive, and that the connections are left enforcing them.
func TestParticipantsAudienceMigration(t *testing.T) {
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.MigrateTo(ctx, 27); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		insert := func(q string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := store.Get(ctx, db, &id, q+" RETURNING id", args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return id
		}
		org := insert(`INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Spisevenner', 'ASSOCIATION', ?, ?)`, now, now)
		sender := insert(`INSERT INTO users (firebase_uid, email, email_verified, display_name, role, created_at, updated_at)
			VALUES ('uid-o', 'o@ishoj.example', TRUE, 'Olga', 'RESIDENT', ?, ?)`, now, now)
		var people []int64
		for _, uid := range []string{"uid-a", "uid-b", "uid-c"} {
			people = append(people, insert(`INSERT INTO users (firebase_uid, display_name, role, created_at, updated_at)
				VALUES (?, 'x', 'RESIDENT', ?, ?)`, uid, now, now))
		}
		var anns []int64
		for i, aud := range []string{"FOLLOWERS", "TOWN", "FOLLOWERS"} {
			anns = append(anns, insert(`INSERT INTO announcements (sender_id, audience, organisation_id, title, body, recipients,
				by_secretariat, created_at, idempotency_key, fanned_out_to, fanned_out_at)
				VALUES (?, ?, ?, 'Husk', 'Vi ses', 3, FALSE, ?, ?, ?, ?)`, sender, aud, org, now.Add(time.Duration(i)*time.Minute),
				[]string{"k1", "k2", "k3"}[i], people[2], now))
		}
		// The newest is deleted, as an organisation's deletion would: its
		// id must not come back.
		if _, err := store.Exec(ctx, db, `DELETE FROM announcements WHERE id = ?`, anns[2]); err != nil {
			t.Fatal(err)
		}
		want := map[int64]*int64{}
		for i, u := range people {
			for j, a := range anns[:2] {
				n := insert(`INSERT INTO notifications (user_id, kind, title, body, send_after, created_at, announcement_id)
					VALUES (?, 'ANNOUNCEMENT', 'Husk', 'Vi ses', ?, ?, ?)`, u, now, now, a)
				want[n] = &anns[j]
			}
			n := insert(`INSERT INTO notifications (user_id, kind, title, body, send_after, created_at)
				VALUES (?, 'REMINDER', 'Husk', 'I morgen', ?, ?)`, u, now, now)
			want[n] = nil
			_ = i
		}

		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}

		var got []struct {
			ID             int64  `db:"id"`
			AnnouncementID *int64 `db:"announcement_id"`
		}
		if err := store.Select(ctx, db, &got, `SELECT id, announcement_id FROM notifications ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d notifications after the migration, want %d", len(got), len(want))
		}
		for _, n := range got {
			w := want[n.ID]
			switch {
			case w == nil && n.AnnouncementID != nil:
				t.Errorf("notification %d points to announcement %d, want none", n.ID, *n.AnnouncementID)
			case w != nil && (n.AnnouncementID == nil || *n.AnnouncementID != *w):
				t.Errorf("notification %d points to %v, want announcement %d", n.ID, n.AnnouncementID, *w)
			}
		}
		var kept []struct {
			ID  int64  `db:"id"`
			Key string `db:"idempotency_key"`
		}
		if err := store.Select(ctx, db, &kept, `SELECT id, idempotency_key FROM announcements ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(kept) != 2 || kept[0].ID != anns[0] || kept[1].ID != anns[1] || kept[0].Key != "k1" || kept[1].Key != "k2" {
			t.Fatalf("announcements after the migration: %+v, want ids %v with their keys", kept, anns[:2])
		}

		// The new audience is allowed, with its occurrence, and takes a
		// fresh id; the old CHECK still refuses nonsense.
		fresh := insert(`INSERT INTO announcements (sender_id, audience, organisation_id, title, body, created_at, occurrence_starts_at)
			VALUES (?, 'PARTICIPANTS', ?, 'Husk', 'Tag en tallerken med', ?, ?)`, sender, org, now, now.Add(48*time.Hour))
		if fresh <= anns[2] {
			t.Errorf("new announcement got id %d, which the deleted %d had or preceded", fresh, anns[2])
		}
		if _, err := store.Exec(ctx, db, `INSERT INTO announcements (sender_id, audience, title, body, created_at)
			VALUES (?, 'EVERYONE', 'x', 'y', ?)`, sender, now); err == nil {
			t.Error("audience EVERYONE was accepted")
		}
		// The idempotency index came back.
		if _, err := store.Exec(ctx, db, `INSERT INTO announcements (sender_id, audience, organisation_id, title, body, created_at, idempotency_key)
			VALUES (?, 'FOLLOWERS', ?, 'x', 'y', ?, 'k1')`, sender, org, now); err == nil {
			t.Error("a second announcement with key k1 was accepted")
		}

		if db.Dialect != store.SQLite {
			return
		}
		var broken []struct {
			Table  string `db:"table"`
			RowID  *int64 `db:"rowid"`
			Parent string `db:"parent"`
			FKID   int64  `db:"fkid"`
		}
		if err := db.SelectContext(ctx, &broken, `PRAGMA foreign_key_check`); err != nil {
			t.Fatal(err)
		}
		if len(broken) > 0 {
			t.Errorf("foreign_key_check: %+v", broken)
		}
		// Every connection of the pool enforces foreign keys again,
		// including the one goose migrated on.
		conns := make([]interface{ Close() error }, 0, 4)
		for range 4 {
			c, err := db.Connx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			var on int
			if err := c.GetContext(ctx, &on, `PRAGMA foreign_keys`); err != nil {
				t.Fatal(err)
			}
			if on != 1 {
				t.Error("a connection has foreign keys off after the migration")
			}
		}
		for _, c := range conns {
			c.Close()
		}
		// And the link still acts: deleting an announcement unlinks its
		// notifications rather than leaving them dangling.
		if _, err := store.Exec(ctx, db, `DELETE FROM announcements WHERE id = ?`, anns[0]); err != nil {
			t.Fatal(err)
		}
		var dangling int
		if err := store.Get(ctx, db, &dangling, `SELECT COUNT(*) FROM notifications WHERE announcement_id = ?`, anns[0]); err != nil {
			t.Fatal(err)
		}
		if dangling != 0 {
			t.Errorf("%d notifications still name the deleted announcement", dangling)
		}
	})
}
