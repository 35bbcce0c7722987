package fcmtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/push/fcmtest"
)

// post sends a raw v1 request, as a client other than the Admin SDK would.
func post(t *testing.T, srv *fcmtest.Server, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	body := `{"message":{"token":"` + token + `","data":{"k":"v"}}}`
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func TestServerSchedulesAndRecovers(t *testing.T) {
	srv := fcmtest.New(t)
	srv.FailNext(2, http.StatusTooManyRequests, 3*time.Second)
	srv.FailTokenWith("flaky", fcmtest.Failure{Code: fcmtest.Internal, Times: 1})

	resp, body := post(t, srv, "/projects/p/messages:send", "a")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("first = %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e := body["error"].(map[string]any)
	detail := e["details"].([]any)[0].(map[string]any)
	if e["status"] != "RESOURCE_EXHAUSTED" || detail["errorCode"] != fcmtest.QuotaExceeded {
		t.Errorf("error body = %v", body)
	}
	if resp, _ := post(t, srv, "/projects/p/messages:send", "a"); resp.StatusCode != 429 {
		t.Fatalf("second = %d, want 429", resp.StatusCode)
	}
	if resp, body := post(t, srv, "/projects/p/messages:send", "a"); resp.StatusCode != 200 || body["name"] != "projects/p/messages/1" {
		t.Fatalf("third = %d %v, want 200", resp.StatusCode, body)
	}
	if resp, _ := post(t, srv, "/projects/p/messages:send", "flaky"); resp.StatusCode != 500 {
		t.Fatalf("flaky first = %d, want 500", resp.StatusCode)
	}
	if resp, _ := post(t, srv, "/projects/p/messages:send", "flaky"); resp.StatusCode != 200 {
		t.Fatalf("flaky second = %d, want 200", resp.StatusCode)
	}
	if srv.Count("a") != 1 || srv.Attempts("a") != 3 || srv.Count("flaky") != 1 || srv.Attempts("flaky") != 2 {
		t.Errorf("a %d/%d flaky %d/%d", srv.Count("a"), srv.Attempts("a"), srv.Count("flaky"), srv.Attempts("flaky"))
	}
	reqs := srv.Requests()
	if len(reqs) != 5 || reqs[0].Status != 429 || reqs[2].Status != 200 || reqs[2].Project != "p" || reqs[2].Message.Data["k"] != "v" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestServerRejectsWhatFCMRejects(t *testing.T) {
	srv := fcmtest.New(t)
	// The base URL already ends in /v1; a doubled /v1 is not the SDK's path.
	if resp, _ := post(t, srv, "/v1/projects/p/messages:send", "a"); resp.StatusCode != 404 {
		t.Errorf("wrong path = %d, want 404", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/projects/p/messages:send", strings.NewReader(`{"message":{"token":"a"}}`))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no auth = %d, want 401", resp.StatusCode)
	}
	srv.FailToken("gone", fcmtest.Unregistered)
	if resp, _ := post(t, srv, "/projects/p/messages:send", "gone"); resp.StatusCode != 404 {
		t.Errorf("unregistered = %d, want 404", resp.StatusCode)
	}
	srv.Heal()
	if resp, _ := post(t, srv, "/projects/p/messages:send", "gone"); resp.StatusCode != 200 {
		t.Errorf("after Heal = %d, want 200", resp.StatusCode)
	}
	if srv.Count("gone") != 1 {
		t.Errorf("Count(gone) = %d, want 1", srv.Count("gone"))
	}
}

func TestServerStatsWithoutRequests(t *testing.T) {
	srv := fcmtest.Start()
	defer srv.Close()
	srv.DiscardRequests()
	srv.FailToken("gone", fcmtest.Unregistered)
	for _, tok := range []string{"a", "b", "a", "gone"} {
		post(t, srv, "/projects/p/messages:send", tok)
	}
	if got := srv.Stats(); got.Received != 4 || got.Accepted != 3 || got.Connections < 1 {
		t.Errorf("Stats = %+v, want 4 received, 3 accepted, a connection or more", got)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("kept %d requests after DiscardRequests", n)
	}
	if srv.Count("a") != 2 || srv.Count("b") != 1 || srv.Count("gone") != 0 || srv.Attempts("gone") != 1 {
		t.Errorf("counts a %d b %d gone %d/%d", srv.Count("a"), srv.Count("b"), srv.Count("gone"), srv.Attempts("gone"))
	}
}
