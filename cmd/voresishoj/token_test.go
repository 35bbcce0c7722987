package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/auth"
)

// token outside the server's DATA_DIR would make a key of its own, whose
// tokens that server refuses: it fails, says where it looked, and writes
// nothing.
func TestTokenNeedsTheServersKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("FIREBASE_PROJECT_ID", "")
	t.Setenv("APP_ENV", "development")
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"token", "--email", "anna@ishoj.example"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, auth.LocalKeyFile)) || !strings.Contains(err.Error(), "DATA_DIR") {
		t.Fatalf("token without a key: %v", err)
	}
	if out.Len() > 0 {
		t.Errorf("printed %q", out.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("token wrote %v into DATA_DIR", entries)
	}

	// With the server's key it prints a token that key verifies.
	if err := run(context.Background(), []string{"migrate"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	key := []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n") // 32 bytes, base64
	if err := os.WriteFile(filepath.Join(dir, auth.LocalKeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"token", "--email", "anna@ishoj.example"}, &out, &errs); err != nil {
		t.Fatalf("token with the key: %v (%s)", err, errs.String())
	}
	local, err := auth.NewLocal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Verify(context.Background(), strings.TrimSpace(out.String())); err != nil {
		t.Errorf("the printed token does not verify: %v", err)
	}
}
