package main

// The demo's suggested conversations, end to end: the real demo on its
// default seed, and a driver who plays each suggestion through the public
// chat API knowing only what a person at the charger knows — their phone,
// their card's last four digits, when they started charging, what the
// charger in front of them shows — and the agent's reply text. The driver
// works out what it is asked from the reply's words in its own language,
// with phrase patterns of its own (not the agent's catalogue).
//
// Each conversation must end fixed, in its language, with no reply
// repeated twice in a row, no ticket written, and no reply that closes the
// problem as resolved before the charger shows it so. Other ways of telling
// the guide's problems are played too, each by another driver of the
// network at another charger given the same fault.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chargedesk/chargedesk/sim"
)

// e2eMaxTurns bounds the driver's messages in one conversation, and
// e2eReplyTimeout the wait for one reply (a chat user waits no longer).
const (
	e2eMaxTurns     = 8
	e2eReplyTimeout = 30 * time.Second
)

// persona is what a driver says, in their language.
type persona struct {
	yes        string // confirming the car is plugged in
	connector  string // which connector
	nudge      string // the problem is still there
	cableOut   string // the cable came out: thanks
	thanks     string // it works: thanks
	stillStuck string // the cable would not come out
}

var personas = map[string]persona{
	"en": {yes: "yes", connector: "1", nudge: "it's still not working",
		cableOut: "got it out, thank you!", thanks: "it works now, thank you!", stillStuck: "it's still stuck"},
	"fr": {yes: "oui", connector: "1", nudge: "ça ne marche toujours pas",
		cableOut: "c'est bon, je l'ai retiré, merci !", thanks: "ça marche, merci !", stillStuck: "il est toujours coincé"},
	"es": {yes: "sí", connector: "1", nudge: "sigue sin funcionar",
		cableOut: "ya lo saqué, ¡gracias!", thanks: "ya funciona, ¡gracias!", stillStuck: "sigue atascado"},
}

// What the driver understands of a reply, by language: lowercase phrases
// of a driver's own reading.
type heard int

const (
	heardNothing heard = iota
	heardPhone
	heardLast4
	heardStartTime
	heardPlugged
	heardConnector
	// heardYesNo: a question the driver answers yes or no to (start the
	// charge now? text a payment link?).
	heardYesNo
)

var hearing = map[string][]struct {
	what    heard
	phrases []string
}{
	"en": {
		{heardLast4, []string{"last 4", "last four"}},
		{heardPhone, []string{"phone"}},
		{heardStartTime, []string{"what time", "when did you start", "when you started", "rough time"}},
		{heardPlugged, []string{"plugged in?", "is your car plugged", "is the car plugged", "plug the cable", "plug your car", "plug in your car"}},
		{heardConnector, []string{"which connector", "connector number"}},
		{heardYesNo, []string{"yes or no"}},
	},
	"fr": {
		{heardLast4, []string{"4 derniers", "quatre derniers"}},
		{heardPhone, []string{"téléphone"}},
		{heardStartTime, []string{"quelle heure", "quand avez-vous commencé", "heure approximative"}},
		{heardPlugged, []string{"branché?", "branché ?", "est-il branché", "est branché", "branchez le câble", "branchez votre"}},
		{heardConnector, []string{"quel connecteur", "numéro de connecteur"}},
		{heardYesNo, []string{"oui ou non"}},
	},
	"es": {
		{heardLast4, []string{"últimos 4", "últimos cuatro"}},
		{heardPhone, []string{"teléfono"}},
		{heardStartTime, []string{"qué hora", "cuándo empezó", "cuándo comenzó", "hora aproximada"}},
		{heardPlugged, []string{"conectado?", "enchufado", "está conectado", "conecte el cable", "conecte su auto"}},
		{heardConnector, []string{"qué conector", "número de conector"}},
		{heardYesNo, []string{"sí o no", "si o no"}},
	},
}

// hear returns what a reply asks or tells, as the driver reads it.
func hear(lang, reply string) heard {
	r := strings.ToLower(reply)
	for _, h := range hearing[lang] {
		for _, p := range h.phrases {
			if strings.Contains(r, p) {
				return h.what
			}
		}
	}
	return heardNothing
}

// stopWords are frequent words of each language, none shared between
// them, for a rough language check of a sentence.
var stopWords = map[string][]string{
	"en": {"the", "you", "your", "is", "are", "to", "and", "it", "this", "that", "what", "of", "at", "can", "for",
		"please", "with", "i", "my", "we", "now", "again", "have", "has", "was", "be", "me", "or", "on", "if",
		"which", "thanks", "thank", "any", "anything", "else", "help", "there", "here", "couldn't", "can't", "don't", "all", "set", "away"},
	"fr": {"le", "les", "vous", "votre", "vos", "est", "et", "à", "je", "pour", "une", "du", "des", "au", "aux",
		"pas", "sur", "merci", "quel", "quelle", "quels", "avec", "ce", "cette", "qui", "êtes", "borne", "recharge",
		"numéro", "nouveau", "peux", "j'ai", "c'est", "puis", "dans", "mais", "tout", "autre"},
	"es": {"el", "los", "las", "usted", "su", "sus", "es", "y", "por", "para", "una", "del", "al", "está",
		"gracias", "cargador", "puedo", "algo", "más", "cuál", "cuáles", "con", "ya", "lo", "otra", "vez", "pude",
		"sesión", "cargando", "le", "ayudar", "listo", "favor"},
}

// sentenceScores counts a sentence's stop words of each language.
func sentenceScores(s string) map[string]int {
	scores := map[string]int{}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	for _, w := range words {
		for lang, list := range stopWords {
			for _, sw := range list {
				if w == sw {
					scores[lang]++
				}
			}
		}
	}
	return scores
}

// linkPattern is a URL in a reply.
var linkPattern = regexp.MustCompile(`https?://\S+`)

// sentenceEnd splits a reply into sentences.
var sentenceEnd = regexp.MustCompile(`[.!?;:]+(\s|$)|\n`)

// languageDrift returns the sentences of reply that read as another
// language than lang (more of its stop words than of lang's), and whether
// the reply as a whole reads as lang (when it has any stop words at all).
func languageDrift(lang, reply string) (foreign []string, whole bool) {
	// A link is in no language (its random letters could read as one).
	reply = linkPattern.ReplaceAllString(reply, "")
	for _, s := range sentenceEnd.Split(reply, -1) {
		sc := sentenceScores(s)
		for other, n := range sc {
			if other != lang && n > sc[lang] {
				foreign = append(foreign, strings.TrimSpace(s))
				break
			}
		}
	}
	sc := sentenceScores(reply)
	total := 0
	for _, n := range sc {
		total += n
	}
	whole = total == 0
	if !whole {
		whole = true
		for other, n := range sc {
			if other != lang && n >= sc[lang] {
				whole = false
			}
		}
	}
	return foreign, whole
}

// languageOf is the language a driver's message is written in, by the same
// stop words ("" when unclear).
func languageOf(text string) string {
	sc := sentenceScores(text)
	best, bestN := "", 0
	for lang, n := range sc {
		if n > bestN {
			best, bestN = lang, n
		} else if n == bestN {
			best = ""
		}
	}
	return best
}

// e2eClient calls a running chargedesk's APIs (the demo's, or a test's
// own server) at api with the operator key, bounded by ctx.
type e2eClient struct {
	t        *testing.T
	ctx      context.Context
	api, key string
	hc       *http.Client
}

// do sends a request (with the operator key when op) and decodes the JSON
// answer into out; it returns the status code.
func (c *e2eClient) do(method, path string, body any, op bool, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.api+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if op {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// chargerView is what the operator API shows of a charger: here, what the
// driver sees on the charger's screen and in their app.
type chargerView struct {
	Connectors []struct {
		ID     int    `json:"id"`
		Status string `json:"status"`
	} `json:"connectors"`
	Connected          bool `json:"connected"`
	ActiveTransactions []struct {
		ConnectorID int    `json:"connectorId"`
		IDTag       string `json:"idTag"`
	} `json:"activeTransactions"`
}

func (c *e2eClient) charger(id string) chargerView {
	c.t.Helper()
	var v chargerView
	if code := c.do("GET", "/api/v1/chargers/"+id, nil, true, &v); code != http.StatusOK {
		c.t.Fatalf("charger %s: %d", id, code)
	}
	return v
}

func (v chargerView) status(connector int) string {
	for _, k := range v.Connectors {
		if k.ID == connector {
			return k.Status
		}
	}
	return ""
}

func (v chargerView) chargingWith(connector int, tag string) bool {
	for _, tx := range v.ActiveTransactions {
		if tx.ConnectorID == connector && tx.IDTag == tag {
			return true
		}
	}
	return false
}

// simConnector is a connector as the simulated charger has it.
type simConnector struct {
	ID                              int
	Type, Status                    string
	LockEngaged, Plugged, Operative bool
}

func (c *e2eClient) simConnectors(charger string) []simConnector {
	c.t.Helper()
	var snap struct{ Connectors []simConnector }
	if code := c.do("GET", "/api/v1/sim/chargers/"+charger, nil, true, &snap); code != http.StatusOK {
		c.t.Fatalf("simulated charger %s: %d", charger, code)
	}
	return snap.Connectors
}

func (c *e2eClient) simConnector(charger string, id int) simConnector {
	c.t.Helper()
	for _, k := range c.simConnectors(charger) {
		if k.ID == id {
			return k
		}
	}
	c.t.Fatalf("simulated charger %s has no connector %d", charger, id)
	return simConnector{}
}

// freshCharger is a charger of the fleet on line, not in used, whose
// connector 1 locks the cable and is free.
func (c *e2eClient) freshCharger(used map[string]bool) string {
	c.t.Helper()
	var list struct {
		Chargers []struct {
			ID        string `json:"id"`
			Connected bool   `json:"connected"`
		} `json:"chargers"`
	}
	if code := c.do("GET", "/api/v1/chargers?limit=500", nil, true, &list); code != http.StatusOK {
		c.t.Fatalf("chargers: %d", code)
	}
	for _, ch := range list.Chargers {
		if used[ch.ID] || !ch.Connected {
			continue
		}
		for _, k := range c.simConnectors(ch.ID) {
			if k.ID == 1 && k.Type != "J1772" && k.Status == "Available" && !k.Plugged && k.Operative {
				return ch.ID
			}
		}
	}
	c.t.Fatal("no free charger left in the fleet")
	return ""
}

// act does what a driver does at the connector (plug, unplug) through
// the demo's sim API and reports whether the charger let them.
func (c *e2eClient) act(charger string, connector int, action string) bool {
	c.t.Helper()
	code := c.do("POST", fmt.Sprintf("/api/v1/sim/chargers/%s/connectors/%d/actions", charger, connector),
		map[string]string{"action": action}, true, nil)
	return code == http.StatusOK
}

// tickets lists the tickets about a charger or a conversation (when conv
// is not empty).
func (c *e2eClient) tickets(charger, conv string) []string {
	c.t.Helper()
	var list struct {
		Tickets []struct {
			ID, Category, ChargerID, ConversationID, Summary string
		}
	}
	if code := c.do("GET", "/api/v1/tickets?limit=200", nil, true, &list); code != http.StatusOK {
		c.t.Fatalf("tickets: %d", code)
	}
	var out []string
	for _, tk := range list.Tickets {
		if tk.ChargerID == charger || conv != "" && tk.ConversationID == conv {
			out = append(out, fmt.Sprintf("%s %s: %s", tk.ID, tk.Category, tk.Summary))
		}
	}
	return out
}

// waitFor polls cond until it holds or the wait ends; it reports whether
// it held.
func (c *e2eClient) waitFor(wait time.Duration, cond func() bool) bool {
	end := time.Now().Add(wait)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) || c.ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// e2eChat is one conversation in the public web chat.
type e2eChat struct {
	c          *e2eClient
	id         string
	lang       string
	transcript []string
	replies    []string
	statuses   []string
	languages  []string
	// broken: a message got no reply.
	broken bool
}

func (c *e2eClient) startChat(lang string) *e2eChat {
	c.t.Helper()
	var conv struct {
		ID, Status, Language string
		Turns                []struct{ Role, Text string }
	}
	if code := c.do("POST", "/chat/api/conversations", map[string]string{"language": lang}, false, &conv); code != http.StatusCreated {
		c.t.Fatalf("start chat: %d", code)
	}
	ch := &e2eChat{c: c, id: conv.ID, lang: lang}
	for _, tn := range conv.Turns {
		if tn.Role == "agent" {
			ch.agent(tn.Text, conv.Status, conv.Language)
		}
	}
	return ch
}

func (ch *e2eChat) agent(text, status, lang string) {
	ch.transcript = append(ch.transcript, fmt.Sprintf("agent [%s, %s]: %s", status, lang, text))
	ch.replies = append(ch.replies, text)
	ch.statuses = append(ch.statuses, status)
	ch.languages = append(ch.languages, lang)
}

// say sends the driver's message and returns the agent's reply. A
// message the agent does not answer (an error, or no answer within the
// client's timeout) fails the test and breaks the conversation off.
func (ch *e2eChat) say(text string) string {
	ch.c.t.Helper()
	ch.transcript = append(ch.transcript, "driver: "+text)
	body, _ := json.Marshal(map[string]string{"text": text})
	req, err := http.NewRequestWithContext(ch.c.ctx, "POST", ch.c.api+"/chat/api/conversations/"+ch.id+"/messages", bytes.NewReader(body))
	if err != nil {
		ch.c.t.Fatal(err)
	}
	var r struct{ Reply, Status, Language string }
	resp, err := ch.c.hc.Do(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
		} else {
			err = json.Unmarshal(b, &r)
		}
	}
	if err != nil {
		ch.broken = true
		ch.transcript = append(ch.transcript, fmt.Sprintf("(no reply: %v)", err))
		ch.c.t.Errorf("message %q got no reply: %v", text, err)
		return ""
	}
	ch.agent(r.Reply, r.Status, r.Language)
	return r.Reply
}

// demoCase is one conversation of the demo driver: one the guide
// suggests, or another way of telling the same problem.
type demoCase struct {
	fault   sim.Fault
	opening string
	lang    string
	charger string
	// who is the driver; card is the card of theirs the problem is about
	// (the session to start, or the one running).
	who  sim.Driver
	card string
	// fresh: the conversation is another driver's, at another charger of
	// the fleet given the fault on that driver's card (the policy limits
	// how often one charger, or one driver, gets commands).
	fresh bool
	// skip, when not empty, is why the conversation does not end well yet.
	skip string
}

// cable reports whether the driver's problem is a cable they cannot take
// out: fixed when it comes out.
func (dc *demoCase) cable() bool {
	return dc.fault == sim.FaultLockAfterSession || dc.fault == sim.FaultOwnSessionRunning
}

// spokenPhone is a North American phone number as a person types it:
// "713 555 0161".
func spokenPhone(t *testing.T, phone string) string {
	t.Helper()
	digits := strings.TrimPrefix(phone, "+1")
	if len(digits) != 10 {
		t.Fatalf("phone %q is not a North American number", phone)
	}
	return digits[:3] + " " + digits[3:6] + " " + digits[6:]
}

// demoVariants are other ways the demo driver tells a problem the guide
// suggests, each played by another driver of the network; the opening
// names the charger with %s.
var demoVariants = []demoCase{
	{fault: sim.FaultOwnSessionRunning, lang: "en", opening: "my session at %s won't stop", fresh: true},
	{fault: sim.FaultOwnSessionRunning, lang: "en", opening: "please stop my session at %s, I need to leave", fresh: true},
	{fault: sim.FaultOwnSessionRunning, lang: "fr", opening: "ma session à la borne %s ne s'arrête pas, je dois partir", fresh: true},
	{fault: sim.FaultOwnSessionRunning, lang: "es", opening: "no puedo parar mi sesión en %s, necesito irme", fresh: true},
}

func TestDemoSuggestedConversations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo with its simulated fleet")
	}
	const chargers = 50 // the demo's default fleet, on its default seed
	d := startDemo(t, chargers)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := &e2eClient{t: t, ctx: ctx, api: d.apiURL, key: d.key, hc: &http.Client{Timeout: e2eReplyTimeout}}

	driver := demoDriver(sim.GenerateNetwork(2026, chargers))
	// The first card started the session before the stuck lock; the
	// second one's session still runs.
	tag, spare, last4 := driver.IDTags[0], driver.IDTags[1], driver.Payments[0].Last4

	// The guide's suggestions, and what it says of the driver.
	guide := d.out.String()
	for _, want := range []string{driver.Name, driver.Phone, last4} {
		if !strings.Contains(guide, want) {
			t.Errorf("the guide does not give the demo driver's %q", want)
		}
	}
	m := regexp.MustCompile(`asked when you started charging there: (\d{1,2}:\d\d [AP]M)`).FindStringSubmatch(guide)
	if m == nil {
		t.Fatalf("the guide does not say when the driver started charging at the stuck connector:\n%s", guide)
	}
	startTime := m[1]
	var cases []*demoCase
	inTry := false
	for _, line := range strings.Split(guide, "\n") {
		switch {
		case strings.HasPrefix(line, "Try in the web chat"):
			inTry = true
			continue
		case inTry && !strings.HasPrefix(line, "  "):
			inTry = false
		}
		if !inTry {
			continue
		}
		dc := &demoCase{opening: strings.TrimSpace(line), lang: languageOf(line), who: driver, card: tag}
		for f, id := range d.injected {
			if strings.Contains(line, id+" ") || strings.HasSuffix(line, id) {
				dc.fault, dc.charger = sim.Fault(f), id
			}
		}
		cases = append(cases, dc)
	}
	want := map[sim.Fault]string{sim.FaultLockAfterSession: "en", sim.FaultLeftInoperative: "fr",
		sim.FaultControllerHung: "es", sim.FaultOwnSessionRunning: "en"}
	if len(cases) != len(want) {
		t.Fatalf("the guide suggests %d conversations, want %d:\n%s", len(cases), len(want), guide)
	}
	for _, dc := range cases {
		if want[dc.fault] == "" || want[dc.fault] != dc.lang {
			t.Fatalf("suggestion %q: fault %q in %q, want one of %v", dc.opening, dc.fault, dc.lang, want)
		}
		if dc.fault == sim.FaultOwnSessionRunning {
			dc.card = spare
		}
	}
	// The other drivers: none of the guide's faults is about their cards.
	var others []sim.Driver
	for _, o := range sim.GenerateNetwork(2026, chargers).Drivers {
		if o.ID != driver.ID && !strings.Contains(guide, o.IDTags[0]) {
			others = append(others, o)
		}
	}
	for i, v := range demoVariants {
		v.who = others[i]
		v.card = v.who.IDTags[0]
		cases = append(cases, &v)
	}

	// The setup the guide describes: the stuck lock follows the demo
	// driver's own session, ended; the hung charger has the car plugged in;
	// the driver's session runs at another.
	var txs struct {
		Transactions []struct {
			ConnectorID int       `json:"connectorId"`
			IDTag       string    `json:"idTag"`
			StartedAt   time.Time `json:"startedAt"`
			StoppedAt   time.Time `json:"stoppedAt"`
		}
	}
	lock := d.injected[string(sim.FaultLockAfterSession)]
	if !c.waitFor(10*time.Second, func() bool {
		c.do("GET", "/api/v1/transactions?chargerId="+lock, nil, true, &txs)
		return len(txs.Transactions) > 0 && !txs.Transactions[0].StoppedAt.IsZero()
	}) {
		t.Fatalf("no ended session stored at %s: %+v", lock, txs)
	}
	if s := txs.Transactions[0]; s.IDTag != tag || s.ConnectorID != 1 || time.Since(s.StartedAt) > 15*time.Minute {
		t.Errorf("the session before the stuck lock at %s is %+v, want the demo driver's card %s on connector 1, started minutes ago", lock, s, tag)
	}
	hung := d.injected[string(sim.FaultControllerHung)]
	if st := c.charger(hung).status(1); st != "Preparing" && st != "Occupied" {
		t.Errorf("hung charger %s shows %q, want the car plugged in (Preparing/Occupied)", hung, st)
	}
	own := d.injected[string(sim.FaultOwnSessionRunning)]
	if !c.waitFor(10*time.Second, func() bool { return c.charger(own).chargingWith(1, spare) }) {
		t.Errorf("no session of the demo driver's card %s at %s: %+v", spare, own, c.charger(own))
	}

	// used has the chargers of the guide's faults and of the conversations
	// played at other chargers.
	used := map[string]bool{}
	for _, id := range d.injected {
		used[id] = true
	}
	for _, dc := range cases {
		t.Run(dc.lang+"/"+string(dc.fault), func(t *testing.T) {
			if dc.skip != "" {
				t.Skip(dc.skip)
			}
			c := &e2eClient{t: t, ctx: ctx, api: c.api, key: c.key, hc: c.hc}
			if dc.fresh {
				dc.charger = c.freshCharger(used)
				used[dc.charger] = true
				dc.opening = fmt.Sprintf(dc.opening, dc.charger)
				body := map[string]any{"fault": dc.fault, "connectorId": 1, "idTag": dc.card}
				if code := c.do("POST", "/api/v1/sim/chargers/"+dc.charger+"/faults", body, true, nil); code != http.StatusOK {
					t.Fatalf("inject %s into %s: %d", dc.fault, dc.charger, code)
				}
				if !c.waitFor(10*time.Second, func() bool { return c.charger(dc.charger).chargingWith(1, dc.card) }) {
					t.Fatalf("no session of %s at %s after the injection", dc.card, dc.charger)
				}
			}
			// fixed reports, from what the charger shows, that the driver's
			// problem is gone.
			fixed := func() bool {
				v := c.charger(dc.charger)
				switch dc.fault {
				case sim.FaultControllerHung:
					return v.chargingWith(1, dc.card)
				case sim.FaultOwnSessionRunning:
					return !v.chargingWith(1, dc.card) && v.status(1) == "Available"
				}
				return v.status(1) == "Available"
			}
			// solved reports that what the agent had to do is done: for a
			// cable, no session of the driver's holds it and the lock is
			// open (the driver pulls it out); else the problem is gone.
			solved := func() bool {
				if !dc.cable() {
					return fixed()
				}
				k := c.simConnector(dc.charger, 1)
				return !k.LockEngaged && !c.charger(dc.charger).chargingWith(1, dc.card)
			}
			before := map[string]bool{}
			for _, tk := range c.tickets(dc.charger, "") {
				before[tk] = true
			}

			p := personas[dc.lang]
			phone, last4 := spokenPhone(t, dc.who.Phone), dc.who.Payments[0].Last4
			ch := c.startChat(dc.lang)
			reply := ch.say(dc.opening)
			done := false
			for turn := 1; turn < e2eMaxTurns && !done && !ch.broken; turn++ {
				// A reply that closes the problem as resolved must be true
				// to what the charger shows.
				if ch.statuses[len(ch.statuses)-1] == "resolved" && !c.waitFor(5*time.Second, solved) {
					t.Errorf("the agent closes the problem as resolved, but the charger shows it is not: %q", reply)
				}
				h := hear(dc.lang, reply)
				switch {
				case h == heardLast4:
					reply = ch.say(last4)
				case h == heardPhone:
					reply = ch.say(phone)
				case h == heardStartTime:
					reply = ch.say(startTime)
				case h == heardConnector:
					reply = ch.say(p.connector)
				case h == heardPlugged:
					c.act(dc.charger, 1, "plug")
					reply = ch.say(p.yes)
				case dc.cable():
					// The driver tries to pull the cable out.
					if c.act(dc.charger, 1, "unplug") {
						reply = ch.say(p.cableOut)
						done = true
					} else {
						reply = ch.say(p.stillStuck)
					}
				case c.waitFor(5*time.Second, fixed):
					// The charger in front of the driver shows it works.
					reply = ch.say(p.thanks)
					done = true
				default:
					reply = ch.say(p.nudge)
				}
			}
			transcript := strings.Join(ch.transcript, "\n")

			switch {
			case ch.broken:
			case !done:
				t.Errorf("not fixed after %d driver messages", e2eMaxTurns)
			case !c.waitFor(10*time.Second, fixed):
				t.Errorf("the charger does not show the fix: %+v", c.charger(dc.charger))
			}
			for i, r := range ch.replies {
				if foreign, whole := languageDrift(dc.lang, r); len(foreign) > 0 || !whole {
					t.Errorf("reply %d not in %s: %q (sentences in another language: %q)", i, dc.lang, r, foreign)
				}
				if ch.languages[i] != dc.lang {
					t.Errorf("reply %d: conversation language %q, want %q", i, ch.languages[i], dc.lang)
				}
				if i > 0 && strings.TrimSpace(r) == strings.TrimSpace(ch.replies[i-1]) {
					t.Errorf("reply %d repeats the one before: %q", i, r)
				}
			}
			var written []string
			for _, tk := range c.tickets(dc.charger, ch.id) {
				if !before[tk] {
					written = append(written, tk)
				}
			}
			if len(written) > 0 {
				t.Errorf("tickets written: %q", written)
			}
			if st := ch.statuses[len(ch.statuses)-1]; st != "resolved" && st != "closed" {
				t.Errorf("conversation ends %q, want resolved or closed", st)
			}
			// The end state, as the simulator has it.
			switch k := c.simConnector(dc.charger, 1); {
			case dc.cable() && (k.LockEngaged || k.Plugged):
				t.Errorf("connector 1 of %s: lock engaged %v, cable in %v", dc.charger, k.LockEngaged, k.Plugged)
			case dc.fault == sim.FaultLeftInoperative && !k.Operative:
				t.Errorf("connector 1 of %s is still inoperative", dc.charger)
			}
			t.Logf("transcript:\n%s", transcript)
		})
	}
}
