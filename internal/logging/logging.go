// Package logging builds the server's one logger: JSON lines on stderr
// through log/slog, each line of a request carrying its request id, and
// people named only by pseudonyms. Everything else that logs (the log
// package, the Redis client, River, the Firebase SDK) is routed through it,
// so every line the process writes parses as JSON.
package logging

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ishoj/voresishoj/internal/requestid"
)

// Attribute keys the handler rewrites: a person's database id becomes a
// pseudonym under the key beside it.
const (
	// UserIDKey is for the person a line is about (a domain event's user).
	UserIDKey = "user_id"
	// CallerIDKey is for the person who made the request.
	CallerIDKey = "caller_id"
)

// KeyFile is where the pseudonym key is kept in DATA_DIR when
// LOG_CALLER_KEY is not set.
const KeyFile = "log-pseudonym.key"

// Pseudonyms turn a person's id into a stable token that lets an operator
// follow one person's requests through the log without the log saying who
// they are: the first 16 hex digits of HMAC-SHA256(key, id). With the key
// and the database the operator can still find a person (see
// Pseudonyms.Of); from the log alone nobody can.
type Pseudonyms struct {
	key []byte
}

// NewPseudonyms keys pseudonyms with key.
func NewPseudonyms(key []byte) *Pseudonyms { return &Pseudonyms{key: key} }

// Of returns the pseudonym of the person with id; 0 (nobody signed in) is "".
func (p *Pseudonyms) Of(id int64) string {
	if id == 0 {
		return ""
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// LoadPseudonyms keys pseudonyms with key, or else with the key in
// dataDir, written there on first start. Several replicas must share the
// key (LOG_CALLER_KEY) for one person to have one pseudonym across them.
// When dataDir cannot hold a key the pseudonyms last until the process
// ends, and warning says so.
func LoadPseudonyms(key, dataDir string) (p *Pseudonyms, warning string) {
	if key != "" {
		return NewPseudonyms([]byte(key)), ""
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := loadOrCreateKey(path)
	if err != nil {
		b = make([]byte, 32)
		_, _ = rand.Read(b)
		return NewPseudonyms(b), fmt.Sprintf("log pseudonyms change at every start: %v; set LOG_CALLER_KEY", err)
	}
	return NewPseudonyms(b), ""
}

func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := hex.EncodeToString(raw)
	// O_EXCL: of two processes starting together one writes, both read.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		b, err := os.ReadFile(path)
		return []byte(strings.TrimSpace(string(b))), err
	}
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(key + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return []byte(key), err
}

// New returns the JSON logger writing to w at level, with request ids
// added from the context and person ids replaced by pseudonyms from p (nil
// drops them).
func New(w io.Writer, level slog.Leveler, p *Pseudonyms) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		var name string
		switch a.Key {
		case UserIDKey:
			name = "user"
		case CallerIDKey:
			name = "caller"
		default:
			return a
		}
		var id int64
		switch a.Value.Kind() {
		case slog.KindInt64:
			id = a.Value.Int64()
		case slog.KindUint64:
			id = int64(a.Value.Uint64())
		case slog.KindString:
			id, _ = strconv.ParseInt(a.Value.String(), 10, 64)
		}
		if id == 0 || p == nil {
			return slog.Attr{} // dropped
		}
		return slog.String(name, p.Of(id))
	}}
	return slog.New(WithRequestID(slog.NewJSONHandler(w, opts)))
}

// Install makes log the process's default: slog.Default and the log
// package (whose output then goes through log's handler at Info).
func Install(log *slog.Logger) {
	slog.SetDefault(log)
}

// WithRequestID wraps h so each record logged with a request's context
// carries that request's id, unless it names one itself.
func WithRequestID(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestid.From(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
