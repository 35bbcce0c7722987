package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"

	"golang.org/x/sync/singleflight"
)

// maxSourceBytes bounds what is read of a source blob to resize it. The
// sources are the server's own re-encodings (at most MaxImageWidth wide),
// a few hundred kilobytes; this only guards against a store that hands
// back something else.
const maxSourceBytes = 32 << 20

// variants makes and caches the resized copies of blobs. The first request
// for a variant decodes its source, resizes and encodes it, and stores the
// result in the blob store beside the source (variantKey); every later one
// is served from there. Requests for the same variant at the same moment
// share one resize.
type variants struct {
	store  Store
	flight singleflight.Group
}

// open returns variant v of the blob at key, from the cache or made now;
// hit says which. The error wraps ErrNotFound when the source is gone.
func (vs *variants) open(ctx context.Context, key string, v Variant) (rc io.ReadCloser, hit bool, err error) {
	vk := variantKey(key, v)
	rc, err = vs.store.Open(ctx, vk)
	if err == nil {
		return rc, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	// The resize goes on if the request that started it gives up: others
	// may be waiting for it, and the next one finds it cached.
	out, err, _ := vs.flight.Do(vk, func() (any, error) {
		return vs.make(context.WithoutCancel(ctx), key, vk, v)
	})
	if err != nil {
		return nil, false, err
	}
	return nopCloser{bytes.NewReader(out.([]byte))}, false, nil
}

// make resizes the source at key into variant v and stores it at vk.
func (vs *variants) make(ctx context.Context, key, vk string, v Variant) ([]byte, error) {
	src, err := vs.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(src, maxSourceBytes+1))
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("read source %s: %w", key, err)
	}
	if len(data) > maxSourceBytes {
		return nil, fmt.Errorf("source %s larger than %d bytes", key, maxSourceBytes)
	}
	out, err := Resize(ctx, data, v)
	if err != nil {
		return nil, fmt.Errorf("resize %s to %s: %w", key, vk, err)
	}
	if err := vs.store.Put(ctx, vk, bytes.NewReader(out), ContentType); err != nil {
		// Served all the same; the next request tries to cache it again.
		slog.ErrorContext(ctx, "cache image variant", slog.String("key", vk), slog.Any("error", err))
		return out, nil
	}
	// A source removed while it was being resized (a story rejected, a
	// cover replaced) has had its variants removed already; this one
	// would be left behind, so it goes too. Sweep removes the source
	// before its variants, so this check, after the Put, always sees it.
	if rc, err := vs.store.Open(ctx, key); errors.Is(err, ErrNotFound) {
		if err := vs.store.Delete(ctx, vk); err != nil {
			slog.ErrorContext(ctx, "remove variant of a removed image", slog.String("key", vk), slog.Any("error", err))
		}
		return nil, fmt.Errorf("source %s: %w", key, ErrNotFound)
	} else if err == nil {
		rc.Close()
	}
	return out, nil
}

// Resize decodes the image in data (JPEG, PNG or WebP, checked as
// uploads are: its decoded size from its header first, then in one of the
// process's decode slots) and returns variant v of it as a JPEG.
func Resize(ctx context.Context, data []byte, v Variant) ([]byte, error) {
	kind := sniff(data)
	f, ok := formats[kind]
	if !ok {
		return nil, errors.New("not an image")
	}
	hdr, err := inspect(kind, data, func(b []byte) (image.Config, error) { return f.decodeConfig(bytes.NewReader(b)) })
	if err != nil {
		return nil, err
	}
	g := decodeGate()
	if int64(hdr.width)*int64(hdr.height) > MaxPixels || hdr.cost+int64(hdr.width)*int64(hdr.height)*4 > g.limits.MaxBytes {
		return nil, fmt.Errorf("source of %d×%d over the decode limits", hdr.width, hdr.height)
	}
	release, err := g.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	b := img.Bounds()
	crop, w, h := v.size(b.Dx(), b.Dy())
	if crop != image.Rect(0, 0, b.Dx(), b.Dy()) {
		if s, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok {
			img = s.SubImage(crop.Add(b.Min))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, shrink(img, w, h), &jpeg.Options{Quality: JPEGQuality}); err != nil {
		return nil, fmt.Errorf("encode variant: %w", err)
	}
	return buf.Bytes(), nil
}

// deleteVariants removes every cached variant of the blob at key.
func deleteVariants(ctx context.Context, s Store, key string) error {
	if p, ok := s.(interface {
		DeletePrefix(ctx context.Context, prefix string) error
	}); ok {
		return p.DeletePrefix(ctx, VariantPrefix(key))
	}
	for _, v := range AllVariants() {
		if err := s.Delete(ctx, variantKey(key, v)); err != nil {
			return err
		}
	}
	return nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
