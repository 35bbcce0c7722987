package initiative_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/theme"
	"github.com/ishoj/voresishoj/internal/user"
)

// recorder keeps the events a Notifier is told about.
type recorder struct {
	mu     sync.Mutex
	events []initiative.Event
}

func (r *recorder) RecordInitiativeEvents(_ context.Context, _ *sqlx.Tx, events ...initiative.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) last(kind initiative.EventKind) (initiative.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Kind == kind {
			return r.events[i], true
		}
	}
	return initiative.Event{}, false
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	svc   *initiative.Service
	users *user.Service
	rec   *recorder
	now   time.Time
	n     int
}

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, db *store.DB) *fixture {
	f := &fixture{t: t, ctx: context.Background(), db: db, users: user.NewService(db, clock.Real), rec: &recorder{}, now: t0}
	f.svc = initiative.NewService(db, theme.NewService(db), f.rec, func() time.Time { return f.now })
	return f
}

// person adds a user and returns them as a Caller with their current roles.
func (f *fixture) person(name string, verified bool, role user.Role) user.Caller {
	f.t.Helper()
	f.n++
	// A phone number counts as verification too, so only verified people get one.
	var phone *string
	if verified {
		p := fmt.Sprintf("+45 20 00 00 %02d", f.n)
		phone = &p
	}
	var id int64
	err := store.Get(f.ctx, f.db, &id, `INSERT INTO users
		(firebase_uid, email, email_verified, phone, display_name, language, role, anonymous, has_app, age_group, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'da', ?, FALSE, TRUE, 'AT_LEAST_13', ?, ?) RETURNING id`,
		fmt.Sprintf("uid-%d", f.n), fmt.Sprintf("%s@example.dk", strings.ToLower(name)), verified,
		phone, name, role, t0, t0)
	if err != nil {
		f.t.Fatalf("insert user %s: %v", name, err)
	}
	return f.caller(id)
}

func (f *fixture) resident(name string) user.Caller { return f.person(name, true, user.RoleResident) }

// caller reloads a person's roles, as the next request would.
func (f *fixture) caller(id int64) user.Caller {
	f.t.Helper()
	c, err := f.users.Caller(f.ctx, id)
	if err != nil {
		f.t.Fatalf("caller %d: %v", id, err)
	}
	return c
}

func (f *fixture) place(name string) int64 {
	f.t.Helper()
	var id int64
	if err := store.Get(f.ctx, f.db, &id, `INSERT INTO places (name, created_at) VALUES (?, ?) RETURNING id`, name, t0); err != nil {
		f.t.Fatalf("insert place: %v", err)
	}
	return id
}

func (f *fixture) propose(c user.Caller, name string, mods ...func(*initiative.Input)) initiative.Initiative {
	f.t.Helper()
	in := initiative.Input{
		Name:        name,
		Description: "Små køkkenhaver mellem blokkene, hvor naboer dyrker sammen.",
		Themes:      []string{"natur", "faellesskab"},
		HelpNeeded:  "3 personer med grønne fingre lørdag formiddag",
	}
	for _, m := range mods {
		m(&in)
	}
	got, err := f.svc.Propose(f.ctx, c, in)
	if err != nil {
		f.t.Fatalf("propose %q: %v", name, err)
	}
	return got
}

func (f *fixture) join(c user.Caller, id int64) {
	f.t.Helper()
	if _, err := f.svc.Join(f.ctx, c, id, "Jeg er med!"); err != nil {
		f.t.Fatalf("join %d as %d: %v", id, c.UserID, err)
	}
}

// codes returns the user error codes in err, or a description of a fault.
func codes(err error) []string {
	if err == nil {
		return nil
	}
	ues := apperr.UserErrors(err)
	if ues == nil {
		return []string{"fault: " + err.Error()}
	}
	out := make([]string, len(ues))
	for i, e := range ues {
		out[i] = e.Code
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := codes(err); !slices.Contains(got, code) {
		t.Errorf("%s: got %v, want %s", what, got, code)
	}
}

func wantForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("%s: got %v, want ErrForbidden", what, err)
	}
}

func organisersOf(t *testing.T, f *fixture, orgID int64) []int64 {
	t.Helper()
	var ids []int64
	if err := store.Select(f.ctx, f.db, &ids, `SELECT user_id FROM organisers WHERE organisation_id = ? ORDER BY user_id`, orgID); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestLifeCycleProposeJoinApproveThenOrganise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer := f.resident("Amina")
		bo, carl, dorte := f.resident("Bo"), f.resident("Carl"), f.resident("Dorte")
		outsider := f.resident("Erik")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)

		p := f.propose(proposer, "Dyrk Ishøj")
		if p.Status != initiative.Proposed || p.Hidden || p.OrganisationID != nil {
			t.Fatalf("new proposal = %+v", p)
		}
		// Visible at once as a proposal.
		list, err := f.svc.List(f.ctx, user.Caller{}, initiative.Filter{Status: initiative.Proposed}, nil, 10)
		if err != nil || len(list) != 1 || list[0].ID != p.ID {
			t.Fatalf("proposals = %+v, %v", list, err)
		}

		for _, c := range []user.Caller{bo, carl, dorte} {
			f.now = f.now.Add(time.Hour)
			f.join(c, p.ID)
		}
		counts, err := f.svc.MemberCounts(f.ctx, []int64{p.ID})
		if err != nil || counts[p.ID] != 3 {
			t.Fatalf("member count = %v, %v", counts, err)
		}
		if e, ok := f.rec.last(initiative.EventJoined); !ok || e.ProposerID != proposer.UserID || !slices.Equal(e.MemberIDs, []int64{dorte.UserID}) || e.Message != "Jeg er med!" {
			t.Errorf("joined event = %+v", e)
		}

		// Only the proposer asks, and the secretariat only approves what was asked for.
		_, err = f.svc.Approve(f.ctx, sec, p.ID, nil)
		wantCode(t, "approve before request", err, initiative.CodeApprovalNotRequested)
		_, err = f.svc.RequestApproval(f.ctx, bo, p.ID)
		wantForbidden(t, "member requests approval", err)
		if _, err := f.svc.RequestApproval(f.ctx, proposer, p.ID); err != nil {
			t.Fatalf("request approval: %v", err)
		}

		_, err = f.svc.Approve(f.ctx, proposer, p.ID, nil)
		wantForbidden(t, "proposer approves own", err)
		_, err = f.svc.Approve(f.ctx, bo, p.ID, nil)
		wantForbidden(t, "resident approves", err)
		_, err = f.svc.Approve(f.ctx, sec, p.ID, []int64{bo.UserID, outsider.UserID})
		wantCode(t, "approve with a non-member organiser", err, initiative.CodeNotAMember)
		var orgs int
		if err := store.Get(f.ctx, db, &orgs, `SELECT COUNT(*) FROM organisations`); err != nil || orgs != 0 {
			t.Fatalf("refused approval left %d organisations (%v)", orgs, err)
		}

		got, err := f.svc.Approve(f.ctx, sec, p.ID, []int64{bo.UserID})
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		if got.Status != initiative.Active || got.OrganisationID == nil {
			t.Fatalf("approved = %+v", got)
		}
		orgID := *got.OrganisationID
		var org struct {
			Name string `db:"name"`
			Kind string `db:"kind"`
		}
		if err := store.Get(f.ctx, db, &org, `SELECT name, kind FROM organisations WHERE id = ?`, orgID); err != nil {
			t.Fatal(err)
		}
		if org.Name != "Dyrk Ishøj" || org.Kind != "INFORMAL_INITIATIVE" {
			t.Errorf("organisation = %+v", org)
		}
		if ids := organisersOf(t, f, orgID); !slices.Equal(ids, []int64{proposer.UserID, bo.UserID}) {
			t.Errorf("organisers = %v, want proposer %d and Bo %d", ids, proposer.UserID, bo.UserID)
		}
		e, ok := f.rec.last(initiative.EventApproved)
		if !ok || e.OrganisationID != orgID || !slices.Equal(e.MemberIDs, []int64{bo.UserID, carl.UserID, dorte.UserID}) ||
			!slices.Equal(e.OrganiserIDs, []int64{proposer.UserID, bo.UserID}) {
			t.Errorf("approved event = %+v", e)
		}
		_, err = f.svc.Approve(f.ctx, sec, p.ID, nil)
		wantCode(t, "approve twice", err, initiative.CodeNotProposed)

		// The proposer, as organiser now, publishes an activity for it.
		acts := activity.NewService(db, theme.NewService(db), event.Discard{}, clock.Real)
		start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Hour)
		a, err := acts.Create(f.ctx, f.caller(proposer.UserID), activity.Input{
			OrganisationID: orgID,
			Title:          "Plantedag i Vejleåparken",
			StartsAt:       start,
			EndsAt:         start.Add(3 * time.Hour),
		}, true)
		if err != nil {
			t.Fatalf("proposer creates activity as organiser: %v", err)
		}
		if a.OrganisationID != orgID {
			t.Errorf("activity organisation = %d, want %d", a.OrganisationID, orgID)
		}
		// Carl joined but was not picked: no organiser rights.
		_, err = acts.Create(f.ctx, f.caller(carl.UserID), activity.Input{
			OrganisationID: orgID, Title: "Carls dag", StartsAt: start, EndsAt: start.Add(time.Hour),
		}, true)
		wantForbidden(t, "member who is not organiser creates activity", err)

		// People can still join an active initiative.
		f.join(outsider, p.ID)
	})
}

func TestContactDetailsOnlyForProposerOrganisersAndSecretariat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer, bo, carl := f.resident("Amina"), f.resident("Bo"), f.resident("Carl")
		stranger := f.resident("Erik")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		p := f.propose(proposer, "Spisevenner")
		f.join(bo, p.ID)
		f.join(carl, p.ID)

		// visible: everyone's contact details are shown.
		shown := func(c user.Caller) (visible bool, withContact []int64) {
			t.Helper()
			ms, err := f.svc.Members(f.ctx, c, p.ID)
			if err != nil {
				t.Fatalf("members as %d: %v", c.UserID, err)
			}
			if len(ms) != 2 || ms[0].UserID != bo.UserID || ms[1].UserID != carl.UserID || ms[0].DisplayName != "Bo" || ms[0].Message != "Jeg er med!" {
				t.Fatalf("members = %+v", ms)
			}
			for _, m := range ms {
				if m.Email != nil || m.Phone != nil {
					withContact = append(withContact, m.UserID)
				}
			}
			return len(withContact) == len(ms), withContact
		}
		for _, tc := range []struct {
			name string
			c    user.Caller
			want bool
		}{
			{"proposer", proposer, true},
			{"secretariat", sec, true},
			{"stranger", stranger, false},
		} {
			visible, with := shown(tc.c)
			if visible != tc.want || (tc.want && len(with) != 2) || (!tc.want && len(with) != 0) {
				t.Errorf("%s: visible=%v, contact shown for %v", tc.name, visible, with)
			}
		}
		// A member sees only their own contact details.
		if visible, with := shown(carl); visible || !slices.Equal(with, []int64{carl.UserID}) {
			t.Errorf("member: visible=%v, contact shown for %v", visible, with)
		}
		// A visitor sees no members at all: null, not an error.
		if ms, err := f.svc.Members(f.ctx, user.Caller{}, p.ID); ms != nil || err != nil {
			t.Errorf("visitor: %v, %v, want nothing", ms, err)
		}

		// Once active, its organisers see them too – Bo was picked.
		if _, err := f.svc.RequestApproval(f.ctx, proposer, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(f.ctx, sec, p.ID, []int64{bo.UserID}); err != nil {
			t.Fatal(err)
		}
		if visible, with := shown(f.caller(bo.UserID)); !visible || len(with) != 2 {
			t.Errorf("organiser: visible=%v, contact shown for %v", visible, with)
		}
		if visible, _ := shown(f.caller(carl.UserID)); visible {
			t.Error("non-organiser member sees contact details after approval")
		}
	})
}

func TestApproveNameTakenChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer, bo := f.resident("Amina"), f.resident("Bo")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		if _, err := store.Exec(f.ctx, db, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Røde Kors', 'ASSOCIATION', ?, ?)`, t0, t0); err != nil {
			t.Fatal(err)
		}
		p := f.propose(proposer, "Røde Kors")
		f.join(bo, p.ID)
		if _, err := f.svc.RequestApproval(f.ctx, proposer, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Approve(f.ctx, sec, p.ID, []int64{bo.UserID})
		wantCode(t, "approve clashing name", err, "NAME_TAKEN")

		got, err := f.svc.Initiative(f.ctx, everything, p.ID)
		if err != nil || got.Status != initiative.Proposed || got.OrganisationID != nil {
			t.Errorf("after refused approval: %+v, %v", got, err)
		}
		var n int
		if err := store.Get(f.ctx, db, &n, `SELECT COUNT(*) FROM organisers`); err != nil || n != 0 {
			t.Errorf("organisers after refused approval = %d (%v)", n, err)
		}
		if _, ok := f.rec.last(initiative.EventApproved); ok {
			t.Error("approved event published for a refused approval")
		}
	})
}

func TestMergeTellsEveryoneWhoJoined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer, bo, carl := f.resident("Amina"), f.resident("Bo"), f.resident("Carl")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		var orgID int64
		if err := store.Get(f.ctx, db, &orgID, `INSERT INTO organisations (name, kind, created_at, updated_at)
			VALUES ('Thorslunde-Ishøj Lokalhistoriske Forening', 'ASSOCIATION', ?, ?) RETURNING id`, t0, t0); err != nil {
			t.Fatal(err)
		}
		p := f.propose(proposer, "Billeder fra 70'erne")
		f.join(bo, p.ID)
		f.join(carl, p.ID)

		const msg = "Lokalhistorisk Forening gør allerede dette – vær med der!"
		_, err := f.svc.Merge(f.ctx, proposer, p.ID, orgID, msg)
		wantForbidden(t, "proposer merges", err)
		_, err = f.svc.Merge(f.ctx, sec, p.ID, orgID, "  ")
		wantCode(t, "merge without message", err, apperr.CodeRequired)
		_, err = f.svc.Merge(f.ctx, sec, p.ID, orgID+100, msg)
		wantCode(t, "merge into missing organisation", err, "ORGANISATION_NOT_FOUND")
		_, err = f.svc.Merge(f.ctx, sec, p.ID+100, orgID, msg)
		wantCode(t, "merge missing initiative", err, initiative.CodeNotFound)

		got, err := f.svc.Merge(f.ctx, sec, p.ID, orgID, msg)
		if err != nil {
			t.Fatalf("merge: %v", err)
		}
		if got.Status != initiative.Merged || got.OrganisationID == nil || *got.OrganisationID != orgID || got.MergeMessage != msg || got.ClosedAt == nil {
			t.Errorf("merged = %+v", got)
		}
		e, ok := f.rec.last(initiative.EventMerged)
		if !ok || e.Message != msg || e.OrganisationID != orgID || e.ProposerID != proposer.UserID ||
			!slices.Equal(e.MemberIDs, []int64{bo.UserID, carl.UserID}) {
			t.Errorf("merged event = %+v", e)
		}
		// Merging makes nobody an organiser of the existing organisation.
		if ids := organisersOf(t, f, orgID); len(ids) != 0 {
			t.Errorf("organisers after merge = %v", ids)
		}
		_, err = f.svc.Join(f.ctx, f.resident("Dorte"), p.ID, "")
		wantCode(t, "join merged", err, initiative.CodeNotOpen)
		_, err = f.svc.Approve(f.ctx, sec, p.ID, nil)
		wantCode(t, "approve merged", err, initiative.CodeNotProposed)
		_, err = f.svc.Close(f.ctx, proposer, p.ID)
		wantCode(t, "close merged", err, initiative.CodeNotOpen)
	})
}

func TestCloseStaleProposals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		amina, bo, carl := f.resident("Amina"), f.resident("Bo"), f.resident("Carl")
		lonely := f.propose(amina, "Byttemarked")
		joined := f.propose(amina, "Store Grill Dag")
		f.join(bo, joined.ID)
		left := f.propose(bo, "Fotokonkurrence")
		f.now = t0.Add(30 * 24 * time.Hour)
		f.join(carl, left.ID)
		if err := f.svc.Leave(f.ctx, carl, left.ID); err != nil {
			t.Fatal(err)
		}
		f.now = t0.Add(60 * 24 * time.Hour)
		recent := f.propose(carl, "Livretter")

		// 89 days: nothing is old enough.
		n, err := f.svc.CloseStale(f.ctx, t0.Add(89*24*time.Hour), 0)
		if err != nil || n != 0 {
			t.Fatalf("close stale at 89 days = %d, %v", n, err)
		}
		n, err = f.svc.CloseStale(f.ctx, t0.Add(91*24*time.Hour), 0)
		if err != nil || n != 1 {
			t.Fatalf("close stale at 91 days = %d, %v; want 1", n, err)
		}
		status := func(id int64) initiative.Status {
			got, err := f.svc.Initiative(f.ctx, everything, id)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		got, _ := f.svc.Initiative(f.ctx, everything, lonely.ID)
		if got.Status != initiative.Closed || got.CloseReason == nil || *got.CloseReason != initiative.ClosedStale || got.ClosedAt == nil {
			t.Errorf("lonely proposal = %+v", got)
		}
		if s := status(joined.ID); s != initiative.Proposed {
			t.Errorf("proposal with a member = %s", s)
		}
		// The join 30 days in was a sign of life even though Carl left.
		if s := status(left.ID); s != initiative.Proposed {
			t.Errorf("proposal with recent activity = %s", s)
		}
		e, ok := f.rec.last(initiative.EventClosedStale)
		if !ok || e.InitiativeID != lonely.ID || e.ProposerID != amina.UserID || e.Name != "Byttemarked" {
			t.Errorf("stale event = %+v", e)
		}

		// A configurable period: 30 days after 60 closes the one left empty.
		n, err = f.svc.CloseStale(f.ctx, t0.Add(61*24*time.Hour), 30*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("close stale after 30 days = %d, %v; want 1", n, err)
		}
		if s := status(left.ID); s != initiative.Closed {
			t.Errorf("emptied proposal = %s", s)
		}
		if s := status(recent.ID); s != initiative.Proposed {
			t.Errorf("recent proposal = %s", s)
		}
	})
}

func TestCloseAuthorisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer, bo, stranger := f.resident("Amina"), f.resident("Bo"), f.resident("Erik")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		p := f.propose(proposer, "Naboglæde")
		f.join(bo, p.ID)

		_, err := f.svc.Close(f.ctx, user.Caller{}, p.ID)
		if !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor closes: %v", err)
		}
		_, err = f.svc.Close(f.ctx, stranger, p.ID)
		wantForbidden(t, "stranger closes", err)
		_, err = f.svc.Close(f.ctx, bo, p.ID)
		wantForbidden(t, "member closes", err)

		got, err := f.svc.Close(f.ctx, proposer, p.ID)
		if err != nil || got.Status != initiative.Closed || *got.CloseReason != initiative.ClosedByProposer {
			t.Fatalf("proposer closes: %+v, %v", got, err)
		}
		if e, _ := f.rec.last(initiative.EventClosed); !slices.Equal(e.MemberIDs, []int64{bo.UserID}) {
			t.Errorf("closed event = %+v", e)
		}
		_, err = f.svc.Close(f.ctx, proposer, p.ID)
		wantCode(t, "close twice", err, initiative.CodeNotOpen)
		_, err = f.svc.Join(f.ctx, stranger, p.ID, "")
		wantCode(t, "join closed", err, initiative.CodeNotOpen)

		q := f.propose(proposer, "HavhyttenFri")
		got, err = f.svc.Close(f.ctx, sec, q.ID)
		if err != nil || *got.CloseReason != initiative.ClosedBySecretariat {
			t.Fatalf("secretariat closes: %+v, %v", got, err)
		}
	})
}

func TestJoinAndLeaveRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer, bo := f.resident("Amina"), f.resident("Bo")
		unverified := f.person("Anonym", false, user.RoleResident)
		p := f.propose(proposer, "Dyrk Ishøj")

		_, err := f.svc.Join(f.ctx, user.Caller{}, p.ID, "")
		if !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor joins: %v", err)
		}
		_, err = f.svc.Join(f.ctx, unverified, p.ID, "")
		wantCode(t, "unverified joins", err, apperr.CodeVerifiedAccountRequired)
		_, err = f.svc.Join(f.ctx, proposer, p.ID, "")
		wantCode(t, "proposer joins own", err, initiative.CodeOwnInitiative)
		_, err = f.svc.Join(f.ctx, bo, p.ID+100, "")
		wantCode(t, "join missing", err, initiative.CodeNotFound)
		_, err = f.svc.Join(f.ctx, bo, p.ID, strings.Repeat("x", 501))
		wantCode(t, "join with long message", err, apperr.CodeTooLong)

		f.join(bo, p.ID)
		_, err = f.svc.Join(f.ctx, bo, p.ID, "")
		wantCode(t, "join twice", err, initiative.CodeAlreadyJoined)
		joined, err := f.svc.JoinedBy(f.ctx, bo, []int64{p.ID})
		if err != nil || !joined[p.ID] {
			t.Errorf("joined by Bo = %v, %v", joined, err)
		}

		if err := f.svc.Leave(f.ctx, bo, p.ID); err != nil {
			t.Fatalf("leave: %v", err)
		}
		wantCode(t, "leave twice", f.svc.Leave(f.ctx, bo, p.ID), initiative.CodeNotJoined)
		counts, err := f.svc.MemberCounts(f.ctx, []int64{p.ID})
		if err != nil || counts[p.ID] != 0 {
			t.Errorf("member count after leaving = %v, %v", counts, err)
		}
		// Having left, one may join again.
		f.join(bo, p.ID)
	})
}

func TestThreeReportsHideUntilReviewed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		proposer := f.resident("Amina")
		r1, r2, r3, r4 := f.resident("Bo"), f.resident("Carl"), f.resident("Dorte"), f.resident("Erik")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		p := f.propose(proposer, "Tvivlsomt forslag")

		_, err := f.svc.Report(f.ctx, proposer, p.ID, "")
		wantCode(t, "report own", err, initiative.CodeOwnInitiative)
		_, err = f.svc.Report(f.ctx, f.person("Anonym", false, user.RoleResident), p.ID, "spam")
		wantCode(t, "unverified reports", err, apperr.CodeVerifiedAccountRequired)

		visible := func() bool {
			t.Helper()
			list, err := f.svc.List(f.ctx, user.Caller{}, initiative.Filter{}, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			return len(list) == 1
		}
		for i, c := range []user.Caller{r1, r2} {
			f.now = f.now.Add(time.Minute)
			if hid, err := f.svc.Report(f.ctx, c, p.ID, "spam"); err != nil || hid {
				t.Fatalf("report %d: hid=%v, %v", i+1, hid, err)
			}
		}
		_, err = f.svc.Report(f.ctx, r1, p.ID, "igen")
		wantCode(t, "same person reports twice", err, initiative.CodeAlreadyReported)
		if !visible() {
			t.Fatal("hidden after two reports")
		}
		f.now = f.now.Add(time.Minute)
		if hid, err := f.svc.Report(f.ctx, r3, p.ID, "stødende"); err != nil || !hid {
			t.Fatalf("third report: hid=%v, %v", hid, err)
		}
		if visible() {
			t.Fatal("still listed after three reports")
		}
		got, _ := f.svc.Initiative(f.ctx, everything, p.ID)
		if got.VisibleTo(r4) || !got.VisibleTo(proposer) || !got.VisibleTo(sec) {
			t.Errorf("hidden visibility: stranger %v, proposer %v, secretariat %v", got.VisibleTo(r4), got.VisibleTo(proposer), got.VisibleTo(sec))
		}
		if e, ok := f.rec.last(initiative.EventHidden); !ok || e.InitiativeID != p.ID {
			t.Errorf("hidden event = %+v", e)
		}
		_, err = f.svc.Join(f.ctx, r4, p.ID, "")
		wantCode(t, "join hidden", err, initiative.CodeNotFound)
		if ms, err := f.svc.Members(f.ctx, r4, p.ID); ms != nil || err != nil {
			t.Errorf("stranger lists members of a hidden initiative: %v, %v", ms, err)
		}
		if _, err := f.svc.Initiative(f.ctx, r4, p.ID); !store.IsNotFound(err) {
			t.Errorf("stranger reads a hidden initiative: %v", err)
		}

		_, err = f.svc.ReviewQueue(f.ctx, r1, 10)
		wantForbidden(t, "resident reads review queue", err)
		queue, err := f.svc.ReviewQueue(f.ctx, sec, 10)
		if err != nil || len(queue) != 1 || queue[0].ID != p.ID || queue[0].Reports != 3 || !queue[0].Hidden {
			t.Fatalf("review queue = %+v, %v", queue, err)
		}
		reports, err := f.svc.Reports(f.ctx, sec, p.ID)
		if err != nil || len(reports) != 3 || reports[0].Reason != "stødende" {
			t.Errorf("reports = %+v, %v", reports, err)
		}

		_, err = f.svc.Review(f.ctx, proposer, p.ID, initiative.Restore)
		wantForbidden(t, "proposer reviews", err)
		f.now = f.now.Add(time.Minute)
		if _, err := f.svc.Review(f.ctx, sec, p.ID, initiative.Restore); err != nil {
			t.Fatalf("restore: %v", err)
		}
		if !visible() {
			t.Fatal("not listed after restore")
		}
		if queue, _ := f.svc.ReviewQueue(f.ctx, sec, 10); len(queue) != 0 {
			t.Errorf("review queue after restore = %+v", queue)
		}
		// The old reports were weighed: one new report does not hide it again.
		f.now = f.now.Add(time.Minute)
		if hid, err := f.svc.Report(f.ctx, r4, p.ID, ""); err != nil || hid || !visible() {
			t.Errorf("report after review: hid=%v, %v", hid, err)
		}

		f.now = f.now.Add(time.Minute)
		got, err = f.svc.Review(f.ctx, sec, p.ID, initiative.Remove)
		if err != nil || !got.Hidden || got.Status != initiative.Closed || *got.CloseReason != initiative.ClosedByModeration {
			t.Errorf("remove: %+v, %v", got, err)
		}
		if visible() {
			t.Error("listed after removal")
		}
	})
}

func TestProposeValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		amina := f.resident("Amina")
		missing := int64(9999)

		_, err := f.svc.Propose(f.ctx, user.Caller{}, initiative.Input{Name: "x", Description: "y"})
		if !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor proposes: %v", err)
		}
		_, err = f.svc.Propose(f.ctx, f.person("Anonym", false, user.RoleResident), initiative.Input{Name: "x", Description: "y"})
		wantCode(t, "unverified proposes", err, apperr.CodeVerifiedAccountRequired)

		_, err = f.svc.Propose(f.ctx, amina, initiative.Input{
			Name:          "  ",
			Description:   "",
			PlaceID:       &missing,
			Neighbourhood: strings.Repeat("n", 101),
			Themes:        []string{"natur", "findes-ikke"},
			HelpNeeded:    strings.Repeat("h", 1001),
		})
		ues := apperr.UserErrors(err)
		got := map[string]string{}
		for _, e := range ues {
			got[strings.Join(e.Field, ".")] = e.Code
		}
		want := map[string]string{
			"name":          apperr.CodeRequired,
			"description":   apperr.CodeRequired,
			"placeId":       "PLACE_NOT_FOUND",
			"neighbourhood": apperr.CodeTooLong,
			"themes":        "UNKNOWN_THEME",
			"helpNeeded":    apperr.CodeTooLong,
		}
		if len(got) != len(want) {
			t.Errorf("errors = %v, want %v", got, want)
		}
		for field, code := range want {
			if got[field] != code {
				t.Errorf("%s: got %q, want %q", field, got[field], code)
			}
		}
		_, err = f.svc.Propose(f.ctx, amina, initiative.Input{Name: strings.Repeat("n", 121), Description: "ok"})
		wantCode(t, "long name", err, apperr.CodeTooLong)
		var n int
		if err := store.Get(f.ctx, db, &n, `SELECT COUNT(*) FROM initiatives`); err != nil || n != 0 {
			t.Errorf("invalid proposals stored: %d (%v)", n, err)
		}

		// A few open proposals per person, not an endless stream.
		for i := range 5 {
			f.propose(amina, fmt.Sprintf("Forslag %d", i))
		}
		_, err = f.svc.Propose(f.ctx, amina, initiative.Input{Name: "Ét for meget", Description: "..."})
		wantCode(t, "sixth open proposal", err, initiative.CodeTooManyProposals)
	})
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		amina, bo := f.resident("Amina"), f.resident("Bo")
		sec := f.person("Sekretariat", true, user.RoleSecretariat)
		havn := f.place("Ishøj Havn")
		garden := f.propose(amina, "Dyrk Ishøj", func(in *initiative.Input) { in.Neighbourhood = "Vejleåparken" })
		f.now = f.now.Add(time.Hour)
		harbour := f.propose(amina, "Havnefest", func(in *initiative.Input) {
			in.PlaceID, in.Themes, in.Description = &havn, []string{"havn", "kultur"}, "Musik og mad ved vandet"
		})
		f.now = f.now.Add(time.Hour)
		food := f.propose(bo, "Livretter", func(in *initiative.Input) {
			in.Themes, in.Description = []string{"mad"}, "Børns livretter fra hele verden"
		})
		f.join(amina, food.ID)
		if _, err := f.svc.RequestApproval(f.ctx, bo, food.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(f.ctx, sec, food.ID, nil); err != nil {
			t.Fatal(err)
		}

		ids := func(fl initiative.Filter) []int64 {
			t.Helper()
			list, err := f.svc.List(f.ctx, user.Caller{}, fl, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, in := range list {
				out = append(out, in.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    initiative.Filter
			want []int64
		}{
			{"all, newest first", initiative.Filter{}, []int64{food.ID, harbour.ID, garden.ID}},
			{"proposed", initiative.Filter{Status: initiative.Proposed}, []int64{harbour.ID, garden.ID}},
			{"active", initiative.Filter{Status: initiative.Active}, []int64{food.ID}},
			{"theme", initiative.Filter{Themes: []string{"natur", "mad"}}, []int64{food.ID, garden.ID}},
			{"place", initiative.Filter{PlaceID: &havn}, []int64{harbour.ID}},
			{"search description", initiative.Filter{Search: "VANDET"}, []int64{harbour.ID}},
			{"search neighbourhood", initiative.Filter{Search: "vejleå"}, []int64{garden.ID}},
			{"search wildcard is literal", initiative.Filter{Search: "%"}, nil},
		} {
			if got := ids(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}

		var all []int64
		var after *initiative.Key
		for {
			page, err := f.svc.List(f.ctx, user.Caller{}, initiative.Filter{}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range page {
				all = append(all, in.ID)
			}
			if len(page) < 2 {
				break
			}
			k := initiative.KeyOf(page[len(page)-1])
			after = &k
		}
		if !slices.Equal(all, []int64{food.ID, harbour.ID, garden.ID}) {
			t.Errorf("paged = %v", all)
		}
		themes, err := f.svc.ThemesByIDs(f.ctx, []int64{harbour.ID})
		if err != nil || !slices.Equal(themes[harbour.ID], []string{"havn", "kultur"}) {
			t.Errorf("themes = %v, %v", themes, err)
		}
	})
}

// Every event the notifications will turn into a push has its texts, in
// every language the catalogue has.
func TestEveryEventHasPushTexts(t *testing.T) {
	kinds := []initiative.EventKind{
		initiative.EventProposed, initiative.EventJoined, initiative.EventApprovalRequested, initiative.EventApproved,
		initiative.EventMerged, initiative.EventClosed, initiative.EventClosedStale, initiative.EventHidden,
		initiative.EventRestored, initiative.EventRemoved,
	}
	params := map[string]any{"Initiative": "Dyrk Ishøj", "Person": "Bo", "Organisation": "Røde Kors", "Message": "Velkommen"}
	for _, k := range kinds {
		for _, part := range []string{"title", "body"} {
			id := "push." + string(k) + "." + part
			for _, lang := range i18n.Supported() {
				if got := i18n.Text(lang, id, params); got == id || strings.Contains(got, "<no value>") {
					t.Errorf("%s in %s = %q", id, lang, got)
				}
			}
		}
	}
	if got := i18n.Text("en", "push."+string(initiative.EventMerged)+".title", params); got != "Dyrk Ishøj continues with Røde Kors" {
		t.Errorf("merged title in English = %q", got)
	}
}

// everything reads initiatives whatever their state, as the secretariat.
var everything = user.Caller{Secretariat: true}
