// Package media keeps the photos people upload: a small blob store (a
// directory under the data dir by default, or a bucket of an S3-compatible
// object store that several replicas share; see Open), the HTTP handler
// that serves it at /media/, and the processing that turns an upload into
// clean, resized JPEGs.
package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
)

// ErrNotFound is returned by Open for a key that holds nothing.
var ErrNotFound = errors.New("media: not found")

// ErrInvalidKey is returned for keys that could escape the store or name
// something other than a blob.
var ErrInvalidKey = errors.New("media: invalid key")

// Store holds blobs by key. Keys are slash-separated, e.g. "ab/abcd-320.jpg".
// Dir and S3 implement it.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, contentType string) error
	// Open returns the blob, or an error wrapping ErrNotFound. The reader
	// is an io.ReadSeeker for both stores, which lets the handler serve
	// range requests.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	Close() error
}

// Each path segment starts with a letter or digit, so "." and ".." (and
// hidden files) can never be named.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3}$`)

// ValidKey reports whether key is safe to use as a blob name.
func ValidKey(key string) bool {
	return keyPattern.MatchString(key) && !strings.Contains(key, "..")
}

// NewKey returns a fresh random key ending in suffix (e.g. "-320.jpg"),
// spread over 256 subdirectories. Keys are never reused, which is what
// lets the handler tell browsers to cache them forever.
func NewKey(suffix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:2] + "/" + h + suffix
}

// Dir is a Store in a directory on disk.
type Dir struct {
	root *os.Root
}

// NewDir returns a Store in dir, creating it if needed. All access goes
// through an os.Root, so even a key that slipped past validation cannot
// reach outside dir (symlinks included).
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create media directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open media directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Put writes the blob to a temporary file and renames it into place, so a
// reader never sees half a file and a failed write leaves nothing behind.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, _ string) error {
	if !ValidKey(key) {
		return fmt.Errorf("put %q: %w", key, ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir := path.Dir(key); dir != "." {
		if err := d.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("put %s: create directory: %w", key, err)
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tmp := path.Join(path.Dir(key), ".tmp-"+hex.EncodeToString(b))
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = d.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("put %s: write: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put %s: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put %s: close: %w", key, err)
	}
	if err := d.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("put %s: rename: %w", key, err)
	}
	ok = true
	return nil
}

// Open returns the blob at key; the result is an *os.File, so it can be
// served with range requests.
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("open %q: %w", key, ErrInvalidKey)
	}
	f, err := d.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// Delete removes the blob at key; deleting what is not there is no error,
// so clean-ups can be retried.
func (d *Dir) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("delete %q: %w", key, ErrInvalidKey)
	}
	err := d.root.Remove(key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix removes the directory prefix names (the cached variants of
// an image) and everything in it; a missing one is no error.
func (d *Dir) DeletePrefix(_ context.Context, prefix string) error {
	dir := strings.TrimSuffix(prefix, "/")
	if !ValidKey(dir) {
		return fmt.Errorf("delete prefix %q: %w", prefix, ErrInvalidKey)
	}
	if err := d.root.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", dir, err)
	}
	return nil
}
