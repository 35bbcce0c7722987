package demo

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"runtime"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/errgroup"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// Demo covers are drawn, not photographed: a gradient in two colours
// picked from the name, a few soft circles and the name in Go Bold (the Go
// fonts' licence is BSD). 640×360 is what the app's cards show, and keeps
// drawing, encoding and storing them to a few milliseconds each.
const (
	coverWidth  = 640
	coverHeight = 360
)

// LoadCovers gives every demo organisation, place and activity without a
// cover a drawn one, stored in blobs, and reports how many it drew. The
// server calls it right after Load. The drawing runs on every core; the
// rows are written in one transaction.
func LoadCovers(ctx context.Context, db *store.DB, blobs media.Store) (int, error) {
	type row struct {
		Table string
		ID    int64  `db:"id"`
		Title string `db:"title"`
		key   string
		ph    string
	}
	var todo []*row
	for _, table := range []struct{ name, title string }{
		{"organisations", "name"}, {"places", "name"}, {"activities", "title"},
	} {
		var rows []*row
		// The tables are named from the list above, never from input.
		if err := store.Select(ctx, db, &rows, `SELECT id, `+table.title+` AS title FROM `+table.name+
			` WHERE cover_key IS NULL ORDER BY id`); err != nil {
			return 0, fmt.Errorf("demo %s without covers: %w", table.name, err)
		}
		for _, r := range rows {
			r.Table = table.name
		}
		todo = append(todo, rows...)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, r := range todo {
		g.Go(func() error {
			img := picture(r.Title)
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: media.JPEGQuality}); err != nil {
				return fmt.Errorf("encode demo cover: %w", err)
			}
			ph, err := media.Placeholder(img)
			if err != nil {
				return err
			}
			r.key, r.ph = media.NewKey(media.CoverSuffix), ph
			if err := blobs.Put(gctx, r.key, bytes.NewReader(buf.Bytes()), media.ContentType); err != nil {
				return fmt.Errorf("store demo cover: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	err := db.Transact(ctx, func(tx *sqlx.Tx) error {
		for _, r := range todo {
			if _, err := store.Exec(ctx, tx, `UPDATE `+r.Table+` SET cover_key = ?, cover_width = ?, cover_height = ?,
				cover_alt = ?, cover_placeholder = ? WHERE id = ?`, r.key, coverWidth, coverHeight,
				"Tegning med navnet "+r.Title, r.ph, r.ID); err != nil {
				return fmt.Errorf("demo cover of %s %d: %w", r.Table, r.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(todo), nil
}

// goBold is parsed once; a font.Face is not safe for concurrent use, so
// each picture makes its own (cheap) face of it.
var goBold = sync.OnceValues(func() (*opentype.Font, error) { return opentype.Parse(gobold.TTF) })

func face() (font.Face, error) {
	f, err := goBold()
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: 34, DPI: 72, Hinting: font.HintingFull})
}

// palette are colour pairs that keep white text readable.
var palette = [][2]color.RGBA{
	{{0x1b, 0x4d, 0x89, 255}, {0x2f, 0x9e, 0xa8, 255}}, // sea
	{{0x2e, 0x6b, 0x30, 255}, {0x9a, 0xb8, 0x3a, 255}}, // meadow
	{{0x8a, 0x2c, 0x4f, 255}, {0xe0, 0x7a, 0x3f, 255}}, // sunset
	{{0x4a, 0x2f, 0x7a, 255}, {0xc0, 0x5c, 0x9e, 255}}, // evening
	{{0x6b, 0x4a, 0x26, 255}, {0xc9, 0x9a, 0x45, 255}}, // field
	{{0x1f, 0x3b, 0x4d, 255}, {0x5d, 0x8a, 0xa8, 255}}, // harbour
}

// picture draws the cover of title.
func picture(title string) *image.RGBA {
	h := fnv.New32a()
	_, _ = h.Write([]byte(title))
	seed := h.Sum32()
	pair := palette[int(seed%uint32(len(palette)))]
	img := image.NewRGBA(image.Rect(0, 0, coverWidth, coverHeight))
	// A diagonal gradient from one colour to the other.
	for y := 0; y < coverHeight; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < coverWidth; x++ {
			t := (x*coverHeight + y*coverWidth) * 255 / (2 * coverWidth * coverHeight)
			c := mix(pair[0], pair[1], t)
			copy(row[4*x:], []uint8{c.R, c.G, c.B, 255})
		}
	}
	// Soft circles, placed by the name.
	for i := 0; i < 4; i++ {
		s := seed >> (i * 7)
		cx, cy := int(s%coverWidth), int((s>>3)%coverHeight)
		r := 40 + int(s%100)
		circle(img, cx, cy, r, color.RGBA{255, 255, 255, 40})
	}
	// The name on a dark band at the bottom, for contrast.
	band := image.Rect(0, coverHeight-90, coverWidth, coverHeight)
	draw.Draw(img, band, image.NewUniform(color.RGBA{0, 0, 0, 110}), image.Point{}, draw.Over)
	if f, err := face(); err == nil {
		defer f.Close()
		d := &font.Drawer{Dst: img, Src: image.White, Face: f}
		text := title
		for d.MeasureString(text).Ceil() > coverWidth-60 {
			r := []rune(strings.TrimSuffix(text, "…"))
			if len(r) <= 1 {
				break
			}
			text = string(r[:len(r)-1]) + "…"
		}
		d.Dot = fixed.P(30, coverHeight-34)
		d.DrawString(text)
	}
	return img
}

// mix is a + (b − a)·t/255.
func mix(a, b color.RGBA, t int) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8((int(x)*(255-t) + int(y)*t) / 255) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// circle blends a filled circle of colour c (non-premultiplied alpha)
// over img.
func circle(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	a := int(c.A)
	for y := max(0, cy-r); y < min(coverHeight, cy+r); y++ {
		for x := max(0, cx-r); x < min(coverWidth, cx+r); x++ {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) > r*r {
				continue
			}
			p := img.Pix[img.PixOffset(x, y):]
			p[0] = uint8((int(p[0])*(255-a) + int(c.R)*a) / 255)
			p[1] = uint8((int(p[1])*(255-a) + int(c.G)*a) / 255)
			p[2] = uint8((int(p[2])*(255-a) + int(c.B)*a) / 255)
		}
	}
}
