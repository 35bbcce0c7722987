package i18n

import (
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"en-GB,en;q=0.9"}, "en"},
		{[]string{"", "da-DK"}, "da"},
		{[]string{"ar"}, "ar"},
		{[]string{"ar-SY,ar;q=0.9,da;q=0.5"}, "ar"},
		{[]string{"tr-TR,en;q=0.5"}, "tr"},
		{[]string{"ur-PK"}, "ur"},
		{[]string{"fr-FR,en;q=0.5"}, "en"},
		{[]string{"fr"}, "da"},
		{[]string{"%%%"}, "da"},
		// The language a person chose goes before the device's.
		{[]string{"ur", "en"}, "ur"},
		{[]string{"", "tr"}, "tr"},
	} {
		if got := Match(c.prefs...); got != c.want {
			t.Errorf("Match(%q) = %q, want %q", c.prefs, got, c.want)
		}
	}
}

// A sample of errors in every language, filled with their params.
func TestErrorsInEveryLanguage(t *testing.T) {
	for _, c := range []struct {
		lang, code string
		params     map[string]any
		want       string
	}{
		{"da", "SLOT_NOT_FOUND", nil, "Vagten findes ikke."},
		{"en", "SLOT_NOT_FOUND", nil, "The volunteer slot does not exist."},
		{"ar", "SLOT_NOT_FOUND", nil, "المناوبة التطوعية غير موجودة."},
		{"tr", "SLOT_NOT_FOUND", nil, "Gönüllü görevi mevcut değil."},
		{"ur", "SLOT_NOT_FOUND", nil, "رضاکارانہ ڈیوٹی موجود نہیں ہے۔"},
		{"da", "INVALID_LANGUAGE", nil, "Sproget understøttes ikke."},
		{"tr", "INVALID_LANGUAGE", nil, "Bu dil desteklenmiyor."},
		{"ar", "UNAUTHENTICATED", nil, "يجب عليك تسجيل الدخول للقيام بذلك."},
		{"ur", "FORBIDDEN", nil, "آپ کو یہ کرنے کی اجازت نہیں ہے۔"},
		{"da", "INVALID_CAPACITY", map[string]any{"Max": 500}, "Antal pladser skal være mellem 1 og 500."},
		{"en", "INVALID_CAPACITY", map[string]any{"Max": 500}, "The number of places must be between 1 and 500."},
		{"tr", "INVALID_CAPACITY", map[string]any{"Max": 500}, "Yer sayısı 1 ile 500 arasında olmalıdır."},
		{"ur", "INVALID_CAPACITY", map[string]any{"Max": 500}, "جگہوں کی تعداد 1 اور 500 کے درمیان ہونی چاہیے۔"},
		// Arabic writes numbers in Arabic-Indic digits (CLDR's default for ar).
		{"ar", "INVALID_CAPACITY", map[string]any{"Max": 500}, "يجب أن يكون عدد الأماكن بين ١ و٥٠٠."},
		{"ar", "TIME_OUT_OF_RANGE", map[string]any{"Min": 1900, "Max": 2200}, "يجب أن يقع الوقت بين عامي ١٩٠٠ و٢٢٠٠."},
		// Years are not grouped: 2200, not 2.200.
		{"da", "TIME_OUT_OF_RANGE", map[string]any{"Min": 1900, "Max": 2200}, "Tidspunktet skal ligge mellem år 1900 og 2200."},
		{"tr", "RATE_LIMITED", map[string]any{"Seconds": 30}, "Çok fazla istek. Biraz sonra tekrar deneyin (30 sn sonra)."},
	} {
		if got := Text(c.lang, c.code, c.params); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.lang, c.code, got, c.want)
		}
	}
}

// A spent limit says the limit and the wait in hours and minutes.
func TestLimitMessages(t *testing.T) {
	for _, c := range []struct {
		lang, code     string
		hours, minutes int
		want           string
	}{
		{"da", "TOO_MANY_STORIES", 1, 30, "Du kan indsende højst 10 historier i døgnet. Prøv igen om 1 t. og 30 min."},
		{"da", "TOO_MANY_REPORTS", 2, 0, "Du kan anmelde højst 10 historier i døgnet. Prøv igen om 2 t."},
		{"da", "TOO_MANY_CLAIMS", 0, 12, "Du kan tage højst 10 vagter i timen. Prøv igen om 12 min."},
		{"en", "TOO_MANY_STORIES", 1, 30, "You can submit at most 10 stories a day. Try again in 1 h 30 min."},
		{"en", "TOO_MANY_CLAIMS", 0, 1, "You can take at most 10 shifts an hour. Try again in 1 min."},
		{"en", "TOO_MANY_REPORTS", 3, 0, "You can report at most 10 stories a day. Try again in 3 h."},
		{"tr", "TOO_MANY_CLAIMS", 1, 5, "Saatte en fazla 10 görev alabilirsiniz. 1 sa. 5 dk. sonra tekrar deneyin."},
		{"ur", "TOO_MANY_STORIES", 0, 20, "آپ ایک دن میں زیادہ سے زیادہ 10 کہانیاں بھیج سکتے ہیں۔ 20 منٹ بعد دوبارہ کوشش کریں۔"},
		// Zero stays zero in Arabic-Indic digits too: no "٠ س".
		{"ar", "TOO_MANY_CLAIMS", 0, 12, "الحد الأقصى للمناوبات التي يمكنك أخذها في الساعة هو ١٠. حاول مرة أخرى بعد ١٢ د."},
		{"ar", "TOO_MANY_STORIES", 2, 5, "الحد الأقصى للقصص التي يمكنك إرسالها في اليوم هو ١٠. حاول مرة أخرى بعد ٢ س و٥ د."},
	} {
		got := Text(c.lang, c.code, map[string]any{"Max": 10, "WaitHours": c.hours, "WaitMinutes": c.minutes})
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.lang, c.code, got, c.want)
		}
	}
}

// Plural forms follow CLDR's rules per language: Arabic has six.
func TestPluralForms(t *testing.T) {
	for _, c := range []struct {
		lang, code string
		params     map[string]any
		want       string
	}{
		{"da", "push.STORY_HIDDEN.body", map[string]any{"Story": "Sommerfest", "Reports": 1}, `"Sommerfest" er skjult, fordi 1 person har anmeldt den. Den ligger i gennemgangskøen.`},
		{"da", "push.STORY_HIDDEN.body", map[string]any{"Story": "Sommerfest", "Reports": 3}, `"Sommerfest" er skjult, fordi 3 personer har anmeldt den. Den ligger i gennemgangskøen.`},
		{"en", "push.STORY_HIDDEN.body", map[string]any{"Story": "Summer party", "Reports": 1}, `"Summer party" is hidden because 1 person reported it. It is in the review queue.`},
		{"en", "push.STORY_HIDDEN.body", map[string]any{"Story": "Summer party", "Reports": 3}, `"Summer party" is hidden because 3 people reported it. It is in the review queue.`},
		{"da", "SLOT_TOO_LONG", map[string]any{"MaxHours": 1}, "En vagt kan højst vare 1 time."},
		{"da", "SLOT_TOO_LONG", map[string]any{"MaxHours": 12}, "En vagt kan højst vare 12 timer."},
		{"en", "TOO_LONG", map[string]any{"Max": 1}, "At most 1 character."},
		{"en", "TOO_LONG", map[string]any{"Max": 120}, "At most 120 characters."},
		{"ur", "TOO_MANY_PHOTOS", map[string]any{"Max": 1}, "ایک کہانی میں زیادہ سے زیادہ 1 تصویر ہو سکتی ہے۔"},
		{"ur", "TOO_MANY_PHOTOS", map[string]any{"Max": 10}, "ایک کہانی میں زیادہ سے زیادہ 10 تصاویر ہو سکتی ہیں۔"},
		{"ar", "TOO_LONG", map[string]any{"Max": 0}, "يجب ألا يزيد النص على ٠ حرف."},
		{"ar", "TOO_LONG", map[string]any{"Max": 1}, "يجب ألا يزيد النص على حرف واحد."},
		{"ar", "TOO_LONG", map[string]any{"Max": 2}, "يجب ألا يزيد النص على حرفين."},
		{"ar", "TOO_LONG", map[string]any{"Max": 3}, "يجب ألا يزيد النص على ٣ أحرف."},
		{"ar", "TOO_LONG", map[string]any{"Max": 10}, "يجب ألا يزيد النص على ١٠ أحرف."},
		{"ar", "TOO_LONG", map[string]any{"Max": 11}, "يجب ألا يزيد النص على ١١ حرفًا."},
		{"ar", "TOO_LONG", map[string]any{"Max": 99}, "يجب ألا يزيد النص على ٩٩ حرفًا."},
		{"ar", "TOO_LONG", map[string]any{"Max": 100}, "يجب ألا يزيد النص على ١٠٠ حرف."},
		{"ar", "TOO_LONG", map[string]any{"Max": 103}, "يجب ألا يزيد النص على ١٠٣ أحرف."},
	} {
		if got := Text(c.lang, c.code, c.params); got != c.want {
			t.Errorf("%s %s %v = %q, want %q", c.lang, c.code, c.params, got, c.want)
		}
	}
}

// Names and text people wrote sit in bidi isolates where their direction
// may differ from the sentence's, so an Arabic name in a Danish sentence
// or a Danish place in an Urdu one keeps its order and the sentence's
// punctuation stays where it belongs.
func TestBidiIsolation(t *testing.T) {
	for _, c := range []struct {
		lang, code string
		params     map[string]any
		want       string
	}{
		// An Arabic name in a Danish sentence.
		{"da", "push.INITIATIVE_JOINED.title", map[string]any{"Person": "ليلى منصور"}, FSI + "ليلى منصور" + PDI + " er med"},
		// A mixed-script title in an English sentence.
		{"en", "push.STORY_PUBLISHED.body", map[string]any{"Story": "Eid i Vejleåparken – عيد سعيد"},
			`"` + FSI + "Eid i Vejleåparken – عيد سعيد" + PDI + `" can now be read by everyone in Vores Ishøj. Thank you!`},
		// A Danish place in an Urdu sentence, and in an Arabic one.
		{"ur", "calimport.location", map[string]any{"Location": "Ishøj Havn, kaj 3"}, "جگہ: " + FSI + "Ishøj Havn, kaj 3" + PDI},
		{"ar", "push.NEW_EVENT.title", map[string]any{"Organisation": "Ishøj Roklub"}, "جديد من " + FSI + "Ishøj Roklub" + PDI},
		// Arabic text in an Arabic sentence is isolated too: the isolate
		// keeps a trailing Latin word or number from joining the sentence.
		{"ar", "push.INITIATIVE_JOINED.title", map[string]any{"Person": "سارة 2"}, "انضم " + FSI + "سارة 2" + PDI},
		// Plain Latin text in a left-to-right sentence needs nothing.
		{"da", "push.NEW_EVENT.title", map[string]any{"Organisation": "Ishøj Roklub"}, "Nyt fra Ishøj Roklub"},
		{"tr", "push.SHIFT_REMINDER_2H.title", map[string]any{"Slot": "Kaffe"}, "Yakında: Kaffe"},
		// Text without letters keeps its order by itself: isolating the
		// hours and minutes of a time apart would swap them in Arabic.
		{"ar", "pages.time", map[string]any{"Hour": "10", "Minute": "05"}, "الساعة 10:05"},
		// A Turkish sentence with an Urdu name.
		{"tr", "push.INITIATIVE_JOINED.title", map[string]any{"Person": "ثناء اقبال"}, FSI + "ثناء اقبال" + PDI + " katıldı"},
	} {
		got := Text(c.lang, c.code, c.params)
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.lang, c.code, got, c.want)
		}
		if strings.Count(got, FSI) != strings.Count(got, PDI) {
			t.Errorf("%s %s: unbalanced isolates in %q", c.lang, c.code, got)
		}
	}
}

// Dates and times are Copenhagen's, written the language's way.
func TestFormatTime(t *testing.T) {
	winter := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)  // 10.00 in Copenhagen (CET)
	summer := time.Date(2026, 7, 4, 12, 30, 0, 0, time.UTC) // 14.30 in Copenhagen (CEST)
	evening := time.Date(2026, 3, 5, 17, 5, 0, 0, time.UTC) // 18.05 (CET)
	for _, c := range []struct {
		lang string
		t    time.Time
		want string
	}{
		{"da", winter, "1. december kl. 10.00"},
		{"da", summer, "4. juli kl. 14.30"},
		{"en", winter, "1 December at 10:00"},
		{"tr", summer, "4 Temmuz 14:30"},
		{"tr", evening, "5 Mart 18:05"},
		{"ar", winter, "١ ديسمبر، ١٠:٠٠ ص"},
		{"ar", summer, "٤ يوليو، ٢:٣٠ م"},
		{"ur", winter, "1 دسمبر، 10:00 صبح"},
		{"ur", summer, "4 جولائی، 2:30 دوپہر"},
		{"ur", evening, "5 مارچ، 6:05 شام"},
		{"fr", winter, "1. december kl. 10.00"},
	} {
		if got := FormatTime(c.lang, c.t); got != c.want {
			t.Errorf("FormatTime(%s, %s) = %q, want %q", c.lang, c.t, got, c.want)
		}
	}
	// A Clock is the time of day alone, the way each language writes it
	// beside a FormatTime: the end of a shift.
	for _, c := range []struct {
		lang string
		t    time.Time
		want string
	}{
		{"da", winter, "10.00"}, {"da", evening, "18.05"}, {"en", summer, "14:30"}, {"tr", evening, "18:05"},
		{"ar", winter, "١٠:٠٠ ص"}, {"ar", summer, "٢:٣٠ م"}, {"ur", evening, "6:05 شام"}, {"fr", summer, "14.30"},
	} {
		if got := FormatClock(c.lang, c.t); got != c.want {
			t.Errorf("FormatClock(%s, %s) = %q, want %q", c.lang, c.t, got, c.want)
		}
	}
	// The slot-changed push names the new start and end in one style.
	end := winter.Add(2 * time.Hour)
	for lang, want := range map[string]string{
		"da": "Kaffe ved Fællesspisning er nu 1. december kl. 10.00–12.00. Kan du ikke, så giv vagten tilbage.",
		"en": "Kaffe at Fællesspisning is now 1 December at 10:00–12:00. If you cannot make it, give the shift back.",
	} {
		got := Text(lang, "push.SLOT_CHANGED.body", map[string]any{"Slot": "Kaffe", "Activity": "Fællesspisning", "Time": winter, "End": Clock(end)})
		if got != want {
			t.Errorf("%s SLOT_CHANGED body = %q, want %q", lang, got, want)
		}
	}
	if got := Text("ar", "push.SLOT_CHANGED.body", map[string]any{"Slot": "Kaffe", "Activity": "Fællesspisning", "Time": winter, "End": Clock(end)}); !strings.Contains(got, FSI+"١٢:٠٠ م"+PDI) {
		t.Errorf("ar SLOT_CHANGED body = %q, want the end as ١٢:٠٠ م, isolated", got)
	}
	// A time.Time param is formatted so, isolated in a right-to-left sentence.
	got := Text("ar", "push.NEW_EVENT.body", map[string]any{"Activity": "Fællesspisning", "Time": winter})
	want := FSI + "Fællesspisning" + PDI + " – " + FSI + "١ ديسمبر، ١٠:٠٠ ص" + PDI
	if got != want {
		t.Errorf("ar NEW_EVENT body = %q, want %q", got, want)
	}
	if got := Text("da", "push.NEW_EVENT.body", map[string]any{"Activity": "Fællesspisning", "Time": winter}); got != "Fællesspisning – 1. december kl. 10.00" {
		t.Errorf("da NEW_EVENT body = %q", got)
	}
}
