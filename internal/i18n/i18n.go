// Package i18n is the one message catalogue for every text the backend
// shows people: error messages now, push texts later. Danish is the
// default; English is complete; more languages (Arabic, Turkish, Urdu are
// spoken in Ishøj) are added as a locales/<tag>.json file.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
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

// Supported returns the language tags the catalogue has, e.g. ["da", "en"].
func Supported() []string {
	var out []string
	for _, t := range bundle.LanguageTags() {
		out = append(out, t.String())
	}
	return out
}

// Match picks the best supported language for the given preferences, most
// preferred first (a stored preference, then an Accept-Language header).
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
func Text(lang, id string, params map[string]any) string {
	loc := i18n.NewLocalizer(bundle, lang, Default)
	msg, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: params})
	if err != nil || strings.TrimSpace(msg) == "" {
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

type langKey struct{}

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
