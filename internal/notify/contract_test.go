package notify

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/push"
)

// pushContract is mobile-contract/PUSH.md, the document the app is built
// against.
const pushContract = "../../mobile-contract/PUSH.md"

// markdownTable returns the rows of the table in doc whose header row
// starts with first, each row as its cells with surrounding backticks and
// spaces removed.
func markdownTable(t *testing.T, doc, first string) []map[string]string {
	t.Helper()
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if header != nil && rows != nil {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case header == nil:
			if cells[0] == first {
				header = cells
			}
		case strings.HasPrefix(cells[0], "---"):
		default:
			if len(cells) != len(header) {
				t.Fatalf("%s: row %q has %d cells, the header %d", pushContract, line, len(cells), len(header))
			}
			row := map[string]string{}
			for i, h := range header {
				row[h] = cells[i]
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table starting with column %q", pushContract, first)
	}
	return rows
}

func unquote(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }

// contractSamples are notifications of kind k as the package's producers
// build them: the ids each sets, and urgency where it may be urgent. An
// announcement has one sample per audience.
func contractSamples(k Kind) []NewNotification {
	activity := NewNotification{Kind: k, ActivityID: 7}
	claim := NewNotification{Kind: k, ActivityID: 7, SlotID: 8, ClaimID: 9}
	switch k {
	case KindNewEvent, KindActivityChanged, KindActivityCancelled:
		return []NewNotification{activity}
	case KindAnnouncement:
		return []NewNotification{
			{Kind: k, AnnouncementID: 5},                           // town, followers
			{Kind: k, AnnouncementID: 5, ActivityID: 7},            // activity volunteers
			{Kind: k, AnnouncementID: 5, ActivityID: 7, SlotID: 8}, // slot volunteers
		}
	case KindReminder24h, KindReminder2h, KindWaitlistPromoted, KindLateCancellation, KindSlotChanged:
		return []NewNotification{claim}
	case KindSlotCancelled:
		return []NewNotification{activity}
	case KindStoryPublished, KindStoryRejected, KindStoryHidden, KindStoryChangesRequested:
		return []NewNotification{{Kind: k, StoryID: 11}}
	case KindOrganiserInvitation:
		return []NewNotification{{Kind: k}}
	case KindSeatPromoted, KindGuestReminder24h, KindGuestReminder2h:
		return []NewNotification{{Kind: k, ActivityID: 7, ParticipationID: 12}}
	case KindActivityFilling, KindActivityFull:
		return []NewNotification{activity}
	}
	return nil
}

// contractPreference is the GraphQL name of each preference switch.
var contractPreference = map[string]func(*Preferences){
	"newEvents":     func(p *Preferences) { p.NewEvents = false },
	"announcements": func(p *Preferences) { p.Announcements = false },
	"reminders":     func(p *Preferences) { p.Reminders = false },
	"waitlist":      func(p *Preferences) { p.Waitlist = false },
	"stories":       func(p *Preferences) { p.Stories = false },
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// fill replaces {key} in format with data[key]; ok is false when a key is
// missing.
func fill(format string, data map[string]string) (string, bool) {
	ok := true
	out := placeholder.ReplaceAllStringFunc(format, func(m string) string {
		v, present := data[m[1:len(m)-1]]
		ok = ok && present
		return v
	})
	return out, ok
}

// Every push the server builds matches mobile-contract/PUSH.md: data keys,
// deep link, channel, collapse key, TTL, priority and preference per kind,
// and the APNs headers FCM is asked to send.
func TestPushContractDocument(t *testing.T) {
	raw, err := os.ReadFile(pushContract)
	if err != nil {
		t.Fatalf("the push contract: %v", err)
	}
	doc := string(raw)
	rows := markdownTable(t, doc, "Kind")
	documented := map[Kind]map[string]string{}
	for _, r := range rows {
		documented[Kind(unquote(r["Kind"]))] = r
	}
	for _, k := range Kinds {
		if documented[k] == nil {
			t.Errorf("kind %s is not in %s", k, pushContract)
		}
	}
	if len(documented) != len(Kinds) {
		t.Errorf("%s lists %d kinds, the server has %d", pushContract, len(documented), len(Kinds))
	}

	allKeys := map[string]bool{}
	for _, r := range markdownTable(t, doc, "Key") {
		allKeys[unquote(r["Key"])] = true
	}

	now := time.Date(2026, 6, 10, 10, 0, 0, 0, time.UTC)
	srv, sender := fakeFCM(t)
	var msgs []push.Message
	for _, k := range Kinds {
		row := documented[k]
		if row == nil {
			continue
		}
		required, optional := map[string]bool{}, map[string]bool{}
		for _, key := range strings.Split(row["Data keys"], ",") {
			key = unquote(key)
			if name, ok := strings.CutSuffix(key, "?"); ok {
				optional[unquote(name)] = true
			} else {
				required[key] = true
			}
			if !allKeys[strings.TrimSuffix(unquote(key), "?")] {
				t.Errorf("%s: data key %q is not described in the data keys table", k, key)
			}
		}
		seenOptional := map[string]bool{}
		for i, nn := range contractSamples(k) {
			nn.UserID = 1
			n := Notification{ID: int64(40 + i), Kind: k, Title: "t", Body: "b",
				DataJSON: nn.dataJSON(), DeepLink: nn.deepLink(), CollapseKey: nn.collapseKey()}
			m := Message(n, "tok-"+string(k)+"-"+strconv.Itoa(i), now)
			msgs = append(msgs, m)
			where := string(k) + " sample " + strconv.Itoa(i)

			for key := range required {
				if _, ok := m.Data[key]; !ok {
					t.Errorf("%s: data key %q missing from %v", where, key, m.Data)
				}
			}
			for key, v := range m.Data {
				switch {
				case optional[key]:
					seenOptional[key] = true
				case !required[key]:
					t.Errorf("%s: data key %q is not in the contract", where, key)
				}
				if strings.HasSuffix(key, "Id") {
					want := dataIDTypes[key]
					if key == "notificationId" {
						want = NotificationType
					}
					if typ, id, ok := gid.Decode(v); !ok || id <= 0 || typ != want {
						t.Errorf("%s: %s = %q is not the global id of a %s", where, key, v, want)
					}
				}
			}
			if m.Data["type"] != string(k) || m.Data["notificationId"] != gid.Encode(NotificationType, n.ID) {
				t.Errorf("%s: type %q, notificationId %q", where, m.Data["type"], m.Data["notificationId"])
			}

			var link string
			for _, alt := range strings.Split(row["Deep link"], " or ") {
				if l, ok := fill(unquote(alt), m.Data); ok {
					link = l
					break
				}
			}
			if link == "" || m.Data["deepLink"] != link {
				t.Errorf("%s: deep link %q, the contract says %q (%s)", where, m.Data["deepLink"], link, row["Deep link"])
			}
			if want := unquote(row["Channel"]); m.ChannelID != want {
				t.Errorf("%s: channel %q, the contract says %q", where, m.ChannelID, want)
			}
			// The collapse key is made of database numbers (PUSH.md).
			numbers := map[string]string{"notification": strconv.FormatInt(n.ID, 10), "activity": strconv.FormatInt(nn.ActivityID, 10),
				"slot": strconv.FormatInt(nn.SlotID, 10), "claim": strconv.FormatInt(nn.ClaimID, 10)}
			if want, _ := fill(unquote(row["Collapse key"]), numbers); m.CollapseKey != want {
				t.Errorf("%s: collapse key %q, the contract says %q", where, m.CollapseKey, want)
			}
			ttl, err := time.ParseDuration(unquote(row["TTL"]))
			if err != nil || m.TTL != ttl {
				t.Errorf("%s: TTL %s, the contract says %s", where, m.TTL, row["TTL"])
			}
			if want := unquote(row["Priority"]); m.Priority != want {
				t.Errorf("%s: priority %q, the contract says %q", where, m.Priority, want)
			}
			n.Urgent = true
			if urgent := Message(n, "tok", now); urgent.Priority != push.PriorityHigh {
				t.Errorf("%s: urgent push has priority %q, the contract says high", where, urgent.Priority)
			}
			if n.ExpiresAt = ptr(now.Add(30 * time.Second)); Message(n, "tok", now).TTL != time.Minute {
				t.Errorf("%s: a push about to go stale does not get the one-minute TTL", where)
			}
		}
		for key := range optional {
			if !seenOptional[key] {
				t.Errorf("%s: optional data key %q is never sent", k, key)
			}
		}

		pref := unquote(row["Preference"])
		for name, off := range contractPreference {
			p := DefaultPreferences(1)
			off(&p)
			if want := name != pref; p.Wants(k) != want {
				t.Errorf("%s: with %s off Wants is %v; the contract names preference %q", k, name, p.Wants(k), pref)
			}
		}
		if pref != "always pushed" && contractPreference[pref] == nil {
			t.Errorf("%s: preference %q is not a NotificationPreferences switch", k, pref)
		}
	}

	// The APNs headers, as FCM receives them from the Admin SDK.
	apnsPriority := map[string]string{}
	androidPriority := map[string]string{}
	for _, r := range markdownTable(t, doc, "Priority") {
		apnsPriority[unquote(r["Priority"])] = unquote(r["`apns-priority`"])
		androidPriority[unquote(r["Priority"])] = unquote(r["Android priority"])
	}
	if _, err := sender.Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	byToken := map[string]push.Message{}
	for _, m := range msgs {
		byToken[m.Token] = m
	}
	reqs := srv.Requests()
	if len(reqs) != len(msgs) {
		t.Fatalf("fake FCM received %d requests for %d messages", len(reqs), len(msgs))
	}
	for _, req := range reqs {
		m := byToken[req.Token]
		h := req.Message.APNS.Headers
		if h["apns-push-type"] != "alert" || h["apns-collapse-id"] != m.CollapseKey || h["apns-priority"] != apnsPriority[m.Priority] {
			t.Errorf("%s: APNs headers %v for priority %s, collapse key %s", m.Data["type"], h, m.Priority, m.CollapseKey)
		}
		exp, err := strconv.ParseInt(h["apns-expiration"], 10, 64)
		if sent := req.At.Unix(); err != nil || exp < sent+int64(m.TTL/time.Second)-60 || exp > sent+int64(m.TTL/time.Second)+60 {
			t.Errorf("%s: apns-expiration %q, want about %d + %s", m.Data["type"], h["apns-expiration"], sent, m.TTL)
		}
		if a := req.Message.Android; a == nil || a.Priority != androidPriority[m.Priority] || a.CollapseKey != m.CollapseKey ||
			a.Notification == nil || a.Notification.ChannelID != m.ChannelID {
			t.Errorf("%s: Android config %+v", m.Data["type"], a)
		}
	}
}

func ptr[T any](v T) *T { return &v }
