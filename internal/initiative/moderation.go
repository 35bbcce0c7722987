package initiative

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// HideAfterReports is how many distinct people must report a proposal
// before it is hidden pending review – the same rule as for stories. One
// person cannot take something down, three usually mean a real problem.
const HideAfterReports = 3

const maxReason = 500

// Report is one person's report of an initiative.
type Report struct {
	UserID    int64     `db:"user_id"`
	Reason    string    `db:"reason"`
	CreatedAt time.Time `db:"created_at"`
}

// Report records that c finds the initiative inappropriate. The third
// distinct report since the last review hides it until the secretariat
// has looked; it reports whether this report hid it.
func (s *Service) Report(ctx context.Context, c user.Caller, id int64, reason string) (hid bool, err error) {
	// Verified only: anonymous accounts are free to make, and three of them
	// must not be enough to silence someone.
	if err := c.RequireVerified(); err != nil {
		return false, err
	}
	reason = strings.TrimSpace(reason)
	var errs apperr.List
	checkText(&errs, reason, maxReason, false, "reason")
	if err := errs.Err(); err != nil {
		return false, err
	}
	var name string
	var proposer int64
	err = s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		hid = false
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.ProposedBy(c) {
			return apperr.New(CodeOwnInitiative)
		}
		name, proposer = in.Name, idOf(in.ProposerID)
		now := s.now()
		_, err = store.Exec(ctx, tx, `INSERT INTO initiative_reports (initiative_id, user_id, reason, created_at) VALUES (?, ?, ?, ?)`,
			id, c.UserID, reason, now)
		if store.IsAlreadyExists(err) {
			return apperr.New(CodeAlreadyReported)
		}
		if err != nil {
			return fmt.Errorf("insert report: %w", err)
		}
		if in.Hidden {
			return nil
		}
		// Reports made before the last review were weighed then.
		var n int
		err = store.Get(ctx, tx, &n, `SELECT COUNT(*) FROM initiative_reports r JOIN initiatives i ON i.id = r.initiative_id
			WHERE r.initiative_id = ? AND (i.reviewed_at IS NULL OR r.created_at > i.reviewed_at)`, id)
		if err != nil {
			return fmt.Errorf("count reports: %w", err)
		}
		if n < HideAfterReports {
			return nil
		}
		if _, err := store.Exec(ctx, tx, `UPDATE initiatives SET hidden = TRUE, hidden_at = ?, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return fmt.Errorf("hide initiative: %w", err)
		}
		hid = true
		return s.record(ctx, tx, Event{Kind: EventHidden, InitiativeID: id, Name: name, ProposerID: proposer})
	})
	if err != nil {
		return false, wrapFault(err, "report initiative %d", id)
	}
	return hid, nil
}

// Decision is the secretariat's verdict on a reported initiative.
type Decision string

const (
	// Restore shows it again; earlier reports no longer count towards hiding.
	Restore Decision = "RESTORE"
	// Remove keeps it hidden and closes it.
	Remove Decision = "REMOVE"
)

// Review is the secretariat's decision on a reported or hidden initiative.
func (s *Service) Review(ctx context.Context, c user.Caller, id int64, d Decision) (Initiative, error) {
	if err := c.RequireSecretariat(); err != nil {
		return Initiative{}, err
	}
	if d != Restore && d != Remove {
		return Initiative{}, apperr.New(apperr.CodeInvalid, "decision")
	}
	var out Initiative
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		in, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if d == Restore {
			_, err = store.Exec(ctx, tx, `UPDATE initiatives SET hidden = FALSE, hidden_at = NULL, reviewed_at = ?, updated_at = ?
				WHERE id = ?`, now, now, id)
		} else {
			status, reason, closedAt := in.Status, in.CloseReason, in.ClosedAt
			if status == Proposed || status == Active {
				r := ClosedByModeration
				status, reason, closedAt = Closed, &r, &now
			}
			_, err = store.Exec(ctx, tx, `UPDATE initiatives SET hidden = TRUE, hidden_at = COALESCE(hidden_at, ?), reviewed_at = ?,
				status = ?, close_reason = ?, closed_at = ?, updated_at = ? WHERE id = ?`, now, now, status, reason, closedAt, now, id)
		}
		if err != nil {
			return fmt.Errorf("review initiative: %w", err)
		}
		if out, err = initiativeByID(ctx, tx, id); err != nil {
			return err
		}
		kind := EventRestored
		if d == Remove {
			kind = EventRemoved
		}
		return s.record(ctx, tx, Event{Kind: kind, InitiativeID: id, Name: out.Name, ProposerID: idOf(out.ProposerID), ActorID: c.UserID})
	})
	if err != nil {
		return Initiative{}, wrapFault(err, "review initiative %d", id)
	}
	return out, nil
}

// Reported is an initiative waiting for review with the number of reports
// since it was last reviewed.
type Reported struct {
	Initiative
	Reports int `db:"reports"`
}

// ReviewQueue returns, for the secretariat, the hidden initiatives and
// those with reports not yet reviewed: hidden first, then most reported.
func (s *Service) ReviewQueue(ctx context.Context, c user.Caller, limit int) ([]Reported, error) {
	if err := c.RequireSecretariat(); err != nil {
		return nil, err
	}
	var out []Reported
	err := store.Select(ctx, s.db, &out, `SELECT `+columns+`, q.reports FROM initiatives i
		JOIN (SELECT r.initiative_id, COUNT(*) AS reports FROM initiative_reports r
		      JOIN initiatives i2 ON i2.id = r.initiative_id
		      WHERE i2.reviewed_at IS NULL OR r.created_at > i2.reviewed_at
		      GROUP BY r.initiative_id) q ON q.initiative_id = i.id
		ORDER BY i.hidden DESC, q.reports DESC, i.id
		LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("initiative review queue: %w", err)
	}
	return out, nil
}

// Reports returns the reports of an initiative, newest first, for the
// secretariat deciding on it.
func (s *Service) Reports(ctx context.Context, c user.Caller, id int64) ([]Report, error) {
	if err := c.RequireSecretariat(); err != nil {
		return nil, err
	}
	var rs []Report
	err := store.Select(ctx, s.db, &rs, `SELECT user_id, reason, created_at FROM initiative_reports
		WHERE initiative_id = ? ORDER BY created_at DESC, user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("reports of initiative %d: %w", id, err)
	}
	return rs, nil
}
