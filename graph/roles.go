package graph

import (
	"context"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/organisation"
)

// typeOrganiserInvitation is the global-id type of an invitation.
const typeOrganiserInvitation = "OrganiserInvitation"

// invitationPayload answers an invitation mutation with the invitation as
// the domain returned it for the caller, or the user errors.
func invitationPayload(ctx context.Context, inv organisation.Invitation, err error) (*model.OrganiserInvitationPayload, error) {
	if err != nil {
		ues, err := userErrors(ctx, err)
		return &model.OrganiserInvitationPayload{UserErrors: ues}, err
	}
	return &model.OrganiserInvitationPayload{Invitation: &inv, UserErrors: []model.UserError{}}, nil
}
