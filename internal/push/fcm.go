package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

// FCMOptions tunes NewFCM. The zero value talks to the real FCM with Application
// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or the platform's service account).
type FCMOptions struct {
	// Endpoint is FCM_ENDPOINT: the base URL of an FCM-compatible server, for tests and
	// staging only. The SDK posts to Endpoint + "/projects/<id>/messages:send", so the
	// real service's equivalent is "https://fcm.googleapis.com/v1". With an Endpoint no
	// Google credentials are looked up; requests carry a fixed bearer token.
	Endpoint string
	// HTTPClient, when set, carries the requests (timeouts, proxies). With an Endpoint
	// its transport is wrapped to add the fixed token; without one it must already
	// authenticate to Google.
	HTTPClient *http.Client
}

// FCM sends through Firebase Cloud Messaging's HTTP v1 API with the Admin SDK.
//
// SendEach makes one request per message, 50 at a time. The SDK itself retries network
// errors and 503 up to four times, waiting 0s, 1s, 2s and 4s, or the server's Retry-After
// when that is longer and at most two minutes; a 503 with a longer Retry-After is returned
// at once. Everything else (429, 500, ...) comes back to us on the first failure. So a
// message that ends as Retry has had one attempt (429, 500, 503 with a long Retry-After)
// or five taking about 7 s (lasting 503s, connection errors); callers should give Send a
// context deadline that allows for that.
type FCM struct {
	client *messaging.Client
	now    func() time.Time
}

var _ Sender = (*FCM)(nil)

// staticToken is sent to an FCM_ENDPOINT server, which has no way to check a real one.
const staticToken = "fcm-endpoint-test-token"

// endpointTransport carries requests to an FCM_ENDPOINT. It keeps as many idle
// connections per host as Google's transport does for the real FCM (100):
// http.DefaultTransport keeps 2, so with SendEach's 50 sends at a time nearly every
// send opened a connection of its own, and a large fan-out spent its time in
// connecting and left thousands of sockets in TIME_WAIT.
var endpointTransport = sync.OnceValue(func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = 100
	return t
})

// NewFCM returns a Sender for the Firebase project projectID.
func NewFCM(ctx context.Context, projectID string, opts FCMOptions) (*FCM, error) {
	if projectID == "" {
		return nil, errors.New("push: firebase project id is required")
	}
	var copts []option.ClientOption
	switch {
	case opts.Endpoint != "":
		// option.WithHTTPClient makes the SDK ignore every other credential option, so
		// the static token goes into the client we hand it.
		base := endpointTransport()
		hc := &http.Client{}
		if opts.HTTPClient != nil {
			*hc = *opts.HTTPClient
			if opts.HTTPClient.Transport != nil {
				base = opts.HTTPClient.Transport
			}
		}
		hc.Transport = &oauth2.Transport{
			Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: staticToken, TokenType: "Bearer"}),
			Base:   base,
		}
		copts = append(copts,
			option.WithEndpoint(strings.TrimSuffix(opts.Endpoint, "/")),
			option.WithHTTPClient(hc),
		)
	case opts.HTTPClient != nil:
		copts = append(copts, option.WithHTTPClient(opts.HTTPClient))
	}

	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, copts...)
	if err != nil {
		return nil, fmt.Errorf("push: firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: firebase messaging client: %w", err)
	}
	return &FCM{client: client, now: time.Now}, nil
}

// Send sends msgs, MaxBatch at a time, and reports each one's outcome. A message the
// SDK would reject outright (no token, bad priority) is Failed on its own rather than
// failing the whole batch, as SendEach would.
func (f *FCM) Send(ctx context.Context, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	for start := 0; start < len(msgs); start += MaxBatch {
		end := min(start+MaxBatch, len(msgs))
		if err := f.sendBatch(ctx, msgs[start:end], results[start:end]); err != nil {
			return nil, err
		}
	}
	return results, nil
}

func (f *FCM) sendBatch(ctx context.Context, msgs []Message, results []Result) error {
	now := f.now()
	var (
		batch []*messaging.Message
		index []int // index[i] is the position in msgs of batch[i]
	)
	for i, m := range msgs {
		results[i].Token = m.Token
		fm, err := f.fcmMessage(m, now)
		if err != nil {
			results[i].Outcome = Failed
			results[i].Err = err
			continue
		}
		batch = append(batch, fm)
		index = append(index, i)
	}
	if len(batch) == 0 {
		return nil
	}

	resp, err := f.client.SendEach(ctx, batch)
	if err != nil {
		return fmt.Errorf("push: fcm send: %w", err)
	}
	if len(resp.Responses) != len(batch) {
		return fmt.Errorf("push: fcm returned %d responses for %d messages", len(resp.Responses), len(batch))
	}
	for j, r := range resp.Responses {
		res := &results[index[j]]
		if r.Success {
			res.Outcome = Delivered
			continue
		}
		res.Outcome, res.RetryAfter = classify(r.Error, now)
		res.Err = fmt.Errorf("push: fcm: %w", r.Error)
	}
	return nil
}

// fcmMessage builds the FCM v1 message: a notification block both platforms show, plus
// the per-platform fields FCM does not derive from it (Android channel, collapse key,
// TTL, priority; the matching APNs headers).
func (f *FCM) fcmMessage(m Message, now time.Time) (*messaging.Message, error) {
	if m.Token == "" {
		return nil, errors.New("push: message has no device token")
	}
	priority := m.Priority
	if priority == "" {
		priority = PriorityNormal
	}
	if priority != PriorityHigh && priority != PriorityNormal {
		return nil, fmt.Errorf("push: priority %q is neither %q nor %q", m.Priority, PriorityHigh, PriorityNormal)
	}
	if m.TTL < 0 {
		return nil, fmt.Errorf("push: negative ttl %s", m.TTL)
	}
	for k := range m.Data {
		if reservedDataKey(k) {
			return nil, fmt.Errorf("push: data key %q is reserved by FCM", k)
		}
	}
	if !validCollapseKey(m.CollapseKey) {
		// The web push Topic header allows no more (APNs 64 bytes), and a bad header
		// costs the whole message.
		return nil, fmt.Errorf("push: collapse key %q is not up to 32 characters of A-Z a-z 0-9 - _", m.CollapseKey)
	}

	// The tag replaces a notification already in the drawer; collapse_key only one
	// still waiting at FCM.
	android := &messaging.AndroidConfig{
		CollapseKey: m.CollapseKey,
		Priority:    priority,
		Notification: &messaging.AndroidNotification{
			ChannelID: m.ChannelID,
			Tag:       m.CollapseKey,
		},
	}
	webpushHeaders := map[string]string{"Urgency": priority}
	if m.CollapseKey != "" {
		webpushHeaders["Topic"] = m.CollapseKey
	}
	// apns-priority 10 wakes the device at once; 5 lets iOS pick a moment that saves power.
	apnsHeaders := map[string]string{
		"apns-push-type": "alert",
		"apns-priority":  "5",
	}
	if priority == PriorityHigh {
		apnsHeaders["apns-priority"] = "10"
	}
	if m.CollapseKey != "" {
		apnsHeaders["apns-collapse-id"] = m.CollapseKey
	}
	if m.TTL > 0 {
		ttl := m.TTL
		android.TTL = &ttl
		apnsHeaders["apns-expiration"] = strconv.FormatInt(now.Add(m.TTL).Unix(), 10)
		webpushHeaders["TTL"] = strconv.FormatInt(int64(m.TTL/time.Second), 10)
	}

	var webpushOptions *messaging.WebpushFCMOptions
	if strings.HasPrefix(m.Link, "https://") {
		webpushOptions = &messaging.WebpushFCMOptions{Link: m.Link}
	}
	return &messaging.Message{
		Token: m.Token,
		Data:  m.Data,
		Notification: &messaging.Notification{
			Title: m.Title,
			Body:  m.Body,
		},
		Android: android,
		Webpush: &messaging.WebpushConfig{
			Headers: webpushHeaders,
			Notification: &messaging.WebpushNotification{
				Title: m.Title,
				Body:  m.Body,
				Tag:   m.CollapseKey,
			},
			FCMOptions: webpushOptions,
		},
		APNS: &messaging.APNSConfig{
			Headers: apnsHeaders,
			Payload: &messaging.APNSPayload{
				Aps: &messaging.Aps{
					Alert: &messaging.ApsAlert{Title: m.Title, Body: m.Body},
					Sound: "default",
				},
			},
		},
	}, nil
}

// validCollapseKey reports whether k may be a web push Topic (RFC 8030: at most 32
// characters of the URL-safe base64 alphabet); empty means none.
func validCollapseKey(k string) bool {
	if len(k) > 32 {
		return false
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// reservedDataKey reports keys FCM refuses in the data map, which would otherwise cost
// a request to learn.
func reservedDataKey(k string) bool {
	switch k {
	case "from", "notification", "message_type":
		return true
	}
	return strings.HasPrefix(k, "google") || strings.HasPrefix(k, "gcm")
}

// classify maps one SendEach error to an Outcome. The messaging.Is* helpers read the
// FCM error code from the response body; the HTTP status covers servers and proxies
// that answer without one.
func classify(err error, now time.Time) (Outcome, time.Duration) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Retry, 0
	}
	resp := errorutils.HTTPResponse(err)
	switch {
	case messaging.IsUnregistered(err), messaging.IsSenderIDMismatch(err):
		return Unregistered, 0
	case messaging.IsInvalidArgument(err) && aboutToken(resp):
		return Unregistered, 0
	case messaging.IsQuotaExceeded(err), messaging.IsUnavailable(err), messaging.IsInternal(err):
		return Retry, retryAfter(resp, now)
	}
	if resp == nil {
		// No HTTP response: the request never got an answer (refused, reset, timed out).
		// The SDK has already retried it; it may still work later.
		return Retry, 0
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return Retry, retryAfter(resp, now)
	}
	return Failed, 0
}

// aboutToken reports whether an INVALID_ARGUMENT response blames the registration
// token rather than the message. FCM says so in a google.rpc.BadRequest field
// violation on "message.token", and in older responses only in the message text.
func aboutToken(resp *http.Response) bool {
	if resp == nil || resp.Body == nil {
		return false
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				Type            string `json:"@type"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	// errorutils hands out a buffered copy, so reading it here takes nothing from others.
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false
	}
	for _, d := range body.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return strings.Contains(strings.ToLower(body.Error.Message), "registration token")
}

// retryAfter reads a Retry-After header in either of its forms: delay in seconds or an
// HTTP date.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
