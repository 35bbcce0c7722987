package graph

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/calendar"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/clock/clocktest"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/media/mediatest"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/offline"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/search"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// testServer runs the real GraphQL handler in-process on a test database.
type testServer struct {
	t        testing.TB
	db       *store.DB
	now      func() time.Time // the server's clock
	resolver *Resolver
	client   *client.Client
	events   *event.Recorder
	tokens   *fakeVerifier
	handler  http.Handler
	jobs     bool // the outbox's jobs run
	// blobs is the media store the stories write their photos to.
	blobs media.Store
}

func newTestServer(t testing.TB, db *store.DB) *testServer {
	t.Helper()
	return newTestServerWith(t, db, Options{Development: true, ComplexityLimit: 1000})
}

func newTestServerWith(t testing.TB, db *store.DB, opts Options) *testServer {
	t.Helper()
	return newTestServerLogging(t, db, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newTestServerLogging is newTestServerWith with the server's log going
// to log, for tests that look at what is logged.
func newTestServerLogging(t testing.TB, db *store.DB, opts Options, log *slog.Logger) *testServer {
	t.Helper()
	return newTestServerJobs(t, db, opts, log, true)
}

// newCountedServer is newTestServer for tests that count the statements
// a request sends: River's polling would count too, so the outbox's jobs
// do not run (notifications are not made).
func newCountedServer(t testing.TB, db *store.DB) *testServer {
	t.Helper()
	return newTestServerJobs(t, db, Options{Development: true, ComplexityLimit: 1000},
		slog.New(slog.NewTextHandler(io.Discard, nil)), false)
}

func newTestServerJobs(t testing.TB, db *store.DB, opts Options, log *slog.Logger, jobs bool) *testServer {
	t.Helper()
	rec := &event.Recorder{}
	bus := event.NewBus(log)
	bus.Subscribe(func(ctx context.Context, e event.Event) { rec.Publish(ctx, e) })
	broker := pubsub.NewMemory(log, pubsub.Options{})
	t.Cleanup(func() { broker.Close() })
	bus.Subscribe(ForwardEvents(broker, log))
	// The whole server runs at TEST_NOW (today when unset); tests place
	// their times relative to ts.now().
	now := clocktest.Clock(t)
	themes := theme.NewService(db)
	volunteers := volunteer.NewService(db, bus, volunteer.Config{Now: now})
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	activities := activity.NewService(db, themes, bus, now)
	activities.SetCancelHook(volunteers.CancelActivityClaims)
	activities.SetMoveHook(volunteers.MoveActivitySlots)
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	notifier, err := notify.New(db, push.NewLog(log), log, notify.Config{Now: now, FetchPollInterval: 25 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	bus.SetOutbox(notifier)
	notifier.OnCreated(NotifyLive(broker, log))
	// The outbox's jobs make the notifications, as on the server.
	if jobs {
		if err := notifier.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = notifier.Stop(ctx)
		})
	}
	organisations := organisation.NewService(db, now)
	organisations.SetNotifier(notifier)
	users := user.NewService(db, now)
	users.OnEmailProven(organisations.EmailProvenTx)
	r := &Resolver{
		Log:    log,
		Broker: broker,
		Domain: Domain{
			Users:          users,
			Organisations:  organisations,
			Places:         place.NewService(db, now),
			Activities:     activities,
			Stories:        story.NewService(db, bus, blobs, themes, now, notifier, story.Limits{}),
			Themes:         themes,
			Links:          link.NewService(db),
			Volunteer:      volunteers,
			Privacy:        privacy.NewService(db, bus, volunteers.CancelUserClaims, now),
			Calendar:       calendar.NewService(db, "http://voresishoj.test", now),
			Notify:         notifier,
			Initiatives:    initiative.NewService(db, themes, notifier, now),
			CalendarImport: calimport.NewService(db, activities, themes, bus, calimport.Options{Logger: log, Now: now}),
			Participation:  participation.NewService(db, bus, notifier, participation.Config{Now: now}),
			Languages:      i18n.Supported(),
		},
		Now: now,
	}
	r.Domain.Privacy.SetParticipations(r.Domain.Participation)
	activities.SetGuestHooks(r.Domain.Participation.CancelActivityTx, r.Domain.Participation.MoveActivityTx)
	d := r.Domain
	r.Domain.Search = search.NewService(db, d.Activities, d.Organisations, d.Places, d.Stories, d.Initiatives, now)
	r.Domain.Offline = offline.NewService(db, offline.Owners{Activities: d.Activities, Stories: d.Stories,
		Volunteers: d.Volunteer, Organisations: d.Organisations, Places: d.Places, Themes: d.Themes, Notify: d.Notify}, now)
	r.Domain.Privacy.SetMedia(blobs)
	r.Domain.UseCovers(media.NewCovers(db, blobs, r.Domain.Stories.MediaAccess().Signer, now))
	tokens := &fakeVerifier{identities: map[string]user.Identity{}}
	authn := auth.NewAuthenticator(tokens, r.Domain.Users, r.Log)
	opts.WebsocketInit = AuthenticateWebsocket(authn)
	opts.Authenticate = authn.Middleware
	h := NewHandler(r, opts)
	return &testServer{t: t, db: db, now: now, resolver: r, client: client.New(h), handler: h, events: rec, tokens: tokens, jobs: jobs, blobs: blobs}
}

// drain waits until the outbox has made every notification promised so
// far (the River jobs are done), as a request's changes are told shortly
// after its commit.
func (ts *testServer) drain() {
	ts.t.Helper()
	if !ts.jobs {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := store.Get(context.Background(), ts.db, &n,
			`SELECT COUNT(*) FROM river_job WHERE kind IN ('notify_event', 'notify_initiative_event')
				AND state NOT IN ('completed', 'discarded', 'cancelled')`); err != nil {
			ts.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("%d outbox jobs still waiting after 10s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeVerifier stands in for Firebase: it knows a fixed set of tokens.
// The real verifiers are tested in internal/auth against the emulator;
// here the point is the path from a token through the middleware.
type fakeVerifier struct {
	mu         sync.Mutex
	identities map[string]user.Identity
}

func (f *fakeVerifier) Verify(_ context.Context, token string) (user.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.identities[token]
	if !ok {
		return user.Identity{}, auth.ErrInvalidToken
	}
	return id, nil
}

func (f *fakeVerifier) VerifyAndCheckRevoked(ctx context.Context, token string) (user.Identity, error) {
	return f.Verify(ctx, token)
}

// person signs a person up through the token path and returns a token
// for them and their caller.
func (ts *testServer) person(name string, verified bool) (string, user.Caller) {
	ts.t.Helper()
	// Unverified is an e-mail account whose address was never confirmed.
	return ts.signUp("token-"+name, user.Identity{UID: "uid-" + name, Email: name + "@test.example", EmailVerified: verified, Name: name})
}

// signUp makes token stand for the identity, as Firebase would, and
// signs the person in once. The person then answers the age question
// (AT_LEAST_13) as the app asks at sign-up; signUpUnanswered leaves it
// open.
func (ts *testServer) signUp(token string, id user.Identity) (string, user.Caller) {
	ts.t.Helper()
	token, c := ts.signUpUnanswered(token, id)
	if c.AgeAnswered || c.UserID == 0 {
		return token, c
	}
	adult := user.AgeAtLeast13
	if _, err := ts.resolver.Domain.Users.UpdateProfile(context.Background(), c, user.ProfileInput{AgeGroup: &adult}, i18n.Supported()); err != nil {
		ts.t.Fatal(err)
	}
	c, err := ts.resolver.Domain.Users.Caller(context.Background(), c.UserID)
	if err != nil {
		ts.t.Fatal(err)
	}
	return token, c
}

// signUpUnanswered is signUp for a person who has not answered the age
// question yet (a new account, or one made before it was asked).
func (ts *testServer) signUpUnanswered(token string, id user.Identity) (string, user.Caller) {
	ts.t.Helper()
	ts.tokens.mu.Lock()
	ts.tokens.identities[token] = id
	ts.tokens.mu.Unlock()
	c, err := ts.resolver.Domain.Users.Resolve(context.Background(), id)
	if err != nil {
		ts.t.Fatal(err)
	}
	return token, c
}

// bearer signs a request in with a token.
func bearer(token string) client.Option {
	if token == "" {
		return func(*client.Request) {}
	}
	return client.AddHeader("Authorization", "Bearer "+token)
}

// as makes a request as the given caller.
func as(c user.Caller) client.Option {
	return func(bd *client.Request) {
		bd.HTTP = bd.HTTP.WithContext(user.WithCaller(bd.HTTP.Context(), c))
	}
}

// vars sets variables from name, value pairs.
func vars(kv ...any) client.Option {
	return func(bd *client.Request) {
		if bd.Variables == nil {
			bd.Variables = map[string]any{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			bd.Variables[kv[i].(string)] = kv[i+1]
		}
		// An upload among the variables (a cover in the matrices) goes as
		// a multipart request, as the app sends it.
		if holdsFile(bd.Variables) {
			client.WithFiles()(bd)
		}
	}
}

func holdsFile(v any) bool {
	switch v := v.(type) {
	case *os.File:
		return true
	case map[string]any:
		for _, x := range v {
			if holdsFile(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if holdsFile(x) {
				return true
			}
		}
	}
	return false
}

var coverOnce struct {
	sync.Once
	path string
}

// coverFile opens a fresh copy of a test cover (a 400×300 PNG), for
// matrix rows whose input is read once per request.
func coverFile() *os.File {
	coverOnce.Do(func() {
		f, err := os.CreateTemp("", "cover-*.png")
		if err != nil {
			panic(err)
		}
		if _, err := f.Write(mediatest.PNG(400, 300)); err != nil {
			panic(err)
		}
		f.Close()
		coverOnce.path = f.Name()
	})
	f, err := os.Open(coverOnce.path)
	if err != nil {
		panic(err)
	}
	return f
}

// lang sets Accept-Language.
func lang(l string) client.Option {
	return client.AddHeader("Accept-Language", l)
}

// secretariat is a caller with every right; fixtures are made through the
// real domain writes with it.
func secretariat(t *testing.T, db *store.DB) user.Caller {
	t.Helper()
	u, _, err := user.NewService(db, clock.Real).GrantSecretariat(context.Background(), "", "uid-fixture-secretariat")
	if err != nil {
		t.Fatal(err)
	}
	return user.Caller{UserID: u.ID, Verified: true, Secretariat: true, Language: "da"}
}

// raw sends a request body as is and returns the response, for tests of
// what the transport does with bad requests.
func (ts *testServer) raw(method, contentType, body string) *httptest.ResponseRecorder {
	ts.t.Helper()
	h := NewHandler(ts.resolver, Options{Development: true})
	req := httptest.NewRequest(method, "/graphql", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}
