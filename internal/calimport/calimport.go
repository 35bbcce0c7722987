// Package calimport subscribes to external iCal calendars — the
// municipality's own "Det sker i Ishøj" first of all — and keeps the
// activities they hold in step: created or updated by the event's UID,
// cancelled when they leave the feed, published again when they return.
// A source that fails is retried with backoff and keeps its last error for
// the secretariat; a failed or malformed fetch changes nothing already
// imported.
package calimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// Codes a person may see: validation of a new source, and the last error
// of a source, which is stored as its code and translated when shown.
const (
	CodeSourceNotFound = "CALENDAR_SOURCE_NOT_FOUND"
	CodeSourceExists   = "CALENDAR_SOURCE_EXISTS"
	CodeURLInvalid     = "CALENDAR_URL_INVALID"
	CodeURLPrivate     = "CALENDAR_URL_PRIVATE"

	CodeUnreachable  = "CALENDAR_UNREACHABLE"
	CodeTimeout      = "CALENDAR_TIMEOUT"
	CodeHTTPStatus   = "CALENDAR_HTTP_STATUS"
	CodeTooBig       = "CALENDAR_TOO_BIG"
	CodeInvalidICal  = "CALENDAR_INVALID"
	CodeImportFailed = "CALENDAR_IMPORT_FAILED"
)

// Options tune a Service; the zero value is right for production.
type Options struct {
	// AllowPrivate lets sources point at loopback and private addresses;
	// only tests, whose server listens on 127.0.0.1, set it.
	AllowPrivate bool
	// Timeout bounds one fetch, 10 s by default.
	Timeout time.Duration
	// MaxBytes is the largest calendar accepted, 5 MB by default.
	MaxBytes int64
	// Interval is the time between successful fetches, 1 h by default.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock, clock.Real by default; the server passes its own
	// (DEV_NOW) and tests move it.
	Now func() time.Time
	// Resolver looks up the hosts of feeds; nil is the system's. Tests
	// give one whose answers they choose.
	Resolver *net.Resolver
}

// Service manages calendar sources and imports them.
type Service struct {
	db         *store.DB
	activities *activity.Service
	themes     *theme.Service
	bus        event.Publisher
	client     *http.Client
	log        *slog.Logger
	opts       Options
	// jitter returns a number in [0, 1); tests fix it.
	jitter func() float64
	now    func() time.Time
}

// NewService returns a Service. activities writes the imported activities
// (cancelling them with its cancel hook) and refreshes their occurrences
// after each import.
func NewService(db *store.DB, activities *activity.Service, themes *theme.Service, bus event.Publisher, opts Options) *Service {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 5 << 20
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = clock.Real
	}
	return &Service{
		db:         db,
		activities: activities,
		themes:     themes,
		bus:        bus,
		client:     newClient(opts),
		log:        opts.Logger,
		opts:       opts,
		jitter:     rand.Float64,
		now:        opts.Now,
	}
}

// Source is a subscribed calendar.
type Source struct {
	ID              int64      `db:"id"`
	URL             string     `db:"url"`
	OrganisationID  int64      `db:"organisation_id"`
	PlaceID         *int64     `db:"place_id"`
	CreatedBy       *int64     `db:"created_by"`
	CreatedAt       time.Time  `db:"created_at"`
	LastFetchedAt   *time.Time `db:"last_fetched_at"`
	LastSuccessAt   *time.Time `db:"last_success_at"`
	LastError       *string    `db:"last_error"`
	LastErrorDetail *string    `db:"last_error_detail"`
	Failures        int        `db:"failures"`
	NextFetchAt     time.Time  `db:"next_fetch_at"`
	ETag            *string    `db:"etag"`
	LastModified    *string    `db:"last_modified"`
	// Themes are given to every activity the source creates.
	Themes []string `db:"-"`
}

// ErrorMessage is the source's last error as the secretariat reads it in
// lang, or "" when the last fetch went well.
func (src Source) ErrorMessage(lang string) string {
	if src.LastError == nil {
		return ""
	}
	return i18n.Text(lang, *src.LastError, nil)
}

const sourceColumns = `id, url, organisation_id, place_id, created_by, created_at, last_fetched_at, last_success_at,
	last_error, last_error_detail, failures, next_fetch_at, etag, last_modified`

// AddSource subscribes the calendar at rawURL for an organisation, with an
// optional place and default themes. Only the secretariat may. The source
// is due at once.
func (s *Service) AddSource(ctx context.Context, c user.Caller, rawURL string, organisationID int64, placeID *int64, themes []string) (Source, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Source{}, err
	}
	var errs apperr.List
	u, err := s.checkURL(rawURL)
	if err != nil {
		errs = append(errs, apperr.UserErrors(err)...)
	}
	var n int
	if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM organisations WHERE id = ?`, organisationID); err != nil {
		return Source{}, fmt.Errorf("check organisation: %w", err)
	}
	if n == 0 {
		errs.Add("ORGANISATION_NOT_FOUND", "organisationId")
	}
	if placeID != nil {
		if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM places WHERE id = ?`, *placeID); err != nil {
			return Source{}, fmt.Errorf("check place: %w", err)
		}
		if n == 0 {
			errs.Add("PLACE_NOT_FOUND", "placeId")
		}
	}
	if err := s.themes.Validate(ctx, themes, "themes"); err != nil {
		if apperr.UserErrors(err) == nil {
			return Source{}, err
		}
		errs = append(errs, apperr.UserErrors(err)...)
	}
	if err := errs.Err(); err != nil {
		return Source{}, err
	}
	now := s.now()
	var id int64
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		err := store.Get(ctx, tx, &id, `INSERT INTO calendar_sources
			(url, organisation_id, place_id, created_by, created_at, failures, next_fetch_at)
			VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id`,
			u, organisationID, placeID, c.UserID, now, now)
		if store.IsAlreadyExists(err) {
			return apperr.New(CodeSourceExists, "url")
		}
		if err != nil {
			return fmt.Errorf("insert calendar source: %w", err)
		}
		seen := map[string]bool{}
		for _, t := range themes {
			if seen[t] {
				continue
			}
			seen[t] = true
			if _, err := store.Exec(ctx, tx, `INSERT INTO calendar_source_themes (source_id, theme) VALUES (?, ?)`, id, t); err != nil {
				return fmt.Errorf("insert source theme: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Source{}, err
	}
	s.log.InfoContext(ctx, "calendar source added", slog.Int64("source_id", id), slog.String("url", u),
		slog.Int64("organisation_id", organisationID))
	return s.source(ctx, s.db, id)
}

// checkURL validates a calendar address: http or https (webcal is https),
// no credentials, and not an internal host unless AllowPrivate.
func (s *Service) checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > 2000 {
		return "", apperr.New(apperr.CodeTooLong, "url").With("Max", 2000)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", apperr.New(CodeURLInvalid, "url")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		u.Scheme = strings.ToLower(u.Scheme)
	case "webcal", "webcals":
		// Calendar apps' name for a subscription over https.
		u.Scheme = "https"
	default:
		return "", apperr.New(CodeURLInvalid, "url")
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	if !s.opts.AllowPrivate && privateHost(u.Hostname()) {
		return "", apperr.New(CodeURLPrivate, "url")
	}
	return u.String(), nil
}

// privateHost reports names and literal addresses that lead inside our own
// network. Names that resolve there are refused when dialling.
func privateHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") ||
		strings.HasSuffix(h, ".internal") || !strings.Contains(h, ".") && net.ParseIP(h) == nil {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return privateIP(ip)
	}
	return false
}

// notPublic are ranges that net.IP's predicates do not cover. The IPv6
// ones carry an IPv4 address that a translator or relay on the way turns
// the traffic into, so a name answering 64:ff9b::a9fe:a9fe reaches
// 169.254.169.254 through a NAT64 gateway. They are refused whole rather
// than judged by the IPv4 address inside: nothing a calendar is served
// from needs them (a server on an IPv6-only network behind DNS64 would
// have to be given the feed's IPv6 address or a proxy).
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (shared address space)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64, well-known prefix (RFC 6052)
	netip.MustParsePrefix("64:ff9b:1::/48"), // NAT64, local-use prefix (RFC 8215)
	netip.MustParsePrefix("2002::/16"),      // 6to4 (RFC 3056)
	netip.MustParsePrefix("2001::/32"),      // Teredo (RFC 4380)
	netip.MustParsePrefix("100::/64"),       // discard-only (RFC 6666)
}

func privateIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return true
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return true
	}
	a = a.Unmap()
	for _, p := range notPublic {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RemoveSource ends a subscription. The activities it imported stay, as
// they are now, with the calendar's URL to say where they came from.
func (s *Service) RemoveSource(ctx context.Context, c user.Caller, id int64) error {
	if err := c.RequireSecretariat(); err != nil {
		return err
	}
	// activities.source_id is cleared by its foreign key (ON DELETE SET NULL).
	n, err := store.Exec(ctx, s.db, `DELETE FROM calendar_sources WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete calendar source %d: %w", id, err)
	}
	if n == 0 {
		return apperr.New(CodeSourceNotFound, "id")
	}
	s.log.InfoContext(ctx, "calendar source removed", slog.Int64("source_id", id))
	return nil
}

// Sources lists every subscribed calendar for the secretariat.
func (s *Service) Sources(ctx context.Context, c user.Caller) ([]Source, error) {
	if err := c.RequireSecretariat(); err != nil {
		return nil, err
	}
	var srcs []Source
	if err := store.Select(ctx, s.db, &srcs, `SELECT `+sourceColumns+` FROM calendar_sources ORDER BY id`); err != nil {
		return nil, fmt.Errorf("calendar sources: %w", err)
	}
	return srcs, s.withThemes(ctx, s.db, srcs)
}

// Source returns one subscribed calendar for the secretariat.
func (s *Service) Source(ctx context.Context, c user.Caller, id int64) (Source, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Source{}, err
	}
	src, err := s.source(ctx, s.db, id)
	if errors.Is(err, store.ErrNotFound) {
		return Source{}, apperr.New(CodeSourceNotFound, "id")
	}
	return src, err
}

// DueSources returns the sources whose next fetch is due at now, the
// longest waiting first.
func (s *Service) DueSources(ctx context.Context, now time.Time) ([]Source, error) {
	var srcs []Source
	err := store.Select(ctx, s.db, &srcs, `SELECT `+sourceColumns+` FROM calendar_sources
		WHERE next_fetch_at <= ? ORDER BY next_fetch_at, id LIMIT 100`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("due calendar sources: %w", err)
	}
	return srcs, s.withThemes(ctx, s.db, srcs)
}

func (s *Service) source(ctx context.Context, q store.Querier, id int64) (Source, error) {
	var src Source
	if err := store.Get(ctx, q, &src, `SELECT `+sourceColumns+` FROM calendar_sources WHERE id = ?`, id); err != nil {
		return Source{}, fmt.Errorf("calendar source %d: %w", id, err)
	}
	srcs := []Source{src}
	if err := s.withThemes(ctx, q, srcs); err != nil {
		return Source{}, err
	}
	return srcs[0], nil
}

func (s *Service) withThemes(ctx context.Context, q store.Querier, srcs []Source) error {
	if len(srcs) == 0 {
		return nil
	}
	ids := make([]int64, len(srcs))
	for i, src := range srcs {
		ids[i] = src.ID
	}
	query, args, err := store.In(`SELECT source_id, theme FROM calendar_source_themes WHERE source_id IN (?) ORDER BY theme`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		SourceID int64  `db:"source_id"`
		Theme    string `db:"theme"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return fmt.Errorf("themes of calendar sources: %w", err)
	}
	byID := map[int64][]string{}
	for _, r := range rows {
		byID[r.SourceID] = append(byID[r.SourceID], r.Theme)
	}
	for i := range srcs {
		srcs[i].Themes = byID[srcs[i].ID]
	}
	return nil
}

// Origin says where an imported activity came from.
type Origin struct {
	ActivityID int64  `db:"id"`
	SourceID   *int64 `db:"source_id"`
	UID        string `db:"source_uid"`
	// CalendarURL is the feed the activity was imported from.
	CalendarURL string `db:"source_url"`
}

// OriginsByActivityIDs returns the origin of each imported activity among
// ids; activities made in the app are absent from the map.
func (s *Service) OriginsByActivityIDs(ctx context.Context, ids []int64) (map[int64]Origin, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT id, source_id, source_uid, source_url FROM activities
		WHERE id IN (?) AND source_uid IS NOT NULL`, ids)
	if err != nil {
		return nil, err
	}
	var rows []Origin
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("origins of activities: %w", err)
	}
	m := make(map[int64]Origin, len(rows))
	for _, o := range rows {
		m[o.ActivityID] = o
	}
	return m, nil
}
