package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/ratelimit"
	"github.com/ishoj/voresishoj/internal/redisconn"
	"github.com/ishoj/voresishoj/internal/requestid"
	"github.com/ishoj/voresishoj/internal/user"
)

//go:generate go run ../cmd/voresishoj-manifest -operations ../mobile-contract/operations -schema ../schema -out ../mobile-contract/trusted-documents.json -retired ../mobile-contract/retired-documents.json

// Error codes of refused requests, in extensions.code; the list of them
// is apperr's.
const (
	codeDepthLimit               = apperr.CodeDepthLimitExceeded
	codeAliasLimit               = apperr.CodeAliasLimitExceeded
	codeComplexityLimit          = apperr.CodeComplexityLimitExceeded
	codePayloadTooLarge          = apperr.CodePayloadTooLarge
	codeFieldLimit               = apperr.CodeFieldLimitExceeded
	codeRateLimited              = apperr.CodeRateLimited
	codeTooManyConnections       = apperr.CodeTooManyConnections
	codeTooManyOperations        = apperr.CodeTooManyOperations
	codePersistedQueryNotFound   = apperr.CodePersistedQueryNotFound
	codePersistedQueryRequired   = apperr.CodePersistedQueryRequired
	codeTimeout                  = apperr.CodeTimeout
	codeMethodNotAllowed         = apperr.CodeMethodNotAllowed
	codeUnsupportedMediaType     = apperr.CodeUnsupportedMediaType
	persistedQueryNotFoundApollo = "PersistedQueryNotFound"
)

func init() {
	// A refused document is the client's mistake in the request itself:
	// gqlgen answers these with a 4xx, as it does for parse errors.
	for _, code := range []string{codeDepthLimit, codeAliasLimit, codeFieldLimit, codeComplexityLimit, codePayloadTooLarge,
		codePersistedQueryNotFound, codePersistedQueryRequired} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

// Limits bound what one request may ask of the server. Zero values take
// the defaults below.
type Limits struct {
	// MaxDepth is the deepest field nesting (default 15).
	MaxDepth int
	// MaxAliases is the number of aliased fields (default 30).
	MaxAliases int
	// MaxTokens is the parser's token limit (default 15000).
	MaxTokens int
	// MaxFields bounds a document's fields and fragment spreads, counted
	// with fragments expanded, and its pairs of same-named fields
	// (default 1000); see documentBudget.
	MaxFields int
	// MaxBodyBytes bounds a request that is not an upload (default 1 MB).
	MaxBodyBytes int64
	// MaxUploadFileBytes bounds one uploaded file (default 15 MB).
	MaxUploadFileBytes int64
	// MaxUploadBytes bounds a whole multipart request (default 60 MB).
	MaxUploadBytes int64
	// Timeout is the deadline of one query or mutation (default 15 s),
	// over any transport; subscriptions are not bound by it.
	Timeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = 15
	}
	if l.MaxAliases == 0 {
		l.MaxAliases = 30
	}
	if l.MaxTokens == 0 {
		l.MaxTokens = 15000
	}
	if l.MaxFields == 0 {
		l.MaxFields = 1000
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxUploadFileBytes == 0 {
		l.MaxUploadFileBytes = 15 << 20
	}
	if l.MaxUploadBytes == 0 {
		l.MaxUploadBytes = 60 << 20
	}
	if l.Timeout == 0 {
		l.Timeout = 15 * time.Second
	}
	return l
}

// RateLimits are per person and per client IP; a zero Limit is off.
type RateLimits struct {
	PerPerson ratelimit.Limit
	PerIP     ratelimit.Limit
	// IPHeader names the header a trusted proxy puts the client's address
	// in (e.g. X-Real-IP); empty uses the connection's address. Only set
	// it behind a proxy that overwrites the header, or anyone can claim
	// any address.
	IPHeader string
}

// RetiredDocumentsFile is the name of the file beside the manifest that
// holds the documents released app versions still send after their
// operation changed (voresishoj-manifest moves them there).
const RetiredDocumentsFile = "retired-documents.json"

// LoadTrustedDocuments reads a manifest written by voresishoj-manifest,
// and the retired documents beside it when there are any.
func LoadTrustedDocuments(path string) (map[string]string, error) {
	docs, err := readManifest(path)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("trusted documents %s: no documents", path)
	}
	retired, err := readManifest(filepath.Join(filepath.Dir(path), RetiredDocumentsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for hash, doc := range retired {
		if _, ok := docs[hash]; !ok {
			docs[hash] = doc
		}
	}
	return docs, nil
}

func readManifest(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trusted documents: %w", err)
	}
	var docs map[string]string
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("parse trusted documents %s: %w", path, err)
	}
	return docs, nil
}

func codedError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// trustedDocuments executes only the documents of the app's manifest,
// asked for by hash in the Apollo persisted-query form. It takes the place
// of automatic persisted queries, which would let anyone register a
// document.
type trustedDocuments struct {
	docs map[string]string
}

func (trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedDocuments) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	var ext struct {
		Sha256 string `json:"sha256Hash"`
	}
	if pq, ok := p.Extensions["persistedQuery"]; ok {
		// The extension arrives as decoded JSON; re-reading it is the
		// simplest way to accept every shape a client may send.
		b, _ := json.Marshal(pq)
		_ = json.Unmarshal(b, &ext)
	}
	if ext.Sha256 == "" {
		return codedError(codePersistedQueryRequired, "%s", i18n.Text(i18n.Language(ctx), "PERSISTED_QUERY_REQUIRED", nil))
	}
	doc, ok := t.docs[strings.ToLower(ext.Sha256)]
	if !ok {
		// Apollo's persisted-query link looks for this very message.
		return codedError(codePersistedQueryNotFound, persistedQueryNotFoundApollo)
	}
	if p.Query != "" && p.Query != doc {
		return codedError(codePersistedQueryRequired, "%s", i18n.Text(i18n.Language(ctx), "PERSISTED_QUERY_MISMATCH", nil))
	}
	p.Query = doc
	return nil
}

// operationLimits refuses operations that are too deep, too aliased or
// too costly, and uploads that are too large. It runs after validation,
// so every field and fragment spread knows its definition.
type operationLimits struct {
	limits     Limits
	complexity int
}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if n := largestUpload(oc.Variables); n > o.limits.MaxUploadFileBytes {
		if flag, ok := ctx.Value(uploadTooLargeKey{}).(*atomic.Bool); ok {
			flag.Store(true)
		}
		return codedError(codePayloadTooLarge, "%s", i18n.Text(i18n.Language(ctx), "UPLOAD_FILE_TOO_LARGE", map[string]any{"MaxMB": o.limits.MaxUploadFileBytes >> 20}))
	}
	w := &walker{vars: oc.Variables, frags: map[string]cost{}}
	c := w.selectionSet(oc.Operation.SelectionSet)
	if c.depth > o.limits.MaxDepth {
		return codedError(codeDepthLimit, "%s", i18n.Text(i18n.Language(ctx), codeDepthLimit, map[string]any{"Depth": c.depth, "Max": o.limits.MaxDepth}))
	}
	if c.aliases > o.limits.MaxAliases {
		return codedError(codeAliasLimit, "%s", i18n.Text(i18n.Language(ctx), codeAliasLimit, map[string]any{"Aliases": c.aliases, "Max": o.limits.MaxAliases}))
	}
	if o.complexity > 0 && c.complexity > o.complexity {
		return codedError(codeComplexityLimit, "%s", i18n.Text(i18n.Language(ctx), codeComplexityLimit, map[string]any{"Complexity": c.complexity, "Max": o.complexity}))
	}
	return nil
}

// cost is what a selection set asks for. Sums saturate, so a fragment
// spread a million times cannot overflow them.
type cost struct {
	depth, aliases, complexity int
}

type walker struct {
	vars  map[string]any
	frags map[string]cost
}

func (w *walker) selectionSet(set ast.SelectionSet) cost {
	var total cost
	// Fragments on different object types are alternatives: an item of
	// an interface or union list is one of them, so the list costs its
	// dearest fragment, not all of them (the sync's `changed` lists
	// eight kinds). Fragments on interfaces may overlap, so they add up
	// like fields.
	alternatives := map[string]int{}
	for _, s := range set {
		var c cost
		if typ := objectCondition(s); typ != "" {
			c = w.selection(s)
			total.depth = max(total.depth, c.depth)
			total.aliases = add(total.aliases, c.aliases)
			alternatives[typ] = add(alternatives[typ], c.complexity)
			continue
		}
		c = w.selection(s)
		total.depth = max(total.depth, c.depth)
		total.aliases = add(total.aliases, c.aliases)
		total.complexity = add(total.complexity, c.complexity)
	}
	dearest := 0
	for _, n := range alternatives {
		dearest = max(dearest, n)
	}
	total.complexity = add(total.complexity, dearest)
	return total
}

// objectCondition is the object type a fragment applies to when it is
// spread into an interface or a union ("" for fields, fragments on
// interfaces and fragments on the enclosing type itself).
func objectCondition(s ast.Selection) string {
	switch s := s.(type) {
	case *ast.InlineFragment:
		if s.ObjectDefinition == nil || s.ObjectDefinition.Kind == ast.Object || s.TypeCondition == "" {
			return ""
		}
		// The fragment's own fields know the type they are on.
		for _, sel := range s.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && f.ObjectDefinition != nil && f.ObjectDefinition.Name == s.TypeCondition {
				if f.ObjectDefinition.Kind == ast.Object {
					return s.TypeCondition
				}
				return ""
			}
			if fs, ok := sel.(*ast.FragmentSpread); ok && fs.Definition != nil && fs.Definition.Definition != nil &&
				fs.Definition.Definition.Name == s.TypeCondition && fs.Definition.Definition.Kind == ast.Object {
				return s.TypeCondition
			}
		}
	case *ast.FragmentSpread:
		if s.ObjectDefinition == nil || s.ObjectDefinition.Kind == ast.Object || s.Definition == nil || s.Definition.Definition == nil {
			return ""
		}
		if d := s.Definition.Definition; d.Kind == ast.Object {
			return d.Name
		}
	}
	return ""
}

// selection is what one selection asks for.
func (w *walker) selection(s ast.Selection) cost {
	var c cost
	switch s := s.(type) {
	case *ast.Field:
		c = w.selectionSet(s.SelectionSet)
		c.depth++
		if s.Alias != "" && s.Alias != s.Name {
			c.aliases = add(c.aliases, 1)
		}
		// Complexity counts the objects an answer can hold, as
		// GitHub's node limit does: a scalar costs nothing beyond the
		// tokens it takes, an object or list 1, and a list with a page
		// size holds its children that many times.
		if len(s.SelectionSet) > 0 {
			c.complexity = add(1, mul(listSize(s, w.vars), c.complexity))
		}
	case *ast.InlineFragment:
		c = w.selectionSet(s.SelectionSet)
	case *ast.FragmentSpread:
		// Memoised: fragments spread in fragments would otherwise be
		// walked exponentially often.
		var ok bool
		if c, ok = w.frags[s.Name]; !ok && s.Definition != nil {
			w.frags[s.Name] = cost{} // validation refuses cycles; this guards anyway
			c = w.selectionSet(s.Definition.SelectionSet)
			w.frags[s.Name] = c
		}
	}
	return c
}

// listSize is how many times a field's children count: its `first` or
// `last` argument (the schema's default, else the server's default page
// size, when the client sends none), capped at the largest page the
// resolvers hand out; for `nodes(ids:)` the number of ids; for any other
// list its largest length (unpagedListSizes).
func listSize(f *ast.Field, vars map[string]any) int {
	if f.Definition == nil {
		return 1
	}
	args := f.ArgumentMap(vars)
	for _, name := range []string{"first", "last"} {
		if f.Definition.Arguments.ForName(name) == nil {
			continue
		}
		n := defaultPageSize
		switch v := args[name].(type) {
		case int:
			n = v
		case int64:
			n = int(min(v, math.MaxInt32))
		case float64:
			n = int(min(v, math.MaxInt32))
		case json.Number:
			if i, err := v.Int64(); err == nil {
				n = int(min(i, math.MaxInt32))
			}
		}
		return min(max(n, 1), maxPageSize)
	}
	if f.Definition.Type.Elem == nil {
		return 1
	}
	if f.Definition.Arguments.ForName("ids") != nil {
		ids, _ := args["ids"].([]any)
		return min(max(len(ids), 1), maxPageSize)
	}
	if f.ObjectDefinition != nil {
		// Introspection (development only) answers from the schema, not
		// the data: its lists are as long as the schema is, whoever asks,
		// and counting them as pages put GraphiQL's own query far over
		// the limit.
		if strings.HasPrefix(f.ObjectDefinition.Name, "__") {
			return 1
		}
		if n, ok := unpagedListSizes[f.ObjectDefinition.Name+"."+f.Name]; ok {
			return n
		}
		// A connection's edges are as many as its field's page, which
		// counted them already.
		if f.Name == "edges" && strings.HasSuffix(f.ObjectDefinition.Name, "Connection") {
			return 1
		}
	}
	return defaultPageSize
}

// unpagedListSizes are the largest lengths of the lists without `first`,
// for complexity: the domain's own bound where it has one, else a page
// (defaultPageSize), which is what any list not named here counts as
// too. A list whose items hold only scalars costs 1 whatever its length;
// TestEveryListHasASize makes every other list be named here.
var unpagedListSizes = map[string]int{
	// A sync's page holds at most its `first` objects, changed and
	// removed together, which the sync field counted already (as a
	// connection's edges).
	"SyncPage.changed": 1,
	"Activity.slots":   defaultPageSize,
	// A slot's claims are as many as its capacity (up to 500) and its
	// waitlist: a page is what a roster shows at once, not a bound.
	"VolunteerSlot.claims": defaultPageSize,
	"Me.claims":            defaultPageSize,
	// An occurrence's guests are as many as its seats (up to 2,000) or,
	// open, as many as come: a page is what the list shows at once.
	"Occurrence.attendees": defaultPageSize,
	"Me.follows":           defaultPageSize,
	// No one organises many organisations; the app's MyOrganisations
	// asks for 20 activities of each, so a page of them would cost 1,600.
	"Me.organises": 10,
	"Me.stories":   defaultPageSize,
	// Three counting reports hide a story; the others (weighed, or from
	// marked reporters) are a few more.
	"Story.reports":                 defaultPageSize,
	"FollowPayload.follows":         defaultPageSize,
	"Query.calendarSources":         defaultPageSize,
	"Query.calls":                   defaultPageSize,
	"VolunteerHours.byOrganisation": defaultPageSize,
	// A person's records: a requirement or two per organisation they
	// volunteer for.
	"Me.qualifications": defaultPageSize,
	// Open invitations: an organiser may have 20 unanswered ones out
	// (organisation.MaxPendingInvitations); a person is rarely asked by
	// more than a few organisations.
	"Me.organiserInvitations":           defaultPageSize,
	"Organisation.organiserInvitations": defaultPageSize,
	// At most 10 photos a story (story.maxPhotos); each now holds an
	// Image, which made the list one of objects.
	"Story.photos": 10,
}

const saturated = math.MaxInt32

func add(a, b int) int { return min(a+b, saturated) }

func mul(a, b int) int {
	if a != 0 && b > saturated/a {
		return saturated
	}
	return a * b
}

// largestUpload is the size of the largest file among the variables.
func largestUpload(v any) int64 {
	switch v := v.(type) {
	case graphql.Upload:
		return v.Size
	case *graphql.Upload:
		if v != nil {
			return v.Size
		}
	case map[string]any:
		var n int64
		for _, x := range v {
			n = max(n, largestUpload(x))
		}
		return n
	case []any:
		var n int64
		for _, x := range v {
			n = max(n, largestUpload(x))
		}
		return n
	}
	return 0
}

type uploadTooLargeKey struct{}

// guard is the HTTP side of the limits, in the order a request meets
// them: the headers every answer carries, CORS, the per-IP rate limit
// (before sign-in, so a refused token counts as any request does),
// sign-in, the per-person rate limit, the cap on live connections, body
// size, deadline. Websocket operations meet the same rate limits one by
// one (guardedConn).
type guard struct {
	log     *slog.Logger
	limits  Limits
	rates   RateLimits
	person  ratelimit.Limiter
	ip      ratelimit.Limiter
	origins []string
	// personConns caps the live connections (websockets and server-sent
	// event streams) of a signed-in person, addressConns those of
	// anonymous visitors per address; nil is no cap.
	personConns  ratelimit.Slots
	addressConns ratelimit.Slots
}

func newGuard(log *slog.Logger, opts Options, limits Limits) *guard {
	if log == nil {
		log = slog.Default()
	}
	g := &guard{log: log, limits: limits, rates: opts.RateLimits, origins: opts.CORSOrigins}
	newLimiter := func(name string, l ratelimit.Limit) ratelimit.Limiter {
		if !l.Enabled() {
			return nil
		}
		if opts.Redis != nil {
			return ratelimit.NewRedis(opts.Redis, opts.redisPrefix()+"ratelimit:"+name+":", l)
		}
		return ratelimit.NewMemory(l)
	}
	g.person = newLimiter("person", opts.RateLimits.PerPerson)
	g.ip = newLimiter("ip", opts.RateLimits.PerIP)
	newSlots := func(name string, max int) ratelimit.Slots {
		if max < 0 {
			return nil
		}
		if opts.Redis != nil {
			return ratelimit.NewRedisSlots(opts.Redis, opts.redisPrefix()+"connections:"+name+":", max, log)
		}
		return ratelimit.NewMemorySlots(max)
	}
	g.personConns = newSlots("person", cmp.Or(opts.MaxConnectionsPerPerson, 10))
	g.addressConns = newSlots("ip", cmp.Or(opts.MaxAnonymousConnectionsPerIP, 100))
	return g
}

func (g *guard) wrap(authenticate func(http.Handler) http.Handler, next http.Handler) http.Handler {
	signedIn := withLanguage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serveSignedIn(w, r, next)
	}))
	if authenticate != nil {
		signedIn = authenticate(signedIn)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers are personal and never to be cached, nor their JSON
		// read as anything else; gqlgen's SSE transport sets no-cache,
		// which noStoreWriter corrects.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !g.cors(w, r) {
			return
		}
		ip := g.clientIP(r)
		ctx := context.WithValue(r.Context(), clientIPKey{}, ip)
		ctx = i18n.WithLanguage(ctx, i18n.Match(r.Header.Get("Accept-Language")))
		r = r.WithContext(ctx)
		if !g.allow(w, r, g.ip, addressKey(ip)) {
			return
		}
		if !acceptedTransport(w, r) {
			return
		}
		signedIn.ServeHTTP(w, r)
	})
}

// acceptedTransport refuses, in the GraphQL error shape, a request that
// no transport of /graphql takes: gqlgen's own answer is a 400 labelled
// text/plain that says only "transport not supported". It reports
// whether the request goes on.
func acceptedTransport(w http.ResponseWriter, r *http.Request) bool {
	lang := i18n.Language(r.Context())
	switch r.Method {
	case http.MethodGet, http.MethodOptions:
		return true
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeHTTPError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, i18n.Text(lang, codeMethodNotAllowed, nil))
		return false
	}
	switch mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType {
	case "application/json", "multipart/form-data":
		return true
	}
	w.Header().Set("Accept-Post", "application/json, multipart/form-data")
	writeHTTPError(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, i18n.Text(lang, codeUnsupportedMediaType, nil))
	return false
}

// serveSignedIn is the part of the guard after sign-in.
func (g *guard) serveSignedIn(w http.ResponseWriter, r *http.Request, next http.Handler) {
	caller := user.CallerFrom(r.Context())
	if caller.UserID != 0 && !g.allow(w, r, g.person, strconv.FormatInt(caller.UserID, 10)) {
		return
	}
	ctx := r.Context()
	if streaming(r) {
		// A websocket takes its connection slot at connection_init, once
		// the caller is known; a stream of server-sent events once
		// eventStream (sse.go) knows it is a subscription, since clients
		// such as urql accept an event stream for every query.
		live := &liveConn{ip: clientIP(ctx), lang: i18n.Language(ctx)}
		ctx = context.WithValue(ctx, liveConnKey{}, live)
		defer live.release()
	}
	// A body found too large while gqlgen reads it, or a file found
	// too large once the form is read, sets the flag; the writer then
	// answers 413 whatever status gqlgen picks.
	tooLarge := &atomic.Bool{}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mediaType == "multipart/form-data":
		if r.ContentLength > g.limits.MaxUploadBytes {
			writeHTTPError(w, http.StatusRequestEntityTooLarge, codePayloadTooLarge,
				i18n.Text(i18n.Language(ctx), "UPLOAD_TOO_LARGE", map[string]any{"MaxMB": g.limits.MaxUploadBytes >> 20}))
			return
		}
		ctx = context.WithValue(ctx, uploadTooLargeKey{}, tooLarge)
		// A file over its limit is refused with a coded error in gqlgen's
		// answer (tooLarge); a form found over MaxUploadBytes while read,
		// without a Content-Length, would be gqlgen's uncoded "failed to
		// read file", so the form is bounded here too (cut) and answered
		// with ours. gqlgen bounds it as well (MaxUploadSize).
		cut := &atomic.Bool{}
		r.Body = flaggingReader{ReadCloser: http.MaxBytesReader(w, r.Body, g.limits.MaxUploadBytes), tooLarge: cut}
		w = &tooLargeWriter{ResponseWriter: w, tooLarge: tooLarge, cut: cut,
			refusal: i18n.Text(i18n.Language(ctx), "UPLOAD_TOO_LARGE", map[string]any{"MaxMB": g.limits.MaxUploadBytes >> 20})}
	case r.Body != nil && r.Body != http.NoBody:
		if r.ContentLength > g.limits.MaxBodyBytes {
			writeHTTPError(w, http.StatusRequestEntityTooLarge, codePayloadTooLarge,
				i18n.Text(i18n.Language(ctx), "BODY_TOO_LARGE", map[string]any{"MaxKB": g.limits.MaxBodyBytes >> 10}))
			return
		}
		r.Body = flaggingReader{ReadCloser: http.MaxBytesReader(w, r.Body, g.limits.MaxBodyBytes), tooLarge: tooLarge}
		// gqlgen's answer to a body cut off while it reads it says only
		// "could not read request body"; the writer answers ours.
		w = &tooLargeWriter{ResponseWriter: w, tooLarge: tooLarge, cut: tooLarge,
			refusal: i18n.Text(i18n.Language(ctx), "BODY_TOO_LARGE", map[string]any{"MaxKB": g.limits.MaxBodyBytes >> 10})}
	}
	// Subscriptions stay open as long as the client listens; a query
	// over a live connection gets its deadline from operationDeadline.
	if !streaming(r) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.limits.Timeout)
		defer cancel()
	}
	next.ServeHTTP(w, r.WithContext(ctx))
}

func streaming(r *http.Request) bool {
	return isWebsocket(r) || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// cors answers browsers from the configured origins; phones send no Origin
// and are not concerned. It reports whether the request goes on.
func (g *guard) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	allowed := slices.Contains(g.origins, origin)
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	w.Header().Add("Vary", "Origin")
	if !allowed {
		if preflight {
			writeHTTPError(w, http.StatusForbidden, apperr.CodeForbidden, i18n.Text(i18n.Match(r.Header.Get("Accept-Language")), "ORIGIN_NOT_ALLOWED", nil))
			return false
		}
		// Without the CORS headers the browser keeps the answer from the
		// page; other clients do not care about Origin.
		return true
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	if preflight {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Accept-Language, Apollo-Require-Preflight")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// connectionRetryAfter is the Retry-After, in seconds, of a refused live
// connection: a slot frees when another connection closes, which no one
// can foretell.
const connectionRetryAfter = 30

// holdConnection takes a live connection's slot: the person's when signed
// in, else the address's. It reports false when they hold all they may.
// When Redis fails the connection is let through, as with rate limits.
func (g *guard) holdConnection(ctx context.Context, live *liveConn, caller user.Caller) bool {
	slots, key := g.addressConns, addressKey(live.ip)
	if caller.UserID != 0 {
		slots, key = g.personConns, strconv.FormatInt(caller.UserID, 10)
	}
	if slots == nil {
		return true
	}
	lease, ok, err := slots.Acquire(ctx, key)
	if err != nil {
		g.log.WarnContext(ctx, "connection cap unavailable", slog.Any("error", err),
			slog.String("request_id", requestid.From(ctx)))
		return true
	}
	if !ok {
		g.log.InfoContext(ctx, "live connection refused: too many open", slog.Bool("signed_in", caller.UserID != 0),
			slog.String("request_id", requestid.From(ctx)))
		return false
	}
	live.hold(lease)
	return true
}

// liveConn is what the guard knows of one live connection (websocket or
// stream of server-sent events), shared with its websocket and its
// operations through the request context.
type liveConn struct {
	ip string

	mu     sync.Mutex
	userID int64
	lang   string
	lease  ratelimit.Lease
}

type liveConnKey struct{}

func liveConnFrom(ctx context.Context) *liveConn {
	c, _ := ctx.Value(liveConnKey{}).(*liveConn)
	return c
}

func (c *liveConn) hold(l ratelimit.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lease = l
}

// signedIn records the caller a websocket's connection_init named.
func (c *liveConn) signedIn(caller user.Caller, lang string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userID, c.lang = caller.UserID, lang
}

func (c *liveConn) caller() (userID int64, lang string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID, c.lang
}

// release gives the connection's slot back; the websocket's close and
// the end of its request both call it.
func (c *liveConn) release() {
	c.mu.Lock()
	l := c.lease
	c.lease = nil
	c.mu.Unlock()
	if l != nil {
		l.Release()
	}
}

type clientIPKey struct{}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// addressKey is the key of an address's limits (ratelimit.AddressKey).
func addressKey(ip string) string { return ratelimit.AddressKey(ip) }

// check asks a limiter whether one more request for key may pass. When
// Redis fails the request passes: a limit is protection, not a reason to
// be down.
func (g *guard) check(ctx context.Context, l ratelimit.Limiter, key string) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	res, err := l.Allow(ctx, key)
	if err != nil {
		g.log.WarnContext(ctx, "rate limit unavailable", slog.Any("error", err),
			slog.String("request_id", requestid.From(ctx)))
		return 0, true
	}
	return res.RetryAfter, res.Allowed
}

// allow applies one rate limit to an HTTP request, answering 429 when it
// is refused.
func (g *guard) allow(w http.ResponseWriter, r *http.Request, l ratelimit.Limiter, key string) bool {
	wait, ok := g.check(r.Context(), l, key)
	if ok {
		return true
	}
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeHTTPError(w, http.StatusTooManyRequests, codeRateLimited,
		i18n.Text(i18n.Language(r.Context()), codeRateLimited, map[string]any{"Seconds": secs}))
	return false
}

// allowOperation applies the HTTP rate limits to one operation of a live
// connection: per address always, per person once signed in.
func (g *guard) allowOperation(ctx context.Context, live *liveConn) (time.Duration, bool) {
	wait, ok := g.check(ctx, g.ip, addressKey(live.ip))
	if id, _ := live.caller(); ok && id != 0 {
		wait, ok = g.check(ctx, g.person, strconv.FormatInt(id, 10))
	}
	return wait, ok
}

func retryAfterSeconds(wait time.Duration) int { return ratelimit.RetryAfterSeconds(wait) }

func (g *guard) clientIP(r *http.Request) string { return ratelimit.ClientIP(r, g.rates.IPHeader) }

// noStoreWriter keeps a stream of server-sent events from being stored:
// gqlgen's SSE transport sets Cache-Control: no-cache, which allows a
// cache to keep a copy.
type noStoreWriter struct {
	http.ResponseWriter
}

func (w noStoreWriter) WriteHeader(status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(status)
}

func (w noStoreWriter) Write(b []byte) (int, error) {
	w.Header().Set("Cache-Control", "no-store")
	return w.ResponseWriter.Write(b)
}

func (w noStoreWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flaggingReader notes that a body went over its limit.
type flaggingReader struct {
	io.ReadCloser
	tooLarge *atomic.Bool
}

func (r flaggingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		r.tooLarge.Store(true)
	}
	return n, err
}

// tooLargeWriter answers 413 once the request was found too large. Where
// gqlgen's answer would not say why (the body cut off while read: cut, or
// gqlgen's own 413), it answers PAYLOAD_TOO_LARGE with refusal instead
// and drops gqlgen's body; where it does (a file over its limit, in the
// operation's errors: tooLarge), only the status changes.
type tooLargeWriter struct {
	http.ResponseWriter
	tooLarge, cut *atomic.Bool
	refusal       string
	wrote         bool
	replaced      bool
}

func (w *tooLargeWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if status < 500 && (w.cut.Load() || status == http.StatusRequestEntityTooLarge && !w.tooLarge.Load()) {
		w.replaced = true
		writeHTTPError(w.ResponseWriter, http.StatusRequestEntityTooLarge, codePayloadTooLarge, w.refusal)
		return
	}
	if w.tooLarge.Load() && status < 500 {
		status = http.StatusRequestEntityTooLarge
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *tooLargeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *tooLargeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets server-sent events through; gqlgen's SSE transport asks the
// writer itself for http.Flusher.
func (w *tooLargeWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// writeHTTPError answers a request refused before GraphQL saw it, in the
// GraphQL error shape clients already read.
func writeHTTPError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]string{"code": code}}},
	})
}

// boundedCache keeps automatic persisted queries, dropping documents
// larger than maxBytes so a client cannot fill the cache with megabytes.
type boundedCache struct {
	inner    graphql.Cache[string]
	maxBytes int
}

func (c boundedCache) Get(ctx context.Context, key string) (string, bool) {
	return c.inner.Get(ctx, key)
}

func (c boundedCache) Add(ctx context.Context, key, value string) {
	if len(value) <= c.maxBytes {
		c.inner.Add(ctx, key, value)
	}
}

// RedisCache is a graphql.Cache for automatic persisted queries shared by
// every replica; entries expire after TTL. Local, when set, is looked at
// first and keeps what this replica has seen: a document never changes
// under its hash, so the copy is always right, saves a Redis round trip,
// and is what the replica works from while Redis is away.
type RedisCache struct {
	Client *redis.Client
	Prefix string
	TTL    time.Duration
	Log    *slog.Logger
	Local  graphql.Cache[string]
}

// Get implements graphql.Cache. A Redis failure is a miss: the client
// then sends the full query.
func (c RedisCache) Get(ctx context.Context, key string) (string, bool) {
	if c.Local != nil {
		if v, ok := c.Local.Get(ctx, key); ok {
			return v, true
		}
	}
	v, err := c.Client.Get(ctx, c.Prefix+key).Result()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			redisconn.Fallback(ctx, c.Log, redisconn.APQ, fmt.Errorf("persisted query cache get: %w", err))
		}
		return "", false
	}
	if c.Local != nil {
		c.Local.Add(ctx, key, v)
	}
	return v, true
}

// Add implements graphql.Cache.
func (c RedisCache) Add(ctx context.Context, key, value string) {
	if c.Local != nil {
		c.Local.Add(ctx, key, value)
	}
	if err := c.Client.Set(ctx, c.Prefix+key, value, c.TTL).Err(); err != nil {
		redisconn.Fallback(ctx, c.Log, redisconn.APQ, fmt.Errorf("persisted query cache add: %w", err))
	}
}

// operationDeadline bounds every query and mutation by the request
// timeout, whatever the transport: the HTTP guard sets it for POST and
// GET, but a query sent over a websocket or as server-sent events runs in
// the connection's context. It also makes an operation that ran out of
// time before its answer was produced say so; gqlgen would otherwise
// answer nothing (null). Subscriptions last as long as the client listens.
type operationDeadline struct {
	timeout time.Duration
}

func (operationDeadline) ExtensionName() string                   { return "OperationDeadline" }
func (operationDeadline) Validate(graphql.ExecutableSchema) error { return nil }

func (d operationDeadline) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	h := next(ctx)
	first := true
	return func(ctx context.Context) *graphql.Response {
		ctx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		resp := h(ctx)
		if resp == nil && first && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			resp = &graphql.Response{Errors: gqlerror.List{codedError(codeTimeout, "%s", i18n.Text(i18n.Language(ctx), codeTimeout, nil))}}
		}
		first = false
		return resp
	}
}
