package pages

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/tz"
)

// lang is the language a page is written in: from ?lang= when it names a
// language of the catalogue, else from Accept-Language, else Danish.
type lang struct {
	Code string
	Dir  string // "rtl" for Arabic and Urdu, else "ltr"
	// explicit is the ?lang= value that chose it, "" when negotiated.
	explicit string
}

// rtl are the languages written right to left among those spoken in Ishøj.
var rtl = map[string]bool{"ar": true, "ur": true, "fa": true, "he": true}

// autonyms name each language in itself, for the language links; a
// language missing here is shown by its code.
var autonyms = map[string]string{
	"da": "Dansk", "en": "English", "ar": "العربية", "tr": "Türkçe", "ur": "اردو",
	"de": "Deutsch", "pl": "Polski", "so": "Soomaali", "fa": "فارسی",
}

func (s *Service) language(r *http.Request) *lang {
	l := &lang{}
	if q := r.URL.Query().Get("lang"); q != "" && supported(q) {
		l.Code, l.explicit = q, q
	} else {
		l.Code = i18n.Match(r.Header.Get("Accept-Language"))
	}
	l.Dir = "ltr"
	if rtl[base(l.Code)] {
		l.Dir = "rtl"
	}
	return l
}

func base(code string) string {
	b, _, _ := strings.Cut(code, "-")
	return strings.ToLower(b)
}

func supported(code string) bool {
	for _, s := range i18n.Supported() {
		if s == code {
			return true
		}
	}
	return false
}

// T is the message key in the page's language.
func (l *lang) T(key string) string { return i18n.Text(l.Code, key, nil) }

// TP is the message key filled with params.
func (l *lang) TP(key string, params map[string]any) string { return i18n.Text(l.Code, key, params) }

// Date writes the day of t in Ishøj, e.g. "lørdag 5. december 2026".
func (l *lang) Date(t time.Time) string {
	t = t.In(tz.Copenhagen)
	return l.TP("pages.date", map[string]any{
		"Weekday": l.T("pages.weekday." + strconv.Itoa(int(t.Weekday()))),
		"Day":     t.Day(),
		"Month":   l.T("pages.month." + strconv.Itoa(int(t.Month()))),
		"Year":    t.Year(),
	})
}

// Clock writes the time of day of t in Ishøj, e.g. "kl. 10.00".
func (l *lang) Clock(t time.Time) string {
	t = t.In(tz.Copenhagen)
	return l.TP("pages.time", map[string]any{"Hour": t.Format("15"), "Minute": t.Format("04")})
}

// When writes a span of time: its day and hours, or both days when it
// ends on another day.
func (l *lang) When(start, end time.Time) string {
	s, e := start.In(tz.Copenhagen), end.In(tz.Copenhagen)
	if s.Year() == e.Year() && s.YearDay() == e.YearDay() {
		return l.Date(s) + ", " + l.Clock(s) + "–" + strings.TrimPrefix(l.Clock(e), l.T("pages.time_prefix"))
	}
	return l.Date(s) + ", " + l.Clock(s) + " – " + l.Date(e) + ", " + l.Clock(e)
}

// languageLink is one of the page's other languages.
type languageLink struct {
	Code, Name, URL string
	Current         bool
}

// languageLinks lists the page at canonical in every language of the
// catalogue, for the language menu and hreflang alternates.
func languageLinks(canonical, current string) []languageLink {
	var out []languageLink
	for _, code := range i18n.Supported() {
		name := autonyms[code]
		if name == "" {
			name = code
		}
		u := canonical + "?lang=" + url.QueryEscape(code)
		out = append(out, languageLink{Code: code, Name: name, URL: u, Current: code == current})
	}
	return out
}
