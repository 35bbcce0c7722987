// Package gid is the codec of the API's global ids: "Type:key" in
// unpadded base64url, so clients treat them as opaque and the server can
// tell an activity's id from a slot's. graph makes and reads them; the
// story and calendar feeds put them in links and read them from URLs.
package gid

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// maxLen bounds what is decoded; no id we make comes near it.
const maxLen = 100

// Encode returns the global id of the row id of type typ.
func Encode(typ string, id int64) string {
	return EncodeKey(typ, strconv.FormatInt(id, 10))
}

// EncodeKey returns the global id of typ with a key that is not a number,
// such as a theme's slug.
func EncodeKey(typ, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + key))
}

// DecodeKey returns the type and key of a global id.
func DecodeKey(s string) (typ, key string, ok bool) {
	if len(s) > maxLen {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(b), ":")
}

// Decode returns the type and row id of a global id; ok is false unless
// the key is a positive number.
func Decode(s string) (typ string, id int64, ok bool) {
	typ, key, ok := DecodeKey(s)
	if !ok {
		return "", 0, false
	}
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return typ, id, true
}
