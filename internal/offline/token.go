package offline

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
)

// tokenVersion is the first field of every token; a token of another
// version is refused as invalid, so a change of format needs a new one.
// s1 tokens came before phones kept slots, claims, organisations, places,
// themes, follows and the inbox: a phone holding one never had those, so
// it answers expired and the phone syncs from scratch.
const (
	tokenVersion   = "s2"
	retiredVersion = "s1"
)

// position is what a sync token holds. The app sees it only as an opaque
// string; its numbers are positions in the change log (changelog.Horizon),
// the same on every replica and across restarts.
//
// A finished sync is at From: the log below it is applied. A sync in
// progress also has To, the horizon it runs up to, and the log row it is
// past (AfterTx, AfterSeq); during a first sync Full is set and Kind and
// AfterID say how far the listing has got, and To is where the log
// takes over.
type position struct {
	From     int64
	FromAt   time.Time // when From was read; the token expires from it
	To       int64     // 0: not started
	ToAt     time.Time
	AfterTx  int64
	AfterSeq int64
	Full     bool
	Kind     int
	AfterID  int64
}

var (
	// ErrInvalidToken answers a sync token the server did not make.
	ErrInvalidToken = apperr.New("INVALID_SYNC_TOKEN", "since")
	errExpiredToken = apperr.New("SYNC_TOKEN_EXPIRED", "since")
)

func (p position) encode() string {
	full := "0"
	if p.Full {
		full = "1"
	}
	fields := []string{tokenVersion,
		strconv.FormatInt(p.From, 10), strconv.FormatInt(unix(p.FromAt), 10),
		strconv.FormatInt(p.To, 10), strconv.FormatInt(unix(p.ToAt), 10),
		strconv.FormatInt(p.AfterTx, 10), strconv.FormatInt(p.AfterSeq, 10),
		full, strconv.Itoa(p.Kind), strconv.FormatInt(p.AfterID, 10)}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(fields, ".")))
}

// unix is t in seconds, 0 for no time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// decode reads a token; anything that is not one the server made is
// INVALID_SYNC_TOKEN. A token may be tampered with harmlessly: every
// object it leads to is read as the caller may see it.
func decode(s string) (position, error) {
	if len(s) > 200 {
		return position{}, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, ErrInvalidToken
	}
	f := strings.Split(string(raw), ".")
	if len(f) == 10 && f[0] == retiredVersion {
		return position{}, errExpiredToken
	}
	if len(f) != 10 || f[0] != tokenVersion || (f[7] != "0" && f[7] != "1") {
		return position{}, ErrInvalidToken
	}
	var n [9]int64
	for i := range n {
		if i == 6 {
			continue
		}
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || v < 0 {
			return position{}, ErrInvalidToken
		}
		n[i] = v
	}
	p := position{From: n[0], FromAt: time.Unix(n[1], 0), To: n[2], ToAt: time.Unix(n[3], 0),
		AfterTx: n[4], AfterSeq: n[5], Full: f[7] == "1", Kind: int(n[7]), AfterID: n[8]}
	if p.Kind >= len(kinds) || (p.Full && p.To == 0) {
		return position{}, ErrInvalidToken
	}
	return p, nil
}
