package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// trivial is the baseline: the least a Go program can do to answer /readyz.
const trivial = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.ListenAndServe(os.Getenv("LISTEN_ADDR"), nil)
}
`

func runColdstart(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ExitOnError)
	runs := fs.Int("runs", 10, "starts to measure")
	_ = fs.Parse(args)
	dir, err := os.MkdirTemp("", "voresishoj-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	server := filepath.Join(dir, "voresishoj")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", server, "./cmd/voresishoj").CombinedOutput(); err != nil {
		return fmt.Errorf("build server (run from the repository root): %v\n%s", err, out)
	}
	tdir := filepath.Join(dir, "trivial")
	_ = os.MkdirAll(tdir, 0o755)
	if err := os.WriteFile(filepath.Join(tdir, "go.mod"), []byte("module trivial\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tdir, "main.go"), []byte(trivial), 0o644); err != nil {
		return err
	}
	tbin := filepath.Join(dir, "trivial-bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", tbin, ".")
	build.Dir = tdir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build baseline: %v\n%s", err, out)
	}
	var firstServer time.Duration
	var ours, base latencies
	data := filepath.Join(dir, "data")
	for i := 0; i < *runs+1; i++ {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		tcmd := exec.Command(tbin)
		tcmd.Env = append(os.Environ(), "LISTEN_ADDR="+addr)
		b, err := timeToReady(ctx, tcmd, addr)
		if err != nil {
			return err
		}
		cmd := exec.Command(server)
		cmd.Env = append(os.Environ(), "DATA_DIR="+data, "DATABASE_URL="+filepath.Join(data, "voresishoj.db"),
			"DEMO_DATA=false", "LISTEN_ADDR="+addr, "REDIS_URL=", "LOG_LEVEL=warn", "METRICS_ADDR=off")
		o, err := timeToReady(ctx, cmd, addr)
		if err != nil {
			return err
		}
		if i == 0 {
			// The first start creates and migrates the database.
			firstServer = o
			continue
		}
		ours, base = append(ours, o), append(base, b)
	}
	fmt.Printf("coldstart sqlite: process start to /readyz 200, %d runs on an existing database\n", *runs)
	fmt.Printf("  first start (creates and migrates the database): %s\n", ms(firstServer))
	fmt.Printf("  ours:     p50 %s, max %s (target < 300 ms)\n", ms(ours.pct(0.5)), ms(ours.pct(1)))
	fmt.Printf("  baseline (trivial Go server): p50 %s, max %s\n", ms(base.pct(0.5)), ms(base.pct(1)))
	fmt.Printf("  p50 ratio ours/baseline: %s\n", ratio(float64(ours.pct(0.5)), float64(base.pct(0.5))))
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// timeToReady starts cmd and polls /readyz every millisecond until it
// answers 200, then stops the process.
func timeToReady(ctx context.Context, cmd *exec.Cmd, addr string) (time.Duration, error) {
	client := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	for time.Since(start) < 30*time.Second && ctx.Err() == nil {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready within 30s", cmd.Path)
}
