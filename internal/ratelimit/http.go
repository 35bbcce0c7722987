package ratelimit

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ClientIP is the address a request came from: the first address in
// header when one is named (a trusted proxy's X-Real-IP or
// X-Forwarded-For), else the connection's. Only name a header a proxy
// overwrites, or anyone can claim any address.
func ClientIP(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			// X-Forwarded-For lists the client first.
			return strings.TrimSpace(strings.Split(v, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// AddressKey is the key of an address's limits. An IPv6 address counts
// by its /64: one subscriber is given at least that many addresses, and
// would otherwise have 2^64 limits to spread over.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// RetryAfterSeconds is wait as a Retry-After header counts it: whole
// seconds, rounded up, at least one.
func RetryAfterSeconds(wait time.Duration) int {
	return max(int(math.Ceil(wait.Seconds())), 1)
}

// Refuse answers a request over its limit; Retry-After is set already.
type Refuse func(w http.ResponseWriter, r *http.Request, retryAfter int)

// PerAddress lets each client address (ClientIP with header, counted by
// AddressKey) make as many requests to next as l allows, and answers the
// rest with refuse after setting Retry-After. A nil l limits nothing.
// When the limiter fails the request passes: a limit is protection, not
// a reason to be down.
func PerAddress(l Limiter, header string, log *slog.Logger, refuse Refuse, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := l.Allow(r.Context(), AddressKey(ClientIP(r, header)))
		if err != nil {
			log.WarnContext(r.Context(), "rate limit unavailable", slog.String("error", err.Error()))
			next.ServeHTTP(w, r)
			return
		}
		if !res.Allowed {
			secs := RetryAfterSeconds(res.RetryAfter)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			refuse(w, r, secs)
			return
		}
		next.ServeHTTP(w, r)
	})
}
