package weblink

import (
	"testing"

	"github.com/ishoj/voresishoj/internal/gid"
)

func TestFromDeepLink(t *testing.T) {
	l := New("https://voresishoj.example/")
	for link, want := range map[string]string{
		// The formats of PUSH.md, with numbers and with global ids.
		"voresishoj://activity/42":                            "https://voresishoj.example/activities/" + gid.Encode("Activity", 42),
		"voresishoj://activity/" + gid.Encode("Activity", 42): "https://voresishoj.example/activities/" + gid.Encode("Activity", 42),
		"voresishoj://story/7":                                "https://voresishoj.example/stories/" + gid.Encode("Story", 7),
		"voresishoj://slot/3":                                 "https://voresishoj.example/slots/" + gid.Encode("VolunteerSlot", 3),
		"voresishoj://slot/" + gid.Encode("VolunteerSlot", 3): "https://voresishoj.example/slots/" + gid.Encode("VolunteerSlot", 3),
		// Nothing public to show: the app page.
		"voresishoj://announcement/5":                     "https://voresishoj.example/app",
		"voresishoj://notifications":                      "https://voresishoj.example/app",
		"voresishoj://activity/" + gid.Encode("Story", 7): "https://voresishoj.example/app",
		"voresishoj://activity/-1":                        "https://voresishoj.example/app",
		"voresishoj://activity/":                          "https://voresishoj.example/app",
		"https://elsewhere.example/x":                     "https://voresishoj.example/app",
		"":                                                "https://voresishoj.example/app",
	} {
		if got := l.FromDeepLink(link); got != want {
			t.Errorf("FromDeepLink(%q) = %q, want %q", link, got, want)
		}
	}
}
