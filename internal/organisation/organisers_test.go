package organisation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// told records whom the organisation service told of an invitation, and
// checks it is told inside a transaction.
type told struct {
	mu  sync.Mutex
	ids []int64
}

func (n *told) OrganiserInvited(ctx context.Context, tx *sqlx.Tx, inv organisation.Invitation) error {
	if tx == nil {
		return errors.New("told outside the transaction")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, *inv.UserID)
	return nil
}

func (n *told) whom() []int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.ids)
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	users *user.Service
	orgs  *organisation.Service
	told  *told
	boss  user.Caller
	orgA  int64
	orgB  int64
	olga  user.Caller // organiser of A since the start
	omar  user.Caller // organiser of B
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: db, users: user.NewService(db, clock.Real), orgs: organisation.NewService(db, clock.Real), told: &told{}}
	f.orgs.SetNotifier(f.told)
	f.users.OnEmailProven(f.orgs.EmailProvenTx)
	if _, _, err := f.users.GrantSecretariat(f.ctx, "", "uid-boss"); err != nil {
		t.Fatal(err)
	}
	f.boss = f.signIn(user.Identity{UID: "uid-boss", Email: "boss@ishoj.example", EmailVerified: true, Name: "Boss"})
	for _, o := range []struct {
		id   *int64
		name string
	}{{&f.orgA, "Røde Kors Ishøj"}, {&f.orgB, "Ungerådet"}} {
		org, err := f.orgs.Create(f.ctx, f.boss, organisation.Input{Name: o.name, Kind: organisation.Association})
		if err != nil {
			t.Fatal(err)
		}
		*o.id = org.ID
	}
	f.olga = f.organiser("olga", f.orgA, time.Now().Add(-time.Hour))
	f.omar = f.organiser("omar", f.orgB, time.Now().Add(-time.Hour))
	return f
}

func (f *fixture) signIn(id user.Identity) user.Caller {
	f.t.Helper()
	c, err := f.users.Resolve(f.ctx, id)
	if err != nil {
		f.t.Fatalf("sign in %s: %v", id.UID, err)
	}
	if c.AgeAnswered {
		return c
	}
	// The person answers the age question, as the app asks at sign-up.
	if _, err := store.Exec(f.ctx, f.db, `UPDATE users SET age_group = 'AT_LEAST_13' WHERE id = ?`, c.UserID); err != nil {
		f.t.Fatal(err)
	}
	if c, err = f.users.Caller(f.ctx, c.UserID); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) verified(name string) user.Caller {
	return f.signIn(user.Identity{UID: "uid-" + name, Email: name + "@ishoj.example", EmailVerified: true, Name: name})
}

// organiser makes a verified person organiser of org since the given time.
func (f *fixture) organiser(name string, org int64, since time.Time) user.Caller {
	f.t.Helper()
	c := f.verified(name)
	if _, err := store.Exec(f.ctx, f.db, `INSERT INTO organisers (organisation_id, user_id, created_at) VALUES (?, ?, ?)`, org, c.UserID, since.UTC()); err != nil {
		f.t.Fatal(err)
	}
	return f.refresh(c)
}

func (f *fixture) refresh(c user.Caller) user.Caller {
	f.t.Helper()
	fresh, err := f.users.Caller(f.ctx, c.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	return fresh
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	for _, ue := range apperr.UserErrors(err) {
		if ue.Code == code {
			return
		}
	}
	t.Errorf("got %v, want %s", err, code)
}

// Hole 1: an invitation by e-mail binds only to the account that proves
// the address; a squatter of the address never sees it.
func TestInviteByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		squatter := f.signIn(user.Identity{UID: "uid-squat", Email: "kasserer@ishoj.example"})
		// Verified by phone, but not the owner of the address.
		phoned := f.signIn(user.Identity{UID: "uid-phone", Phone: "+4512345678", Name: "Telefon"})

		inv, err := f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: " Kasserer@Ishoj.example "})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Status != organisation.InvitationPending || inv.UserID != nil || inv.InviteeName != "" || *inv.Email != "kasserer@ishoj.example" {
			t.Errorf("invitation as the inviter sees it: %+v", inv)
		}
		if len(f.told.whom()) != 0 {
			t.Errorf("told %v of an invitation to an unproven address", f.told.whom())
		}
		for _, c := range []user.Caller{squatter, phoned} {
			if invs, err := f.orgs.InvitationsFor(f.ctx, c); err != nil || len(invs) != 0 {
				t.Errorf("user %d sees invitations %+v, %v", c.UserID, invs, err)
			}
		}
		if _, err := f.orgs.AcceptInvitation(f.ctx, squatter, inv.ID); !isUserError(err, apperr.CodeVerifiedAccountRequired) {
			t.Errorf("squatter accepting: %v", err)
		}
		_, err = f.orgs.AcceptInvitation(f.ctx, phoned, inv.ID)
		wantCode(t, err, organisation.CodeInvitationNotFound)

		// The owner proves the address with a new Firebase account.
		owner := f.signIn(user.Identity{UID: "uid-owner", Email: "kasserer@ishoj.example", EmailVerified: true, Name: "Kasserer"})
		if got := f.told.whom(); len(got) != 1 || got[0] != owner.UserID {
			t.Errorf("told %v, want the owner %d", got, owner.UserID)
		}
		invs, err := f.orgs.InvitationsFor(f.ctx, owner)
		if err != nil || len(invs) != 1 || invs[0].ID != inv.ID || invs[0].InviterName != "olga" {
			t.Fatalf("owner's invitations: %+v, %v", invs, err)
		}
		// Organisers see it, still without the invitee's name.
		if seen, ok, err := f.orgs.InvitationsOf(f.ctx, f.olga, f.orgA); err != nil || !ok || len(seen) != 1 || seen[0].InviteeName != "" || seen[0].UserID != nil {
			t.Errorf("organiser's view: %+v %v %v", seen, ok, err)
		}
		if _, ok, _ := f.orgs.InvitationsOf(f.ctx, f.omar, f.orgA); ok {
			t.Error("an organiser of another organisation sees the invitations")
		}
		got, err := f.orgs.AcceptInvitation(f.ctx, owner, inv.ID)
		if err != nil || got.Status != organisation.InvitationAccepted {
			t.Fatalf("accept: %+v, %v", got, err)
		}
		if c := f.refresh(owner); !c.Organises[f.orgA] {
			t.Error("the owner does not organise after accepting")
		}
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: "kasserer@ishoj.example"})
		wantCode(t, err, organisation.CodeAlreadyOrganiser)

		// Bad input and the wrong people.
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: "ikke en adresse"})
		wantCode(t, err, apperr.CodeInvalid)
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA})
		wantCode(t, err, apperr.CodeRequired)
		if _, err := f.orgs.Invite(f.ctx, f.omar, organisation.InviteInput{OrganisationID: f.orgA, Email: "x@ishoj.example"}); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser of another organisation invited: %v", err)
		}

		// No more than a handful of unanswered invitations at a time.
		for i := range organisation.MaxPendingInvitations {
			if _, err := f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: fmt.Sprintf("n%d@ishoj.example", i)}); err != nil {
				t.Fatalf("invitation %d: %v", i, err)
			}
		}
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: "en-for-meget@ishoj.example"})
		wantCode(t, err, organisation.CodeTooManyInvitations)
	})
}

// Hole 4: an organiser may invite by id only someone they can already
// see, the invitation shows no contact details, and the person is not an
// organiser until they accept.
func TestInviteByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		stranger := f.verified("fremmed")
		_, err := f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: stranger.UserID})
		wantCode(t, err, organisation.CodeUserNotFound)
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: 987654})
		wantCode(t, err, organisation.CodeUserNotFound)

		// A volunteer of the organisation's activity the organiser knows.
		vera := f.verified("vera")
		now := time.Now().UTC()
		var act, slot int64
		if err := store.Get(f.ctx, db, &act, `INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Byttemarked', ?, ?, 'PUBLISHED', ?, ?) RETURNING id`, f.orgA, now.Add(48*time.Hour), now.Add(50*time.Hour), now, now); err != nil {
			t.Fatal(err)
		}
		if err := store.Get(f.ctx, db, &slot, `INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, taken, created_at)
			VALUES (?, 'Opstilling', ?, ?, 3, 1, ?) RETURNING id`, act, now.Add(48*time.Hour), now.Add(49*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(f.ctx, db, `INSERT INTO slot_claims (slot_id, user_id, status, created_at, confirmed_at) VALUES (?, ?, 'CONFIRMED', ?, ?)`,
			slot, vera.UserID, now, now); err != nil {
			t.Fatal(err)
		}
		inv, err := f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: vera.UserID})
		if err != nil || inv.InviteeName != "vera" || inv.Email != nil {
			t.Fatalf("invite vera: %+v, %v", inv, err)
		}
		if got := f.told.whom(); len(got) != 1 || got[0] != vera.UserID {
			t.Errorf("told %v", got)
		}
		if c := f.refresh(vera); c.Organises[f.orgA] {
			t.Fatal("vera organises before accepting")
		}
		_, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: vera.UserID})
		wantCode(t, err, organisation.CodeAlreadyInvited)

		// Only vera answers; an organiser of another organisation cannot
		// even see it.
		_, err = f.orgs.AcceptInvitation(f.ctx, f.olga, inv.ID)
		wantCode(t, err, organisation.CodeInvitationWrongAccount)
		_, err = f.orgs.Invitation(f.ctx, f.omar, inv.ID)
		wantCode(t, err, organisation.CodeInvitationNotFound)
		_, err = f.orgs.RevokeInvitation(f.ctx, vera, inv.ID)
		wantCode(t, err, organisation.CodeInvitationNotFound)

		got, err := f.orgs.DeclineInvitation(f.ctx, vera, inv.ID)
		if err != nil || got.Status != organisation.InvitationDeclined {
			t.Fatalf("decline: %+v, %v", got, err)
		}
		_, err = f.orgs.AcceptInvitation(f.ctx, vera, inv.ID)
		wantCode(t, err, organisation.CodeInvitationNotPending)

		// Invited again; it lapses; a new one can be sent and revoked.
		inv, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: vera.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(f.ctx, db, `UPDATE organiser_invitations SET expires_at = ? WHERE id = ?`, now.Add(-time.Minute), inv.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.orgs.AcceptInvitation(f.ctx, vera, inv.ID)
		wantCode(t, err, organisation.CodeInvitationExpired)
		if invs, _ := f.orgs.InvitationsFor(f.ctx, vera); len(invs) != 0 {
			t.Errorf("expired invitation still offered: %+v", invs)
		}
		inv, err = f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, UserID: vera.UserID})
		if err != nil {
			t.Fatalf("invite after expiry: %v", err)
		}
		if got, err := f.orgs.RevokeInvitation(f.ctx, f.olga, inv.ID); err != nil || got.Status != organisation.InvitationRevoked {
			t.Fatalf("revoke: %+v, %v", got, err)
		}
		_, err = f.orgs.AcceptInvitation(f.ctx, vera, inv.ID)
		wantCode(t, err, organisation.CodeInvitationNotPending)
	})
}

// The secretariat's act takes effect directly, but still binds to an
// address only once an account proves it.
func TestSecretariatNamesOrganisers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		known := f.verified("kendt")
		inv, err := f.orgs.Invite(f.ctx, f.boss, organisation.InviteInput{OrganisationID: f.orgB, Email: "kendt@ishoj.example"})
		if err != nil || inv.Status != organisation.InvitationAccepted {
			t.Fatalf("secretariat naming a proven address: %+v, %v", inv, err)
		}
		if !f.refresh(known).Organises[f.orgB] {
			t.Error("not organiser at once")
		}

		squatter := f.signIn(user.Identity{UID: "uid-squat", Email: "formand@ishoj.example"})
		inv, err = f.orgs.Invite(f.ctx, f.boss, organisation.InviteInput{OrganisationID: f.orgB, Email: "formand@ishoj.example"})
		if err != nil || inv.Status != organisation.InvitationPending || !inv.Direct {
			t.Fatalf("secretariat naming an unproven address: %+v, %v", inv, err)
		}
		if f.refresh(squatter).Organises[f.orgB] {
			t.Fatal("the squatter organises")
		}
		owner := f.signIn(user.Identity{UID: "uid-formand", Email: "formand@ishoj.example", EmailVerified: true, Name: "Formand"})
		if !owner.Organises[f.orgB] {
			t.Error("the owner does not organise after proving the address")
		}
		if got, err := f.orgs.Invitation(f.ctx, f.boss, inv.ID); err != nil || got.Status != organisation.InvitationAccepted || *got.UserID != owner.UserID {
			t.Errorf("the applied invitation: %+v, %v", got, err)
		}

		// By id, an account that proves nothing is invited, not made.
		inv, err = f.orgs.Invite(f.ctx, f.boss, organisation.InviteInput{OrganisationID: f.orgB, UserID: squatter.UserID})
		if err != nil || inv.Status != organisation.InvitationPending {
			t.Errorf("secretariat naming an unverified account by id: %+v, %v", inv, err)
		}
	})
}

// A newcomer cannot remove the organisers who were there first, and the
// last organiser stays unless the secretariat acts.
func TestRemoveOrganiser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		newbie := f.organiser("ny", f.orgA, time.Now())
		later := time.Now().Add(time.Minute)
		twin := f.organiser("tvilling", f.orgA, later)
		twin2 := f.organiser("tvilling2", f.orgA, later)

		wantCode(t, f.orgs.RemoveOrganiser(f.ctx, newbie, f.orgA, f.olga.UserID), organisation.CodeOrganiserSenior)
		// Those who joined at the same moment are peers: neither removes the other.
		wantCode(t, f.orgs.RemoveOrganiser(f.ctx, twin, f.orgA, twin2.UserID), organisation.CodeOrganiserSenior)
		if err := f.orgs.RemoveOrganiser(f.ctx, f.olga, f.orgA, newbie.UserID); err != nil {
			t.Fatalf("senior removing newcomer: %v", err)
		}
		// The removed newcomer's caller as a websocket still holds it.
		if err := f.orgs.RemoveOrganiser(f.ctx, newbie, f.orgA, twin.UserID); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("a removed organiser's stale caller removing: %v", err)
		}
		if err := f.orgs.RemoveOrganiser(f.ctx, twin, f.orgA, twin.UserID); err != nil {
			t.Fatalf("stepping down: %v", err)
		}
		if err := f.orgs.RemoveOrganiser(f.ctx, f.olga, f.orgA, twin2.UserID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.orgs.RemoveOrganiser(f.ctx, f.olga, f.orgA, f.olga.UserID), organisation.CodeLastOrganiser)
		wantCode(t, f.orgs.RemoveOrganiser(f.ctx, f.olga, f.orgA, newbie.UserID), organisation.CodeNotOrganiser)
		if err := f.orgs.RemoveOrganiser(f.ctx, f.omar, f.orgA, f.olga.UserID); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser elsewhere: %v", err)
		}
		if err := f.orgs.RemoveOrganiser(f.ctx, f.boss, f.orgA, f.olga.UserID); err != nil {
			t.Errorf("secretariat removing the last: %v", err)
		}
	})
}

func isUserError(err error, code string) bool {
	for _, ue := range apperr.UserErrors(err) {
		if ue.Code == code {
			return true
		}
	}
	return false
}

// Migration 00009 turned organiser rights of unproven accounts into direct
// invitations with the organisers row's added_by, which may be NULL (as is
// invited_by once an inviter's row is gone): applying or accepting one
// records no adder rather than failing the sign-in.
func TestInvitationWithoutInviter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		direct, err := f.orgs.Invite(f.ctx, f.boss, organisation.InviteInput{OrganisationID: f.orgB, Email: "formand@ishoj.example"})
		if err != nil {
			t.Fatal(err)
		}
		vera := f.verified("vera")
		asked, err := f.orgs.Invite(f.ctx, f.boss, organisation.InviteInput{OrganisationID: f.orgA, UserID: vera.UserID})
		if err != nil || asked.Status != organisation.InvitationAccepted {
			t.Fatalf("secretariat inviting a verified account: %+v, %v", asked, err)
		}
		byOlga, err := f.orgs.Invite(f.ctx, f.olga, organisation.InviteInput{OrganisationID: f.orgA, Email: "kasserer@ishoj.example"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Exec(f.ctx, db, `UPDATE organiser_invitations SET invited_by = NULL WHERE id IN (?, ?)`, direct.ID, byOlga.ID); err != nil {
			t.Fatal(err)
		}
		owner := f.signIn(user.Identity{UID: "uid-formand", Email: "formand@ishoj.example", EmailVerified: true, Name: "Formand"})
		if !owner.Organises[f.orgB] {
			t.Error("the owner does not organise after proving the address")
		}
		kasserer := f.verified("kasserer")
		if _, err := f.orgs.AcceptInvitation(f.ctx, kasserer, byOlga.ID); err != nil {
			t.Fatalf("accepting an invitation whose inviter is gone: %v", err)
		}
		if !f.refresh(kasserer).Organises[f.orgA] {
			t.Error("not organiser after accepting")
		}
	})
}

// Answered, revoked and expired invitations go InvitationRetention after
// they were answered or lapsed; pending ones and recent answers stay.
func TestPurgeInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		now := time.Now().UTC()
		old := now.Add(-organisation.InvitationRetention - time.Hour)
		recent := now.Add(-time.Hour)
		rows := []struct {
			name               string
			status             string
			responded, expires *time.Time
			kept               bool
		}{
			{"declined long ago", "DECLINED", &old, ptr(old.Add(organisation.InvitationTTL)), false},
			{"accepted long ago", "ACCEPTED", &old, ptr(old.Add(organisation.InvitationTTL)), false},
			{"revoked long ago", "REVOKED", &old, ptr(old.Add(organisation.InvitationTTL)), false},
			{"expired long ago", "PENDING", nil, &old, false},
			{"declined lately", "DECLINED", &recent, ptr(now.Add(organisation.InvitationTTL)), true},
			{"expired lately", "PENDING", nil, &recent, true},
			{"still open", "PENDING", nil, ptr(now.Add(organisation.InvitationTTL)), true},
		}
		ids := map[string]int64{}
		for i, r := range rows {
			var id int64
			err := store.Get(f.ctx, db, &id, `INSERT INTO organiser_invitations
				(organisation_id, email, invited_by, status, created_at, expires_at, responded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				f.orgA, fmt.Sprintf("person%d@ishoj.example", i), f.olga.UserID, r.status, r.expires.Add(-organisation.InvitationTTL), *r.expires, r.responded)
			if err != nil {
				t.Fatal(err)
			}
			ids[r.name] = id
		}
		n, err := f.orgs.PurgeInvitations(f.ctx, now.Add(-organisation.InvitationRetention))
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("purged %d invitations, want 4", n)
		}
		for _, r := range rows {
			var left int
			if err := store.Get(f.ctx, db, &left, `SELECT COUNT(*) FROM organiser_invitations WHERE id = ?`, ids[r.name]); err != nil {
				t.Fatal(err)
			}
			if (left == 1) != r.kept {
				t.Errorf("%s: left %d, want kept %v", r.name, left, r.kept)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
