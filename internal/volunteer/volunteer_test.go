package volunteer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

func ptr[T any](v T) *T { return &v }

func TestAddSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		start, end := at(1, 10, 0), at(1, 14, 0)

		sl := f.slot(start, end, 2, func(in *NewSlot) {
			in.Title = "  Åbn Havhytten  "
			in.Requirement = ChildCertificate
			in.SignupOpensAt = ptr(at(0, 7, 0))
			in.SignupClosesAt = ptr(at(1, 9, 0))
			in.CancelDeadline = ptr(at(1, 8, 0))
		})
		if sl.Title != "Åbn Havhytten" || !sl.StartsAt.Equal(start) || !sl.EndsAt.Equal(end) || sl.Capacity != 2 ||
			sl.Taken != 0 || sl.SpotsLeft() != 2 || sl.Requirement == nil || *sl.Requirement != ChildCertificate ||
			sl.CancelDeadline == nil || !sl.CancelDeadline.Equal(at(1, 8, 0)) || sl.CreatedBy == nil || *sl.CreatedBy != f.organiser.UserID {
			t.Errorf("AddSlot stored %+v", sl)
		}
		if got := f.events(event.SlotChanged); len(got) != 1 || got[0].SlotID != sl.ID || got[0].ActivityID != f.activityID {
			t.Errorf("SlotChanged events = %+v", got)
		}

		valid := NewSlot{ActivityID: f.activityID, Title: "Vagt", StartsAt: start, EndsAt: end, Capacity: 2}
		cases := []struct {
			name  string
			mod   func(*NewSlot)
			code  string
			field string
		}{
			{"empty title", func(in *NewSlot) { in.Title = "  " }, apperr.CodeRequired, "title"},
			{"long title", func(in *NewSlot) { in.Title = strings.Repeat("ø", MaxTitle+1) }, apperr.CodeTooLong, "title"},
			{"long description", func(in *NewSlot) { in.Description = strings.Repeat("x", MaxDescription+1) }, apperr.CodeTooLong, "description"},
			{"no start", func(in *NewSlot) { in.StartsAt = time.Time{} }, apperr.CodeRequired, "startsAt"},
			{"start in past", func(in *NewSlot) { in.StartsAt = at(0, 7, 0) }, CodeInPast, "startsAt"},
			{"ends before starts", func(in *NewSlot) { in.EndsAt = start }, CodeEndsBeforeStarts, "endsAt"},
			{"too long", func(in *NewSlot) { in.EndsAt = start.Add(25 * time.Hour) }, CodeSlotTooLong, "endsAt"},
			{"capacity 0", func(in *NewSlot) { in.Capacity = 0 }, CodeOutOfRange, "capacity"},
			{"capacity 501", func(in *NewSlot) { in.Capacity = 501 }, CodeOutOfRange, "capacity"},
			{"unknown requirement", func(in *NewSlot) { in.Requirement = "PILOT_LICENCE" }, CodeUnknownRequirement, "requirement"},
			{"opens after closes", func(in *NewSlot) { in.SignupOpensAt, in.SignupClosesAt = ptr(at(1, 9, 0)), ptr(at(1, 8, 0)) },
				CodeInvalidSignupWindow, "signupClosesAt"},
			{"closes after start", func(in *NewSlot) { in.SignupClosesAt = ptr(at(1, 11, 0)) }, CodeInvalidSignupWindow, "signupClosesAt"},
			{"opens after start", func(in *NewSlot) { in.SignupOpensAt = ptr(at(1, 11, 0)) }, CodeInvalidSignupWindow, "signupOpensAt"},
			{"deadline after start", func(in *NewSlot) { in.CancelDeadline = ptr(at(1, 11, 0)) }, CodeInvalidCancelDeadline, "cancelDeadline"},
			{"unknown occurrence", func(in *NewSlot) { in.OccurrenceStartsAt = ptr(at(5, 10, 0)) }, CodeOccurrenceNotFound, "occurrenceStartsAt"},
			{"unknown activity", func(in *NewSlot) { in.ActivityID = 999999 }, CodeActivityNotFound, "activityId"},
		}
		for _, c := range cases {
			in := valid
			c.mod(&in)
			_, err := f.svc.AddSlot(f.ctx, f.organiser, in)
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			wantCode(t, err, c.code, c.field)
		}

		// All problems of a form come back together.
		_, err := f.svc.AddSlot(f.ctx, f.organiser, NewSlot{ActivityID: f.activityID, StartsAt: start, EndsAt: start, Capacity: 0})
		if n := len(apperr.UserErrors(err)); n != 3 {
			t.Errorf("got %d errors (%v), want title, endsAt and capacity", n, err)
		}

		// An existing occurrence is accepted.
		f.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, f.activityID, at(1, 10, 0).UTC(), at(1, 14, 0).UTC())
		in := valid
		in.OccurrenceStartsAt = ptr(at(1, 10, 0))
		if _, err := f.svc.AddSlot(f.ctx, f.organiser, in); err != nil {
			t.Errorf("slot on an occurrence: %v", err)
		}

		// Only organisers of the activity's organisation and the secretariat.
		stranger := f.user("Stranger")
		if _, err := f.svc.AddSlot(f.ctx, stranger, valid); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("stranger: %v, want forbidden", err)
		}
		other := f.user("Other organiser")
		f.makeOrganiser(&other, f.org("Ældresagen"))
		if _, err := f.svc.AddSlot(f.ctx, other, valid); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser of another organisation: %v, want forbidden", err)
		}
		if _, err := f.svc.AddSlot(f.ctx, user.Caller{}, valid); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor: %v, want unauthenticated", err)
		}
		secretariat := f.user("Kommunikation")
		secretariat.Secretariat = true
		if _, err := f.svc.AddSlot(f.ctx, secretariat, valid); err != nil {
			t.Errorf("secretariat: %v", err)
		}

		// No slots on a cancelled activity.
		cancelled := f.activity(f.orgID, "CANCELLED")
		in = valid
		in.ActivityID = cancelled
		_, err = f.svc.AddSlot(f.ctx, f.organiser, in)
		wantCode(t, err, CodeActivityCancelled, "activityId")
	})
}

func TestClaimRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol := f.user("Frivillig")

		// Authentication and input.
		sl := f.slot(at(1, 10, 0), at(1, 12, 0), 1)
		if _, err := f.svc.Claim(f.ctx, user.Caller{}, sl.ID, "k"); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Errorf("visitor: %v", err)
		}
		anon := f.user("Anonym")
		anon.Verified = false
		_, err := f.svc.Claim(f.ctx, anon, sl.ID, "k")
		wantCode(t, err, apperr.CodeVerifiedAccountRequired)
		_, err = f.svc.Claim(f.ctx, vol, sl.ID, "  ")
		wantCode(t, err, apperr.CodeRequired, "idempotencyKey")
		_, err = f.svc.Claim(f.ctx, vol, sl.ID, strings.Repeat("k", MaxIdempotencyKey+1))
		wantCode(t, err, apperr.CodeTooLong, "idempotencyKey")
		_, err = f.svc.Claim(f.ctx, vol, 999999, f.key())
		wantCode(t, err, CodeSlotNotFound, "slotId")

		// Confirmed while there is room, waitlisted after.
		c := f.claim(vol, sl.ID)
		if c.Status != Confirmed || c.WaitlistPosition != nil || c.ConfirmedAt == nil || c.UserID != vol.UserID || c.CreatedBy == nil || *c.CreatedBy != vol.UserID {
			t.Errorf("first claim = %+v", c)
		}
		second, third := f.user("B"), f.user("C")
		w1, w2 := f.claim(second, sl.ID), f.claim(third, sl.ID)
		if w1.Status != Waitlisted || w1.WaitlistPosition == nil || *w1.WaitlistPosition != 1 ||
			w2.Status != Waitlisted || w2.WaitlistPosition == nil || *w2.WaitlistPosition != 2 || w1.ConfirmedAt != nil {
			t.Errorf("waitlisted claims = %+v, %+v", w1, w2)
		}
		if got, want := len(f.events(event.ClaimConfirmed)), 1; got != want {
			t.Errorf("%d ClaimConfirmed events, want %d", got, want)
		}
		if got := f.events(event.ClaimWaitlisted); len(got) != 2 || got[0].ClaimID != w1.ID || got[0].UserID != second.UserID || got[0].OrganisationID != f.orgID {
			t.Errorf("ClaimWaitlisted events = %+v", got)
		}

		// ALREADY_CLAIMED with a new key, whether confirmed or waitlisted.
		_, err = f.svc.Claim(f.ctx, vol, sl.ID, f.key())
		wantCode(t, err, CodeAlreadyClaimed, "slotId")
		_, err = f.svc.Claim(f.ctx, second, sl.ID, f.key())
		wantCode(t, err, CodeAlreadyClaimed, "slotId")

		// A draft's slot does not exist for volunteers; its organisers may try it out.
		draft := f.activity(f.orgID, "DRAFT")
		ds, err := f.svc.AddSlot(f.ctx, f.organiser, NewSlot{ActivityID: draft, Title: "Prøve", StartsAt: at(2, 10, 0), EndsAt: at(2, 11, 0), Capacity: 3})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Claim(f.ctx, vol, ds.ID, f.key())
		wantCode(t, err, CodeSlotNotFound, "slotId")
		if _, err := f.svc.Claim(f.ctx, f.organiser, ds.ID, f.key()); err != nil {
			t.Errorf("organiser on own draft: %v", err)
		}

		// A cancelled activity.
		cs := f.slot(at(3, 10, 0), at(3, 11, 0), 3)
		f.exec(`UPDATE activities SET status = 'CANCELLED' WHERE id = ?`, f.activityID)
		_, err = f.svc.Claim(f.ctx, vol, cs.ID, f.key())
		wantCode(t, err, CodeActivityCancelled, "slotId")
		f.exec(`UPDATE activities SET status = 'PUBLISHED' WHERE id = ?`, f.activityID)

		// Sign-up window.
		win := f.slot(at(4, 10, 0), at(4, 11, 0), 3, func(in *NewSlot) {
			in.SignupOpensAt, in.SignupClosesAt = ptr(at(2, 0, 0)), ptr(at(3, 0, 0))
		})
		_, err = f.svc.Claim(f.ctx, vol, win.ID, f.key())
		wantCode(t, err, CodeSignupNotOpen, "slotId")
		f.clock.Set(at(3, 0, 0))
		_, err = f.svc.Claim(f.ctx, vol, win.ID, f.key())
		wantCode(t, err, CodeSignupClosed, "slotId")
		f.clock.Set(at(2, 12, 0))
		f.claim(vol, win.ID)

		// A slot that has started.
		f.clock.Set(at(1, 10, 0))
		_, err = f.svc.Claim(f.ctx, f.user("Late"), sl.ID, f.key())
		wantCode(t, err, CodeSlotInPast, "slotId")
		f.clock.Set(at(0, 8, 0))
	})
}

func TestOverlapAndDailyLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol := f.user("Frivillig")

		morning := f.slot(at(1, 10, 0), at(1, 14, 0), 5)
		f.claim(vol, morning.ID)

		// Overlapping another confirmed claim, even by a minute, is refused,
		// also when the new slot is full (no queueing for a busy time).
		overlapping := f.slot(at(1, 13, 59), at(1, 15, 0), 5)
		_, err := f.svc.Claim(f.ctx, vol, overlapping.ID, f.key())
		wantCode(t, err, CodeOverlapsOtherClaim, "slotId")
		fullOverlap := f.slot(at(1, 9, 0), at(1, 11, 0), 1)
		f.claim(f.user("Other"), fullOverlap.ID)
		_, err = f.svc.Claim(f.ctx, vol, fullOverlap.ID, f.key())
		wantCode(t, err, CodeOverlapsOtherClaim, "slotId")
		// Back to back is fine: 14:00-17:00, 7 hours that day.
		afternoon := f.slot(at(1, 14, 0), at(1, 17, 0), 5)
		f.claim(vol, afternoon.ID)

		// 22:00-01:00 puts 2 hours on this day: 9 > 8.
		evening := f.slot(at(1, 22, 0), at(2, 1, 0), 5)
		_, err = f.svc.Claim(f.ctx, vol, evening.ID, f.key())
		wantCode(t, err, CodeDailyLimitReached, "slotId")
		// 23:00-03:00 puts 1 hour on this day (8 exactly) and 3 on the next.
		night := f.slot(at(1, 23, 0), at(2, 3, 0), 5)
		f.claim(vol, night.ID)
		// The next day now has 3 hours; 6 more would be 9.
		nextDay := f.slot(at(2, 10, 0), at(2, 16, 0), 5)
		_, err = f.svc.Claim(f.ctx, vol, nextDay.ID, f.key())
		wantCode(t, err, CodeDailyLimitReached, "slotId")
		shorter := f.slot(at(2, 10, 0), at(2, 15, 0), 5)
		f.claim(vol, shorter.ID)

		// Waitlisted claims do not count towards the limit or overlaps.
		full := f.slot(at(5, 10, 0), at(5, 17, 0), 1)
		f.claim(f.user("Taker"), full.ID)
		w := f.claim(vol, full.ID)
		if w.Status != Waitlisted {
			t.Fatalf("status %s, want WAITLISTED", w.Status)
		}
		sameTime := f.slot(at(5, 10, 0), at(5, 12, 0), 3)
		f.claim(vol, sameTime.ID)

		// The day is the Copenhagen day: on the DST change night (25-26
		// October 2026, a 25-hour day) hours still add up per local date.
		d1 := f.slot(time.Date(2026, 10, 25, 0, 0, 0, 0, cph), time.Date(2026, 10, 25, 4, 0, 0, 0, cph), 5)
		d2 := f.slot(time.Date(2026, 10, 25, 20, 0, 0, 0, cph), time.Date(2026, 10, 26, 0, 0, 0, 0, cph), 5)
		f.claim(vol, d1.ID) // 5 real hours: the clocks go back at 03:00
		_, err = f.svc.Claim(f.ctx, vol, d2.ID, f.key())
		wantCode(t, err, CodeDailyLimitReached, "slotId")

		// A configured limit.
		strict := NewService(db, f.rec, Config{DailyLimit: 2 * time.Hour, Now: f.clock.Now})
		long := f.slot(at(7, 10, 0), at(7, 13, 0), 5)
		_, err = strict.Claim(f.ctx, f.user("Strict"), long.ID, f.key())
		wantCode(t, err, CodeDailyLimitReached, "slotId")
		checkInvariants(t, f)
	})
}

func TestRequirement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol := f.user("Frivillig")
		kids := f.slot(at(6, 10, 0), at(6, 14, 0), 5, func(in *NewSlot) { in.Requirement = ChildCertificate })
		record := func(c user.Caller, in QualificationInput) error {
			_, err := f.svc.RecordQualification(f.ctx, c, in)
			return err
		}
		cert := func(userID int64, expires time.Time) QualificationInput {
			return QualificationInput{UserID: userID, Requirement: ChildCertificate, ExpiresAt: &expires}
		}

		_, err := f.svc.Claim(f.ctx, vol, kids.ID, f.key())
		wantCode(t, err, CodeRequirementNotMet, "slotId")

		// Who may record it: not the volunteer, not an organiser for
		// themself, and an organiser elsewhere only for their own
		// organisation.
		if err := record(vol, cert(vol.UserID, at(400, 0, 0))); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer recording own certificate: %v", err)
		}
		wantCode(t, record(f.organiser, cert(f.organiser.UserID, at(400, 0, 0))), CodeOwnQualification, "userId")
		other := f.user("Organiser elsewhere")
		elsewhere := f.org("Ungerådet")
		f.makeOrganiser(&other, elsewhere)
		forHere := cert(vol.UserID, at(400, 0, 0))
		forHere.OrganisationID = f.orgID
		if err := record(other, forHere); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("organiser of another organisation recording for this one: %v", err)
		}
		if err := record(other, cert(vol.UserID, at(400, 0, 0))); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Claim(f.ctx, vol, kids.ID, f.key())
		wantCode(t, err, CodeRequirementNotMet, "slotId")

		// Bad input.
		wantCode(t, record(f.organiser, QualificationInput{UserID: vol.UserID, Requirement: "NOPE"}), CodeUnknownRequirement, "requirement")
		wantCode(t, record(f.organiser, cert(vol.UserID, at(0, 7, 0))), CodeInPast, "expiresAt")
		wantCode(t, record(f.organiser, cert(vol.UserID, at(0, 0, 0).AddDate(6, 0, 0))), CodeValidityTooLong, "expiresAt")
		tomorrow := at(1, 8, 0)
		wantCode(t, record(f.organiser, QualificationInput{UserID: vol.UserID, Requirement: ChildCertificate, CheckedAt: &tomorrow}), CodeInFuture, "checkedAt")
		wantCode(t, record(f.organiser, cert(999999, at(400, 0, 0))), CodeUserNotFound, "userId")
		two := f.user("Two hats")
		f.makeOrganiser(&two, f.orgID)
		f.makeOrganiser(&two, elsewhere)
		wantCode(t, record(two, cert(vol.UserID, at(400, 0, 0))), apperr.CodeRequired, "organisationId")

		// Expiring before the slot ends is not enough.
		if err := record(f.organiser, cert(vol.UserID, at(6, 12, 0))); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Claim(f.ctx, vol, kids.ID, f.key())
		wantCode(t, err, CodeRequirementNotMet, "slotId")

		// Renewed by this organisation's organiser, with the date it was
		// checked: now accepted.
		checked := at(0, 7, 30)
		renewed := cert(vol.UserID, at(400, 0, 0))
		renewed.CheckedAt = &checked
		q, err := f.svc.RecordQualification(f.ctx, f.organiser, renewed)
		if err != nil || q.OrganisationID != f.orgID || !q.CheckedAt.Equal(checked) {
			t.Fatalf("RecordQualification = %+v, %v", q, err)
		}
		qs, err := f.svc.Qualifications(f.ctx, vol, vol.UserID)
		if err != nil || len(qs) != 2 {
			t.Fatalf("own qualifications = %+v, %v; want the two organisations' records", qs, err)
		}
		for _, q := range qs {
			if q.OrganisationID == f.orgID && (!q.ExpiresAt.Equal(at(400, 0, 0)) || !q.CheckedAt.Equal(checked) || *q.RecordedBy != f.organiser.UserID) {
				t.Errorf("this organisation's record: %+v", q)
			}
		}
		// Each organiser sees their organisation's record only.
		if qs, err := f.svc.Qualifications(f.ctx, other, vol.UserID); err != nil || len(qs) != 1 || qs[0].OrganisationID != elsewhere {
			t.Errorf("qualifications as seen by the other organisation: %+v, %v", qs, err)
		}
		if c := f.claim(vol, kids.ID); c.Status != Confirmed {
			t.Errorf("status %s", c.Status)
		}

		// A default expiry is two years after the check.
		q, err = f.svc.RecordQualification(f.ctx, f.organiser, QualificationInput{UserID: other.UserID, Requirement: FirstAid})
		if err != nil || !q.ExpiresAt.Equal(q.CheckedAt.AddDate(DefaultValidity, 0, 0)) {
			t.Errorf("default expiry: %+v, %v", q, err)
		}
	})
}

// The waitlist is promoted only to people whose record from the slot's
// organisation is still good for the slot: a revoked one or one from
// another organisation is passed over.
func TestRequirementOnPromotion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		kids := f.slot(at(6, 10, 0), at(6, 14, 0), 1, func(in *NewSlot) { in.Requirement = ChildCertificate })
		first, revoked, ok := f.user("Første"), f.user("Tilbagekaldt"), f.user("Godkendt")
		for _, v := range []user.Caller{first, revoked, ok} {
			exp := at(400, 0, 0)
			if _, err := f.svc.RecordQualification(f.ctx, f.organiser, QualificationInput{UserID: v.UserID, Requirement: ChildCertificate, ExpiresAt: &exp}); err != nil {
				t.Fatal(err)
			}
		}
		c1 := f.claim(first, kids.ID)
		c2 := f.claim(revoked, kids.ID)
		c3 := f.claim(ok, kids.ID)
		if c1.Status != Confirmed || c2.Status != Waitlisted || c3.Status != Waitlisted {
			t.Fatalf("statuses %s %s %s", c1.Status, c2.Status, c3.Status)
		}
		// The second learns something and withdraws the record; the other
		// organisation's record does not stand in for it.
		elsewhere := f.org("Ungerådet")
		boss := user.Caller{UserID: f.user("Sekretariat").UserID, Verified: true, Secretariat: true}
		exp := at(400, 0, 0)
		if _, err := f.svc.RecordQualification(f.ctx, boss, QualificationInput{UserID: revoked.UserID, OrganisationID: elsewhere,
			Requirement: ChildCertificate, ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
		if removed, err := f.svc.RevokeQualification(f.ctx, f.organiser, revoked.UserID, f.orgID, ChildCertificate); err != nil || !removed {
			t.Fatalf("RevokeQualification = %v, %v", removed, err)
		}
		if _, err := f.svc.CancelClaim(f.ctx, first, c1.ID); err != nil {
			t.Fatal(err)
		}
		roster, err := f.svc.Roster(f.ctx, f.organiser, kids.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]string{}
		for _, c := range roster {
			got[c.UserID] = c.Status
		}
		if got[ok.UserID] != Confirmed || got[revoked.UserID] != Waitlisted {
			t.Errorf("after the cancellation: %v; want %d confirmed and %d still waiting", got, ok.UserID, revoked.UserID)
		}
		checkInvariants(t, f)
	})
}

func TestIdempotency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol := f.user("Frivillig")
		sl := f.slot(at(1, 10, 0), at(1, 12, 0), 3)
		other := f.slot(at(2, 10, 0), at(2, 12, 0), 3)

		// Ten identical calls at once: one claim, the same answer for all.
		const n = 10
		results := make([]Claim, n)
		errs := make([]error, n)
		start := make(chan struct{})
		done := make(chan int)
		for i := range n {
			go func() {
				<-start
				results[i], errs[i] = f.svc.Claim(f.ctx, vol, sl.ID, "tap-1")
				done <- i
			}()
		}
		close(start)
		for range n {
			<-done
		}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if results[i].ID != results[0].ID || results[i].Status != Confirmed {
				t.Errorf("call %d returned claim %d %s, call 0 claim %d", i, results[i].ID, results[i].Status, results[0].ID)
			}
		}
		var claims int
		if err := store.Get(f.ctx, db, &claims, `SELECT COUNT(*) FROM slot_claims WHERE user_id = ?`, vol.UserID); err != nil || claims != 1 {
			t.Errorf("%d claims (%v), want 1", claims, err)
		}
		if got := len(f.events(event.ClaimConfirmed)); got != 1 {
			t.Errorf("%d ClaimConfirmed events, want 1", got)
		}
		sl, _ = f.svc.Slot(f.ctx, f.organiser, sl.ID)
		if sl.Taken != 1 {
			t.Errorf("taken = %d, want 1", sl.Taken)
		}

		// The same key for another slot is a mistake.
		_, err := f.svc.Claim(f.ctx, vol, other.ID, "tap-1")
		wantCode(t, err, CodeIdempotencyKeyReused, "idempotencyKey")
		// Another person may use the same key string.
		if c, err := f.svc.Claim(f.ctx, f.user("Other"), sl.ID, "tap-1"); err != nil || c.ID == results[0].ID {
			t.Errorf("other person's key: %+v, %v", c, err)
		}

		// A retry returns the claim as it is now.
		if _, err := f.svc.CancelClaim(f.ctx, vol, results[0].ID); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Claim(f.ctx, vol, sl.ID, "tap-1")
		if err != nil || c.ID != results[0].ID || c.Status != Cancelled {
			t.Errorf("retry after cancel: %+v, %v", c, err)
		}

		// A refusal is replayed for the same key even when things changed;
		// a new tap is judged afresh.
		win := f.slot(at(4, 10, 0), at(4, 11, 0), 3, func(in *NewSlot) { in.SignupOpensAt = ptr(at(1, 0, 0)) })
		_, err = f.svc.Claim(f.ctx, vol, win.ID, "tap-2")
		wantCode(t, err, CodeSignupNotOpen, "slotId")
		f.clock.Set(at(2, 0, 0))
		_, err = f.svc.Claim(f.ctx, vol, win.ID, "tap-2")
		wantCode(t, err, CodeSignupNotOpen, "slotId")
		if c, err := f.svc.Claim(f.ctx, vol, win.ID, "tap-3"); err != nil || c.Status != Confirmed {
			t.Errorf("new tap: %+v, %v", c, err)
		}

		// Keys are kept until purged.
		var keys int
		if err := store.Get(f.ctx, db, &keys, `SELECT COUNT(*) FROM idempotency_keys`); err != nil || keys != 4 {
			t.Fatalf("%d keys (%v), want 4", keys, err)
		}
		f.exec(`UPDATE idempotency_keys SET created_at = ? WHERE key = 'tap-2'`, at(-2, 0, 0).UTC())
		purged, err := f.svc.PurgeIdempotencyKeys(f.ctx, at(-1, 0, 0))
		if err != nil || purged != 1 {
			t.Errorf("purged %d (%v), want 1", purged, err)
		}
		// Once forgotten, the key is judged afresh.
		if c, err := f.svc.Claim(f.ctx, vol, win.ID, "tap-2"); !isUserError(err) {
			t.Errorf("after purge: %+v, %v; want ALREADY_CLAIMED", c, err)
		} else {
			wantCode(t, err, CodeAlreadyClaimed, "slotId")
		}
	})
}

func TestCancelAndPromote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b, c, d := f.user("A"), f.user("B"), f.user("C"), f.user("D")
		sl := f.slot(at(2, 10, 0), at(2, 12, 0), 1, func(in *NewSlot) { in.CancelDeadline = ptr(at(1, 10, 0)) })
		ca := f.claim(a, sl.ID)
		cb := f.claim(b, sl.ID)
		cc := f.claim(c, sl.ID)
		cd := f.claim(d, sl.ID)

		// Who may cancel: someone else's claim is not there for them, the
		// same answer as an id that does not exist.
		_, err := f.svc.CancelClaim(f.ctx, b, ca.ID)
		wantCode(t, err, CodeClaimNotFound, "claimId")
		_, err = f.svc.CancelClaim(f.ctx, a, 999999)
		wantCode(t, err, CodeClaimNotFound, "claimId")

		// B confirms an overlapping shift while queueing, so when A leaves
		// B is passed over (and stays first in the queue) and C is promoted.
		elsewhere := f.slot(at(2, 11, 0), at(2, 13, 0), 2)
		f.claim(b, elsewhere.ID)
		f.resetEvents()
		got, err := f.svc.CancelClaim(f.ctx, a, ca.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != Cancelled || got.CancelledAt == nil || got.LateCancel {
			t.Errorf("cancelled claim = %+v", got)
		}
		claims, _ := f.svc.ClaimsByIDs(f.ctx, f.organiser, []int64{cb.ID, cc.ID, cd.ID})
		byID := map[int64]Claim{}
		for _, x := range claims {
			byID[x.ID] = x
		}
		if x := byID[cc.ID]; x.Status != Confirmed || x.PromotedAt == nil || x.ConfirmedAt == nil {
			t.Errorf("C = %+v, want promoted", x)
		}
		if x := byID[cb.ID]; x.Status != Waitlisted || *x.WaitlistPosition != 1 {
			t.Errorf("B = %+v, want waitlisted first", x)
		}
		if x := byID[cd.ID]; x.Status != Waitlisted || *x.WaitlistPosition != 2 {
			t.Errorf("D = %+v, want waitlisted second", x)
		}
		evs := f.recent()
		if len(evs) != 3 || evs[0].Kind != event.ClaimCancelled || evs[0].ClaimID != ca.ID || evs[0].Late ||
			evs[1].Kind != event.ClaimPromoted || evs[1].ClaimID != cc.ID || evs[1].UserID != c.UserID ||
			evs[2].Kind != event.SlotChanged || evs[2].SlotID != sl.ID {
			t.Errorf("events = %+v", evs)
		}
		checkInvariants(t, f)

		// Cancelling again changes nothing and says nothing.
		f.resetEvents()
		again, err := f.svc.CancelClaim(f.ctx, a, ca.ID)
		if err != nil || again.Status != Cancelled || len(f.recent()) != 0 {
			t.Errorf("second cancel: %+v, %v, events %v", again, err, f.recent())
		}

		// A waitlisted person leaving moves the queue up, promotes nobody.
		f.resetEvents()
		if _, err := f.svc.CancelClaim(f.ctx, b, cb.ID); err != nil {
			t.Fatal(err)
		}
		if x, _ := f.svc.ClaimsByIDs(f.ctx, f.organiser, []int64{cd.ID}); x[0].Status != Waitlisted || *x[0].WaitlistPosition != 1 {
			t.Errorf("D = %+v, want first in queue", x[0])
		}
		if len(f.events(event.ClaimPromoted)) != 0 {
			t.Errorf("promotion after a waitlisted claim left")
		}

		// After the deadline the cancellation is late; D is promoted.
		f.clock.Set(at(1, 12, 0))
		f.resetEvents()
		got, err = f.svc.CancelClaim(f.ctx, c, cc.ID)
		if err != nil || !got.LateCancel {
			t.Errorf("late cancel: %+v, %v", got, err)
		}
		if evs := f.events(event.ClaimCancelled); len(evs) != 1 || !evs[0].Late {
			t.Errorf("ClaimCancelled = %+v, want Late", evs)
		}
		if evs := f.events(event.ClaimPromoted); len(evs) != 1 || evs[0].ClaimID != cd.ID {
			t.Errorf("ClaimPromoted = %+v, want D", evs)
		}

		// Once started, the volunteer can no longer cancel; the organiser can.
		f.clock.Set(at(2, 10, 30))
		_, err = f.svc.CancelClaim(f.ctx, d, cd.ID)
		wantCode(t, err, CodeSlotInPast, "claimId")
		if got, err := f.svc.CancelClaim(f.ctx, f.organiser, cd.ID); err != nil || got.Status != Cancelled {
			t.Errorf("organiser cancel: %+v, %v", got, err)
		}
		checkInvariants(t, f)
	})
}

func TestUpdateSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(2, 10, 0), at(2, 12, 0), 2)
		vols := f.users(5)
		for _, v := range vols {
			f.claim(v, sl.ID)
		}
		in := NewSlot{Title: "Åbn Havhytten", StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, Capacity: 1}
		_, err := f.svc.UpdateSlot(f.ctx, f.organiser, sl.ID, in)
		wantCode(t, err, CodeCapacityBelowTaken, "capacity")
		if _, err := f.svc.UpdateSlot(f.ctx, vols[0], sl.ID, in); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer updating: %v", err)
		}
		_, err = f.svc.UpdateSlot(f.ctx, f.organiser, 999999, in)
		wantCode(t, err, CodeSlotNotFound, "slotId")

		// The first in the queue has deleted their account meanwhile and is passed over.
		f.exec(`UPDATE users SET deleted_at = ? WHERE id = ?`, f.clock.Now(), vols[2].UserID)
		f.resetEvents()
		in.Capacity, in.Title = 4, "Åbn og luk Havhytten"
		got, err := f.svc.UpdateSlot(f.ctx, f.organiser, sl.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Capacity != 4 || got.Taken != 4 || got.Waitlisted != 1 || got.Title != in.Title {
			t.Errorf("updated slot = %+v", got)
		}
		if evs := f.events(event.ClaimPromoted); len(evs) != 2 || evs[0].UserID != vols[3].UserID || evs[1].UserID != vols[4].UserID {
			t.Errorf("ClaimPromoted = %+v, want the 4th and 5th", evs)
		}
		if len(f.events(event.SlotChanged)) != 1 {
			t.Errorf("want one SlotChanged")
		}
		checkInvariants(t, f)
	})
}

func TestRemoveSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(2, 10, 0), at(2, 12, 0), 1)
		a, b := f.user("A"), f.user("B")
		ca, cb := f.claim(a, sl.ID), f.claim(b, sl.ID)
		if err := f.svc.RemoveSlot(f.ctx, a, sl.ID); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer removing: %v", err)
		}
		f.resetEvents()
		if err := f.svc.RemoveSlot(f.ctx, f.organiser, sl.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Slot(f.ctx, f.organiser, sl.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("slot still there: %v", err)
		}
		evs := f.events(event.ClaimCancelled)
		if len(evs) != 2 || evs[0].ClaimID != ca.ID || evs[0].UserID != a.UserID || evs[1].ClaimID != cb.ID || evs[1].UserID != b.UserID {
			t.Errorf("ClaimCancelled = %+v", evs)
		}
		if len(f.events(event.ClaimPromoted)) != 0 || len(f.events(event.SlotChanged)) != 1 {
			t.Errorf("events = %+v", f.recent())
		}

		// A started slot carries hours and stays.
		started := f.slot(at(1, 10, 0), at(1, 12, 0), 1)
		f.clock.Set(at(1, 11, 0))
		wantCode(t, f.svc.RemoveSlot(f.ctx, f.organiser, started.ID), CodeSlotInPast, "slotId")
	})
}

func TestSignUpOnBehalf(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sl := f.slot(at(2, 10, 0), at(2, 12, 0), 3)
		other := f.slot(at(3, 10, 0), at(3, 12, 0), 3)

		vol := f.user("Frivillig")
		if _, err := f.svc.SignUpOnBehalf(f.ctx, vol, sl.ID, "Grethe", "20 30 40 50"); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer signing up others: %v", err)
		}
		_, err := f.svc.SignUpOnBehalf(f.ctx, f.organiser, sl.ID, " ", "abc")
		wantCode(t, err, apperr.CodeRequired, "name")
		wantCode(t, err, apperr.CodeInvalid, "phone")
		_, err = f.svc.SignUpOnBehalf(f.ctx, f.organiser, 999999, "Grethe", "20304050")
		wantCode(t, err, CodeSlotNotFound, "slotId")

		f.resetEvents()
		c, err := f.svc.SignUpOnBehalf(f.ctx, f.organiser, sl.ID, "Grethe Hansen", "20 30 40 50")
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != Confirmed || c.CreatedBy == nil || *c.CreatedBy != f.organiser.UserID || c.UserID == f.organiser.UserID {
			t.Errorf("claim = %+v", c)
		}
		var u user.User
		if err := store.Get(f.ctx, db, &u, `SELECT id, firebase_uid, email, email_verified, phone, display_name, language, role,
			anonymous, has_app, ical_token, created_at, updated_at, deleted_at FROM users WHERE id = ?`, c.UserID); err != nil {
			t.Fatal(err)
		}
		if u.HasApp || u.FirebaseUID != nil || u.Phone == nil || *u.Phone != "+4520304050" || u.DisplayName != "Grethe Hansen" {
			t.Errorf("resident = %+v", u)
		}
		if evs := f.events(event.ClaimConfirmed); len(evs) != 1 || evs[0].UserID != u.ID {
			t.Errorf("events = %+v", evs)
		}

		// The same resident again: the same person, and no double sign-up.
		c2, err := f.svc.SignUpOnBehalf(f.ctx, f.organiser, other.ID, "Grethe", "+45 2030 4050")
		if err != nil || c2.UserID != u.ID {
			t.Errorf("second sign-up: %+v, %v; want user %d", c2, err, u.ID)
		}
		_, err = f.svc.SignUpOnBehalf(f.ctx, f.organiser, sl.ID, "Grethe", "20304050")
		wantCode(t, err, CodeAlreadyClaimed, "slotId")
		var n int
		if err := store.Get(f.ctx, db, &n, `SELECT COUNT(*) FROM users WHERE has_app = FALSE`); err != nil || n != 1 {
			t.Errorf("%d residents without app, want 1", n)
		}

		// The rules apply to them too, and a refused sign-up leaves no person behind.
		overlap := f.slot(at(2, 11, 0), at(2, 13, 0), 3)
		_, err = f.svc.SignUpOnBehalf(f.ctx, f.organiser, overlap.ID, "Grethe", "20304050")
		wantCode(t, err, CodeOverlapsOtherClaim, "slotId")
		f.exec(`UPDATE activities SET status = 'CANCELLED' WHERE id = ?`, f.activityID)
		_, err = f.svc.SignUpOnBehalf(f.ctx, f.organiser, overlap.ID, "Poul", "31313131")
		wantCode(t, err, CodeActivityCancelled, "slotId")
		if err := store.Get(f.ctx, db, &n, `SELECT COUNT(*) FROM users WHERE has_app = FALSE`); err != nil || n != 1 {
			t.Errorf("%d residents without app after a refusal, want 1", n)
		}
	})
}

func TestAttendanceHoursAndLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol := f.user("Frivillig")
		s1 := f.slot(at(1, 10, 0), at(1, 13, 0), 1) // 3h
		s2 := f.slot(at(2, 10, 0), at(2, 12, 0), 1) // 2h, no-show
		s3 := f.slot(at(3, 10, 0), at(3, 11, 0), 1) // 1h, other organisation
		s4 := f.slot(at(9, 10, 0), at(9, 11, 0), 1) // upcoming
		s5 := f.slot(at(9, 12, 0), at(9, 13, 0), 1) // waitlisted
		otherOrg := f.org("Ældre i bevægelse")
		act2 := f.activity(otherOrg, "PUBLISHED")
		f.exec(`UPDATE volunteer_slots SET activity_id = ? WHERE id = ?`, act2, s3.ID)

		c1, c2 := f.claim(vol, s1.ID), f.claim(vol, s2.ID)
		f.claim(vol, s3.ID)
		c4 := f.claim(vol, s4.ID)
		f.claim(f.user("Taker"), s5.ID)
		c5 := f.claim(vol, s5.ID)

		_, err := f.svc.MarkAttendance(f.ctx, f.organiser, c1.ID, Attended)
		wantCode(t, err, CodeSlotNotStarted, "claimId")

		f.clock.Set(at(4, 0, 0))
		_, err = f.svc.MarkAttendance(f.ctx, f.organiser, c1.ID, "MAYBE")
		wantCode(t, err, apperr.CodeInvalid, "attendance")
		if _, err := f.svc.MarkAttendance(f.ctx, vol, c1.ID, Attended); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer marking own attendance: %v", err)
		}
		if got, err := f.svc.MarkAttendance(f.ctx, f.organiser, c1.ID, Attended); err != nil || got.Attendance == nil || *got.Attendance != Attended {
			t.Errorf("mark attended: %+v, %v", got, err)
		}
		if _, err := f.svc.MarkAttendance(f.ctx, f.organiser, c2.ID, NoShow); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(at(9, 12, 30))
		_, err = f.svc.MarkAttendance(f.ctx, f.organiser, c5.ID, Attended)
		wantCode(t, err, CodeClaimNotConfirmed, "claimId")
		f.clock.Set(at(4, 0, 0))

		total, perOrg, err := f.svc.Hours(f.ctx, vol)
		if err != nil {
			t.Fatal(err)
		}
		if total != 4*time.Hour || perOrg[f.orgID] != 3*time.Hour || perOrg[otherOrg] != time.Hour || len(perOrg) != 2 {
			t.Errorf("Hours = %v, %v; want 4h: 3h + 1h", total, perOrg)
		}

		upcoming, err := f.svc.ClaimsByUser(f.ctx, vol, true, f.clock.Now())
		if err != nil || len(upcoming) != 2 || upcoming[0].ID != c4.ID || upcoming[1].ID != c5.ID || *upcoming[1].WaitlistPosition != 1 {
			t.Errorf("upcoming = %+v, %v", upcoming, err)
		}
		past, err := f.svc.ClaimsByUser(f.ctx, vol, false, f.clock.Now())
		if err != nil || len(past) != 3 || past[0].SlotID != s3.ID || past[2].ID != c1.ID {
			t.Errorf("past = %+v, %v", past, err)
		}
		mine, err := f.svc.MyClaims(f.ctx, vol, []int64{s1.ID, s4.ID, s5.ID})
		if err != nil || len(mine) != 3 {
			t.Errorf("MyClaims = %+v, %v", mine, err)
		}

		// Roster: organisers only; confirmed first, then the queue.
		if _, err := f.svc.Roster(f.ctx, vol, s5.ID); !errors.Is(err, apperr.ErrForbidden) {
			t.Errorf("volunteer reading roster: %v", err)
		}
		roster, err := f.svc.Roster(f.ctx, f.organiser, s5.ID)
		if err != nil || len(roster) != 2 || roster[0].Status != Confirmed || roster[1].ID != c5.ID {
			t.Errorf("roster = %+v, %v", roster, err)
		}
		sec := user.Caller{UserID: f.user("Sekretariat").UserID, Secretariat: true}
		if _, err := f.svc.Roster(f.ctx, sec, s5.ID); err != nil {
			t.Errorf("secretariat roster: %v", err)
		}
	})
}

func TestOpenSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var open []int64
		for day := 1; day <= 5; day++ {
			open = append(open, f.slot(at(day, 10, 0), at(day, 11, 0), 2).ID)
		}
		same := f.slot(at(5, 10, 0), at(5, 11, 0), 2) // same start as the last: ordered by id
		open = append(open, same.ID)

		full := f.slot(at(2, 12, 0), at(2, 13, 0), 1)
		f.claim(f.user("Taker"), full.ID)
		f.slot(at(3, 12, 0), at(3, 13, 0), 2, func(in *NewSlot) { in.SignupClosesAt = ptr(at(0, 8, 0).Add(time.Minute)) })
		draft := f.activity(f.orgID, "DRAFT")
		if _, err := f.svc.AddSlot(f.ctx, f.organiser, NewSlot{ActivityID: draft, Title: "x", StartsAt: at(2, 9, 0), EndsAt: at(2, 10, 0), Capacity: 1}); err != nil {
			t.Fatal(err)
		}
		f.slot(at(0, 9, 0), at(0, 10, 0), 2) // starts in an hour
		// Now that one has started, and the one closing at 08:01 has closed.
		f.clock.Set(at(0, 9, 30))

		var got []int64
		var afterStart *time.Time
		var afterID int64
		for page := 0; page < 10; page++ {
			slots, err := f.svc.OpenSlots(f.ctx, user.Caller{}, nil, nil, afterStart, afterID, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) == 0 {
				break
			}
			for _, s := range slots {
				got = append(got, s.ID)
			}
			last := slots[len(slots)-1]
			afterStart, afterID = &last.StartsAt, last.ID
		}
		if len(got) != len(open) {
			t.Fatalf("paged open slots = %v, want %v", got, open)
		}
		for i := range open {
			if got[i] != open[i] {
				t.Fatalf("paged open slots = %v, want %v", got, open)
			}
		}
		from, to := at(2, 0, 0), at(4, 0, 0)
		slots, err := f.svc.OpenSlots(f.ctx, user.Caller{}, &from, &to, nil, 0, 10)
		if err != nil || len(slots) != 2 || slots[0].ID != open[1] || slots[1].ID != open[2] {
			t.Errorf("window = %+v, %v", slots, err)
		}

		byAct, err := f.svc.SlotsByActivityIDs(f.ctx, user.Caller{}, []int64{f.activityID})
		if err != nil || len(byAct) != 9 {
			t.Errorf("SlotsByActivityIDs = %d slots, %v", len(byAct), err)
		}
		for i := 1; i < len(byAct); i++ {
			if byAct[i].StartsAt.Before(byAct[i-1].StartsAt) {
				t.Errorf("SlotsByActivityIDs not ordered by start")
			}
		}
		byIDs, err := f.svc.SlotsByIDs(f.ctx, user.Caller{}, []int64{full.ID, same.ID, 999999})
		if err != nil || len(byIDs) != 2 {
			t.Errorf("SlotsByIDs = %+v, %v", byIDs, err)
		}
	})
}

func TestCancelActivityClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		past := f.slot(at(0, 9, 0), at(0, 10, 0), 1)
		s1 := f.slot(at(1, 10, 0), at(1, 11, 0), 1)
		s2 := f.slot(at(2, 10, 0), at(2, 11, 0), 1)
		a, b := f.user("A"), f.user("B")
		pc := f.claim(a, past.ID)
		ca, cb := f.claim(a, s1.ID), f.claim(b, s1.ID)
		f.claim(a, s2.ID)
		f.clock.Set(at(0, 9, 30))
		f.resetEvents()

		var evs []event.Event
		err := db.Transact(f.ctx, func(tx *sqlx.Tx) error {
			if _, err := store.Exec(f.ctx, tx, `UPDATE activities SET status = 'CANCELLED' WHERE id = ?`, f.activityID); err != nil {
				return err
			}
			var err error
			evs, err = f.svc.CancelActivityClaims(f.ctx, tx, f.activityID, f.clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var cancelled, changed int
		for _, e := range evs {
			switch e.Kind {
			case event.ClaimCancelled:
				cancelled++
				if e.Late || (e.ClaimID != ca.ID && e.ClaimID != cb.ID && e.SlotID != s2.ID) {
					t.Errorf("unexpected %+v", e)
				}
			case event.SlotChanged:
				changed++
			}
		}
		if cancelled != 3 || changed != 2 {
			t.Errorf("events %+v", evs)
		}
		if len(f.recent()) != 0 {
			t.Errorf("CancelActivityClaims published itself")
		}
		got, _ := f.svc.ClaimsByIDs(f.ctx, f.organiser, []int64{pc.ID})
		if got[0].Status != Confirmed {
			t.Errorf("claim on a started slot was cancelled")
		}
		checkInvariants(t, f)
		for _, id := range []int64{s1.ID, s2.ID} {
			sl, _ := f.svc.Slot(f.ctx, f.organiser, id)
			if sl.Taken != 0 || sl.Waitlisted != 0 {
				t.Errorf("slot %d counters %d/%d", id, sl.Taken, sl.Waitlisted)
			}
		}
	})
}

// The reads answer as the caller may see: a draft's slots only for its
// organisers, a claim only for its volunteer and the organisers, a roster
// only for the organisers (and a hidden thing as if it did not exist).
func TestReadsTakeTheCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vol, stranger := f.user("Vera"), f.user("Sofus")
		other := f.user("Omar")
		f.makeOrganiser(&other, f.org("Ungerådet"))
		sl := f.slot(at(1, 10, 0), at(1, 12, 0), 3)
		c := f.claim(vol, sl.ID)
		draftID := f.activity(f.orgID, "DRAFT")
		hidden := f.insert(`INSERT INTO volunteer_slots (activity_id, title, starts_at, ends_at, capacity, created_at)
			VALUES (?, 'Udkast', ?, ?, 2, ?)`, draftID, at(1, 10, 0).UTC(), at(1, 11, 0).UTC(), f.clock.Now())

		for _, tc := range []struct {
			name   string
			c      user.Caller
			draft  bool // sees the draft's slot
			claim  bool // sees vera's claim
			roster bool
		}{
			{"visitor", user.Caller{}, false, false, false},
			{"the volunteer", vol, false, true, false},
			{"another resident", stranger, false, false, false},
			{"organiser of another organisation", other, false, false, false},
			{"organiser", f.organiser, true, true, true},
			{"secretariat", user.Caller{UserID: stranger.UserID, Secretariat: true}, true, true, true},
		} {
			slots, err := f.svc.SlotsByIDs(f.ctx, tc.c, []int64{sl.ID, hidden})
			if err != nil || len(slots) == 0 || slots[0].ID != sl.ID && slots[len(slots)-1].ID != sl.ID {
				t.Errorf("%s: published slot = %+v, %v", tc.name, slots, err)
			}
			if got := len(slots) == 2; got != tc.draft {
				t.Errorf("%s sees the draft's slot in SlotsByIDs: %v, want %v", tc.name, got, tc.draft)
			}
			byAct, _ := f.svc.SlotsByActivityIDs(f.ctx, tc.c, []int64{draftID})
			if got := len(byAct) == 1; got != tc.draft {
				t.Errorf("%s sees the draft's slot in SlotsByActivityIDs: %v, want %v", tc.name, got, tc.draft)
			}
			_, err = f.svc.Slot(f.ctx, tc.c, hidden)
			if got := err == nil; got != tc.draft || (!tc.draft && !store.IsNotFound(err)) {
				t.Errorf("%s reads the draft's slot: %v, want seen %v or not found", tc.name, err, tc.draft)
			}
			claims, err := f.svc.ClaimsByIDs(f.ctx, tc.c, []int64{c.ID})
			if got := err == nil && len(claims) == 1; got != tc.claim {
				t.Errorf("%s sees vera's claim: %v (%v), want %v", tc.name, got, err, tc.claim)
			}
			rosters, err := f.svc.Rosters(f.ctx, tc.c, []int64{sl.ID})
			roster, ok := rosters[sl.ID]
			if err != nil || ok != tc.roster || (ok && (len(roster) != 1 || roster[0].ID != c.ID)) {
				t.Errorf("%s: roster %v, %v, %v; want shown %v", tc.name, roster, ok, err, tc.roster)
			}
		}
	})
}

// A slot lies within SlotMargin of its occurrence: a one-off evening
// activity takes no slot on another day or months away (issue 18, 7).
func TestSlotNearItsOccurrence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		now := f.clock.Now()
		// A one-off on Friday 5 June, 18:00–21:00.
		oneOff := f.insert(`INSERT INTO activities (organisation_id, title, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, 'Fællesspisning', ?, ?, 'PUBLISHED', ?, ?)`, f.orgID, at(4, 18, 0).UTC(), at(4, 21, 0).UTC(), now, now)
		f.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?)`, oneOff, at(4, 18, 0).UTC(), at(4, 21, 0).UTC())
		// A weekly one on Mondays 10:00–12:00, twice.
		weekly := f.insert(`INSERT INTO activities (organisation_id, title, starts_at, ends_at, recurrence, status, created_at, updated_at)
			VALUES (?, 'Strik', ?, ?, 'FREQ=WEEKLY;COUNT=2', 'PUBLISHED', ?, ?)`, f.orgID, at(7, 10, 0).UTC(), at(7, 12, 0).UTC(), now, now)
		f.exec(`INSERT INTO occurrences (activity_id, starts_at, ends_at) VALUES (?, ?, ?), (?, ?, ?)`,
			weekly, at(7, 10, 0).UTC(), at(7, 12, 0).UTC(), weekly, at(14, 10, 0).UTC(), at(14, 12, 0).UTC())

		cases := []struct {
			name       string
			activity   int64
			occurrence *time.Time
			start, end time.Time
			ok         bool
		}{
			{"during", oneOff, nil, at(4, 18, 0), at(4, 21, 0), true},
			{"setting up that morning", oneOff, nil, at(4, 6, 0), at(4, 9, 0), true},
			{"clearing up after midnight", oneOff, nil, at(4, 22, 0), at(5, 1, 0), true},
			{"starts too early", oneOff, nil, at(4, 5, 59), at(4, 9, 0), false},
			{"ends too late", oneOff, nil, at(5, 8, 0), at(5, 9, 1), false},
			{"the next day", oneOff, nil, at(5, 10, 0), at(5, 14, 0), false},
			{"months later", oneOff, nil, at(90, 18, 0), at(90, 21, 0), false},
			{"near either occurrence", weekly, nil, at(14, 9, 0), at(14, 12, 0), true},
			{"between the occurrences", weekly, nil, at(10, 10, 0), at(10, 12, 0), false},
			{"its own occurrence", weekly, ptr(at(14, 10, 0)), at(14, 10, 0), at(14, 12, 0), true},
			{"another occurrence's day", weekly, ptr(at(7, 10, 0)), at(14, 10, 0), at(14, 12, 0), false},
		}
		for _, c := range cases {
			in := NewSlot{ActivityID: c.activity, OccurrenceStartsAt: c.occurrence, Title: "Vagt", StartsAt: c.start, EndsAt: c.end, Capacity: 1}
			_, err := f.svc.AddSlot(f.ctx, f.organiser, in)
			switch {
			case c.ok && err != nil:
				t.Errorf("%s: %v", c.name, err)
			case !c.ok && err == nil:
				t.Errorf("%s: accepted", c.name)
			case !c.ok:
				wantCode(t, err, CodeSlotOutsideOccurrence, "startsAt")
			}
		}

		// Moving a slot away from its activity is refused too.
		sl, err := f.svc.AddSlot(f.ctx, f.organiser, NewSlot{ActivityID: oneOff, Title: "Opvask", StartsAt: at(4, 20, 0), EndsAt: at(4, 22, 0), Capacity: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.UpdateSlot(f.ctx, f.organiser, sl.ID, NewSlot{Title: "Opvask", StartsAt: at(40, 20, 0), EndsAt: at(40, 22, 0), Capacity: 2})
		wantCode(t, err, CodeSlotOutsideOccurrence, "startsAt")
	})
}
