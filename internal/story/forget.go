package story

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetAuthorTx deals with a person's stories inside the transaction that
// deletes their account. With keepPublished false every story they wrote
// goes; with it true their unpublished stories go and the published ones
// stay, without their name and with their photos. The photo files of the
// stories that go are handed to media.DiscardTx, so they go too. Their
// reactions and reports go, and so does a mark the secretariat put on
// them as a misuser of reports. Where they acted as secretariat or
// organiser (a review, a call, a media pickup, a mark on someone else) the
// record stays without them.
func ForgetAuthorTx(ctx context.Context, tx *sqlx.Tx, userID int64, keepPublished bool, now time.Time) error {
	gone := `author_id = ?`
	if keepPublished {
		gone = `author_id = ? AND status <> 'PUBLISHED'`
	}
	var keys []struct {
		Small string `db:"key_small"`
		Large string `db:"key_large"`
	}
	if err := store.Select(ctx, tx, &keys, `SELECT key_small, key_large FROM story_photos
		WHERE story_id IN (SELECT id FROM stories WHERE `+gone+`)`, userID); err != nil {
		return fmt.Errorf("photos of stories of %d: %w", userID, err)
	}
	for _, k := range keys {
		if err := media.DiscardTx(ctx, tx, now, k.Small, k.Large); err != nil {
			return err
		}
	}
	// The name goes from the search text of the stories that stay too, or
	// a search for it would still find them.
	var kept []struct {
		ID    int64  `db:"id"`
		Title string `db:"title"`
		Body  string `db:"body"`
	}
	if err := store.Select(ctx, tx, &kept, `SELECT id, title, body FROM stories WHERE author_id = ? AND status = 'PUBLISHED'`, userID); err != nil {
		return fmt.Errorf("stories of %d: %w", userID, err)
	}
	for _, st := range kept {
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET search_title = ?, search_text = ? WHERE id = ?`,
			store.SearchText(st.Title), SearchText(st.Title, st.Body, ""), st.ID); err != nil {
			return fmt.Errorf("forget the name in story %d: %w", st.ID, err)
		}
	}
	// Their published stories leave phones or lose the name on them.
	var published []int64
	if err := store.Select(ctx, tx, &published, `SELECT id FROM stories WHERE author_id = ? AND status = 'PUBLISHED'`, userID); err != nil {
		return fmt.Errorf("published stories of %d: %w", userID, err)
	}
	if err := changelog.Record(ctx, tx, now, changelog.Story, published...); err != nil {
		return err
	}
	steps := []struct{ what, query string }{
		{"stories", `DELETE FROM stories WHERE ` + gone},
		{"authorship", `UPDATE stories SET author_id = NULL, author_name = '' WHERE author_id = ?`},
		{"reactions", `DELETE FROM story_reactions WHERE user_id = ?`},
		{"reports", `DELETE FROM story_reports WHERE user_id = ?`},
		{"reporter mark", `DELETE FROM story_reporter_marks WHERE user_id = ?`},
		{"marks made", `UPDATE story_reporter_marks SET marked_by = NULL WHERE marked_by = ?`},
		{"reviews", `UPDATE moderation_log SET actor_id = NULL WHERE actor_id = ?`},
		{"calls", `UPDATE calls SET created_by = NULL WHERE created_by = ?`},
		{"media pickups", `UPDATE media_pickups SET recorded_by = NULL WHERE recorded_by = ?`},
	}
	for _, st := range steps {
		if _, err := store.Exec(ctx, tx, st.query, userID); err != nil {
			return fmt.Errorf("forget %s of %d: %w", st.what, userID, err)
		}
	}
	return nil
}
