package main

import (
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/store/storetest"
)

// The crash scenario itself, small: the real server killed with SIGKILL a
// third of the way through a fan-out and started again reaches every
// device, and every repeat carries the first message's collapse identity.
// How long it takes is the tool's to report.
func TestPushKillReachesEveryDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server twice")
	}
	bin := t.TempDir() + "/voresishoj"
	if b, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/ishoj/voresishoj/cmd/voresishoj").CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, b)
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dsn := ""
			if name == "postgres" {
				dsn = storetest.PostgresURL(t)
			}
			var out bytes.Buffer
			rep, err := pushKillRun(t.Context(), pushKillOptions{
				DB: dsn, Devices: 3000, Latency: 20 * time.Millisecond, Lease: 3 * time.Second,
				KillAt: 1.0 / 3, Timeout: 3 * time.Minute, Server: bin,
			}, &out)
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Missed != 0 || rep.Strangers != 0 || rep.BadCollapse != 0 {
				t.Errorf("%d missed, %d unknown tokens, %d repeats with another collapse identity", rep.Missed, rep.Strangers, rep.BadCollapse)
			}
			if rep.Statuses["SENT"] != rep.Devices {
				t.Errorf("deliveries by status %v, want all %d SENT", rep.Statuses, rep.Devices)
			}
		})
	}
}
