package push

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLogSenderDeliversAndLogs(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	res, err := l.Send(context.Background(), []Message{
		{Token: "aaaaaaaaaaaaaaaaaaaa-1234abcd", Title: "Hej", Body: "Ny aktivitet"},
		{Token: "short", Title: "Igen"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Outcome != Delivered || res[1].Outcome != Delivered || res[1].Token != "short" {
		t.Fatalf("results = %+v", res)
	}
	out := buf.String()
	if strings.Count(out, "push not sent") != 2 || !strings.Contains(out, "title=Hej") {
		t.Errorf("log = %q", out)
	}
	if strings.Contains(out, "aaaaaaaaaaaa") || !strings.Contains(out, "1234abcd") {
		t.Errorf("log should carry only the end of the token: %q", out)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-3", 0},
		{now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		if got := retryAfter(resp, now); got != tt.want {
			t.Errorf("Retry-After %q = %v, want %v", tt.header, got, tt.want)
		}
	}
	if got := retryAfter(nil, now); got != 0 {
		t.Errorf("no response = %v", got)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Delivered: "delivered", Unregistered: "unregistered", Retry: "retry", Failed: "failed", Outcome(9): "unknown"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(o), o.String(), want)
		}
	}
}
