package media_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ishoj/voresishoj/internal/media"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := media.NewDir(filepath.Join(root, "media"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A secret next to the media directory must stay out of reach.
	if err := os.WriteFile(filepath.Join(root, "secret.jpg"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}

	key := media.NewKey("-320.jpg")
	if !media.ValidKey(key) {
		t.Fatalf("NewKey made invalid key %q", key)
	}
	if err := d.Put(ctx, key, strings.NewReader("jpeg bytes"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "jpeg bytes" {
		t.Errorf("read back %q", b)
	}
	// No temporary files are left beside the blob.
	entries, _ := os.ReadDir(filepath.Join(root, "media", key[:2]))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}

	// A failing reader leaves nothing behind.
	bad := media.NewKey("-1280.jpg")
	if err := d.Put(ctx, bad, io.MultiReader(strings.NewReader("half"), failing{}), "image/jpeg"); err == nil {
		t.Error("Put with failing reader succeeded")
	}
	if _, err := d.Open(ctx, bad); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("half-written blob visible: %v", err)
	}
	entries, _ = os.ReadDir(filepath.Join(root, "media", bad[:2]))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	for _, k := range []string{"../secret.jpg", "/etc/passwd", "a/../../secret.jpg", ".hidden", "", key[:2]} {
		if _, err := d.Open(ctx, k); err == nil {
			t.Errorf("Open(%q) succeeded", k)
		}
		if k != key[:2] {
			if err := d.Put(ctx, k, strings.NewReader("x"), ""); !errors.Is(err, media.ErrInvalidKey) {
				t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
			}
		}
	}

	if err := d.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if _, err := d.Open(ctx, key); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open after Delete = %v, want ErrNotFound", err)
	}
}

// everyonesAccess makes every blob public.
var everyonesAccess = media.Access{
	Public: func(context.Context, string) (bool, error) { return true, nil },
	Signer: media.RandomSigner(),
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestHandler(t *testing.T) {
	ctx := context.Background()
	d, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := media.NewKey("-320.jpg")
	if err := d.Put(ctx, key, strings.NewReader("\xFF\xD8\xFFjpeg"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("", media.Handler(d, everyonesAccess)))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/media/" + key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "\xFF\xD8\xFFjpeg" {
		t.Fatalf("GET = %d %q", res.StatusCode, body)
	}
	if got := res.Header.Get("Content-Type"); got != "image/jpeg" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q", got)
	}

	for _, p := range []string{
		"/media/" + media.NewKey("-320.jpg"), // unknown
		"/media/",                            // listing
		"/media/" + key[:2],                  // directory
		"/media/" + key[:2] + "/",            // directory listing
		"/media/..%2f..%2fetc%2fpasswd",      // traversal
		"/media/" + strings.TrimSuffix(key, ".jpg") + ".html",
	} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/media/"+key, nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", res.StatusCode)
	}
}
