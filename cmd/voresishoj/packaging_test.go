package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The systemd units in packaging/ are what `systemd-analyze verify`
// accepts (known keys, valid values, executables that exist) and keep an
// exposure score of at most 2.0 in `systemd-analyze security`. The
// binary's path is replaced by this test's own executable, which exists.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but systemd-analyze is not on PATH (Debian package systemd)")
		}
		t.Skip("systemd-analyze not on PATH")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	units, err := filepath.Glob(filepath.Join("packaging", "*.service"))
	if err != nil || len(units) < 2 {
		t.Fatalf("units: %v %v", units, err)
	}
	timers, _ := filepath.Glob(filepath.Join("packaging", "*.timer"))
	var copies []string
	for _, u := range append(units, timers...) {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(u, ".service") && !strings.Contains(string(b), "/usr/local/bin/voresishoj ") {
			t.Errorf("%s does not run /usr/local/bin/voresishoj", u)
		}
		path := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/voresishoj", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, copies...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, u := range copies {
		if !strings.HasSuffix(u, ".service") {
			continue
		}
		out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", u).CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Errorf("systemd-analyze security %s: %v: %s", filepath.Base(u), err, lines[len(lines)-1])
		}
	}
}
