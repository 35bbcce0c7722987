package demo

import (
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// slot is a volunteer shift. Its time is given relative to the start of
// the activity (or of its nth occurrence, for a recurring one), so setting
// up can begin before the doors open.
type slot struct {
	activity           string
	occurrence         int
	title, description string
	offset, dur        time.Duration
	capacity           int
	requirement        string
	// people asked for the shift in this order. The first to fit take the
	// places; once it is full the rest queue on the waitlist.
	people []string
	// noShow marks confirmed people who did not turn up to a past shift;
	// everyone else confirmed on a past shift attended.
	noShow []string
}

const childCertificate = "CHILD_CERTIFICATE"

var slots = []slot{
	{activity: "havhyttenfri", occurrence: 0, title: "Åbn Havhytten",
		description: "Hent nøglen ved Naturcenteret, tænd op i ovnen, sæt kaffe over og tag imod gæsterne. Vi lukker og låser kl. 14.",
		dur:         hours(4), capacity: 2, people: []string{"peter@ishoj.example", "mehmet@ishoj.example", "emil@ishoj.example", "zeynep@ishoj.example"}},
	{activity: "havhyttenfri", occurrence: 1, title: "Åbn Havhytten",
		description: "Hent nøglen ved Naturcenteret, tænd op i ovnen, sæt kaffe over og tag imod gæsterne. Vi lukker og låser kl. 14.",
		dur:         hours(4), capacity: 2, people: []string{"omar@ishoj.example"}},
	{activity: "havhyttenfri", occurrence: 2, title: "Åbn Havhytten",
		description: "Hent nøglen ved Naturcenteret, tænd op i ovnen, sæt kaffe over og tag imod gæsterne. Vi lukker og låser kl. 14.",
		dur:         hours(4), capacity: 2},
	{activity: "havhyttenfri", occurrence: 3, title: "Åbn Havhytten",
		description: "Hent nøglen ved Naturcenteret, tænd op i ovnen, sæt kaffe over og tag imod gæsterne. Vi lukker og låser kl. 14.",
		dur:         hours(4), capacity: 2, people: []string{"peter@ishoj.example", "nadia@ishoj.example"}},
	{activity: "havhyttenfri", occurrence: 4, title: "Åbn Havhytten",
		description: "Hent nøglen ved Naturcenteret, tænd op i ovnen, sæt kaffe over og tag imod gæsterne. Vi lukker og låser kl. 14.",
		dur:         hours(4), capacity: 2, people: []string{"bashir@ishoj.example"}},

	{activity: "spisevenner", occurrence: 0, title: "Vært i Spisevenner-caféen",
		description: "Dæk bord, byd velkommen, sid med ved bordet og hjælp med opvasken bagefter. Det vigtigste er at have tid til en snak.",
		offset:      -hours(0.5), dur: hours(3), capacity: 3,
		people: []string{"fatma@ishoj.example", "Grethe Hansen", "karin@ishoj.example", "sana@ishoj.example"}},
	{activity: "spisevenner", occurrence: 1, title: "Vært i Spisevenner-caféen",
		description: "Dæk bord, byd velkommen, sid med ved bordet og hjælp med opvasken bagefter. Det vigtigste er at have tid til en snak.",
		offset:      -hours(0.5), dur: hours(3), capacity: 3, people: []string{"lone@ishoj.example"}},
	{activity: "spisevenner", occurrence: 2, title: "Vært i Spisevenner-caféen",
		description: "Dæk bord, byd velkommen, sid med ved bordet og hjælp med opvasken bagefter. Det vigtigste er at have tid til en snak.",
		offset:      -hours(0.5), dur: hours(3), capacity: 3, people: []string{"fatma@ishoj.example", "karin@ishoj.example"}},

	{activity: "boernesoendag", occurrence: 0, title: "Hjælper til børnesøndag",
		description: "Hjælp ved klippebordet, i legene eller ved bålet. Du skal have børneattest, fordi du er sammen med børnene.",
		offset:      -hours(0.5), dur: hours(5), capacity: 4, requirement: childCertificate,
		people: []string{VolunteerEmail, "aisha@ishoj.example", "lone@ishoj.example"}},
	{activity: "boernesoendag", occurrence: 0, title: "Bålmester",
		description: "Tænd bålet, hold øje med det og hjælp børnene med snobrød og suppe. Børneattest kræves.",
		dur:         hours(4), capacity: 2, requirement: childCertificate,
		people: []string{"jonas@ishoj.example", "karin@ishoj.example"}},
	{activity: "boernesoendag", occurrence: 1, title: "Hjælper til børnesøndag",
		description: "Hjælp ved klippebordet, i legene eller ved bålet. Du skal have børneattest, fordi du er sammen med børnene.",
		offset:      -hours(0.5), dur: hours(5), capacity: 4, requirement: childCertificate,
		people: []string{VolunteerEmail}},

	{activity: "havedag", occurrence: 0, title: "Havehjælper",
		description: "Luge, så, vande eller bære jord – der er opgaver til alle kræfter. Handsker og redskaber er der.",
		dur:         hours(3), capacity: 6, people: []string{"imran@ishoj.example", "mathias@ishoj.example"}},

	{activity: "lektiecafe", occurrence: 0, title: "Lektiehjælper",
		description: "Sæt dig ved et bord og hjælp elever med deres lektier. Du behøver ikke være lærer – tålmodighed er det vigtigste. Børneattest kræves.",
		dur:         hours(2), capacity: 4, requirement: childCertificate,
		people: []string{"jonas@ishoj.example", "aisha@ishoj.example"}},
	{activity: "lektiecafe", occurrence: 1, title: "Lektiehjælper",
		description: "Sæt dig ved et bord og hjælp elever med deres lektier. Du behøver ikke være lærer – tålmodighed er det vigtigste. Børneattest kræves.",
		dur:         hours(2), capacity: 4, requirement: childCertificate},

	{activity: "byttemarked", title: "Opstilling af byttemarkedet",
		description: "Vi bærer borde og stativer ud, sætter skilte op og sorterer det første tøj i størrelser. Kaffe og rundstykker er på os.",
		offset:      -hours(2), dur: hours(2), capacity: 8,
		people: []string{VolunteerEmail, "aisha@ishoj.example", "fatma@ishoj.example", "mehmet@ishoj.example",
			"omar@ishoj.example", "lone@ishoj.example", "zeynep@ishoj.example"}},
	{activity: "byttemarked", title: "Sortering og oprydning",
		description: "Det tøj, der ikke fandt en ny ejer, pakkes til Røde Kors' genbrug, og haven ryddes.",
		offset:      hours(4), dur: hours(2), capacity: 6, people: []string{"emil@ishoj.example", "nadia@ishoj.example"}},

	{activity: "nabohilsen", title: "Bagere og pakkere",
		description: "Bag småkager, pak poser og skriv kort. Vi har dej, poser og kort – tag gerne dit eget forklæde med.",
		dur:         hours(3), capacity: 10,
		people: []string{"zeynep@ishoj.example", "sana@ishoj.example", "karin@ishoj.example", VolunteerEmail, "nadia@ishoj.example"}},

	{activity: "ishoej1970", title: "Scanning af billeder",
		description: "Tag imod de gamle billeder, scan dem og skriv navn og historie ned, så intet bliver blandet sammen.",
		offset:      -hours(0.5), dur: hours(3), capacity: 3,
		people: []string{"mathias@ishoj.example", "peter@ishoj.example", "emil@ishoj.example", "lone@ishoj.example"}},
	{activity: "ishoej1970", title: "Kaffe og modtagelse",
		description: "Byd gæsterne velkommen, hold styr på kaffen og hjælp dem, der vil fortælle, videre til én, der skriver ned.",
		offset:      -hours(0.5), dur: hours(3), capacity: 2},

	{activity: "livretter", title: "Køkkenhjælper",
		description: "Hjælp børnekokkene med at hakke, røre og smage til – og tag en tørn med opvasken.",
		offset:      -hours(1), dur: hours(4), capacity: 5,
		people: []string{"fatma@ishoj.example", "aisha@ishoj.example", "zeynep@ishoj.example", "imran@ishoj.example"}},

	{activity: "strandrydning", title: "Strandrydder",
		description: "Saml skrald i et stykke af stranden. Sække, tænger og handsker deles ud ved Havhytten.",
		dur:         hours(2), capacity: 15,
		people: []string{"peter@ishoj.example", "jonas@ishoj.example", "imran@ishoj.example", "sana@ishoj.example"}},

	{activity: "it-hjaelp", title: "IT-hjælper",
		description: "Hjælp med MitID, e-Boks, billeder og beskeder på telefonen. Du skal bare være tålmodig og have styr på din egen mobil.",
		dur:         hours(2), capacity: 3, people: []string{"emil@ishoj.example", "jonas@ishoj.example"}},

	{activity: "faellesspisning", title: "Madhold",
		description: "Lav aftensmad til 60 sammen med madholdet. Vi starter med at skrælle og slutter med opvasken.",
		offset:      -hours(3), dur: hours(5), capacity: 4,
		people: []string{"sana@ishoj.example", "bashir@ishoj.example", "omar@ishoj.example", "fatma@ishoj.example"}},

	{activity: "debataften", title: "Kaffe og velkomst",
		description: "Stil kaffe og kage frem og tag imod gæsterne ved døren.",
		offset:      -hours(0.75), dur: hours(1.25), capacity: 2, people: []string{"lone@ishoj.example"}},

	{activity: "kulturfestival", title: "Infostanden",
		description: "Fortæl gæsterne, hvad der sker hvor, del programmer ud og hjælp foreningerne med at få nye frivillige.",
		dur:         hours(3), capacity: 3, people: []string{VolunteerEmail, "mehmet@ishoj.example"}},
	{activity: "kulturfestival", title: "Infostanden, aften",
		description: "Fortæl gæsterne, hvad der sker hvor, del programmer ud og hjælp foreningerne med at få nye frivillige.",
		offset:      hours(3), dur: hours(3), capacity: 3,
		people: []string{"jonas@ishoj.example", "nadia@ishoj.example", "peter@ishoj.example"}},
	{activity: "kulturfestival", title: "Oprydning på havnen",
		description: "Boder ned, affald samlet, lys pakket væk. Jo flere vi er, jo hurtigere går det.",
		offset:      hours(6), dur: hours(2), capacity: 8, people: []string{"omar@ishoj.example"}},

	{activity: "grilldag", title: "Opstilling af borde og telte",
		description: "Vi rejser telte, stiller borde op og bærer grillene på plads.",
		offset:      -hours(2), dur: hours(2), capacity: 6,
		people: []string{"mehmet@ishoj.example", "omar@ishoj.example", "mathias@ishoj.example", "emil@ishoj.example",
			"bashir@ishoj.example", "imran@ishoj.example", "peter@ishoj.example"}},
	{activity: "grilldag", title: "Grillmester",
		description: "Pas en af de 15 grill og hjælp gæsterne med deres mad. Vi har separate grill til halal og vegetar.",
		dur:         hours(5), capacity: 15,
		people: []string{"mehmet@ishoj.example", "omar@ishoj.example", "mathias@ishoj.example", "emil@ishoj.example",
			"bashir@ishoj.example", "imran@ishoj.example", "peter@ishoj.example", "jonas@ishoj.example",
			"fatma@ishoj.example", "karin@ishoj.example", "nadia@ishoj.example", "sana@ishoj.example"}},

	// Past shifts, with attendance.
	{activity: "byttemarked-juli", title: "Opstilling af byttemarkedet",
		description: "Borde og stativer ud, skilte op og det første tøj sorteret i størrelser.",
		offset:      -hours(2), dur: hours(2), capacity: 8,
		people: []string{VolunteerEmail, "aisha@ishoj.example", "fatma@ishoj.example", "mehmet@ishoj.example",
			"lone@ishoj.example", "zeynep@ishoj.example", "omar@ishoj.example"},
		noShow: []string{"omar@ishoj.example"}},
	{activity: "byttemarked-juli", title: "Sortering og oprydning",
		description: "Tøjet, der ikke fandt en ny ejer, pakkes til genbrug, og haven ryddes.",
		offset:      hours(4), dur: hours(2), capacity: 4,
		people: []string{VolunteerEmail, "emil@ishoj.example", "nadia@ishoj.example", "karin@ishoj.example"}},
	{activity: "strandrydning-efteraar", title: "Strandrydder",
		description: "Saml skrald i et stykke af stranden. Sække, tænger og handsker deles ud ved Havhytten.",
		dur:         hours(2), capacity: 10,
		people: []string{"peter@ishoj.example", "jonas@ishoj.example", "imran@ishoj.example", "mathias@ishoj.example", "sana@ishoj.example"}},
}

// dailyLimit mirrors the volunteer service's default cap on a person's
// confirmed hours per day, so the demo never shows a state the service
// would refuse.
const dailyLimit = 8 * time.Hour

func (l *loader) loadSlots() error {
	for _, s := range slots {
		if err := l.insertSlot(s); err != nil {
			return fmt.Errorf("slot %q on %s: %w", s.title, s.activity, err)
		}
	}
	return nil
}

func (l *loader) insertSlot(s slot) error {
	a, ok := l.activities[s.activity]
	if !ok {
		return fmt.Errorf("unknown activity")
	}
	base := a.startsAt
	var occurrence *time.Time
	if a.rule != "" {
		all, err := l.occurrencesOf(a, s.occurrence+1)
		if err != nil {
			return err
		}
		if len(all) <= s.occurrence {
			return fmt.Errorf("activity has no occurrence %d", s.occurrence)
		}
		base = all[s.occurrence]
		occurrence = &base
	}
	start := base.Add(s.offset)
	end := start.Add(s.dur)
	past := end.Before(l.now)

	// Decide each person's claim before writing the slot, so its counters
	// are right from the first insert.
	type claim struct {
		user, status string
	}
	var claims []claim
	taken, waitlisted := 0, 0
	for _, p := range s.people {
		if s.requirement != "" && !l.quals[p+"|"+s.requirement+"|"+a.orgKey] {
			return fmt.Errorf("%s lacks %s for %s", p, s.requirement, a.orgKey)
		}
		sp := span{start, end}
		switch {
		case taken < s.capacity && l.fits(p, sp):
			claims = append(claims, claim{p, "CONFIRMED"})
			l.booked[p] = append(l.booked[p], sp)
			taken++
		case taken == s.capacity && !past:
			claims = append(claims, claim{p, "WAITLISTED"})
			waitlisted++
		}
		// Someone already busy at that time simply did not sign up.
	}

	created := l.now
	if past {
		created = start.AddDate(0, -1, 0)
	}
	organiser := l.creatorOf(a.orgKey)
	var req *string
	if s.requirement != "" {
		req = &s.requirement
	}
	var id int64
	err := store.Get(l.ctx, l.tx, &id, `INSERT INTO volunteer_slots
		(activity_id, occurrence_starts_at, title, description, starts_at, ends_at, capacity, requirement,
		 taken, waitlisted, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.id, occurrence, s.title, s.description, start, end, s.capacity, req, taken, waitlisted, organiser, created)
	if err != nil {
		return err
	}

	for i, c := range claims {
		uid, err := l.user(c.user)
		if err != nil {
			return err
		}
		// People sign up themselves; someone without the app is put on
		// the roster by the organiser.
		createdBy := uid
		if _, hasApp := userHasApp(c.user); !hasApp {
			createdBy = organiser
		}
		var at time.Time
		if past {
			at = created.Add(time.Duration(i+1) * time.Hour)
		} else {
			l.claimSeq++
			at = l.now.Add(time.Duration(l.claimSeq) * time.Second)
		}
		var confirmedAt *time.Time
		var attendance *string
		if c.status == "CONFIRMED" {
			confirmedAt = &at
			if past {
				v := "ATTENDED"
				for _, n := range s.noShow {
					if n == c.user {
						v = "NO_SHOW"
					}
				}
				attendance = &v
			}
		}
		_, err = store.Exec(l.ctx, l.tx, `INSERT INTO slot_claims
			(slot_id, user_id, status, attendance, created_by, created_at, confirmed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, uid, c.status, attendance, createdBy, at, confirmedAt)
		if err != nil {
			return fmt.Errorf("claim of %s: %w", c.user, err)
		}
	}
	return nil
}

func (l *loader) occurrencesOf(a activityRow, n int) ([]time.Time, error) {
	local := a.startsAt.In(l.cal.loc)
	return l.cal.occurrences(a.rule, local.Hour(), local.Minute(), n)
}

// fits reports whether a confirmed shift at sp leaves the person free of
// overlaps and within the daily limit.
func (l *loader) fits(user string, sp span) bool {
	day := func(t time.Time) string { return t.In(l.cal.loc).Format(time.DateOnly) }
	total := sp.end.Sub(sp.start)
	for _, b := range l.booked[user] {
		if b.start.Before(sp.end) && b.end.After(sp.start) {
			return false
		}
		if day(b.start) == day(sp.start) {
			total += b.end.Sub(b.start)
		}
	}
	return total <= dailyLimit
}

func userHasApp(key string) (person, bool) {
	for _, p := range people {
		if p.key() == key {
			return p, p.email != ""
		}
	}
	return person{}, false
}
