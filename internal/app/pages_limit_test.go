package app

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
)

// The public pages are rate-limited per client address, in the process
// and (with TEST_REDIS_URL) in Redis: past PAGES_RATE_LIMIT_IP's burst a
// reader gets 429 with Retry-After and an HTML page, while /graphql and
// /healthz from the same address are not held up by it.
func TestPagesRateLimit(t *testing.T) {
	variants := map[string]string{"memory": ""}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		variants["redis"] = u
	}
	for name, redisURL := range variants {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DEMO_DATA": "true", "PAGES_RATE_LIMIT_IP": "10", "CLIENT_IP_HEADER": "X-Real-IP"}
			if redisURL != "" {
				env["REDIS_URL"] = redisURL
			}
			s := start(t, env)
			// A fresh address per run: Redis keeps buckets between runs.
			ip := fmt.Sprintf("10.%d.%d.%d", rand.IntN(250), rand.IntN(250), rand.IntN(250)+1)
			get := func(path string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
				req.Header.Set("X-Real-IP", ip)
				req.Header.Set("Accept-Language", "en")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			// 10 a minute is a burst of 5.
			for i := 0; i < 5; i++ {
				if resp, _ := get("/forside"); resp.StatusCode != http.StatusOK {
					t.Fatalf("page %d: %d", i+1, resp.StatusCode)
				}
			}
			resp, body := get("/activities")
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Too many page views") {
				t.Fatalf("past the burst: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if resp, _ := get("/healthz"); resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %d", resp.StatusCode)
			}
			if code, out := s.gql(t, "", `{ activities(first: 1) { edges { node { id } } } }`, nil); code != http.StatusOK || out["errors"] != nil {
				t.Errorf("/graphql after the pages' limit: %d %v", code, out)
			}
		})
	}
}
