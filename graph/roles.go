package graph

// typeOrganiserInvitation is the global-id type of an invitation.
const typeOrganiserInvitation = "OrganiserInvitation"
