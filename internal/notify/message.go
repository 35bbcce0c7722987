package notify

import (
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/push"
)

// Android notification channels the app creates, one per preference, so a
// person can also silence a kind in the phone's settings.
const (
	ChannelEvents        = "events"
	ChannelAnnouncements = "announcements"
	ChannelReminders     = "reminders"
	ChannelWaitlist      = "waitlist"
	ChannelStories       = "stories"
)

// Channel returns the Android channel id of kind.
func Channel(k Kind) string {
	switch k {
	case KindAnnouncement:
		return ChannelAnnouncements
	case KindReminder24h, KindReminder2h, KindLateCancellation, KindGuestReminder24h, KindGuestReminder2h:
		return ChannelReminders
	case KindWaitlistPromoted, KindSeatPromoted:
		return ChannelWaitlist
	case KindStoryPublished, KindStoryRejected, KindStoryHidden, KindStoryChangesRequested:
		return ChannelStories
	}
	return ChannelEvents
}

// defaultTTL is how long FCM keeps trying an offline phone: after that the
// news is stale (the inbox still has it).
func defaultTTL(k Kind) time.Duration {
	switch k {
	case KindReminder2h, KindGuestReminder2h:
		return 2 * time.Hour
	case KindReminder24h, KindGuestReminder24h:
		return 22 * time.Hour
	case KindWaitlistPromoted, KindLateCancellation, KindActivityCancelled, KindActivityChanged,
		KindSlotChanged, KindSlotCancelled, KindSeatPromoted, KindActivityFilling, KindActivityFull:
		return 24 * time.Hour
	case KindNewEvent, KindAnnouncement:
		return 3 * 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// The API's type names of the ids in push data and deep links: every id
// the app gets from a push is the global id it hands to node(id:).
var dataIDTypes = map[string]string{
	"activityId":      "Activity",
	"slotId":          "VolunteerSlot",
	"claimId":         "SlotClaim",
	"storyId":         "Story",
	"announcementId":  "Announcement",
	"participationId": "Participation",
}

// linkIDTypes are the same for the deep links voresishoj://<kind>/<id>.
var linkIDTypes = map[string]string{
	"activity":     "Activity",
	"slot":         "VolunteerSlot",
	"story":        "Story",
	"announcement": "Announcement",
}

// NotificationType is the API's type name of a notification's global id.
const NotificationType = "Notification"

func deepLinkTo(kind string, id int64) string {
	return "voresishoj://" + kind + "/" + gid.Encode(linkIDTypes[kind], id)
}

// Payload is the data of n's push, which the inbox shows too: keys type,
// deepLink, notificationId and, when they apply, activityId, slotId,
// claimId, storyId, announcementId, every id a global id of the API.
// Rows written before ids were global hold database numbers, which are
// made global here.
func (n Notification) Payload() map[string]string {
	data := n.Data()
	for k, v := range data {
		if typ := dataIDTypes[k]; typ != "" {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				data[k] = gid.Encode(typ, id)
			}
		}
	}
	data["type"] = string(n.Kind)
	data["deepLink"] = n.Link()
	data["notificationId"] = gid.Encode(NotificationType, n.ID)
	return data
}

// Link is n's deep link with a global id, also for rows written when deep
// links carried database numbers.
func (n Notification) Link() string {
	rest, ok := strings.CutPrefix(n.DeepLink, "voresishoj://")
	kind, key, ok2 := strings.Cut(rest, "/")
	typ := linkIDTypes[kind]
	if !ok || !ok2 || typ == "" {
		return n.DeepLink
	}
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return n.DeepLink // global already
	}
	return deepLinkTo(kind, id)
}

// Message builds the push for notification n to the device with token, as
// sent at now. It is the whole payload contract with the app: its data is
// n.Payload().
func Message(n Notification, token string, now time.Time) push.Message {
	data := n.Payload()
	ttl := defaultTTL(n.Kind)
	if n.ExpiresAt != nil {
		ttl = min(ttl, n.ExpiresAt.Sub(now))
	}
	// Zero would mean FCM's four weeks; an almost stale push gets a minute.
	ttl = max(ttl, time.Minute).Truncate(time.Second)
	priority := push.PriorityNormal
	switch n.Kind {
	case KindReminder2h, KindWaitlistPromoted, KindActivityCancelled, KindSlotCancelled, KindSeatPromoted, KindGuestReminder2h:
		priority = push.PriorityHigh
	}
	if n.Urgent {
		priority = push.PriorityHigh
	}
	collapse := n.CollapseKey
	if collapse == "" {
		collapse = "n" + strconv.FormatInt(n.ID, 10)
	}
	return push.Message{
		Token:       token,
		Title:       n.Title,
		Body:        n.Body,
		Data:        data,
		CollapseKey: collapse,
		ChannelID:   Channel(n.Kind),
		TTL:         ttl,
		Priority:    priority,
	}
}
