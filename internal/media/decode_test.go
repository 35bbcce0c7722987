package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
)

func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func encodeJPEG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// The cost read from a header must never be less than what decoding
// really allocates, or the limit could be passed by choosing the format:
// each kind of image Go decodes differently is decoded here and what the
// decoder allocated is compared with the estimate.
func TestDecodeCostIsAnUpperBound(t *testing.T) {
	const w, h = 1024, 768
	gray := image.NewGray(image.Rect(0, 0, w, h))
	paletted := image.NewPaletted(image.Rect(0, 0, w, h), []color.Color{color.White, color.Black, color.NRGBA{255, 0, 0, 128}})
	file := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"jpeg baseline 4:2:0", mediatest.JPEG(w, h, nil)},
		{"jpeg baseline 4:2:2", file("baseline-422.jpg")},
		{"jpeg grey", encodeJPEG(gray)},
		{"jpeg rgb", file("rgb.jpg")},
		{"jpeg progressive 4:2:0", file("progressive-420.jpg")},
		{"jpeg progressive 4:4:4", file("progressive-444.jpg")},
		{"png rgba 8-bit", encodePNG(mediatest.Image(w, h))},
		{"png paletted", encodePNG(paletted)},
		{"png grey 8-bit", encodePNG(gray)},
		{"png grey 16-bit", mediatest.PNGZeros(w, h, 16, mediatest.PNGGray, false)},
		{"png rgb 16-bit", mediatest.PNGZeros(w, h, 16, mediatest.PNGRGB, false)},
		{"png rgba 16-bit", mediatest.PNGZeros(w, h, 16, mediatest.PNGRGBA, false)},
		{"png rgba 16-bit interlaced", mediatest.PNGZeros(w, h, 16, mediatest.PNGRGBA, true)},
		{"png grey+alpha 8-bit interlaced", mediatest.PNGZeros(w, h, 8, mediatest.PNGGrayAlpha, true)},
		{"webp lossy", file("lossy.webp")},
		{"webp lossy with alpha", file("lossy-alpha.webp")},
		{"webp lossless", file("lossless.webp")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind := sniff(c.data)
			f, ok := formats[kind]
			if !ok {
				t.Fatalf("not sniffed as an image: %q", kind)
			}
			hdr, err := inspect(kind, c.data, func(b []byte) (image.Config, error) { return f.decodeConfig(bytes.NewReader(b)) })
			if err != nil {
				t.Fatal(err)
			}
			if hdr.width != w || hdr.height != h {
				t.Fatalf("header says %dx%d, want %dx%d", hdr.width, hdr.height, w, h)
			}
			var img image.Image
			got := allocatedBy(func() { img, err = f.decode(bytes.NewReader(c.data)) })
			if err != nil {
				t.Fatal(err)
			}
			if got > uint64(hdr.cost) {
				t.Errorf("decoding %T allocated %d KB, the header's estimate is %d KB", img, got>>10, hdr.cost>>10)
			}
			// Nor so generous that ordinary photos are refused.
			if hdr.cost > int64(got)*3+2<<20 {
				t.Errorf("estimate %d KB is far above the %d KB decoding took", hdr.cost>>10, got>>10)
			}
		})
	}
}

// What making the renditions allocates beside the decoded image depends
// on the size only, and stays under renderCost.
func TestRenderCostIsAnUpperBound(t *testing.T) {
	const w, h = 1024, 768
	img, err := jpeg.Decode(bytes.NewReader(mediatest.JPEG(w, h, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var p Processed
	// Orientation 6 (turn a quarter) costs the most: an upright copy.
	rendering := allocatedBy(func() { p, err = renditions(img, 6) })
	if err != nil {
		t.Fatal(err)
	}
	if rc := renderCost(w, h, LargeWidth); rendering > uint64(rc) {
		t.Errorf("rendering allocated %d KB, estimate %d KB", rendering>>10, rc>>10)
	}
	if p.Large.Width != h || p.Large.Height != w || p.Small.Width != SmallWidth {
		t.Errorf("renditions %dx%d and %dx%d", p.Large.Width, p.Large.Height, p.Small.Width, p.Small.Height)
	}
}

// At most DecodeLimits.Concurrent images are decoded at once in the
// process, and a request that waits for its turn gives up with its
// context.
func TestDecodeGate(t *testing.T) {
	defer SetDecodeLimits(DecodeLimits{})
	SetDecodeLimits(DecodeLimits{Concurrent: 2})
	g := decodeGate()

	photo := mediatest.JPEG(400, 300, nil)
	// Both slots taken: a decode waits until one is free...
	r1, _ := g.acquire(context.Background())
	r2, _ := g.acquire(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Process(context.Background(), bytes.NewReader(photo), MaxUploadBytes)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("decoded while both slots were taken (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	r1()
	if err := <-done; err != nil {
		t.Fatalf("after a slot was freed: %v", err)
	}
	// ...and one whose context ends stops waiting.
	r1, _ = g.acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Process(ctx, bytes.NewReader(photo), MaxUploadBytes)
	if !errors.Is(err, context.DeadlineExceeded) || apperr.UserErrors(err) != nil {
		t.Errorf("queued past its deadline: %v, want the context's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}
	r1()
	r2()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Process(context.Background(), bytes.NewReader(photo), MaxUploadBytes); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(g.slots) != 0 {
		t.Errorf("%d slots still taken after every decode ended", len(g.slots))
	}
	if _, err := Process(context.Background(), bytes.NewReader(photo), MaxUploadBytes); err != nil {
		t.Errorf("after the slots were freed: %v", err)
	}
}

// The limit on decoded bytes is a setting: the same 16-bit PNG passes
// under a generous limit and is refused under a tight one.
func TestDecodeLimitIsASetting(t *testing.T) {
	defer SetDecodeLimits(DecodeLimits{})
	data := mediatest.PNGZeros(1000, 1000, 16, mediatest.PNGRGBA, false) // 8 MB decoded
	SetDecodeLimits(DecodeLimits{MaxBytes: 32 << 20})
	if _, err := Process(context.Background(), bytes.NewReader(data), MaxUploadBytes); err != nil {
		t.Fatalf("under a 32 MB limit: %v", err)
	}
	SetDecodeLimits(DecodeLimits{MaxBytes: 4 << 20})
	_, err := Process(context.Background(), bytes.NewReader(data), MaxUploadBytes)
	if ue := apperr.UserErrors(err); len(ue) != 1 || ue[0].Code != CodeImageTooLarge || ue[0].Params["Width"] != 1000 {
		t.Errorf("under a 4 MB limit: %v, want %s with the size", err, CodeImageTooLarge)
	}
}

// Scaling averages the area each pixel covers, and transparent parts come
// out white (JPEG has no transparency).
func TestShrinkAverages(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for x := 0; x < 3; x++ {
		src.SetNRGBA(x, 0, color.NRGBA{0, 0, 0, 255}) // black
		src.SetNRGBA(x, 1, color.NRGBA{255, 0, 0, 0}) // fully transparent: white
	}
	got := shrink(src, 1, 1).RGBAAt(0, 0)
	if want := (color.RGBA{128, 128, 128, 255}); got != want {
		t.Errorf("1x1 of black over white = %v, want %v", got, want)
	}
	// 3 columns into 2: the middle column is split between both.
	row := image.NewGray(image.Rect(0, 0, 3, 1))
	row.Pix = []uint8{0, 90, 180}
	out := shrink(row, 2, 1)
	if a, b := out.RGBAAt(0, 0).R, out.RGBAAt(1, 0).R; a != 30 || b != 150 {
		t.Errorf("3→2 = %d, %d; want 30, 150", a, b)
	}
}

// A long, narrow image makes renditions at most MaxAspect times their
// width class tall, not ones of its full height.
func TestRenditionsOfATallImage(t *testing.T) {
	p, err := Process(context.Background(), bytes.NewReader(mediatest.JPEG(300, 6000, nil)), MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 300 || p.Height != 6000 {
		t.Errorf("original %dx%d", p.Width, p.Height)
	}
	if p.Large.Width != 256 || p.Large.Height != MaxAspect*LargeWidth {
		t.Errorf("large = %dx%d, want 256x%d", p.Large.Width, p.Large.Height, MaxAspect*LargeWidth)
	}
	if p.Small.Width != 64 || p.Small.Height != MaxAspect*SmallWidth {
		t.Errorf("small = %dx%d, want 64x%d", p.Small.Width, p.Small.Height, MaxAspect*SmallWidth)
	}
}
