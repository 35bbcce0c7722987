package demo

import (
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/store"
)

// activity is one demo activity. A recurring one names its rule and local
// start time; its starts_at becomes the first occurrence after now.
type activitySpec struct {
	key, org, place    string
	title, description string
	start              time.Time
	dur                time.Duration
	rule               string
	hh, mm             int
	status             string
	themes             []string
	links              []link
}

const (
	published = "PUBLISHED"
	draft     = "DRAFT"
	cancelled = "CANCELLED"
)

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

func (l *loader) activitySpecs() []activitySpec {
	c := l.cal
	return []activitySpec{
		// Recurring.
		{key: "boernesoendag", org: "Aktiviteter for børn", place: "Bredekærgård",
			title: "Børnesøndag på Bredekærgård",
			description: "Første søndag i hver måned åbner vi haven på Bredekærgård for børn, forældre, bedsteforældre og naboer. Vi klipper og klistrer, leger gamle gårdlege og laver snobrød og suppe over bålet. " +
				"Tag madpakke med, hvis I vil – der er altid kaffe, saft og plads ved bordet. Det er gratis, og man behøver ikke at melde sig til.",
			rule: "FREQ=MONTHLY;BYDAY=1SU", hh: 10, dur: hours(4), status: published,
			themes: []string{"boern", "historie", "faellesskab", "mad"},
			links:  []link{{"FACEBOOK", "https://www.facebook.com/groups/aktiviteterforboern.ishoj", "Følg med i gruppen"}}},
		{key: "havhyttenfri", org: "HavhyttenFri", place: "Havhytten",
			title: "HavhyttenFri – Havhytten er åben",
			description: "Lørdag og søndag holder frivillige Havhytten ved stranden åben fra 10 til 14. Der er bål i ovnen, kaffe på kanden og fiskenet og lupper til de små. " +
				"Kig forbi på gåturen, tag en kop med ud på bænken og få en snak med dem, der har åbnet i dag.",
			rule: "FREQ=WEEKLY;BYDAY=SA,SU", hh: 10, dur: hours(4), status: published,
			themes: []string{"havn", "natur", "faellesskab"}},
		{key: "spisevenner", org: "Kulturhuset AAB", place: "Kulturhuset AAB",
			title: "Spisevenner – café for dig, der savner selskab",
			description: "Hver onsdag dækker vi op til frokost i Kulturhuset AAB. Spisevenner er for ældre, der gerne vil spise sammen med andre i stedet for alene – og for alle, der har lyst til en god snak. " +
				"Et måltid varm mad og kaffe koster 30 kr. Spisevenner laves af AAB, Ældresagen og Ishøj Kommune. Kender du en, der ville have glæde af at komme, så tag dem med.",
			rule: "FREQ=WEEKLY;BYDAY=WE", hh: 12, dur: hours(2), status: published,
			themes: []string{"aeldre", "mad", "faellesskab"}},
		{key: "havedag", org: "Dyrk Ishøj", place: "Vejleåparken (Glashuset)",
			title: "Havedag i Dyrk Ishøj",
			description: "Anden lørdag i måneden mødes vi ved højbedene bag Glashuset. Vi luger, sår, dækker af til vinteren eller høster – alt efter årstiden – og deler frø og stiklinger. " +
				"Du behøver hverken have grønne fingre eller eget redskab. Vi har handsker, spader og varm te.",
			rule: "FREQ=MONTHLY;BYDAY=2SA", hh: 10, dur: hours(3), status: published,
			themes: []string{"natur", "baeredygtighed", "faellesskab"},
			links:  []link{{"INSTAGRAM", "https://www.instagram.com/dyrkishoj_demo/", "Billeder fra bedene"}}},
		{key: "gaatur", org: "Ældre i bevægelse", place: "Vejledalen",
			title: "Tirsdagsgåtur i Vejledalen",
			description: "Vi går en times tid langs Store Vejleå i et roligt tempo og slutter med kaffe. Ruten er flad, og der er bænke undervejs. " +
				"Mødested ved P-pladsen for enden af Vejledalen. Gåturen er gratis, og du går bare med.",
			rule: "FREQ=WEEKLY;BYDAY=TU", hh: 10, dur: hours(1.5), status: published,
			themes: []string{"aeldre", "sport", "natur"}},
		{key: "sycafe", org: "I tråd med verden", place: "Vejleåparken (Glashuset)",
			title: "Sycafé – sy, snak og te",
			description: "Torsdag aften er der symaskiner, stofrester og te på bordet i Glashuset. Vi lapper, syr om og lærer hinanden nye sting og mønstre fra mange lande. " +
				"Tag dit eget projekt med eller få et af vores. Alle kvinder er velkomne, også helt nybegyndere.",
			rule: "FREQ=WEEKLY;BYDAY=TH", hh: 17, dur: hours(2.5), status: published,
			themes: []string{"kreativ", "faellesskab", "baeredygtighed"}},
		{key: "lektiecafe", org: "Røde Kors Ishøj", place: "Ishøj Bibliotek",
			title: "Lektiecafé på biblioteket",
			description: "Mandag og onsdag efter skole sidder Røde Kors' frivillige klar i bibliotekets mødelokale til at hjælpe med matematik, dansk, engelsk og alt det andet. " +
				"For elever i 3.–10. klasse. Der er frugt og saftevand, og man kommer bare, når man har brug for det.",
			rule: "FREQ=WEEKLY;BYDAY=MO,WE", hh: 15, dur: hours(2), status: published,
			themes: []string{"boern", "unge", "faellesskab"}},

		// One-offs in the weeks ahead.
		{key: "byttemarked", org: "Aktiviteter for børn", place: "Bredekærgård",
			title: "Byttemarked på Bredekærgård",
			description: "Aktiviteter for børn og Glashuset inviterer igen til byttemarked. Tag det tøj, legetøj og de bøger med, I ikke bruger mere – og tag noget andet med hjem. " +
				"Sidste gang kom 300 gæster, og 360 kilo tøj skiftede ejer. Der er kaffe, kage og bål i haven, og det hele er gratis.",
			start: c.next(time.Saturday, 21, 11, 0), dur: hours(4), status: published,
			themes: []string{"baeredygtighed", "faellesskab", "boern"},
			links:  []link{{"FACEBOOK", "https://www.facebook.com/events/byttemarked-bredekaergaard-demo/", "Begivenheden på Facebook"}}},
		{key: "nabohilsen", org: "Borgerværkstedet", place: "Vejleåparken (Glashuset)",
			title: "En hilsen fra din nabo – vi bager og pakker",
			description: "Vi bager småkager og pakker dem i små poser med et kort: \"En hilsen fra din nabo\". Bagefter deler vi dem ud i opgangene og på vejene. " +
				"Kom og bag med, skriv kort på dit eget sprog, eller tag en pose med hjem til dem, der bor ved siden af dig.",
			start: c.next(time.Tuesday, 8, 17, 0), dur: hours(3), status: published,
			themes: []string{"faellesskab", "mad", "kreativ"}},
		{key: "fotokonkurrence", org: "Ishøj Kommune – Kommunikation", place: "Ishøj Bibliotek",
			title: "Min sommer i Ishøj – fotoaften og kickoff",
			description: "Vi viser de bedste billeder fra fotokonkurrencen \"Min sommer i Ishøj\" og fortæller, hvordan du er med næste gang. En fotograf giver gode råd om billeder med mobilen. " +
				"Alle billeder deles i Facebook-gruppen Vores Ishøj, og vinderbillederne kommer med i kampagnen \"Alt ligger på vejen hjem\".",
			start: c.next(time.Thursday, 24, 19, 0), dur: hours(2), status: published,
			themes: []string{"kultur", "kreativ", "faellesskab"},
			links:  []link{{"FACEBOOK", "https://www.facebook.com/groups/voresishoj", "Del dine billeder i gruppen"}}},
		{key: "ishoej1970", org: "Thorslunde-Ishøj Lokalhistoriske Forening", place: "Ishøj Bibliotek",
			title: "Ishøj i 1970'erne – indsamlingsaften",
			description: "I 1970'erne voksede Ishøj fra landsby til by, og mange familier kom hertil fra andre lande. Nu laver vi en udstilling om årene – og vi mangler jeres billeder. " +
				"Tag gamle fotos med, så scanner vi dem på stedet, og du får dem med hjem igen. Fortæl os historien bag: hvordan kom bedstefar til Ishøj? Vi serverer kaffe og kage.",
			start: c.next(time.Tuesday, 15, 19, 0), dur: hours(2.5), status: published,
			themes: []string{"historie", "kultur", "faellesskab"},
			links:  []link{{"FACEBOOK", "https://www.facebook.com/groups/lokalhistorieishoj", "Send billeder via Facebook"}}},
		{key: "ungeraadet", org: "Ungerådet", place: "Kulturhuset AAB",
			title: "Ungerådets åbne møde",
			description: "Ungerådet holder åbent møde, og alle unge mellem 13 og 21 kan komme og sige deres mening. På dagsordenen: flere steder at være om aftenen, lys på stierne og en ungefestival til sommer. " +
				"Der er pizza fra kl. 17.",
			start: c.next(time.Monday, 10, 17, 0), dur: hours(2), status: published,
			themes: []string{"unge", "demokrati"}},
		{key: "debataften", org: "Medborger- og demokratiforum", place: "Kulturhuset AAB",
			title: "Debataften: Fra \"dem og os\" til \"vi\"",
			description: "Hvad skal der til, for at vi føler, at Ishøj er vores by – på tværs af kultur, alder og boligområde? Medborger- og demokratiforum inviterer til en aften med korte oplæg fra borgere og foreninger og god tid til snak ved bordene. " +
				"Der er tolkning til engelsk og arabisk efter behov. Kaffe og kage fra kl. 18.30.",
			start: c.next(time.Thursday, 31, 19, 0), dur: hours(2.5), status: published,
			themes: []string{"demokrati", "faellesskab"}},
		{key: "foerstehjaelp", org: "Røde Kors Ishøj", place: "Ishøj Bibliotek",
			title: "Førstehjælp for alle – gratis kursus",
			description: "Lær at give hjertemassage, bruge en hjertestarter og hjælpe et barn, der har fået noget galt i halsen. Røde Kors' instruktører tager det i roligt tempo, og alle kan være med. " +
				"Kurset er gratis, men der er 20 pladser, så skriv til os, hvis du vil være sikker på en plads.",
			start: c.next(time.Saturday, 35, 10, 0), dur: hours(4), status: published,
			themes: []string{"faellesskab", "sport"}},
		{key: "livretter", org: "I tråd med verden", place: "Kulturhuset AAB",
			title: "Livretter – børnenes yndlingsretter fra hele verden",
			description: "Sammen med Aktiviteter for børn laver vi mad efter opskrifterne i Livretter: dolma, frikadeller, biryani, lahmacun og pandekager. Børnene er kokke, de voksne er køkkenhjælpere. " +
				"Vi spiser sammen bagefter. Voksne 25 kr., børn gratis. Har din familie en livret, vi skal have med i kogebogen, så tag opskriften med.",
			start: c.next(time.Friday, 40, 17, 0), dur: hours(3), status: published,
			themes: []string{"mad", "boern", "kultur", "faellesskab"}},
		{key: "fugletur", org: "Naturcenteret", place: "Strandparken",
			title: "Fugletur i Strandparken med naturvejlederen",
			description: "Tag kikkerten med – eller lån en af vores – og gå med naturvejlederen rundt om søerne i Strandparken. Vi kigger efter svaner, lappedykkere og de små vadefugle ved kysten. " +
				"Turen er på godt to kilometer og egnet for børn fra seks år. Mødested ved Naturcenteret.",
			start: c.next(time.Sunday, 13, 9, 0), dur: hours(2.5), status: published,
			themes: []string{"natur", "havn", "boern"}},
		{key: "strandrydning", org: "Naturcenteret", place: "Havhytten",
			title: "Strandrydning ved Ishøj Strand",
			description: "Vi samler skrald på stranden fra Havhytten og mod Ishøj Havn. Naturcenteret har sække, gribetænger og handsker, og bagefter er der suppe over bål ved Havhytten. " +
				"Sidste gang fandt vi 40 kilo affald – mest plastik og cigaretskod.",
			start: c.next(time.Saturday, 42, 10, 0), dur: hours(2), status: published,
			themes: []string{"natur", "baeredygtighed", "havn"}},
		{key: "it-hjaelp", org: "Ældresagen Ishøj", place: "Ishøj Bibliotek",
			title: "Hjælp til MitID, mobil og tablet",
			description: "Har du bøvl med MitID, e-Boks eller billederne på telefonen? Ældresagens IT-hjælpere sidder klar med tålmodighed og kaffe. " +
				"Tag din egen telefon eller tablet med – og gerne opladeren.",
			start: c.next(time.Tuesday, 2, 13, 0), dur: hours(2), status: published,
			themes: []string{"aeldre", "faellesskab"}},
		{key: "borgervaerksted", org: "Borgerværkstedet", place: "Kulturhuset AAB",
			title: "Borgerværksted: Idéaften om Vores Ishøj",
			description: "Har du en idé til noget, der kan bringe folk sammen i Ishøj? Borgerværkstedet mødes og arbejder videre med byfesten, nabohilsnerne og nye idéer. " +
				"Du skal ikke være medlem af noget – bare have lyst til at give et par timer her og der.",
			start: c.next(time.Wednesday, 17, 19, 0), dur: hours(2), status: published,
			themes: []string{"demokrati", "faellesskab"}},
		{key: "faellesspisning", org: "Glashuset", place: "Vejleåparken (Glashuset)",
			title: "Fællesspisning i Glashuset",
			description: "Fredag laver madholdet aftensmad til alle, der har lyst at spise med. I denne omgang står den på linsesuppe, hjemmebagt brød og æblekage. " +
				"Voksne 30 kr., børn under 12 gratis. Køb billet i Glashuset senest onsdag.",
			start: c.next(time.Friday, 11, 17, 30), dur: hours(2), status: published,
			themes: []string{"mad", "faellesskab"}},
		{key: "byvandring", org: "Thorslunde-Ishøj Lokalhistoriske Forening",
			title: "Byvandring: Fra landsby til forstad",
			description: "Vi går fra Ishøj Landsby mod Vejleåparken og fortæller om gårdene, der blev til boligområder, og om de første familier, der flyttede ind i 1970'erne. " +
				"Mødested ved Ishøj Kirke. Turen tager to timer og slutter med kaffe på Bredekærgård.",
			start: c.next(time.Sunday, 27, 13, 0), dur: hours(2), status: published,
			themes: []string{"historie", "kultur", "sport"}},
		{key: "kulturaften", org: "Kulturhuset AAB", place: "Kulturhuset AAB",
			title: "Kulturaften: Musik og fortællinger fra Vejleåparken",
			description: "Beboere fra Vejleåparken spiller musik fra Danmark, Tyrkiet, Pakistan og Somalia, og mellem numrene fortæller de om, hvordan de kom til Ishøj. " +
				"Der er te og små retter fra husets køkken. Gratis adgang.",
			start: c.next(time.Saturday, 49, 19, 0), dur: hours(3), status: published,
			themes: []string{"kultur", "faellesskab"},
			links:  []link{{"YOUTUBE", "https://www.youtube.com/watch?v=kulturaften_demo", "Se klip fra sidste kulturaften"}}},
		{key: "ungedj", org: "Ungerådet", place: "Kulturhuset AAB",
			title: "DJ-workshop for unge",
			description: "Lær at mixe med en rigtig DJ. Vi har udstyret, du har musiksmagen. For unge mellem 13 og 18 – ingen erfaring nødvendig. " +
				"Workshoppen slutter med en lille fest, hvor deltagerne spiller.",
			start: c.next(time.Friday, 25, 18, 0), dur: hours(3), status: published,
			themes: []string{"unge", "kreativ", "kultur"}},
		{key: "kulturfestival", org: "Ishøj Kommune – Kommunikation", place: "Ishøj Havn",
			title: "Kulturfestival på Ishøj Havn",
			description: "Borgerværkstedets store idé bliver til virkelighed: en dag på havnen med musik, madboder fra hele verden, foreningernes stande og lys på vandet, når det bliver mørkt. " +
				"Kom og mød de foreninger og initiativer, der får Ishøj til at hænge sammen – og find ud af, hvor du selv kan give en hånd.",
			start: c.next(time.Saturday, 56, 14, 0), dur: hours(6), status: published,
			themes: []string{"kultur", "havn", "faellesskab", "mad"},
			links: []link{{"FACEBOOK", "https://www.facebook.com/events/kulturfestival-ishoj-havn-demo/", "Begivenheden på Facebook"},
				{"YOUTUBE", "https://www.youtube.com/watch?v=havnefest_demo", "Stemning fra havnen"}}},
		{key: "grilldag", org: "Borgerværkstedet", place: "Strandparken",
			title: "Store Grill Dag i Strandparken",
			description: "Vi tænder 15 grill i Strandparken, og alle tager noget med til fællesbordet. Kød, fisk, grøntsager og halal – der er grill til det hele, og grillmestrene hjælper gerne. " +
				"Tag tæppe og godt humør med. Der er lege for børnene og musik fra scenen.",
			start: c.next(time.Saturday, 70, 12, 0), dur: hours(5), status: published,
			themes: []string{"faellesskab", "mad", "havn"},
			links:  []link{{"FACEBOOK", "https://www.facebook.com/groups/voresishoj", "Snak med i Vores Ishøj"}}},

		// Not yet published, and one called off.
		{key: "ivaerksaetterhub", org: "Ishøj Kommune – Kommunikation", place: "Ishøj Bibliotek",
			title:       "Iværksætter hub – åbent hus (udkast)",
			description: "Den kommende iværksætter hub inviterer indenfor. Program og sted følger.",
			start:       c.next(time.Tuesday, 75, 16, 0), dur: hours(2), status: draft,
			themes: []string{"faellesskab"}},
		{key: "foraarsbyttemarked", org: "Glashuset", place: "Vejleåparken (Glashuset)",
			title:       "Forårets byttemarked i Glashuset",
			description: "Vi bytter forårs- og sommertøj. Mere følger, når vi har fundet datoen sammen med Aktiviteter for børn.",
			start:       c.next(time.Saturday, 84, 11, 0), dur: hours(4), status: draft,
			themes: []string{"baeredygtighed", "faellesskab"}},
		{key: "faellessang", org: "Ældresagen Ishøj", place: "Kulturhuset AAB",
			title:       "Fællessang med Ældresagen",
			description: "Desværre aflyst, fordi vores pianist er syg. Vi finder en ny dato hurtigst muligt og skriver her, når den er på plads.",
			start:       c.next(time.Thursday, 9, 14, 0), dur: hours(1.5), status: cancelled,
			themes: []string{"aeldre", "kultur"}},
	}
}

// pastActivities already happened; their shifts carry attendance so that
// "hours contributed" has something to count.
func (l *loader) pastActivities() []activitySpec {
	c := l.cal
	return []activitySpec{
		{key: "byttemarked-juli", org: "Aktiviteter for børn", place: "Bredekærgård",
			title: "Sommerens byttemarked på Bredekærgård",
			description: "Aktiviteter for børn og Glashuset holder byttemarked i haven på Bredekærgård. Tag tøj, legetøj og bøger med, og tag noget andet med hjem. " +
				"Der er kaffe, saft og bål, og det hele er gratis.",
			start: c.lastDate(time.July, 6, 11, 0), dur: hours(4), status: published,
			themes: []string{"baeredygtighed", "faellesskab", "boern"}},
		{key: "strandrydning-efteraar", org: "Naturcenteret", place: "Havhytten",
			title:       "Strandrydning ved Ishøj Strand",
			description: "Vi samler skrald på stranden fra Havhytten mod Ishøj Havn. Sække, tænger og handsker er klar, og bagefter er der suppe over bål.",
			start:       c.ago(time.Saturday, 14, 10, 0), dur: hours(2), status: published,
			themes: []string{"natur", "baeredygtighed", "havn"}},
	}
}

func (l *loader) creatorOf(org string) int64 {
	for _, p := range people {
		for _, o := range p.organiserOf {
			if o == org {
				return l.users[p.key()]
			}
		}
	}
	return l.users[SecretariatEmail]
}

func (l *loader) loadActivities() error {
	for _, a := range l.activitySpecs() {
		if err := l.insertActivity(a, false); err != nil {
			return err
		}
	}
	for _, a := range l.pastActivities() {
		if err := l.insertActivity(a, true); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) insertActivity(a activitySpec, past bool) error {
	org, ok := l.orgs[a.org]
	if !ok {
		return fmt.Errorf("activity %s: unknown organisation %q", a.key, a.org)
	}
	var place *int64
	if a.place != "" {
		id, ok := l.places[a.place]
		if !ok {
			return fmt.Errorf("activity %s: unknown place %q", a.key, a.place)
		}
		place = &id
	}
	var rule *string
	if a.rule != "" {
		occ, err := l.cal.occurrences(a.rule, a.hh, a.mm, 1)
		if err != nil {
			return fmt.Errorf("activity %s: %w", a.key, err)
		}
		a.start = occ[0]
		rule = &a.rule
	}
	ends := a.start.Add(a.dur)

	// A past activity was put in the app a month before it took place.
	created := l.now
	if past {
		created = a.start.AddDate(0, -1, 0)
	}
	var publishedAt, cancelledAt *time.Time
	if a.status != draft {
		publishedAt = &created
	}
	if a.status == cancelled {
		cancelledAt = &l.now
	}

	var id int64
	err := store.Get(l.ctx, l.tx, &id, `INSERT INTO activities
		(organisation_id, place_id, title, description, search_title, search_text, starts_at, ends_at, recurrence, status,
		 created_by, created_at, updated_at, published_at, cancelled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		org, place, a.title, a.description, store.SearchText(a.title), activity.SearchText(a.title, a.description), a.start, ends, rule, a.status,
		l.creatorOf(a.org), created, created, publishedAt, cancelledAt)
	if err != nil {
		return fmt.Errorf("activity %s: %w", a.key, err)
	}
	l.activities[a.key] = activityRow{id: id, startsAt: a.start, endsAt: ends, rule: a.rule, orgKey: a.org}
	if err := l.insertThemes("activity_themes", "activity_id", id, a.themes); err != nil {
		return fmt.Errorf("activity %s: %w", a.key, err)
	}
	if err := l.insertLinks("activity_id", id, a.links); err != nil {
		return fmt.Errorf("activity %s: %w", a.key, err)
	}
	return nil
}
