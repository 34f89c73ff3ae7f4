package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// DialogueFaults counts what went wrong in a conversation itself, whatever
// its end state. Each count fails the trial.
type DialogueFaults struct {
	// LanguageDrift: replies (or sentences of them) in another language
	// than the one the driver speaks.
	LanguageDrift int `json:"languageDrift"`
	// RepeatedReplies: replies identical to the one just before.
	RepeatedReplies int `json:"repeatedReplies"`
	// NeedlessQuestions: questions the agent could answer from what it has
	// (a charger id or phone number already given, a connector of a
	// charger with one).
	NeedlessQuestions int `json:"needlessQuestions"`
	// ImpossibleQuestions: questions the driver cannot answer (a
	// connector of "0 connectors", a choice without the driver's charger).
	ImpossibleQuestions int `json:"impossibleQuestions"`
	// FarSuggestions: chargers suggested beyond the radius or in another
	// country.
	FarSuggestions int `json:"farSuggestions"`
	// FalseTickets: a field or human ticket although the remote fix
	// worked, or a second ticket of the conversation for the same problem.
	FalseTickets int `json:"falseTickets"`
	// TooManyTurns: a fixable task that took more driver messages than
	// RunConfig.MaxFixTurns (0 or 1 per trial).
	TooManyTurns int `json:"tooManyTurns"`
}

// Total is the sum of the counts.
func (f DialogueFaults) Total() int {
	return f.LanguageDrift + f.RepeatedReplies + f.NeedlessQuestions + f.ImpossibleQuestions + f.FarSuggestions +
		f.FalseTickets + f.TooManyTurns
}

func (f *DialogueFaults) add(o DialogueFaults) {
	f.LanguageDrift += o.LanguageDrift
	f.RepeatedReplies += o.RepeatedReplies
	f.NeedlessQuestions += o.NeedlessQuestions
	f.ImpossibleQuestions += o.ImpossibleQuestions
	f.FarSuggestions += o.FarSuggestions
	f.FalseTickets += o.FalseTickets
	f.TooManyTurns += o.TooManyTurns
}

// place is where a charger is, as the world knows it.
type place struct {
	Country string
	// KM is the distance from the driver's charger.
	KM float64
}

// dialogueCase is what the conversation grader needs of a trial.
type dialogueCase struct {
	exchanges []exchange
	// known lists facts the agent had before the first message (the
	// caller's phone number on SMS and voice).
	known []string
	// chargerID is the driver's charger; connectors how many it has.
	chargerID  string
	connectors int
	// where returns where a charger is, false when unknown.
	where func(id string) (place, bool)
	// country is the driver's charger's.
	country  string
	radiusKM float64
	// fixable tasks must reach the goal within maxTurns driver messages;
	// turns is how many it took (all of them when the goal was missed).
	fixable  bool
	turns    int
	maxTurns int
}

// gradeDialogue reads a conversation as a person would judge it and
// returns what went wrong, with one note per fault.
func gradeDialogue(dc dialogueCase) (DialogueFaults, []string) {
	var f DialogueFaults
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	gave := map[string]bool{}
	for _, k := range dc.known {
		gave[k] = true
	}
	for i, ex := range dc.exchanges {
		for _, g := range ex.Gave {
			gave[g] = true
		}
		n := i + 1
		if s, l := foreignSentence(ex.Agent, ex.Lang); s != "" {
			f.LanguageDrift++
			note("reply %d in %s, the driver speaks %s: %q", n, l, ex.Lang, clip(s, 90))
		}
		if i > 0 && normReply(ex.Agent) != "" && normReply(ex.Agent) == normReply(dc.exchanges[i-1].Agent) {
			f.RepeatedReplies++
			note("reply %d repeats reply %d word for word: %q", n, i, clip(ex.Agent, 90))
		}
		heard := hear(ex.Agent, ex.Lang)
		for _, q := range heard.asked() {
			switch q {
			case qCharger, qChoose:
				if gave[qCharger] {
					f.NeedlessQuestions++
					note("reply %d asks which charger after the driver gave its id %s", n, dc.chargerID)
				}
				if q == qChoose && !optionsHave(heard.options, dc.chargerID) {
					f.ImpossibleQuestions++
					note("reply %d offers chargers to choose from without the driver's %s", n, dc.chargerID)
				}
			case qConnector:
				switch {
				case heard.connectors == 0:
					f.ImpossibleQuestions++
					note("reply %d asks which connector of a charger it says has 0", n)
				case dc.connectors <= 1:
					f.NeedlessQuestions++
					note("reply %d asks which connector of a charger with %d", n, dc.connectors)
				}
			case qPhone, qLast4, qStartTime:
				if gave[q] && !heard.has(toldNoMatch) {
					f.NeedlessQuestions++
					note("reply %d asks for the %s the driver already gave", n, strings.ReplaceAll(q, "_", " "))
				}
			}
		}
		for _, id := range heard.labels {
			if id == dc.chargerID || dc.where == nil {
				continue
			}
			p, ok := dc.where(id)
			if !ok {
				continue // not a charger of the network (an example label)
			}
			km := p.KM
			if heard.distanceKM >= 0 {
				km = max(km, heard.distanceKM)
			}
			switch {
			case dc.country != "" && p.Country != dc.country:
				f.FarSuggestions++
				note("reply %d suggests %s in %s, the driver is in %s", n, id, p.Country, dc.country)
			case km > dc.radiusKM:
				f.FarSuggestions++
				note("reply %d suggests %s %.0f km away (radius %.0f km)", n, id, km, dc.radiusKM)
			}
		}
	}
	if dc.fixable && dc.maxTurns > 0 && dc.turns > dc.maxTurns {
		f.TooManyTurns++
		note("%d driver messages for a fixable problem (at most %d)", dc.turns, dc.maxTurns)
	}
	return f, notes
}

// optionsHave reports whether one of the offered options names id.
func optionsHave(opts map[int]string, id string) bool {
	for _, o := range opts {
		if strings.Contains(o, id) {
			return true
		}
	}
	return false
}

// normReply is a reply reduced for comparison.
func normReply(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// clip shortens s to n runes.
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n]) + "…"
}

// gradeTickets counts false tickets: a field-service or human-review
// ticket when the driver's problem was fixed remotely (one the catalogue
// expects anyway excepted), and every ticket beyond the first of a
// category.
func gradeTickets(f FaultSpec, fixed bool, tickets []*chargedesk.Ticket) (int, []string) {
	n := 0
	var notes []string
	seen := map[string]int{}
	for _, t := range tickets {
		seen[t.Category]++
		if seen[t.Category] > 1 {
			n++
			notes = append(notes, fmt.Sprintf("a second %s ticket (%s) for the same problem", t.Category, t.ID))
			continue
		}
		if fixed && f.Fixable && t.Category != f.Ticket && t.Category != f.Escalate {
			n++
			notes = append(notes, fmt.Sprintf("a %s ticket (%s) although the remote fix worked", t.Category, t.ID))
		}
	}
	return n, notes
}

// whereFrom returns how the world places chargers relative to the
// driver's: country and distance from the store's sites.
func (w *world) whereFrom(ctx context.Context) (country string, where func(string) (place, bool)) {
	origin := w.siteOf(ctx, w.id)
	if origin == nil {
		return "", nil
	}
	return origin.Country, func(id string) (place, bool) {
		s := w.siteOf(ctx, id)
		if s == nil {
			return place{}, false
		}
		return place{Country: s.Country, KM: chargedesk.DistanceKM(origin.Lat, origin.Lon, s.Lat, s.Lon)}, true
	}
}

// siteOf returns the site a charger is placed at, or nil.
func (w *world) siteOf(ctx context.Context, id string) *chargedesk.Site {
	locs, err := w.st.store.ChargerLocations(ctx)
	if err != nil {
		return nil
	}
	for _, l := range locs {
		if l.ChargerID == id {
			s, err := w.st.store.Site(ctx, l.SiteID)
			if err != nil {
				return nil
			}
			return s
		}
	}
	return nil
}
