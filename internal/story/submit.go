package story

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/link"
	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// User error codes of stories.
const (
	CodeStoryNotFound           = "STORY_NOT_FOUND"
	CodeStoryNotEditable        = "STORY_NOT_EDITABLE"
	CodeConsentRequired         = "CONSENT_REQUIRED"
	CodeGuardianConsentRequired = "GUARDIAN_CONSENT_REQUIRED"
	CodeTooManyPhotos           = "TOO_MANY_PHOTOS"
	CodeTooManyLinks            = "TOO_MANY_LINKS"
	CodeInvalidYouTubeLink      = "INVALID_YOUTUBE_LINK"
	CodePhotoNotFound           = "PHOTO_NOT_FOUND"
	CodeTooManyStories          = "TOO_MANY_STORIES"
	codeActivityNotFound        = "ACTIVITY_NOT_FOUND"
	codeOrganisationNotFound    = "ORGANISATION_NOT_FOUND"
)

// Limits on what a story may hold.
const (
	maxTitle      = 120
	maxBody       = 10_000
	maxAuthorName = 80
	maxAlt        = 300
	maxPhotos     = 10
	maxLinks      = 10
)

// LinkInput is a link to a post on Facebook, YouTube, Instagram or the web.
type LinkInput struct {
	Kind  link.Kind
	URL   string
	Label string
}

// PhotoInput is one uploaded photo. Reader is read once, at most
// media.MaxUploadBytes of it.
type PhotoInput struct {
	Reader io.Reader
	Alt    string
}

// Input is a story as the author writes it.
type Input struct {
	Title          string
	Body           string
	AuthorName     string // empty: the author's display name
	ActivityID     *int64
	OrganisationID *int64 // empty with an activity: the activity's organisation
	CallID         *int64
	Themes         []string
	Links          []LinkInput
	// Photos are added to the story (on Edit, after the ones it has).
	Photos []PhotoInput
	// RemovePhotoIDs are photos to take off the story (Edit only).
	RemovePhotoIDs []int64

	ConsentPeople   bool
	HasChildren     bool
	ConsentGuardian bool
}

// Photo is a photo of a story: two JPEG renditions in the media store,
// without metadata. Width and Height are those of the large rendition.
// SmallPath and LargePath are where the caller Photos was asked for
// fetches them (see photoPath).
type Photo struct {
	SmallPath string `db:"-"`
	LargePath string `db:"-"`
	// Image is the photo as the one image type, from its large rendition,
	// signed as the paths are.
	Image media.Image `db:"-"`

	ID       int64  `db:"id"`
	StoryID  int64  `db:"story_id"`
	Position int    `db:"position"`
	AltText  string `db:"alt_text"`
	KeySmall string `db:"key_small"`
	KeyLarge string `db:"key_large"`
	Width    int    `db:"width"`
	Height   int    `db:"height"`
	// Placeholder is the BlurHash; NULL for photos stored before 00024.
	Placeholder *string   `db:"placeholder"`
	CreatedAt   time.Time `db:"created_at"`
}

// editable reports whether the author may still change or withdraw a
// story: until the secretariat has acted on it.
func editable(st Status) bool { return st == PendingReview || st == ChangesRequested }

// Submit stores a new story for review. Photos are processed and written
// to the media store before the transaction; if anything fails, nothing
// is stored: no rows and no blobs. A person submits at most
// Limits.Submissions stories in a while (withdrawn and rejected ones
// count: each took the secretariat's time).
func (s *Service) Submit(ctx context.Context, c user.Caller, in Input) (Story, error) {
	if err := c.RequireShown(); err != nil {
		return Story{}, err
	}
	// Checked before the photos are processed, which is the costly part,
	// and again in the transaction, which is the one that counts.
	const latestStories = `SELECT created_at FROM stories WHERE author_id = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?`
	if err := s.checkQuota(ctx, s.db, s.limits.Submissions, CodeTooManyStories, latestStories, c.UserID, s.now()); err != nil {
		return Story{}, err
	}
	in, links, err := s.validate(ctx, in, 0)
	if err != nil {
		return Story{}, err
	}
	if in.AuthorName == "" {
		if err := store.Get(ctx, s.db, &in.AuthorName, `SELECT display_name FROM users WHERE id = ?`, c.UserID); err != nil {
			return Story{}, fmt.Errorf("author name of %d: %w", c.UserID, err)
		}
	}
	photos, err := s.storePhotos(ctx, in.Photos, 0)
	if err != nil {
		return Story{}, err
	}
	now := s.now()
	var id int64
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockPerson(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, s.limits.Submissions, CodeTooManyStories, latestStories, c.UserID, now); err != nil {
			return err
		}
		if in.CallID != nil {
			if err := checkCallOpen(ctx, tx, *in.CallID, now); err != nil {
				return err
			}
		}
		err := store.Get(ctx, tx, &id, `INSERT INTO stories
			(author_id, author_name, title, body, search_title, search_text, status, activity_id, organisation_id, call_id,
			 consent_people, has_children, consent_guardian, featured, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?) RETURNING id`,
			c.UserID, in.AuthorName, in.Title, in.Body, store.SearchText(in.Title), searchText(in), PendingReview, in.ActivityID, in.OrganisationID,
			in.CallID, in.ConsentPeople, in.HasChildren, in.ConsentGuardian, now, now)
		if err != nil {
			return fmt.Errorf("insert story: %w", err)
		}
		return s.writeParts(ctx, tx, id, in, links, photos, now)
	})
	if err != nil {
		s.deleteBlobs(ctx, photos)
		return Story{}, err
	}
	slog.InfoContext(ctx, "story submitted", slog.Int64("story_id", id), slog.Int64("user_id", c.UserID),
		slog.Int("photos", len(photos)))
	return s.byID(ctx, id)
}

// Edit changes a story of the caller's that is still waiting for review
// or was sent back for changes; it goes back into the review queue.
//
// An edit shows the author again (new text, new photos), so it asks what
// a new story asks (RequireShown): a person under 13 without a guardian's
// consent cannot put a withheld story back in front of the secretariat.
func (s *Service) Edit(ctx context.Context, c user.Caller, id int64, in Input) (Story, error) {
	if err := c.RequireShown(); err != nil {
		return Story{}, err
	}
	old, err := s.ownStory(ctx, c, id)
	if err != nil {
		return Story{}, err
	}
	var kept int
	q, args, err := store.In(`SELECT COUNT(*) FROM story_photos WHERE story_id = ? AND id NOT IN (?)`, id, append([]int64{0}, in.RemovePhotoIDs...))
	if err != nil {
		return Story{}, err
	}
	if err := store.Get(ctx, s.db, &kept, q, args...); err != nil {
		return Story{}, fmt.Errorf("count photos of story %d: %w", id, err)
	}
	in, links, err := s.validate(ctx, in, kept)
	if err != nil {
		return Story{}, err
	}
	if in.AuthorName == "" {
		in.AuthorName = old.AuthorName
	}
	var first int
	if err := store.Get(ctx, s.db, &first, `SELECT COALESCE(MAX(position) + 1, 0) FROM story_photos WHERE story_id = ?`, id); err != nil {
		return Story{}, fmt.Errorf("photo positions of story %d: %w", id, err)
	}
	photos, err := s.storePhotos(ctx, in.Photos, first)
	if err != nil {
		return Story{}, err
	}
	now := s.now()
	var removed []Photo
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.lockStory(ctx, tx, id)
		if err != nil {
			return err
		}
		// The secretariat may have acted since we looked.
		if !editable(cur.Status) {
			return apperr.New(CodeStoryNotEditable)
		}
		if in.CallID != nil && (cur.CallID == nil || *cur.CallID != *in.CallID) {
			if err := checkCallOpen(ctx, tx, *in.CallID, now); err != nil {
				return err
			}
		}
		_, err = store.Exec(ctx, tx, `UPDATE stories SET author_name = ?, title = ?, body = ?, search_title = ?, search_text = ?, status = ?,
			activity_id = ?, organisation_id = ?, call_id = ?, consent_people = ?, has_children = ?, consent_guardian = ?,
			updated_at = ? WHERE id = ?`,
			in.AuthorName, in.Title, in.Body, store.SearchText(in.Title), searchText(in), PendingReview, in.ActivityID, in.OrganisationID, in.CallID,
			in.ConsentPeople, in.HasChildren, in.ConsentGuardian, now, id)
		if err != nil {
			return fmt.Errorf("update story %d: %w", id, err)
		}
		if len(in.RemovePhotoIDs) > 0 {
			q, args, err := store.In(`SELECT id, story_id, position, alt_text, key_small, key_large, width, height, created_at
				FROM story_photos WHERE story_id = ? AND id IN (?)`, id, in.RemovePhotoIDs)
			if err != nil {
				return err
			}
			if err := store.Select(ctx, tx, &removed, q, args...); err != nil {
				return fmt.Errorf("photos to remove: %w", err)
			}
			if len(removed) != len(in.RemovePhotoIDs) {
				return apperr.New(CodePhotoNotFound, "removePhotoIds")
			}
			q, args, err = store.In(`DELETE FROM story_photos WHERE story_id = ? AND id IN (?)`, id, in.RemovePhotoIDs)
			if err != nil {
				return err
			}
			if _, err := store.Exec(ctx, tx, q, args...); err != nil {
				return fmt.Errorf("remove photos: %w", err)
			}
		}
		if _, err := store.Exec(ctx, tx, `DELETE FROM story_themes WHERE story_id = ?`, id); err != nil {
			return fmt.Errorf("clear themes: %w", err)
		}
		return s.writeParts(ctx, tx, id, in, links, photos, now)
	})
	if err != nil {
		s.deleteBlobs(ctx, photos)
		return Story{}, err
	}
	s.deleteBlobs(ctx, removed)
	return s.byID(ctx, id)
}

// Withdraw takes a story of the caller's out of review for good.
func (s *Service) Withdraw(ctx context.Context, c user.Caller, id int64) (Story, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Story{}, err
	}
	if _, err := s.ownStory(ctx, c, id); err != nil {
		return Story{}, err
	}
	now := s.now()
	var discarded int
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.lockStory(ctx, tx, id)
		if err != nil {
			return err
		}
		if !editable(cur.Status) {
			return apperr.New(CodeStoryNotEditable)
		}
		if _, err := store.Exec(ctx, tx, `UPDATE stories SET status = ?, updated_at = ? WHERE id = ?`, Withdrawn, now, id); err != nil {
			return fmt.Errorf("withdraw story %d: %w", id, err)
		}
		// Withdrawn is for good: the photos go now.
		if discarded, err = discardPhotosTx(ctx, tx, id, now); err != nil {
			return err
		}
		return logModeration(ctx, tx, id, &c.UserID, "WITHDRAW", "", now)
	})
	if err != nil {
		return Story{}, err
	}
	if discarded > 0 {
		s.sweep(ctx)
	}
	return s.byID(ctx, id)
}

// ownStory loads a story the caller wrote and may still change.
func (s *Service) ownStory(ctx context.Context, c user.Caller, id int64) (Story, error) {
	st, err := s.byID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Story{}, apperr.New(CodeStoryNotFound)
	}
	if err != nil {
		return Story{}, err
	}
	if st.AuthorID == nil || *st.AuthorID != c.UserID {
		// Someone else's unpublished story does not exist as far as the caller knows.
		if !CanSee(c, st) {
			return Story{}, apperr.New(CodeStoryNotFound)
		}
		return Story{}, apperr.ErrForbidden
	}
	if !editable(st.Status) {
		return Story{}, apperr.New(CodeStoryNotEditable)
	}
	return st, nil
}

// lockStory reads a story inside tx so that no one else changes it before
// the transaction ends (PostgreSQL row lock; SQLite transactions already
// hold the write lock from the start).
func (s *Service) lockStory(ctx context.Context, tx *sqlx.Tx, id int64) (Story, error) {
	var st Story
	err := store.Get(ctx, tx, &st, `SELECT `+columns+` FROM stories s WHERE s.id = ?`+s.db.ForUpdate(), id)
	if errors.Is(err, store.ErrNotFound) {
		return Story{}, apperr.New(CodeStoryNotFound)
	}
	if err != nil {
		return Story{}, fmt.Errorf("lock story %d: %w", id, err)
	}
	return st, nil
}

// lockPerson takes the person's row for the rest of tx, so that two of
// their submissions or reports at once are counted one after the other.
func (s *Service) lockPerson(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	var id int64
	if err := store.Get(ctx, tx, &id, `SELECT id FROM users WHERE id = ?`+s.db.ForUpdate(), userID); err != nil {
		return fmt.Errorf("lock user %d: %w", userID, err)
	}
	return nil
}

// checkQuota refuses with code when the person already did q.N things in
// q's window: latest selects the times of their latest ones, newest first,
// from (user id, window start, limit).
func (s *Service) checkQuota(ctx context.Context, db store.Querier, q ratelimit.Quota, code, latest string, userID int64, now time.Time) error {
	if !q.Enabled() {
		return nil
	}
	var times []time.Time
	if err := store.Select(ctx, db, &times, latest, userID, q.Since(now), q.N); err != nil {
		return fmt.Errorf("count %s of user %d: %w", code, userID, err)
	}
	return q.Check(code, times, now)
}

// validate trims and checks an Input; photos already on the story count
// toward the limit and the consent rule.
func (s *Service) validate(ctx context.Context, in Input, existingPhotos int) (Input, []link.Link, error) {
	var errs apperr.List
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(in.Body)
	in.AuthorName = strings.TrimSpace(in.AuthorName)
	checkText := func(v, field string, max int, required bool) {
		switch {
		case required && v == "":
			errs.Add(apperr.CodeRequired, field)
		case len([]rune(v)) > max:
			errs.Add(apperr.CodeTooLong, field).With("Max", max)
		}
	}
	checkText(in.Title, "title", maxTitle, true)
	checkText(in.Body, "body", maxBody, true)
	checkText(in.AuthorName, "authorName", maxAuthorName, false)

	if err := s.themes.Validate(ctx, in.Themes, "themes"); err != nil {
		ue := apperr.UserErrors(err)
		if ue == nil {
			return in, nil, err
		}
		errs = append(errs, ue...)
	}

	if len(in.Links) > maxLinks {
		errs.Add(CodeTooManyLinks, "links").With("Max", maxLinks)
	}
	var links []link.Link
	for i, l := range in.Links {
		nl, err := normaliseLink(l, "links", strconv.Itoa(i), "url")
		if err != nil {
			ue := apperr.UserErrors(err)
			if ue == nil {
				return in, nil, err
			}
			errs = append(errs, ue...)
			continue
		}
		links = append(links, nl)
	}

	total := existingPhotos + len(in.Photos)
	if total > maxPhotos {
		errs.Add(CodeTooManyPhotos, "photos").With("Max", maxPhotos)
	}
	for i, p := range in.Photos {
		if p.Reader == nil {
			errs.Add(apperr.CodeRequired, "photos", strconv.Itoa(i))
		}
		in.Photos[i].Alt = strings.TrimSpace(p.Alt)
		checkText(in.Photos[i].Alt, "photos."+strconv.Itoa(i)+".alt", maxAlt, false)
	}
	if total > 0 && !in.ConsentPeople {
		errs.Add(CodeConsentRequired, "consentPeople")
	}
	if in.HasChildren && !in.ConsentGuardian {
		errs.Add(CodeGuardianConsentRequired, "consentGuardian")
	}

	if in.ActivityID != nil {
		var orgID int64
		err := store.Get(ctx, s.db, &orgID, `SELECT organisation_id FROM activities WHERE id = ?`, *in.ActivityID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs.Add(codeActivityNotFound, "activityId")
		case err != nil:
			return in, nil, fmt.Errorf("activity of story: %w", err)
		case in.OrganisationID == nil:
			// A story from an activity belongs to its organisation, so that
			// organisation's organisers can review it if allowed.
			in.OrganisationID = &orgID
		}
	}
	if in.OrganisationID != nil {
		var n int
		if err := store.Get(ctx, s.db, &n, `SELECT COUNT(*) FROM organisations WHERE id = ?`, *in.OrganisationID); err != nil {
			return in, nil, fmt.Errorf("organisation of story: %w", err)
		}
		if n == 0 {
			errs.Add(codeOrganisationNotFound, "organisationId")
		}
	}
	return in, links, errs.Err()
}

func searchText(in Input) string {
	return SearchText(in.Title, in.Body, in.AuthorName)
}

// SearchText is the search_text of a story: what a search in the list of
// stories matches.
func SearchText(title, body, authorName string) string {
	return store.SearchText(title, body, authorName)
}

var youTubeID = regexp.MustCompile(`^[A-Za-z0-9_-]{11}$`)

// normaliseLink checks a link against its channel and, for YouTube, turns
// every known form of a video link into https://www.youtube.com/watch?v=ID.
func normaliseLink(in LinkInput, field ...string) (link.Link, error) {
	l, err := link.Normalise(in.Kind, in.URL, in.Label, field...)
	if err != nil {
		return link.Link{}, err
	}
	if l.Kind != link.YouTube {
		return l, nil
	}
	u, err := url.Parse(l.URL)
	if err != nil {
		return link.Link{}, apperr.New("INVALID_URL", field...)
	}
	id, ok := videoID(u)
	if !ok {
		return link.Link{}, apperr.New(CodeInvalidYouTubeLink, field...)
	}
	l.URL = "https://www.youtube.com/watch?v=" + id
	return l, nil
}

// videoID extracts the video id from youtu.be/ID, youtube.com/watch?v=ID,
// /shorts/ID, /embed/ID and /live/ID.
func videoID(u *url.URL) (string, bool) {
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	p := strings.Trim(u.Path, "/")
	var id string
	switch {
	case host == "youtu.be":
		id = p
	case p == "watch":
		id = u.Query().Get("v")
	default:
		for _, prefix := range []string{"shorts/", "embed/", "live/"} {
			if rest, ok := strings.CutPrefix(p, prefix); ok {
				id = rest
			}
		}
	}
	return id, youTubeID.MatchString(id)
}

// storePhotos processes every photo first, so that one bad photo refuses
// the lot before anything is written, then writes the renditions. On
// error whatever was written is deleted again.
func (s *Service) storePhotos(ctx context.Context, in []PhotoInput, firstPosition int) ([]Photo, error) {
	if len(in) == 0 {
		return nil, nil
	}
	processed := make([]media.Processed, len(in))
	var errs apperr.List
	for i, p := range in {
		pr, err := media.Process(ctx, p.Reader, s.maxPhotoBytes, "photos", strconv.Itoa(i))
		if err != nil {
			ue := apperr.UserErrors(err)
			if ue == nil {
				return nil, fmt.Errorf("photo %d: %w", i, err)
			}
			errs = append(errs, ue...)
			continue
		}
		processed[i] = pr
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var photos []Photo
	for i, pr := range processed {
		ph := Photo{
			Position: firstPosition + i,
			AltText:  in[i].Alt,
			KeySmall: media.NewKey("-320.jpg"),
			KeyLarge: media.NewKey("-1280.jpg"),
			Width:    pr.Large.Width,
			Height:   pr.Large.Height,
		}
		if pr.Placeholder != "" {
			ph.Placeholder = &pr.Placeholder
		}
		if err := s.media.Put(ctx, ph.KeySmall, bytesReader(pr.Small.Data), media.ContentType); err != nil {
			s.deleteBlobs(ctx, photos)
			return nil, fmt.Errorf("store photo %d: %w", i, err)
		}
		photos = append(photos, ph)
		if err := s.media.Put(ctx, ph.KeyLarge, bytesReader(pr.Large.Data), media.ContentType); err != nil {
			s.deleteBlobs(ctx, photos)
			return nil, fmt.Errorf("store photo %d: %w", i, err)
		}
	}
	return photos, nil
}

// deleteBlobs removes the blobs of photos that were written for a change
// that did not happen. A failure only leaves an orphan blob, never a
// broken story, so it is logged rather than returned.
func (s *Service) deleteBlobs(ctx context.Context, photos []Photo) {
	// The request may have been cancelled, which is often why we are here.
	ctx = context.WithoutCancel(ctx)
	for _, p := range photos {
		for _, k := range []string{p.KeySmall, p.KeyLarge} {
			if err := s.media.Delete(ctx, k); err != nil {
				slog.ErrorContext(ctx, "delete photo blob", slog.String("key", k), slog.Any("error", err))
			}
		}
	}
}

// writeParts writes the themes, links and new photos of story id.
func (s *Service) writeParts(ctx context.Context, tx *sqlx.Tx, id int64, in Input, links []link.Link, photos []Photo, now time.Time) error {
	for _, t := range uniq(in.Themes) {
		if _, err := store.Exec(ctx, tx, `INSERT INTO story_themes (story_id, theme) VALUES (?, ?)`, id, t); err != nil {
			return fmt.Errorf("insert story theme: %w", err)
		}
	}
	if err := link.Replace(ctx, tx, link.Link{StoryID: &id}, links); err != nil {
		return err
	}
	for _, p := range photos {
		_, err := store.Exec(ctx, tx, `INSERT INTO story_photos
			(story_id, position, alt_text, key_small, key_large, width, height, placeholder, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.Position, p.AltText, p.KeySmall, p.KeyLarge, p.Width, p.Height, p.Placeholder, now)
		if err != nil {
			return fmt.Errorf("insert story photo: %w", err)
		}
	}
	return nil
}

func uniq(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Photos returns the photos of each story among storyIDs that c may see,
// in order: a photo is seen with its story, never without it.
func (s *Service) Photos(ctx context.Context, c user.Caller, storyIDs []int64) (map[int64][]Photo, error) {
	if len(storyIDs) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT p.id, p.story_id, p.position, p.alt_text, p.key_small, p.key_large, p.width, p.height, p.placeholder, p.created_at,
			s.status, s.author_id, s.organisation_id,
			COALESCE((SELECT o.organisers_may_review FROM organisations o WHERE o.id = s.organisation_id), FALSE) AS organisers_may_review
		FROM story_photos p JOIN stories s ON s.id = p.story_id
		WHERE p.story_id IN (?) ORDER BY p.story_id, p.position, p.id`, storyIDs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Photo
		Status              Status `db:"status"`
		AuthorID            *int64 `db:"author_id"`
		OrganisationID      *int64 `db:"organisation_id"`
		OrganisersMayReview bool   `db:"organisers_may_review"`
	}
	if err := store.Select(ctx, s.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("photos of stories: %w", err)
	}
	m := make(map[int64][]Photo, len(storyIDs))
	now := s.now()
	for _, r := range rows {
		st := Story{ID: r.StoryID, Status: r.Status, AuthorID: r.AuthorID, OrganisationID: r.OrganisationID, OrganisersMayReview: r.OrganisersMayReview}
		if CanSee(c, st) {
			ph := r.Photo
			ph.SmallPath = s.photoPath(ph.KeySmall, r.Status, now)
			ph.LargePath = s.photoPath(ph.KeyLarge, r.Status, now)
			ph.Image = s.photoImage(ph, r.Status, now)
			m[r.StoryID] = append(m[r.StoryID], ph)
		}
	}
	return m, nil
}

// MyStories returns every story c wrote, whatever its status, newest
// first.
func (s *Service) MyStories(ctx context.Context, c user.Caller) ([]Story, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	var sts []Story
	err := store.Select(ctx, s.db, &sts, `SELECT `+columns+` FROM stories s WHERE s.author_id = ?
		ORDER BY s.created_at DESC, s.id DESC`, c.UserID)
	if err != nil {
		return nil, fmt.Errorf("stories of user %d: %w", c.UserID, err)
	}
	return visible(c, sts), nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// RefreshSearch folds the search text of stories written before
// migration 00015 (those whose search_title is NULL) and reports how many
// it folded. The server runs it at start; it does nothing once every row
// is folded.
func RefreshSearch(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	for {
		var rows []struct {
			ID         int64  `db:"id"`
			Title      string `db:"title"`
			Body       string `db:"body"`
			AuthorName string `db:"author_name"`
		}
		err := store.Select(ctx, db, &rows, `SELECT id, title, body, author_name FROM stories WHERE search_title IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return n, fmt.Errorf("stories to fold: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		err = db.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if _, err := store.Exec(ctx, tx, `UPDATE stories SET search_title = ?, search_text = ? WHERE id = ?`,
					store.SearchText(r.Title), SearchText(r.Title, r.Body, r.AuthorName), r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("fold search text of stories: %w", err)
		}
		n += len(rows)
	}
}
