package calimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/store"
)

// FetchError is a failed fetch: Code is the catalogue message stored as the
// source's last error, Detail the technical reason kept beside it.
type FetchError struct {
	Code   string
	Detail string
	Err    error
}

func (e *FetchError) Error() string { return e.Code + ": " + e.Detail }
func (e *FetchError) Unwrap() error { return e.Err }

// Result counts what one fetch did to the source's activities.
type Result struct {
	// NotModified is set when the server answered 304 and nothing was read.
	NotModified bool
	Created     int
	Updated     int
	Cancelled   int
	Restored    int
	Unchanged   int
	// Skipped counts events that could not be imported (no title or start,
	// private); an activity already imported from one of them is kept.
	Skipped int
}

var errPrivateAddress = errors.New("address is not public")

// newClient returns the HTTP client for feeds. Unless private addresses
// are allowed, the dialler refuses them after DNS resolution, so a public
// name pointing inside our network (or a redirect there) gets nowhere.
func newClient(opts Options) *http.Client {
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second, Resolver: opts.Resolver}
	if !opts.AllowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || privateIP(ip) {
				return fmt.Errorf("%w: %s", errPrivateAddress, host)
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	return &http.Client{
		Timeout:   opts.Timeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s", req.URL.Scheme)
			}
			return nil
		},
	}
}

// Fetch imports the source now, whatever its schedule, and records the
// outcome on the source. A *FetchError says why the fetch failed.
func (s *Service) Fetch(ctx context.Context, sourceID int64) (Result, error) {
	return s.fetch(ctx, sourceID, s.now())
}

// RunDue fetches every source that is due at now and returns how many it
// fetched, whether they succeeded or not; each source's outcome is
// recorded on it. A periodic job calls it, say every minute.
func (s *Service) RunDue(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	due, err := s.DueSources(ctx, now)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, src := range due {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		// Move the source a while ahead before fetching, so a runner on
		// another replica skips it; the outcome then sets the real time.
		claimed, err := store.Exec(ctx, s.db, `UPDATE calendar_sources SET next_fetch_at = ?
			WHERE id = ? AND next_fetch_at <= ?`, now.Add(3*s.opts.Timeout+time.Minute), src.ID, now)
		if err != nil {
			return n, fmt.Errorf("claim calendar source %d: %w", src.ID, err)
		}
		if claimed == 0 {
			continue
		}
		n++
		var fe *FetchError
		if _, err := s.fetch(ctx, src.ID, now); err != nil && !errors.As(err, &fe) && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

func (s *Service) fetch(ctx context.Context, id int64, now time.Time) (Result, error) {
	now = now.UTC().Truncate(time.Microsecond)
	src, err := s.source(ctx, s.db, id)
	if err != nil {
		return Result{}, err
	}
	log := s.log.With(slog.Int64("source_id", src.ID), slog.String("url", src.URL))
	res, out, err := s.importSource(ctx, src, now)
	if err != nil {
		var fe *FetchError
		if !errors.As(err, &fe) {
			fe = &FetchError{Code: CodeImportFailed, Detail: "internal error", Err: err}
		}
		failures := src.Failures + 1
		next := now.Add(Backoff(failures, s.jitter()))
		_, rerr := store.Exec(ctx, s.db, `UPDATE calendar_sources SET last_fetched_at = ?, last_error = ?,
			last_error_detail = ?, failures = ?, next_fetch_at = ? WHERE id = ?`,
			now, fe.Code, clip(fe.Detail, 500), failures, next, src.ID)
		if rerr != nil {
			return Result{}, errors.Join(fe, fmt.Errorf("record failure of calendar source %d: %w", src.ID, rerr))
		}
		log.WarnContext(ctx, "calendar fetch failed", slog.String("code", fe.Code), slog.Int("failures", failures),
			slog.Time("next_fetch_at", next), slog.Any("error", fe.Err))
		return Result{}, fe
	}
	if len(out.events) > 0 {
		s.bus.Publish(ctx, out.events...)
	}
	if out.refresh && s.activities != nil {
		// Recurring activities are expanded by the activity package; a
		// failure here is repaired by its daily refresh, so the import
		// stands.
		if _, err := s.activities.RefreshOccurrences(ctx); err != nil {
			log.ErrorContext(ctx, "refresh occurrences after calendar import", slog.Any("error", err))
		}
	}
	log.InfoContext(ctx, "calendar fetched", slog.Bool("not_modified", res.NotModified),
		slog.Int("created", res.Created), slog.Int("updated", res.Updated), slog.Int("cancelled", res.Cancelled),
		slog.Int("restored", res.Restored), slog.Int("unchanged", res.Unchanged), slog.Int("skipped", res.Skipped))
	return res, nil
}

// importSource downloads and applies one source. Everything it changes,
// including the source's own success state, is one transaction.
func (s *Service) importSource(ctx context.Context, src Source, now time.Time) (Result, applied, error) {
	body, validators, notModified, err := s.download(ctx, src)
	if err != nil {
		return Result{}, applied{}, err
	}
	if notModified {
		validators = cacheValidators{ETag: src.ETag, LastModified: src.LastModified}
		err := s.recordSuccess(ctx, s.db, src.ID, now, validators)
		return Result{NotModified: true}, applied{}, err
	}
	f, err := parse(body)
	if err != nil {
		return Result{}, applied{}, &FetchError{Code: CodeInvalidICal, Detail: err.Error(), Err: err}
	}
	var res Result
	var out applied
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		// Taking the source's row first makes two imports of one source
		// (a manual fetch beside the job) queue instead of interleave.
		n, err := store.Exec(ctx, tx, `UPDATE calendar_sources SET last_fetched_at = ? WHERE id = ?`, now, src.ID)
		if err != nil {
			return fmt.Errorf("lock calendar source %d: %w", src.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("calendar source %d: %w", src.ID, store.ErrNotFound)
		}
		if res, out, err = s.apply(ctx, tx, src, f, now); err != nil {
			return err
		}
		return s.recordSuccess(ctx, tx, src.ID, now, validators)
	})
	if err != nil {
		return Result{}, applied{}, err
	}
	return res, out, nil
}

type cacheValidators struct {
	ETag         *string
	LastModified *string
}

// download GETs the calendar, conditionally when the last response gave
// validators. notModified reports a 304.
func (s *Service) download(ctx context.Context, src Source) (body []byte, v cacheValidators, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, v, false, &FetchError{Code: CodeUnreachable, Detail: err.Error(), Err: err}
	}
	req.Header.Set("Accept", "text/calendar, */*;q=0.5")
	req.Header.Set("User-Agent", "VoresIshoj-calendar-import/1.0")
	if src.ETag != nil {
		req.Header.Set("If-None-Match", *src.ETag)
	}
	if src.LastModified != nil {
		req.Header.Set("If-Modified-Since", *src.LastModified)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, v, false, transportError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && (src.ETag != nil || src.LastModified != nil):
		return nil, v, true, nil
	case resp.StatusCode != http.StatusOK:
		return nil, v, false, &FetchError{Code: CodeHTTPStatus, Detail: "HTTP " + resp.Status,
			Err: fmt.Errorf("unexpected status %d", resp.StatusCode)}
	}
	tooBig := &FetchError{Code: CodeTooBig, Detail: fmt.Sprintf("larger than %d bytes", s.opts.MaxBytes),
		Err: errors.New("calendar too big")}
	if resp.ContentLength > s.opts.MaxBytes {
		return nil, v, false, tooBig
	}
	// The limit counts decompressed bytes, so a small gzipped bomb is
	// refused as well.
	body, err = io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBytes+1))
	if err != nil {
		return nil, v, false, transportError(err)
	}
	if int64(len(body)) > s.opts.MaxBytes {
		return nil, v, false, tooBig
	}
	if e := resp.Header.Get("ETag"); e != "" {
		v.ETag = &e
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		v.LastModified = &lm
	}
	return body, v, false, nil
}

func transportError(err error) *FetchError {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &FetchError{Code: CodeTimeout, Detail: err.Error(), Err: err}
	}
	return &FetchError{Code: CodeUnreachable, Detail: err.Error(), Err: err}
}

func (s *Service) recordSuccess(ctx context.Context, q store.Querier, id int64, now time.Time, v cacheValidators) error {
	_, err := store.Exec(ctx, q, `UPDATE calendar_sources SET last_fetched_at = ?, last_success_at = ?,
		last_error = NULL, last_error_detail = NULL, failures = 0, next_fetch_at = ?, etag = ?, last_modified = ?
		WHERE id = ?`, now, now, now.Add(s.opts.Interval), v.ETag, v.LastModified, id)
	if err != nil {
		return fmt.Errorf("record success of calendar source %d: %w", id, err)
	}
	return nil
}

const (
	firstRetry = time.Minute
	maxRetry   = 24 * time.Hour
)

// Backoff is the wait after the given number of failures in a row:
// 1 min, 2 min, 4 min … at most 24 h, shortened by up to a fifth by
// jitter (in [0, 1)) so sources that failed together do not retry together.
func Backoff(failures int, jitter float64) time.Duration {
	d := maxRetry
	if failures < 1 {
		failures = 1
	}
	if failures <= 20 {
		if e := firstRetry << (failures - 1); e < maxRetry {
			d = e
		}
	}
	return d - time.Duration(jitter*float64(d)/5)
}
