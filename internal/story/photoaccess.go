package story

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// Who may fetch a photo follows who may see its story (CanSee): the
// photos of a published story are public, at their plain /media/ URL;
// the photos of any other story (in review, sent back, rejected, hidden)
// are fetched only through URLs signed for a few minutes, which Photos
// hands to the callers CanSee lets see the story: its author, the
// secretariat and the organisers allowed to review it. Until the
// secretariat has checked the consents nobody else can load them, even
// with the URL.

// SetSigner sets the signer of photo URLs; the server's is shared by its
// replicas (media.LoadSigner). Without it the service signs with a key of
// its own, good in this process only.
func (s *Service) SetSigner(signer *media.Signer) { s.signer = signer }

// MediaAccess is what the media handler needs to serve story photos.
func (s *Service) MediaAccess() media.Access {
	return media.Access{Public: s.PhotoPublic, Signer: s.signer, Now: s.now}
}

// photoPath is where the photo at key of a story in status st is fetched.
func (s *Service) photoPath(key string, st Status, now time.Time) string {
	p := media.Prefix + key
	if st == Published {
		return p
	}
	return p + "?" + s.signer.Sign(key, now)
}

// photoImage is photo ph of a story in status st as an image: its large
// rendition is the source of every size, and it is signed for the caller
// as the rendition's path is.
func (s *Service) photoImage(ph Photo, st Status, now time.Time) media.Image {
	img := media.Image{Key: ph.KeyLarge, Width: ph.Width, Height: ph.Height, Alt: ph.AltText}
	if ph.Placeholder != nil {
		img.Placeholder = *ph.Placeholder
	}
	if st != Published {
		img.Signature = s.signer.Sign(ph.KeyLarge, now)
	}
	return img
}

// PhotoPublic reports whether the blob at key is a photo of a published
// story, which anyone may fetch.
func (s *Service) PhotoPublic(ctx context.Context, key string) (bool, error) {
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM story_photos p JOIN stories s ON s.id = p.story_id
		WHERE s.status = 'PUBLISHED' AND (p.key_small = ? OR p.key_large = ?)`, key, key); err != nil {
		return false, fmt.Errorf("is %s a published photo: %w", key, err)
	}
	return n > 0, nil
}

// discardPhotosTx removes the photos of story id, rows and files, inside
// the transaction that ends the story's way to publication (a rejection,
// a withdrawal): they were never checked to be fit to show, and nobody
// needs them any more. The files go after the commit (sweep).
func discardPhotosTx(ctx context.Context, tx *sqlx.Tx, id int64, now time.Time) (int, error) {
	var keys []struct {
		Small string `db:"key_small"`
		Large string `db:"key_large"`
	}
	if err := store.Select(ctx, tx, &keys, `SELECT key_small, key_large FROM story_photos WHERE story_id = ?`, id); err != nil {
		return 0, fmt.Errorf("photos of story %d: %w", id, err)
	}
	for _, k := range keys {
		if err := media.DiscardTx(ctx, tx, now, k.Small, k.Large); err != nil {
			return 0, err
		}
	}
	if _, err := store.Exec(ctx, tx, `DELETE FROM story_photos WHERE story_id = ?`, id); err != nil {
		return 0, fmt.Errorf("remove photos of story %d: %w", id, err)
	}
	return len(keys), nil
}

// sweep removes the files discardPhotosTx recorded, right after the
// commit; what it cannot remove now the privacy housekeeping removes
// later.
func (s *Service) sweep(ctx context.Context) {
	if s.media == nil {
		return
	}
	if _, err := media.Sweep(context.WithoutCancel(ctx), s.db, s.media, 100); err != nil {
		slog.ErrorContext(ctx, "remove photo files of a story; the housekeeping tries again", slog.Any("error", err))
	}
}
