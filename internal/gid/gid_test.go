package gid

import (
	"strings"
	"testing"
)

func TestCodec(t *testing.T) {
	// The wire format the app has stored ids in since the first build.
	if got := Encode("Activity", 1); got != "QWN0aXZpdHk6MQ" {
		t.Errorf(`Encode("Activity", 1) = %q, want QWN0aXZpdHk6MQ`, got)
	}
	if got := EncodeKey("Theme", "natur"); got != "VGhlbWU6bmF0dXI" {
		t.Errorf(`EncodeKey("Theme", "natur") = %q`, got)
	}
	for _, id := range []int64{1, 42, 1 << 40} {
		typ, got, ok := Decode(Encode("VolunteerSlot", id))
		if !ok || typ != "VolunteerSlot" || got != id {
			t.Errorf("round trip of %d: %q %d %v", id, typ, got, ok)
		}
	}
	if typ, key, ok := DecodeKey(EncodeKey("Theme", "børn")); !ok || typ != "Theme" || key != "børn" {
		t.Errorf("round trip of a slug: %q %q %v", typ, key, ok)
	}
	for _, bad := range []string{
		"", "not base64!", "QWN0aXZpdHk6MQ==", // padded
		EncodeKey("Activity", "x"), EncodeKey("Activity", "0"), EncodeKey("Activity", "-3"),
		EncodeKey("Activity", "99999999999999999999"), EncodeKey("Activity", ""),
		"QWN0aXZpdHk", // "Activity" with no key
		Encode(strings.Repeat("A", 80), 1),
	} {
		if typ, id, ok := Decode(bad); ok {
			t.Errorf("Decode(%q) = %q %d, want refused", bad, typ, id)
		}
	}
}
