package pubsub

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Topics. Per-activity and per-user topics keep a replica from receiving,
// and a subscriber from filtering, traffic nobody on it asked for.

// TopicActivityPublished carries every newly published activity; the
// subscriber filters by theme, organisation and place.
func TopicActivityPublished() string { return "activity:published" }

// TopicStoryPublished carries every story the secretariat approves.
func TopicStoryPublished() string { return "story:published" }

// TopicSlotChanged carries changes to the volunteer slots of one activity.
func TopicSlotChanged(activityID int64) string {
	return "slot:activity:" + strconv.FormatInt(activityID, 10)
}

// TopicHeadcountChanged carries changes to the guests of one activity.
func TopicHeadcountChanged(activityID int64) string {
	return "headcount:activity:" + strconv.FormatInt(activityID, 10)
}

// TopicNotification carries the in-app notifications of one person.
func TopicNotification(userID int64) string {
	return "notification:user:" + strconv.FormatInt(userID, 10)
}

// Signal is the message on every topic: what changed and the ids needed
// to load it. It never carries the changed data itself; the receiver reads
// that from the database. Ids that do not apply are zero. OrganisationID,
// PlaceID and Themes let a replica filter activityPublished subscriptions
// before touching the database.
type Signal struct {
	// ID is unique per signal, so the subscribers one signal wakes on a
	// replica can share one read of its state (NewSignalID).
	ID             string   `json:"id,omitempty"`
	Kind           string   `json:"kind"`
	ActivityID     int64    `json:"activityId,omitempty"`
	SlotID         int64    `json:"slotId,omitempty"`
	StoryID        int64    `json:"storyId,omitempty"`
	NotificationID int64    `json:"notificationId,omitempty"`
	UserID         int64    `json:"userId,omitempty"`
	OrganisationID int64    `json:"organisationId,omitempty"`
	PlaceID        int64    `json:"placeId,omitempty"`
	Themes         []string `json:"themes,omitempty"`
	// OccurrenceStartsAt names the occurrence whose headcount changed;
	// zero for every occurrence of the activity.
	OccurrenceStartsAt time.Time `json:"occurrenceStartsAt,omitzero"`
}

// NewSignalID returns an id no other signal has, on any replica: the
// time and a random number.
func NewSignalID() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(rand.Uint64(), 36)
}

// Encode returns the signal as JSON, ready for Publish.
func (s Signal) Encode() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("pubsub: encode signal %s: %w", s.Kind, err)
	}
	return b, nil
}

// Decode parses a payload written by Encode.
func Decode(payload []byte) (Signal, error) {
	var s Signal
	if err := json.Unmarshal(payload, &s); err != nil {
		return Signal{}, fmt.Errorf("pubsub: decode signal: %w", err)
	}
	return s, nil
}
