package story

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// ForgetAuthorTx deals with a person's stories inside the transaction that
// deletes their account. With keepPublished false every story they wrote
// goes (photos, reactions and reports with it); with it true their
// unpublished stories go and the published ones stay, without their name.
// A mark the secretariat put on them as a misuser of reports goes too: it
// is about a person who is no longer there (the reports they made stay
// with the stories, under the account's nameless tombstone).
func ForgetAuthorTx(ctx context.Context, tx *sqlx.Tx, userID int64, keepPublished bool) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM story_reporter_marks WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("forget reporter mark of %d: %w", userID, err)
	}
	if !keepPublished {
		if _, err := store.Exec(ctx, tx, `DELETE FROM stories WHERE author_id = ?`, userID); err != nil {
			return fmt.Errorf("delete stories of %d: %w", userID, err)
		}
		return nil
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM stories WHERE author_id = ? AND status <> 'PUBLISHED'`, userID); err != nil {
		return fmt.Errorf("delete unpublished stories of %d: %w", userID, err)
	}
	// The name goes from the search text too, or a search for it would
	// still find the stories.
	var kept []struct {
		ID    int64  `db:"id"`
		Title string `db:"title"`
		Body  string `db:"body"`
	}
	if err := store.Select(ctx, tx, &kept, `SELECT id, title, body FROM stories WHERE author_id = ?`, userID); err != nil {
		return fmt.Errorf("stories of %d: %w", userID, err)
	}
	for _, st := range kept {
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET author_id = NULL, author_name = '', search_title = ?, search_text = ?
			WHERE id = ?`, store.SearchText(st.Title), SearchText(st.Title, st.Body, ""), st.ID); err != nil {
			return fmt.Errorf("anonymise story %d: %w", st.ID, err)
		}
	}
	return nil
}
