package user_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

type proofs struct {
	mu   sync.Mutex
	seen []string
}

func (p *proofs) hook(_ context.Context, _ *sqlx.Tx, userID int64, email string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, email)
	return nil
}

func (p *proofs) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func mustResolve(t *testing.T, s *user.Service, id user.Identity) user.Caller {
	t.Helper()
	c, err := s.Resolve(context.Background(), id)
	if err != nil {
		t.Fatalf("Resolve(%+v): %v", id, err)
	}
	return c
}

// The secretariat role granted to an address waits for an account that
// proves it; an unverified account for the address gets nothing.
func TestGrantSecretariatByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := user.NewService(db, clock.Real)
		p := &proofs{}
		s.OnEmailProven(p.hook)

		squatter := mustResolve(t, s, user.Identity{UID: "uid-squat", Email: "Chef@Ishoj.example"})
		_, pending, err := s.GrantSecretariat(ctx, "chef@ishoj.example", "")
		if err != nil || !pending {
			t.Fatalf("GrantSecretariat = pending %v, %v; want pending", pending, err)
		}
		if c := mustResolve(t, s, user.Identity{UID: "uid-squat", Email: "chef@ishoj.example"}); c.Secretariat {
			t.Fatal("the unverified account became secretariat")
		}
		// Another unverified account for the same address is told to verify.
		if _, err := s.Resolve(ctx, user.Identity{UID: "uid-squat-2", Email: "chef@ishoj.example"}); !errors.Is(err, user.ErrEmailNotVerified) {
			t.Fatalf("second unverified account: %v, want ErrEmailNotVerified", err)
		}
		// The owner signs in with the address verified (a new Firebase
		// account): the address moves to them, and so does the grant.
		owner := mustResolve(t, s, user.Identity{UID: "uid-owner", Email: "chef@ishoj.example", EmailVerified: true, Name: "Chefen"})
		if !owner.Secretariat || owner.UserID == squatter.UserID {
			t.Fatalf("owner: %+v (squatter %d)", owner, squatter.UserID)
		}
		rows, err := s.ByIDs(ctx, user.Caller{UserID: squatter.UserID}, []int64{squatter.UserID})
		if err != nil || len(rows) != 1 || rows[0].Email != nil || rows[0].Role != user.RoleResident {
			t.Errorf("the squatter's row: %+v, %v", rows, err)
		}
		var left int
		if err := store.Get(ctx, db, &left, `SELECT COUNT(*) FROM secretariat_grants`); err != nil || left != 0 {
			t.Errorf("pending grants left: %d, %v", left, err)
		}
		if p.count() != 1 || p.seen[0] != "chef@ishoj.example" {
			t.Errorf("proofs: %v", p.seen)
		}
		// Asking again costs no write and tells no hook.
		mustResolve(t, s, user.Identity{UID: "uid-owner", Email: "chef@ishoj.example", EmailVerified: true, Name: "Chefen"})
		if p.count() != 1 {
			t.Errorf("proofs after a repeat sign-in: %v", p.seen)
		}

		// An address already proven is granted at once; a uid too.
		mustResolve(t, s, user.Identity{UID: "uid-two", Email: "to@ishoj.example", EmailVerified: true})
		u, pending, err := s.GrantSecretariat(ctx, "to@ishoj.example", "")
		if err != nil || pending || u.Role != user.RoleSecretariat {
			t.Errorf("grant to a proven address: %+v %v %v", u, pending, err)
		}
		u, pending, err = s.GrantSecretariat(ctx, "", "uid-later")
		if err != nil || pending || u.Role != user.RoleSecretariat {
			t.Errorf("grant by uid: %+v %v %v", u, pending, err)
		}
		if c := mustResolve(t, s, user.Identity{UID: "uid-later"}); !c.Secretariat || c.UserID != u.ID {
			t.Errorf("first sign-in of the granted uid: %+v", c)
		}
		if _, _, err := s.GrantSecretariat(ctx, "not an address", ""); err == nil {
			t.Error("granted to something that is not an address")
		}

		// Verifying the address on the same Firebase account applies a
		// grant made while it was unverified.
		mustResolve(t, s, user.Identity{UID: "uid-slow", Email: "langsom@ishoj.example"})
		if _, pending, _ := s.GrantSecretariat(ctx, "langsom@ishoj.example", ""); !pending {
			t.Error("grant to an unverified account's address was not pending")
		}
		if c := mustResolve(t, s, user.Identity{UID: "uid-slow", Email: "langsom@ishoj.example", EmailVerified: true}); !c.Secretariat {
			t.Error("verifying the address did not apply the grant")
		}
	})
}

// A person whose Firebase uid changes while the address stays is the same
// person when both prove it; otherwise the new account is told to verify.
func TestNewUIDForKnownEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := user.NewService(db, clock.Real)
		first := mustResolve(t, s, user.Identity{UID: "uid-1", Email: "karin@ishoj.example", EmailVerified: true, Name: "Karin"})
		if _, err := s.Resolve(ctx, user.Identity{UID: "uid-2", Email: "karin@ishoj.example"}); !errors.Is(err, user.ErrEmailNotVerified) {
			t.Fatalf("unverified new uid: %v", err)
		}
		second := mustResolve(t, s, user.Identity{UID: "uid-3", Email: "karin@ishoj.example", EmailVerified: true})
		if second.UserID != first.UserID {
			t.Fatalf("new verified uid is user %d, want %d", second.UserID, first.UserID)
		}
		u, err := own(ctx, s, first.UserID)
		if err != nil || *u.FirebaseUID != "uid-3" || u.DisplayName != "Karin" {
			t.Errorf("linked row: %+v, %v", u, err)
		}
		// The old uid, should it come back, is the same person again.
		if again := mustResolve(t, s, user.Identity{UID: "uid-1", Email: "karin@ishoj.example", EmailVerified: true}); again.UserID != first.UserID {
			t.Errorf("old uid back: user %d", again.UserID)
		}

		// Changing one's address in Firebase to one another account holds:
		// refused until proven, then taken.
		other := mustResolve(t, s, user.Identity{UID: "uid-o", Email: "o@ishoj.example"})
		if _, err := s.Resolve(ctx, user.Identity{UID: "uid-1", Email: "o@ishoj.example"}); !errors.Is(err, user.ErrEmailNotVerified) {
			t.Errorf("unproven change to a taken address: %v", err)
		}
		mustResolve(t, s, user.Identity{UID: "uid-1", Email: "o@ishoj.example", EmailVerified: true})
		o, _ := own(ctx, s, other.UserID)
		k, _ := own(ctx, s, first.UserID)
		if o.Email != nil || k.Email == nil || *k.Email != "o@ishoj.example" {
			t.Errorf("after the proven change: other %v, karin %v", o.Email, k.Email)
		}

		// A name in the token that could not be typed in the app is not taken.
		c := mustResolve(t, s, user.Identity{UID: "uid-rlo", Email: "rlo@ishoj.example", EmailVerified: true, Name: "\u202e\u200b"})
		if u, _ := own(ctx, s, c.UserID); u.DisplayName != "" {
			t.Errorf("display name from token: %q", u.DisplayName)
		}
	})
}

// own reads a person's row as they see themself.
func own(ctx context.Context, s *user.Service, id int64) (user.User, error) {
	rows, err := s.ByIDs(ctx, user.Caller{UserID: id}, []int64{id})
	if err != nil {
		return user.User{}, err
	}
	if len(rows) != 1 {
		return user.User{}, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
	}
	return rows[0], nil
}

// A first sign-in takes the display name from the token's name claim;
// without a valid one the person may browse but not do what shows them
// to others (NAME_REQUIRED) until they set one or a later token has one.
func TestDisplayNameAtFirstSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := user.NewService(db, clock.Real)
		// Each person answers the age question first, as the app asks at
		// sign-up; before that the first refusal is AGE_REQUIRED.
		answered := func(id user.Identity) user.Caller {
			t.Helper()
			c := mustResolve(t, s, id)
			if c.AgeAnswered {
				return c
			}
			var ue *apperr.UserError
			if err := c.RequireShown(); !id.Anonymous && (!errors.As(err, &ue) || ue.Code != user.CodeAgeRequired) {
				t.Errorf("%s before answering the age question: %v", id.UID, err)
			}
			if _, err := s.UpdateProfile(ctx, c, user.ProfileInput{AgeGroup: ptr(user.AgeAtLeast13)}, nil); err != nil {
				t.Fatal(err)
			}
			c, err := s.Caller(ctx, c.UserID)
			if err != nil || !c.AgeAnswered {
				t.Fatalf("after answering: %+v %v", c, err)
			}
			return c
		}
		nameRequired := func(c user.Caller) bool {
			var ue *apperr.UserError
			return errors.As(c.RequireShown(), &ue) && ue.Code == user.CodeNameRequired
		}

		named := answered(user.Identity{UID: "uid-g", Email: "g@ishoj.example", EmailVerified: true, Name: "  Gülşen Yılmaz "})
		if u, _ := own(ctx, s, named.UserID); u.DisplayName != "Gülşen Yılmaz" || !named.Named || named.RequireShown() != nil {
			t.Errorf("named token: name %q, caller %+v, RequireShown %v", u.DisplayName, named, named.RequireShown())
		}

		bare := answered(user.Identity{UID: "uid-b", Email: "b@ishoj.example", EmailVerified: true})
		if bare.Named || !nameRequired(bare) {
			t.Errorf("token without a name: caller %+v, RequireShown %v", bare, bare.RequireShown())
		}
		if err := bare.RequireVerified(); err != nil {
			t.Errorf("without a name the person is still verified: %v", err)
		}
		// An invisible name is no name.
		if c := answered(user.Identity{UID: "uid-z", Email: "z@ishoj.example", EmailVerified: true, Name: "\u200b\u3164"}); !nameRequired(c) {
			t.Errorf("invisible token name: %+v", c)
		}
		// An anonymous account is refused for what it is, not for its name.
		anon := answered(user.Identity{UID: "uid-a", Anonymous: true})
		var ue *apperr.UserError
		if err := anon.RequireShown(); !errors.As(err, &ue) || ue.Code != apperr.CodeVerifiedAccountRequired {
			t.Errorf("anonymous: %v", err)
		}

		// Setting a name in the app lets them act.
		if _, err := s.UpdateProfile(ctx, bare, user.ProfileInput{DisplayName: ptr("   ")}, nil); err == nil {
			t.Error("a blank name was accepted")
		}
		if _, err := s.UpdateProfile(ctx, bare, user.ProfileInput{DisplayName: ptr("Bo")}, nil); err != nil {
			t.Fatal(err)
		}
		if c := answered(user.Identity{UID: "uid-b", Email: "b@ishoj.example", EmailVerified: true}); !c.Named || c.RequireShown() != nil {
			t.Errorf("after updateMe: %+v", c)
		}

		// A person without a name whose later token carries one (they gave
		// Firebase a name) takes it; a name they chose is never replaced.
		late := answered(user.Identity{UID: "uid-l", Email: "l@ishoj.example", EmailVerified: true})
		if c := answered(user.Identity{UID: "uid-l", Email: "l@ishoj.example", EmailVerified: true, Name: "Lis"}); !c.Named {
			t.Errorf("later token with a name: %+v", c)
		}
		answered(user.Identity{UID: "uid-b", Email: "b@ishoj.example", EmailVerified: true, Name: "Firebase-navn"})
		if u, _ := own(ctx, s, bare.UserID); u.DisplayName != "Bo" {
			t.Errorf("a chosen name was replaced by the token's: %q", u.DisplayName)
		}
		if u, _ := own(ctx, s, late.UserID); u.DisplayName != "Lis" {
			t.Errorf("late name: %q", u.DisplayName)
		}
	})
}

// Texts never show an empty name: the stand-in is in the reader's language.
func TestShownName(t *testing.T) {
	for _, c := range []struct{ lang, name, want string }{
		{"da", "Bo", "Bo"}, {"da", "", "En frivillig"}, {"en", "", "A volunteer"}, {"da", "  ", "En frivillig"}, {"xx", "", "En frivillig"},
	} {
		if got := user.ShownName(c.lang, c.name); got != c.want {
			t.Errorf("ShownName(%q, %q) = %q, want %q", c.lang, c.name, got, c.want)
		}
	}
	for _, lang := range []string{"ar", "tr", "ur"} {
		if got := user.ShownName(lang, ""); got == "" || got == "person.unnamed" || got == "En frivillig" {
			t.Errorf("ShownName(%q, \"\") = %q, want a translation", lang, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }
