package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A binary built as the README says carries its version and commit:
// `voresishoj version` prints them, and so does /healthz of the server it
// runs.
func TestVersionStampedIntoTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server; not with -short")
	}
	const pkg = "github.com/ishoj/voresishoj/internal/buildinfo"
	bin := filepath.Join(t.TempDir(), "voresishoj")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X "+pkg+".version=9.8.7-test -X "+pkg+".revision=0123456789abcdef0123456789abcdef01234567", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("voresishoj version: %v", err)
	}
	const want = "voresishoj 9.8.7-test (commit 0123456789ab"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("voresishoj version printed %q, want it to start with %q", out, want)
	}

	cmd := exec.Command(bin, "serve")
	// METRICS_ADDR on a free port: the default, 9464, may be held by a
	// server another package's tests started at the same time.
	cmd.Env = append(os.Environ(), "DATA_DIR="+t.TempDir(), "LISTEN_ADDR=127.0.0.1:0", "LOG_LEVEL=info",
		"DATABASE_URL=", "REDIS_URL=", "DEMO_DATA=false", "METRICS_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr, Version string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				if !strings.HasPrefix(line.Version, want) {
					t.Errorf("the serving log line says version %q", line.Version)
				}
				addr <- strings.TrimSuffix(line.Addr, "/graphql")
			}
		}
		close(addr)
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not start within a minute")
	}
	if base == "" {
		t.Fatal("the server stopped before serving")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "ok\n"+want) {
		t.Errorf("/healthz: %d %q, want ok and the version", resp.StatusCode, body)
	}
}
