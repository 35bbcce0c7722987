package story

import (
	"fmt"
	"github.com/ishoj/voresishoj/internal/gid"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/store/storetest"
	"github.com/ishoj/voresishoj/internal/user"
)

// published submits and publishes a story by author.
func (f *fixture) published(t *testing.T, author, sec user.Caller, title string) Story {
	t.Helper()
	st, err := f.svc.Submit(ctx, author, Input{Title: title, Body: "Vi mødtes på tværs."})
	if err != nil {
		t.Fatal(err)
	}
	if st, err = f.svc.Review(ctx, sec, st.ID, ActionPublish, ""); err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) status(t *testing.T, id int64) Status {
	t.Helper()
	var st Status
	if err := store.Get(ctx, f.db, &st, `SELECT status FROM stories WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return st
}

// hiddenNotices counts the STORY_HIDDEN notifications of story id per
// recipient.
func (f *fixture) hiddenNotices(t *testing.T, id int64) map[int64]int {
	t.Helper()
	var rows []struct {
		UserID int64 `db:"user_id"`
		N      int   `db:"n"`
	}
	err := store.Select(ctx, f.db, &rows, `SELECT user_id, COUNT(*) AS n FROM notifications
		WHERE kind = 'STORY_HIDDEN' AND data LIKE ? GROUP BY user_id`, fmt.Sprintf(`%%"storyId":"%s"%%`, gid.Encode("Story", id)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[int64]int{}
	for _, r := range rows {
		m[r.UserID] = r.N
	}
	return m
}

// Hole 3: three anonymous accounts (one click each in the app) hid any
// published story. Reporting now takes a verified account.
func TestAnonymousReportsHideNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		st := f.published(t, f.person(t, "Amina", user.RoleResident), sec, "Spisevenner")
		for i := range 5 {
			_, err := f.svc.Report(ctx, f.anonymous(t, fmt.Sprint("anon", i)), st.ID, "Upassende")
			wantCode(t, err, apperr.CodeVerifiedAccountRequired)
		}
		if s := f.status(t, st.ID); s != Published {
			t.Errorf("after five anonymous reports the story is %s", s)
		}
		if n := f.rows(t, "story_reports"); n != 0 {
			t.Errorf("%d anonymous reports stored", n)
		}
	})
}

// Three verified people hide a story: it goes back to the review queue
// (not deleted), the secretariat is told in the same transaction, and the
// secretariat sees who reported and can restore it.
func TestReportsHideIntoTheQueueAndTellTheSecretariat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		sec2 := f.person(t, "Borgerservice", user.RoleSecretariat)
		author := f.person(t, "Amina", user.RoleResident)
		st := f.published(t, author, sec, "Spisevenner")
		var reporters []user.Caller
		for i := range ReportThreshold {
			r := f.person(t, fmt.Sprint("Læser", i), user.RoleResident)
			reporters = append(reporters, r)
			got, err := f.svc.Report(ctx, r, st.ID, fmt.Sprint("grund ", i))
			if err != nil {
				t.Fatal(err)
			}
			if want := i == ReportThreshold-1; (got.Status == Hidden) != want {
				t.Fatalf("after %d reports: %s", i+1, got.Status)
			}
			if i < ReportThreshold-1 && len(f.hiddenNotices(t, st.ID)) != 0 {
				t.Fatalf("secretariat told after %d reports", i+1)
			}
		}
		q, err := f.svc.ReviewQueue(ctx, sec, nil, 10)
		if err != nil || len(q) != 1 || q[0].ID != st.ID || q[0].Status != Hidden {
			t.Errorf("review queue = %+v, %v", q, err)
		}
		if n := f.rows(t, "stories"); n != 1 {
			t.Errorf("%d stories, want the hidden one kept", n)
		}
		notices := f.hiddenNotices(t, st.ID)
		if len(notices) != 2 || notices[sec.UserID] != 1 || notices[sec2.UserID] != 1 {
			t.Errorf("STORY_HIDDEN notifications per person = %v, want one for each of the secretariat", notices)
		}

		// Who reported, for the secretariat only.
		for _, c := range []user.Caller{author, reporters[0], {}} {
			if rs, err := f.svc.Reports(ctx, c, st.ID); rs != nil || err != nil {
				t.Errorf("caller %d read the reports: %v, %v", c.UserID, rs, err)
			}
		}
		rs, err := f.svc.Reports(ctx, sec, st.ID)
		if err != nil || len(rs) != ReportThreshold || !rs[0].Counts() {
			t.Fatalf("reports = %+v, %v", rs, err)
		}

		// Restoring republishes and weighs the reports: kept, no longer
		// counting; the same people cannot report it again.
		if got, err := f.svc.Review(ctx, sec, st.ID, ActionPublish, ""); err != nil || got.Status != Published {
			t.Fatalf("restore: %+v, %v", got, err)
		}
		rs, _ = f.svc.Reports(ctx, sec, st.ID)
		for _, r := range rs {
			if r.Counts() || r.ReviewedAt == nil {
				t.Errorf("report %+v still counts after the restore", r)
			}
		}
		_, err = f.svc.Report(ctx, reporters[0], st.ID, "igen")
		wantCode(t, err, CodeAlreadyReported)
		for i := range ReportThreshold - 1 {
			if got, err := f.svc.Report(ctx, f.person(t, fmt.Sprint("Ny", i), user.RoleResident), st.ID, ""); err != nil || got.Status != Published {
				t.Errorf("new report %d after restore: %s, %v", i, got.Status, err)
			}
		}
	})
}

// The secretariat marks someone who misuses reports: their reports are
// kept, but count toward hiding no more, including those already made.
func TestMarkedReportersDoNotCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		author := f.person(t, "Amina", user.RoleResident)
		troll := f.person(t, "Troll", user.RoleResident)
		a, b, c := f.person(t, "A", user.RoleResident), f.person(t, "B", user.RoleResident), f.person(t, "C", user.RoleResident)
		st := f.published(t, author, sec, "Spisevenner")

		if err := f.svc.MarkReporter(ctx, author, troll.UserID, true, ""); err != apperr.ErrForbidden {
			t.Errorf("a resident marked a reporter: %v", err)
		}
		wantCode(t, f.svc.MarkReporter(ctx, sec, 99999, true, ""), CodeUserNotFound)

		if _, err := f.svc.Report(ctx, troll, st.ID, "spam"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.MarkReporter(ctx, sec, troll.UserID, true, "anmelder alt"); err != nil {
			t.Fatal(err)
		}
		for _, r := range []user.Caller{a, b} {
			if got, err := f.svc.Report(ctx, r, st.ID, ""); err != nil || got.Status != Published {
				t.Fatalf("report: %s, %v", got.Status, err)
			}
		}
		rs, _ := f.svc.Reports(ctx, sec, st.ID)
		var marked int
		for _, r := range rs {
			if r.UserID == troll.UserID && r.ReporterMarked && !r.Counts() {
				marked++
			}
		}
		if len(rs) != 3 || marked != 1 {
			t.Errorf("reports = %+v, want three with the troll's marked", rs)
		}
		// A second story: the marked person's report is taken (they are
		// not told) but does not count.
		other := f.published(t, author, sec, "Høstfest")
		if _, err := f.svc.Report(ctx, troll, other.ID, "spam"); err != nil {
			t.Errorf("a marked person's report was refused: %v", err)
		}
		// A third real reporter hides the first story.
		if got, err := f.svc.Report(ctx, c, st.ID, ""); err != nil || got.Status != Hidden {
			t.Errorf("third counting report: %s, %v", got.Status, err)
		}
		// The mark can be taken off: the troll's report on the second
		// story counts again.
		if err := f.svc.MarkReporter(ctx, sec, troll.UserID, false, ""); err != nil {
			t.Fatal(err)
		}
		for _, r := range []user.Caller{a, b} {
			if _, err := f.svc.Report(ctx, r, other.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		if s := f.status(t, other.ID); s != Hidden {
			t.Errorf("after unmarking, three reports leave the story %s", s)
		}
	})
}

// A person makes at most Limits.Reports reports in a while; the error
// says the limit and when to try again.
func TestReportLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.limits.Reports = ratelimit.Quota{N: 2, Per: 24 * time.Hour}
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		author := f.person(t, "Amina", user.RoleResident)
		r := f.person(t, "Bo", user.RoleResident)
		var sts []Story
		for i := range 3 {
			sts = append(sts, f.published(t, author, sec, fmt.Sprint("Historie ", i)))
		}
		if _, err := f.svc.Report(ctx, r, sts[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		// A refused report (a second one of the same story) does not count.
		_, err := f.svc.Report(ctx, r, sts[0].ID, "")
		wantCode(t, err, CodeAlreadyReported)
		f.now = f.now.Add(time.Hour)
		if _, err := f.svc.Report(ctx, r, sts[1].ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Report(ctx, r, sts[2].ID, "")
		ue := apperr.UserErrors(err)
		if len(ue) != 1 || ue[0].Code != CodeTooManyReports || ue[0].Params["Max"] != 2 || ue[0].Params["RetryAfterSeconds"] != 23*3600 {
			t.Fatalf("third report in a day: %v %+v", err, ue)
		}
		if f.rows(t, "story_reports") != 2 {
			t.Error("the refused report was stored")
		}
		// Others are not limited by Bo's reports.
		if _, err := f.svc.Report(ctx, f.person(t, "Carl", user.RoleResident), sts[2].ID, ""); err != nil {
			t.Errorf("someone else's report: %v", err)
		}
		f.now = f.now.Add(23 * time.Hour)
		if _, err := f.svc.Report(ctx, r, sts[2].ID, ""); err != nil {
			t.Errorf("a day after the first: %v", err)
		}
	})
}

// A person submits at most Limits.Submissions stories a day (the review
// found 60 in 0.3 s); the check comes before the photos are processed,
// and concurrent submissions cannot pass it together.
func TestSubmissionLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.limits.Submissions = ratelimit.Quota{N: 3, Per: 24 * time.Hour}
		author := f.person(t, "Amina", user.RoleResident)
		// A refused submission does not count.
		_, err := f.svc.Submit(ctx, author, Input{Title: "", Body: "x"})
		wantCode(t, err, apperr.CodeRequired)

		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.Submit(ctx, author, Input{Title: fmt.Sprint("Historie ", i), Body: "Vi mødtes."})
			}()
		}
		wg.Wait()
		ok, limited := 0, 0
		for _, err := range errs {
			switch ue := apperr.UserErrors(err); {
			case err == nil:
				ok++
			case len(ue) == 1 && ue[0].Code == CodeTooManyStories && ue[0].Params["Max"] == 3:
				limited++
			default:
				t.Errorf("submission: %v", err)
			}
		}
		if ok != 3 || limited != 7 {
			t.Errorf("%d submitted and %d limited, want 3 and 7", ok, limited)
		}
		// Refused before any photo is processed or stored.
		_, err = f.svc.Submit(ctx, author, Input{Title: "Med billede", Body: "x", ConsentPeople: true,
			Photos: []PhotoInput{photo(nil, "")}})
		wantCode(t, err, CodeTooManyStories)
		if n := len(f.blobFiles(t)); n != 0 {
			t.Errorf("%d blobs written for a refused story", n)
		}
		other := f.person(t, "Bo", user.RoleResident)
		if _, err := f.svc.Submit(ctx, other, Input{Title: "Bo's", Body: "x"}); err != nil {
			t.Errorf("another person: %v", err)
		}
		f.now = f.now.Add(24*time.Hour + time.Second)
		if _, err := f.svc.Submit(ctx, author, Input{Title: "Næste dag", Body: "x"}); err != nil {
			t.Errorf("the next day: %v", err)
		}
	})
}

// Reports arriving at once hide the story once and tell the secretariat
// once.
func TestConcurrentReportsHideOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		st := f.published(t, f.person(t, "Amina", user.RoleResident), sec, "Spisevenner")
		var reporters []user.Caller
		for i := range 6 {
			reporters = append(reporters, f.person(t, fmt.Sprint("R", i), user.RoleResident))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(reporters))
		for i, r := range reporters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.Report(ctx, r, st.ID, "")
			}()
		}
		wg.Wait()
		accepted := 0
		for _, err := range errs {
			switch {
			case err == nil:
				accepted++
			case apperr.UserErrors(err) != nil && apperr.UserErrors(err)[0].Code == CodeStoryNotFound:
				// Came after it was hidden.
			default:
				t.Errorf("report: %v", err)
			}
		}
		if accepted != ReportThreshold || f.status(t, st.ID) != Hidden {
			t.Errorf("%d reports accepted, status %s; want %d and HIDDEN", accepted, f.status(t, st.ID), ReportThreshold)
		}
		if n := f.hiddenNotices(t, st.ID); n[sec.UserID] != 1 || len(n) != 1 {
			t.Errorf("notifications = %v, want one", n)
		}
	})
}

// Deleting an account takes the secretariat's mark on the person with it.
func TestForgetAuthorForgetsTheMark(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sec := f.person(t, "Kommunikation", user.RoleSecretariat)
		troll := f.person(t, "Troll", user.RoleResident)
		if err := f.svc.MarkReporter(ctx, sec, troll.UserID, true, "anmelder alt"); err != nil {
			t.Fatal(err)
		}
		err := db.Transact(ctx, func(tx *sqlx.Tx) error { return ForgetAuthorTx(ctx, tx, troll.UserID, true, time.Now()) })
		if err != nil {
			t.Fatal(err)
		}
		if n := f.rows(t, "story_reporter_marks"); n != 0 {
			t.Errorf("%d marks left after the account was deleted", n)
		}
	})
}
