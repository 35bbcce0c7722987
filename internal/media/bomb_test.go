package media_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
)

// allocated returns how many bytes f allocated on the heap. Tests using
// it do not run in parallel, so the count is f's own.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bombs are uploads that are small but would take far more memory to
// decode than an upload may: each must be refused from its header, before
// a single pixel is decoded.
func bombs() []struct {
	name string
	data []byte
	code string
} {
	jpg := mediatest.JPEG(64, 48, nil)
	return []struct {
		name string
		data []byte
		code string
	}{
		// 10^10 one-bit pixels in a few dozen bytes.
		{"png claiming 100000x100000", mediatest.PNGClaiming(100000, 100000), media.CodeImageTooLarge},
		// The bomb: a real, valid 16-bit RGBA PNG of ~300 KB that
		// decodes to 128 MB (16 megapixels, under the pixel limit).
		{"png 16-bit rgba 4000x4000", mediatest.PNGZeros(4000, 4000, 16, mediatest.PNGRGBA, false), media.CodeImageTooLarge},
		{"png 16-bit rgba interlaced 3000x3000", mediatest.PNGZeros(3000, 3000, 16, mediatest.PNGRGBA, true), media.CodeImageTooLarge},
		{"jpeg SOF 65000x65000", mediatest.JPEGFrame(jpg, 0xC0, 65000, 65000, nil), media.CodeImageTooLarge},
		// 12 megapixels baseline 4:2:0 would pass; progressive 4:4:4 keeps
		// 4-byte coefficients of every sample (180 MB).
		{"progressive jpeg 4:4:4 4000x3000", mediatest.JPEGFrame(jpg, 0xC2, 4000, 3000, []byte{0x11, 0x11, 0x11}), media.CodeImageTooLarge},
		{"gif screen 65535x65535", mediatest.GIFScreen(65535, 65535), media.CodePhotoTypeNotAllowed},
		{"webp canvas 16384x16384", mediatest.WebPCanvas(16384, 16384), media.CodeImageTooLarge},
	}
}

func TestProcessRefusesBombsBeforeDecoding(t *testing.T) {
	for _, b := range bombs() {
		t.Run(b.name, func(t *testing.T) {
			if len(b.data) > 1<<20 {
				t.Fatalf("bomb is %d bytes; it should be small", len(b.data))
			}
			var err error
			n := allocated(func() {
				_, err = media.Process(context.Background(), bytes.NewReader(b.data), media.MaxUploadBytes, "photos", "0")
			})
			if got := code(err); got != b.code {
				t.Fatalf("err = %v, want user error %s", err, b.code)
			}
			// Reading the upload and its header, nothing more.
			if limit := uint64(len(b.data))*4 + 1<<20; n > limit {
				t.Errorf("refusing it allocated %d bytes, want under %d", n, limit)
			}
		})
	}
}

// Ten bombs at once cost what reading them costs, not what decoding them
// would (the four took the process from 972 MB to 2.2 GB).
func TestConcurrentBombsStaySmall(t *testing.T) {
	data := mediatest.PNGZeros(4000, 4000, 16, mediatest.PNGRGBA, false)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	n := allocated(func() {
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = media.Process(context.Background(), bytes.NewReader(data), media.MaxUploadBytes)
			}()
		}
		wg.Wait()
	})
	for i, err := range errs {
		if code(err) != media.CodeImageTooLarge {
			t.Errorf("upload %d: %v, want %s", i, err, media.CodeImageTooLarge)
		}
	}
	if n > 30<<20 {
		t.Errorf("ten bombs allocated %d MB, want under 30", n>>20)
	}
}
