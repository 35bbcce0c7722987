package privacy

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/calimport"
	"github.com/ishoj/voresishoj/internal/initiative"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// ExportFormat names the layout of the export document; it changes when
// a section changes meaning, not when one is added.
const ExportFormat = "voresishoj-export/2"

// The packages' parts are embedded under names of their own so that
// their sections sit side by side at the top of the document.
type (
	organisationData  = organisation.PersonData
	volunteerData     = volunteer.PersonData
	storyData         = story.PersonData
	initiativeData    = initiative.PersonData
	notifyData        = notify.PersonData
	participationData = participation.PersonData
)

// Export is everything we hold about one person (GDPR articles 15 and
// 20): each package that writes a table reads its part (ExportPerson), and
// this puts the parts together with a description of every section in
// Danish and English. TestExportDescribesEverySection keeps Sections true.
type Export struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generatedAt"`
	// About and Sections explain the document to the person reading it.
	About    Text            `json:"about"`
	Sections map[string]Text `json:"sections"`
	Profile  user.Profile    `json:"profile"`
	organisationData
	volunteerData
	storyData
	initiativeData
	notifyData
	participationData
	ActivitiesCreated    []activity.Created `json:"activitiesCreated"`
	CalendarSourcesAdded []calimport.Added  `json:"calendarSourcesAdded"`
	// DownloadLinks are the export download links that are still good.
	DownloadLinks []LinkRecord `json:"exportDownloadLinks"`
	// PhotoFiles are the person's photos as files of the ZIP download.
	PhotoFiles []PhotoFile `json:"photoFiles"`
}

// Text is a description in Danish and English.
type Text struct {
	Da string `json:"da"`
	En string `json:"en"`
}

// PhotoFile is one file under photos/ in the ZIP download: a rendition
// of a photo of one of the person's stories.
type PhotoFile struct {
	File         string `json:"file"`
	StoryID      int64  `json:"storyId,omitempty"`
	PhotoID      int64  `json:"photoId,omitempty"`
	InitiativeID int64  `json:"initiativeId,omitempty"`
	Rendition    string `json:"rendition"`
	key          string
}

// exportPerson reads every part of the export of userID from q.
func exportPerson(ctx context.Context, q store.Querier, userID int64, now time.Time) (Export, error) {
	x := Export{Format: ExportFormat, GeneratedAt: now, About: about, Sections: sections}
	var err error
	if x.Profile, err = user.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.organisationData, err = organisation.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.volunteerData, err = volunteer.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.storyData, err = story.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.initiativeData, err = initiative.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.notifyData, err = notify.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.participationData, err = participation.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.ActivitiesCreated, err = activity.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.CalendarSourcesAdded, err = calimport.ExportPerson(ctx, q, userID); err != nil {
		return Export{}, err
	}
	if x.DownloadLinks, err = exportLinks(ctx, q, userID, now); err != nil {
		return Export{}, err
	}
	x.PhotoFiles = []PhotoFile{}
	for _, st := range x.Stories {
		for _, p := range st.Photos {
			for _, r := range []struct{ name, key string }{{"large", p.KeyLarge}, {"small", p.KeySmall}} {
				x.PhotoFiles = append(x.PhotoFiles, PhotoFile{
					File:    fmt.Sprintf("photos/story-%d-photo-%d-%s%s", st.ID, p.ID, r.name, path.Ext(r.key)),
					StoryID: st.ID, PhotoID: p.ID, Rendition: r.name, key: r.key,
				})
			}
		}
	}
	// The cover of an initiative the person proposed is their upload too;
	// covers of activities, organisations and places belong to those.
	for _, in := range x.Proposed {
		if in.CoverKey != nil {
			x.PhotoFiles = append(x.PhotoFiles, PhotoFile{
				File:         fmt.Sprintf("photos/initiative-%d-cover%s", in.ID, path.Ext(*in.CoverKey)),
				InitiativeID: in.ID, Rendition: "original", key: *in.CoverKey,
			})
		}
	}
	return x, nil
}

var about = Text{
	Da: "Alt hvad Vores Ishøj (Ishøj Kommune) har gemt om dig, som du har ret til efter databeskyttelsesforordningens artikel 15 og 20. " +
		"Hvert afsnit er beskrevet under \"sections\". Tider er i UTC (RFC 3339). Dine billeder ligger i mappen photos/ i ZIP-filen. " +
		"Hvor du har handlet for andre (som arrangør eller sekretariat), står hvad og hvornår, men ikke hvem: det er deres oplysninger.",
	En: "Everything Vores Ishøj (Ishøj Municipality) holds about you, as the GDPR's articles 15 and 20 entitle you to. " +
		"Each section is described under \"sections\". Times are UTC (RFC 3339). Your photos are in the photos/ folder of the ZIP file. " +
		"Where you acted for others (as organiser or secretariat) it says what and when, not whom: that is their data.",
}

// sections describes every section of the document.
var sections = map[string]Text{
	"format":      {"Udgaven af dette dokuments opbygning.", "The version of this document's layout."},
	"generatedAt": {"Hvornår udtrækket blev lavet.", "When this export was made."},
	"about":       {"Hvad dokumentet er.", "What this document is."},
	"sections":    {"Beskrivelsen af hvert afsnit (denne liste).", "The description of every section (this list)."},
	"profile": {"Din konto: e-mail, telefonnummer, visningsnavn, sprog, rolle, om du har appen, om du har en personlig kalender, og en sekretariatsrolle der venter på din adresse.",
		"Your account: e-mail, phone number, display name, language, role, whether you have the app, whether you have a personal calendar, and a secretariat role waiting for your address."},
	"organises":                       {"De foreninger du er arrangør for, og siden hvornår.", "The organisations you organise, and since when."},
	"organiserInvitations":            {"Invitationer til at blive arrangør, sendt til dig eller din e-mail.", "Invitations to organise sent to you or your e-mail."},
	"organiserInvitationsSent":        {"Invitationer du har sendt (uden hvem).", "Invitations you sent (without whom)."},
	"organisersAdded":                 {"Arrangørrettigheder du har givet (uden til hvem).", "Organiser rights you gave (without to whom)."},
	"claims":                          {"Dine frivilligvagter: tilmeldt, på venteliste, afmeldt, fremmøde.", "Your volunteer shifts: signed up, waitlisted, cancelled, attendance."},
	"qualifications":                  {"Krav en forening har set opfyldt for dig, fx en børneattest.", "Requirements an organisation has seen you meet, e.g. a child protection certificate."},
	"claimRequestKeys":                {"Nøgler appen sendte med dine tilmeldinger til vagter, så et gentaget tryk giver samme svar.", "Keys the app sent with your shift sign-ups, so a repeated tap gives the same answer."},
	"slotsCreated":                    {"Vagter du har oprettet som arrangør.", "Volunteer slots you created as organiser."},
	"claimsEnteredForOthers":          {"Vagter du har tilmeldt andre til (uden hvem).", "Shifts you signed others up for (without whom)."},
	"qualificationsRecordedForOthers": {"Krav du har registreret for andre (uden hvem).", "Requirements you recorded for others (without whom)."},
	"stories":                         {"Dine historier med billeder, samtykker og hvad redaktionen gjorde med dem.", "Your stories with photos, consents and what the review did with them."},
	"storyReactions":                  {"Dine reaktioner på historier.", "Your reactions to stories."},
	"storyReports":                    {"Historier du har anmeldt, og hvorfor.", "Stories you reported, and why."},
	"storyReporterMark": {"Om sekretariatet har markeret dine anmeldelser som misbrug (de tæller så ikke med).",
		"Whether the secretariat marked your reports as misuse (they then do not count)."},
	"storyModerationDone":    {"Redaktionelle handlinger du har foretaget på historier.", "Review actions you took on stories."},
	"storyCallsCreated":      {"Opfordringer til historier du har oprettet.", "Calls for stories you created."},
	"mediaPickupsRecorded":   {"Medieomtaler du har registreret.", "Media pickups you recorded."},
	"storyReporterMarksMade": {"Hvornår du har markeret en anmelder (uden hvem).", "When you marked a reporter (without whom)."},
	"initiativesProposed":    {"Initiativer du har foreslået.", "Initiatives you proposed."},
	"initiativesJoined":      {"Initiativer du har meldt dig til, med din besked.", "Initiatives you joined, with your message."},
	"initiativeReports":      {"Initiativer du har anmeldt, og hvorfor.", "Initiatives you reported, and why."},
	"devices":                {"Telefoner og browsere registreret til notifikationer, med deres push-token.", "Phones and browsers registered for notifications, with their push token."},
	"follows":                {"Foreninger, steder og temaer du følger.", "Organisations, places and themes you follow."},
	"notificationPreferences": {"Dine valg for notifikationer og stille timer (minutter efter midnat); tom hvis du aldrig har ændret dem.",
		"Your notification choices and quiet hours (minutes after midnight); empty if you never changed them."},
	"inbox":                          {"Notifikationerne i din indbakke.", "The notifications in your inbox."},
	"deliveries":                     {"Hver afsendelse af en notifikation til en af dine enheder.", "Each sending of a notification to one of your devices."},
	"remindersSent":                  {"Påmindelser sendt om dine vagter.", "Reminders sent about your shifts."},
	"announcementsSent":              {"Meddelelser du har sendt som arrangør eller sekretariat, med antal modtagere.", "Announcements you sent as organiser or secretariat, with the number of recipients."},
	"participations":                 {"Dine tilmeldinger til aktiviteter, med antal i dit følge.", "Your sign-ups to activities, with the size of your party."},
	"participationRequestKeys":       {"Nøgler appen sendte med dine tilmeldinger til aktiviteter.", "Keys the app sent with your activity sign-ups."},
	"participationsEnteredForOthers": {"Tilmeldinger du har lavet for andre (uden hvem).", "Sign-ups you made for others (without whom)."},
	"activitiesCreated":              {"Aktiviteter du har oprettet som arrangør.", "Activities you created as organiser."},
	"calendarSourcesAdded":           {"Kalendere du har tilføjet til import som arrangør.", "Calendars you added for import as organiser."},
	"exportDownloadLinks":            {"Downloadlinks til dette udtræk der stadig virker.", "Download links to this export that still work."},
	"photoFiles":                     {"Filerne i mappen photos/: hvert billede fra dine historier i stor og lille udgave og forsidebilledet af de initiativer, du har foreslået.", "The files in the photos/ folder: each photo of your stories in its large and small rendition, and the cover image of the initiatives you proposed."},
}
