package demo

import (
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/story"
)

// storySpec is a resident's story. daysAgo places a published one in the last
// two months; pending ones were sent in yesterday and wait for the
// secretariat.
type storySpec struct {
	author, title, body string
	status              string
	daysAgo             int
	featured            bool
	activity, org       string
	themes              []string
	links               []link
}

var stories = []storySpec{
	{author: OrganiserEmail, status: "PUBLISHED", daysAgo: 55, featured: true,
		title:    "300 gæster og 360 kilo tøj: Byttemarkedet på Bredekærgård",
		activity: "byttemarked-juli", org: "Aktiviteter for børn",
		body: "Klokken var ikke engang elleve, før køen nåede ud til vejen. Da vi lukkede, havde 300 gæster været forbi, og 360 kilo tøj havde skiftet ejer.\n\n" +
			"Vi havde regnet med naboerne fra Vejleåparken og Bredekærgårds faste gæster – men der kom også familier fra Hvidovre, Greve og helt fra Hellerup. Flere sagde, at de aldrig havde været på Bredekærgård før. \"Jeg troede, Ishøj bare var blokke,\" sagde en mor, mens hendes søn stod med en brandbil under armen.\n\n" +
			"Byttemarkedet laver vi sammen med Glashuset, og vi skiftes til at være værter. Tak til de frivillige, der bar borde fra klokken ni, og til alle jer, der tog en pose med hjem. Næste byttemarked er allerede i kalenderen.",
		themes: []string{"baeredygtighed", "faellesskab", "boern"},
		links:  []link{{"FACEBOOK", "https://www.facebook.com/groups/aktiviteterforboern.ishoj/posts/byttemarked-demo", "Billeder fra dagen"}}},
	{author: "ali@ishoj.example", status: "PUBLISHED", daysAgo: 47, featured: true,
		title: "Første høst i Dyrk Ishøj: squash, bønner og nye naboer",
		org:   "Dyrk Ishøj",
		body: "I foråret var der græs bag Glashuset. I dag står der seks højbede, og i lørdags høstede vi for første gang.\n\n" +
			"Squashen blev så stor, at vi måtte dele den i fire. Bønnerne kom i en gryde, som Fatma fra nummer 12 lavede til alle, der var med. Det bedste er ikke grøntsagerne, men at jeg nu kender navnene på folk fra tre opgange, som jeg har gået forbi i otte år.\n\n" +
			"Vi mødes anden lørdag i måneden. Du behøver ikke vide noget om haver – det gjorde jeg heller ikke.",
		themes: []string{"natur", "baeredygtighed", "faellesskab"},
		links:  []link{{"INSTAGRAM", "https://www.instagram.com/p/dyrkishoj_hoest_demo/", "Høsten på Instagram"}}},
	{author: "fatma@ishoj.example", status: "PUBLISHED", daysAgo: 38,
		title:    "Onsdag er blevet den bedste dag i ugen",
		activity: "spisevenner", org: "Kulturhuset AAB",
		body: "Da jeg begyndte som vært i Spisevenner, troede jeg, at jeg skulle servere mad. Det gør jeg også, men mest sidder jeg og snakker.\n\n" +
			"Grethe på 84 kommer hver onsdag med bussen. Hun fortæller om dengang, Ishøj Strand var en mark, og jeg fortæller om min mors køkken i Konya. I sidste uge havde hun skrevet en opskrift på æblekage ned til mig.\n\n" +
			"Mange af gæsterne spiser alene resten af ugen. Her er der altid en, der spørger, hvordan man har det. Kender du en, der sidder meget alene, så tag dem med på onsdag.",
		themes: []string{"aeldre", "mad", "faellesskab"}},
	{author: "mehmet@ishoj.example", status: "PUBLISHED", daysAgo: 29,
		title:    "Da farfar kom til Ishøj i 1972",
		activity: "ishoej1970", org: "Thorslunde-Ishøj Lokalhistoriske Forening",
		body: "Min farfar kom til Danmark med en kuffert og et brev fra en fabrik i Glostrup. I 1972 fik han en lejlighed i Vejleåparken, der lugtede af ny maling. Der var mudder overalt, og bussen kørte kun hver time.\n\n" +
			"Han sparede op i to år, før farmor og mine onkler kunne komme. På billedet, vi har sendt til udstillingen, står de alle sammen foran blokken i deres fineste tøj, dagen efter de landede.\n\n" +
			"Farfar siger altid, at Ishøj var den første by, hvor han blev hilst på af naboen. Nu går hans oldebørn i skole 200 meter derfra. Lokalhistorisk forening samler flere billeder – find jeres frem.",
		themes: []string{"historie", "kultur", "faellesskab"}},
	{author: "peter@ishoj.example", status: "PUBLISHED", daysAgo: 20,
		title:    "Fire timer i Havhytten giver mere, end de tager",
		activity: "havhyttenfri", org: "HavhyttenFri",
		body: "Jeg er gået på pension og ville gerne give en hånd, men ikke sidde i en bestyrelse. Så nu åbner jeg Havhytten et par lørdage om måneden.\n\n" +
			"Man henter nøglen, tænder op og sætter kaffen over. Så kommer de: hundeluftere, løbere, en familie fra Brøndby på cykeltur, to drenge, der vil vise mig en krabbe. Sidste lørdag sad en ældre herre og jeg og så på tranerne i en halv time uden at sige noget. Det var fint.\n\n" +
			"Vagterne ligger i appen. Tag en, og tag en ven med.",
		themes: []string{"havn", "natur", "faellesskab"},
		links:  []link{{"YOUTUBE", "https://www.youtube.com/watch?v=havhyttenfri_demo", "Se en lørdag i Havhytten"}}},
	{author: "yusuf@ishoj.example", status: "PUBLISHED", daysAgo: 12,
		title: "Ungerådet: Vi vil have steder at være om aftenen",
		org:   "Ungerådet",
		body: "Vi spurgte 200 unge på skolerne, hvad de mangler i Ishøj. Svaret var klart: et sted at være om aftenen, hvor man ikke skal købe noget.\n\n" +
			"Nu har vi lavet et forslag til byrådet om at holde Kulturhuset åbent til kl. 22 om fredagen, med DJ-workshops, gaming og lektiehjælp. Vi fremlægger det på vores åbne møde, og alle unge kan komme og sige deres mening.\n\n" +
			"Det er første gang, at jeg har prøvet at skrive et forslag til politikere. Det var sværere, end jeg troede – og sjovere.",
		themes: []string{"unge", "demokrati"}},
	{author: "sana@ishoj.example", status: "PUBLISHED", daysAgo: 5,
		title: "Min sommer i Ishøj: solnedgang over Køge Bugt",
		org:   "Ishøj Kommune – Kommunikation",
		body: "Billedet er taget fra molen ved Ishøj Havn en aften i juli. Min datter havde lige lært at cykle, og vi cyklede derned for at fejre det med en is.\n\n" +
			"Jeg deltog i fotokonkurrencen \"Min sommer i Ishøj\" uden at tro, jeg ville vinde. Nu hænger billedet på biblioteket. Det bedste var alle de beskeder, jeg fik fra folk i Facebook-gruppen, som også holder af netop det sted.",
		themes: []string{"kreativ", "havn"},
		links:  []link{{"INSTAGRAM", "https://www.instagram.com/p/minsommerishoj_demo/", "Vinderbilledet"}}},

	{author: "zeynep@ishoj.example", status: "PENDING_REVIEW",
		title: "Småkager til hele opgangen",
		org:   "Borgerværkstedet",
		body: "Jeg har boet i min opgang i fem år og kendte ingen. Så bagte jeg småkager med Borgerværkstedet og lagde en pose med \"En hilsen fra din nabo\" ved hver dør.\n\n" +
			"Dagen efter bankede det på. Det var damen fra tredje sal med en skål dolmades og en tak. Nu drikker vi kaffe sammen hver søndag.",
		themes: []string{"faellesskab", "mad"}},
	{author: "jonas@ishoj.example", status: "PENDING_REVIEW",
		title:    "Min første vagt i lektiecaféen",
		activity: "lektiecafe", org: "Røde Kors Ishøj",
		body:   "Jeg var nervøs for, om jeg kunne huske brøkregning. Det kunne jeg ikke, men Amal i 6. klasse forklarede det for mig, og så forklarede jeg det til hendes veninde. Jeg kommer igen på mandag.",
		themes: []string{"boern", "unge", "faellesskab"}},
}

func (l *loader) loadStories() error {
	for _, s := range stories {
		author, err := l.user(s.author)
		if err != nil {
			return err
		}
		p, _ := userHasApp(s.author)
		var activity, org *int64
		if s.activity != "" {
			a, ok := l.activities[s.activity]
			if !ok {
				return fmt.Errorf("story %q: unknown activity %s", s.title, s.activity)
			}
			activity = &a.id
		}
		if s.org != "" {
			id, ok := l.orgs[s.org]
			if !ok {
				return fmt.Errorf("story %q: unknown organisation %s", s.title, s.org)
			}
			org = &id
		}
		var created, updated time.Time
		var publishedAt *time.Time
		if s.status == "PUBLISHED" {
			at := l.now.AddDate(0, 0, -s.daysAgo)
			publishedAt = &at
			created, updated = at.AddDate(0, 0, -2), at
		} else {
			created = l.now.AddDate(0, 0, -1)
			updated = created
		}
		var id int64
		err = store.Get(l.ctx, l.tx, &id, `INSERT INTO stories
			(author_id, author_name, title, body, search_title, search_text, status, activity_id, organisation_id, featured,
			 created_at, updated_at, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			author, p.name, s.title, s.body, store.SearchText(s.title), story.SearchText(s.title, s.body, p.name), s.status, activity, org, s.featured,
			created, updated, publishedAt)
		if err != nil {
			return fmt.Errorf("story %q: %w", s.title, err)
		}
		if err := l.insertThemes("story_themes", "story_id", id, s.themes); err != nil {
			return fmt.Errorf("story %q: %w", s.title, err)
		}
		if err := l.insertLinks("story_id", id, s.links); err != nil {
			return fmt.Errorf("story %q: %w", s.title, err)
		}
	}
	return nil
}
