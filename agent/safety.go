package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/chargedesk/chargedesk"
)

// availabilityChange is one ChangeAvailability the gateway allowed, as
// the audit log tells it.
type availabilityChange struct {
	at        time.Time
	actor     string
	connector int
	state     string // Operative or Inoperative
	reason    string // the command's reason
}

// availabilityChanges reads the ChangeAvailability commands allowed for a
// charger from the audit log, oldest first.
func (a *Agent) availabilityChanges(ctx context.Context, chargerID string) ([]availabilityChange, error) {
	var out []availabilityChange
	var after int64
	for {
		es, err := a.store.AuditEntries(ctx, chargedesk.AuditFilter{ChargerID: chargerID, AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("agent: read audit: %w", err)
		}
		for _, e := range es {
			if e.Kind != string(chargedesk.CmdChangeAvailability) || e.Stage != chargedesk.AuditDecision || !e.Allowed {
				continue
			}
			var cmd chargedesk.Command
			if json.Unmarshal(e.Detail, &cmd) != nil {
				continue
			}
			out = append(out, availabilityChange{at: e.At, actor: e.Actor, connector: cmd.ConnectorID, state: cmd.Availability, reason: cmd.Reason})
		}
		if len(es) < 1000 {
			return out, nil
		}
		after = es[len(es)-1].Seq
	}
}

// operativeBlock returns why the agent must not make the conversation's
// connector Operative, or "": an open field-service or damage ticket for
// it, or an Inoperative someone (the agent or an operator) set on purpose
// and nobody reversed. Such a connector is out of service by a person's
// or a safety decision; a person puts it back.
func (a *Agent) operativeBlock(ctx context.Context, s *session) (string, error) {
	for _, st := range []chargedesk.TicketStatus{chargedesk.TicketOpen, chargedesk.TicketAssigned} {
		ts, err := a.store.Tickets(ctx, chargedesk.TicketFilter{ChargerID: s.c.ChargerID, Status: st, Limit: 1000})
		if err != nil {
			return "", fmt.Errorf("agent: read tickets: %w", err)
		}
		for _, t := range ts {
			if (t.Category == TicketFieldService || t.Category == chargedesk.CategoryHardwareDamage) &&
				(t.ConnectorID == 0 || s.c.ConnectorID == 0 || t.ConnectorID == s.c.ConnectorID) {
				return fmt.Sprintf("ticket %s (%s) is open for %s connector %d: %s", t.ID, t.Category, t.ChargerID, t.ConnectorID, t.Summary), nil
			}
		}
	}
	changes, err := a.availabilityChanges(ctx, s.c.ChargerID)
	if err != nil {
		return "", err
	}
	var last *availabilityChange
	for i := range changes {
		ch := &changes[i]
		if ch.connector == 0 || ch.connector == s.c.ConnectorID {
			last = ch
		}
	}
	if last != nil && last.state == chargedesk.AvailabilityInoperative {
		return fmt.Sprintf("%s set connector %d Inoperative at %s (reason: %q) and nobody reversed it",
			last.actor, last.connector, last.at.UTC().Format(time.RFC3339), last.reason), nil
	}
	return "", nil
}

// agentTookOutOfService reports whether the agent already set a connector
// of the charger Inoperative within a day: it does so once, then people
// decide.
func (a *Agent) agentTookOutOfService(ctx context.Context, chargerID string) (bool, error) {
	changes, err := a.availabilityChanges(ctx, chargerID)
	if err != nil {
		return false, err
	}
	since := a.now().Add(-24 * time.Hour)
	for _, ch := range changes {
		if ch.state == chargedesk.AvailabilityInoperative && strings.HasPrefix(ch.actor, chargedesk.AgentActorPrefix) && ch.at.After(since) {
			return true, nil
		}
	}
	return false, nil
}

// hazardPhrases describe damage that makes a connector dangerous to touch,
// as folded text. Single words match whole words or their start ("spark"
// matches "sparks", "sparking"); phrases match as written. Loose words
// ("cut", "wire", "water") alone are not enough.
var hazardPhrases = []string{
	"exposed wire", "wires exposed", "wire exposed", "wires are exposed", "wire is exposed", "bare wire", "wires sticking out",
	"cable is cut", "cable was cut", "cut cable", "cable cut", "cord is cut", "cut cord", "cable is cut open", "cable is sliced", "cable ripped open",
	"spark", "smok", "on fire", "flames", "burning", "burnt", "burned", "melted", "melting",
	"electric shock", "got shocked", "shocked me", "got a shock", "water inside", "water in the", "flooded", "standing water",
	"fils sont a nu", "fils sont denudes", "cable est coupe", "cable esta cortado",
	"fils denudes", "fils a nu", "cable coupe", "cable sectionne", "etincel", "fumee", "feu", "flamme", "brule", "fondu",
	"choc electrique", "decharge electrique", "eau dans", "inonde",
	"cables expuestos", "cable expuesto", "cable cortado", "chispa", "humo", "fuego", "llama", "quemad", "derretid",
	"descarga electrica", "agua dentro", "agua en", "inundad",
}

// clearHazard reports whether a report describes a clear hazard.
func clearHazard(text string) bool {
	t := " " + strings.Join(strings.FieldsFunc(fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ") + " "
	for _, p := range hazardPhrases {
		if strings.Contains(t, " "+p) {
			return true
		}
	}
	return false
}

// vagueFew and tensWords read spoken amounts of minutes: "a few", "a
// couple of", "quelques", "unos"; "twenty", "vingt", "veinte".
var (
	vagueFew  = map[string]bool{"few": true, "couple": true, "several": true, "quelques": true, "unos": true, "unas": true, "algunos": true, "pocos": true}
	tensWords = map[string]int{"ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
		"dix": 10, "quinze": 15, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
		"diez": 10, "quince": 15, "veinte": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50}
)

// startTolerance is how far the start time a caller gives may be from the
// stored one to bind them to the session.
const startTolerance = 15 * time.Minute

// lastSession returns the newest ended transaction of the conversation's
// connector, or nil.
func (a *Agent) lastSession(ctx context.Context, s *session) (*chargedesk.Transaction, error) {
	txs, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: s.c.ChargerID, Limit: 50})
	if err != nil {
		return nil, fmt.Errorf("agent: transactions: %w", err)
	}
	var best *chargedesk.Transaction
	for _, tx := range txs {
		if tx.ConnectorID != s.c.ConnectorID || tx.Active() {
			continue
		}
		if best == nil || tx.StartedAt.After(best.StartedAt) {
			best = tx
		}
	}
	return best, nil
}

// bindSession reports whether the caller is bound to tx, the connector's
// last session: verified as the driver of its token, or bound earlier by
// its start time.
func (a *Agent) bindSession(ctx context.Context, s *session, tx *chargedesk.Transaction) bool {
	if s.d.SessionTx == tx.ID {
		return true
	}
	return s.verified() && a.driverTags(ctx, s.c.DriverID)[tx.IDTag]
}

// startTimeMatches reads the start time the caller gives ("2:30 pm",
// "14h30", "around 2", "45 minutes ago") and reports whether it is within
// startTolerance of started. Clock times are read in the agent clock's
// time zone; without am/pm either half of the day may match.
func startTimeMatches(text string, now, started time.Time) (given, ok bool) {
	t := fold(text)
	near := func(at time.Time) bool {
		d := at.Sub(started)
		return d <= startTolerance && d >= -startTolerance
	}
	words := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ':' && r != '.' })
	// relative: "45 minutes ago", "an hour ago", "hace 30 minutos", "il y a 20 minutes"
	for i, w := range words {
		unit := time.Duration(0)
		switch {
		case strings.HasPrefix(w, "min") || nearWord(w, "minutes") || nearWord(w, "minutos"):
			unit = time.Minute
		case w == "h" || strings.HasPrefix(w, "hour") || strings.HasPrefix(w, "heure") || strings.HasPrefix(w, "hora"):
			unit = time.Hour
		}
		if unit == 0 || i == 0 {
			continue
		}
		prev := words[i-1]
		if prev == "of" && i >= 2 {
			prev = words[i-2] // "a couple of minutes"
		}
		n, err := strconv.ParseFloat(prev, 64)
		if err != nil {
			switch w := prev; {
			case w == "an" || w == "a" || w == "une" || w == "un" || w == "una":
				n = 1
			case w == "half":
				n = 0.5
			case vagueFew[w]:
				// "a few minutes ago": within the tolerance of five.
				n = 5
			case numberWords[w] > 0:
				n = float64(numberWords[w])
			case tensWords[w] > 0:
				n = float64(tensWords[w])
			default:
				continue
			}
		}
		if n <= 0 || n > 48 {
			continue
		}
		given = true
		if near(now.Add(-time.Duration(n * float64(unit)))) {
			return true, true
		}
	}
	// clock times
	for i, w := range words {
		w = strings.TrimRight(w, ".") // "around 2." ends a sentence
		h, m, isClock := parseClock(w)
		if !isClock {
			continue
		}
		pm, am := false, false
		if i+1 < len(words) {
			switch words[i+1] {
			case "pm", "p", "p.m.":
				pm = true
			case "am", "a", "a.m.":
				am = true
			}
		}
		if strings.HasSuffix(w, "pm") {
			pm = true
		}
		if strings.HasSuffix(w, "am") {
			am = true
		}
		if h > 23 || m > 59 {
			continue
		}
		if !am && !pm && !strings.ContainsAny(strings.TrimSuffix(strings.TrimSuffix(w, "pm"), "am"), ":.h") && !timeCue(words) {
			// A lone number ("1") may answer another question (a
			// connector, a choice): an hour counts with a cue, "around 2",
			// "vers 2 heures", "a las 2", or with minutes or am/pm.
			continue
		}
		given = true
		var hours []int
		switch {
		case pm && h < 12:
			hours = []int{h + 12}
		case am && h == 12:
			hours = []int{0}
		case am || pm || h >= 13 || h == 0:
			hours = []int{h}
		default:
			hours = []int{h, (h + 12) % 24}
		}
		loc := now.Location()
		for _, hh := range hours {
			for _, day := range []int{0, -1} {
				y, mo, d := now.In(loc).AddDate(0, 0, day).Date()
				if near(time.Date(y, mo, d, hh, m, 0, 0, loc)) {
					return true, true
				}
			}
		}
	}
	return given, false
}

// clockCues are words that make a bare number an hour: "around 2",
// "at 2", "2 o'clock", "vers 2", "a las 2".
var clockCues = map[string]bool{
	"around": true, "about": true, "at": true, "approx": true, "approximately": true, "roughly": true,
	"maybe": true, "like": true, "since": true, "clock": true, "oclock": true, "started": true, "plugged": true,
	"vers": true, "environ": true, "depuis": true, "heure": true, "heures": true, "commence": true, "branche": true,
	"las": true, "la": true, "eso": true, "sobre": true, "alrededor": true, "como": true, "desde": true,
	"hora": true, "horas": true, "empece": true, "conecte": true,
}

// timeCue reports whether the words hold a cue that a bare number is an hour.
func timeCue(words []string) bool {
	for _, w := range words {
		if clockCues[w] {
			return true
		}
	}
	return false
}

// parseClock reads "14:30", "2.30", "14h30", "14h", "2pm", "2:30pm" or a
// bare hour "2".
func parseClock(w string) (h, m int, ok bool) {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "pm"), "am")
	sep := strings.IndexAny(w, ":.h")
	hs, ms := w, ""
	if sep >= 0 {
		hs, ms = w[:sep], w[sep+1:]
	}
	if len(hs) == 0 || len(hs) > 2 || len(ms) > 2 || sep >= 0 && len(ms) == 1 {
		return 0, 0, false
	}
	h, err := strconv.Atoi(hs)
	if err != nil {
		return 0, 0, false
	}
	if ms != "" {
		if m, err = strconv.Atoi(ms); err != nil {
			return 0, 0, false
		}
	}
	return h, m, true
}
