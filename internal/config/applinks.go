package config

import (
	"fmt"
	"regexp"
	"strings"
)

// AppLinks describe the app for apple-app-site-association,
// assetlinks.json and the public pages' "get the app" links.
type AppLinks struct {
	// AppleAppIDs are the iOS apps, "TEAMID.bundle.id" (APPLE_APP_IDS).
	AppleAppIDs []string
	// AppStoreID is the app's numeric App Store id (APP_STORE_ID).
	AppStoreID string
	// AndroidPackage is the Android application id (ANDROID_PACKAGE).
	AndroidPackage string
	// AndroidFingerprints are the SHA-256 fingerprints of the app's
	// signing certificates (ANDROID_CERT_FINGERPRINTS).
	AndroidFingerprints []string
	// MetaOEmbedToken is a Meta app access token ("app-id|app-secret"),
	// for the titles of Facebook and Instagram link cards
	// (META_OEMBED_TOKEN); a secret, never logged.
	MetaOEmbedToken string
}

var (
	appleAppID  = regexp.MustCompile(`^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$`)
	appStoreID  = regexp.MustCompile(`^[0-9]{6,12}$`)
	androidPkg  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$`)
	fingerprint = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)
)

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (a *AppLinks) read(str func(name, def string) string) []error {
	var errs []error
	for _, id := range list(str("APPLE_APP_IDS", "")) {
		if !appleAppID.MatchString(id) {
			errs = append(errs, fmt.Errorf("APPLE_APP_IDS must be a comma-separated list of TEAMID.bundle.id such as ABCDE12345.dk.ishoj.voresishoj, got %q", id))
			continue
		}
		a.AppleAppIDs = append(a.AppleAppIDs, id)
	}
	if a.MetaOEmbedToken = str("META_OEMBED_TOKEN", ""); strings.ContainsFunc(a.MetaOEmbedToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// Not quoted: the value is a secret.
		errs = append(errs, fmt.Errorf("META_OEMBED_TOKEN must be one token without spaces or control characters (a Meta app access token, app-id|app-secret)"))
		a.MetaOEmbedToken = ""
	}
	if a.AppStoreID = str("APP_STORE_ID", ""); a.AppStoreID != "" && !appStoreID.MatchString(a.AppStoreID) {
		errs = append(errs, fmt.Errorf("APP_STORE_ID must be the app's numeric App Store id such as 1234567890, got %q", a.AppStoreID))
		a.AppStoreID = ""
	}
	if a.AndroidPackage = str("ANDROID_PACKAGE", ""); a.AndroidPackage != "" && !androidPkg.MatchString(a.AndroidPackage) {
		errs = append(errs, fmt.Errorf("ANDROID_PACKAGE must be an application id such as dk.ishoj.voresishoj, got %q", a.AndroidPackage))
		a.AndroidPackage = ""
	}
	for _, f := range list(str("ANDROID_CERT_FINGERPRINTS", "")) {
		f = strings.ToUpper(f)
		if !fingerprint.MatchString(f) {
			errs = append(errs, fmt.Errorf("ANDROID_CERT_FINGERPRINTS must be SHA-256 fingerprints such as 14:6D:E9:…:4A (32 bytes, colon-separated hex), got %q", f))
			continue
		}
		a.AndroidFingerprints = append(a.AndroidFingerprints, f)
	}
	if len(a.AndroidFingerprints) > 0 && a.AndroidPackage == "" {
		errs = append(errs, fmt.Errorf("ANDROID_CERT_FINGERPRINTS needs ANDROID_PACKAGE"))
	}
	return errs
}
