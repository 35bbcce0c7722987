package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ishoj/voresishoj/internal/media"
)

// fakeS3 runs an in-process S3 (gofakes3) with one bucket and returns the
// MEDIA_URL for it; credentials come from the environment, as in
// production.
func fakeS3(t *testing.T, bucket string) (mediaURL string, backend *s3mem.Backend) {
	t.Helper()
	backend = s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	host := strings.TrimPrefix(srv.URL, "http://")
	return "s3://" + bucket + "/photos?endpoint=" + host + "&region=eu-north-1&insecure=true&path_style=true", backend
}

// Both drivers keep the same promises: what is put is read back whole,
// keys that could escape are refused, a missing blob is ErrNotFound,
// deleting twice is no error, and the reader seeks.
func TestStores(t *testing.T) {
	s3URL, _ := fakeS3(t, "voresishoj-media")
	for name, url := range map[string]string{
		"dir":      filepath.Join(t.TempDir(), "media"),
		"file URL": "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "media")),
		"s3":       s3URL,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := media.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			key := media.NewKey("-320.jpg")
			body := bytes.Repeat([]byte("jpeg bytes "), 1000)
			if err := s.Put(ctx, key, bytes.NewReader(body), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			// A reader without a length works too (S3 needs it up front).
			other := media.NewKey("-640.jpg")
			if err := s.Put(ctx, other, io.MultiReader(strings.NewReader("a"), strings.NewReader("b")), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			rc, err := s.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			if !bytes.Equal(got, body) {
				t.Errorf("read back %d bytes, want %d", len(got), len(body))
			}
			rs, ok := rc.(io.ReadSeeker)
			if !ok {
				t.Fatalf("%T does not seek; range requests need it", rc)
			}
			if _, err := rs.Seek(5, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 5)
			if _, err := io.ReadFull(rs, part); err != nil || string(part) != "bytes" {
				t.Errorf("after seek read %q %v", part, err)
			}
			rc.Close()

			if _, err := s.Open(ctx, media.NewKey("-320.jpg")); !errors.Is(err, media.ErrNotFound) {
				t.Errorf("Open(missing) = %v, want ErrNotFound", err)
			}
			for _, k := range []string{"../secret.jpg", "/etc/passwd", "a/../../secret.jpg", ".hidden", ""} {
				if err := s.Put(ctx, k, strings.NewReader("x"), ""); !errors.Is(err, media.ErrInvalidKey) {
					t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
				}
				if _, err := s.Open(ctx, k); err == nil {
					t.Errorf("Open(%q) succeeded", k)
				}
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Errorf("second Delete = %v, want nil", err)
			}
			if _, err := s.Open(ctx, key); !errors.Is(err, media.ErrNotFound) {
				t.Errorf("Open after Delete = %v, want ErrNotFound", err)
			}
		})
	}
}

// Two servers on one bucket: a photo put through one is served by the
// other, with the headers and range requests of the directory store; the
// prefix of the URL is where the objects are.
func TestHandlerOnS3(t *testing.T) {
	ctx := context.Background()
	url, backend := fakeS3(t, "shared")
	a, err := media.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := media.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	key := media.NewKey("-1280.jpg")
	if err := a.Put(ctx, key, strings.NewReader("\xFF\xD8\xFFjpeg from replica A"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if _, err := backend.HeadObject("shared", "photos/"+key); err != nil {
		t.Errorf("object not under the URL's prefix: %v", err)
	}
	srv := httptest.NewServer(media.Handler(b, everyonesAccess))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/media/" + key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "\xFF\xD8\xFFjpeg from replica A" {
		t.Fatalf("GET through B = %d %q", res.StatusCode, body)
	}
	if res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("headers %v", res.Header)
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/media/"+key, nil)
	req.Header.Set("Range", "bytes=3-6")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || string(body) != "jpeg" {
		t.Errorf("range GET = %d %q, want 206 \"jpeg\"", res.StatusCode, body)
	}

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/media/"+key, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", res.StatusCode)
	}

	res, err = http.Get(srv.URL + "/media/" + media.NewKey("-320.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("missing photo = %d, want 404", res.StatusCode)
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	url, _ := fakeS3(t, "exists")
	for _, bad := range []string{
		strings.Replace(url, "s3://exists", "s3://missing", 1), // no such bucket
		url + "&colour=blue", // unknown parameter
		strings.Replace(url, "insecure=true", "insecure=yes", 1), // not a bool
		"ftp://example.org/media",
	} {
		if s, err := media.Open(ctx, bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
