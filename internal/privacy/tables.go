package privacy

import "strings"

// Table is one table that holds personal data, or whose columns look as if
// they did, with where the export and the account deletion deal with it.
// TestPrivacyRegister (graph) fails when the migrated schema has a table
// with a column pointing to users, or an e-mail, phone, name, device,
// token or uid column, that is missing here or from PRIVACY.md, and
// TestExportHasEverything when an exported column's rows are not in its
// section.
type Table struct {
	Name string
	// Export maps each column that points to a person (a foreign key to
	// users) to the export sections holding the rows, separated by spaces
	// (their own claims are under claims, those they entered for others
	// under claimsEnteredForOthers); "profile" for the person's own row.
	Export map[string]string
	// Deletion names the function that deals with the table when an
	// account is deleted; it must appear in this package's DeleteAccount.
	Deletion string
	// NotPersonal says why a table whose columns look personal holds no
	// personal data; then Export and Deletion are empty.
	NotPersonal string
}

// Tables is the register of personal data (PRIVACY.md says the same for
// people).
var Tables = []Table{
	{Name: "users", Export: map[string]string{"id": "profile"}, Deletion: "user.EraseTx"},
	{Name: "secretariat_grants", Export: map[string]string{"email": "profile"}, Deletion: "user.EraseTx"},
	{Name: "organisers", Export: map[string]string{"user_id": "organises", "added_by": "organisersAdded"}, Deletion: "organisation.RemovePersonTx"},
	{Name: "organiser_invitations", Export: map[string]string{"user_id": "organiserInvitations", "email": "organiserInvitations",
		"invited_by": "organiserInvitationsSent"}, Deletion: "organisation.RemovePersonTx"},
	{Name: "activities", Export: map[string]string{"created_by": "activitiesCreated"}, Deletion: "activity.ForgetCreatorTx"},
	{Name: "volunteer_slots", Export: map[string]string{"created_by": "slotsCreated"}, Deletion: "volunteer.ForgetPersonTx"},
	{Name: "slot_claims", Export: map[string]string{"user_id": "claims", "created_by": "claims claimsEnteredForOthers"}, Deletion: "volunteer.ForgetPersonTx"},
	{Name: "idempotency_keys", Export: map[string]string{"user_id": "claimRequestKeys"}, Deletion: "volunteer.ForgetPersonTx"},
	{Name: "user_qualifications", Export: map[string]string{"user_id": "qualifications", "recorded_by": "qualifications qualificationsRecordedForOthers"},
		Deletion: "volunteer.ForgetPersonTx"},
	{Name: "participations", Export: map[string]string{"user_id": "participations", "created_by": "participations participationsEnteredForOthers"},
		Deletion: "ParticipationForgetter"},
	{Name: "participation_keys", Export: map[string]string{"user_id": "participationRequestKeys"}, Deletion: "ParticipationForgetter"},
	{Name: "stories", Export: map[string]string{"author_id": "stories", "author_name": "stories"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "story_photos", Export: map[string]string{"story_id": "photoFiles"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "story_reactions", Export: map[string]string{"user_id": "storyReactions"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "story_reports", Export: map[string]string{"user_id": "storyReports"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "story_reporter_marks", Export: map[string]string{"user_id": "storyReporterMark", "marked_by": "storyReporterMarksMade"},
		Deletion: "story.ForgetAuthorTx"},
	{Name: "moderation_log", Export: map[string]string{"actor_id": "storyModerationDone"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "calls", Export: map[string]string{"created_by": "storyCallsCreated"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "media_pickups", Export: map[string]string{"recorded_by": "mediaPickupsRecorded"}, Deletion: "story.ForgetAuthorTx"},
	{Name: "media_deletions", Deletion: "media.Sweep"},
	{Name: "initiatives", Export: map[string]string{"proposer_id": "initiativesProposed"}, Deletion: "initiative.ForgetPersonTx"},
	{Name: "initiative_members", Export: map[string]string{"user_id": "initiativesJoined"}, Deletion: "initiative.ForgetPersonTx"},
	{Name: "initiative_reports", Export: map[string]string{"user_id": "initiativeReports"}, Deletion: "initiative.ForgetPersonTx"},
	{Name: "calendar_sources", Export: map[string]string{"created_by": "calendarSourcesAdded"}, Deletion: "calimport.ForgetCreatorTx"},
	{Name: "devices", Export: map[string]string{"user_id": "devices"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "deliveries", Export: map[string]string{"device_id": "deliveries"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "follows", Export: map[string]string{"user_id": "follows"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "notification_preferences", Export: map[string]string{"user_id": "notificationPreferences"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "notifications", Export: map[string]string{"user_id": "inbox"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "announcements", Export: map[string]string{"sender_id": "announcementsSent"}, Deletion: "notify.ForgetPersonTx"},
	{Name: "reminders_sent", Export: map[string]string{"claim_id": "remindersSent"}, Deletion: "volunteer.ForgetPersonTx"},
	{Name: "changes", Deletion: "changelog.ForgetPersonTx"},
	{Name: "data_exports", Export: map[string]string{"user_id": "exportDownloadLinks"}, Deletion: "forgetLinksTx"},
	{Name: "organisations", NotPersonal: "name is an organisation's name"},
	{Name: "places", NotPersonal: "name is a place's name"},
	{Name: "themes", NotPersonal: "name_da and name_en name a theme"},
}

// ExportSections are the export sections that hold the rows of table
// whose column points to a person, or nil when none does.
func ExportSections(table, column string) []string {
	for _, t := range Tables {
		if t.Name == table {
			return strings.Fields(t.Export[column])
		}
	}
	return nil
}
