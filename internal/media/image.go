package media

import (
	"fmt"
	"image"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/bbrks/go-blurhash"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// Image is a picture the API shows (a story's photo, a cover), as the
// domain hands it to a caller who may see it: its source blob, from which
// every size is made, and what a client needs to lay it out before it
// loads.
type Image struct {
	// Key is the source blob: a JPEG, upright and without metadata.
	Key string
	// Width and Height are the source's, in pixels.
	Width, Height int
	// Alt says what the image shows, for screen readers.
	Alt string
	// Placeholder is the BlurHash of the image; "" for photos stored
	// before placeholders were made.
	Placeholder string
	// Signature is the query ("exp=…&sig=…") that lets this caller fetch
	// an image that is not public, and all its sizes; "" when the image
	// is public.
	Signature string
}

// Fit says how a variant with a width and a height fills that box.
type Fit string

const (
	// Cover fills the box, cropping what sticks out (centred).
	Cover Fit = "cover"
	// Contain shows the whole image inside the box, in its own aspect
	// ratio, without bands.
	Contain Fit = "contain"
)

// Widths are the widths variants are made in. A bounded set keeps the
// cache bounded: an image has at most len(Widths) × (1 + 2·len(Ratios))
// variants, whatever clients ask.
var Widths = []int{160, 320, 480, 640, 960, 1280, 1920}

// Ratios are the aspect ratios (width:height) of a box asked with a
// height: the common ones of cards, lists and headers in portrait and
// landscape.
var Ratios = [][2]int{{1, 1}, {4, 3}, {3, 4}, {3, 2}, {2, 3}, {16, 9}, {9, 16}, {2, 1}}

// MaxImageWidth is the widest source kept for covers: the largest width a
// variant is made in.
const MaxImageWidth = 1920

// CodeImageSizeInvalid refuses a size that is not a positive number of
// pixels.
const CodeImageSizeInvalid = "IMAGE_SIZE_INVALID"

// Variant is one allowed size of an image: Width from Widths and, when
// Height is not 0, a box of one of Ratios filled as Fit. The zero Variant
// is the source itself.
type Variant struct {
	Width, Height int
	Fit           Fit
}

// IsSource reports whether v is the source rather than a resized copy.
func (v Variant) IsSource() bool { return v.Width == 0 }

// maxAsk is the largest size taken from a client before snapping; beyond
// it a number is a mistake, not a screen.
const maxAsk = 100_000

// Snap turns what a client asks (any width and height, either or both
// nil) into the allowed variant that serves it: the smallest allowed width
// at least as wide as asked (the widest one above it), so a picture is
// never blurrier than asked for; with a height, the box of the allowed
// ratio nearest the one asked. With only a height, the width is the one
// that height gives the image in its own ratio. Neither is the source. A
// size under 1 or over 100,000 is an error (IMAGE_SIZE_INVALID).
func (img Image) Snap(width, height *int, fit Fit) (Variant, error) {
	for _, n := range []*int{width, height} {
		if n != nil && (*n < 1 || *n > maxAsk) {
			return Variant{}, apperr.New(CodeImageSizeInvalid).With("Max", maxAsk)
		}
	}
	if fit != Cover && fit != Contain {
		fit = Cover
	}
	switch {
	case width == nil && height == nil:
		return Variant{}, nil
	case width == nil:
		w := *height
		if img.Height > 0 {
			w = int(math.Ceil(float64(*height) * float64(img.Width) / float64(img.Height)))
		}
		return Variant{Width: snapWidth(w)}, nil
	case height == nil:
		return Variant{Width: snapWidth(*width)}, nil
	}
	w := snapWidth(*width)
	r := nearestRatio(float64(*width) / float64(*height))
	return Variant{Width: w, Height: boxHeight(w, r), Fit: fit}, nil
}

func snapWidth(w int) int {
	for _, a := range Widths {
		if a >= w {
			return a
		}
	}
	return Widths[len(Widths)-1]
}

// nearestRatio is the allowed ratio nearest r, compared as logarithms so
// that 2:1 is as far from 1:1 as 1:2.
func nearestRatio(r float64) [2]int {
	best, dist := Ratios[0], math.Inf(1)
	for _, q := range Ratios {
		d := math.Abs(math.Log(r) - math.Log(float64(q[0])/float64(q[1])))
		if d < dist {
			best, dist = q, d
		}
	}
	return best
}

func boxHeight(w int, r [2]int) int { return (w*r[1] + r[0]/2) / r[0] }

// Path is the path (with its query) at which the variant v of img is
// served: /media/<key>, with w, h and fit for a resized copy, and the
// image's signature when it is not public. The query's order is fixed, so
// the same variant always has the same URL and a browser's copy is used.
func (img Image) Path(v Variant) string {
	q := url.Values{}
	if !v.IsSource() {
		q.Set("w", strconv.Itoa(v.Width))
		if v.Height > 0 {
			q.Set("h", strconv.Itoa(v.Height))
			q.Set("fit", string(v.Fit))
		}
	}
	if img.Signature != "" {
		sig, err := url.ParseQuery(img.Signature)
		if err == nil {
			for k, vs := range sig {
				q[k] = vs
			}
		}
	}
	p := Prefix + img.Key
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// errVariant is a variant query that names no allowed variant.
var errVariant = fmt.Errorf("media: not an allowed variant")

// parseVariant reads the variant a request asks for from its query, as
// Path writes it. Only allowed variants are served: a width outside
// Widths, a height that is no allowed ratio of it, a fit other than cover
// or contain, or a fit without a height is errVariant, so a client cannot
// make the server store sizes nobody offered.
func parseVariant(q url.Values) (Variant, error) {
	ws, hs, fs := q.Get("w"), q.Get("h"), q.Get("fit")
	if ws == "" && hs == "" && fs == "" && !q.Has("w") && !q.Has("h") && !q.Has("fit") {
		return Variant{}, nil
	}
	w, err := strconv.Atoi(ws)
	if err != nil || !allowedWidth(w) {
		return Variant{}, errVariant
	}
	if hs == "" && !q.Has("h") {
		if q.Has("fit") {
			return Variant{}, errVariant
		}
		return Variant{Width: w}, nil
	}
	h, err := strconv.Atoi(hs)
	if err != nil {
		return Variant{}, errVariant
	}
	fit := Fit(strings.ToLower(fs))
	if fit != Cover && fit != Contain {
		return Variant{}, errVariant
	}
	for _, r := range Ratios {
		if boxHeight(w, r) == h {
			return Variant{Width: w, Height: h, Fit: fit}, nil
		}
	}
	return Variant{}, errVariant
}

func allowedWidth(w int) bool {
	for _, a := range Widths {
		if a == w {
			return true
		}
	}
	return false
}

// AllVariants lists every variant an image can have, for removing them
// with it.
func AllVariants() []Variant {
	var out []Variant
	for _, w := range Widths {
		out = append(out, Variant{Width: w})
		for _, r := range Ratios {
			for _, f := range []Fit{Cover, Contain} {
				out = append(out, Variant{Width: w, Height: boxHeight(w, r), Fit: f})
			}
		}
	}
	return out
}

// variantKey is where variant v of the blob at key is cached: under
// v/<key without extension>/, so all of a blob's variants share a prefix
// (VariantPrefix) and go with it.
func variantKey(key string, v Variant) string {
	name := strconv.Itoa(v.Width)
	if v.Height > 0 {
		name += "x" + strconv.Itoa(v.Height) + "-" + string(v.Fit)
	}
	return VariantPrefix(key) + name + ".jpg"
}

// VariantPrefix is the prefix of the keys of the cached variants of the
// blob at key.
func VariantPrefix(key string) string {
	return "v/" + strings.TrimSuffix(key, ".jpg") + "/"
}

// isVariantKey reports whether key names a cached variant; those are
// served only through their source's URL.
func isVariantKey(key string) bool { return strings.HasPrefix(key, "v/") }

// size is what variant v of a sw×sh source comes out as, and the part of
// the source it shows. It is never larger than the source: a small source
// gives a smaller variant (of the same ratio for a cover) rather than an
// enlarged, blurry one.
func (v Variant) size(sw, sh int) (crop image.Rectangle, w, h int) {
	crop = image.Rect(0, 0, sw, sh)
	switch {
	case v.IsSource():
		return crop, sw, sh
	case v.Height == 0:
		w = min(v.Width, sw)
		return crop, w, max(1, (sh*w+sw/2)/sw)
	case v.Fit == Contain:
		s := min(float64(v.Width)/float64(sw), float64(v.Height)/float64(sh), 1)
		return crop, max(1, int(math.Round(float64(sw)*s))), max(1, int(math.Round(float64(sh)*s)))
	}
	// Cover: the largest centred part of the source in the box's ratio.
	r := float64(v.Width) / float64(v.Height)
	cw, ch := sw, sh
	if float64(sw)/float64(sh) > r {
		cw = max(1, int(math.Round(float64(sh)*r)))
	} else {
		ch = max(1, int(math.Round(float64(sw)/r)))
	}
	x0, y0 := (sw-cw)/2, (sh-ch)/2
	crop = image.Rect(x0, y0, x0+cw, y0+ch)
	s := min(float64(v.Width)/float64(cw), 1)
	return crop, max(1, int(math.Round(float64(cw)*s))), max(1, int(math.Round(float64(ch)*s)))
}

// placeholderSide is the size the image is scaled to before its BlurHash
// is worked out: the hash keeps only a few colours, and the encoder's work
// grows with every pixel.
const placeholderSide = 32

// Placeholder returns the BlurHash of img: a string of about 30
// characters that a client draws as a blurred preview while the image
// loads. Four components across and three down for a landscape image,
// the other way round for a portrait one.
func Placeholder(img image.Image) (string, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := placeholderSide, max(1, h*placeholderSide/max(1, w))
	if h > w {
		th, tw = placeholderSide, max(1, w*placeholderSide/max(1, h))
	}
	small := shrink(img, min(tw, w), min(th, h))
	x, y := 4, 3
	if h > w {
		x, y = 3, 4
	}
	hash, err := blurhash.Encode(x, y, small)
	if err != nil {
		return "", fmt.Errorf("placeholder: %w", err)
	}
	return hash, nil
}
