// Package buildinfo says which build of the server is running: the
// version and commit stamped in at build time, shown by
// `voresishoj version`, in /healthz and in the log line at start.
//
// A release is built with its version (and, where the build does not
// stamp version control information itself, its commit):
//
//	go build -ldflags "-X github.com/ishoj/voresishoj/internal/buildinfo.version=0.3.0 \
//	  -X github.com/ishoj/voresishoj/internal/buildinfo.revision=$(git rev-parse HEAD)" ./cmd/voresishoj
//
// Without them the Go toolchain's own stamps are used (runtime/debug's
// vcs.revision, vcs.time and vcs.modified, and the module version that
// `go install ...@v0.3.0` records), and "devel" where there are none.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// Set with -ldflags -X; empty in a plain build.
var (
	version  string
	revision string
)

// Info describes one build.
type Info struct {
	Version   string    // "0.3.0", a module pseudo-version, or "devel"
	Revision  string    // the full commit hash, or ""
	Time      time.Time // the commit's time, zero when unknown
	Modified  bool      // built from a working tree with uncommitted changes
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, version, revision)
}

func fromBuildInfo(bi *debug.BuildInfo, version, revision string) Info {
	info := Info{Version: version, Revision: revision}
	if bi != nil {
		info.GoVersion = bi.GoVersion
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Revision == "" {
					info.Revision = s.Value
				}
			case "vcs.time":
				info.Time, _ = time.Parse(time.RFC3339, s.Value)
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

// String is the one line `voresishoj version` prints, e.g.
// "voresishoj 0.3.0 (commit 4155fcf9f1a0, 2026-12-01T09:54:00Z, go1.26.8)".
func (i Info) String() string {
	var parts []string
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if i.Modified {
			rev += " with local changes"
		}
		parts = append(parts, "commit "+rev)
	}
	if !i.Time.IsZero() {
		parts = append(parts, i.Time.UTC().Format(time.RFC3339))
	}
	if i.GoVersion != "" {
		parts = append(parts, i.GoVersion)
	}
	if len(parts) == 0 {
		return "voresishoj " + i.Version
	}
	return fmt.Sprintf("voresishoj %s (%s)", i.Version, strings.Join(parts, ", "))
}
