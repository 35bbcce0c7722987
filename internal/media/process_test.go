package media_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"testing"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
)

func code(err error) string {
	if ue := apperr.UserErrors(err); len(ue) == 1 {
		return ue[0].Code
	}
	return ""
}

func TestProcessStripsEXIFAndResizes(t *testing.T) {
	in := mediatest.JPEG(2000, 1000, &mediatest.EXIF{GPS: true})
	if !mediatest.HasEXIF(in) || media.JPEGOrientation(in) != 1 {
		t.Fatal("test photo should carry EXIF without orientation")
	}
	p, err := media.Process(context.Background(), bytes.NewReader(in), media.MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 2000 || p.Height != 1000 {
		t.Errorf("original size = %dx%d, want 2000x1000", p.Width, p.Height)
	}
	for _, r := range []struct {
		name string
		got  media.Rendition
		w, h int
	}{{"small", p.Small, 320, 160}, {"large", p.Large, 1280, 640}} {
		if mediatest.HasEXIF(r.got.Data) {
			t.Errorf("%s rendition still has EXIF", r.name)
		}
		img := mediatest.Decode(r.got.Data)
		if b := img.Bounds(); b.Dx() != r.w || b.Dy() != r.h || r.got.Width != r.w || r.got.Height != r.h {
			t.Errorf("%s: decoded %v, reported %dx%d; want %dx%d", r.name, b, r.got.Width, r.got.Height, r.w, r.h)
		}
	}
}

func TestProcessNeverUpscales(t *testing.T) {
	p, err := media.Process(context.Background(), bytes.NewReader(mediatest.PNG(600, 400)), media.MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Small.Width != 320 || p.Small.Height != 213 {
		t.Errorf("small = %dx%d, want 320x213", p.Small.Width, p.Small.Height)
	}
	if p.Large.Width != 600 || p.Large.Height != 400 {
		t.Errorf("large = %dx%d, want 600x400 (not upscaled)", p.Large.Width, p.Large.Height)
	}
	if !bytes.HasPrefix(p.Large.Data, []byte{0xFF, 0xD8, 0xFF}) {
		t.Error("PNG input should come out as JPEG")
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { x := int(a>>8) - int(b); return x > -60 && x < 60 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestProcessAppliesOrientation(t *testing.T) {
	// Stored 800x400 landscape with the red quadrant top-left; orientation 6
	// means "turn 90° clockwise to display", so the upright photo is 400x800
	// portrait with the red quadrant top-right.
	in := mediatest.JPEG(800, 400, &mediatest.EXIF{Orientation: 6, GPS: true})
	if got := media.JPEGOrientation(in); got != 6 {
		t.Fatalf("JPEGOrientation = %d, want 6", got)
	}
	p, err := media.Process(context.Background(), bytes.NewReader(in), media.MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 400 || p.Height != 800 {
		t.Errorf("upright size = %dx%d, want 400x800", p.Width, p.Height)
	}
	img := mediatest.Decode(p.Large.Data)
	b := img.Bounds()
	if b.Dx() != 400 || b.Dy() != 800 {
		t.Fatalf("large = %v, want 400x800", b)
	}
	if !near(img.At(b.Dx()-20, 20), mediatest.Red) || !near(img.At(20, 20), mediatest.Blue) {
		t.Errorf("after orientation 6 top-right = %v, top-left = %v; want red, blue", img.At(b.Dx()-20, 20), img.At(20, 20))
	}
	if mediatest.HasEXIF(p.Large.Data) || mediatest.HasEXIF(p.Small.Data) {
		t.Error("EXIF survived")
	}
	if p.Small.Width != 320 || p.Small.Height != 640 {
		t.Errorf("small = %dx%d, want 320x640", p.Small.Width, p.Small.Height)
	}
}

func TestProcessRefuses(t *testing.T) {
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 10, 10), []color.Color{color.White, color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	truncated := mediatest.JPEG(100, 100, nil)[:300]
	tests := []struct {
		name string
		r    io.Reader
		code string
	}{
		{"gif", &gifBuf, media.CodePhotoTypeNotAllowed},
		{"text named .jpg", bytes.NewReader([]byte("definitely a photo, trust me")), media.CodePhotoTypeNotAllowed},
		{"empty", bytes.NewReader(nil), media.CodePhotoTypeNotAllowed},
		{"truncated jpeg", bytes.NewReader(truncated), media.CodePhotoUnreadable},
		{"oversized stream", io.MultiReader(bytes.NewReader(mediatest.JPEG(10, 10, nil)), zeros{}), media.CodePhotoTooLarge},
		{"decompression bomb", bytes.NewReader(mediatest.PNGClaiming(10000, 6000)), media.CodeImageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := media.Process(context.Background(), tt.r, media.MaxUploadBytes, "photos", "0")
			if got := code(err); got != tt.code {
				t.Errorf("err = %v, want user error %s", err, tt.code)
			}
		})
	}
}

// zeros is an endless stream: an upload whose size nobody declared.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSniffWebP(t *testing.T) {
	// A RIFF/WEBP header with garbage after it is recognised as WebP and
	// then refused as unreadable, not as a wrong type.
	data := append([]byte("RIFF\x20\x00\x00\x00WEBPVP8 "), make([]byte, 40)...)
	_, err := media.Process(context.Background(), bytes.NewReader(data), media.MaxUploadBytes)
	if got := code(err); got != media.CodePhotoUnreadable {
		t.Errorf("err = %v, want %s", err, media.CodePhotoUnreadable)
	}
	if errors.Is(err, io.EOF) {
		t.Error("leaked a read error")
	}
}
