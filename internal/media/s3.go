package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// maxPut bounds a blob handed to S3 without a known size, which is read
// into memory first (S3 wants the length up front; minio-go would
// otherwise buffer a 16 MB multipart part).
const maxPut = 64 << 20

// S3 is a Store in a bucket of an S3-compatible object store (Amazon S3,
// MinIO, Ceph, Hetzner, Scaleway, Google Cloud Storage's XML API, ...), so
// that every replica serves the same photos.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or "dir/", in front of every key
}

// S3Options are what an s3:// URL says besides the bucket.
type S3Options struct {
	// Endpoint is host[:port] of the store; empty is Amazon S3.
	Endpoint string
	Region   string
	// Insecure speaks plain http (a store on the same host or network).
	Insecure bool
	// PathStyle puts the bucket in the path rather than the host name.
	// Stores other than Amazon S3 usually need it; unset lets the client
	// decide from the endpoint.
	PathStyle *bool
	// Creds default to the environment (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; MINIO_ROOT_USER and
	// MINIO_ROOT_PASSWORD), then ~/.aws/credentials, then the instance role.
	Creds *credentials.Credentials
	// Transport is for tests.
	Transport http.RoundTripper
}

// NewS3 returns a Store in bucket under prefix.
func NewS3(bucket, prefix string, o S3Options) (*S3, error) {
	if bucket == "" {
		return nil, errors.New("media: s3 needs a bucket")
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	creds := o.Creds
	if creds == nil {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if o.PathStyle != nil {
		lookup = minio.BucketLookupDNS
		if *o.PathStyle {
			lookup = minio.BucketLookupPath
		}
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds: creds, Secure: !o.Insecure, Region: o.Region, BucketLookup: lookup,
		Transport: o.Transport,
		// The default of 10 would hold a request for a minute while the
		// store is away; the caller's context bounds these anyway.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("media: s3 client: %w", err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}, nil
}

// Check reports whether the bucket can be reached, for start-up and
// readiness: a wrong name or missing credentials show here, not at the
// first upload.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: s3 bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("media: s3 bucket %s does not exist", s.bucket)
	}
	return nil
}

// Put uploads the blob; S3 makes it visible whole or not at all.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	if !ValidKey(key) {
		return fmt.Errorf("put %q: %w", key, ErrInvalidKey)
	}
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	} else {
		b, err := io.ReadAll(io.LimitReader(r, maxPut+1))
		if err != nil {
			return fmt.Errorf("put %s: read: %w", key, err)
		}
		if len(b) > maxPut {
			return fmt.Errorf("put %s: larger than %d bytes", key, maxPut)
		}
		r, size = bytes.NewReader(b), int64(len(b))
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{
		ContentType:  contentType,
		CacheControl: "public, max-age=31536000, immutable",
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Open returns the blob at key. The result seeks (by ranged GETs), so the
// handler serves range requests from it as from a file.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("open %q: %w", key, ErrInvalidKey)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy; Stat makes the request and tells a missing
		// object from a reachable one.
		_, err = obj.Stat()
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "NotFound" {
			return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return obj, nil
}

// Delete removes the blob; S3 answers success for a missing one, so
// clean-ups can be retried.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("delete %q: %w", key, ErrInvalidKey)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Close implements Store; the client holds nothing to release.
func (s *S3) Close() error { return nil }

// Open returns the Store that rawURL names:
//
//	/var/lib/voresishoj/media or file:///var/lib/voresishoj/media
//	    a directory on this machine (one replica, or a shared file system)
//	s3://bucket[/prefix]?endpoint=host:port&region=eu-north-1&insecure=true&path_style=true
//	    a bucket of an S3-compatible store; without endpoint, Amazon S3
//
// An S3 bucket is checked before Open returns, within startTimeout.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if !strings.Contains(rawURL, "://") {
		return NewDir(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("media: MEDIA_URL is not a URL")
	}
	switch u.Scheme {
	case "file":
		return NewDir(u.Path)
	case "s3":
		q := u.Query()
		o := S3Options{Endpoint: q.Get("endpoint"), Region: q.Get("region")}
		if v := q.Get("insecure"); v != "" {
			if o.Insecure, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("media: MEDIA_URL insecure=%q: want true or false", v)
			}
		}
		if v := q.Get("path_style"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("media: MEDIA_URL path_style=%q: want true or false", v)
			}
			o.PathStyle = &b
		}
		for k := range q {
			switch k {
			case "endpoint", "region", "insecure", "path_style":
			default:
				return nil, fmt.Errorf("media: MEDIA_URL: unknown parameter %q (endpoint, region, insecure, path_style)", k)
			}
		}
		s, err := NewS3(u.Host, path.Clean("/" + u.Path)[1:], o)
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		if err := s.Check(cctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("media: MEDIA_URL scheme %q: want a directory, file:// or s3://", u.Scheme)
}

// startTimeout bounds the bucket check at start.
const startTimeout = 10 * time.Second

// DeletePrefix removes every blob whose key starts with prefix (the
// cached variants of an image), listing them first; S3 has no directories
// to remove.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if !ValidKey(strings.TrimSuffix(prefix, "/")) {
		return fmt.Errorf("delete prefix %q: %w", prefix, ErrInvalidKey)
	}
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list %s: %w", prefix, obj.Err)
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("delete %s: %w", obj.Key, err)
		}
	}
	return nil
}
