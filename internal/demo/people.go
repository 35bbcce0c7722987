package demo

import (
	"fmt"
	"slices"

	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/store"
)

// person is an invented resident. Everyone with the app signs in locally as
// "local:<e-mail>"; the one without the app is known by phone only, the
// way an organiser puts a neighbour on the roster.
type person struct {
	email, name, phone, language string
	secretariat                  bool
	childCertificate             bool
	organiserOf                  []string
}

var people = []person{
	{email: SecretariatEmail, name: "Louise Kjær, Kommunikation", secretariat: true,
		organiserOf: []string{"Ishøj Kommune – Kommunikation", "Medborger- og demokratiforum", "Borgerværkstedet"}},
	{email: OrganiserEmail, name: "Mette Lindholm", childCertificate: true,
		organiserOf: []string{"Thorslunde-Ishøj Lokalhistoriske Forening", "Aktiviteter for børn"}},
	{email: "ali@ishoj.example", name: "Ali Haidari",
		organiserOf: []string{"HavhyttenFri", "Dyrk Ishøj"}},
	{email: "birgit@ishoj.example", name: "Birgit Sørensen",
		organiserOf: []string{"Kulturhuset AAB", "Ældresagen Ishøj"}},
	{email: "hanne@ishoj.example", name: "Hanne Vestergaard",
		organiserOf: []string{"Røde Kors Ishøj", "Ældre i bevægelse"}},
	{email: "yusuf@ishoj.example", name: "Yusuf Özdemir",
		organiserOf: []string{"Ungerådet"}},
	{email: "leila@ishoj.example", name: "Leila Mansour", language: "en",
		organiserOf: []string{"Glashuset", "I tråd med verden"}},
	{email: "torben@ishoj.example", name: "Torben Skov",
		organiserOf: []string{"Naturcenteret"}},

	{email: VolunteerEmail, name: "Anna Petersen", childCertificate: true},
	{email: "jonas@ishoj.example", name: "Jonas Holm", childCertificate: true},
	{email: "fatma@ishoj.example", name: "Fatma Yılmaz"},
	{email: "peter@ishoj.example", name: "Peter Nielsen"},
	{email: "aisha@ishoj.example", name: "Aisha Rahman", childCertificate: true},
	{email: "mehmet@ishoj.example", name: "Mehmet Demir"},
	{email: "sana@ishoj.example", name: "Sana Iqbal", language: "en"},
	{email: "omar@ishoj.example", name: "Omar Khalil"},
	{email: "lone@ishoj.example", name: "Lone Frederiksen", childCertificate: true},
	{email: "emil@ishoj.example", name: "Emil Kristensen"},
	{email: "zeynep@ishoj.example", name: "Zeynep Arslan"},
	{email: "imran@ishoj.example", name: "Imran Chaudhry"},
	{email: "karin@ishoj.example", name: "Karin Madsen", childCertificate: true},
	{email: "mathias@ishoj.example", name: "Mathias Jensen"},
	{email: "nadia@ishoj.example", name: "Nadia Haddad"},
	{email: "bashir@ishoj.example", name: "Bashir Ahmadi"},
	{name: "Grethe Hansen", phone: "+4520123456"},
}

func (p person) key() string {
	if p.email != "" {
		return p.email
	}
	return p.name
}

func (l *loader) loadUsers() error {
	for _, p := range people {
		var uid, email, phone *string
		if p.email != "" {
			u, e := "local:"+p.email, p.email
			uid, email = &u, &e
		}
		if p.phone != "" {
			phone = &p.phone
		}
		role, lang := "RESIDENT", p.language
		if p.secretariat {
			role = "SECRETARIAT"
		}
		if lang == "" {
			lang = "da"
		}
		// The demo's people with the app are adults who answered the age
		// question at sign-up; those without it were never asked.
		var age *string
		if email != nil {
			a := "AT_LEAST_13"
			age = &a
		}
		var id int64
		err := store.Get(l.ctx, l.tx, &id, `INSERT INTO users
			(firebase_uid, email, email_verified, phone, display_name, language, language_chosen, role, anonymous, has_app, age_group, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?) RETURNING id`,
			uid, email, email != nil, phone, p.name, lang, p.language != "", role, email != nil, age, l.now, l.now)
		if err != nil {
			return fmt.Errorf("user %s: %w", p.key(), err)
		}
		l.users[p.key()] = id
	}

	return nil
}

type place struct {
	name, address, description string
	lat, lng                   float64
}

var places = []place{
	{"Bredekærgård", "Bredekærgårds Allé 1, 2635 Ishøj",
		"Den gamle firlængede gård midt i Ishøj, hvor lokalhistorisk forening holder til. Haven med bålplads er åben for alle, når der er aktiviteter.",
		55.6207, 12.3398},
	{"Havhytten", "Ishøj Strand, ved stien mod Tangloppen, 2635 Ishøj",
		"Lille træhytte ved stranden med bænke, brænde og udsigt over Køge Bugt. Frivillige i HavhyttenFri holder den åben i weekenden.",
		55.6031, 12.3682},
	{"Ishøj Havn", "Ishøj Havnevej, 2635 Ishøj",
		"Lystbådehavnen med bådeklubber, havnefront og plads til markedsboder og musik.",
		55.6062, 12.3711},
	{"Strandparken", "Ishøj Strandvej, 2635 Ishøj",
		"Den store grønne strandpark med søer, klitter og grillpladser – fem minutter fra boligområderne.",
		55.6085, 12.3640},
	{"Vejleåparken (Glashuset)", "Vejleåparken, 2635 Ishøj",
		"Glashuset er beboernes mødested i Vejleåparken, med køkken, lange borde og plads til både byttemarked og fællesspisning.",
		55.6172, 12.3531},
	{"Vejledalen", "Vejledalen, langs Store Vejleå, 2635 Ishøj",
		"Grøn ådal med stier langs Store Vejleå – god til gåture i alle tempi.",
		55.6214, 12.3302},
	{"Kulturhuset AAB", "Vejleåparken, 2635 Ishøj",
		"Boligforeningen AAB's kulturhus i Vejleåparken med café, sal og køkken.",
		55.6166, 12.3522},
	{"Ishøj Bibliotek", "Ishøj Store Torv 1, 2635 Ishøj",
		"Byens bibliotek ved Ishøj Bycenter, med mødelokaler, scanner og kaffe på kanden.",
		55.6136, 12.3558},
	{"Naturcenteret ved Ishøj Strand", "Ishøj Strandpark, 2635 Ishøj",
		"Naturvejledernes base ved stranden. Herfra starter ture i strandparken, og her kan man låne fiskenet og lupper.",
		55.6102, 12.3619},
}

func (l *loader) loadPlaces() error {
	for _, p := range places {
		var id int64
		err := store.Get(l.ctx, l.tx, &id, `INSERT INTO places (name, address, description, latitude, longitude, search_title, search_text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.name, p.address, p.description, p.lat, p.lng,
			store.SearchText(p.name), store.SearchText(p.name, p.address, p.description), l.now)
		if err != nil {
			return fmt.Errorf("place %s: %w", p.name, err)
		}
		l.places[p.name] = id
	}
	return nil
}

type organisationSpec struct {
	name, kind, description string
	links                   []link
}

var organisations = []organisationSpec{
	{"Thorslunde-Ishøj Lokalhistoriske Forening", "ASSOCIATION",
		"Vi samler, bevarer og fortæller Ishøjs historie – fra landsbyerne Thorslunde og Ishøj til forstaden, der voksede op i 1970'erne. Vi holder til på Bredekærgård og tager gerne imod gamle billeder og gode historier.",
		[]link{{"WEB", "https://lokalhistorie.ishoj.example/", "Foreningens hjemmeside"},
			{"FACEBOOK", "https://www.facebook.com/groups/lokalhistorieishoj", "Lokalhistorie i Ishøj på Facebook"}}},
	{"Ældre i bevægelse", "ASSOCIATION",
		"Gåture, stolegymnastik og kaffe bagefter. Vi mødes hver uge og går i det tempo, de fleste kan følge – nye er altid velkomne.",
		[]link{{"FACEBOOK", "https://www.facebook.com/groups/aeldreibevaegelse.ishoj", "Ældre i bevægelse på Facebook"}}},
	{"Røde Kors Ishøj", "ASSOCIATION",
		"Den lokale Røde Kors-afdeling: lektiecafé, besøgsvenner, førstehjælp og hjælp, når nogen har brug for en hånd.",
		[]link{{"WEB", "https://roedekors-ishoj.example/", "Røde Kors Ishøj"}}},
	{"Ungerådet", "COUNCIL",
		"Ishøjs unge har en stemme i kommunen. Ungerådet er valgt af unge mellem 13 og 21 og giver byrådet råd om alt fra cykelstier til fritidstilbud.",
		[]link{{"INSTAGRAM", "https://www.instagram.com/ungeraadet_ishoj_demo/", "Ungerådet på Instagram"}}},
	{"Medborger- og demokratiforum", "COUNCIL",
		"Forummet udbreder medborgerpolitikkens tanker: et Ishøj med styrke i forskellighederne, hvor vi ser muligheder frem for problemer. Borgere, foreninger og kommune mødes her om byens fællesskab.",
		nil},
	{"Borgerværkstedet", "INFORMAL_INITIATIVE",
		"Ikke et sted, men en flok borgere med idéer. Vi mødes, brainstormer og sætter gang i nye initiativer som Store Grill Dag, nabohilsner og HavhyttenFri – og du kan være med et par timer her og der uden at melde dig ind i noget.",
		[]link{{"FACEBOOK", "https://www.facebook.com/groups/voresishoj", "Vores Ishøj-gruppen"}}},
	{"Aktiviteter for børn", "INFORMAL_INITIATIVE",
		"Forældrenetværk under Thorslunde-Ishøj Lokalhistoriske Forening. Vi vil skabe gode oplevelser for familie og venner, mens vi mødes på tværs, lærer hinanden at kende og udbreder historien om Ishøj. Første søndag i måneden klipper, klistrer, leger og laver vi mad over bål på Bredekærgård.",
		[]link{{"FACEBOOK", "https://www.facebook.com/groups/aktiviteterforboern.ishoj", "Aktiviteter for børn på Facebook"}}},
	{"Glashuset", "ASSOCIATION",
		"Beboernes hus i Vejleåparken. Vi holder fællesspisning, lektiehjælp og byttemarkeder sammen med Aktiviteter for børn – og døren står åben for nye idéer.",
		nil},
	{"Kulturhuset AAB", "ASSOCIATION",
		"AAB's kulturhus i Vejleåparken. Sammen med Ældresagen og Ishøj Kommune står vi bag Spisevenner – en café for ældre, der savner selskab – og huset lægger rum til koncerter, debatter og madklubber.",
		[]link{{"WEB", "https://kulturhuset-aab.example/", "Kulturhusets program"}}},
	{"Ældresagen Ishøj", "ASSOCIATION",
		"Lokalafdelingen af Ældresagen: IT-hjælp, besøgsvenner, fællessang og Spisevenner i Kulturhuset AAB.",
		nil},
	{"I tråd med verden", "INFORMAL_INITIATIVE",
		"Kvinder fra mange lande, der syr, strikker og broderer sammen – og deler opskrifter. Sammen med Aktiviteter for børn laver vi bloggen og kogebogen Livretter med børns yndlingsretter fra hele verden.",
		[]link{{"INSTAGRAM", "https://www.instagram.com/itraadmedverden_demo/", "I tråd med verden på Instagram"}}},
	{"Naturcenteret", "MUNICIPALITY",
		"Kommunens naturvejledere ved Ishøj Strand. Vi tager børn og voksne med ud i strandparken, vadehavet ved Køge Bugt og Vejledalen – og vi hjælper HavhyttenFri med at holde Havhytten åben.",
		[]link{{"WEB", "https://www.ishoj.example/naturcenteret", "Naturcenteret"}}},
	{"Dyrk Ishøj", "INFORMAL_INITIATIVE",
		"Små byhaver mellem boligblokkene. Vi bygger højbede, deler frø og høster sammen – AAB i Vejleåparken er med som en del af helhedsplanen.",
		[]link{{"INSTAGRAM", "https://www.instagram.com/dyrkishoj_demo/", "Dyrk Ishøj på Instagram"}}},
	{"HavhyttenFri", "INFORMAL_INITIATIVE",
		"Frivillige, der åbner Havhytten ved stranden i weekenden i samarbejde med Naturcenteret. Tag en vagt på to-fire timer: tænd bålet, sæt kaffen over og byd folk velkommen.",
		nil},
	{"Ishøj Kommune – Kommunikation", "MUNICIPALITY",
		"Sekretariatet for Vores Ishøj. Vi hjælper foreninger og initiativer med at fortælle om det, de laver, og samler byens gode historier til kampagnen \"Alt ligger på vejen hjem\".",
		[]link{{"FACEBOOK", "https://www.facebook.com/groups/voresishoj", "Vores Ishøj – Facebook-gruppen"},
			{"WEB", "https://www.ishoj.example/det-sker", "Det sker i Ishøj"},
			{"YOUTUBE", "https://www.youtube.com/@voresishoj_demo", "Vores Ishøj på YouTube"}}},
}

func (l *loader) loadOrganisations() error {
	for _, o := range organisations {
		var id int64
		err := store.Get(l.ctx, l.tx, &id, `INSERT INTO organisations (name, kind, description, search_title, search_text, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.name, o.kind, o.description, store.SearchText(o.name),
			organisation.SearchText(o.name, o.description), l.now, l.now)
		if err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
		l.orgs[o.name] = id
		if err := l.insertLinks("organisation_id", id, o.links); err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
	}
	secretariat := l.users[SecretariatEmail]
	for _, p := range people {
		for _, name := range p.organiserOf {
			org, ok := l.orgs[name]
			if !ok {
				return fmt.Errorf("organiser %s of unknown organisation %q", p.key(), name)
			}
			_, err := store.Exec(l.ctx, l.tx, `INSERT INTO organisers (organisation_id, user_id, added_by, created_at)
				VALUES (?, ?, ?, ?)`, org, l.users[p.key()], secretariat, l.now)
			if err != nil {
				return fmt.Errorf("organiser %s of %s: %w", p.key(), name, err)
			}
		}
	}
	return nil
}

// certifyingOrganisations check the børneattest of their volunteers: the
// two whose slots ask for it. Each association checks its own.
var certifyingOrganisations = []string{"Aktiviteter for børn", "Røde Kors Ishøj"}

// loadQualifications records the børneattest of the people who have one,
// for each certifying organisation, as one of its organisers saw it (never
// the person themself; the secretariat when nobody else organises it).
func (l *loader) loadQualifications() error {
	for i, p := range people {
		if !p.childCertificate {
			continue
		}
		for _, org := range certifyingOrganisations {
			recorder := l.users[SecretariatEmail]
			for _, o := range people {
				if o.key() != p.key() && slices.Contains(o.organiserOf, org) {
					recorder = l.users[o.key()]
					break
				}
			}
			checked := l.now.AddDate(0, -2, -i)
			_, err := store.Exec(l.ctx, l.tx, `INSERT INTO user_qualifications
				(user_id, organisation_id, requirement, checked_at, expires_at, recorded_by, recorded_at)
				VALUES (?, ?, 'CHILD_CERTIFICATE', ?, ?, ?, ?)`,
				l.users[p.key()], l.orgs[org], checked, checked.AddDate(2, 0, 0), recorder, checked)
			if err != nil {
				return fmt.Errorf("qualification of %s for %s: %w", p.key(), org, err)
			}
			l.quals[p.key()+"|CHILD_CERTIFICATE|"+org] = true
		}
	}
	return nil
}
