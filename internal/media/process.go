package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// MaxUploadBytes is the largest photo people may upload.
const MaxUploadBytes = 15 << 20

// MaxPixels guards against decompression bombs: a small file that claims
// a huge canvas is refused before it is decoded.
const MaxPixels = 40_000_000

// Widths are the sizes made for the app, each never wider than the original.
const (
	SmallWidth = 320
	LargeWidth = 1280
)

// JPEGQuality is a good balance of size and quality for photos on phones.
const JPEGQuality = 82

// User error codes raised by Process.
const (
	CodePhotoTooLarge       = "PHOTO_TOO_LARGE"
	CodePhotoTypeNotAllowed = "PHOTO_TYPE_NOT_ALLOWED"
	CodePhotoUnreadable     = "PHOTO_UNREADABLE"
	CodePhotoTooManyPixels  = "PHOTO_TOO_MANY_PIXELS"
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
}

// Process reads an uploaded photo (at most maxBytes, counted while
// reading; a declared size is never trusted), checks that it is a JPEG,
// PNG or WebP by its bytes, turns it upright by its EXIF orientation and
// re-encodes it in two sizes. Re-encoding drops every metadata segment,
// GPS position included. field names the input in returned user errors.
func Process(r io.Reader, maxBytes int64, field ...string) (Processed, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return Processed{}, fmt.Errorf("read photo: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return Processed{}, apperr.New(CodePhotoTooLarge, field...).With("MaxMB", maxBytes>>20)
	}
	format := sniff(data)
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch format {
	case "image/jpeg":
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case "image/png":
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case "image/webp":
		decodeConfig, decode = webp.DecodeConfig, webp.Decode
	default:
		return Processed{}, apperr.New(CodePhotoTypeNotAllowed, field...)
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return Processed{}, apperr.New(CodePhotoUnreadable, field...)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Processed{}, apperr.New(CodePhotoTooManyPixels, field...).With("MaxMegapixels", MaxPixels/1_000_000)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return Processed{}, apperr.New(CodePhotoUnreadable, field...)
	}
	orientation := 1
	if format == "image/jpeg" {
		orientation = JPEGOrientation(data)
	}
	var p Processed
	b := img.Bounds()
	p.Width, p.Height = b.Dx(), b.Dy()
	if orientation >= 5 {
		p.Width, p.Height = p.Height, p.Width
	}
	if p.Small, err = render(img, orientation, p.Width, p.Height, SmallWidth); err != nil {
		return Processed{}, err
	}
	if p.Large, err = render(img, orientation, p.Width, p.Height, LargeWidth); err != nil {
		return Processed{}, err
	}
	return p, nil
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

// render scales src to width w (never up) and turns it upright. (uw, uh)
// is the size of the upright original. Scaling happens before rotation so
// the pixel-by-pixel rotation only touches the small result.
func render(src image.Image, orientation, uw, uh, w int) (Rendition, error) {
	if w > uw {
		w = uw
	}
	h := max(1, (uh*w+uw/2)/uw)
	sw, sh := w, h
	if orientation >= 5 {
		sw, sh = h, w
	}
	scaled := image.NewRGBA(image.Rect(0, 0, sw, sh))
	// JPEG has no transparency: transparent PNG/WebP areas become white.
	draw.Draw(scaled, scaled.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, src.Bounds(), draw.Over, nil)
	upright := orient(scaled, orientation)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, upright, &jpeg.Options{Quality: JPEGQuality}); err != nil {
		return Rendition{}, fmt.Errorf("encode photo: %w", err)
	}
	ub := upright.Bounds()
	return Rendition{Data: buf.Bytes(), Width: ub.Dx(), Height: ub.Dy()}, nil
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
