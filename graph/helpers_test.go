package graph

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calendar"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/place"
	"github.com/ishoj/voresishoj/internal/privacy"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// testServer runs the real GraphQL handler in-process on a test database.
type testServer struct {
	t        *testing.T
	db       *store.DB
	resolver *Resolver
	client   *client.Client
	events   *event.Recorder
}

func newTestServer(t *testing.T, db *store.DB) *testServer {
	t.Helper()
	rec := &event.Recorder{}
	themes := theme.NewService(db)
	volunteers := volunteer.NewService(db, rec, volunteer.Config{})
	activities := activity.NewService(db, themes, rec)
	activities.SetCancelHook(volunteers.CancelActivityClaims)
	r := &Resolver{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Domain: Domain{
			Users:         user.NewService(db),
			Organisations: organisation.NewService(db),
			Places:        place.NewService(db),
			Activities:    activities,
			Stories:       story.NewService(db),
			Themes:        themes,
			Links:         link.NewService(db),
			Volunteer:     volunteers,
			Privacy:       privacy.NewService(db, rec, volunteers.CancelUserClaims),
			Calendar:      calendar.NewService(db, "http://voresishoj.test"),
			Languages:     []string{"da", "en"},
		},
		Now: func() time.Time { return time.Now().UTC() },
	}
	h := NewHandler(r, Options{Development: true, ComplexityLimit: 1000})
	return &testServer{t: t, db: db, resolver: r, client: client.New(h), events: rec}
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
	}
}

// lang sets Accept-Language.
func lang(l string) client.Option {
	return client.AddHeader("Accept-Language", l)
}

// secretariat is a caller with every right; fixtures are made through the
// real domain writes with it.
func secretariat(t *testing.T, db *store.DB) user.Caller {
	t.Helper()
	u, err := user.NewService(db).GrantSecretariat(context.Background(), "sekretariat@test.example", "")
	if err != nil {
		t.Fatal(err)
	}
	return user.Caller{UserID: u.ID, Verified: true, Secretariat: true, Language: "da"}
}

func ptr[T any](v T) *T { return &v }

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
