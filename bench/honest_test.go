package bench

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// agentCatalogue reads the agent's reply catalogue from its source
// (../agent/replies.go): reply key → language → text. The honest driver's
// patterns are written apart from it; the tests check them against it, so
// that a reworded reply the driver no longer understands fails here.
func agentCatalogue(t *testing.T) map[string]map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "agent", "replies.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	out := map[string]map[string]string{}
	str := func(e ast.Expr) string {
		if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			s, err := strconv.Unquote(bl.Value)
			if err == nil {
				return s
			}
		}
		return ""
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if gd.Tok == token.CONST {
					consts[name.Name] = str(vs.Values[i])
					continue
				}
				lit, ok := vs.Values[i].(*ast.CompositeLit)
				if name.Name != "replies" || !ok {
					continue
				}
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					id, ok := kv.Key.(*ast.Ident)
					inner, ok2 := kv.Value.(*ast.CompositeLit)
					if !ok || !ok2 {
						continue
					}
					texts := map[string]string{}
					for _, e := range inner.Elts {
						if lkv, ok := e.(*ast.KeyValueExpr); ok {
							texts[str(lkv.Key)] = str(lkv.Value)
						}
					}
					out[id.Name] = texts
				}
			}
		}
	}
	byValue := map[string]map[string]string{}
	for name, texts := range out {
		byValue[consts[name]] = texts
	}
	if len(byValue) < 40 {
		t.Fatalf("read %d replies from the agent's catalogue", len(byValue))
	}
	return byValue
}

// TestHearAgentQuestions feeds the driver's recogniser the agent's replies
// in every language and checks it understands what each asks, wants done
// or tells — with the patterns of that language alone.
func TestHearAgentQuestions(t *testing.T) {
	cat := agentCatalogue(t)
	choice := "1) CDA-FRE-1234 (Plaza Oakdale, 101 Oakdale Drive); 2) MPL-TOR-2345 (Plaza Juniper, 102 Juniper Drive)"
	tests := []struct {
		key  string
		args []any
		want []string
		// check inspects the rest of what was heard.
		check func(heard) string
	}{
		{"greeting", nil, []string{qProblem, qCharger}, nil},
		{"ask_problem", nil, []string{qProblem}, nil},
		{"ask_charger", nil, []string{qCharger}, nil},
		{"charger_not_found", nil, []string{qCharger, toldNotFound}, nil},
		{"ask_choose", []any{choice}, []string{qChoose}, func(h heard) string {
			if !strings.Contains(h.options[2], "MPL-TOR-2345") || len(h.options) != 2 {
				return fmt.Sprintf("options %v", h.options)
			}
			return ""
		}},
		{"ask_connector", []any{"CDA-FRE-1234", 2}, []string{qConnector}, func(h heard) string {
			if h.connectors != 2 {
				return fmt.Sprintf("connectors %d, want 2", h.connectors)
			}
			return ""
		}},
		{"ask_identity", nil, []string{qPhone}, nil},
		{"ask_identity_again", nil, []string{qPhone}, nil},
		{"ask_start_ok", []any{1, "Plaza Oakdale"}, []string{qStartNow}, nil},
		{"ask_start_ok_again", []any{1}, []string{qStartNow}, nil},
		{"start_declined", nil, []string{qProblem}, nil},
		{"ask_last4_again", nil, []string{qLast4}, nil},
		{"ask_at_charger", []any{"CDA-FRE-1234", 1}, []string{qAtCharger}, notYetUnlocked},
		{"ask_at_charger_again", []any{"CDA-FRE-1234"}, []string{qAtCharger}, notYetUnlocked},
		{"ask_last4", nil, []string{qLast4}, nil},
		{"last4_no_match", nil, []string{toldNoMatch}, nil},
		{"ask_start_time", nil, []string{qStartTime}, nil},
		{"offer_pay_link", nil, []string{qYesNo, doUpdateCard}, nil},
		{"pay_link_sent", []any{"https://pay.example.invalid/p/pl_123"}, nil, func(h heard) string {
			if h.link != "https://pay.example.invalid/p/pl_123" {
				return fmt.Sprintf("link %q", h.link)
			}
			return ""
		}},
		{"not_paid_yet", nil, []string{toldNotPaid}, nil},
		{"pay_alternatives", nil, []string{doUpdateCard}, nil},
		{"replug", nil, []string{doReplug}, nil},
		{"plug_in", []any{1}, []string{doPlugIn}, nil},
		{"vehicle_schedule", nil, []string{doSchedule}, nil},
		{"still_suspended", nil, []string{doSchedule}, nil},
		{"unlocked", []any{1, "Plaza Oakdale"}, []string{doRemoveCable}, nil},
		{"vehicle_lock", nil, []string{doUnlockCar}, nil},
		{"car_release_first", nil, []string{doUnlockCar}, nil},
		{"reconnecting", []any{"CDA-FRE-1234", "2 minutes ago"}, []string{doWaitOnline}, nil},
		{"now_available", []any{1, "Plaza Oakdale"}, []string{toldAvailable, doPlugIn}, nil},
		{"charging", []any{1, "Plaza Oakdale"}, []string{toldCharging}, nil},
		{"charging_resumed", []any{1}, []string{toldCharging}, nil},
		{"handoff", []any{"T-1"}, []string{toldTicket}, nil},
		{"could_not_fix", []any{"T-1"}, []string{toldTicket}, nil},
		{"offline", []any{"CDA-FRE-1234", "2 minutes ago", "T-1"}, []string{toldOffline, toldTicket}, nil},
		{"nearest", []any{"Library Lot 2", "39770 Paseo Padre Pkwy", "12.4 mi", "MPL-TOR-2345", 1, "CCS1", 150.0}, []string{toldNearest},
			func(h heard) string {
				if !slices.Contains(h.labels, "MPL-TOR-2345") || h.distanceKM < 19.9 || h.distanceKM > 20.0 {
					return fmt.Sprintf("labels %v, distance %.2f km", h.labels, h.distanceKM)
				}
				return ""
			}},
		{"no_alternative", nil, []string{toldNoAlternative}, nil},
		{"refuse_injection", nil, []string{toldRefused}, nil},
		{"anything_else", nil, []string{toldAnythingElse}, nil},
		{"cable_out", nil, []string{toldCableOut}, nil},
	}
	for _, tt := range tests {
		for _, lang := range Languages() {
			t.Run(tt.key+"/"+lang, func(t *testing.T) {
				texts, ok := cat[tt.key]
				if !ok {
					t.Fatalf("the agent's catalogue has no %s reply any more: update this table", tt.key)
				}
				text := fmt.Sprintf(texts[lang], tt.args...)
				h := hearIn(text, []string{lang})
				for _, w := range tt.want {
					if !h.has(w) && !(w == qChoose && slices.Contains(h.asked(), qChoose)) {
						t.Errorf("%q: %s not heard (heard %v)", text, w, h.cues)
					}
				}
				if tt.check != nil {
					if msg := tt.check(h); msg != "" {
						t.Errorf("%q: %s", text, msg)
					}
				}
			})
		}
	}
}

// notYetUnlocked fails a reply that asks before unlocking but is heard as
// the cable being free.
func notYetUnlocked(h heard) string {
	if h.has(doRemoveCable) {
		return "heard as unlocked"
	}
	return ""
}

// TestHearRewordedQuestions checks the recogniser on questions worded
// unlike the agent's, and that statements are not taken for questions.
func TestHearRewordedQuestions(t *testing.T) {
	tests := []struct {
		lang, text string
		want       string // a question, or "" for none
	}{
		{"en", "Could you tell me the phone number you signed up with?", qPhone},
		{"en", "Which plug are you using, 1 or 2?", qConnector},
		{"fr", "Pouvez-vous me donner les 4 derniers chiffres de votre carte?", qLast4},
		{"fr", "Vers quelle heure avez-vous branché l'auto?", qStartTime},
		{"es", "¿Cuál es su número de celular?", qPhone},
		{"es", "¿En cuál cargador se encuentra?", qCharger},
		{"en", "Is it the payment that fails, or the charge that won't start?", qProblem},
		{"fr", "Est-ce le paiement qui échoue, ou la recharge qui ne démarre pas?", qProblem},
		{"es", "¿Es el pago lo que falla, o la carga que no arranca?", qProblem},
		{"en", "Your card ending in 4242 has expired.", ""},
		{"fr", "Votre carte se terminant par 4242 est expirée.", ""},
	}
	for _, tt := range tests {
		h := hear(tt.text, tt.lang)
		got := h.asked()
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%q: heard questions %v, want none", tt.text, got)
		case tt.want != "" && !slices.Contains(got, tt.want):
			t.Errorf("%q: heard %v, want %s", tt.text, got, tt.want)
		}
	}
}

// TestDetectLang checks the language detector on every reply of the
// agent's catalogue: each is its own language or too short to tell, never
// another, and an English reply in a French or Spanish conversation is
// caught.
func TestDetectLang(t *testing.T) {
	cat := agentCatalogue(t)
	caught, long := 0, 0
	for key, texts := range cat {
		for _, lang := range Languages() {
			text := texts[lang]
			if strings.Contains(text, "%") {
				text = strings.NewReplacer("%[1]s", "CDA-FRE-1234", "%[2]s", "Plaza Oakdale", "%[3]s", "T-1", "%[1]d", "2",
					"%[2]d", "1").Replace(text)
			}
			if s, l := foreignSentence(text, lang); s != "" {
				t.Errorf("%s/%s: %q read as %s", key, lang, s, l)
			}
			if lang == "en" && len(words(text)) >= 8 {
				long++
				if s, _ := foreignSentence(text, "fr"); s != "" {
					caught++
				}
			}
		}
	}
	if caught < long*9/10 {
		t.Errorf("only %d of %d long English replies caught in a French conversation", caught, long)
	}
	for _, tt := range []struct{ text, want string }{
		{"Thanks. To confirm it's you, what are the last 4 digits of your card?", "en"},
		{"Merci. Pour confirmer que c'est bien vous, quels sont les chiffres?", "fr"},
		{"Gracias. Para confirmar que es usted, ¿cuáles son los dígitos?", "es"},
		{"1", ""},
		{"ok", ""},
	} {
		if got := detectLang(tt.text); got != tt.want {
			t.Errorf("detectLang(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestGradeDialogue checks that the conversation grader flags each fault
// in crafted conversations, and passes a clean one.
func TestGradeDialogue(t *testing.T) {
	const id = "CDA-FRE-1234"
	sites := map[string]place{"MPL-TOR-2345": {Country: "US", KM: 1.3}, "ION-SEA-3456": {Country: "US", KM: 553},
		"AMP-MTL-4567": {Country: "CA", KM: 12}}
	where := func(s string) (place, bool) { p, ok := sites[s]; return p, ok }
	ex := func(lang, driver, agent string, gave ...string) exchange {
		return exchange{Driver: driver, Lang: lang, Gave: gave, Agent: agent}
	}
	base := dialogueCase{chargerID: id, connectors: 1, where: where, country: "US", radiusKM: 40, maxTurns: 8}
	tests := []struct {
		name string
		exs  []exchange
		mod  func(*dialogueCase)
		want DialogueFaults
	}{
		{"clean", []exchange{
			ex("fr", "la borne "+id+" ne démarre pas", "Pour agir sur votre recharge, quel est le numéro de téléphone du compte?", qCharger),
			ex("fr", "514 555 0101", "Merci. Quels sont les 4 derniers chiffres de la carte de paiement de votre compte?", qPhone),
			ex("fr", "4242", "C'est fait : votre recharge a commencé sur le connecteur 1.", qLast4),
		}, nil, DialogueFaults{}},
		{"language drift", []exchange{
			ex("fr", "la borne "+id+" est indisponible", "Quel est le numéro de téléphone du compte?", qCharger),
			ex("fr", "713 555 0161", "Thanks. To confirm it's you, what are the last 4 digits of the payment card on your account?", qPhone),
		}, nil, DialogueFaults{LanguageDrift: 1}},
		{"switch followed", []exchange{
			ex("fr", "la borne "+id+" est indisponible", "Quel est le numéro de téléphone du compte?", qCharger),
			ex("en", "sorry, can we continue in English please? 713 555 0161", "Thanks. What are the last 4 digits of the card on your account?", qPhone),
		}, nil, DialogueFaults{}},
		{"repeated reply", []exchange{
			ex("en", "my card is refused at "+id, "Which connector number are you using?", qCharger),
			ex("en", "1", "Which connector number are you using?"),
		}, nil, DialogueFaults{RepeatedReplies: 1, NeedlessQuestions: 2}},
		{"zero connectors", []exchange{
			ex("en", "charger "+id+" is dead, screen is black", "Charger "+id+" has 0 connectors. Which connector number are you using?", qCharger),
		}, nil, DialogueFaults{ImpossibleQuestions: 1}},
		{"charger asked again", []exchange{
			ex("es", "mi sesión en "+id+" no para", "¿En qué cargador está? El ID está en la etiqueta.", qCharger),
		}, nil, DialogueFaults{NeedlessQuestions: 1}},
		{"choice without the charger", []exchange{
			ex("en", "session won't stop at Plaza Oakdale", "I found several chargers there: 1) ION-SEA-3456 (A, 1 St); 2) AMP-MTL-4567 (B, 2 St). Which one are you at?"),
		}, nil, DialogueFaults{ImpossibleQuestions: 1, FarSuggestions: 2}},
		{"far nearest", []exchange{
			ex("es", id+" no arranca", "Cargador disponible más cercano para su auto: Plaza X, 1 Calle (a 343.6 mi), cargador ION-SEA-3456 conector 1, CCS1 150 kW.", qCharger),
		}, nil, DialogueFaults{FarSuggestions: 1}},
		{"stated distance beyond the radius", []exchange{
			ex("en", id+" won't start", "Nearest available charger for your car: Library Lot 2, 1 St (31.0 mi away), charger MPL-TOR-2345 connector 1.", qCharger),
		}, nil, DialogueFaults{FarSuggestions: 1}},
		{"near nearest", []exchange{
			ex("en", id+" won't start", "Nearest available charger for your car: Library Lot 2, 1 St (0.8 mi away), charger MPL-TOR-2345 connector 1.", qCharger),
		}, nil, DialogueFaults{}},
		{"last four given early", []exchange{
			ex("en", "at "+id+", payment failed. my phone is 510 555 0019 and my card ends in 4242", "Thanks. To confirm it's you, what are the last 4 digits of the payment card on your account?", qCharger, qPhone, qLast4),
		}, nil, DialogueFaults{NeedlessQuestions: 1}},
		{"too many turns", []exchange{ex("en", "help", "Tell me what's happening?")}, func(dc *dialogueCase) {
			dc.fixable, dc.turns = true, 9
		}, DialogueFaults{TooManyTurns: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := base
			dc.exchanges = tt.exs
			if tt.mod != nil {
				tt.mod(&dc)
			}
			got, notes := gradeDialogue(dc)
			if got != tt.want {
				t.Errorf("got %+v, want %+v; notes %q", got, tt.want, notes)
			}
			if got.Total() != len(notes) {
				t.Errorf("%d faults, %d notes: %q", got.Total(), len(notes), notes)
			}
		})
	}
}

func TestGradeTickets(t *testing.T) {
	lock, _ := faultSpec("lock_after_session")
	reader, _ := faultSpec("reader_fault")
	mech, _ := faultSpec("lock_mechanical")
	tk := func(id, cat string) *chargedesk.Ticket { return &chargedesk.Ticket{ID: id, Category: cat} }
	tests := []struct {
		name    string
		spec    FaultSpec
		fixed   bool
		tickets []*chargedesk.Ticket
		want    int
	}{
		{"field ticket after a fix", lock, true, []*chargedesk.Ticket{tk("T1", "field_service")}, 1},
		{"expected ticket after a fix", reader, true, []*chargedesk.Ticket{tk("T1", "field_service")}, 0},
		{"second ticket for the same problem", mech, false, []*chargedesk.Ticket{tk("T1", "field_service"), tk("T2", "field_service")}, 1},
		{"escalation not fixed", mech, false, []*chargedesk.Ticket{tk("T1", "field_service")}, 0},
	}
	for _, tt := range tests {
		if got, notes := gradeTickets(tt.spec, tt.fixed, tt.tickets); got != tt.want {
			t.Errorf("%s: %d false tickets, want %d (%q)", tt.name, got, tt.want, notes)
		}
	}
}

// TestHonestRun plays a few tasks with the honest driver and checks the
// conversation is recorded and graded: the driver's messages come from the
// reply texts, the report counts conversation faults per language and
// channel, and a trial with any fails.
func TestHonestRun(t *testing.T) {
	cfg := fastConfig()
	cfg.Driver = DriverHonest
	tasks := []Task{taskOf(t, "h-lock", "lock_after_session", chargedesk.OCPP16),
		taskOf(t, "h-expired", "card_expired", chargedesk.OCPP16)}
	tasks[1].Channel, tasks[1].Lang = chargedesk.ChannelChat, "fr"
	rep, err := Run(t.Context(), tasks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	logFailures(t, rep)
	if rep.Driver != DriverHonest || len(rep.Languages) != 2 || len(rep.Channels) != 2 {
		t.Errorf("driver %q, languages %+v, channels %+v", rep.Driver, rep.Languages, rep.Channels)
	}
	total := 0
	for _, r := range rep.Results {
		if r.Turns == 0 || len(r.Transcript) < 2 {
			t.Errorf("%s: %d turns, transcript %q", r.TaskID, r.Turns, r.Transcript)
		}
		if r.Dialogue.Total() > 0 && r.Passed {
			t.Errorf("%s passed with conversation faults %+v", r.TaskID, r.Dialogue)
		}
		total += r.Dialogue.Total()
	}
	if rep.Overall.Dialogue.Total() != total {
		t.Errorf("overall conversation faults %+v, trials sum to %d", rep.Overall.Dialogue, total)
	}
	dir := t.TempDir()
	if err := rep.WriteTranscripts(dir); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil || !strings.Contains(b.String(), "lang-drift") {
		t.Errorf("table %q %v", b.String(), err)
	}
}

func TestDetectLangIgnoresIDs(t *testing.T) {
	if s, l := foreignSentence("Reporté la falla (ticket T-7b2f99f81177b4be26886f9ddffa8dd4).", "es"); s != "" {
		t.Errorf("%q read as %s", s, l)
	}
}

func TestHeardLabels(t *testing.T) {
	for in, want := range map[string]string{
		"borne M P L, M T L, trois quatre trois neuf connecteur un": "borne MPL-MTL-3439 connecteur un",
		"charger K W H, B O S, six seven zero seven, right?":        "charger KWH-BOS-6707, right?",
		"cargador W A T, S E A, seis tres cero cinco.":              "cargador WAT-SEA-6305.",
		"Library Lot forty, three nine seven seven zero Paseo":      "Library Lot forty, three nine seven seven zero Paseo",
	} {
		if got := heardLabels(in); got != want {
			t.Errorf("heardLabels(%q) = %q, want %q", in, got, want)
		}
	}
}
