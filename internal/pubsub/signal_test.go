package pubsub

import (
	"reflect"
	"testing"
)

func TestTopics(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{TopicActivityPublished(), "activity:published"},
		{TopicStoryPublished(), "story:published"},
		{TopicSlotChanged(42), "slot:activity:42"},
		{TopicNotification(7), "notification:user:7"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSignalRoundTrip(t *testing.T) {
	for _, s := range []Signal{
		{Kind: "slot.changed", ActivityID: 42, SlotID: 3},
		{Kind: "activity.published", ActivityID: 1, OrganisationID: 2, PlaceID: 3, Themes: []string{"natur", "børn"}},
		{Kind: "notification", NotificationID: 9, UserID: 7},
		{Kind: "story.published", StoryID: 5},
	} {
		b, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip: got %+v, want %+v", got, s)
		}
	}
}

func TestSignalWireFormat(t *testing.T) {
	// Other replicas may run an older build during a rolling deploy, so the
	// field names are part of the contract. Zero ids are left out.
	b, err := Signal{Kind: "slot.changed", ActivityID: 42, SlotID: 3}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"slot.changed","activityId":42,"slotId":3}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	if _, err := Decode([]byte("not json")); err == nil {
		t.Fatal("Decode accepted garbage")
	}
}
