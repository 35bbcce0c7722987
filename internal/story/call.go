package story

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// CallStatus is whether a call for contributions takes stories.
type CallStatus string

const (
	CallOpen   CallStatus = "OPEN"
	CallClosed CallStatus = "CLOSED"
)

// User error codes of calls.
const (
	CodeCallNotFound   = "CALL_NOT_FOUND"
	CodeCallClosed     = "CALL_CLOSED"
	CodeDeadlineInPast = "DEADLINE_IN_PAST"
)

// Call is a call for contributions, e.g. the photo competition "Min
// sommer i Ishøj". Stories submitted to it after the deadline are refused.
type Call struct {
	ID             int64      `db:"id"`
	Title          string     `db:"title"`
	Description    string     `db:"description"`
	Deadline       time.Time  `db:"deadline"`
	OrganisationID *int64     `db:"organisation_id"`
	CreatedBy      *int64     `db:"created_by"`
	Status         CallStatus `db:"status"`
	CreatedAt      time.Time  `db:"created_at"`
}

// Open reports whether the call still takes stories at now.
func (c Call) Open(now time.Time) bool { return c.Status == CallOpen && !now.After(c.Deadline) }

// CallInput is a call as its organiser writes it.
type CallInput struct {
	Title          string
	Description    string
	Deadline       time.Time
	OrganisationID *int64 // empty: a call from the municipality (secretariat only)
}

const callColumns = `id, title, description, deadline, organisation_id, created_by, status, created_at`

// OpenCall opens a call for contributions: the secretariat for anyone,
// organisers for their own organisation.
func (s *Service) OpenCall(ctx context.Context, c user.Caller, in CallInput) (Call, error) {
	if in.OrganisationID == nil {
		if err := c.RequireSecretariat(); err != nil {
			return Call{}, err
		}
	} else if err := c.RequireOrganiserOf(*in.OrganisationID); err != nil {
		return Call{}, err
	}
	now := s.now()
	var errs apperr.List
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	switch {
	case in.Title == "":
		errs.Add(apperr.CodeRequired, "title")
	case len([]rune(in.Title)) > maxTitle:
		errs.Add(apperr.CodeTooLong, "title").With("Max", maxTitle)
	}
	if len([]rune(in.Description)) > 4000 {
		errs.Add(apperr.CodeTooLong, "description").With("Max", 4000)
	}
	if in.Deadline.IsZero() {
		errs.Add(apperr.CodeRequired, "deadline")
	} else if !in.Deadline.After(now) {
		errs.Add(CodeDeadlineInPast, "deadline")
	}
	if err := errs.Err(); err != nil {
		return Call{}, err
	}
	var id int64
	err := store.Get(ctx, s.db, &id, `INSERT INTO calls (title, description, deadline, organisation_id, created_by, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Title, in.Description, in.Deadline.UTC(), in.OrganisationID, c.UserID, CallOpen, now)
	if errors.Is(err, store.ErrConflict) {
		return Call{}, apperr.New(codeOrganisationNotFound, "organisationId")
	}
	if err != nil {
		return Call{}, fmt.Errorf("insert call: %w", err)
	}
	return s.callByID(ctx, id)
}

// CloseCall stops a call taking stories before its deadline.
func (s *Service) CloseCall(ctx context.Context, c user.Caller, id int64) (Call, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Call{}, err
	}
	call, err := s.callByID(ctx, id)
	if err != nil {
		return Call{}, err
	}
	if call.OrganisationID == nil {
		err = c.RequireSecretariat()
	} else {
		err = c.RequireOrganiserOf(*call.OrganisationID)
	}
	if err != nil {
		return Call{}, err
	}
	if _, err := store.Exec(ctx, s.db, `UPDATE calls SET status = ? WHERE id = ?`, CallClosed, id); err != nil {
		return Call{}, fmt.Errorf("close call %d: %w", id, err)
	}
	return s.callByID(ctx, id)
}

// Calls for contributions are public, open or closed: every caller sees
// them. The reads take the caller all the same, so the rule stays here.

// callByID returns one call, or CALL_NOT_FOUND, for the writes here.
func (s *Service) callByID(ctx context.Context, id int64) (Call, error) {
	var c Call
	err := store.Get(ctx, s.db, &c, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return Call{}, apperr.New(CodeCallNotFound)
	}
	if err != nil {
		return Call{}, fmt.Errorf("call %d: %w", id, err)
	}
	return c, nil
}

// CallsByIDs returns the calls among ids that c may see, in no
// particular order.
func (s *Service) CallsByIDs(ctx context.Context, c user.Caller, ids []int64) ([]Call, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := store.In(`SELECT `+callColumns+` FROM calls WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var calls []Call
	if err := store.Select(ctx, s.db, &calls, q, args...); err != nil {
		return nil, fmt.Errorf("calls by ids: %w", err)
	}
	return calls, nil
}

// Calls returns the calls c may see that still take stories, nearest
// deadline first, or with open false every call, newest first.
func (s *Service) Calls(ctx context.Context, c user.Caller, open bool) ([]Call, error) {
	var calls []Call
	var err error
	if open {
		err = store.Select(ctx, s.db, &calls, `SELECT `+callColumns+` FROM calls WHERE status = ? AND deadline >= ?
			ORDER BY deadline, id`, CallOpen, s.now())
	} else {
		err = store.Select(ctx, s.db, &calls, `SELECT `+callColumns+` FROM calls ORDER BY created_at DESC, id DESC`)
	}
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	return calls, nil
}

// checkCallOpen refuses a story for a call that does not exist, was
// closed or whose deadline has passed.
func checkCallOpen(ctx context.Context, q store.Querier, id int64, now time.Time) error {
	var c Call
	err := store.Get(ctx, q, &c, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(CodeCallNotFound, "callId")
	}
	if err != nil {
		return fmt.Errorf("call %d: %w", id, err)
	}
	if !c.Open(now) {
		return apperr.New(CodeCallClosed, "callId")
	}
	return nil
}
