package media

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// CoverSuffix ends the key of every cover's source, so that the media
// handler asks the tables with covers, and only them, whether one is
// public.
const CoverSuffix = "-cover.jpg"

// IsCoverKey reports whether key names a cover's source.
func IsCoverKey(key string) bool { return strings.HasSuffix(key, CoverSuffix) }

// CoverColumns are the columns of a table with a cover (migration 00024),
// to embed in the row's struct: all NULL when it has none.
type CoverColumns struct {
	CoverKey         *string `db:"cover_key"`
	CoverWidth       *int    `db:"cover_width"`
	CoverHeight      *int    `db:"cover_height"`
	CoverAlt         *string `db:"cover_alt"`
	CoverPlaceholder *string `db:"cover_placeholder"`
}

// CoverSQL lists the cover columns of a table aliased as alias ("" for
// none), for a SELECT.
func CoverSQL(alias string) string {
	if alias != "" {
		alias += "."
	}
	return alias + "cover_key, " + alias + "cover_width, " + alias + "cover_height, " + alias + "cover_alt, " + alias + "cover_placeholder"
}

// Covers stores the covers of activities, organisations, places and
// initiatives: it makes an upload safe (as a story's photo is made), keeps
// its source in the blob store, signs the URLs of covers that are not
// public, and removes the sources that are replaced. Who may change a
// cover, and who may see it, is for the package whose table holds it.
type Covers struct {
	blobs    Store
	db       *store.DB
	signer   *Signer
	now      func() time.Time
	maxBytes int64
}

// NewCovers returns the covers kept in blobs, their rows in db.
func NewCovers(db *store.DB, blobs Store, signer *Signer, now func() time.Time) *Covers {
	if signer == nil {
		signer = RandomSigner()
	}
	return &Covers{blobs: blobs, db: db, signer: signer, now: now, maxBytes: MaxUploadBytes}
}

// Image returns the cover in cols as the caller who may see it gets it:
// nil when there is none, signed when it is not public.
func (cv *Covers) Image(cols CoverColumns, public bool) *Image {
	if cols.CoverKey == nil {
		return nil
	}
	img := &Image{Key: *cols.CoverKey}
	if cols.CoverWidth != nil {
		img.Width = *cols.CoverWidth
	}
	if cols.CoverHeight != nil {
		img.Height = *cols.CoverHeight
	}
	if cols.CoverAlt != nil {
		img.Alt = *cols.CoverAlt
	}
	if cols.CoverPlaceholder != nil {
		img.Placeholder = *cols.CoverPlaceholder
	}
	if !public && cv != nil {
		img.Signature = cv.signer.Sign(img.Key, cv.now())
	}
	return img
}

// Upload is a cover someone uploads.
type Upload struct {
	Reader io.Reader
	Alt    string
}

// maxAlt bounds a cover's alt text, as a photo's.
const maxAlt = 500

// Prepare makes an upload safe and stores its source (the same checks as
// a story's photo: type by content, size, decoded size before decoding,
// metadata dropped, upright), before the transaction that names it.
// undo removes the source again when that transaction fails. Problems
// with the upload are user errors on field "cover".
func (cv *Covers) Prepare(ctx context.Context, u Upload) (cols CoverColumns, undo func(), err error) {
	if cv == nil || cv.blobs == nil {
		return CoverColumns{}, nil, fmt.Errorf("covers: no media store")
	}
	src, err := ProcessSource(ctx, u.Reader, cv.maxBytes, "cover")
	if err != nil {
		return CoverColumns{}, nil, err
	}
	key := NewKey(CoverSuffix)
	if err := cv.blobs.Put(ctx, key, bytes.NewReader(src.Data), ContentType); err != nil {
		return CoverColumns{}, nil, fmt.Errorf("store cover: %w", err)
	}
	alt := strings.TrimSpace(u.Alt)
	if r := []rune(alt); len(r) > maxAlt {
		alt = string(r[:maxAlt])
	}
	cols = CoverColumns{CoverKey: &key, CoverWidth: &src.Width, CoverHeight: &src.Height, CoverAlt: &alt, CoverPlaceholder: &src.Placeholder}
	undo = func() {
		if err := cv.blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
			slog.ErrorContext(ctx, "remove the cover of a change that did not happen", slog.String("key", key), slog.Any("error", err))
		}
	}
	return cols, undo, nil
}

// ReplaceTx records, inside the transaction that changes a cover, that
// the source before (old, which may be nil) must go.
func ReplaceTx(ctx context.Context, tx *sqlx.Tx, old *string, now time.Time) error {
	if old == nil {
		return nil
	}
	return DiscardTx(ctx, tx, now, *old)
}

// Sweep removes the replaced sources and their variants right after the
// commit; what it cannot remove now the privacy housekeeping removes
// later.
func (cv *Covers) Sweep(ctx context.Context) {
	if cv == nil || cv.blobs == nil {
		return
	}
	if _, err := Sweep(context.WithoutCancel(ctx), cv.db, cv.blobs, 100); err != nil {
		slog.ErrorContext(ctx, "remove replaced cover files; the housekeeping tries again", slog.Any("error", err))
	}
}

// Now is the covers' clock.
func (cv *Covers) Now() time.Time { return cv.now() }

// AnyPublic returns a Public check that holds when one of checks does:
// the media handler's for story photos and every kind of cover.
func AnyPublic(checks ...func(ctx context.Context, key string) (bool, error)) func(ctx context.Context, key string) (bool, error) {
	return func(ctx context.Context, key string) (bool, error) {
		for _, check := range checks {
			ok, err := check(ctx, key)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
}

// Change sets the cover of one row to u, or removes it when u is nil, for
// the package whose table holds the row: it makes the upload safe and
// stores its source (Prepare), runs write in a transaction of db with the
// new columns and now, and after the commit removes the source replaced
// (Sweep); when write fails the new source goes again. write is the
// owning package's: it re-checks its rule on the row if it has one,
// writes its table (SetCoverTx, with its own UPDATE) and whatever must
// change with it. Who may change a cover is checked before, by that
// package, too.
func (cv *Covers) Change(ctx context.Context, db *store.DB, u *Upload, now time.Time,
	write func(tx *sqlx.Tx, cols CoverColumns) error) error {
	var cols CoverColumns
	undo := func() {}
	if u != nil {
		var err error
		if cols, undo, err = cv.Prepare(ctx, *u); err != nil {
			return err
		}
	}
	if err := db.Transact(ctx, func(tx *sqlx.Tx) error { return write(tx, cols) }); err != nil {
		undo()
		return err
	}
	cv.Sweep(ctx)
	return nil
}

// SetCoverTx runs update, the owning package's statement that writes a
// row's cover columns, with the arguments cover_key, cover_width,
// cover_height, cover_alt, cover_placeholder, now, id in that order, and
// records that the source before (old, nil for none) must go.
func SetCoverTx(ctx context.Context, tx *sqlx.Tx, update string, id int64, cols CoverColumns, old *string, now time.Time) error {
	if _, err := store.Exec(ctx, tx, update,
		cols.CoverKey, cols.CoverWidth, cols.CoverHeight, cols.CoverAlt, cols.CoverPlaceholder, now, id); err != nil {
		return fmt.Errorf("set cover of row %d: %w", id, err)
	}
	return ReplaceTx(ctx, tx, old, now)
}

// IsPublicCover reports whether key names a cover's source and count, the
// owning package's query of how many rows anyone may see have cover_key
// = ?, finds one.
func IsPublicCover(ctx context.Context, db *store.DB, count, key string) (bool, error) {
	if !IsCoverKey(key) {
		return false, nil
	}
	var n int
	if err := store.Get(ctx, db, &n, count, key); err != nil {
		return false, fmt.Errorf("is %s a public cover: %w", key, err)
	}
	return n > 0, nil
}
