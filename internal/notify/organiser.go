package notify

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
)

// OrganiserInvited tells the person invited to organise, inside the
// transaction of the invitation (organisation.Notifier), so an invitation
// is never made without its notice. The text names the organisation and
// nothing about the invitee.
func (s *Service) OrganiserInvited(ctx context.Context, tx *sqlx.Tx, inv organisation.Invitation) error {
	if inv.UserID == nil {
		return nil
	}
	var name string
	if err := store.Get(ctx, tx, &name, `SELECT name FROM organisations WHERE id = ?`, inv.OrganisationID); err != nil {
		return fmt.Errorf("organisation of invitation %d: %w", inv.ID, err)
	}
	return s.Notify(ctx, tx, NewNotification{UserID: *inv.UserID, Kind: KindOrganiserInvitation,
		Params: map[string]any{"Organisation": name}})
}
