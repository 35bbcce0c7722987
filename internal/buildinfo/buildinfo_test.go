package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "4155fcf9f1a0a5cbbf4b2c4dd1e1f3a3a3b0f0c1"},
		{Key: "vcs.time", Value: "2026-12-01T09:54:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	cases := []struct {
		name              string
		bi                *debug.BuildInfo
		version, revision string
		want              string
	}{
		{"nothing known", nil, "", "", "voresishoj devel"},
		{"plain go build without vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "", "",
			"voresishoj devel (go1.26.8)"},
		{"vcs stamps", vcs, "", "", "voresishoj devel (commit 4155fcf9f1a0 with local changes, 2026-12-01T09:54:00Z, go1.26.8)"},
		{"ldflags win", vcs, "0.3.0", "abcdef0123456789", "voresishoj 0.3.0 (commit abcdef012345 with local changes, 2026-12-01T09:54:00Z, go1.26.8)"},
		{"go install module@version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}, "", "",
			"voresishoj v0.3.0 (go1.26.8)"},
	}
	for _, c := range cases {
		if got := fromBuildInfo(c.bi, c.version, c.revision).String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
