package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/demo"
	"github.com/ishoj/voresishoj/internal/user"
)

// started is a real server on a free port with its own data directory.
type started struct {
	url    string
	app    *App
	cfg    config.Config
	cancel context.CancelFunc
	done   chan error
}

// start runs the server at TEST_NOW (today when unset) through DEV_NOW, so
// CI can run these tests, and the demo data they use, at chosen dates.
func start(t *testing.T, env map[string]string) *started {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{"DATA_DIR": dir, "LISTEN_ADDR": "127.0.0.1:0", "LOG_LEVEL": "error", "METRICS_ADDR": "127.0.0.1:0",
		"DEV_NOW": clocktest.Now(t).Format(time.RFC3339Nano)}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	db, err := OpenDB(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, cfg, log, db)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &started{url: "http://" + ln.Addr().String(), app: a, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
		a.Close()
	})
	return s
}

func (s *started) gql(t *testing.T, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, out
}

// The embedded default: demo data, local tokens, the secretariat creates
// an organisation and names an organiser; a resident may not.
func TestEmbeddedDefaultWithLocalTokens(t *testing.T) {
	s := start(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/", "/explorer/graphiql.min.js"} {
		resp, err := http.Get(s.url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}

	local, err := auth.NewLocal(s.cfg.DataDir, user.NewService(s.app.db, s.app.now))
	if err != nil {
		t.Fatal(err)
	}
	boss, err := local.IssueForEmail(context.Background(), demo.SecretariatEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	resident, err := local.IssueForEmail(context.Background(), "ny@example.dk", "Ny Beboer")
	if err != nil {
		t.Fatal(err)
	}

	_, me := s.gql(t, boss, `{ me { role email } }`, nil)
	if got := me["data"].(map[string]any)["me"].(map[string]any); got["role"] != "SECRETARIAT" || got["email"] != demo.SecretariatEmail {
		t.Fatalf("me as the demo secretariat: %v", me)
	}

	create := `mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id name } userErrors { code } } }`
	_, out := s.gql(t, resident, create, map[string]any{"i": map[string]any{"name": "Strandrensning", "kind": "INFORMAL_INITIATIVE"}})
	if errs, _ := out["errors"].([]any); len(errs) == 0 || !strings.Contains(mustJSON(errs), "FORBIDDEN") {
		t.Fatalf("resident created an organisation: %v", out)
	}
	_, out = s.gql(t, boss, create, map[string]any{"i": map[string]any{"name": "Strandrensning", "kind": "INFORMAL_INITIATIVE"}})
	org := out["data"].(map[string]any)["createOrganisation"].(map[string]any)["organisation"].(map[string]any)
	_, out = s.gql(t, boss, `mutation($i: AddOrganiserInput!) { addOrganiser(input: $i) { user { id } userErrors { code } } }`,
		map[string]any{"i": map[string]any{"organisationId": org["id"], "email": "ny@example.dk"}})
	if ues := out["data"].(map[string]any)["addOrganiser"].(map[string]any)["userErrors"].([]any); len(ues) != 0 {
		t.Fatalf("add organiser: %v", out)
	}
	_, me = s.gql(t, resident, `{ me { organises { name } } }`, nil)
	if !strings.Contains(mustJSON(me), "Strandrensning") {
		t.Errorf("the new organiser does not organise: %v", me)
	}

	// A tampered token is refused with UNAUTHENTICATED; in plain JSON
	// (what gql asks for) with status 200, which every client reads as
	// GraphQL errors (internal/auth's writeError).
	status, out := s.gql(t, boss[:len(boss)-2]+"xx", `{ me { id } }`, nil)
	if status != http.StatusOK || !strings.Contains(mustJSON(out), "UNAUTHENTICATED") {
		t.Errorf("tampered token: %d %v", status, out)
	}
}

// With the Firebase Auth emulator: a person signed up there is known here
// from their first request.
func TestFirebaseEmulator(t *testing.T) {
	host := os.Getenv("TEST_FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_FIREBASE_AUTH_EMULATOR_HOST is not set")
		}
		t.Skip("TEST_FIREBASE_AUTH_EMULATOR_HOST not set")
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	s := start(t, map[string]string{"FIREBASE_PROJECT_ID": "demo-voresishoj", "FIREBASE_AUTH_EMULATOR_HOST": host})

	email := "emu" + time.Now().Format("150405.000000") + "@example.dk"
	body, _ := json.Marshal(map[string]any{"email": email, "password": "hemmelig123", "returnSecureToken": true})
	resp, err := http.Post("http://"+host+"/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var signUp struct{ IDToken string }
	json.NewDecoder(resp.Body).Decode(&signUp)
	resp.Body.Close()
	if signUp.IDToken == "" {
		t.Fatal("emulator gave no idToken")
	}
	_, out := s.gql(t, signUp.IDToken, `{ me { email verified role } }`, nil)
	me, _ := out["data"].(map[string]any)["me"].(map[string]any)
	if me == nil || me["email"] != email || me["role"] != "RESIDENT" {
		t.Fatalf("me with an emulator token: %v", out)
	}
	// The emulator's tokens carry no signature, so tampering shows in the
	// claims: another project's audience, or a payload that is no longer
	// JSON, must both be refused.
	parts := strings.Split(signUp.IDToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(payload), `"aud":"demo-voresishoj"`, `"aud":"demo-andet-projekt"`, 1)
	for name, tampered := range map[string]string{
		"audience": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(other)) + "." + parts[2],
		"payload":  parts[0] + ".x" + parts[1][1:] + "." + parts[2],
	} {
		status, out := s.gql(t, tampered, `{ me { email } }`, nil)
		if status != http.StatusOK || !strings.Contains(mustJSON(out), "UNAUTHENTICATED") {
			t.Errorf("token with tampered %s: %d %v", name, status, out)
		}
	}
}

// DEV_NOW runs the whole server at another date: the demo data is laid out
// around it, "upcoming" means after it, and a volunteer's shifts are in the
// weeks around it, while local tokens (real-world) still verify.
func TestDevNowMovesTheDomainClock(t *testing.T) {
	devNow := time.Date(2028, 2, 29, 22, 30, 0, 0, time.UTC)
	s := start(t, map[string]string{"DEV_NOW": devNow.Format(time.RFC3339)})
	if got := s.app.now(); got.Before(devNow) || got.Sub(devNow) > time.Minute {
		t.Fatalf("server clock reads %s, want just after %s", got, devNow)
	}
	local, err := auth.NewLocal(s.cfg.DataDir, user.NewService(s.app.db, s.app.now))
	if err != nil {
		t.Fatal(err)
	}
	anna, err := local.IssueForEmail(context.Background(), demo.VolunteerEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	_, out := s.gql(t, anna, `{
		activities(first: 20) { edges { occurrence { startsAt endsAt } } }
		me { past: claims(upcoming: false) { slot { startsAt } } upcoming: claims(upcoming: true) { slot { startsAt } } }
	}`, nil)
	if errs, ok := out["errors"]; ok {
		t.Fatalf("query: %v", errs)
	}
	data := out["data"].(map[string]any)
	at := func(v any) time.Time {
		tm, err := time.Parse(time.RFC3339, v.(string))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// The list holds occurrences running at or after the server's now;
	// the demo's season is the weeks that follow.
	edges := data["activities"].(map[string]any)["edges"].([]any)
	if len(edges) < 10 {
		t.Fatalf("%d upcoming activities at %s, want the demo's season", len(edges), devNow)
	}
	for _, e := range edges {
		occ := e.(map[string]any)["occurrence"].(map[string]any)
		if start, end := at(occ["startsAt"]), at(occ["endsAt"]); end.Before(devNow) || start.After(devNow.AddDate(0, 4, 0)) {
			t.Errorf("occurrence %s to %s is not around %s", start, end, devNow)
		}
	}
	me := data["me"].(map[string]any)
	for _, list := range []string{"past", "upcoming"} {
		claims := me[list].([]any)
		if len(claims) == 0 {
			t.Errorf("the demo volunteer has no %s shifts at %s", list, devNow)
		}
		for _, c := range claims {
			start := at(c.(map[string]any)["slot"].(map[string]any)["startsAt"])
			// Past ones reach back to last summer's swap market.
			if (list == "upcoming") != start.After(devNow.Add(-12*time.Hour)) ||
				start.After(devNow.AddDate(0, 4, 0)) || start.Before(devNow.AddDate(-1, 0, 0)) {
				t.Errorf("%s shift at %s, not in the weeks around %s", list, start, devNow)
			}
		}
	}
}

// SIGTERM (here: the context ending) stops the server cleanly.
func TestGracefulShutdown(t *testing.T) {
	s := start(t, nil)
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
		s.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
