// Package notify holds what people are told and how it reaches them: the
// devices they register, what they follow, their preferences and quiet
// hours, the in-app inbox, organisers' announcements, shift reminders, and
// durable push delivery through River jobs.
//
// A notification is a row in the inbox, written in the same transaction as
// the change that causes it (Notify) together with the River job that
// pushes it. The job records one delivery row per (notification, device)
// and marks it SENT as soon as FCM accepted it, so a retried or rescued
// job never pushes the same notification to a device twice.
package notify

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/clock"
	"github.com/ishoj/voresishoj/internal/gid"
	"github.com/ishoj/voresishoj/internal/i18n"
	"github.com/ishoj/voresishoj/internal/push"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Kind is what a notification is about. The app switches on it (data key
// "type") and it picks the Android channel and the preference that governs
// the push.
type Kind string

const (
	KindNewEvent          Kind = "NEW_EVENT"
	KindActivityChanged   Kind = "ACTIVITY_CHANGED"
	KindActivityCancelled Kind = "ACTIVITY_CANCELLED"
	KindAnnouncement      Kind = "ANNOUNCEMENT"
	KindReminder24h       Kind = "SHIFT_REMINDER_24H"
	KindReminder2h        Kind = "SHIFT_REMINDER_2H"
	KindWaitlistPromoted  Kind = "WAITLIST_PROMOTED"
	KindLateCancellation  Kind = "LATE_CANCELLATION"
	KindStoryPublished    Kind = "STORY_PUBLISHED"
	KindStoryRejected     Kind = "STORY_REJECTED"
	// KindStoryChangesRequested sends a story back to its author with the
	// reviewer's reason.
	KindStoryChangesRequested Kind = "STORY_CHANGES_REQUESTED"
	// KindSlotChanged tells a slot's volunteers its new times; a slot
	// moved with its activity is told as ACTIVITY_CHANGED.
	KindSlotChanged Kind = "SLOT_CHANGED"
	// KindSlotCancelled tells the volunteers of a removed slot that their
	// shift is gone.
	KindSlotCancelled Kind = "SLOT_CANCELLED"
	// KindStoryHidden tells the secretariat that reports hid a story.
	KindStoryHidden Kind = "STORY_HIDDEN"
	// KindOrganiserInvitation asks a person to become organiser; they
	// answer in the app (Me.organiserInvitations).
	KindOrganiserInvitation Kind = "ORGANISER_INVITATION"
	// KindSeatPromoted tells a guest their party got seats from the
	// waitlist of a seat-limited activity (internal/participation).
	KindSeatPromoted Kind = "SEAT_PROMOTED"
	// KindActivityFilling and KindActivityFull tell the organisers an
	// occurrence reached 80 % and 100 % of its seats.
	KindActivityFilling Kind = "ACTIVITY_FILLING"
	KindActivityFull    Kind = "ACTIVITY_FULL"
	// KindGuestReminder24h and KindGuestReminder2h remind a GOING guest
	// of the occurrence; the push carries participationId for a one-tap
	// release of the seats.
	KindGuestReminder24h Kind = "GUEST_REMINDER_24H"
	KindGuestReminder2h  Kind = "GUEST_REMINDER_2H"
)

// Kinds lists every kind, for contract tests.
var Kinds = []Kind{
	KindNewEvent, KindActivityChanged, KindActivityCancelled, KindAnnouncement,
	KindReminder24h, KindReminder2h, KindWaitlistPromoted, KindLateCancellation,
	KindStoryPublished, KindStoryRejected, KindStoryHidden, KindOrganiserInvitation,
	KindStoryChangesRequested, KindSlotChanged, KindSlotCancelled,
	KindSeatPromoted, KindActivityFilling, KindActivityFull, KindGuestReminder24h, KindGuestReminder2h,
}

// Config tunes the service; the zero value gives production defaults.
type Config struct {
	// AnnouncementsPerDay is how many announcements organisers may send per
	// organisation in 24 hours; the secretariat has no limit. Default 3.
	AnnouncementsPerDay int
	// Workers is how many delivery jobs one replica runs at once. Default 4.
	Workers int
	// FetchPollInterval is how often River looks for new jobs. Our
	// PostgreSQL driver (lib/pq through database/sql) has no LISTEN, so
	// this is the latency of a push. Default 1s.
	FetchPollInterval time.Duration
	// RetryBase is the first backoff after a temporary FCM failure; it
	// doubles per attempt up to RetryMax, with jitter. Default 5s and 1h.
	RetryBase, RetryMax time.Duration
	// MaxAttempts is how often one delivery is tried before it is given up
	// as FAILED. Default 10.
	MaxAttempts int
	// ReminderInterval is how often the reminder job looks for shifts.
	// Default 5 minutes.
	ReminderInterval time.Duration
	// BatchSize is how many messages go to the Sender at once (at most
	// push.MaxBatch, the default).
	BatchSize int
	// JobRetryPolicy overrides River's retry policy for jobs that fail as a
	// whole (database down, worker stopped); tests make it quick.
	JobRetryPolicy river.ClientRetryPolicy
	// Lease is how long rows a sending attempt claimed stay its own
	// without being renewed, and how long a delivery job may run before
	// River hands it to another worker as the job of a dead one
	// (PUSH_LEASE). Default 15s.
	Lease time.Duration
	// Now is the clock, clock.Real by default; the server passes its own
	// (DEV_NOW) and tests replace it. River schedules jobs on the real
	// clock.
	Now func() time.Time
	// Housekeeping is the periodic work the cluster does once (Task);
	// the server passes the domain's, see internal/app.
	Housekeeping []Task
	// Recorded, when set, hears the statuses deliveries were given once
	// they are committed (stats.go): n deliveries of status.
	Recorded func(status string, n int)
	// PublicURL is where the public pages are (PUBLIC_URL): each push
	// carries the https page of its deep link, which a browser opens for
	// a web push. Empty sends none.
	PublicURL string
}

// DefaultLease is Config.Lease when unset.
const DefaultLease = 15 * time.Second

func (c Config) withDefaults() Config {
	if c.AnnouncementsPerDay == 0 {
		c.AnnouncementsPerDay = 3
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = time.Second
	}
	if c.RetryBase == 0 {
		c.RetryBase = 5 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Hour
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.ReminderInterval == 0 {
		c.ReminderInterval = 5 * time.Minute
	}
	if c.BatchSize <= 0 || c.BatchSize > push.MaxBatch {
		c.BatchSize = push.MaxBatch
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.Now == nil {
		c.Now = clock.Real
	}
	return c
}

// Service is the notification domain.
type Service struct {
	db     *store.DB
	sender push.Sender
	log    *slog.Logger
	cfg    Config
	river  *river.Client[*sql.Tx]
	tasks  map[string]Task

	onCreated func(ctx context.Context, created []Created)
}

// New returns a service that pushes through sender (push.NewLog without
// Firebase credentials). It does not run jobs until Start.
func New(db *store.DB, sender push.Sender, log *slog.Logger, cfg Config) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, sender: sender, log: log, cfg: cfg.withDefaults(), tasks: map[string]Task{}}
	for _, t := range s.cfg.Housekeeping {
		if t.Name == "" || t.Every <= 0 || t.Run == nil || s.tasks[t.Name].Run != nil {
			return nil, fmt.Errorf("housekeeping task %q: needs a unique name, a positive interval and a function", t.Name)
		}
		s.tasks[t.Name] = t
	}
	rc, err := s.newRiverClient()
	if err != nil {
		return nil, err
	}
	s.river = rc
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// NewNotification is one notification to create for one person.
type NewNotification struct {
	UserID int64
	Kind   Kind
	// Params fill the catalogue texts push.<KIND>.title and .body (e.g.
	// Activity, Slot, Organisation, Time).
	Params map[string]any
	// Title and Body, when set, are used as they are instead of the
	// catalogue: an organiser's announcement is written by a person.
	Title, Body string

	ActivityID, SlotID, ClaimID, StoryID, AnnouncementID int64
	// ParticipationID is a guest's sign-up the push is about.
	ParticipationID int64
	// Urgent pushes may break quiet hours: a shift starting within hours.
	Urgent bool
	// ExpiresAt is when the push stops being useful (a reminder after the
	// shift began); it bounds the FCM TTL. Zero means the kind's default.
	ExpiresAt time.Time
}

// Notify creates notifications inside tx, the transaction of the change
// that causes them, and enqueues their delivery in the same transaction:
// if tx commits, the pushes will be sent; if it rolls back, nothing was
// promised.
//
// Notifications made this way reach live subscriptions (OnCreated) only
// through the inbox; the ones this package makes in its own transactions
// are announced after commit.
func (s *Service) Notify(ctx context.Context, tx *sqlx.Tx, ns ...NewNotification) error {
	_, err := s.insert(ctx, tx, ns)
	return err
}

// NotifySecretariat gives n to every member of the secretariat, inside tx
// like Notify: what the secretariat must act on (a story hidden by
// reports) is promised in the transaction of the change.
func (s *Service) NotifySecretariat(ctx context.Context, tx *sqlx.Tx, n NewNotification) error {
	var ids []int64
	if err := store.Select(ctx, tx, &ids, `SELECT id FROM users WHERE role = 'SECRETARIAT' AND deleted_at IS NULL ORDER BY id`); err != nil {
		return fmt.Errorf("secretariat: %w", err)
	}
	ns := make([]NewNotification, len(ids))
	for i, id := range ids {
		ns[i] = n
		ns[i].UserID = id
	}
	return s.Notify(ctx, tx, ns...)
}

// Created is a notification just written to someone's inbox.
type Created struct {
	ID, UserID int64
}

// OnCreated sets what is told of new notifications once their transaction
// has committed; live updates (notificationReceived) use it.
func (s *Service) OnCreated(f func(ctx context.Context, created []Created)) { s.onCreated = f }

// transact runs fn in a transaction and announces the notifications it
// wrote after the commit.
func (s *Service) transact(ctx context.Context, fn func(tx *sqlx.Tx, add func([]NewNotification) error) error) error {
	var created []Created
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		created = created[:0]
		return fn(tx, func(ns []NewNotification) error {
			c, err := s.insert(ctx, tx, ns)
			created = append(created, c...)
			return err
		})
	})
	if err == nil && len(created) > 0 && s.onCreated != nil {
		s.onCreated(ctx, created)
	}
	return err
}

// notificationsPerInsert is how many notifications one INSERT writes. A
// town-wide announcement reaches every resident; with a statement per row,
// 100,000 of them took longer than a request may (REQUEST_TIMEOUT, 15 s).
// 13 parameters a row stay well under SQLite's 32,766.
const notificationsPerInsert = 1000

const insertNotification = `INSERT INTO notifications
	(user_id, kind, title, body, data, deep_link, collapse_key, urgent, push, expires_at, send_after, created_at, announcement_id)
	VALUES `

func (s *Service) insert(ctx context.Context, tx *sqlx.Tx, ns []NewNotification) ([]Created, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	now := s.now()
	settings, err := s.recipientSettings(ctx, tx, ns)
	if err != nil {
		return nil, err
	}
	created := make([]Created, 0, len(ns))
	// Notifications whose push may go out at the same time share a job.
	batches := map[time.Time][]int64{}
	for start := 0; start < len(ns); start += notificationsPerInsert {
		chunk := ns[start:min(start+notificationsPerInsert, len(ns))]
		args := make([]any, 0, 13*len(chunk))
		for _, n := range chunk {
			st := settings[n.UserID]
			title, body := n.Title, n.Body
			params := withShownNames(st.Language, n.Params)
			if title == "" {
				title = i18n.Text(st.Language, "push."+string(n.Kind)+".title", params)
			}
			if body == "" {
				body = i18n.Text(st.Language, "push."+string(n.Kind)+".body", params)
			}
			pushIt := st.Prefs.Wants(n.Kind)
			sendAfter := now
			if pushIt && !n.Urgent {
				sendAfter = st.Prefs.QuietUntil(now)
			}
			var expires *time.Time
			if !n.ExpiresAt.IsZero() {
				e := n.ExpiresAt.UTC()
				expires = &e
			}
			args = append(args, n.UserID, n.Kind, title, body, n.dataJSON(), n.deepLink(), n.collapseKey(),
				n.Urgent, pushIt, expires, sendAfter, now, nullID(n.AnnouncementID))
		}
		// RETURNING promises no order, so every row says whose it is and
		// when its push may go out.
		var rows []struct {
			ID        int64      `db:"id"`
			UserID    int64      `db:"user_id"`
			Push      bool       `db:"push"`
			SendAfter store.Time `db:"send_after"`
		}
		q := insertNotification + strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)-1) +
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, user_id, push, send_after"
		if err := store.Select(ctx, tx, &rows, q, args...); err != nil {
			return nil, fmt.Errorf("insert %d notifications: %w", len(chunk), err)
		}
		owned := make([]changelog.Owned, 0, len(rows))
		for _, r := range rows {
			owned = append(owned, changelog.Owned{ID: r.ID, Person: r.UserID})
		}
		// The inbox is kept offline: each entry reaches its person's
		// phone at the next sync.
		if err := changelog.RecordEach(ctx, tx, now, changelog.Notification, owned); err != nil {
			return nil, err
		}
		for _, r := range rows {
			created = append(created, Created{ID: r.ID, UserID: r.UserID})
			if r.Push {
				batches[r.SendAfter.Time] = append(batches[r.SendAfter.Time], r.ID)
			}
		}
	}
	// Back in the order the rows were written, in which their ids were given.
	slices.SortFunc(created, func(a, b Created) int { return cmp.Compare(a.ID, b.ID) })
	for _, ids := range batches {
		slices.Sort(ids)
	}
	return created, s.enqueue(ctx, tx, batches)
}

// notifyInOwnTx is Notify for callers that react after another
// transaction committed.
func (s *Service) notifyInOwnTx(ctx context.Context, ns []NewNotification) error {
	if len(ns) == 0 {
		return nil
	}
	return s.transact(ctx, func(_ *sqlx.Tx, add func([]NewNotification) error) error {
		return add(ns)
	})
}

// enqueue inserts delivery jobs of at most one batch of notifications
// each, scheduled for when their pushes may go out.
func (s *Service) enqueue(ctx context.Context, tx *sqlx.Tx, batches map[time.Time][]int64) error {
	times := make([]time.Time, 0, len(batches))
	for t := range batches {
		times = append(times, t)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var params []river.InsertManyParams
	for _, t := range times {
		ids := batches[t]
		for len(ids) > 0 {
			n := min(len(ids), s.cfg.BatchSize)
			opts := &river.InsertOpts{MaxAttempts: 25}
			if t.After(s.now()) {
				opts.ScheduledAt = t
			}
			params = append(params, river.InsertManyParams{
				Args:       DeliverArgs{NotificationIDs: ids[:n]},
				InsertOpts: opts,
			})
			ids = ids[n:]
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := s.river.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("enqueue %d delivery jobs: %w", len(params), err)
	}
	return nil
}

type recipient struct {
	Language string
	Prefs    Preferences
}

// recipientSettings reads language and preferences of everyone in ns.
func (s *Service) recipientSettings(ctx context.Context, q store.Querier, ns []NewNotification) (map[int64]recipient, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, n := range ns {
		if !seen[n.UserID] {
			seen[n.UserID] = true
			ids = append(ids, n.UserID)
		}
	}
	out := make(map[int64]recipient, len(ids))
	for _, id := range ids {
		out[id] = recipient{Language: i18n.Default, Prefs: DefaultPreferences(id)}
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		query, args, err := store.In(`
			SELECT u.id, u.language,
				p.new_events, p.announcements, p.reminders, p.waitlist, p.stories, p.quiet_start, p.quiet_end
			FROM users u
			LEFT JOIN notification_preferences p ON p.user_id = u.id
			WHERE u.id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		var rows []struct {
			ID            int64         `db:"id"`
			Language      string        `db:"language"`
			NewEvents     sql.NullBool  `db:"new_events"`
			Announcements sql.NullBool  `db:"announcements"`
			Reminders     sql.NullBool  `db:"reminders"`
			Waitlist      sql.NullBool  `db:"waitlist"`
			Stories       sql.NullBool  `db:"stories"`
			QuietStart    sql.NullInt64 `db:"quiet_start"`
			QuietEnd      sql.NullInt64 `db:"quiet_end"`
		}
		if err := store.Select(ctx, q, &rows, query, args...); err != nil {
			return nil, fmt.Errorf("recipients' settings: %w", err)
		}
		for _, r := range rows {
			rc := recipient{Language: i18n.Match(r.Language), Prefs: DefaultPreferences(r.ID)}
			if r.NewEvents.Valid {
				rc.Prefs.NewEvents = r.NewEvents.Bool
				rc.Prefs.Announcements = r.Announcements.Bool
				rc.Prefs.Reminders = r.Reminders.Bool
				rc.Prefs.Waitlist = r.Waitlist.Bool
				rc.Prefs.Stories = r.Stories.Bool
				rc.Prefs.QuietStart = int(r.QuietStart.Int64)
				rc.Prefs.QuietEnd = int(r.QuietEnd.Int64)
			}
			out[r.ID] = rc
		}
	}
	return out, nil
}

func (n NewNotification) data() map[string]string {
	d := map[string]string{"type": string(n.Kind), "deepLink": n.deepLink()}
	put := func(k string, v int64) {
		if v != 0 {
			d[k] = gid.Encode(dataIDTypes[k], v)
		}
	}
	put("activityId", n.ActivityID)
	put("slotId", n.SlotID)
	put("claimId", n.ClaimID)
	put("storyId", n.StoryID)
	put("announcementId", n.AnnouncementID)
	put("participationId", n.ParticipationID)
	return d
}

func (n NewNotification) dataJSON() string {
	b, _ := json.Marshal(n.data()) // a map of strings always marshals
	return string(b)
}

// deepLink is where tapping the notification takes the app, with the
// target's global id (message.go).
func (n NewNotification) deepLink() string {
	switch {
	case n.StoryID != 0:
		return deepLinkTo("story", n.StoryID)
	case n.ClaimID != 0 && n.SlotID != 0:
		return deepLinkTo("slot", n.SlotID)
	case n.ActivityID != 0:
		return deepLinkTo("activity", n.ActivityID)
	case n.AnnouncementID != 0:
		return deepLinkTo("announcement", n.AnnouncementID)
	}
	return "voresishoj://notifications"
}

// collapseKey lets a newer push about the same thing replace an older one
// still waiting at FCM (two changes to one activity show once).
func (n NewNotification) collapseKey() string {
	switch n.Kind {
	case KindActivityChanged, KindActivityCancelled:
		return fmt.Sprintf("activity-%d", n.ActivityID)
	case KindSlotChanged:
		return fmt.Sprintf("slot-%d", n.SlotID)
	case KindReminder24h, KindReminder2h:
		return fmt.Sprintf("reminder-%d", n.ClaimID)
	}
	return ""
}

// nameParams are the text parameters that hold a person's display name.
var nameParams = []string{"Volunteer", "Person"}

// withShownNames returns params with every person's name as
// user.ShownName shows it in lang, so that a text about someone without
// a name (an older account, a deleted one) reads "En frivillig har meldt
// afbud", never " har meldt afbud". params itself is left as it is: it is
// shared by every recipient, each in their own language.
func withShownNames(lang string, params map[string]any) map[string]any {
	var out map[string]any
	for _, k := range nameParams {
		v, ok := params[k]
		if !ok {
			continue
		}
		name, _ := v.(string)
		if shown := user.ShownName(lang, name); shown != name {
			if out == nil {
				out = maps.Clone(params)
			}
			out[k] = shown
		}
	}
	if out == nil {
		return params
	}
	return out
}
