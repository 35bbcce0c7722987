package mediatest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
)

// PNG colour types (PNG spec, 11.2.2).
const (
	PNGGray      = 0
	PNGRGB       = 2
	PNGPaletted  = 3
	PNGGrayAlpha = 4
	PNGRGBA      = 6
)

// PNGZeros writes a valid w×h PNG of the given bit depth and colour type
// whose pixels are all zero, without a canvas of hundreds of megabytes
// ever existing in memory: the way a decompression bomb is made (4000×4000
// at 16-bit RGBA is 124 KB). Interlaced writes the seven Adam7 passes.
func PNGZeros(w, h, depth, colorType int, interlaced bool) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(colorType)
	if interlaced {
		ihdr[12] = 1
	}
	pngChunk(&out, "IHDR", ihdr)
	if colorType == PNGPaletted {
		pngChunk(&out, "PLTE", []byte{0, 0, 0, 255, 255, 255})
	}
	channels := map[int]int{PNGGray: 1, PNGRGB: 3, PNGPaletted: 1, PNGGrayAlpha: 2, PNGRGBA: 4}[colorType]
	rowBytes := func(pw int) int { return 1 + (pw*channels*depth+7)/8 }
	// Every byte of the raw image is zero: each row's filter byte (none)
	// and every sample.
	var raw int
	if !interlaced {
		raw = h * rowBytes(w)
	} else {
		// Adam7: x0, y0, dx, dy of each pass.
		for _, p := range [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
			if pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]; pw > 0 && ph > 0 {
				raw += ph * rowBytes(pw)
			}
		}
	}
	pngChunk(&out, "IDAT", zlibZeros(raw))
	pngChunk(&out, "IEND", nil)
	return out.Bytes()
}

// zlibZeros is a zlib stream of n zero bytes, made without compressing
// them all: a megabyte of zeros compressed by a fresh deflater and
// flushed is a byte-aligned run of blocks that refer only to themselves,
// so copies of it follow each other; a last empty block ends the stream,
// and the Adler-32 of n zeros is (n mod 65521)<<16 | 1.
func zlibZeros(n int) []byte {
	chunk := func(size int) []byte {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		fw.Write(make([]byte, size))
		fw.Flush()
		return b.Bytes()
	}
	const mb = 1 << 20
	out := []byte{0x78, 0xDA}
	block := chunk(mb)
	for i := 0; i < n/mb; i++ {
		out = append(out, block...)
	}
	if n%mb > 0 {
		out = append(out, chunk(n%mb)...)
	}
	out = append(out, 0x03, 0x00) // final fixed-Huffman block, end of block only
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

func pngChunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	body := append([]byte(typ), data...)
	out.Write(body)
	binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(body))
	out.Write(n[:])
}

// PNGClaiming is a real 1×1 PNG whose header claims a w×h canvas: a few
// dozen bytes that a decoder would take at their word.
func PNGClaiming(w, h int) []byte {
	b := PNG(1, 1)
	// IHDR's type and data are bytes 12..29, its CRC 29..33.
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// JPEGFrame rewrites the frame header (SOF) of a JPEG: its kind (0xC0
// baseline, 0xC2 progressive), its size, and, when sampling is not nil,
// the sampling factors of each component (e.g. 0x11 for 4:4:4). The scan
// data no longer matches; the point is what the header promises.
func JPEGFrame(data []byte, marker byte, w, h int, sampling []byte) []byte {
	out := append([]byte{}, data...)
	for i := 2; i+4 <= len(out); {
		m := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xC0 || m == 0xC1 || m == 0xC2 {
			out[i+1] = marker
			binary.BigEndian.PutUint16(out[i+5:], uint16(h))
			binary.BigEndian.PutUint16(out[i+7:], uint16(w))
			for c := 0; c < len(sampling) && c < int(out[i+9]); c++ {
				out[i+10+3*c+1] = sampling[c]
			}
			return out
		}
		i += 2 + n
	}
	panic("mediatest: no SOF in JPEG")
}

// GIFScreen is a GIF header with a w×h logical screen and one 1×1 image.
func GIFScreen(w, h int) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, uint16(w))
	b = binary.LittleEndian.AppendUint16(b, uint16(h))
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF) // global colour table of 2
	b = append(b, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0)       // image descriptor 1×1
	b = append(b, 2, 2, 0x44, 0x01, 0, 0x3B)             // LZW data, trailer
	return b
}

// WebPCanvas is an extended WebP (VP8X) header claiming a w×h canvas
// (at most 16384 each way), followed by a lossless image chunk that is
// never reached.
func WebPCanvas(w, h int) []byte {
	vp8x := make([]byte, 10)
	vp8x[0] = 0x10 // alpha
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(vp8x[4:], w-1)
	put24(vp8x[7:], h-1)
	var body bytes.Buffer
	body.WriteString("WEBP")
	body.WriteString("VP8X")
	body.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(vp8x))))
	body.Write(vp8x)
	vp8l := []byte{0x2F, 0, 0, 0, 0, 0, 0, 0}
	body.WriteString("VP8L")
	body.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(vp8l))))
	body.Write(vp8l)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(body.Len()))
	return append(out, body.Bytes()...)
}
