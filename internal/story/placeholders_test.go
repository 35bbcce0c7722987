package story

import (
	"testing"

	"github.com/bbrks/go-blurhash"

	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// Photos stored before migration 00024 have no placeholder; the
// housekeeping pass works it out from the stored rendition, once.
func TestBackfillPlaceholders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		author := f.person(t, "Amina", user.RoleResident)
		st, err := f.svc.Submit(ctx, author, Input{Title: "Sommer", Body: "Min sommer i Ishøj", ConsentPeople: true,
			Photos: []PhotoInput{photo(mediatest.JPEG(1200, 800, nil), "Stranden"), photo(mediatest.JPEG(600, 900, nil), "Havnen")}})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if err := store.Select(ctx, db, &want, `SELECT placeholder FROM story_photos WHERE story_id = ? ORDER BY position`, st.ID); err != nil {
			t.Fatal(err)
		}
		// As a photo from before 00024 is stored; and one whose blob is gone.
		if _, err := store.Exec(ctx, db, `UPDATE story_photos SET placeholder = NULL WHERE story_id = ?`, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(ctx, db, `INSERT INTO story_photos (story_id, position, alt_text, key_small, key_large, width, height, created_at)
			VALUES (?, 9, '', 'gone-320.jpg', 'gone-1280.jpg', 1280, 853, ?)`, st.ID, f.now); err != nil {
			t.Fatal(err)
		}

		n, err := f.svc.BackfillPlaceholders(ctx)
		if err != nil || n != 2 {
			t.Fatalf("backfilled %d, %v; want 2", n, err)
		}
		var got []struct {
			Placeholder   *string `db:"placeholder"`
			Width, Height int
		}
		if err := store.Select(ctx, db, &got, `SELECT placeholder, width, height FROM story_photos WHERE story_id = ? ORDER BY position`, st.ID); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[2].Placeholder != nil {
			t.Fatalf("photos after: %+v", got)
		}
		for i, p := range got[:2] {
			if p.Placeholder == nil || *p.Placeholder != want[i] {
				t.Errorf("photo %d: placeholder %v, want %q (as an upload gets it)", i, p.Placeholder, want[i])
				continue
			}
			if _, err := blurhash.Decode(*p.Placeholder, 8, 8, 1); err != nil {
				t.Errorf("photo %d: placeholder does not decode: %v", i, err)
			}
		}
		if got[0].Width != 1200 || got[0].Height != 800 || got[1].Width != 600 || got[1].Height != 900 {
			t.Errorf("sizes changed: %+v", got)
		}

		// Idempotent: nothing is left to do but the photo that cannot be read.
		if n, err := f.svc.BackfillPlaceholders(ctx); err != nil || n != 0 {
			t.Errorf("second pass: %d, %v", n, err)
		}
	})
}
