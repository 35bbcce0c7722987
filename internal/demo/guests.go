package demo

import (
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/internal/store"
)

// guestActivity is how an activity takes guests in the demo, and who said
// they come to which of its occurrences.
type guestActivity struct {
	activity string
	mode     string
	seats    int // SEAT_LIMITED only
	maxParty int
	// cancelMinutes is the cancellation deadline before each start; 0 for
	// none.
	cancelMinutes int
	dates         []guestDate
}

// guestDate is the sign-ups of one occurrence (0 the next, for a
// recurring activity), in the order they were made. A party that finds
// too few seats free queues; as seats only fill up while the demo signs
// people up, no one waits for seats a later party could not take.
type guestDate struct {
	occurrence int
	parties    []party
}

type party struct {
	who        string
	size       int
	interested bool
}

// guestsWithoutApp are elderly residents Kulturhuset's staff put on the
// Spisevenner list by phone: the café is for people who may have no app.
var guestsWithoutApp = []person{
	{name: "Else Poulsen", phone: "+4521345601"},
	{name: "Kaj Andersen", phone: "+4521345602"},
	{name: "Inge Larsen", phone: "+4521345603"},
	{name: "Bent Mortensen", phone: "+4521345604"},
	{name: "Ruth Olsen", phone: "+4521345605"},
	{name: "Poul Christiansen", phone: "+4521345606"},
	{name: "Hanne Jakobsen", phone: "+4521345607"},
	{name: "Erik Rasmussen", phone: "+4521345608"},
	{name: "Gudrun Thomsen", phone: "+4521345609"},
	{name: "Aage Pedersen", phone: "+4521345610"},
}

var guestActivities = []guestActivity{
	// The swap market is open: 300 came last time; saying so helps the
	// organisers guess how many tables to set up.
	{activity: "byttemarked", mode: "OPEN", maxParty: 8, dates: []guestDate{{parties: []party{
		{who: "peter@ishoj.example", size: 1}, {who: "karin@ishoj.example", size: 3}, {who: "imran@ishoj.example", size: 4},
		{who: "sana@ishoj.example", size: 2}, {who: "bashir@ishoj.example", size: 5}, {who: "nadia@ishoj.example", size: 1, interested: true},
		{who: "emil@ishoj.example", size: 1, interested: true}, {who: "mathias@ishoj.example", size: 2},
		{who: "Grethe Hansen", size: 1}, {who: "jonas@ishoj.example", size: 1, interested: true},
	}}}},
	// Spisevenner has 30 seats; next Wednesday is nearly full: one seat is
	// left and two couples wait, since a party is never split.
	{activity: "spisevenner", mode: "SEAT_LIMITED", seats: 30, maxParty: 2, cancelMinutes: 120, dates: []guestDate{
		{occurrence: 0, parties: []party{
			{who: "Else Poulsen", size: 1}, {who: "Kaj Andersen", size: 1}, {who: "Inge Larsen", size: 2},
			{who: "Bent Mortensen", size: 1}, {who: "Ruth Olsen", size: 1}, {who: "Poul Christiansen", size: 2},
			{who: "Hanne Jakobsen", size: 1}, {who: "Erik Rasmussen", size: 1}, {who: "Gudrun Thomsen", size: 1},
			{who: "Aage Pedersen", size: 2}, {who: "peter@ishoj.example", size: 1}, {who: "mehmet@ishoj.example", size: 2},
			{who: "lone@ishoj.example", size: 1}, {who: "emil@ishoj.example", size: 1}, {who: "karin@ishoj.example", size: 2},
			{who: "imran@ishoj.example", size: 1}, {who: "nadia@ishoj.example", size: 2}, {who: "bashir@ishoj.example", size: 1},
			{who: "sana@ishoj.example", size: 2}, {who: "zeynep@ishoj.example", size: 1}, {who: "mathias@ishoj.example", size: 2},
			// 29 of 30 seats: these couples wait.
			{who: "omar@ishoj.example", size: 2}, {who: "jonas@ishoj.example", size: 2},
			{who: "aisha@ishoj.example", size: 1, interested: true},
		}},
		{occurrence: 1, parties: []party{
			{who: "Else Poulsen", size: 1}, {who: "Kaj Andersen", size: 1}, {who: "Inge Larsen", size: 2},
			{who: "Ruth Olsen", size: 1}, {who: "Gudrun Thomsen", size: 1}, {who: "Aage Pedersen", size: 2},
			{who: "peter@ishoj.example", size: 1}, {who: "lone@ishoj.example", size: 1}, {who: "karin@ishoj.example", size: 2},
		}},
	}},
	// Børnesøndag takes 40, families with their children; the next one is
	// full with two families waiting.
	{activity: "boernesoendag", mode: "SEAT_LIMITED", seats: 40, maxParty: 6, cancelMinutes: 24 * 60, dates: []guestDate{
		{occurrence: 0, parties: []party{
			{who: "fatma@ishoj.example", size: 3}, {who: "mehmet@ishoj.example", size: 4}, {who: "zeynep@ishoj.example", size: 5},
			{who: "sana@ishoj.example", size: 3}, {who: "imran@ishoj.example", size: 4}, {who: "nadia@ishoj.example", size: 3},
			{who: "bashir@ishoj.example", size: 6}, {who: "peter@ishoj.example", size: 2}, {who: "emil@ishoj.example", size: 4},
			{who: "mathias@ishoj.example", size: 3},
			// 37 of 40: a family of five waits, then a grandmother with
			// two grandchildren takes the last three seats.
			{who: "omar@ishoj.example", size: 5}, {who: "Inge Larsen", size: 3}, {who: "Kaj Andersen", size: 2},
		}},
		{occurrence: 1, parties: []party{
			{who: "fatma@ishoj.example", size: 3}, {who: "zeynep@ishoj.example", size: 4}, {who: "bashir@ishoj.example", size: 6},
			{who: "nadia@ishoj.example", size: 2, interested: true},
		}},
	}},
}

func (l *loader) loadParticipations() error {
	for _, p := range guestsWithoutApp {
		var id int64
		err := store.Get(l.ctx, l.tx, &id, `INSERT INTO users
			(phone, display_name, language, language_chosen, role, anonymous, has_app, created_at, updated_at)
			VALUES (?, ?, 'da', FALSE, 'RESIDENT', FALSE, FALSE, ?, ?) RETURNING id`, p.phone, p.name, l.now, l.now)
		if err != nil {
			return fmt.Errorf("guest %s: %w", p.name, err)
		}
		l.users[p.key()] = id
	}
	for _, g := range guestActivities {
		if err := l.insertGuests(g); err != nil {
			return fmt.Errorf("guests of %s: %w", g.activity, err)
		}
	}
	return nil
}

func (l *loader) insertGuests(g guestActivity) error {
	a, ok := l.activities[g.activity]
	if !ok {
		return fmt.Errorf("unknown activity")
	}
	var seats, cancel *int
	if g.mode == "SEAT_LIMITED" {
		seats = &g.seats
	}
	if g.cancelMinutes > 0 {
		cancel = &g.cancelMinutes
	}
	_, err := store.Exec(l.ctx, l.tx, `INSERT INTO participation_settings
		(activity_id, mode, seats, max_party_size, cancel_minutes_before, notify_filling, updated_at) VALUES (?, ?, ?, ?, ?, TRUE, ?)`,
		a.id, g.mode, seats, g.maxParty, cancel, l.now)
	if err != nil {
		return err
	}
	organiser := l.creatorOf(a.orgKey)
	for _, d := range g.dates {
		start := a.startsAt
		if a.rule != "" {
			all, err := l.occurrencesOf(a, d.occurrence+1)
			if err != nil {
				return err
			}
			if len(all) <= d.occurrence {
				return fmt.Errorf("activity has no occurrence %d", d.occurrence)
			}
			start = all[d.occurrence]
		}
		past := !l.now.Before(start)
		going := 0
		for i, p := range d.parties {
			if p.size > g.maxParty {
				return fmt.Errorf("party of %s is larger than %d", p.who, g.maxParty)
			}
			status := "GOING"
			switch {
			case p.interested:
				status = "INTERESTED"
			case seats != nil && going+p.size > *seats:
				if past {
					continue // nobody waits for what has begun
				}
				status = "WAITLISTED"
			}
			if status == "GOING" {
				going += p.size
			}
			uid, err := l.user(p.who)
			if err != nil {
				return err
			}
			createdBy := uid
			if _, hasApp := userHasApp(p.who); !hasApp {
				createdBy = organiser
			}
			at := l.now.Add(time.Duration(i+1) * time.Second)
			if past {
				at = start.AddDate(0, 0, -7).Add(time.Duration(i+1) * time.Minute)
			}
			var confirmedAt *time.Time
			var attendance *string
			if status == "GOING" {
				confirmedAt = &at
				if past {
					v := "ATTENDED"
					attendance = &v
				}
			}
			_, err = store.Exec(l.ctx, l.tx, `INSERT INTO participations
				(activity_id, occurrence_starts_at, user_id, status, party_size, attendance, created_by, created_at, updated_at, confirmed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.id, start.UTC(), uid, status, p.size, attendance, createdBy, at, at, confirmedAt)
			if err != nil {
				return fmt.Errorf("participation of %s: %w", p.who, err)
			}
		}
	}
	return nil
}
