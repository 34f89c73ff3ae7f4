package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/sim"
)

func TestShortAnswers(t *testing.T) {
	yes := []string{"yes", "Yes.", "yeah", "ok", "oui", "Oui!", "ouais", "sí", "si", "claro", "yes I'm here", "c'est fait", "I did"}
	no := []string{"no", "Non.", "nope", "not yet", "pas encore", "todavía no", "no, I left"}
	neither := []string{"2794", "why do you need that?", "my cable is stuck at the mall on the north side of the parking lot near the exit", "hmm"}
	for _, s := range yes {
		if got := yesNo(s); got != 1 {
			t.Errorf("yesNo(%q) = %d, want yes", s, got)
		}
	}
	for _, s := range no {
		if got := yesNo(s); got != -1 {
			t.Errorf("yesNo(%q) = %d, want no", s, got)
		}
	}
	for _, s := range neither {
		if got := yesNo(s); got != 0 {
			t.Errorf("yesNo(%q) = %d, want neither", s, got)
		}
	}
	numbers := map[string]int{"1": 1, "2.": 2, "#2": 2, "connector 2": 2, "the first one": 1, "le deuxième": 2, "el primero": 1,
		"uno": 1, "deux": 2, "it's number 3": 3, "one": 1}
	for s, want := range numbers {
		if got, ok := smallNumber(s); !ok || got != want {
			t.Errorf("smallNumber(%q) = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"713 555 0161", "1 or 2", "", "yes", "the connector on charger GRP-SAT-0003 near the entrance by the road"} {
		if got, ok := smallNumber(s); ok {
			t.Errorf("smallNumber(%q) = %d, want none", s, got)
		}
	}
	for _, s := range []string{"thanks", "Merci beaucoup!", "gracias", "great, thank you", "ok thanks bye"} {
		if !thanksOnly(s) {
			t.Errorf("thanksOnly(%q) = false", s)
		}
	}
	for _, s := range []string{"thanks but it still doesn't work", "why?", "1", "merci, mais ça ne marche toujours pas"} {
		if thanksOnly(s) {
			t.Errorf("thanksOnly(%q) = true", s)
		}
	}
	for _, s := range []string{"why do you need that?", "pourquoi?", "¿por qué?", "para qué lo necesita"} {
		if !asksWhy(s) {
			t.Errorf("asksWhy(%q) = false", s)
		}
	}
}

func TestDialogueLanguage(t *testing.T) {
	_, u := shared()
	type msg struct{ text, want string }
	tests := []struct {
		name string
		msgs []msg
	}{
		{"numbers and ids keep French", []msg{{"la borne GRP-SLC-0002 est indisponible, je ne peux pas charger", "fr"},
			{"713 555 0161", "fr"}, {"2794", "fr"}, {"ok", "fr"}, {"GRP-SLC-0002", "fr"}, {"1", "fr"}}},
		{"a word does not move Spanish", []msg{{"el cargador no arranca, se queda en preparando", "es"}, {"ok", "es"}, {"yes", "es"}, {"thanks", "es"}}},
		{"a clear sentence does", []msg{{"my card is refused at the charger", "en"},
			{"je préfère parler en français s'il vous plaît", "fr"}}},
		{"the first word decides before any sentence", []msg{{"hola", "es"}}},
		{"asked for by name", []msg{{"la borne GRP-SLC-0002 est indisponible", "fr"},
			{"sorry, can we continue in English please? 713 555 0161", "en"}, {"en fracais svp", "fr"}, {"in Eglish please", "en"}, {"Français", "fr"}, {"¿habla español?", "es"},
			{"mi carro francés no carga", "es"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dialogue
			lang := "en"
			for _, m := range tt.msgs {
				lang = d.language(lang, u.Understand(m.text, lang), m.text)
				if lang != m.want {
					t.Fatalf("after %q: %s, want %s", m.text, lang, m.want)
				}
			}
		})
	}
}

func TestConnectorOfPlug(t *testing.T) {
	specs := []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1}, {ID: 2, Type: chargedesk.ConnectorCHAdeMO}, {ID: 3, Type: chargedesk.ConnectorNACS}}
	for text, want := range map[string]int{"the CCS one": 1, "chademo": 2, "the tesla plug": 3, "j'ai une Bolt": 0, "le gros": 0} {
		if got := connectorOfPlug(text, specs); got != want {
			t.Errorf("connectorOfPlug(%q) = %d, want %d", text, got, want)
		}
	}
}

// TestDialogue plays conversations as drivers hold them — short answers,
// answers that don't fit, a thank-you — and checks what the agent says
// and does, from its words and the charger's state.
func TestDialogue(t *testing.T) {
	st := newStack(t)
	twoConnectors := func(c *sim.ChargerConfig) {
		c.Connectors = []sim.ConnectorSpec{{Type: sim.CCS1, MaxPowerKW: 150}, {Type: sim.CHAdeMO, MaxPowerKW: 50}}
	}
	tests := []struct {
		name string
		opts envOpts
		run  func(t *testing.T, e *env)
	}{
		{"a bare number answers which connector, in every language", envOpts{edit: twoConnectors}, func(t *testing.T, e *env) {
			for _, l := range []struct{ lang, opening, answer string }{
				{"en", "the screen says unavailable at %s", "1"},
				{"fr", "la borne %s affiche indisponible", "le premier"},
				{"es", "el cargador %s dice no disponible", "uno"},
			} {
				c := e.sms()
				r := e.say(c, strings.ReplaceAll(l.opening, "%s", e.id))
				if !strings.Contains(r.Text, e.id) || r.Conversation.ConnectorID != 0 {
					t.Fatalf("%s: %q, want the connector question", l.lang, r.Text)
				}
				r = e.say(c, l.answer)
				if r.Conversation.ConnectorID != 1 || r.Conversation.Language != l.lang {
					t.Errorf("%s: after %q connector %d language %s; reply %q", l.lang, l.answer, r.Conversation.ConnectorID, r.Conversation.Language, r.Text)
				}
				if r.Text == say(l.lang, keyAskConnector, e.id, 2) {
					t.Errorf("%s: the connector question again", l.lang)
				}
			}
		}},
		{"a plug type answers which connector", envOpts{edit: twoConnectors}, func(t *testing.T, e *env) {
			c := e.sms()
			e.say(c, "the screen says unavailable at "+e.id)
			r := e.say(c, "I don't know, it's the chademo one")
			if r.Conversation.ConnectorID != 2 {
				t.Errorf("connector %d after a plug type; reply %q", r.Conversation.ConnectorID, r.Text)
			}
		}},
		{"an answer that doesn't fit gets other words, then a person", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultLeftInoperative, sim.FaultOptions{})
			c := e.chat()
			r := e.say(c, "la borne "+e.id+" est indisponible, je ne peux pas charger")
			first := r.Text
			r = e.say(c, "oui")
			if r.Text == first || r.Conversation.Language != "fr" || r.Text != say("fr", keyAskIdentityAgain) {
				t.Errorf("after a yes to the phone question: %q (%s)", r.Text, r.Conversation.Language)
			}
			r = e.say(c, "pourquoi?")
			if r.Text == say("fr", keyAskIdentityAgain) {
				t.Errorf("the same line twice in a row: %q", r.Text)
			}
			r = e.say(c, "je ne sais pas")
			e.status(r, chargedesk.ConversationEscalated)
			if r.Conversation.Language != "fr" {
				t.Errorf("language %s", r.Conversation.Language)
			}
		}},
		{"a French conversation stays French through numbers, and a thank-you closes it", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultLeftInoperative, sim.FaultOptions{})
			c := e.chat()
			e.say(c, "la borne "+e.id+" est indisponible, je ne peux pas charger")
			r := e.say(c, strings.TrimPrefix(e.driver.Phone, "+1")[:3]+" "+e.driver.Phone[5:8]+" "+e.driver.Phone[8:])
			if r.Conversation.Language != "fr" || r.Text != say("fr", keyAskLast4) {
				t.Fatalf("after the phone number: %q (%s)", r.Text, r.Conversation.Language)
			}
			r = e.say(c, "4242")
			e.status(r, chargedesk.ConversationResolved)
			if r.Conversation.Language != "fr" || !strings.Contains(r.Text, "disponible") {
				t.Fatalf("after the last 4: %q (%s)", r.Text, r.Conversation.Language)
			}
			before := e.commands(e.id)
			r = e.say(c, "merci")
			if r.Text != say("fr", keyGoodbye) || len(r.Actions) != 0 {
				t.Errorf("after a thank-you: %q %v", r.Text, r.Actions)
			}
			e.status(r, chargedesk.ConversationResolved)
			e.noTicket(r)
			if after := e.commands(e.id); len(after) != len(before) {
				t.Errorf("commands after the thank-you: %v, before %v", after, before)
			}
		}},
		{"nothing starts until the driver says the cable is in", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultStaleStatus, sim.FaultOptions{})
			c := e.chat()
			r := e.say(c, "la pantalla de "+e.id+" dice no disponible")
			if r.Text != say("es", keyNowAvailable, 1, e.site.Name) {
				t.Fatalf("reply %q", r.Text)
			}
			r = e.say(c, "¿por qué necesita eso?")
			if r.Text != say("es", keyPlugIn, 1) {
				t.Errorf("after a question back: %q", r.Text)
			}
			r = e.say(c, "gracias")
			if r.Conversation.Language != "es" || r.Text == say("es", keyPlugIn, 1) {
				t.Errorf("after a thank-you: %q (%s)", r.Text, r.Conversation.Language)
			}
			e.noTicket(r)
			if n := e.commands(e.id); n[string(chargedesk.CmdRemoteStart)] != 0 {
				t.Errorf("commands %v", n)
			}
			// "ya está, gracias" is ready, with thanks: the start goes on
			// (here: the driver is asked who they are), not "no rush".
			e.plugIn()
			r = e.say(c, "ya está, gracias")
			if r.Text == say("es", keyWaitPlugIn) || r.Conversation.Language != "es" {
				t.Errorf("after ya está: %q (%s)", r.Text, r.Conversation.Language)
			}
		}},
		{"a thank-you instead of the account's phone, and a cable the charger does not see", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultStaleStatus, sim.FaultOptions{})
			c := e.chat()
			if r := e.say(c, "la pantalla de "+e.id+" dice no disponible"); r.Text != say("es", keyNowAvailable, 1, e.site.Name) {
				t.Fatalf("reply %q", r.Text)
			}
			if r := e.say(c, "sí, iníciela"); r.Text != say("es", keyAskIdentity) {
				t.Fatalf("after asking for the start: %q, want the account's phone asked", r.Text)
			}
			r := e.say(c, "ok gracias")
			if r.Text != say("es", keyIdentityLater) || r.Conversation.Status != chargedesk.ConversationOpen {
				t.Fatalf("after a thank-you instead of the phone: %q (%s)", r.Text, r.Conversation.Status)
			}
			e.noTicket(r)
			// They write again with it: the question was kept.
			if r = e.say(c, e.driver.Phone[2:]); r.Text != say("es", keyAskLast4) {
				t.Fatalf("after the phone: %q", r.Text)
			}
			if r = e.say(c, "4242"); r.Text != say("es", keyPlugIn, 1) {
				t.Fatalf("verified, no cable: %q", r.Text)
			}
			// "ya" with no cable in: the charger is asked and the driver
			// hears what it sees, not the same request again.
			if r = e.say(c, "ya"); r.Text != say("es", keyNoCableSeen, 1, e.id) {
				t.Fatalf("after ya with no cable: %q", r.Text)
			}
			if n := e.commands(e.id); n[string(chargedesk.CmdRemoteStart)] != 0 || n["TriggerMessage"] == 0 {
				t.Errorf("commands %v, want a status trigger and no start", n)
			}
			e.plugIn()
			if r = e.say(c, "listo, ya está conectado"); r.Conversation.Status != chargedesk.ConversationResolved {
				t.Errorf("after plugging in: %q (%s)", r.Text, r.Conversation.Status)
			}
		}},
		{"unsure words about a held cable start nothing and write no ticket", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultVehicleSideLock, sim.FaultOptions{})
			e.waitStatus(e.occupied(chargedesk.StatusFinishing))
			c := e.sms()
			r := e.say(c, "la prise ne sort pas de mon auto à la borne "+e.id)
			if r.Conversation.Language != "fr" || len(r.Actions) != 0 {
				t.Fatalf("reply %q %v", r.Text, r.Actions)
			}
			e.noTicket(r)
			if n := e.commands(e.id); n[string(chargedesk.CmdRemoteStart)] != 0 {
				t.Errorf("commands %v", n)
			}
		}},
		{"a start the words did not ask for is proposed: no sends nothing", envOpts{}, func(t *testing.T, e *env) {
			c := e.proposedStart()
			r := e.say(c, "no, I just want to know how much it costs")
			if n := e.commands(e.id); n[string(chargedesk.CmdRemoteStart)] != 0 || r.Text == say("en", keyAskStartOK, 1, e.site.Name) {
				t.Errorf("after a no: %v, reply %q", n, r.Text)
			}
		}},
		{"a start the words did not ask for is proposed: yes starts it", envOpts{}, func(t *testing.T, e *env) {
			c := e.proposedStart()
			e.charging(e.say(c, "yes"))
		}},
		{"a message about something else is not a release that failed", envOpts{}, func(t *testing.T, e *env) {
			e.inject(sim.FaultVehicleSideLock, sim.FaultOptions{})
			e.waitStatus(e.occupied(chargedesk.StatusFinishing))
			c := e.sms()
			r := e.say(c, "my cable is stuck at "+e.id+", it won't come out")
			for i := 0; i < 3 && r.Text != say("en", keyVehicleLock); i++ {
				r = e.say(c, "yes") // the agent may first ask whether the driver is there
			}
			if r.Text != say("en", keyVehicleLock) {
				t.Fatalf("reply %q", r.Text)
			}
			r = e.say(c, "how long does that usually take?")
			if r.Text != say("en", keyVehicleLockAgain) {
				t.Errorf("reply %q", r.Text)
			}
			e.noTicket(r)
			r = e.say(c, "still stuck")
			if r.Conversation.TicketID == "" {
				t.Errorf("no ticket after the release failed: %q", r.Text)
			}
		}},
		{"a call names the account; the card is still asked, and a charger's digits are not a card check", envOpts{}, func(t *testing.T, e *env) {
			c, err := e.agent.Start(e.ctx, chargedesk.ChannelVoice, e.driver.Phone, "")
			if err != nil {
				t.Fatal(err)
			}
			if c.Verified != "" {
				t.Fatalf("a call verified by its caller ID: %q", c.Verified)
			}
			r := e.say(c, "hi the charger won't start")
			r = e.say(c, e.id[len(e.id)-4:])
			if strings.Contains(r.Text, say("en", keyLast4NoMatch)) {
				t.Errorf("the charger's digits were checked as a card: %q", r.Text)
			}
			if r.Conversation.Verified != "" {
				t.Errorf("verified without the card: %q", r.Conversation.Verified)
			}
		}},
		{"a start the central system refuses for a card charging elsewhere is not called charging", envOpts{}, func(t *testing.T, e *env) {
			elsewhere := e.id[:len(e.id)-4] + "8" + e.id[len(e.id)-3:]
			other := e.run(e.chargerConfig(elsewhere), e.site.ID)
			if err := other.PlugIn(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := other.TapCard(e.ctx, 1, e.tag); err != nil {
				t.Fatal(err)
			}
			poll(e, "session elsewhere", func() (int, bool) {
				txs, err := e.st.store.Transactions(e.ctx, chargedesk.TransactionFilter{ChargerID: elsewhere, IDTag: e.tag, ActiveOnly: true})
				return len(txs), err == nil && len(txs) > 0
			})
			e.plugIn()
			c := e.sms()
			r := e.say(c, "I'm plugged in at charger "+e.id+" and it won't start")
			if r.Text != say("en", keyCardInUse) || r.Conversation.Status == chargedesk.ConversationResolved {
				t.Errorf("reply %q (%s)", r.Text, r.Conversation.Status)
			}
			e.noTicket(r)
			// An acknowledgement sends nothing: the agent waits for the
			// other session to end.
			starts := e.commands(e.id)
			r = e.say(c, "ok thanks")
			first := r.Text
			if (r.Text != say("en", keyWaitCardFreed) && r.Text != say("en", keyWaitCardFreedAgain)) || len(r.Actions) != 0 {
				t.Errorf("after ok thanks: %q %v", r.Text, r.Actions)
			}
			if r = e.say(c, "not yet"); r.Text == first || len(r.Actions) != 0 {
				t.Errorf("after not yet: %q (the same line again?) %v", r.Text, r.Actions)
			}
			e.noTicket(r)
			if got := e.commands(e.id); len(got) != len(starts) {
				t.Errorf("commands after an acknowledgement: %v, before %v", got, starts)
			}
			// The driver stops it and says so: this one starts.
			if err := other.StopLocal(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			poll(e, "session elsewhere stopped", func() (int, bool) {
				txs, err := e.st.store.Transactions(e.ctx, chargedesk.TransactionFilter{ChargerID: elsewhere, IDTag: e.tag, ActiveOnly: true})
				return len(txs), err == nil && len(txs) == 0
			})
			r = e.say(c, "done, I stopped it")
			if !strings.Contains(r.Text, "charging") || r.Conversation.Status != chargedesk.ConversationResolved {
				t.Errorf("after the other session stopped: %q (%s)", r.Text, r.Conversation.Status)
			}
		}},
		{"an exact label wins over similar ids", envOpts{}, func(t *testing.T, e *env) {
			// One digit apart, and outside the ids the other cases use.
			twin := e.id[:len(e.id)-4] + "9" + e.id[len(e.id)-3:]
			e.run(e.chargerConfig(twin), e.site.ID)
			c := e.sms()
			r := e.say(c, "my cable is stuck at "+e.id)
			if r.Conversation.ChargerID != e.id {
				t.Errorf("charger %q, want %s; reply %q", r.Conversation.ChargerID, e.id, r.Text)
			}
		}},
		{"a cable held with no session is released once the driver is there", envOpts{}, func(t *testing.T, e *env) {
			e.plugIn()
			e.waitStatus(e.occupied(chargedesk.StatusPreparing))
			c := e.chat()
			r := e.say(c, "my cable is stuck at "+e.id)
			if r.Text != say("en", keyAskAtCharger, e.id, 1) || len(r.Actions) != 0 {
				t.Fatalf("reply %q %v", r.Text, r.Actions)
			}
			r = e.say(c, "yes")
			if n := e.commands(e.id)["UnlockConnector:Unlocked"]; n != 1 {
				t.Errorf("unlocks %v; reply %q", e.commands(e.id), r.Text)
			}
			e.noTicket(r)
			e.status(r, chargedesk.ConversationResolved)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, st, chargedesk.OCPP16, tt.opts)
			tt.run(t, e)
		})
	}
}

func TestNearestRadius(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	place := func(id, country string, dLat float64) {
		s := &chargedesk.Site{ID: "site-" + id, Name: "Site " + id, Address: "1 Main St", City: "Border", Country: country,
			Lat: e.site.Lat + dLat, Lon: e.site.Lon}
		must(t, st.store.PutSite(e.ctx, s))
		e.run(e.chargerConfig(id), s.ID)
	}
	place("ACROSS-BORDER", "CA", 0.01) // 1 km, another country
	place("TOO-FAR", "US", 0.4)        // 44 km
	if alt, err := st.agent.nearest(e.ctx, e.id, 1, ""); err != nil || alt != nil {
		t.Fatalf("nearest %+v %v, want none within 40 km in the US", alt, err)
	}
	place("IN-RANGE", "US", 0.3) // 33 km
	if alt, err := st.agent.nearest(e.ctx, e.id, 1, ""); err != nil || alt == nil || alt.ChargerID != "IN-RANGE" {
		t.Fatalf("nearest %+v %v, want IN-RANGE", alt, err)
	}
}

func TestOtherCarOut(t *testing.T) {
	for text, want := range map[string]bool{
		"another car is plugged in, unplug it for me":                                   true,
		"une autre auto est branchée débranchez la pour moi je suis à la borne ion tor": true,
		"hay otro carro conectado, ¿lo puede desconectar?":                              true,
		"someone else's car is done charging, can you release it":                       true,
		"my car won't unplug":                                  false,
		"another charger is free, can I move there?":           false,
		"je dois débrancher mon auto mais le câble est coincé": false,
	} {
		if got := otherCarOut(text); got != want {
			t.Errorf("otherCarOut(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestStartTimeWords(t *testing.T) {
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	for text, ago := range map[string]time.Duration{
		"a few minutes ago":        5 * time.Minute,
		"about 1 miutes ago":       1 * time.Minute,
		"a couple of minutes ago":  3 * time.Minute,
		"il y a quelques minutes":  8 * time.Minute,
		"hace unos minutos":        2 * time.Minute,
		"about twenty minutes ago": 22 * time.Minute,
		"il y a vingt minutes":     18 * time.Minute,
	} {
		if given, ok := startTimeMatches(text, now, now.Add(-ago)); !given || !ok {
			t.Errorf("%q for a start %v ago: given %v, matches %v", text, ago, given, ok)
		}
	}
	if _, ok := startTimeMatches("a few minutes ago", now, now.Add(-2*time.Hour)); ok {
		t.Error("a few minutes ago matched a start two hours ago")
	}
	// A bare number is an hour only with a cue, minutes or am/pm: "1"
	// alone may answer another question.
	oneish := time.Date(2026, 12, 6, 12, 55, 0, 0, time.UTC)
	for text, want := range map[string]bool{
		"1": false, "13": false, "1.": false,
		"around 1": true, "at 1": true, "1 pm": true, "1pm": true, "13:00": true, "13h": true, "1 o'clock": true,
		"vers 13 heures": true, "a las 1": true, "I started at like 1": true,
	} {
		given, ok := startTimeMatches(text, now, oneish)
		if given != want || ok != want {
			t.Errorf("%q for a start at 12:55: given %v, matches %v; want %v", text, given, ok, want)
		}
	}
}

// proposedStart leaves a stale session of another card on the connector
// and the driver's car plugged in, and checks that a driver who says only
// that they are at the charger is asked before a start is sent.
func (e *env) proposedStart() *chargedesk.Conversation {
	e.t.Helper()
	e.inject(sim.FaultStaleTransaction, sim.FaultOptions{IDTag: e.other, Age: 10 * time.Minute})
	poll(e, "stale transaction", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.other); return tx, tx != nil })
	e.plugIn()
	c := e.sms()
	r := e.say(c, "hi, first time here, not sure what to do at "+e.id)
	if r.Text != say("en", keyAskStartOK, 1, e.site.Name) {
		e.t.Fatalf("reply %q %v", r.Text, r.Actions)
	}
	if n := e.commands(e.id); n[string(chargedesk.CmdRemoteStart)] != 0 {
		e.t.Fatalf("commands before the driver agreed: %v", n)
	}
	return c
}

func TestTwoProblems(t *testing.T) {
	ranked := func(scores ...any) nlu.Result {
		var r nlu.Result
		for i := 0; i < len(scores); i += 2 {
			r.Ranked = append(r.Ranked, nlu.Scored{Category: scores[i].(string), Score: scores[i+1].(float64)})
		}
		r.Category, r.Confidence = r.Ranked[0].Category, r.Ranked[0].Score
		return r
	}
	pay, rfid, stuck, bill := chargedesk.CategoryPaymentFailure, chargedesk.CategoryRFIDFailure, chargedesk.CategoryConnectorStuck, chargedesk.CategoryBillingDispute
	if got := closePair(ranked(pay, 0.45, rfid, 0.38, stuck, 0.05)); !slices.Equal(got, []string{pay, rfid}) {
		t.Errorf("close pair %v", got)
	}
	for name, r := range map[string]nlu.Result{
		"sure":        ranked(pay, 0.7, rfid, 0.65),
		"far apart":   ranked(pay, 0.5, rfid, 0.2),
		"other":       ranked(chargedesk.CategoryOther, 0.3, rfid, 0.25),
		"second weak": ranked(pay, 0.12, rfid, 0.05),
	} {
		if got := closePair(r); got != nil {
			t.Errorf("%s: close pair %v", name, got)
		}
	}
	if got := secondProblem(ranked(stuck, 0.95, bill, 0.7, pay, 0.3)); got != bill {
		t.Errorf("second problem %q", got)
	}
	if got := secondProblem(ranked(stuck, 0.95, bill, 0.4)); got != "" {
		t.Errorf("second problem %q", got)
	}
	for _, lang := range []string{"en", "fr", "es"} {
		for _, c := range chargedesk.Categories {
			if c != chargedesk.CategoryOther && problemPhrases[lang][c] == "" {
				t.Errorf("no %s phrase for %s", lang, c)
			}
		}
	}
	s := &session{d: convData{dialogue: dialogue{Ask: askProblem}, Choices: []string{pay, rfid}}, c: &chargedesk.Conversation{}, text: "the second one"}
	s.choose()
	if s.c.Category != rfid || !s.d.CategorySure || s.d.Ask != "" {
		t.Errorf("after %q: category %q sure %v ask %q", s.text, s.c.Category, s.d.CategorySure, s.d.Ask)
	}
}
