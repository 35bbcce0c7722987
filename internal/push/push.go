// Package push delivers push notifications to devices. FCM talks to Firebase Cloud
// Messaging through the Admin SDK; Log stands in when no Firebase project is configured.
//
// A Sender only reports what happened to each message. Deciding what to do about it
// (retry later, drop the token, give up) belongs to the caller, which owns the durable
// jobs and knows which notification a message belongs to.
package push

import (
	"context"
	"log/slog"
	"time"
)

// MaxBatch is the most messages FCM's Admin SDK accepts in one SendEach call. Senders
// split longer slices themselves, so callers may pass more.
const MaxBatch = 500

// Message is one notification for one device.
type Message struct {
	Token       string
	Title, Body string
	// Data reaches the app untouched (deep link, notification id, ...). FCM only
	// carries strings.
	Data map[string]string
	// CollapseKey is the message's collapse identity: a message with the same key
	// replaces one still waiting at FCM, APNs or the browser's push service, and one
	// already shown on the device, so a message sent twice shows once. It travels as
	// Android collapse_key and notification tag, APNs apns-collapse-id, and web push
	// Topic header and notification tag; web push limits it to 32 characters of the
	// URL-safe base64 alphabet (A-Z a-z 0-9 - _), and so does Send.
	CollapseKey string
	// ChannelID is the Android notification channel the app created.
	ChannelID string
	// TTL is how long FCM keeps trying to reach an offline device. Zero leaves FCM's
	// default (four weeks).
	TTL time.Duration
	// Priority is "high" or "normal"; empty means "normal".
	Priority string
	// Link is the https page of what the message is about, opened where
	// the app cannot take its deep link: a browser showing a web push
	// (FCM's webpush fcm_options.link, which must be https).
	Link string
}

// Priorities accepted in Message.Priority.
const (
	PriorityHigh   = "high"
	PriorityNormal = "normal"
)

// Outcome says what the caller should do next with a message.
type Outcome int

const (
	// Delivered: FCM accepted the message.
	Delivered Outcome = iota
	// Unregistered: the token will never work again (app uninstalled, token invalid or
	// from another Firebase project); delete it.
	Unregistered
	// Retry: a temporary failure (429, 5xx, network, cancelled); send again later,
	// no sooner than Result.RetryAfter when it is set.
	Retry
	// Failed: a permanent failure for this message; log it and move on.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Unregistered:
		return "unregistered"
	case Retry:
		return "retry"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Result is what happened to one message.
type Result struct {
	Token   string
	Outcome Outcome
	// RetryAfter is the server's Retry-After for a Retry outcome, zero when it sent none.
	RetryAfter time.Duration
	// Err is the cause for every outcome but Delivered.
	Err error
}

// Sender sends messages. Results come back in the same order as msgs, one per message.
// The error is for failures of the whole call (never for a single message), after
// which no results are returned.
type Sender interface {
	Send(ctx context.Context, msgs []Message) ([]Result, error)
}

// Log is the Sender used without Firebase credentials: it writes each message to the
// log and reports it delivered, so the in-app inbox and the rest of the pipeline work
// unchanged in development.
type Log struct {
	log *slog.Logger
}

// NewLog returns a Sender that only logs. A nil logger means slog.Default().
func NewLog(log *slog.Logger) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log}
}

// Send logs every message and reports each one delivered.
func (l *Log) Send(ctx context.Context, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	for i, m := range msgs {
		l.log.InfoContext(ctx, "push not sent: no Firebase credentials",
			slog.String("token", shortToken(m.Token)),
			slog.String("title", m.Title),
			slog.String("body", m.Body),
			slog.Any("data", m.Data),
			slog.String("collapse_key", m.CollapseKey),
			slog.String("channel_id", m.ChannelID),
		)
		results[i] = Result{Token: m.Token, Outcome: Delivered}
	}
	return results, nil
}

// shortToken keeps registration tokens, which let anyone push to the device, out of
// the logs while leaving enough to tell devices apart.
func shortToken(token string) string {
	if len(token) <= 8 {
		return token
	}
	return "…" + token[len(token)-8:]
}
