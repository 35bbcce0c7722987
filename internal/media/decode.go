package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
)

// What decoding may cost. An upload is a few megabytes; decoded, a small
// file can claim a canvas of gigabytes (a "decompression bomb": the
// review's 300 KB 16-bit PNG took 625 MB). So the header is read first and
// what the decoder would allocate is worked out from it (size, bit depth,
// colour model, progressive or not) before any pixel is decoded; and only
// a few decodes run at once in the whole process, so the worst case is
// DecodeLimits.Concurrent × DecodeLimits.MaxBytes.
const (
	// MaxPixels bounds the canvas whatever its depth: it is also the CPU
	// time of decoding and scaling. 50 megapixels is a phone's largest
	// photo.
	MaxPixels = 50_000_000
	// DefaultMaxDecodedBytes is what decoding and scaling one image may
	// allocate: enough for a 48 megapixel JPEG as phones write it (72 MB
	// decoded), a 20 megapixel PNG, a 10 megapixel 16-bit PNG or
	// progressive JPEG.
	DefaultMaxDecodedBytes = 96 << 20
	// DefaultConcurrentDecodes is how many images are decoded at once.
	DefaultConcurrentDecodes = 2
)

// CodeImageTooLarge refuses an image whose decoded size is over the limit,
// whatever its file size.
const CodeImageTooLarge = "IMAGE_TOO_LARGE"

// DecodeLimits bound decoding in the process; zero fields take defaults.
type DecodeLimits struct {
	// MaxBytes is what decoding one image may allocate.
	MaxBytes int64
	// Concurrent is how many images may be decoded at the same time.
	Concurrent int
}

func (l DecodeLimits) withDefaults() DecodeLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxDecodedBytes
	}
	if l.Concurrent <= 0 {
		l.Concurrent = DefaultConcurrentDecodes
	}
	return l
}

// gate is the process-wide decode semaphore: a slot per decode allowed at
// once.
type gate struct {
	limits DecodeLimits
	slots  chan struct{}
}

var (
	gateMu  sync.Mutex
	current = newGate(DecodeLimits{})
)

func newGate(l DecodeLimits) *gate {
	l = l.withDefaults()
	return &gate{limits: l, slots: make(chan struct{}, l.Concurrent)}
}

// SetDecodeLimits sets the process's decode limits; the server calls it
// once at start, from its configuration. Decodes already running finish
// under the old limits.
func SetDecodeLimits(l DecodeLimits) {
	gateMu.Lock()
	defer gateMu.Unlock()
	current = newGate(l)
}

func decodeGate() *gate {
	gateMu.Lock()
	defer gateMu.Unlock()
	return current
}

// acquire waits for a decode slot, or for ctx to end: a request that gives
// up (or times out) while queued leaves the queue.
func (g *gate) acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to decode photo: %w", ctx.Err())
	}
}

// header is what an image's first bytes say about decoding it.
type header struct {
	width, height int
	// cost is an upper bound, in bytes, of what Go's decoder for the
	// format allocates for this image (TestDecodeCostIsAnUpperBound checks
	// it against real decodes).
	cost int64
}

var errHeader = errors.New("unreadable image header")

// inspect reads the header of data in the given format (as sniffed).
// decodeConfig is the format's own DecodeConfig, which must accept the
// image too; the format's headers then give the bit depth and layout that
// DecodeConfig does not tell.
func inspect(format string, data []byte, decodeConfig func([]byte) (image.Config, error)) (header, error) {
	cfg, err := decodeConfig(data)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return header{}, errHeader
	}
	h := header{width: cfg.Width, height: cfg.Height}
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "image/jpeg":
		h.cost = jpegCost(data, cfg.Width, cfg.Height)
	case "image/png":
		h.cost = pngCost(data, cfg.Width, px)
	case "image/webp":
		// Lossy without alpha decodes to 4:2:0 YCbCr (1.5 bytes a pixel,
		// padded to macroblocks). Lossless and alpha go through VP8L:
		// ARGB words, a transform's copy of them and the NRGBA result.
		if cfg.ColorModel == color.YCbCrModel {
			h.cost = px*2 + 1<<20
		} else {
			h.cost = px*13 + 1<<20
		}
	}
	return h, nil
}

// jpegCost follows image/jpeg: the decoded planes, padded to whole MCUs,
// one per component at its sampling; for progressive JPEGs every 8×8
// block's 64 int32 coefficients besides (four bytes a sample); and an RGBA
// or CMYK copy for RGB and four-component JPEGs. A header it cannot read
// (which DecodeConfig accepted) is costed as the worst case.
func jpegCost(data []byte, w, h int) int64 {
	f, ok := jpegFrame(data)
	px := int64(w) * int64(h)
	if !ok {
		return px * 24
	}
	hmax, vmax := 1, 1
	for _, c := range f.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	if len(f.comps) == 1 {
		hmax, vmax = 1, 1
	}
	mxx := int64((w + 8*hmax - 1) / (8 * hmax))
	myy := int64((h + 8*vmax - 1) / (8 * vmax))
	var samples int64
	for _, c := range f.comps {
		ch, cv := c.h, c.v
		if len(f.comps) == 1 {
			ch, cv = 1, 1
		}
		samples += 8 * int64(ch) * mxx * 8 * int64(cv) * myy
	}
	cost := samples
	if f.progressive {
		cost += 4 * samples
	}
	if len(f.comps) >= 3 && (f.rgb || len(f.comps) == 4) {
		cost += 4 * px
	}
	return cost + 1<<20
}

type jpegComponent struct{ h, v int }

type jpegFrameInfo struct {
	progressive bool
	rgb         bool
	comps       []jpegComponent
}

// jpegFrame walks the markers up to the first scan and reads the frame
// header (SOF) and Adobe's APP14 colour transform.
func jpegFrame(data []byte) (jpegFrameInfo, bool) {
	var f jpegFrameInfo
	var ids []byte
	adobe, transform := false, byte(0)
	sof := false
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return f, false
		}
		m := data[i+1]
		switch {
		case m == 0xFF:
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8):
			i += 2
			continue
		case m == 0xDA || m == 0xD9:
			if !sof {
				return f, false
			}
			if adobe {
				f.rgb = transform == 0
			} else {
				f.rgb = len(ids) == 3 && ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B'
			}
			return f, true
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return f, false
		}
		seg := data[i+4 : i+2+n]
		switch {
		case m == 0xEE && len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")):
			adobe, transform = true, seg[11]
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if sof || len(seg) < 6 {
				return f, false
			}
			sof = true
			f.progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
			nc := int(seg[5])
			if nc == 0 || len(seg) < 6+3*nc {
				return f, false
			}
			for c := 0; c < nc; c++ {
				hv := seg[6+3*c+1]
				ids = append(ids, seg[6+3*c])
				f.comps = append(f.comps, jpegComponent{h: max(int(hv>>4), 1), v: max(int(hv&0x0F), 1)})
			}
		}
		i += 2 + n
	}
	return f, false
}

// pngCost follows image/png: the decoded image is 1 byte a pixel for
// paletted and 8-bit grey, 2 for 16-bit grey, 4 for 8-bit colour or grey
// with transparency, 8 for 16-bit colour or 16-bit grey with
// transparency; interlaced images are decoded pass by pass beside the
// final image, so they may take twice that; and two rows of raw samples.
// A header it cannot read
// (which DecodeConfig accepted) is costed as the worst case.
func pngCost(data []byte, w int, px int64) int64 {
	const worst = 16
	if len(data) < 33 || string(data[12:16]) != "IHDR" {
		return px * worst
	}
	depth, colorType, interlaced := data[24], data[25], data[28] == 1
	transparent := false
	for i := 33; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if typ == "IDAT" || typ == "IEND" || n < 0 || n > len(data) {
			break
		}
		if typ == "tRNS" {
			transparent = true
		}
		i += 12 + n
	}
	var bpp int64
	switch {
	case colorType == 3:
		bpp = 1
	case colorType == 0 && depth <= 8:
		bpp = 1
		if transparent {
			bpp = 4
		}
	case colorType == 0:
		bpp = 2
		if transparent {
			bpp = 8
		}
	case depth <= 8:
		bpp = 4
	default:
		bpp = 8
	}
	cost := px * bpp
	if interlaced {
		cost *= 2
	}
	channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	rowBytes := 1 + (int64(w)*channels*int64(depth)+7)/8
	return cost + 2*rowBytes + 1<<20
}
