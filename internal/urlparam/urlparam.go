// Package urlparam reads the filter values of the public feed URLs
// (/ical/..., /feeds/...): ids and theme slugs, given either plainly or as
// the GraphQL global ids the app has, so links built from either work.
package urlparam

import (
	"strconv"
	"strings"

	"github.com/ishoj/voresishoj/internal/gid"
)

// ID accepts a plain database id or the global id of typ (unpadded
// base64url of "Type:id").
func ID(v, typ string) (int64, bool) {
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		if id <= 0 {
			return 0, false
		}
		return id, true
	}
	key, ok := globalKey(v, typ)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// Theme accepts a theme slug or a global id "Theme:<slug>".
func Theme(v string) (string, bool) {
	if key, ok := globalKey(v, "Theme"); ok {
		v = key
	}
	if len(v) > 50 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return v, v != ""
}

// globalKey decodes a global id and returns its key when its type is typ.
// A link may carry the id padded, as some tools write base64.
func globalKey(v, typ string) (string, bool) {
	if len(v) > 100 {
		return "", false
	}
	prefix, key, ok := gid.DecodeKey(strings.TrimRight(v, "="))
	if !ok || prefix != typ {
		return "", false
	}
	return key, true
}
