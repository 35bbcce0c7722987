package notify

import (
	"testing"

	"github.com/ishoj/voresishoj/internal/gid"
)

// Push data and deep links carry the API's global ids; inbox rows written
// when they carried database numbers read the same way.
func TestPushIDsAreGlobal(t *testing.T) {
	fresh := NewNotification{Kind: KindWaitlistPromoted, ActivityID: 30, SlotID: 31, ClaimID: 32}
	old := Notification{ID: 7, Kind: KindWaitlistPromoted, DeepLink: "voresishoj://slot/31",
		DataJSON: `{"type":"WAITLIST_PROMOTED","deepLink":"voresishoj://slot/31","activityId":"30","slotId":"31","claimId":"32"}`}
	now := Notification{ID: 7, Kind: KindWaitlistPromoted, DeepLink: fresh.deepLink(), DataJSON: fresh.dataJSON()}
	want := map[string]string{
		"type":           "WAITLIST_PROMOTED",
		"deepLink":       "voresishoj://slot/" + gid.Encode("VolunteerSlot", 31),
		"notificationId": gid.Encode("Notification", 7),
		"activityId":     gid.Encode("Activity", 30),
		"slotId":         gid.Encode("VolunteerSlot", 31),
		"claimId":        gid.Encode("SlotClaim", 32),
	}
	for name, n := range map[string]Notification{"new row": now, "row from before": old} {
		got := n.Payload()
		if len(got) != len(want) {
			t.Errorf("%s: payload %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
		if n.Link() != want["deepLink"] {
			t.Errorf("%s: link %q, want %q", name, n.Link(), want["deepLink"])
		}
	}
	for _, n := range []NewNotification{{AnnouncementID: 5}, {StoryID: 11}, {ActivityID: 30}} {
		link := Notification{DeepLink: n.deepLink()}.Link()
		if link != n.deepLink() {
			t.Errorf("a global link %q was rewritten to %q", n.deepLink(), link)
		}
	}
	if got := (NewNotification{AnnouncementID: 5}).deepLink(); got != "voresishoj://announcement/"+gid.Encode("Announcement", 5) {
		t.Errorf("announcement deep link %q", got)
	}
}
