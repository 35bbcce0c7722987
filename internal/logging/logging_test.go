package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/requestid"
)

func TestRequestIDAndPseudonyms(t *testing.T) {
	var buf bytes.Buffer
	p := NewPseudonyms([]byte("a key of sixteen or more"))
	log := New(&buf, slog.LevelInfo, p).With(slog.String("component", "test"))
	ctx := requestid.With(context.Background(), "req-12345678")

	log.InfoContext(ctx, "one", slog.Int64(CallerIDKey, 42), slog.Int64(UserIDKey, 7))
	log.InfoContext(ctx, "two", slog.String("request_id", "explicit-123"))
	log.Info("three", slog.Int64(UserIDKey, 0))
	New(&buf, slog.LevelInfo, nil).InfoContext(ctx, "four", slog.Int64(UserIDKey, 7))

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		lines = append(lines, m)
	}
	if lines[0]["request_id"] != "req-12345678" || lines[0]["caller"] != p.Of(42) || lines[0]["user"] != p.Of(7) ||
		lines[0][CallerIDKey] != nil || lines[0][UserIDKey] != nil || lines[0]["component"] != "test" {
		t.Errorf("line one: %v", lines[0])
	}
	if lines[1]["request_id"] != "explicit-123" || strings.Count(buf.String(), "explicit-123") != 1 {
		t.Errorf("line two names its own id once: %v", lines[1])
	}
	if _, ok := lines[2]["user"]; ok || lines[2]["request_id"] != nil {
		t.Errorf("line three: %v", lines[2])
	}
	if _, ok := lines[3]["user"]; ok || lines[3][UserIDKey] != nil {
		t.Errorf("without pseudonyms a person's id is dropped: %v", lines[3])
	}
	if p.Of(42) == p.Of(43) || len(p.Of(42)) != 16 || NewPseudonyms([]byte("another key entirely")).Of(42) == p.Of(42) {
		t.Error("pseudonyms do not tell people or keys apart")
	}
}

// The key is kept in DATA_DIR, so a person keeps their pseudonym across
// restarts; LOG_CALLER_KEY, shared by replicas, wins.
func TestPseudonymKey(t *testing.T) {
	dir := t.TempDir()
	a, warn := LoadPseudonyms("", dir)
	if warn != "" {
		t.Fatal(warn)
	}
	b, _ := LoadPseudonyms("", dir)
	if a.Of(1) != b.Of(1) {
		t.Error("pseudonym changed across loads")
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	c, _ := LoadPseudonyms("shared key of the replicas", dir)
	if c.Of(1) == a.Of(1) {
		t.Error("LOG_CALLER_KEY ignored")
	}
	// A data dir that cannot hold the key still gives pseudonyms, and says so.
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, nil, 0o600)
	d, warn := LoadPseudonyms("", filepath.Join(file, "sub"))
	if d == nil || warn == "" {
		t.Errorf("unwritable dir: %v %q", d, warn)
	}
}
