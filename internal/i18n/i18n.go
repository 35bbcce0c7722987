// Package i18n is the one message catalogue for every text the backend
// shows people: error messages, push texts, calendar and feed texts, enum
// labels. Danish is the default and the source; English, Arabic, Turkish
// and Urdu have every message (a test fails otherwise). A language is a
// set of locales/<area>.<tag>.json files; review.csv tells which
// translations a native speaker has checked.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.json
var locales embed.FS

// Default is the language used when nothing else is known.
const Default = "da"

var bundle = load()

func load() *i18n.Bundle {
	b := i18n.NewBundle(language.Danish)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(locales, f); err != nil {
			panic(fmt.Sprintf("load %s: %v", path.Base(f), err))
		}
	}
	return b
}

// Supported returns the language tags the catalogue has, Danish first,
// e.g. ["da", "ar", "en", "tr", "ur"].
func Supported() []string {
	var out []string
	for _, t := range bundle.LanguageTags() {
		out = append(out, t.String())
	}
	return out
}

// Match picks the best supported language for the given preferences, most
// preferred first (the language a person chose, then an Accept-Language
// header). Empty preferences are skipped; nothing supported gives Danish.
func Match(prefs ...string) string {
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil {
			continue
		}
		for _, t := range tags {
			base, _ := t.Base()
			for _, s := range bundle.LanguageTags() {
				if sb, _ := s.Base(); sb == base {
					return s.String()
				}
			}
		}
	}
	return Default
}

// Text returns the message with id in lang, filled with params. A missing
// message falls back to Danish, then to the id itself so nothing is blank.
//
// Params are shown the language's way: a string (a name, a title, text a
// person wrote) is set in a bidi isolate where its direction may differ
// from the sentence's (see Isolate), a time.Time is a date and time in
// Copenhagen (FormatTime), a Clock a time of day (FormatClock), an integer is written in the language's digits.
// A message with plural forms (CLDR's one, few, other, ...) agrees with
// the param Count, else Max, else its only integer param.
func Text(lang, id string, params map[string]any) string {
	loc := i18n.NewLocalizer(bundle, lang, Default)
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: localParams(lang, params)}
	if n, ok := pluralCount(params); ok {
		cfg.PluralCount = n
	}
	// On a message this language lacks, Localize answers in Danish and
	// says so in err; the Danish text is still the best there is.
	msg, _ := loc.Localize(cfg)
	if strings.TrimSpace(msg) == "" {
		return id
	}
	return msg
}

// Has reports whether the catalogue has a message with id in Danish.
func Has(id string) bool {
	loc := i18n.NewLocalizer(bundle, Default)
	_, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

func localParams(lang string, params map[string]any) map[string]any {
	if len(params) == 0 {
		return params
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		switch v := v.(type) {
		case string:
			out[k] = isolateIn(lang, v)
		case time.Time:
			out[k] = isolateIn(lang, FormatTime(lang, v))
		case Clock:
			out[k] = isolateIn(lang, FormatClock(lang, time.Time(v)))
		default:
			if n, ok := integer(v); ok && Number(lang, 0) == "٠" {
				out[k] = arabicInt(n)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

func pluralCount(params map[string]any) (int64, bool) {
	for _, k := range []string{"Count", "Max"} {
		if n, ok := integer(params[k]); ok {
			return n, true
		}
	}
	var only int64
	found := 0
	for _, v := range params {
		if n, ok := integer(v); ok {
			only = n
			found++
		}
	}
	return only, found == 1
}

func integer(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), true
	}
	return 0, false
}

// Number writes an integer in the digits CLDR gives lang (Arabic-Indic
// for Arabic, Latin for the others), without grouping so years and ids
// read as they are.
func Number(lang string, n any) string {
	return printer(lang).Sprint(number.Decimal(n, number.NoSeparator()))
}

// arabicInt is an integer a template prints in Arabic-Indic digits. It
// stays an integer so {{if .WaitMinutes}} is false for zero, as it was.
type arabicInt int64

func (n arabicInt) String() string { return Number("ar", int64(n)) }

func printer(lang string) *message.Printer {
	return message.NewPrinter(language.Make(lang))
}

type langKey struct{}

type deviceKey struct{}

// WithDeviceLanguage returns a context carrying the language the device
// asked for (Accept-Language), which counts for a person who chose none.
func WithDeviceLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, deviceKey{}, lang)
}

// DeviceLanguage returns the device's language in ctx, else Language(ctx).
func DeviceLanguage(ctx context.Context) string {
	if l, ok := ctx.Value(deviceKey{}).(string); ok && l != "" {
		return l
	}
	return Language(ctx)
}

// WithLanguage returns a context carrying the language to answer in.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// Language returns the language in ctx, Danish by default.
func Language(ctx context.Context) string {
	if l, ok := ctx.Value(langKey{}).(string); ok && l != "" {
		return l
	}
	return Default
}
