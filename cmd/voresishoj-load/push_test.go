package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestPushReachesEveryDeviceOnce runs the push scenario small: a town-wide
// announcement through GraphQL, the real Admin SDK and the fake FCM must
// reach every seeded device exactly once. No timing is asserted.
func TestPushReachesEveryDeviceOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := pushRun(ctx, pushOptions{Devices: 300, Timeout: time.Minute, Baseline: true}, &out)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	if rep.Recipients != 301 {
		t.Errorf("announcement went to %d residents, want 300 and the secretariat", rep.Recipients)
	}
	if rep.Missed != 0 || rep.Twice != 0 || rep.Strangers != 0 {
		t.Errorf("%d devices missed, %d reached twice, %d unknown tokens", rep.Missed, rep.Twice, rep.Strangers)
	}
	if rep.Statuses["SENT"] != 300 || len(rep.Statuses) != 1 {
		t.Errorf("deliveries by status = %v, want 300 SENT", rep.Statuses)
	}
	if rep.Requests != 300 {
		t.Errorf("the fake received %d sends, want 300", rep.Requests)
	}
	t.Log("\n" + out.String())
}
