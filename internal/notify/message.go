package notify

import (
	"strconv"
	"time"

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
	case KindReminder24h, KindReminder2h, KindLateCancellation:
		return ChannelReminders
	case KindWaitlistPromoted:
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
	case KindReminder2h:
		return 2 * time.Hour
	case KindReminder24h:
		return 22 * time.Hour
	case KindWaitlistPromoted, KindLateCancellation, KindActivityCancelled, KindActivityChanged,
		KindSlotChanged, KindSlotCancelled:
		return 24 * time.Hour
	case KindNewEvent, KindAnnouncement:
		return 3 * 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// Payload is the data of n's push, which the inbox shows too: keys type,
// deepLink, notificationId and, when they apply, activityId, slotId,
// claimId, storyId, announcementId (numeric database ids).
func (n Notification) Payload() map[string]string {
	data := n.Data()
	data["type"] = string(n.Kind)
	data["deepLink"] = n.DeepLink
	data["notificationId"] = strconv.FormatInt(n.ID, 10)
	return data
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
	case KindReminder2h, KindWaitlistPromoted, KindActivityCancelled, KindSlotCancelled:
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
