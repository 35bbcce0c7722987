package calimport

import (
	"net/http"
	"time"
)

// PublicClient is the HTTP client the calendar import fetches with, for
// other fetches of addresses people typed in (the public pages' link
// previews): it dials public addresses only, checked after DNS
// resolution and on every redirect. allowPrivate is for tests whose
// server listens on loopback.
func PublicClient(timeout time.Duration, allowPrivate bool) *http.Client {
	return newClient(Options{Timeout: timeout, AllowPrivate: allowPrivate})
}
