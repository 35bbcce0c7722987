// Package mediatest builds test photos: JPEGs with EXIF segments (GPS
// position, orientation) spliced in the way phones write them, and a
// check that stored bytes carry no EXIF.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// Marker colours: the top-left quadrant of a test image is Red, the rest Blue.
var (
	Red  = color.RGBA{R: 255, A: 255}
	Blue = color.RGBA{B: 255, A: 255}
)

// Image returns a w×h image whose top-left quadrant is Red, the rest Blue,
// so a rotation can be seen in where the red ends up.
func Image(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := Blue
			if x < w/2 && y < h/2 {
				c = Red
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// EXIF describes the segment to splice into a JPEG.
type EXIF struct {
	Orientation int  // 0 leaves the tag out
	GPS         bool // adds a GPS IFD with a position in Ishøj
}

// JPEG encodes Image(w, h) and, when exif is not nil, splices an APP1
// Exif segment right after the start-of-image marker.
func JPEG(w, h int, exif *EXIF) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Image(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	data := buf.Bytes()
	if exif == nil {
		return data
	}
	payload := append([]byte("Exif\x00\x00"), tiff(*exif)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, data[:2]...)
	out = append(out, seg...)
	return append(out, data[2:]...)
}

// PNG encodes Image(w, h) as PNG.
func PNG(w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, Image(w, h)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// tiff builds a little-endian EXIF TIFF body: IFD0 with the orientation
// and a pointer to a GPS IFD holding latitude 55°37'N.
func tiff(e EXIF) []byte {
	le := binary.LittleEndian
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32
	}
	var ifd0 []entry
	if e.Orientation != 0 {
		ifd0 = append(ifd0, entry{0x0112, 3, 1, uint32(e.Orientation)})
	}
	gpsAt := 8 + 2 + 12*(len(ifd0)+1) + 4
	if e.GPS {
		ifd0 = append(ifd0, entry{0x8825, 4, 1, uint32(gpsAt)})
	}
	out := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	writeIFD := func(es []entry) {
		out = le.AppendUint16(out, uint16(len(es)))
		for _, en := range es {
			out = le.AppendUint16(out, en.tag)
			out = le.AppendUint16(out, en.typ)
			out = le.AppendUint32(out, en.count)
			out = le.AppendUint32(out, en.value)
		}
		out = le.AppendUint32(out, 0) // no next IFD
	}
	writeIFD(ifd0)
	if e.GPS {
		if len(out) != gpsAt {
			panic("mediatest: GPS IFD offset miscounted")
		}
		ratAt := gpsAt + 2 + 12*2 + 4
		writeIFD([]entry{
			{0x0001, 2, 2, uint32('N')},   // GPSLatitudeRef "N\0"
			{0x0002, 5, 3, uint32(ratAt)}, // GPSLatitude, three rationals
		})
		for _, r := range [][2]uint32{{55, 1}, {37, 1}, {1234, 100}} {
			out = le.AppendUint32(out, r[0])
			out = le.AppendUint32(out, r[1])
		}
	}
	return out
}

// HasEXIF reports whether a JPEG carries an APP1 Exif segment, or the
// Exif signature anywhere at all.
func HasEXIF(data []byte) bool {
	if bytes.Contains(data, []byte("Exif\x00\x00")) {
		return true
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return false
		}
		m := data[i+1]
		if m == 0xDA || m == 0xD9 {
			return false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if m == 0xE1 {
			return true
		}
		i += 2 + n
	}
	return false
}

// Decode decodes a JPEG, panicking on error (tests only).
func Decode(data []byte) image.Image {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	return img
}
