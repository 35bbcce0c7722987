package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The images scenario itself, small: cold and cached variants both answer
// without errors, and the cache is faster. The figures are the tool's to
// report.
func TestImagesScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and resizes images")
	}
	var out strings.Builder
	fig, err := imagesRun(t.Context(), imagesOptions{Sources: 3, Clients: 2, Duration: 500 * time.Millisecond},
		func(f string, a ...any) { fmt.Fprintf(&out, f, a...) })
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if fig.Cold.n == 0 || fig.Cached.n == 0 || fig.Cached.rps <= fig.Cold.rps {
		t.Errorf("cold %v, cached %v: want both to answer and the cache to be faster", fig.Cold, fig.Cached)
	}
}
