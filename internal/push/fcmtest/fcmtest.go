// Package fcmtest is a fake Firebase Cloud Messaging HTTP v1 server for tests. Point
// the real Admin SDK at it (push.FCMOptions{Endpoint: srv.URL()}); it records every
// send and can fail chosen requests the way FCM does.
package fcmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"
)

// FCM error codes (google.firebase.fcm.v1.FcmError.errorCode) the SDK recognises.
const (
	Unregistered        = "UNREGISTERED"
	InvalidArgument     = "INVALID_ARGUMENT"
	SenderIDMismatch    = "SENDER_ID_MISMATCH"
	QuotaExceeded       = "QUOTA_EXCEEDED"
	Unavailable         = "UNAVAILABLE"
	Internal            = "INTERNAL"
	ThirdPartyAuthError = "THIRD_PARTY_AUTH_ERROR"
)

// codeStatus is the HTTP status FCM answers each error code with.
var codeStatus = map[string]int{
	Unregistered:        http.StatusNotFound,
	InvalidArgument:     http.StatusBadRequest,
	SenderIDMismatch:    http.StatusForbidden,
	QuotaExceeded:       http.StatusTooManyRequests,
	Unavailable:         http.StatusServiceUnavailable,
	Internal:            http.StatusInternalServerError,
	ThirdPartyAuthError: http.StatusUnauthorized,
}

// statusCode is the reverse, for failures given only a status.
var statusCode = map[int]string{
	http.StatusNotFound:            Unregistered,
	http.StatusBadRequest:          InvalidArgument,
	http.StatusForbidden:           SenderIDMismatch,
	http.StatusTooManyRequests:     QuotaExceeded,
	http.StatusServiceUnavailable:  Unavailable,
	http.StatusInternalServerError: Internal,
	http.StatusUnauthorized:        ThirdPartyAuthError,
}

// rpcStatus is the canonical google.rpc status name in error.status.
var rpcStatus = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusUnauthorized:        "UNAUTHENTICATED",
	http.StatusForbidden:           "PERMISSION_DENIED",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

// Failure is an error answer to inject.
type Failure struct {
	// Status is the HTTP status; when zero it follows from Code.
	Status int
	// Code is the FcmError errorCode; when empty it follows from Status. Set it to "-"
	// to send an error without FcmError details, as a proxy or load balancer would.
	Code string
	// Message is error.message; a generic one is used when empty.
	Message string
	// Field, when set, adds a google.rpc.BadRequest field violation for it; FCM names
	// "message.token" when the registration token is malformed.
	Field string
	// RetryAfter is sent as the Retry-After header when set: seconds or an HTTP date.
	RetryAfter string
	// Times is how many requests fail this way before the token (or server) recovers;
	// zero means every one. Ignored by FailNext, which takes its own count.
	Times int
}

func (f Failure) normalised() Failure {
	if f.Status == 0 {
		f.Status = codeStatus[f.Code]
		if f.Status == 0 {
			f.Status = http.StatusInternalServerError
		}
	}
	if f.Code == "" {
		f.Code = statusCode[f.Status]
	}
	if f.Message == "" {
		f.Message = fmt.Sprintf("fcmtest: injected %d %s", f.Status, f.Code)
	}
	return f
}

// Request is one send the server received.
type Request struct {
	Project string
	Token   string
	// Message is the body's "message", decoded with the SDK's own types, so Android TTL
	// and priority read back as the caller set them.
	Message messaging.Message
	// Body is the raw JSON body, for fields the SDK types hide.
	Body          json.RawMessage
	Authorization string
	ValidateOnly  bool
	// Status is what the server answered.
	Status int
	At     time.Time
}

// Server is a fake FCM. Its methods are safe for concurrent use.
type Server struct {
	ts *httptest.Server

	mu        sync.Mutex
	requests  []Request
	delivered map[string]int
	attempts  map[string]int
	collapse  map[string][]Collapse
	tokenFail map[string]*Failure
	next      []Failure // FailNext schedule, consumed front first
	latency   time.Duration
	sent      int
	// received, accepted and conns are what Stats reports.
	received, accepted, conns int
	// discard keeps Requests empty; see DiscardRequests.
	discard bool
}

// sendPath matches the SDK's URL with or without the "/v1" that is part of the
// real endpoint's base URL.
var sendPath = regexp.MustCompile(`^(?:/v1)?/projects/([^/]+)/messages:send$`)

// New starts a server that is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (the load tool); Close stops it.
func Start() *Server {
	s := &Server{
		delivered: make(map[string]int),
		attempts:  make(map[string]int),
		collapse:  make(map[string][]Collapse),
		tokenFail: make(map[string]*Failure),
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.ts.Start()
	return s
}

// Close stops the server, waiting for requests in flight.
func (s *Server) Close() { s.ts.Close() }

// DiscardRequests stops keeping each request for Requests. A kept request
// holds its body and decoded message, a few KiB; a load test of 100,000
// sends needs only the per-token counts and Stats, which are kept anyway.
func (s *Server) DiscardRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = true
	s.requests = nil
}

// Stats sums up the sends so far.
type Stats struct {
	// Received is every send that reached the handler with a valid body,
	// failed ones included.
	Received int
	// Accepted is what Count sums to: answered 200, not validate-only.
	Accepted int
	// Connections is how many connections clients opened: a client that
	// keeps too few idle opens one for nearly every send.
	Connections int
}

// Stats returns the totals without copying the per-token counts, so it is
// cheap enough to poll.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Received: s.received, Accepted: s.accepted, Connections: s.conns}
}

// URL is the base URL to use as FCM_ENDPOINT (push.FCMOptions.Endpoint); like the
// real "https://fcm.googleapis.com/v1" it ends in /v1.
func (s *Server) URL() string { return s.ts.URL + "/v1" }

// Client is an HTTP client that trusts the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// SetLatency delays every answer by d, to make concurrency and timeouts visible.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailToken makes every send to token fail with the FCM error code (Unregistered,
// InvalidArgument, ...). An InvalidArgument blames the token, as FCM does for a
// malformed one.
func (s *Server) FailToken(token, code string) {
	f := Failure{Code: code}
	if code == InvalidArgument {
		f.Field = "message.token"
		f.Message = "The registration token is not a valid FCM registration token"
	}
	s.FailTokenWith(token, f)
}

// FailTokenWith makes sends to token fail with f (f.Times times, or always).
func (s *Server) FailTokenWith(token string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f = f.normalised()
	s.tokenFail[token] = &f
}

// FailNext makes the next n requests, whatever their token, fail with status and, when
// retryAfter is positive, a Retry-After header in whole seconds.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	f := Failure{Status: status}
	if retryAfter > 0 {
		f.RetryAfter = strconv.Itoa(int((retryAfter + time.Second - 1) / time.Second))
	}
	s.FailNextWith(n, f)
}

// FailNextWith makes the next n requests fail with f. Calls queue up behind each other.
func (s *Server) FailNextWith(n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f = f.normalised()
	for range n {
		s.next = append(s.next, f)
	}
}

// Heal removes all injected failures.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = nil
	clear(s.tokenFail)
}

// Requests returns a copy of every request received so far, in arrival order
// (none after DiscardRequests).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many messages to token the server accepted (answered 200, not
// validate-only): what the device would have received.
func (s *Server) Count(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered[token]
}

// Attempts is how many sends to token arrived, failed ones included.
func (s *Server) Attempts(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[token]
}

// Delivered returns how many messages each token was accepted for.
func (s *Server) Delivered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.delivered))
	for k, v := range s.delivered {
		out[k] = v
	}
	return out
}

// Collapse is the collapse identity of one accepted message as each platform gets
// it: a message with the same one replaces it on the device.
type Collapse struct {
	AndroidCollapseKey, AndroidTag, APNsCollapseID, WebpushTopic string
}

// One reports the identity when all four platforms got the same one, else "".
func (c Collapse) One() string {
	if c.AndroidTag != c.AndroidCollapseKey || c.APNsCollapseID != c.AndroidCollapseKey || c.WebpushTopic != c.AndroidCollapseKey {
		return ""
	}
	return c.AndroidCollapseKey
}

func collapseOf(m *messaging.Message) Collapse {
	var c Collapse
	if m.Android != nil {
		c.AndroidCollapseKey = m.Android.CollapseKey
		if m.Android.Notification != nil {
			c.AndroidTag = m.Android.Notification.Tag
		}
	}
	if m.APNS != nil {
		c.APNsCollapseID = m.APNS.Headers["apns-collapse-id"]
	}
	if m.Webpush != nil {
		c.WebpushTopic = m.Webpush.Headers["Topic"]
	}
	return c
}

// Collapses returns the collapse identities of the messages accepted for token, in
// order of arrival; they are kept after DiscardRequests too.
func (s *Server) Collapses(token string) []Collapse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Collapse(nil), s.collapse[token]...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := sendPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeError(w, Failure{Status: http.StatusNotFound, Code: "-", Message: "fcmtest: no such method " + r.URL.Path})
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, Failure{Status: http.StatusMethodNotAllowed, Code: "-", Message: "fcmtest: POST only"})
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		writeError(w, Failure{Status: http.StatusUnauthorized, Code: "-", Message: "fcmtest: missing bearer token"})
		return
	}

	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, Failure{Status: http.StatusBadRequest, Code: "-", Message: "fcmtest: read body: " + err.Error()})
		return
	}
	var body struct {
		ValidateOnly bool            `json:"validate_only"`
		Message      json.RawMessage `json:"message"`
	}
	var msg messaging.Message
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Message) == 0 {
		writeError(w, Failure{Status: http.StatusBadRequest, Code: InvalidArgument, Message: "fcmtest: body is not {\"message\": {...}}"})
		return
	}
	if err := json.Unmarshal(body.Message, &msg); err != nil {
		writeError(w, Failure{Status: http.StatusBadRequest, Code: InvalidArgument, Message: "fcmtest: bad message: " + err.Error()})
		return
	}

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}

	req := Request{
		Project:       m[1],
		Token:         msg.Token,
		Message:       msg,
		Body:          raw,
		Authorization: auth,
		ValidateOnly:  body.ValidateOnly,
		At:            time.Now(),
	}

	s.mu.Lock()
	failure := s.failureLocked(msg.Token)
	if msg.Token == "" && failure == nil {
		// The Admin SDK also allows topics and conditions; our app only sends to tokens.
		failure = &Failure{Status: http.StatusBadRequest, Code: InvalidArgument, Message: "fcmtest: only token targets are supported"}
	}
	s.attempts[msg.Token]++
	s.received++
	var name string
	if failure != nil {
		req.Status = failure.Status
	} else {
		req.Status = http.StatusOK
		s.sent++
		name = fmt.Sprintf("projects/%s/messages/%d", m[1], s.sent)
		if !body.ValidateOnly {
			s.delivered[msg.Token]++
			s.accepted++
			s.collapse[msg.Token] = append(s.collapse[msg.Token], collapseOf(&msg))
		}
	}
	if !s.discard {
		s.requests = append(s.requests, req)
	}
	s.mu.Unlock()

	if failure != nil {
		writeError(w, *failure)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"name": name})
}

// failureLocked picks the failure for this request, if any, and uses it up: the
// server-wide schedule first, then the token's own.
func (s *Server) failureLocked(token string) *Failure {
	if len(s.next) > 0 {
		f := s.next[0]
		s.next = s.next[1:]
		return &f
	}
	tf, ok := s.tokenFail[token]
	if !ok {
		return nil
	}
	f := *tf
	if tf.Times > 0 {
		tf.Times--
		if tf.Times == 0 {
			delete(s.tokenFail, token)
		}
	}
	return &f
}

// writeError answers in FCM v1's error format, which the SDK parses for the
// messaging.Is* helpers.
func writeError(w http.ResponseWriter, f Failure) {
	type detail struct {
		Type            string              `json:"@type"`
		ErrorCode       string              `json:"errorCode,omitempty"`
		FieldViolations []map[string]string `json:"fieldViolations,omitempty"`
	}
	var details []detail
	if f.Code != "" && f.Code != "-" {
		details = append(details, detail{Type: "type.googleapis.com/google.firebase.fcm.v1.FcmError", ErrorCode: f.Code})
	}
	if f.Field != "" {
		details = append(details, detail{
			Type:            "type.googleapis.com/google.rpc.BadRequest",
			FieldViolations: []map[string]string{{"field": f.Field, "description": f.Message}},
		})
	}
	status := rpcStatus[f.Status]
	if status == "" {
		status = "UNKNOWN"
	}
	body := map[string]any{"error": map[string]any{
		"code":    f.Status,
		"message": f.Message,
		"status":  status,
		"details": details,
	}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(body)
}
