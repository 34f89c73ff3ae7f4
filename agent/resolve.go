package agent

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
)

// maxCandidates bounds the chargers offered to choose from.
const maxCandidates = 5

// resolveCharger finds the charger the driver means: a choice among the
// candidates offered, an id (fuzzy) or a place (site name, address, city,
// landmark).
func (a *Agent) resolveCharger(ctx context.Context, s *session) error {
	if s.d.Ask == askChoose && len(s.d.Candidates) > 0 {
		if id := chooseAmong(s, s.d.Candidates); id != "" {
			s.setCharger(id)
			return nil
		}
	}
	if id, err := a.exactLabel(ctx, s.text); err != nil || id != "" {
		// A label id written exactly wins over any fuzzy match or place.
		if id != "" {
			s.setCharger(id)
		}
		return err
	}
	refs := s.u.Slots.ChargerRefs
	if s.awaitingVerification() || s.c.ChargerID != "" {
		// A bare number is an answer (the last four, a time, a connector)
		// or too weak to move away from the charger already settled.
		refs = slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return !strings.ContainsFunc(r, unicode.IsLetter) })
	}
	place := s.u.Slots.Place
	if len(refs) == 0 && place == "" {
		return nil
	}
	known, err := a.chargerIDs(ctx)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		ms := nlu.MatchChargerIDs(ref, known)
		switch {
		case len(ms) == 0:
			continue
		case len(ms) == 1 || ms[0].Score >= 0.95 && ms[1].Score < 0.95 || ms[0].Score-ms[1].Score >= 0.15:
			s.setCharger(ms[0].ID)
			return nil
		default:
			// Only the close contenders: a reference that nearly names a
			// charger in Toronto is not offered one in Austin.
			city := idCity(ref)
			sameCity := city != "" && idCity(ms[0].ID) == city
			var ids []string
			for _, m := range ms[:min(len(ms), maxCandidates)] {
				if ms[0].Score-m.Score < 0.15 && (!sameCity || idCity(m.ID) == city) {
					ids = append(ids, m.ID)
				}
			}
			if len(ids) == 1 {
				s.setCharger(ids[0])
				return nil
			}
			s.d.Candidates = ids
			return nil
		}
	}
	if place == "" {
		return nil
	}
	ids, err := a.chargersAtPlace(ctx, place)
	if err != nil {
		return err
	}
	switch {
	case len(ids) == 1:
		s.setCharger(ids[0])
	case len(ids) > 1:
		s.d.Candidates = ids[:min(len(ids), maxCandidates)]
	}
	return nil
}

// exactLabel returns the registered charger whose id the text holds as a
// word of its own, exactly as on the label (case aside), or "".
func (a *Agent) exactLabel(ctx context.Context, text string) (string, error) {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' })
	var cands []string
	for _, w := range words {
		w = strings.Trim(w, "-_")
		if len(w) >= 4 && strings.ContainsFunc(w, unicode.IsDigit) && strings.ContainsFunc(w, unicode.IsLetter) {
			cands = append(cands, w)
		}
	}
	if len(cands) == 0 {
		return "", nil
	}
	for _, w := range cands {
		if ch, err := a.store.Charger(ctx, strings.ToUpper(w)); err == nil {
			return ch.ID, nil
		} else if !notFound(err) {
			return "", fmt.Errorf("agent: charger: %w", err)
		}
		if ch, err := a.store.Charger(ctx, w); err == nil {
			return ch.ID, nil
		} else if !notFound(err) {
			return "", fmt.Errorf("agent: charger: %w", err)
		}
	}
	return "", nil
}

// awaitingVerification reports whether the agent waits for an answer that
// verifies the caller.
func (s *session) awaitingVerification() bool {
	switch s.d.Ask {
	case askIdentity, askLast4, askStartTime:
		return true
	}
	return s.d.PendingDriver != "" && !s.verified()
}

// setCharger settles the conversation on a charger.
func (s *session) setCharger(id string) {
	if s.c.ChargerID != id {
		s.c.ChargerID = id
		s.c.ConnectorID = 0
		s.d.Cause, s.d.Evidence, s.d.Unlocked = "", nil, false
	}
	s.d.Candidates = nil
	switch s.d.Ask {
	case askChoose, askCharger:
		s.d.Ask, s.d.Asked = "", 0
	}
}

// chooseAmong reads the driver's choice among candidates: "2", "the
// second", an id fragment.
func chooseAmong(s *session, cands []string) string {
	for _, f := range strings.FieldsFunc(s.text, func(r rune) bool { return !unicode.IsDigit(r) }) {
		if n, err := strconv.Atoi(f); err == nil && n >= 1 && n <= len(cands) && len(f) <= 2 {
			return cands[n-1]
		}
	}
	ordinals := [][]string{
		{"first", "premier", "première", "primero", "primera"},
		{"second", "deuxième", "segundo", "segunda"},
		{"third", "troisième", "tercero", "tercera"},
	}
	low := fold(s.text)
	for i, words := range ordinals {
		if i >= len(cands) {
			break
		}
		for _, w := range words {
			if containsWord(low, fold(w)) {
				return cands[i]
			}
		}
	}
	for _, ref := range s.u.Slots.ChargerRefs {
		if ms := nlu.MatchChargerIDs(ref, cands); len(ms) > 0 {
			return ms[0].ID
		}
	}
	return ""
}

// chargerIDs lists every registered charger id.
func (a *Agent) chargerIDs(ctx context.Context) ([]string, error) {
	var ids []string
	after := ""
	for {
		chs, err := a.store.Chargers(ctx, chargedesk.ChargerFilter{AfterID: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("agent: list chargers: %w", err)
		}
		for _, ch := range chs {
			ids = append(ids, ch.ID)
		}
		if len(chs) < 1000 {
			return ids, nil
		}
		after = chs[len(chs)-1].ID
	}
}

// stopWords are words of a place phrase that say nothing about which place.
var stopWords = map[string]bool{
	"the": true, "one": true, "at": true, "in": true, "on": true, "by": true, "near": true, "of": true, "station": true,
	"charger": true, "chargers": true, "le": true, "la": true, "les": true, "du": true, "de": true, "des": true,
	"au": true, "a": true, "pres": true, "borne": true, "el": true, "los": true, "las": true, "en": true, "del": true,
	"cerca": true, "cargador": true, "estacion": true, "celui": true, "celle": true, "uno": true, "una": true,
	"st": true, "street": true, "ave": true, "avenue": true, "rue": true, "calle": true, "my": true, "mon": true, "mi": true,
}

// placeWords returns the meaningful folded words of a phrase.
func placeWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = strings.TrimSuffix(w, "'s")
		if len(w) < 2 || stopWords[w] {
			continue
		}
		out = append(out, strings.TrimSuffix(w, "s"))
	}
	return out
}

// chargersAtPlace returns the chargers at the sites that best match a place
// phrase (name, address, city, landmarks; case and accents ignored).
func (a *Agent) chargersAtPlace(ctx context.Context, place string) ([]string, error) {
	want := placeWords(place)
	if len(want) == 0 {
		return nil, nil
	}
	sites, err := a.store.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: list sites: %w", err)
	}
	best := 0.0
	var bestSites []string
	for _, st := range sites {
		have := map[string]bool{}
		for _, f := range append([]string{st.Name, st.Address, st.City}, st.Landmarks...) {
			for _, w := range placeWords(f) {
				have[w] = true
			}
		}
		hit := 0
		for _, w := range want {
			if have[w] {
				hit++
			}
		}
		if hit == 0 {
			continue
		}
		score := float64(hit) / float64(len(want))
		switch {
		case score > best+1e-9:
			best, bestSites = score, []string{st.ID}
		case score > best-1e-9:
			bestSites = append(bestSites, st.ID)
		}
	}
	if len(bestSites) == 0 {
		return nil, nil
	}
	locs, err := a.store.ChargerLocations(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: charger locations: %w", err)
	}
	var ids []string
	for _, l := range locs {
		if slices.Contains(bestSites, l.SiteID) {
			ids = append(ids, l.ChargerID)
		}
	}
	return ids, nil
}

// chargerLabel names a charger for the driver: its id and site.
func (a *Agent) chargerLabel(ctx context.Context, id string) string {
	if st := a.siteOf(ctx, id); st != nil {
		return fmt.Sprintf("%s (%s, %s)", id, st.Name, st.Address)
	}
	return id
}

// siteOf returns the site of a charger, or nil.
func (a *Agent) siteOf(ctx context.Context, chargerID string) *chargedesk.Site {
	loc := a.location(ctx, chargerID)
	if loc == nil {
		return nil
	}
	st, err := a.store.Site(ctx, loc.SiteID)
	if err != nil {
		return nil
	}
	return st
}

// location returns where a charger is placed, or nil.
func (a *Agent) location(ctx context.Context, chargerID string) *chargedesk.ChargerLocation {
	locs, err := a.store.ChargerLocations(ctx)
	if err != nil {
		return nil
	}
	for i := range locs {
		if locs[i].ChargerID == chargerID {
			return &locs[i]
		}
	}
	return nil
}

// specs returns the operator's connector specs of a charger.
func (a *Agent) specs(ctx context.Context, chargerID string) []chargedesk.ConnectorSpec {
	if l := a.location(ctx, chargerID); l != nil {
		return l.Connectors
	}
	return nil
}

// fold lowercases and strips the accents of Latin letters.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'à', 'á', 'â', 'ä', 'ã', 'å':
			r = 'a'
		case 'ç':
			r = 'c'
		case 'è', 'é', 'ê', 'ë':
			r = 'e'
		case 'ì', 'í', 'î', 'ï':
			r = 'i'
		case 'ñ':
			r = 'n'
		case 'ò', 'ó', 'ô', 'ö', 'õ':
			r = 'o'
		case 'ù', 'ú', 'û', 'ü':
			r = 'u'
		case '’':
			r = '\''
		}
		b.WriteRune(r)
	}
	return b.String()
}

// containsWord reports whether folded text has w as a whole word.
func containsWord(text, w string) bool {
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if f == w {
			return true
		}
	}
	return false
}

// idCity returns the city part of a NET-CITY-NNNN id, or "".
func idCity(id string) string {
	parts := strings.Split(strings.ToUpper(id), "-")
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}
