package push_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/push/fcmtest"
)

const project = "vores-ishoj-test"

func newFCM(t *testing.T, srv *fcmtest.Server) *push.FCM {
	t.Helper()
	f, err := push.NewFCM(context.Background(), project, push.FCMOptions{Endpoint: srv.URL()})
	if err != nil {
		t.Fatalf("NewFCM: %v", err)
	}
	return f
}

func send(t *testing.T, s push.Sender, msgs ...push.Message) []push.Result {
	t.Helper()
	res, err := s.Send(context.Background(), msgs)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(res) != len(msgs) {
		t.Fatalf("got %d results for %d messages", len(res), len(msgs))
	}
	return res
}

func TestFCMDeliversMessageAsBuilt(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	before := time.Now()
	res := send(t, newFCM(t, srv), push.Message{
		Token:       "tok-1",
		Title:       "Ny aktivitet",
		Body:        "Fællesspisning i morgen",
		Data:        map[string]string{"link": "voresishoj://activity/42", "notification_id": "n-7"},
		CollapseKey: "activity-42",
		ChannelID:   "activities",
		TTL:         6 * time.Hour,
		Priority:    push.PriorityHigh,
		Link:        "https://voresishoj.example/activities/QWN0aXZpdHk6NDI",
	})
	if res[0].Outcome != push.Delivered || res[0].Err != nil || res[0].Token != "tok-1" {
		t.Fatalf("result = %+v, want delivered", res[0])
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Project != project || r.Token != "tok-1" || r.Authorization == "" || r.ValidateOnly {
		t.Errorf("request = project %q token %q auth %q validate_only %v", r.Project, r.Token, r.Authorization, r.ValidateOnly)
	}
	m := r.Message
	if m.Notification == nil || m.Notification.Title != "Ny aktivitet" || m.Notification.Body != "Fællesspisning i morgen" {
		t.Errorf("notification = %+v", m.Notification)
	}
	if m.Data["link"] != "voresishoj://activity/42" || m.Data["notification_id"] != "n-7" || len(m.Data) != 2 {
		t.Errorf("data = %v", m.Data)
	}
	a := m.Android
	if a == nil || a.Notification == nil {
		t.Fatalf("android = %+v", a)
	}
	if a.CollapseKey != "activity-42" || a.Priority != "high" || a.Notification.ChannelID != "activities" {
		t.Errorf("android = collapse %q priority %q channel %q", a.CollapseKey, a.Priority, a.Notification.ChannelID)
	}
	if a.TTL == nil || *a.TTL != 6*time.Hour {
		t.Errorf("android ttl = %v, want 6h", a.TTL)
	}
	// The collapse identity also replaces what the device already shows: the
	// Android tag, the web push Topic and tag.
	if a.Notification.Tag != "activity-42" {
		t.Errorf("android tag = %q, want the collapse key", a.Notification.Tag)
	}
	if w := m.Webpush; w == nil || w.Headers["Topic"] != "activity-42" || w.Headers["Urgency"] != "high" ||
		w.Headers["TTL"] != "21600" || w.Notification == nil || w.Notification.Tag != "activity-42" || w.Notification.Title != "Ny aktivitet" {
		t.Errorf("webpush = %+v", w)
	}
	// The page a browser opens for a web push.
	if w := m.Webpush; w == nil || w.FCMOptions == nil || w.FCMOptions.Link != "https://voresishoj.example/activities/QWN0aXZpdHk6NDI" {
		t.Errorf("webpush fcm_options = %+v", w)
	}
	if m.APNS == nil || m.APNS.Payload == nil || m.APNS.Payload.Aps == nil || m.APNS.Payload.Aps.Alert == nil {
		t.Fatalf("apns = %+v", m.APNS)
	}
	h := m.APNS.Headers
	if h["apns-collapse-id"] != "activity-42" || h["apns-priority"] != "10" || h["apns-push-type"] != "alert" {
		t.Errorf("apns headers = %v", h)
	}
	exp, err := strconv.ParseInt(h["apns-expiration"], 10, 64)
	want := before.Add(6 * time.Hour).Unix()
	if err != nil || exp < want || exp > want+60 {
		t.Errorf("apns-expiration = %q, want about %d", h["apns-expiration"], want)
	}
	if al := m.APNS.Payload.Aps.Alert; al.Title != "Ny aktivitet" || al.Body != "Fællesspisning i morgen" {
		t.Errorf("aps alert = %+v", al)
	}
	if srv.Count("tok-1") != 1 {
		t.Errorf("Count = %d, want 1", srv.Count("tok-1"))
	}
}

func TestFCMDefaultsLeaveTTLToFCM(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	send(t, newFCM(t, srv), push.Message{Token: "tok", Title: "t", Body: "b"})
	m := srv.Requests()[0].Message
	if m.Android.TTL != nil || m.Android.Priority != "normal" || m.Android.CollapseKey != "" {
		t.Errorf("android = ttl %v priority %q collapse %q", m.Android.TTL, m.Android.Priority, m.Android.CollapseKey)
	}
	if _, ok := m.APNS.Headers["apns-expiration"]; ok {
		t.Errorf("apns-expiration set without a TTL: %v", m.APNS.Headers)
	}
	if _, ok := m.APNS.Headers["apns-collapse-id"]; ok {
		t.Errorf("apns-collapse-id set without a collapse key: %v", m.APNS.Headers)
	}
	if m.APNS.Headers["apns-priority"] != "5" {
		t.Errorf("apns-priority = %q, want 5", m.APNS.Headers["apns-priority"])
	}
}

func TestFCMOutcomes(t *testing.T) {
	t.Parallel()
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name         string
		failure      fcmtest.Failure
		want         push.Outcome
		retryAfter   time.Duration // exact, or the lower bound when slack > 0
		slack        time.Duration
		wantAttempts int
	}{
		{name: "unregistered", failure: fcmtest.Failure{Code: fcmtest.Unregistered}, want: push.Unregistered},
		{name: "sender id mismatch", failure: fcmtest.Failure{Code: fcmtest.SenderIDMismatch}, want: push.Unregistered},
		{name: "invalid token", failure: fcmtest.Failure{Code: fcmtest.InvalidArgument, Field: "message.token"}, want: push.Unregistered},
		{name: "invalid token, text only", failure: fcmtest.Failure{Code: fcmtest.InvalidArgument, Message: "The registration token is not a valid FCM registration token"}, want: push.Unregistered},
		{name: "invalid payload", failure: fcmtest.Failure{Code: fcmtest.InvalidArgument, Field: "message.data", Message: "Invalid data payload key: from"}, want: push.Failed},
		{name: "429 with seconds", failure: fcmtest.Failure{Status: 429, RetryAfter: "30"}, want: push.Retry, retryAfter: 30 * time.Second},
		{name: "429 with http date", failure: fcmtest.Failure{Status: 429, RetryAfter: httpDate}, want: push.Retry, retryAfter: 80 * time.Second, slack: 11 * time.Second},
		{name: "429 without header", failure: fcmtest.Failure{Status: 429}, want: push.Retry},
		{name: "500", failure: fcmtest.Failure{Status: 500}, want: push.Retry},
		{name: "502 without fcm code", failure: fcmtest.Failure{Status: 502, Code: "-"}, want: push.Retry},
		// The SDK honours Retry-After on 503 only up to two minutes; beyond that it
		// returns at once and leaves the wait to us.
		{name: "503 with long retry-after", failure: fcmtest.Failure{Status: 503, RetryAfter: "600"}, want: push.Retry, retryAfter: 10 * time.Minute},
		{name: "apns auth", failure: fcmtest.Failure{Code: fcmtest.ThirdPartyAuthError}, want: push.Failed},
		{name: "403 without fcm code", failure: fcmtest.Failure{Status: 403, Code: "-"}, want: push.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fcmtest.New(t)
			srv.FailTokenWith("bad", tt.failure)
			res := send(t, newFCM(t, srv),
				push.Message{Token: "good", Title: "t"},
				push.Message{Token: "bad", Title: "t"},
			)
			if res[0].Outcome != push.Delivered {
				t.Errorf("good token: %v (%v)", res[0].Outcome, res[0].Err)
			}
			got := res[1]
			if got.Token != "bad" || got.Outcome != tt.want || got.Err == nil {
				t.Fatalf("bad token: %+v, want %v with an error", got, tt.want)
			}
			if tt.slack > 0 {
				if got.RetryAfter < tt.retryAfter || got.RetryAfter > tt.retryAfter+tt.slack {
					t.Errorf("RetryAfter = %v, want %v..%v", got.RetryAfter, tt.retryAfter, tt.retryAfter+tt.slack)
				}
			} else if got.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got.RetryAfter, tt.retryAfter)
			}
			if n := srv.Attempts("bad"); n != 1 {
				t.Errorf("attempts = %d, want 1 (the SDK must not retry this)", n)
			}
			if n := srv.Count("bad"); n != 0 {
				t.Errorf("Count = %d, want 0", n)
			}
		})
	}
}

// The SDK retries a 503 itself, immediately the first time.
func TestFCMSDKRetries503(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	srv.FailNext(1, http.StatusServiceUnavailable, 0)
	res := send(t, newFCM(t, srv), push.Message{Token: "tok", Title: "t"})
	if res[0].Outcome != push.Delivered {
		t.Fatalf("result = %+v, want delivered after the SDK's retry", res[0])
	}
	if srv.Attempts("tok") != 2 || srv.Count("tok") != 1 {
		t.Errorf("attempts %d count %d, want 2 and 1", srv.Attempts("tok"), srv.Count("tok"))
	}
}

// A 503 that lasts outlives the SDK's four retries (0+1+2+4 s) and comes back as Retry.
// This is the one slow test; it runs in parallel with the rest.
func TestFCMPersistent503(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	srv.FailTokenWith("tok", fcmtest.Failure{Status: http.StatusServiceUnavailable})
	start := time.Now()
	res := send(t, newFCM(t, srv), push.Message{Token: "tok", Title: "t"})
	if res[0].Outcome != push.Retry || res[0].Err == nil {
		t.Fatalf("result = %+v, want retry", res[0])
	}
	if n := srv.Attempts("tok"); n != 5 {
		t.Errorf("attempts = %d, want 5 (1 + the SDK's 4 retries)", n)
	}
	t.Logf("persistent 503 took %v inside the SDK", time.Since(start).Round(100*time.Millisecond))
}

// Connection errors get the same four SDK retries as a 503 (7 s), then come back as
// Retry. Runs in parallel with TestFCMPersistent503.
func TestFCMUnreachableServerIsRetry(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	f, err := push.NewFCM(context.Background(), project, push.FCMOptions{Endpoint: dead.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	res := send(t, f, push.Message{Token: "tok", Title: "t"})
	if res[0].Outcome != push.Retry || res[0].Err == nil || res[0].RetryAfter != 0 {
		t.Fatalf("result = %+v, want retry", res[0])
	}
}

func TestFCMCancelledContextIsRetry(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	srv.SetLatency(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := newFCM(t, srv).Send(ctx, []push.Message{{Token: "tok", Title: "t"}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res[0].Outcome != push.Retry {
		t.Fatalf("result = %+v, want retry", res[0])
	}
	if srv.Count("tok") != 0 {
		t.Errorf("Count = %d, want 0", srv.Count("tok"))
	}
}

func TestFCMInvalidMessagesFailAlone(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	res := send(t, newFCM(t, srv),
		push.Message{Token: "", Title: "no token"},
		push.Message{Token: "a", Title: "t", Priority: "urgent"},
		push.Message{Token: "b", Title: "t", TTL: -time.Second},
		push.Message{Token: "c", Title: "t", Data: map[string]string{"google.sent_time": "1"}},
		push.Message{Token: "d", Title: "t", CollapseKey: strings.Repeat("k", 33)},
		push.Message{Token: "d2", Title: "t", CollapseKey: "activity/42"},
		push.Message{Token: "e", Title: "t", CollapseKey: strings.Repeat("k", 32)},
	)
	for i, want := range []push.Outcome{push.Failed, push.Failed, push.Failed, push.Failed, push.Failed, push.Failed, push.Delivered} {
		if res[i].Outcome != want || (want != push.Delivered) != (res[i].Err != nil) {
			t.Errorf("message %d: %v (%v), want %v", i, res[i].Outcome, res[i].Err, want)
		}
	}
	if got := len(srv.Requests()); got != 1 {
		t.Errorf("server got %d requests, want only the valid one", got)
	}
}

// More than one SendEach batch, with latency so the SDK's 50 workers overlap: every
// device gets its message exactly once and results line up with the input.
func TestFCMLargeFanOut(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	srv.SetLatency(20 * time.Millisecond)
	const n = 1234
	msgs := make([]push.Message, n)
	for i := range msgs {
		msgs[i] = push.Message{Token: fmt.Sprintf("tok-%04d", i), Title: "t", Data: map[string]string{"i": strconv.Itoa(i)}}
	}
	srv.FailToken("tok-0007", fcmtest.Unregistered)
	srv.FailToken("tok-0777", fcmtest.InvalidArgument)
	srv.FailTokenWith("tok-1200", fcmtest.Failure{Status: 429, RetryAfter: "5"})

	res := send(t, newFCM(t, srv), msgs...)
	for i, r := range res {
		want := push.Delivered
		switch i {
		case 7, 777:
			want = push.Unregistered
		case 1200:
			want = push.Retry
		}
		if r.Token != msgs[i].Token || r.Outcome != want {
			t.Errorf("result %d = %s %v, want %s %v", i, r.Token, r.Outcome, msgs[i].Token, want)
		}
	}
	delivered := srv.Delivered()
	if len(delivered) != n-3 {
		t.Errorf("%d tokens received a message, want %d", len(delivered), n-3)
	}
	for tok, c := range delivered {
		if c != 1 {
			t.Errorf("%s received %d messages", tok, c)
		}
	}
	for _, r := range srv.Requests() {
		if want := strconv.Itoa(atoi(r.Token[len("tok-"):])); r.Message.Data["i"] != want {
			t.Errorf("%s got data %v", r.Token, r.Message.Data)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestFCMNeedsProject(t *testing.T) {
	if _, err := push.NewFCM(context.Background(), "", push.FCMOptions{Endpoint: "http://127.0.0.1:1/v1"}); err == nil {
		t.Fatal("NewFCM without a project id succeeded")
	}
}

// FCM takes only https links for web push; a development server's http
// address is left out rather than failing the send.
func TestFCMLeavesOutAnInsecureLink(t *testing.T) {
	t.Parallel()
	srv := fcmtest.New(t)
	res := send(t, newFCM(t, srv), push.Message{Token: "tok-2", Title: "t", Body: "b", Link: "http://127.0.0.1:8080/app"})
	if res[0].Outcome != push.Delivered {
		t.Fatalf("result = %+v", res[0])
	}
	if w := srv.Requests()[0].Message.Webpush; w == nil || w.FCMOptions != nil {
		t.Errorf("webpush = %+v, want no fcm_options", w)
	}
}
