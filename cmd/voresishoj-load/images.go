package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
)

// The images scenario: the same resized variant of a cover served from
// the cache against cold resizes (a variant nobody asked for yet, so the
// server decodes the source, resizes, encodes and stores it), both through
// the real server's /media/ handler on one SQLite database in the same
// run. The goal is a cached variant at five times the rate of a cold one.

type imagesOptions struct {
	DB       string // SQLite path or postgres:// URL; empty is a temporary SQLite file
	Sources  int    // covers to make variants of
	Clients  int
	Duration time.Duration
}

type imagesFigure struct {
	Cold, Cached result
	SourceBytes  int
}

func runImages(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("images", flag.ExitOnError)
	var o imagesOptions
	fs.StringVar(&o.DB, "db", "", "SQLite path or postgres:// URL (an empty database; default a temporary SQLite file)")
	fs.IntVar(&o.Sources, "sources", 40, "covers (1920×1280 photos) to make variants of")
	fs.IntVar(&o.Clients, "c", 2, "concurrent clients")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "duration of each run")
	_ = fs.Parse(args)
	_, err := imagesRun(ctx, o, func(format string, a ...any) { fmt.Printf(format, a...) })
	return err
}

func imagesRun(ctx context.Context, o imagesOptions, printf func(string, ...any)) (imagesFigure, error) {
	var fig imagesFigure
	dsn := o.DB
	if dsn == "" {
		dir, err := os.MkdirTemp("", "voresishoj-images-")
		if err != nil {
			return fig, err
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "images.db")
	}
	srv, err := startServer(ctx, dsn, nil)
	if err != nil {
		return fig, err
	}
	defer srv.Close()
	blobs, err := media.NewDir(filepath.Join(srv.DataDir, "media"))
	if err != nil {
		return fig, err
	}
	defer blobs.Close()

	// Covers of places, made as an upload is (ProcessSource), each a
	// different photo-like picture so no two decode alike.
	keys := make([]string, o.Sources)
	for i := range keys {
		src, err := media.ProcessSource(ctx, bytes.NewReader(photo(1920, 1280, i)), media.MaxUploadBytes)
		if err != nil {
			return fig, err
		}
		fig.SourceBytes = len(src.Data)
		keys[i] = media.NewKey(media.CoverSuffix)
		if err := blobs.Put(ctx, keys[i], bytes.NewReader(src.Data), media.ContentType); err != nil {
			return fig, err
		}
		if _, err := store.Exec(ctx, srv.DB, `INSERT INTO places (name, address, description, search_title, search_text,
			cover_key, cover_width, cover_height, cover_alt, cover_placeholder, created_at) VALUES (?, '', '', '', '', ?, ?, ?, '', ?, ?)`,
			fmt.Sprintf("Sted %d", i), keys[i], src.Width, src.Height, src.Placeholder, time.Now().UTC()); err != nil {
			return fig, fmt.Errorf("insert place: %w", err)
		}
	}
	// Every variant of every cover, each asked once: all cold.
	var cold []string
	for _, v := range media.AllVariants() {
		for _, k := range keys {
			cold = append(cold, srv.URL+media.Image{Key: k}.Path(v))
		}
	}
	// A card of the first cover, made once: then only cached.
	cached := []string{srv.URL + media.Image{Key: keys[0]}.Path(media.Variant{Width: 640, Height: 360, Fit: media.Cover})}
	if _, err := fetchImage(http.DefaultClient, cached[0]); err != nil {
		return fig, err
	}
	cold = cold[1:] // that one is made now
	printf("images %s: %d clients, %s per run; %d covers of 1920×1280 (%d KB each), %d variants each\n",
		srv.DB.Dialect, o.Clients, o.Duration, o.Sources, fig.SourceBytes>>10, len(media.AllVariants()))

	fig.Cold, err = driveGets(ctx, cold, false, o.Clients, o.Duration)
	if err != nil {
		return fig, err
	}
	fig.Cached, err = driveGets(ctx, cached, true, o.Clients, o.Duration)
	if err != nil {
		return fig, err
	}
	printf("  cold resize:   %s\n  from cache:    %s\n  rate ratio cached/cold %s, CPU per request cold/cached %s\n",
		fig.Cold, fig.Cached, ratio(fig.Cached.rps, fig.Cold.rps), ratio(float64(fig.Cold.cpu), float64(fig.Cached.cpu)))
	if fig.Cold.n >= len(cold) {
		printf("  (every cold variant was used: the cold figure ran short of work; lower -d or raise -sources)\n")
	}
	return fig, nil
}

// driveGets fetches urls from c clients for d: in turn and each once when
// repeat is false (every one a first request), over and over when true.
func driveGets(ctx context.Context, urls []string, repeat bool, c int, d time.Duration) (result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(d)
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      latencies
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := int(next.Add(1) - 1)
				if !repeat && n >= len(urls) {
					break
				}
				t := time.Now()
				if _, err := fetchImage(client, urls[n%len(urls)]); err != nil {
					mu.Lock()
					errs++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	took, cpu := time.Since(start), cpuTime()-cpu0
	r := result{n: len(all), errors: errs, rps: float64(len(all)) / took.Seconds(), p50: all.pct(0.5), p99: all.pct(0.99),
		cpu: cpu / time.Duration(max(len(all), 1)), busy: cpu.Seconds() / took.Seconds()}
	if errs > 0 || len(all) == 0 {
		return r, fmt.Errorf("%d of %d image requests failed: %v", errs, errs+len(all), firstErr)
	}
	return r, nil
}

// fetchImage GETs a variant and checks it is a JPEG.
func fetchImage(client *http.Client, url string) (int, error) {
	res, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
		return 0, fmt.Errorf("GET %s: %d, %d bytes", url, res.StatusCode, len(b))
	}
	return len(b), nil
}

// photo is a JPEG with the detail of a photograph (smooth shapes and
// fine texture), different for each seed, so it costs what a phone's
// photo costs to decode and resize.
func photo(w, h, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := uint32(seed*2654435761 + 1)
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			noise := uint8(x & 31)
			r := uint8((px*255/w + seed*37) % 256)
			g := uint8((py*255/h + seed*59) % 256)
			b := uint8(((px + py) * 255 / (w + h)) % 256)
			img.SetRGBA(px, py, color.RGBA{r ^ noise, g + noise/2, b ^ noise, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
