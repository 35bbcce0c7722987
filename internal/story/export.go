package story

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export. Where they acted as secretariat or organiser (a review, a call,
// a media pickup, a mark on a reporter) it says what and when, never about
// whom.
type PersonData struct {
	Stories   []StoryRecord    `json:"stories"`
	Reactions []ReactionRecord `json:"storyReactions"`
	Reports   []ReportRecord   `json:"storyReports"`
	// ReporterMark is set when the secretariat marked the person's
	// reports as misuse (they no longer count toward hiding a story).
	ReporterMark    *ReporterMark      `json:"storyReporterMark"`
	ModerationDone  []ModerationRecord `json:"storyModerationDone"`
	CallsCreated    []CallRecord       `json:"storyCallsCreated"`
	PickupsRecorded []PickupRecord     `json:"mediaPickupsRecorded"`
	MarksMade       []time.Time        `json:"storyReporterMarksMade"`
}

// StoryRecord is a story the person wrote, with its photos and what the
// moderation did with it.
type StoryRecord struct {
	ID              int64              `json:"id" db:"id"`
	Title           string             `json:"title" db:"title"`
	Body            string             `json:"body" db:"body"`
	AuthorName      string             `json:"authorName" db:"author_name"`
	Status          string             `json:"status" db:"status"`
	ActivityID      *int64             `json:"activityId" db:"activity_id"`
	OrganisationID  *int64             `json:"organisationId" db:"organisation_id"`
	CallID          *int64             `json:"callId" db:"call_id"`
	Featured        bool               `json:"featured" db:"featured"`
	ConsentPeople   bool               `json:"consentPeople" db:"consent_people"`
	HasChildren     bool               `json:"hasChildren" db:"has_children"`
	ConsentGuardian bool               `json:"consentGuardian" db:"consent_guardian"`
	ReviewReason    string             `json:"reviewReason" db:"review_reason"`
	CreatedAt       time.Time          `json:"createdAt" db:"created_at"`
	UpdatedAt       time.Time          `json:"updatedAt" db:"updated_at"`
	PublishedAt     *time.Time         `json:"publishedAt" db:"published_at"`
	Photos          []PhotoRecord      `json:"photos" db:"-"`
	Moderation      []ModerationRecord `json:"moderation" db:"-"`
	MediaPickups    []PickupRecord     `json:"mediaPickups" db:"-"`
}

// PhotoRecord is one photo of a story. KeySmall and KeyLarge name its two
// renditions in the blob store (media.Store).
type PhotoRecord struct {
	ID        int64     `json:"id" db:"id"`
	StoryID   int64     `json:"-" db:"story_id"`
	Position  int       `json:"position" db:"position"`
	AltText   string    `json:"altText" db:"alt_text"`
	KeySmall  string    `json:"keySmall" db:"key_small"`
	KeyLarge  string    `json:"keyLarge" db:"key_large"`
	Width     int       `json:"width" db:"width"`
	Height    int       `json:"height" db:"height"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// ModerationRecord is one step of a story's review.
type ModerationRecord struct {
	StoryID   int64     `json:"storyId" db:"story_id"`
	Action    string    `json:"action" db:"action"`
	Reason    string    `json:"reason" db:"reason"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// ReactionRecord is a reaction of the person to a story.
type ReactionRecord struct {
	StoryID   int64     `json:"storyId" db:"story_id"`
	Story     string    `json:"story" db:"title"`
	Kind      string    `json:"kind" db:"kind"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// ReportRecord is a report the person made of a story.
type ReportRecord struct {
	StoryID    int64      `json:"storyId" db:"story_id"`
	Story      string     `json:"story" db:"title"`
	Reason     string     `json:"reason" db:"reason"`
	CreatedAt  time.Time  `json:"createdAt" db:"created_at"`
	ReviewedAt *time.Time `json:"reviewedAt" db:"reviewed_at"`
}

// ReporterMark is the secretariat's mark on the person as a misuser of
// reports.
type ReporterMark struct {
	Reason    string    `json:"reason" db:"reason"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// CallRecord is a call for stories the person made.
type CallRecord struct {
	ID        int64     `json:"id" db:"id"`
	Title     string    `json:"title" db:"title"`
	Status    string    `json:"status" db:"status"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// PickupRecord is a media pickup of a story.
type PickupRecord struct {
	StoryID    int64     `json:"storyId" db:"story_id"`
	Outlet     string    `json:"outlet" db:"outlet"`
	URL        string    `json:"url" db:"url"`
	PickedUpAt time.Time `json:"pickedUpAt" db:"picked_up_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Stories: []StoryRecord{}, Reactions: []ReactionRecord{}, Reports: []ReportRecord{},
		ModerationDone: []ModerationRecord{}, CallsCreated: []CallRecord{}, PickupsRecorded: []PickupRecord{}, MarksMade: []time.Time{}}
	var photos []PhotoRecord
	var moderation []ModerationRecord
	var pickups []PickupRecord
	steps := []struct {
		what  string
		dest  any
		query string
	}{
		{"stories", &d.Stories, `SELECT id, title, body, author_name, status, activity_id, organisation_id, call_id, featured,
			consent_people, has_children, consent_guardian, review_reason, created_at, updated_at, published_at
			FROM stories WHERE author_id = ? ORDER BY created_at, id`},
		{"photos", &photos, `SELECT p.id, p.story_id, p.position, p.alt_text, p.key_small, p.key_large, p.width, p.height, p.created_at
			FROM story_photos p JOIN stories s ON s.id = p.story_id WHERE s.author_id = ? ORDER BY p.story_id, p.position, p.id`},
		// The review of their own stories, without who reviewed.
		{"reviews", &moderation, `SELECT m.story_id, m.action, m.reason, m.created_at
			FROM moderation_log m JOIN stories s ON s.id = m.story_id WHERE s.author_id = ? ORDER BY m.created_at, m.id`},
		{"pickups", &pickups, `SELECT m.story_id, m.outlet, m.url, m.picked_up_at
			FROM media_pickups m JOIN stories s ON s.id = m.story_id WHERE s.author_id = ? ORDER BY m.picked_up_at, m.id`},
		{"reactions", &d.Reactions, `SELECT r.story_id, s.title, r.kind, r.created_at
			FROM story_reactions r JOIN stories s ON s.id = r.story_id WHERE r.user_id = ? ORDER BY r.created_at, r.story_id`},
		{"reports", &d.Reports, `SELECT r.story_id, s.title, r.reason, r.created_at, r.reviewed_at
			FROM story_reports r JOIN stories s ON s.id = r.story_id WHERE r.user_id = ? ORDER BY r.created_at, r.story_id`},
		{"moderation done", &d.ModerationDone, `SELECT story_id, action, reason, created_at FROM moderation_log
			WHERE actor_id = ? ORDER BY created_at, id`},
		{"calls", &d.CallsCreated, `SELECT id, title, status, created_at FROM calls WHERE created_by = ? ORDER BY created_at, id`},
		{"pickups recorded", &d.PickupsRecorded, `SELECT story_id, outlet, url, picked_up_at FROM media_pickups
			WHERE recorded_by = ? ORDER BY picked_up_at, id`},
		{"marks made", &d.MarksMade, `SELECT created_at FROM story_reporter_marks WHERE marked_by = ? ORDER BY created_at`},
	}
	for _, st := range steps {
		if err := store.Select(ctx, q, st.dest, st.query, userID); err != nil {
			return d, fmt.Errorf("export %s of user %d: %w", st.what, userID, err)
		}
	}
	var marks []ReporterMark
	if err := store.Select(ctx, q, &marks, `SELECT reason, created_at FROM story_reporter_marks WHERE user_id = ?`, userID); err != nil {
		return d, fmt.Errorf("export reporter mark of user %d: %w", userID, err)
	}
	if len(marks) > 0 {
		d.ReporterMark = &marks[0]
	}
	at := map[int64]int{}
	for i := range d.Stories {
		at[d.Stories[i].ID] = i
		d.Stories[i].Photos, d.Stories[i].Moderation, d.Stories[i].MediaPickups = []PhotoRecord{}, []ModerationRecord{}, []PickupRecord{}
	}
	for _, p := range photos {
		st := &d.Stories[at[p.StoryID]]
		st.Photos = append(st.Photos, p)
	}
	for _, m := range moderation {
		st := &d.Stories[at[m.StoryID]]
		st.Moderation = append(st.Moderation, m)
	}
	for _, m := range pickups {
		st := &d.Stories[at[m.StoryID]]
		st.MediaPickups = append(st.MediaPickups, m)
	}
	return d, nil
}
