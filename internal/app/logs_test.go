package app

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/logging"
	"github.com/ishoj/voresishoj/internal/user"
)

// lockedBuffer is a log sink written by many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The log carries no personal data: a server logging at debug level is
// taken through sign-in, a device, a claim, a resident without the app
// signed up by name and phone, a story naming a person with their phone and
// e-mail, refused input holding the same, and account deletion; then no
// line holds an e-mail, phone (as typed or in E.164), name, story text or
// device token. People are named by pseudonyms only.
func TestLogsCarryNoPersonalData(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"DATA_DIR": dir, "LISTEN_ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug",
		"METRICS_ADDR": "127.0.0.1:0", "DEV_NOW": clocktest.Now(t).Format(time.RFC3339Nano)} {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	var sink lockedBuffer
	log := logging.New(&sink, slog.LevelDebug, logging.NewPseudonyms([]byte("test key")))
	// Packages that log through slog's default logger write here too.
	prev := slog.Default()
	slog.SetDefault(log)
	t.Cleanup(func() { slog.SetDefault(prev) })

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
	defer func() {
		cancel()
		<-s.done
		a.Close()
	}()

	local, err := auth.NewLocal(cfg.DataDir, user.NewService(a.db, a.now))
	if err != nil {
		t.Fatal(err)
	}
	const (
		email      = "vibeke.sorensen@example.dk"
		name       = "Vibeke Sørensen"
		phoneTyped = "21 43 65 87"
		phone      = "+4521436587"
		token      = "fcm-token-d41d8cd98f00b204e9800998ecf8427e"
		guest      = "Aage Kristoffersen"
		guestPhone = "+4531425364"
		story      = "Ring til Margrethe Kjærsgaard på 22 33 44 55 eller skriv til margrethe@example.dk"
	)
	vol, err := local.IssueForEmail(context.Background(), email, "")
	if err != nil {
		t.Fatal(err)
	}
	org, err := local.IssueForEmail(context.Background(), "mette@ishoj.example", "")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(token, query string, vars map[string]any) map[string]any {
		t.Helper()
		_, out := s.gql(t, token, query, vars)
		if errs, _ := out["errors"].([]any); len(errs) > 0 {
			t.Fatalf("%s: %v", query, out)
		}
		return out["data"].(map[string]any)
	}

	ok(vol, `mutation($i: UpdateMeInput!) { updateMe(input: $i) { userErrors { code } } }`,
		map[string]any{"i": map[string]any{"displayName": name, "phone": phoneTyped, "ageGroup": "AT_LEAST_13"}})
	// Refused input: a name with a bidi override, a phone that is none.
	ok(vol, `mutation($i: UpdateMeInput!) { updateMe(input: $i) { userErrors { code } } }`,
		map[string]any{"i": map[string]any{"displayName": name + "\u202e", "phone": phoneTyped + "x"}})
	ok(vol, `mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { userErrors { code } } }`,
		map[string]any{"i": map[string]any{"token": token, "platform": "ANDROID"}})

	data := ok(org, `{ me { organises { activities(first: 3) { edges { node { slotsConnection(first: 5) { edges { node { id spotsLeft } } } } } } } } }`, nil)
	var slots []string
	for _, o := range data["me"].(map[string]any)["organises"].([]any) {
		for _, e := range o.(map[string]any)["activities"].(map[string]any)["edges"].([]any) {
			for _, se := range e.(map[string]any)["node"].(map[string]any)["slotsConnection"].(map[string]any)["edges"].([]any) {
				slots = append(slots, se.(map[string]any)["node"].(map[string]any)["id"].(string))
			}
		}
	}
	if len(slots) < 2 {
		t.Fatalf("the demo organiser has %d slots, want 2 or more", len(slots))
	}
	ok(vol, `mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id } userErrors { code } } }`,
		map[string]any{"i": map[string]any{"slotId": slots[0], "idempotencyKey": "tap-1"}})
	ok(org, `mutation($i: SignUpVolunteerInput!) { signUpVolunteer(input: $i) { userErrors { code } } }`,
		map[string]any{"i": map[string]any{"slotId": slots[1], "name": guest, "phone": guestPhone}})
	ok(vol, `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id } userErrors { code } } }`,
		map[string]any{"i": map[string]any{"title": "Tak til " + guest, "body": story, "authorName": name, "consentPeople": true, "hasChildren": false}})
	// A story refused for its length still holds the text.
	ok(vol, `mutation($i: SubmitStoryInput!) { submitStory(input: $i) { story { id } userErrors { code } } }`,
		map[string]any{"i": map[string]any{"title": strings.Repeat(guest, 40), "body": story, "consentPeople": true, "hasChildren": false}})
	// A token no server signed, naming the person.
	s.gql(t, "eyJhbGciOiJIUzI1NiJ9."+email+".sig", `{ me { id } }`, nil)
	ok(vol, `mutation { deleteMyAccount(input: {stories: DELETE, confirm: true}) { userErrors { code } } }`, nil)

	// Let jobs the operations started (pushes, the outbox) log too.
	time.Sleep(2 * time.Second)
	out := sink.String()
	if !strings.Contains(out, `"caller":"`) {
		t.Fatalf("the log has no request lines with a caller pseudonym; was anything logged?\n%s", out)
	}
	for _, secret := range []string{email, "vibeke.sorensen", name, "Sørensen", phone, "21436587", phoneTyped,
		token, guest, guestPhone, "31425364", "Margrethe", "margrethe@example.dk", "22 33 44 55"} {
		if i := strings.Index(out, secret); i >= 0 {
			lo, hi := max(0, i-300), min(len(out), i+300)
			t.Errorf("the log holds %q:\n%s", secret, out[lo:hi])
		}
	}
}
