package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"runtime/debug"

	"golang.org/x/image/webp"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// MaxUploadBytes is the largest photo people may upload.
const MaxUploadBytes = 15 << 20

// Widths are the sizes made for the app, each never wider than the
// original. A rendition is at most MaxAspect times its width class tall (a
// long screenshot comes out narrower), so a tall, narrow upload cannot make
// a rendition of tens of megapixels.
const (
	SmallWidth = 320
	LargeWidth = 1280
	MaxAspect  = 4
)

// JPEGQuality is a good balance of size and quality for photos on phones.
const JPEGQuality = 82

// User error codes raised by Process (and CodeImageTooLarge).
const (
	CodePhotoTooLarge       = "PHOTO_TOO_LARGE"
	CodePhotoTypeNotAllowed = "PHOTO_TYPE_NOT_ALLOWED"
	CodePhotoUnreadable     = "PHOTO_UNREADABLE"
)

// Rendition is one re-encoded size of a photo, always JPEG.
type Rendition struct {
	Data   []byte
	Width  int
	Height int
}

// ContentType is the type of every rendition.
const ContentType = "image/jpeg"

// Processed is an upload made safe: upright, without metadata, in the
// sizes the app shows.
type Processed struct {
	// Width and Height are of the upright original.
	Width, Height int
	Small, Large  Rendition
	// Placeholder is the BlurHash of the photo.
	Placeholder string
}

type format struct {
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var formats = map[string]format{
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/webp": {webp.DecodeConfig, webp.Decode},
}

// Process reads an uploaded photo (at most maxBytes, counted while
// reading; a declared size is never trusted), checks that it is a JPEG,
// PNG or WebP by its bytes, turns it upright by its EXIF orientation and
// re-encodes it in two sizes. Re-encoding drops every metadata segment,
// GPS position included. field names the input in returned user errors.
//
// What decoding would cost is read from the image's header first: an
// image whose decoded size is over the limit is refused (IMAGE_TOO_LARGE)
// before a pixel is decoded, and the decode itself waits for one of the
// process's few decode slots (see DecodeLimits), or for ctx to end.
func Process(ctx context.Context, r io.Reader, maxBytes int64, field ...string) (Processed, error) {
	var p Processed
	err := load(ctx, r, maxBytes, LargeWidth, field, func(img image.Image, orientation int) (err error) {
		p, err = renditions(img, orientation)
		return err
	})
	return p, err
}

// Source is an upload made safe to keep as the source of an image's
// variants (a cover): upright, without metadata, at most MaxImageWidth
// wide, as a JPEG, with its placeholder.
type Source struct {
	Data          []byte
	Width, Height int
	Placeholder   string
}

// ProcessSource reads an uploaded image as Process does, with the same
// checks and limits, and re-encodes it once, at most MaxImageWidth wide
// (and MaxAspect times that tall), with its BlurHash.
func ProcessSource(ctx context.Context, r io.Reader, maxBytes int64, field ...string) (Source, error) {
	var src Source
	err := load(ctx, r, maxBytes, MaxImageWidth, field, func(img image.Image, orientation int) error {
		b := img.Bounds()
		uw, uh := b.Dx(), b.Dy()
		if orientation >= 5 {
			uw, uh = uh, uw
		}
		w, h := renditionSize(uw, uh, MaxImageWidth)
		if orientation >= 5 {
			w, h = h, w
		}
		upright := orient(shrink(img, w, h), orientation)
		rd, err := encode(upright)
		if err != nil {
			return err
		}
		ph, err := Placeholder(upright)
		if err != nil {
			return err
		}
		src = Source{Data: rd.Data, Width: rd.Width, Height: rd.Height, Placeholder: ph}
		return nil
	})
	return src, err
}

// load reads, checks and decodes an upload for use, which makes what is
// kept of it from the decoded image and its EXIF orientation. class is
// the widest copy use makes, for the cost of making it.
func load(ctx context.Context, r io.Reader, maxBytes int64, class int, field []string, use func(image.Image, int) error) error {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return fmt.Errorf("read photo: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return apperr.New(CodePhotoTooLarge, field...).With("MaxMB", maxBytes>>20)
	}
	kind := sniff(data)
	f, ok := formats[kind]
	if !ok {
		return apperr.New(CodePhotoTypeNotAllowed, field...)
	}
	hdr, err := inspect(kind, data, func(b []byte) (image.Config, error) { return f.decodeConfig(bytes.NewReader(b)) })
	if err != nil {
		return apperr.New(CodePhotoUnreadable, field...)
	}
	g := decodeGate()
	cost := hdr.cost + renderCost(hdr.width, hdr.height, class)
	if int64(hdr.width)*int64(hdr.height) > MaxPixels || cost > g.limits.MaxBytes {
		return apperr.New(CodeImageTooLarge, field...).
			With("Width", hdr.width).With("Height", hdr.height).With("MaxMegapixels", MaxPixels/1_000_000)
	}
	release, err := g.acquire(ctx)
	if err != nil {
		return err
	}
	err = decode(f, kind, data, field, use)
	release()
	if cost >= returnAbove {
		// The decoded image is garbage now, but with the server's GOGC=400
		// the heap may grow to five times what was live at the last
		// collection before the next one: ten large uploads in a row took
		// the process from 53 to 629 MB. Collecting now and handing the
		// pages back keeps the process at what the decode slots hold.
		debug.FreeOSMemory()
	}
	return err
}

// returnAbove is the decode cost from which the memory is collected and
// returned to the system right after: from about 5 megapixels (an
// ordinary 12 megapixel JPEG costs 31 MB). A collection costs a few
// milliseconds beside the decode's hundreds.
const returnAbove = 16 << 20

func decode(f format, kind string, data []byte, field []string, use func(image.Image, int) error) error {
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return apperr.New(CodePhotoUnreadable, field...)
	}
	orientation := 1
	if kind == "image/jpeg" {
		orientation = JPEGOrientation(data)
	}
	return use(img, orientation)
}

// sniff names the image type from the content; http.DetectContentType is
// checked against the magic numbers so neither alone decides.
func sniff(data []byte) string {
	ct := http.DetectContentType(data)
	switch {
	case ct == "image/jpeg" && bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return ct
	case ct == "image/png" && bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return ct
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// renditionSize is the size of the rendition in width class (SmallWidth,
// LargeWidth) of an upright uw×uh image: never wider than the original or
// the class, never taller than MaxAspect times the class.
func renditionSize(uw, uh, class int) (int, int) {
	w := min(class, uw)
	h := max(1, (uh*w+uw/2)/uw)
	if h > MaxAspect*class {
		h = MaxAspect * class
		w = max(1, (uw*h+uh/2)/uh)
	}
	return w, h
}

// renderCost bounds what making the renditions of a w×h image allocates
// beside the decoded image: the scaled largest copy (of width class) and
// its upright copy at four bytes a pixel, and up to two more for the small
// one and the growing buffers of the JPEG encodings.
func renderCost(w, h, class int) int64 {
	lw, lh := renditionSize(w, h, class)
	return int64(lw)*int64(lh)*10 + 1<<20
}

// renditions makes the two sizes of img, upright. The small one is scaled
// from the large one, which is a fraction of the original's size, so the
// original is read once.
func renditions(img image.Image, orientation int) (Processed, error) {
	var p Processed
	b := img.Bounds()
	p.Width, p.Height = b.Dx(), b.Dy()
	if orientation >= 5 {
		p.Width, p.Height = p.Height, p.Width
	}
	// stored turns an upright size into the size before orientation.
	stored := func(w, h int) (int, int) {
		if orientation >= 5 {
			return h, w
		}
		return w, h
	}
	lw, lh := stored(renditionSize(p.Width, p.Height, LargeWidth))
	large := shrink(img, lw, lh)
	sw, sh := stored(renditionSize(p.Width, p.Height, SmallWidth))
	small := shrink(large, sw, sh)
	var err error
	if p.Large, err = encode(orient(large, orientation)); err != nil {
		return Processed{}, err
	}
	uprightSmall := orient(small, orientation)
	if p.Small, err = encode(uprightSmall); err != nil {
		return Processed{}, err
	}
	if p.Placeholder, err = Placeholder(uprightSmall); err != nil {
		return Processed{}, err
	}
	return p, nil
}

func encode(img *image.RGBA) (Rendition, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality}); err != nil {
		return Rendition{}, fmt.Errorf("encode photo: %w", err)
	}
	b := img.Bounds()
	return Rendition{Data: buf.Bytes(), Width: b.Dx(), Height: b.Dy()}, nil
}

// orient applies the EXIF orientation (1–8) to img: the transformation
// that makes a photo stored sideways by a phone display upright.
func orient(img *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if orientation >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch orientation {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // upside down, mirrored
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // needs 90° clockwise
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // needs 90° counter-clockwise
				dx, dy = y, w-1-x
			}
			si := img.PixOffset(x, y)
			di := dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}

var errNoExif = errors.New("no exif")

// JPEGOrientation returns the EXIF orientation tag (1–8) of a JPEG, or 1
// when there is none or it cannot be read.
func JPEGOrientation(data []byte) int {
	tiff, err := exifTIFF(data)
	if err != nil {
		return 1
	}
	o := tiffOrientation(tiff)
	if o < 1 || o > 8 {
		return 1
	}
	return o
}

// exifTIFF finds the APP1 "Exif" segment before the image data and
// returns its TIFF body.
func exifTIFF(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, errNoExif
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil, errNoExif
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return nil, errNoExif
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil, errNoExif
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:], nil
		}
		i += 2 + n
	}
	return nil, errNoExif
}

// tiffOrientation reads tag 0x0112 from IFD0 of an EXIF TIFF body.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	count := int(bo.Uint16(t[ifd:]))
	for k := 0; k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		tag, typ := bo.Uint16(t[e:]), bo.Uint16(t[e+2:])
		if tag == 0x0112 && typ == 3 { // SHORT, stored in the value field
			return int(bo.Uint16(t[e+8:]))
		}
	}
	return 0
}

// Measure reads a stored image with the checks and limits of an upload
// and returns its size and BlurHash, for images kept before their
// placeholder was (story photos from before migration 00024). Nothing is
// re-encoded. What this server stored is upright and without metadata,
// so an orientation tag is not looked for.
func Measure(ctx context.Context, r io.Reader, maxBytes int64) (width, height int, placeholder string, err error) {
	err = load(ctx, r, maxBytes, placeholderSide, nil, func(img image.Image, _ int) error {
		b := img.Bounds()
		width, height = b.Dx(), b.Dy()
		var perr error
		placeholder, perr = Placeholder(img)
		return perr
	})
	return width, height, placeholder, err
}
