package i18n

import (
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/tz"
)

// No kept pure-Go library formats CLDR dates (golang.org/x/text has the
// numbers, not the calendars), so the few patterns the backend needs are
// written out here, after CLDR's long day-and-month and short time
// patterns for each language:
//
//	da  d. MMMM 'kl.' HH.mm      1. december kl. 10.00
//	en  d MMMM 'at' HH:mm        1 December at 10:00
//	tr  d MMMM HH:mm             1 Aralık 10:00
//	ar  d MMMM، h:mm a           ١ ديسمبر، ١٠:٠٠ ص   (Arabic-Indic digits, ص/م)
//	ur  d MMMM، h:mm B           1 دسمبر، 10:00 صبح  (day period: صبح, دوپہر, شام, رات)
//
// Times are always in Europe/Copenhagen, where the activities are.
var months = map[string][12]string{
	"da": {"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"tr": {"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"},
	"ar": {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	"ur": {"جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست", "ستمبر", "اکتوبر", "نومبر", "دسمبر"},
}

// FormatTime writes t as a day of a month and a time of day in Copenhagen,
// the way lang writes them; a language without its own pattern gets
// Danish.
func FormatTime(lang string, t time.Time) string {
	t = t.In(tz.Copenhagen)
	l := base(lang)
	if _, ok := months[l]; !ok {
		l = Default
	}
	month := months[l][t.Month()-1]
	h, m := t.Hour(), t.Minute()
	switch l {
	case "en":
		return fmt.Sprintf("%d %s at %02d:%02d", t.Day(), month, h, m)
	case "tr":
		return fmt.Sprintf("%d %s %02d:%02d", t.Day(), month, h, m)
	case "ar":
		period := "ص"
		if h >= 12 {
			period = "م"
		}
		return printer("ar").Sprintf("%d %s، %d:%02d %s", t.Day(), month, hour12(h), m, period)
	case "ur":
		return fmt.Sprintf("%d %s، %d:%02d %s", t.Day(), month, hour12(h), m, urduPeriod(h))
	default:
		return fmt.Sprintf("%d. %s kl. %02d.%02d", t.Day(), month, h, m)
	}
}

// Clock is a time of day for a message's parameters: the end of a shift
// beside its start ("10.00–12.00"), written FormatClock's way, where a
// time.Time would repeat the day.
type Clock time.Time

// FormatClock writes the time of day of t in Copenhagen the way lang
// writes it beside a FormatTime (CLDR's short time pattern: da HH.mm,
// en and tr HH:mm, ar h:mm a with Arabic-Indic digits, ur h:mm B).
func FormatClock(lang string, t time.Time) string {
	t = t.In(tz.Copenhagen)
	h, m := t.Hour(), t.Minute()
	switch base(lang) {
	case "en", "tr":
		return fmt.Sprintf("%02d:%02d", h, m)
	case "ar":
		period := "ص"
		if h >= 12 {
			period = "م"
		}
		return printer("ar").Sprintf("%d:%02d %s", hour12(h), m, period)
	case "ur":
		return fmt.Sprintf("%d:%02d %s", hour12(h), m, urduPeriod(h))
	default:
		return fmt.Sprintf("%02d.%02d", h, m)
	}
}

func hour12(h int) int {
	if h%12 == 0 {
		return 12
	}
	return h % 12
}

// urduPeriod is CLDR's flexible day period for Urdu.
func urduPeriod(h int) string {
	switch {
	case h >= 4 && h < 12:
		return "صبح"
	case h >= 12 && h < 16:
		return "دوپہر"
	case h >= 16 && h < 20:
		return "شام"
	default:
		return "رات"
	}
}
