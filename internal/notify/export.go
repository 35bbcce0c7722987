package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// PersonData is what this package holds about one person, for their data
// export.
type PersonData struct {
	Devices     []DeviceRecord `json:"devices"`
	Follows     []FollowRecord `json:"follows"`
	Preferences *PrefsRecord   `json:"notificationPreferences"`
	Inbox       []InboxRecord  `json:"inbox"`
	// Deliveries are the pushes of their notifications to their devices.
	Deliveries []DeliveryRecord `json:"deliveries"`
	// RemindersSent are the shift reminders sent for their claims.
	RemindersSent []ReminderRecord `json:"remindersSent"`
	// AnnouncementsSent are the announcements they sent as organiser or
	// secretariat; who received them is not listed, only how many.
	AnnouncementsSent []AnnouncementRecord `json:"announcementsSent"`
}

// DeviceRecord is a phone or browser registered for pushes.
type DeviceRecord struct {
	ID         int64     `json:"id" db:"id"`
	Token      string    `json:"token" db:"token"`
	Platform   string    `json:"platform" db:"platform"`
	Locale     string    `json:"locale" db:"locale"`
	AppVersion string    `json:"appVersion" db:"app_version"`
	CreatedAt  time.Time `json:"createdAt" db:"created_at"`
	LastSeenAt time.Time `json:"lastSeenAt" db:"last_seen_at"`
}

// FollowRecord is something the person follows.
type FollowRecord struct {
	Kind           string    `json:"kind" db:"kind"`
	OrganisationID *int64    `json:"organisationId" db:"organisation_id"`
	PlaceID        *int64    `json:"placeId" db:"place_id"`
	Theme          *string   `json:"theme" db:"theme"`
	Name           string    `json:"name" db:"name"`
	CreatedAt      time.Time `json:"createdAt" db:"created_at"`
}

// PrefsRecord is the person's notification preferences; absent when they
// never changed the defaults.
type PrefsRecord struct {
	NewEvents     bool      `json:"newEvents" db:"new_events"`
	Announcements bool      `json:"announcements" db:"announcements"`
	Reminders     bool      `json:"reminders" db:"reminders"`
	Waitlist      bool      `json:"waitlist" db:"waitlist"`
	Stories       bool      `json:"stories" db:"stories"`
	QuietStart    int       `json:"quietStartMinute" db:"quiet_start"`
	QuietEnd      int       `json:"quietEndMinute" db:"quiet_end"`
	UpdatedAt     time.Time `json:"updatedAt" db:"updated_at"`
}

// InboxRecord is one notification in the person's inbox.
type InboxRecord struct {
	ID        int64      `json:"id" db:"id"`
	Kind      string     `json:"kind" db:"kind"`
	Title     string     `json:"title" db:"title"`
	Body      string     `json:"body" db:"body"`
	Data      string     `json:"data" db:"data"`
	DeepLink  string     `json:"deepLink" db:"deep_link"`
	Push      bool       `json:"push" db:"push"`
	CreatedAt time.Time  `json:"createdAt" db:"created_at"`
	ReadAt    *time.Time `json:"readAt" db:"read_at"`
	ExpiresAt *time.Time `json:"expiresAt" db:"expires_at"`
}

// DeliveryRecord is one push of a notification to a device. The device
// token it copies is under Devices.
type DeliveryRecord struct {
	NotificationID int64      `json:"notificationId" db:"notification_id"`
	DeviceID       *int64     `json:"deviceId" db:"device_id"`
	Platform       string     `json:"platform" db:"platform"`
	Status         string     `json:"status" db:"status"`
	Attempts       int        `json:"attempts" db:"attempts"`
	CreatedAt      time.Time  `json:"createdAt" db:"created_at"`
	SentAt         *time.Time `json:"sentAt" db:"sent_at"`
}

// ReminderRecord is a reminder sent for one of the person's claims.
type ReminderRecord struct {
	ClaimID   int64     `json:"claimId" db:"claim_id"`
	Kind      string    `json:"kind" db:"kind"`
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
}

// AnnouncementRecord is an announcement the person sent.
type AnnouncementRecord struct {
	ID         int64     `json:"id" db:"id"`
	Audience   string    `json:"audience" db:"audience"`
	Title      string    `json:"title" db:"title"`
	Body       string    `json:"body" db:"body"`
	Recipients int       `json:"recipients" db:"recipients"`
	CreatedAt  time.Time `json:"createdAt" db:"created_at"`
}

// ExportPerson reads what this package holds about a person.
func ExportPerson(ctx context.Context, q store.Querier, userID int64) (PersonData, error) {
	d := PersonData{Devices: []DeviceRecord{}, Follows: []FollowRecord{}, Inbox: []InboxRecord{}, Deliveries: []DeliveryRecord{},
		RemindersSent: []ReminderRecord{}, AnnouncementsSent: []AnnouncementRecord{}}
	steps := []struct {
		what  string
		dest  any
		query string
		n     int
	}{
		{"devices", &d.Devices, `SELECT id, token, platform, locale, app_version, created_at, last_seen_at FROM devices
			WHERE user_id = ? ORDER BY id`, 1},
		{"follows", &d.Follows, `SELECT f.kind, f.organisation_id, f.place_id, f.theme,
			COALESCE(o.name, p.name, t.name_da, '') AS name, f.created_at
			FROM follows f LEFT JOIN organisations o ON o.id = f.organisation_id LEFT JOIN places p ON p.id = f.place_id
			LEFT JOIN themes t ON t.slug = f.theme WHERE f.user_id = ? ORDER BY f.id`, 1},
		{"inbox", &d.Inbox, `SELECT id, kind, title, body, data, deep_link, push, created_at, read_at, expires_at FROM notifications
			WHERE user_id = ? ORDER BY id`, 1},
		{"deliveries", &d.Deliveries, `SELECT x.notification_id, x.device_id, x.platform, x.status, x.attempts, x.created_at, x.sent_at
			FROM deliveries x WHERE x.notification_id IN (SELECT id FROM notifications WHERE user_id = ?)
			OR x.device_id IN (SELECT id FROM devices WHERE user_id = ?) ORDER BY x.id`, 2},
		{"reminders", &d.RemindersSent, `SELECT r.claim_id, r.kind, r.created_at FROM reminders_sent r
			JOIN slot_claims c ON c.id = r.claim_id WHERE c.user_id = ? ORDER BY r.created_at, r.claim_id`, 1},
		{"announcements", &d.AnnouncementsSent, `SELECT id, audience, title, body, recipients, created_at FROM announcements
			WHERE sender_id = ? ORDER BY id`, 1},
	}
	for _, st := range steps {
		args := []any{userID}
		if st.n == 2 {
			args = append(args, userID)
		}
		if err := store.Select(ctx, q, st.dest, st.query, args...); err != nil {
			return d, fmt.Errorf("export %s of user %d: %w", st.what, userID, err)
		}
	}
	var prefs []PrefsRecord
	if err := store.Select(ctx, q, &prefs, `SELECT new_events, announcements, reminders, waitlist, stories, quiet_start, quiet_end, updated_at
		FROM notification_preferences WHERE user_id = ?`, userID); err != nil {
		return d, fmt.Errorf("export preferences of user %d: %w", userID, err)
	}
	if len(prefs) > 0 {
		d.Preferences = &prefs[0]
	}
	return d, nil
}
