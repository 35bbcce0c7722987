package pages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ishoj/voresishoj/internal/link"
)

// Links to YouTube, Facebook and Instagram are shown as link cards: the
// page loads nothing from those sites (no script, iframe or image), as
// Danish public sites must not let third parties set cookies before the
// reader agrees; the reader who follows the link chooses to go there.
// Where the provider offers oEmbed the card gets the post's title and
// thumbnail, fetched by the server through the same client that refuses
// private addresses as the calendar import, and the thumbnail is served
// from here (/embeds/…); the provider's embed HTML (its script) is never
// used. YouTube's oEmbed needs no account; Facebook's and Instagram's are
// asked only with a Meta app token (META_OEMBED_TOKEN), and without one
// their cards show the link's own label.

// card is one link as a page shows it.
type card struct {
	Class, URL, Site, Title, Notice string
	Thumb                           string
	ThumbWidth, ThumbHeight         int
}

var siteNames = map[link.Kind]string{link.YouTube: "YouTube", link.Facebook: "Facebook", link.Instagram: "Instagram"}

func (s *Service) cards(r *http.Request, l *lang, links []link.Link) []card {
	var out []card
	for _, k := range links {
		u, err := url.Parse(k.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		site := siteNames[k.Kind]
		if site == "" {
			site = strings.TrimPrefix(u.Hostname(), "www.")
		}
		c := card{Class: strings.ToLower(string(k.Kind)), URL: k.URL, Site: site, Title: k.Label}
		if s.opts.Embeds != nil {
			if m, ok := s.opts.Embeds.Lookup(k.Kind, k.URL); ok {
				if m.Title != "" {
					c.Title = m.Title
				}
				if m.thumbKey != "" {
					c.Thumb = s.links.URL(embedPrefix + m.thumbKey)
					c.ThumbWidth, c.ThumbHeight = m.ThumbWidth, m.ThumbHeight
				}
			}
		}
		if c.Title == "" {
			c.Title = k.URL
		}
		if k.Kind == link.Web {
			c.Notice = l.TP("pages.embed.web", map[string]any{"Site": site})
		} else {
			c.Notice = l.TP("pages.embed.notice", map[string]any{"Site": site})
		}
		out = append(out, c)
	}
	return out
}

// embedPrefix is where the thumbnails of link cards are served.
const embedPrefix = "/embeds/"

// Embed is what oEmbed told about a link.
type Embed struct {
	Title                   string
	ThumbWidth, ThumbHeight int
	thumbKey                string
}

type embedEntry struct {
	embed   Embed
	ok      bool
	fetched time.Time
}

// Embeds looks up links through their providers' oEmbed, in the
// background: a page never waits for a provider. What it learns is kept
// in memory for a day (a failure for an hour), at most maxEmbeds links.
type Embeds struct {
	client    *http.Client
	providers Providers
	log       *slog.Logger
	now       func() time.Time

	mu       sync.Mutex
	entries  map[string]*embedEntry
	thumbs   map[string]thumb
	inflight map[string]bool
	sem      chan struct{}
}

// Providers are the oEmbed endpoints the cards ask, by provider; an
// empty one is not asked. Tests point them at their own server.
type Providers struct {
	YouTube string
	// Instagram, FacebookPost and FacebookVideo are Meta's endpoints,
	// asked only with MetaToken, which goes with each request as its
	// access_token.
	Instagram, FacebookPost, FacebookVideo string
	MetaToken                              string
}

type thumb struct {
	body        []byte
	contentType string
}

const (
	maxEmbeds     = 500
	maxThumbBytes = 256 << 10
	maxOEmbed     = 64 << 10
	embedTTL      = 24 * time.Hour
	embedRetry    = time.Hour
	embedTimeout  = 10 * time.Second
)

// YouTubeOEmbed is YouTube's oEmbed endpoint.
const YouTubeOEmbed = "https://www.youtube.com/oembed"

// metaGraph is where Meta's oEmbed endpoints are, in the Graph API
// version they were checked against.
const metaGraph = "https://graph.facebook.com/v26.0/"

// DefaultProviders are the real providers: YouTube always, Facebook and
// Instagram when metaToken is set.
func DefaultProviders(metaToken string) Providers {
	p := Providers{YouTube: YouTubeOEmbed}
	if metaToken != "" {
		p.Instagram, p.FacebookPost, p.FacebookVideo = metaGraph+"instagram_oembed", metaGraph+"oembed_post", metaGraph+"oembed_video"
		p.MetaToken = metaToken
	}
	return p
}

// endpoint is the oEmbed request for rawURL, or "" when no provider is
// asked about it.
func (p Providers) endpoint(kind link.Kind, rawURL string) string {
	if !embeddable(kind, rawURL) {
		return ""
	}
	var base string
	q := url.Values{"url": {rawURL}, "maxwidth": {"480"}}
	switch kind {
	case link.YouTube:
		base = p.YouTube
		q.Set("format", "json")
	case link.Instagram, link.Facebook:
		if p.MetaToken == "" {
			return ""
		}
		base = p.Instagram
		if kind == link.Facebook {
			base = p.FacebookPost
			if facebookVideo(rawURL) {
				base = p.FacebookVideo
			}
		}
		// The embed HTML is not used; without its script it is smaller.
		q.Set("omitscript", "true")
		q.Set("access_token", p.MetaToken)
	}
	if base == "" {
		return ""
	}
	return base + "?" + q.Encode()
}

// embeddable reports whether rawURL is a single post or video, the
// only links the providers' oEmbed answers for: a channel, profile,
// group, page or event would fail every hour and spend the quota.
func embeddable(kind link.Kind, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host, p := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), u.Path
	prefixed := func(prefixes ...string) bool {
		for _, x := range prefixes {
			if strings.HasPrefix(p, x) {
				return true
			}
		}
		return false
	}
	switch kind {
	case link.YouTube:
		return host == "youtu.be" || prefixed("/watch", "/shorts/", "/live/", "/embed/")
	case link.Instagram:
		return prefixed("/p/", "/reel/", "/reels/", "/tv/")
	case link.Facebook:
		return facebookVideo(rawURL) || strings.Contains(p, "/posts/") || strings.Contains(p, "/photos/") ||
			prefixed("/permalink.php", "/photo.php", "/photo/", "/share/p/", "/share/v/", "/share/r/")
	}
	return false
}

// facebookVideo reports whether a Facebook link is a video (Meta's
// oembed_video) rather than a post (oembed_post).
func facebookVideo(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	return host == "fb.watch" || strings.Contains(u.Path, "/videos/") || u.Path == "/video.php" ||
		strings.HasPrefix(u.Path, "/watch") || strings.HasPrefix(u.Path, "/reel/")
}

// NewEmbeds returns an Embeds that fetches with client (the calendar
// import's, which dials public addresses only) from providers.
func NewEmbeds(client *http.Client, providers Providers, log *slog.Logger, now func() time.Time) *Embeds {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Embeds{client: client, providers: providers, log: log, now: now,
		entries: map[string]*embedEntry{}, thumbs: map[string]thumb{}, inflight: map[string]bool{},
		sem: make(chan struct{}, 2)}
}

// Lookup returns what is known of rawURL, and starts finding out when
// nothing (or something stale) is.
func (e *Embeds) Lookup(kind link.Kind, rawURL string) (Embed, bool) {
	endpoint := e.providers.endpoint(kind, rawURL)
	if endpoint == "" {
		return Embed{}, false
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	ent := e.entries[rawURL]
	fresh := ent != nil && ((ent.ok && now.Sub(ent.fetched) < embedTTL) || (!ent.ok && now.Sub(ent.fetched) < embedRetry))
	if !fresh && !e.inflight[rawURL] && (ent != nil || len(e.entries) < maxEmbeds) {
		e.inflight[rawURL] = true
		go e.fetch(endpoint, rawURL)
	}
	if ent == nil || !ent.ok {
		return Embed{}, false
	}
	return ent.embed, true
}

// Wait blocks until no lookup is running or ctx ends; for tests and for
// warming the cache.
func (e *Embeds) Wait(ctx context.Context) error {
	for {
		e.mu.Lock()
		n := len(e.inflight)
		e.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fetch asks the provider about rawURL, on its own deadline: the page
// that asked has long been answered.
func (e *Embeds) fetch(endpoint, rawURL string) {
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	ctx, cancel := context.WithTimeout(context.Background(), embedTimeout)
	defer cancel()
	emb, th, err := e.oembed(ctx, endpoint, rawURL)
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.inflight, rawURL)
	ent := &embedEntry{fetched: e.now()}
	if err != nil {
		e.log.Info("oembed lookup failed", slog.String("url", rawURL), slog.String("error", err.Error()))
	} else {
		ent.ok, ent.embed = true, emb
		if th != nil {
			e.thumbs[emb.thumbKey] = *th
		}
	}
	e.entries[rawURL] = ent
}

func (e *Embeds) oembed(ctx context.Context, endpoint, rawURL string) (Embed, *thumb, error) {
	body, _, err := e.get(ctx, endpoint, maxOEmbed)
	if err != nil {
		return Embed{}, nil, err
	}
	var o struct {
		Title           string `json:"title"`
		ThumbnailURL    string `json:"thumbnail_url"`
		ThumbnailWidth  int    `json:"thumbnail_width"`
		ThumbnailHeight int    `json:"thumbnail_height"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return Embed{}, nil, fmt.Errorf("oembed answer: %w", err)
	}
	emb := Embed{Title: strings.TrimSpace(o.Title)}
	if len([]rune(emb.Title)) > 200 {
		emb.Title = string([]rune(emb.Title)[:200]) + "…"
	}
	if o.ThumbnailURL == "" {
		return emb, nil, nil
	}
	tu, err := url.Parse(o.ThumbnailURL)
	if err != nil || tu.Scheme != "https" && tu.Scheme != "http" {
		return emb, nil, nil
	}
	img, ctype, err := e.get(ctx, tu.String(), maxThumbBytes)
	if err != nil {
		// The title is still worth showing.
		e.log.Info("oembed thumbnail failed", slog.String("url", rawURL), slog.String("error", err.Error()))
		return emb, nil, nil
	}
	switch ctype {
	case "image/jpeg", "image/png", "image/webp":
	default:
		return emb, nil, nil
	}
	sum := sha256.Sum256([]byte(rawURL))
	emb.thumbKey = hex.EncodeToString(sum[:12])
	emb.ThumbWidth, emb.ThumbHeight = o.ThumbnailWidth, o.ThumbnailHeight
	return emb, &thumb{body: img, contentType: ctype}, nil
}

var errTooBig = errors.New("answer too big")

func (e *Embeds) get(ctx context.Context, u string, max int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", "VoresIshoj/1 (+link previews)")
	resp, err := e.client.Do(req)
	if err != nil {
		// The client's error quotes the address, and Meta's holds the
		// token: name it without its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, "", fmt.Errorf("%s %s: %w", ue.Op, withoutQuery(ue.URL), ue.Err)
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(body)) > max {
		return nil, "", errTooBig
	}
	ctype, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return body, strings.TrimSpace(strings.ToLower(ctype)), nil
}

func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(address)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// serveThumb answers a card's thumbnail from memory.
func (e *Embeds) serveThumb(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	th, ok := e.thumbs[r.PathValue("key")]
	e.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", th.contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(th.body)
}
