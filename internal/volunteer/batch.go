package volunteer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/changelog"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/seat"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// Claims on one slot are admitted in batches (group commit): a
// transaction that locks the slot costs about the same for one claim as
// for fifty, and a popular shift opening is a thousand taps on one row.
// Each replica keeps one writer per slot with claims waiting; it takes
// every claim queued while its last transaction ran (up to maxBatch),
// judges them in arrival order inside one transaction that holds the
// locks a single claim takes (the people, then the slot), and answers
// each caller after the commit. Several replicas stay correct because the
// database decides: their writers queue on the same row locks.
//
// The writer runs on a context of its own, not the callers': a phone that
// gives up waiting still gets its claim, and its retry with the same
// idempotency key is told the same answer.
const maxBatch = 100

// batchTimeout bounds one batch's transaction, which no caller's context
// does.
const batchTimeout = time.Minute

type claimRequest struct {
	caller user.Caller
	key    string
	answer chan claimAnswer // buffered: the writer never waits for a caller
}

type claimAnswer struct {
	claim Claim
	err   error
}

// batcher holds the queues of claims waiting for their slot's writer.
type batcher struct {
	mu      sync.Mutex
	queues  map[int64][]*claimRequest // slot -> claims in arrival order
	closed  bool
	writers sync.WaitGroup
}

// enqueue queues r for slotID and starts the slot's writer if it has
// none. It reports false once the service is closing.
func (s *Service) enqueue(slotID int64, r *claimRequest) bool {
	b := &s.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if b.queues == nil {
		b.queues = map[int64][]*claimRequest{}
	}
	q, running := b.queues[slotID]
	b.queues[slotID] = append(q, r)
	if !running {
		b.writers.Add(1)
		go s.write(slotID)
	}
	return true
}

// next takes up to maxBatch claims off slotID's queue; with none left the
// writer is done and its queue is forgotten, under the same lock, so a
// claim queued a moment later starts a new writer.
func (b *batcher) next(slotID int64) []*claimRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queues[slotID]
	if len(q) == 0 {
		delete(b.queues, slotID)
		return nil
	}
	n := min(len(q), maxBatch)
	batch := slices.Clone(q[:n])
	b.queues[slotID] = slices.Clone(q[n:])
	return batch
}

// write is a slot's writer: it admits batches until the queue is empty.
func (s *Service) write(slotID int64) {
	defer s.batch.writers.Done()
	for {
		batch := s.batch.next(slotID)
		if batch == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		s.admit(ctx, slotID, batch)
		cancel()
	}
}

// Close stops taking claims into batches and waits until every claim
// queued has been admitted and answered. Claims after Close are judged one
// by one.
func (s *Service) Close() {
	s.batch.mu.Lock()
	s.batch.closed = true
	s.batch.mu.Unlock()
	s.batch.writers.Wait()
}

// claimQueued hands the claim to its slot's writer and waits for the
// answer, or for the caller to give up (the claim is made all the same).
func (s *Service) claimQueued(ctx context.Context, caller user.Caller, slotID int64, key string) (Claim, error) {
	r := &claimRequest{caller: caller, key: key, answer: make(chan claimAnswer, 1)}
	if !s.enqueue(slotID, r) {
		self := func(context.Context, *sqlx.Tx) (int64, error) { return caller.UserID, nil }
		return s.claim(context.WithoutCancel(ctx), caller, slotID, key, self)
	}
	select {
	case a := <-r.answer:
		return a.claim, a.err
	case <-ctx.Done():
		return Claim{}, ctx.Err()
	}
}

// admit judges a batch in one transaction and answers each claim. Should
// the transaction fail for a reason that is not a claimant's (a lost
// connection, a constraint the checks did not foresee), every claim of the
// batch is judged again alone, so one bad claim costs the others only
// time and each gets the answer it would have had without batching.
func (s *Service) admit(ctx context.Context, slotID int64, batch []*claimRequest) {
	// A panic here has no request to be recovered by: it would take the
	// server down with every claim queued. Each caller not yet answered
	// gets an internal error instead (a retry with its key is safe).
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "claim batch panicked", "slot_id", slotID, "claims", len(batch), "panic", p,
				"stack", string(debug.Stack()))
			for _, r := range batch {
				select {
				case r.answer <- claimAnswer{err: fmt.Errorf("claim batch on slot %d panicked: %v", slotID, p)}:
				default:
				}
			}
		}
	}()
	// As PostgreSQL keeps it, so the claims told are the claims stored.
	now := s.clock().Truncate(time.Microsecond)
	var (
		answers []claimAnswer
		events  []event.Event
	)
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var err error
		answers, events, err = s.decide(ctx, tx, slotID, batch, now)
		return err
	})
	if err != nil {
		slog.WarnContext(ctx, "claim batch failed; judging its claims one by one",
			"slot_id", slotID, "claims", len(batch), "error", err)
		for _, r := range batch {
			self := func(context.Context, *sqlx.Tx) (int64, error) { return r.caller.UserID, nil }
			c, err := s.claim(ctx, r.caller, slotID, r.key, self)
			r.answer <- claimAnswer{claim: c, err: err}
		}
		return
	}
	s.publish(ctx, events)
	for i, r := range batch {
		r.answer <- answers[i]
	}
}

// claimant is what decide learns about one person of a batch.
type claimant struct {
	exists    bool
	live      bool        // holds a live claim on the slot
	qualified bool        // has the slot's requirement, if any
	latest    []time.Time // own claims inside the quota window, newest first
	booked    []booking   // confirmed slots near the slot's days
}

type booking struct {
	UserID   int64     `db:"user_id"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
}

type rememberedKey struct {
	UserID    int64   `db:"user_id"`
	Key       string  `db:"key"`
	SlotID    int64   `db:"slot_id"`
	ClaimID   *int64  `db:"claim_id"`
	ErrorCode *string `db:"error_code"`
}

type personKey struct {
	userID int64
	key    string
}

// decide judges the batch in arrival order, with the rules and in the
// order a single claim is judged (claim): the person exists, a used key
// gets its first answer, the quota, the slot's rules, then a place or the
// queue. The reads are one statement each for the whole batch; what an
// earlier claim of the batch changed (a place taken, a person's live
// claim, their quota) is carried forward in memory.
func (s *Service) decide(ctx context.Context, tx *sqlx.Tx, slotID int64, batch []*claimRequest, now time.Time) ([]claimAnswer, []event.Event, error) {
	answers := make([]claimAnswer, len(batch))
	var ids []int64
	var keys []string
	for _, r := range batch {
		ids = append(ids, r.caller.UserID)
		if r.key != "" {
			keys = append(keys, r.key)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	people := make(map[int64]*claimant, len(ids))
	for _, id := range ids {
		people[id] = &claimant{}
	}

	// The people first, in id order, then the slot: the order every
	// change of claims locks in.
	var found []int64
	q, args, err := store.In(`SELECT id FROM users WHERE id IN (?) AND deleted_at IS NULL ORDER BY id`+s.db.ForUpdate(), ids)
	if err == nil {
		err = store.Select(ctx, tx, &found, q, args...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lock claimants of slot %d: %w", slotID, err)
	}
	for _, id := range found {
		people[id].exists = true
	}

	remembered := map[personKey]rememberedKey{}
	if len(keys) > 0 {
		var rows []rememberedKey
		q, args, err := store.In(`SELECT user_id, key, slot_id, claim_id, error_code FROM idempotency_keys
			WHERE user_id IN (?) AND key IN (?)`, ids, keys)
		if err == nil {
			err = store.Select(ctx, tx, &rows, q, args...)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("look up idempotency keys: %w", err)
		}
		for _, k := range rows {
			remembered[personKey{k.UserID, k.Key}] = k
		}
	}

	if s.claims.Enabled() {
		var rows []struct {
			UserID    int64     `db:"user_id"`
			CreatedAt time.Time `db:"created_at"`
		}
		q, args, err := store.In(`SELECT user_id, created_at FROM slot_claims
			WHERE user_id IN (?) AND created_by = user_id AND created_at > ? ORDER BY user_id, created_at DESC`,
			ids, s.claims.Since(now))
		if err == nil {
			err = store.Select(ctx, tx, &rows, q, args...)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("count claims of claimants: %w", err)
		}
		for _, r := range rows {
			p := people[r.UserID]
			if len(p.latest) < s.claims.N {
				p.latest = append(p.latest, r.CreatedAt)
			}
		}
	}

	sl, a, slotErr := claimedSlot(ctx, tx, slotID, s.db.ForUpdate())
	if slotErr != nil && apperr.UserErrors(slotErr) == nil {
		return nil, nil, slotErr
	}
	if slotErr == nil {
		if err := s.readClaimants(ctx, tx, sl, a, ids, people); err != nil {
			return nil, nil, err
		}
	}

	type accepted struct {
		index  int
		userID int64
		status string
	}
	var (
		taken    = sl.Taken
		admitted []accepted
		refused  []rememberedKey
		first    = map[personKey]int{} // a key's first claim in the batch
		replayed []int                 // claims answered with an earlier claim
	)
	for i, r := range batch {
		uid := r.caller.UserID
		p := people[uid]
		pk := personKey{uid, r.key}
		if r.key != "" {
			if j, ok := first[pk]; ok {
				// The same tap twice in one batch: the second is a retry.
				answers[i].err = fmt.Errorf("same key as claim %d of the batch", j)
				continue
			}
			first[pk] = i
		}
		if !p.exists {
			answers[i].err = apperr.New(CodeUserNotFound, "userId")
			continue
		}
		if k, ok := remembered[pk]; ok && r.key != "" {
			claimID, err := seat.Remembered{SameTarget: k.SlotID == slotID, ResultID: k.ClaimID, ErrorCode: k.ErrorCode}.Answer("slotId")
			if err != nil {
				answers[i].err = fmt.Errorf("key %q of user %d: %w", r.key, uid, err)
				continue
			}
			answers[i].claim.ID = claimID
			replayed = append(replayed, i)
			continue
		}
		err := s.claims.Check(CodeTooManyClaims, p.latest, now)
		if err == nil {
			err = slotErr
		}
		if err == nil {
			err = s.judge(r.caller, sl, a, p, now)
		}
		if err != nil {
			answers[i].err = err
			if code := seat.Refusal(err, replayableCodes); code != "" && r.key != "" {
				refused = append(refused, rememberedKey{UserID: uid, Key: r.key, SlotID: slotID, ErrorCode: &code})
			}
			continue
		}
		status := Waitlisted
		if taken < sl.Capacity {
			status = Confirmed
			taken++
			// Later claims of the batch by the same person see this one.
			p.booked = append(p.booked, booking{UserID: uid, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt})
		}
		p.live = true
		p.latest = append([]time.Time{now}, p.latest...)
		if len(p.latest) > s.claims.N {
			p.latest = p.latest[:s.claims.N]
		}
		admitted = append(admitted, accepted{index: i, userID: uid, status: status})
	}

	var events []event.Event
	if len(admitted) > 0 {
		// One live claim per person per slot holds in memory above and in
		// the database below (slot_claims_live_idx): a violation fails the
		// batch, and admit judges its claims again one by one.
		row := `(?, ?, ?, ?, ?, ?, ?)`
		args := make([]any, 0, 7*len(admitted))
		for _, c := range admitted {
			var confirmedAt *time.Time
			if c.status == Confirmed {
				confirmedAt = &now
			}
			createdBy := batch[c.index].caller.UserID
			args = append(args, slotID, c.userID, c.status, createdBy, now, confirmedAt, now)
		}
		var made []struct {
			ID     int64 `db:"id"`
			UserID int64 `db:"user_id"`
		}
		err := store.Select(ctx, tx, &made, `INSERT INTO slot_claims (slot_id, user_id, status, created_by, created_at, confirmed_at, updated_at)
			VALUES `+strings.Repeat(row+`, `, len(admitted)-1)+row+` RETURNING id, user_id`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("insert %d claims on slot %d: %w", len(admitted), slotID, err)
		}
		claimOf := make(map[int64]int64, len(made)) // person -> new claim
		for _, m := range made {
			claimOf[m.UserID] = m.ID
		}
		// The claims are told as inserted, without reading them back:
		// under the slot's lock the new claims are the slot's newest (every
		// claim on it is inserted under that lock), so a new waitlisted
		// claim's position is the count waiting before the batch
		// (sl.Waitlisted, kept with the claims by every path) plus its
		// place among the batch's waitlisted claims.
		confirmed, queued := 0, sl.Waitlisted
		var keyed []rememberedKey
		owned := make([]changelog.Owned, 0, len(admitted))
		for _, c := range admitted {
			id := claimOf[c.userID]
			if id == 0 {
				return nil, nil, fmt.Errorf("insert claims on slot %d: no id returned for user %d", slotID, c.userID)
			}
			createdBy := batch[c.index].caller.UserID
			told := Claim{ID: id, SlotID: slotID, UserID: c.userID, Status: c.status, CreatedBy: &createdBy,
				CreatedAt: now, ChangedAt: &now}
			kind := event.ClaimWaitlisted
			if c.status == Confirmed {
				kind = event.ClaimConfirmed
				confirmed++
				told.ConfirmedAt = &now
			} else {
				queued++
				position := queued
				told.WaitlistPosition = &position
			}
			answers[c.index].claim = told
			events = append(events, event.Event{Kind: kind, SlotID: slotID, ActivityID: sl.ActivityID,
				OrganisationID: a.OrganisationID, ClaimID: id, UserID: c.userID})
			owned = append(owned, changelog.Owned{ID: id, Person: c.userID})
			if k := batch[c.index].key; k != "" {
				keyed = append(keyed, rememberedKey{UserID: c.userID, Key: k, SlotID: slotID, ClaimID: &id})
			}
		}
		events = append(events, event.Event{Kind: event.SlotChanged, SlotID: slotID, ActivityID: sl.ActivityID, OrganisationID: a.OrganisationID})
		_, err = store.Exec(ctx, tx, `UPDATE volunteer_slots SET taken = taken + ?, waitlisted = waitlisted + ?, updated_at = ? WHERE id = ?`,
			confirmed, len(admitted)-confirmed, now, slotID)
		if err != nil {
			return nil, nil, fmt.Errorf("count %d claims on slot %d: %w", len(admitted), slotID, err)
		}
		// New claims join the end of the queue, so the claims already
		// waiting keep their positions and are not logged again (logChanges
		// logs them for changes that move them).
		if a.Status != "DRAFT" {
			if err := changelog.Record(ctx, tx, now, changelog.Slot, slotID); err != nil {
				return nil, nil, err
			}
		}
		if err := changelog.RecordEach(ctx, tx, now, changelog.Claim, owned); err != nil {
			return nil, nil, err
		}
		// Plain INSERT: a key remembered meanwhile for a refusal (the
		// one-by-one path remembers refusals after its transaction) fails
		// the batch rather than being silently left with two answers.
		if err := rememberKeys(ctx, tx, now, keyed, ""); err != nil {
			return nil, nil, err
		}
		if err := s.bus.Record(ctx, tx, events...); err != nil {
			return nil, nil, err
		}
	}
	if err := rememberKeys(ctx, tx, now, refused, ` ON CONFLICT (user_id, key) DO NOTHING`); err != nil {
		return nil, nil, err
	}

	// A retry is told its claim as it is now, waitlist position counted
	// in the database.
	var want []int64
	for _, i := range replayed {
		want = append(want, answers[i].claim.ID)
	}
	if len(want) > 0 {
		var got []Claim
		q, args, err := store.In(`SELECT `+claimColumns+` FROM slot_claims c WHERE c.id IN (?)`, want)
		if err == nil {
			err = store.Select(ctx, tx, &got, q, args...)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %d claims of slot %d: %w", len(want), slotID, err)
		}
		byID := make(map[int64]Claim, len(got))
		for _, c := range got {
			byID[c.ID] = c
		}
		for _, i := range replayed {
			c, ok := byID[answers[i].claim.ID]
			if !ok {
				// The slot was removed since, taking its claims with it.
				answers[i] = claimAnswer{err: apperr.New(CodeSlotNotFound, "slotId")}
				continue
			}
			answers[i].claim = c
		}
	}
	// A tap sent twice in one batch is answered as its first.
	for i, r := range batch {
		if r.key == "" {
			continue
		}
		if j := first[personKey{r.caller.UserID, r.key}]; j != i {
			answers[i] = answers[j]
		}
	}
	return answers, events, nil
}

// readClaimants reads, one statement per rule for the whole batch, what
// the slot's rules ask of each person: a live claim on it, the
// qualification it requires, their confirmed slots on its days.
func (s *Service) readClaimants(ctx context.Context, tx *sqlx.Tx, sl Slot, a activityInfo, ids []int64, people map[int64]*claimant) error {
	var live []int64
	q, args, err := store.In(`SELECT user_id FROM slot_claims WHERE slot_id = ? AND user_id IN (?) AND status <> 'CANCELLED'`, sl.ID, ids)
	if err == nil {
		err = store.Select(ctx, tx, &live, q, args...)
	}
	if err != nil {
		return fmt.Errorf("check existing claims: %w", err)
	}
	for _, id := range live {
		people[id].live = true
	}
	if sl.Requirement != nil {
		var ok []int64
		q, args, err := store.In(`SELECT user_id FROM user_qualifications
			WHERE user_id IN (?) AND organisation_id = ? AND requirement = ? AND expires_at >= ?`,
			ids, a.OrganisationID, *sl.Requirement, sl.EndsAt)
		if err == nil {
			err = store.Select(ctx, tx, &ok, q, args...)
		}
		if err != nil {
			return fmt.Errorf("check qualifications: %w", err)
		}
		for _, id := range ok {
			people[id].qualified = true
		}
	}
	first, end := s.scheduleWindow(sl)
	var booked []booking
	q, args, err = store.In(`SELECT c.user_id, s.starts_at, s.ends_at
		FROM slot_claims c JOIN volunteer_slots s ON s.id = c.slot_id
		WHERE c.user_id IN (?) AND c.status = 'CONFIRMED' AND c.slot_id <> ? AND s.starts_at < ? AND s.ends_at > ?`,
		ids, sl.ID, end.UTC(), first.UTC())
	if err == nil {
		err = store.Select(ctx, tx, &booked, q, args...)
	}
	if err != nil {
		return fmt.Errorf("confirmed slots of claimants: %w", err)
	}
	for _, b := range booked {
		people[b.UserID].booked = append(people[b.UserID].booked, b)
	}
	return nil
}

// judge applies checkClaimable's rules to one person of a batch from what
// readClaimants read.
func (s *Service) judge(caller user.Caller, sl Slot, a activityInfo, p *claimant, now time.Time) error {
	if err := slotOpen(caller, sl, a, now); err != nil {
		return err
	}
	if p.live {
		return apperr.New(CodeAlreadyClaimed, "slotId")
	}
	if sl.Requirement != nil && !p.qualified {
		return apperr.New(CodeRequirementNotMet, "slotId").With("Requirement", *sl.Requirement)
	}
	return s.fitsSchedule(sl, p.booked)
}

// rememberKeys stores the answers of keys in tx; onConflict is empty or
// an ON CONFLICT clause.
func rememberKeys(ctx context.Context, tx *sqlx.Tx, now time.Time, keys []rememberedKey, onConflict string) error {
	if len(keys) == 0 {
		return nil
	}
	row := `(?, ?, ?, ?, ?, ?)`
	args := make([]any, 0, 6*len(keys))
	for _, k := range keys {
		args = append(args, k.UserID, k.Key, k.SlotID, k.ClaimID, k.ErrorCode, now)
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO idempotency_keys (user_id, key, slot_id, claim_id, error_code, created_at)
		VALUES `+strings.Repeat(row+`, `, len(keys)-1)+row+onConflict, args...)
	if err != nil {
		return fmt.Errorf("remember %d idempotency keys: %w", len(keys), err)
	}
	return nil
}
