package media_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbrks/go-blurhash"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
)

func ptr(n int) *int { return &n }

func TestSnapPicksAnAllowedVariant(t *testing.T) {
	img := media.Image{Key: "ab/abcd.jpg", Width: 1920, Height: 1280}
	for _, c := range []struct {
		name          string
		width, height *int
		fit           media.Fit
		want          media.Variant
	}{
		{"nothing is the source", nil, nil, media.Cover, media.Variant{}},
		{"an allowed width", ptr(640), nil, media.Cover, media.Variant{Width: 640}},
		{"an odd width goes up to the next", ptr(375), nil, media.Cover, media.Variant{Width: 480}},
		{"1 pixel", ptr(1), nil, media.Cover, media.Variant{Width: 160}},
		{"wider than any", ptr(99999), nil, media.Cover, media.Variant{Width: 1920}},
		{"a box of an allowed ratio", ptr(640), ptr(360), media.Cover, media.Variant{Width: 640, Height: 360, Fit: media.Cover}},
		{"a box near 16:9", ptr(390), ptr(220), media.Contain, media.Variant{Width: 480, Height: 270, Fit: media.Contain}},
		{"a square", ptr(100), ptr(100), media.Cover, media.Variant{Width: 160, Height: 160, Fit: media.Cover}},
		{"a tall box", ptr(300), ptr(540), media.Cover, media.Variant{Width: 320, Height: 569, Fit: media.Cover}},
		{"only a height: the image's own ratio", nil, ptr(200), media.Cover, media.Variant{Width: 320}},
		{"an unknown fit is cover", ptr(640), ptr(640), media.Fit("garbage"), media.Variant{Width: 640, Height: 640, Fit: media.Cover}},
	} {
		got, err := img.Snap(c.width, c.height, c.fit)
		if err != nil || got != c.want {
			t.Errorf("%s: Snap = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	for _, bad := range []struct{ w, h *int }{{ptr(0), nil}, {ptr(-5), nil}, {ptr(999999), nil}, {ptr(640), ptr(0)}, {nil, ptr(-1)}} {
		if _, err := img.Snap(bad.w, bad.h, media.Cover); code(err) != media.CodeImageSizeInvalid {
			t.Errorf("Snap(%v, %v) = %v, want %s", deref(bad.w), deref(bad.h), err, media.CodeImageSizeInvalid)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// Every variant Snap can give has a path the handler serves; the set is
// small, which is what bounds the cache.
func TestEverySnappedVariantIsServed(t *testing.T) {
	all := media.AllVariants()
	if len(all) != len(media.Widths)*(1+2*len(media.Ratios)) || len(all) > 150 {
		t.Fatalf("%d variants", len(all))
	}
	img := media.Image{Key: "ab/abcd.jpg", Width: 1000, Height: 700}
	for w := 1; w <= 2500; w += 37 {
		for h := 1; h <= 2500; h += 53 {
			v, err := img.Snap(&w, &h, media.Contain)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range all {
				found = found || a == v
			}
			if !found {
				t.Fatalf("Snap(%d, %d) = %+v, not among the variants", w, h, v)
			}
		}
	}
}

func TestPathCarriesTheSignature(t *testing.T) {
	img := media.Image{Key: "ab/abcd.jpg", Width: 1000, Height: 700, Signature: "exp=123&sig=abc"}
	if got, want := img.Path(media.Variant{Width: 640, Height: 360, Fit: media.Cover}), "/media/ab/abcd.jpg?exp=123&fit=cover&h=360&sig=abc&w=640"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	img.Signature = ""
	if got, want := img.Path(media.Variant{}), "/media/ab/abcd.jpg"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestProcessSource(t *testing.T) {
	ctx := context.Background()
	// A phone's sideways photo with a GPS position: stored upright, at
	// most 1920 wide, without EXIF, with a placeholder that decodes.
	raw := mediatest.JPEG(3000, 2000, &mediatest.EXIF{Orientation: 6, GPS: true})
	src, err := media.ProcessSource(ctx, bytes.NewReader(raw), media.MaxUploadBytes, "cover")
	if err != nil {
		t.Fatal(err)
	}
	if src.Width != 1920 || src.Height != 2880 {
		t.Errorf("source is %d×%d, want 1920×2880 (upright, 1920 wide at most)", src.Width, src.Height)
	}
	if mediatest.HasEXIF(src.Data) {
		t.Error("the source kept EXIF")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(src.Data))
	if err != nil || cfg.Width != src.Width || cfg.Height != src.Height {
		t.Errorf("source decodes as %+v, %v", cfg, err)
	}
	x, y, err := blurhash.Components(src.Placeholder)
	if err != nil || x != 3 || y != 4 {
		t.Errorf("placeholder %q: %d×%d components, %v; want 3×4 (portrait)", src.Placeholder, x, y, err)
	}
	if _, err := blurhash.Decode(src.Placeholder, 32, 32, 1); err != nil {
		t.Errorf("placeholder does not decode: %v", err)
	}

	for _, b := range bombs() {
		if _, err := media.ProcessSource(ctx, bytes.NewReader(b.data), media.MaxUploadBytes, "cover"); code(err) != b.code {
			t.Errorf("%s: %v, want %s", b.name, err, b.code)
		}
	}
	if _, err := media.ProcessSource(ctx, strings.NewReader("<html>not an image</html>"), media.MaxUploadBytes, "cover"); code(err) != media.CodePhotoTypeNotAllowed {
		t.Errorf("not an image: %v", err)
	}
	if _, err := media.ProcessSource(ctx, bytes.NewReader(raw), 1000, "cover"); code(err) != media.CodePhotoTooLarge {
		t.Errorf("over the byte limit: %v", err)
	}
}

func TestProcessMakesAPlaceholder(t *testing.T) {
	p, err := media.Process(context.Background(), bytes.NewReader(mediatest.JPEG(800, 600, nil)), media.MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	img, err := blurhash.Decode(p.Placeholder, 4, 3, 1)
	if err != nil {
		t.Fatalf("placeholder %q: %v", p.Placeholder, err)
	}
	// The test image's top left is red, the rest blue: so is the blur.
	r, _, b, _ := img.At(0, 0).RGBA()
	r2, _, b2, _ := img.At(3, 2).RGBA()
	if r <= b || b2 <= r2 {
		t.Errorf("placeholder's corners %v and %v: want red top left, blue bottom right", img.At(0, 0), img.At(3, 2))
	}
}

func TestVariantsAreMadeOnceAndCached(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := media.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src, err := media.ProcessSource(ctx, bytes.NewReader(mediatest.JPEG(1600, 1200, &mediatest.EXIF{GPS: true})), media.MaxUploadBytes)
	if err != nil {
		t.Fatal(err)
	}
	key := media.NewKey(".jpg")
	if err := d.Put(ctx, key, bytes.NewReader(src.Data), media.ContentType); err != nil {
		t.Fatal(err)
	}
	signer := media.RandomSigner()
	now := time.Now()
	srv := httptest.NewServer(media.Handler(d, media.Access{
		Public: func(_ context.Context, k string) (bool, error) { return false, nil },
		Signer: signer, Now: func() time.Time { return now },
	}))
	defer srv.Close()
	img := media.Image{Key: key, Width: src.Width, Height: src.Height, Signature: signer.Sign(key, now)}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}

	for _, c := range []struct {
		v    media.Variant
		w, h int
	}{
		{media.Variant{Width: 640}, 640, 480},
		{media.Variant{Width: 640, Height: 360, Fit: media.Cover}, 640, 360},
		{media.Variant{Width: 640, Height: 360, Fit: media.Contain}, 480, 360},
		{media.Variant{Width: 320, Height: 320, Fit: media.Cover}, 320, 320},
		// Never enlarged: a cover of 1920×960 from 1600×1200 is 1600×800.
		{media.Variant{Width: 1920, Height: 960, Fit: media.Cover}, 1600, 800},
		{media.Variant{Width: 1920}, 1600, 1200},
	} {
		res, body := get(img.Path(c.v))
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("%+v: %d %s", c.v, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private, max-age=") {
			t.Errorf("%+v: Cache-Control %q, want private as the source's", c.v, cc)
		}
		got, _, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil || got.Width != c.w || got.Height != c.h {
			t.Errorf("%+v: %d×%d, %v; want %d×%d", c.v, got.Width, got.Height, err, c.w, c.h)
		}
		if mediatest.HasEXIF(body) {
			t.Errorf("%+v: EXIF in the variant", c.v)
		}
		// Served again, from the cache: the same bytes, and the file is there.
		res2, body2 := get(img.Path(c.v))
		if res2.StatusCode != 200 || !bytes.Equal(body, body2) || res2.Header.Get("ETag") != res.Header.Get("ETag") {
			t.Errorf("%+v: second answer differs", c.v)
		}
	}
	cached, _ := filepath.Glob(filepath.Join(dir, "v", filepath.Dir(key), "*", "*.jpg"))
	if len(cached) != 6 {
		t.Errorf("%d variants cached, want 6: %v", len(cached), cached)
	}
	// A cached variant is served even if the resizing code would now make
	// it differently: overwrite one and see it come back.
	marker := mediatest.JPEG(10, 10, nil)
	if err := os.WriteFile(filepath.Join(dir, "v", strings.TrimSuffix(key, ".jpg"), "640.jpg"), marker, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, body := get(img.Path(media.Variant{Width: 640})); !bytes.Equal(body, marker) {
		t.Error("a repeat was not served from the cache")
	}

	// Hostile queries: only the variants offered are made.
	sig, _ := url.ParseQuery(img.Signature)
	for _, q := range []string{"w=999999", "w=641", "w=0", "w=abc", "w=640&h=361&fit=cover", "w=640&h=360&fit=garbage",
		"w=640&h=360", "w=640&fit=cover", "h=360", "fit=cover"} {
		v, _ := url.ParseQuery(q)
		for k, x := range sig {
			v[k] = x
		}
		res, _ := get("/media/" + key + "?" + v.Encode())
		if res.StatusCode != 400 || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q, want 400 no-store", q, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
	cached, _ = filepath.Glob(filepath.Join(dir, "v", filepath.Dir(key), "*", "*.jpg"))
	if len(cached) != 6 {
		t.Errorf("%d variants cached after hostile queries, want still 6", len(cached))
	}
	// A variant without a signature is as private as its source, and a
	// cached variant cannot be fetched by its own key.
	if res, _ := get("/media/" + key + "?w=640"); res.StatusCode != 404 {
		t.Errorf("variant without a signature: %d, want 404", res.StatusCode)
	}
	vk := "v/" + strings.TrimSuffix(key, ".jpg") + "/640.jpg"
	if res, _ := get("/media/" + vk + "?" + signer.Sign(vk, now)); res.StatusCode != 404 {
		t.Errorf("a variant by its own key: %d, want 404", res.StatusCode)
	}
}

// Sweeping a discarded source removes its variants with it.
func TestDeletePrefixRemovesVariants(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := media.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := media.NewKey(".jpg")
	other := media.NewKey(".jpg")
	for _, k := range []string{key + "", "v/" + strings.TrimSuffix(key, ".jpg") + "/640.jpg", "v/" + strings.TrimSuffix(other, ".jpg") + "/640.jpg"} {
		if err := d.Put(ctx, k, strings.NewReader("x"), media.ContentType); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.DeletePrefix(ctx, media.VariantPrefix(key)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "v/"+strings.TrimSuffix(key, ".jpg")+"/640.jpg"); err == nil {
		t.Error("variant still there")
	}
	if _, err := d.Open(ctx, "v/"+strings.TrimSuffix(other, ".jpg")+"/640.jpg"); err != nil {
		t.Errorf("another image's variant went too: %v", err)
	}
	if err := d.DeletePrefix(ctx, media.VariantPrefix(key)); err != nil {
		t.Errorf("deleting again: %v", err)
	}
}
