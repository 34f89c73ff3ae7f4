package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/payments"
)

// Conversation states (Conversation.State).
const (
	stateStart     = "start"
	stateGathering = "gathering" // waiting for what the driver must tell (Data.Ask says what)
	stateWaiting   = "waiting"   // waiting for the driver to act (Data.Ask says what)
	stateResolved  = "resolved"
	stateEscalated = "escalated"
)

// Questions the agent may be waiting on (convData.Ask).
const (
	askProblem    = "problem"
	askCharger    = "charger"
	askChoose     = "choose"
	askConnector  = "connector"
	askIdentity   = "identity"
	askLast4      = "last4"
	askReplug     = "replug"
	askSchedule   = "schedule"
	askUnplugged  = "unplugged"
	askCarRelease = "car_release"
	askPayConsent = "pay_consent"
	askPaid       = "paid"
	askReconnect  = "reconnect"
	askPlugIn     = "plug_in"
	askStartTime  = "start_time"
	askAtCharger  = "at_charger"
	askStartOK    = "start_ok"
	askCardFreed  = "card_freed"
	askAlso       = "also"
)

// Word confidence thresholds (nlu.Result.Confidence; its reliability in
// BENCHMARKS.md): at sureWords the driver's words decide the category
// outright; from actOnWords they outweigh the charger's data; below, the
// data may say what is wrong, and a start it suggests is proposed to the
// driver before it is sent.
const (
	sureWords  = 0.5
	actOnWords = 0.3
)

// maxProblemAsks is how many times the agent asks what is wrong before a
// person takes over.
const maxProblemAsks = 3

// secondProblem returns another problem the message raises clearly
// besides its first (scores are one-vs-rest: a message with two problems
// scores high on both), or "".
func secondProblem(u nlu.Result) string {
	for _, r := range u.Ranked {
		if r.Category != u.Category && r.Category != chargedesk.CategoryOther && r.Score >= sureWords {
			return r.Category
		}
	}
	return ""
}

// closePair returns the two problems the message is torn between — the
// best under sureWords and the next within closeScores of it — or nil.
func closePair(u nlu.Result) []string {
	if len(u.Ranked) < 2 || u.Injection {
		return nil
	}
	a, b := u.Ranked[0], u.Ranked[1]
	if a.Score >= sureWords || a.Score-b.Score > closeScores || b.Score < 0.1 ||
		a.Category == chargedesk.CategoryOther || b.Category == chargedesk.CategoryOther {
		return nil
	}
	return []string{a.Category, b.Category}
}

// closeScores is how near two categories' scores must be for the agent to
// ask which one it is.
const closeScores = 0.15

// askProblem asks what is wrong: when the driver's words are torn between
// two problems, which of the two (once); otherwise in general.
func (s *session) askProblem() {
	if pair := closePair(s.u); pair != nil && len(s.d.Choices) == 0 {
		s.d.Choices = pair
		s.ask(askProblem, keyAskWhich, problemPhrase(s.c.Language, pair[0]), problemPhrase(s.c.Language, pair[1]))
		return
	}
	s.ask(askProblem, keyAskProblem)
}

// choose reads the driver's pick between the two problems offered ("the
// first", "2", or words that say one of them clearly enough).
func (s *session) choose() {
	if s.d.Ask != askProblem || len(s.d.Choices) != 2 {
		return
	}
	pick := ""
	if n, ok := smallNumber(s.text); ok && n <= 2 {
		pick = s.d.Choices[n-1]
	} else {
		for _, r := range s.u.Ranked {
			if (r.Category == s.d.Choices[0] || r.Category == s.d.Choices[1]) && r.Score >= actOnWords {
				pick = r.Category
				break
			}
		}
	}
	if pick == "" {
		return
	}
	s.setCategory(pick)
	s.d.CategorySure, s.d.CategoryConf, s.d.Choices = true, 1, nil
	s.d.settle()
}

// offerAlso takes up the second problem of the opening message once the
// first is settled.
func (s *session) offerAlso() {
	if s.d.Also == "" || s.d.Ask != "" || s.c.Status != chargedesk.ConversationResolved || s.d.Also == s.c.Category {
		return
	}
	s.d.Choices, s.d.Also = []string{s.d.Also}, ""
	s.ask(askAlso, keyAlso, problemPhrase(s.c.Language, s.d.Choices[0]))
}

// resumeAlso reads the answer to offerAlso: yes opens the second problem.
func (s *session) resumeAlso() {
	if len(s.d.Choices) != 1 {
		return
	}
	also := s.d.Choices[0]
	s.d.Choices = nil
	s.d.settle()
	if yesNo(s.text) > 0 || stillBroken(s.text) {
		s.setCategory(also)
		s.d.CategorySure, s.d.CategoryConf = true, 1
		s.c.Status, s.prev = chargedesk.ConversationOpen, chargedesk.ConversationOpen
	}
}

// wordsWeak reports whether the driver's words are too unsure to act on:
// the charger's data, or the driver again, must say what is wrong.
func (d *convData) wordsWeak() bool { return !d.CategorySure && d.CategoryConf < actOnWords }

// convData is the agent's own state of a conversation, stored as JSON in
// Conversation.Data.
type convData struct {
	// dialogue is the question waited on, the language and what was
	// said last.
	dialogue
	// Candidates are the chargers offered to choose from.
	Candidates []string `json:"candidates,omitempty"`
	// PendingDriver is a driver found by what the caller said, not yet
	// verified (the last four digits of a card on file are asked).
	PendingDriver string `json:"pendingDriver,omitempty"`
	// Cause is the diagnosis the playbook acts on.
	Cause    string   `json:"cause,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
	Vehicle  string   `json:"vehicle,omitempty"`
	// Tries counts attempts per step, so that nothing is retried more than
	// the playbook allows, across messages and restarts.
	Tries map[string]int `json:"tries,omitempty"`
	// Unlocked is set once the charger answered Unlocked.
	Unlocked bool `json:"unlocked,omitempty"`
	// PayLinkID is the pay link sent; ConsentAt when the driver agreed to
	// receive it.
	PayLinkID string    `json:"payLinkId,omitempty"`
	ConsentAt time.Time `json:"consentAt,omitzero"`
	// Paid is set once a payment was authorized (a hold or a paid link):
	// only then may a payment conversation start a session.
	Paid bool `json:"paid,omitempty"`
	// Results are the outcomes of the commands sent in this conversation,
	// kept as evidence for tickets.
	Results []cmdRecord `json:"results,omitempty"`
	// Nearest is the alternative charger the driver was sent to.
	Nearest string `json:"nearest,omitempty"`
	// CardDigits is set when the driver's last message had a full or
	// partial card number: the next one is masked more strictly.
	CardDigits bool `json:"cardDigits,omitempty"`
	// VerifyLocked is set once verification failed too often (in this
	// conversation or for the driver): no more digits are checked.
	VerifyLocked bool `json:"verifyLocked,omitempty"`
	// SessionTx is the ended transaction the caller was bound to by its
	// connector and start time; it allows releasing that cable only.
	SessionTx string `json:"sessionTx,omitempty"`
	// ReaderSilent is set once the driver said the card reader does not
	// react at all (not a card refused): a broken reader.
	ReaderSilent bool `json:"readerSilent,omitempty"`
	// Hazard is set once the driver described a clear hazard.
	Hazard bool `json:"hazard,omitempty"`
	// Playbook is the playbook run last (Playbooks): what a question the
	// agent waits on belongs to.
	Playbook string `json:"playbook,omitempty"`
	// CategorySure is set once the driver's words named the category
	// with confidence; an unsure category yields to what the charger's
	// data shows.
	CategorySure bool `json:"categorySure,omitempty"`
	// CategoryConf is the confidence of the words the category rests on;
	// under actOnWords the charger's data may say what is wrong instead.
	CategoryConf float64 `json:"categoryConf,omitempty"`
	// StartOK is set once the driver agreed to a start the agent proposed
	// from the charger's data; StartDeclined once they said no to it.
	StartOK       bool `json:"startOK,omitempty"`
	StartDeclined bool `json:"startDeclined,omitempty"`
	// Choices are the two problems the driver was asked to choose between
	// (askProblem), or the second problem offered (askAlso); Also is a
	// second problem the opening message raised, offered once the first is
	// settled.
	Choices []string `json:"choices,omitempty"`
	Also    string   `json:"also,omitempty"`
	// Methods are the payment methods seen when the card could not pay:
	// only a method new or changed since then is authorized again.
	Methods []payments.Method `json:"methods,omitempty"`
}

// cmdRecord is one command and its result.
type cmdRecord struct {
	At          time.Time               `json:"at"`
	Kind        chargedesk.CommandKind  `json:"kind"`
	ChargerID   string                  `json:"chargerId"`
	ConnectorID int                     `json:"connectorId,omitempty"`
	Status      chargedesk.ResultStatus `json:"status"`
	Detail      string                  `json:"detail,omitempty"`
}

// session is the handling of one driver message.
type session struct {
	a       *Agent
	c       *chargedesk.Conversation
	d       convData
	text    string
	u       nlu.Result
	out     []string
	keys    []string
	actions []Action
	// prev is the conversation's status before this message.
	prev chargedesk.ConversationStatus
	// newIssue is set when the message names another problem.
	newIssue bool
}

// say adds a catalogue reply in the conversation's language.
func (s *session) say(key string, args ...any) {
	s.keys = append(s.keys, key)
	s.out = append(s.out, say(s.c.Language, key, args...))
}

// askAgain is, for each question, the key that puts it in other words
// and says why it is needed: the second time a question is asked in a
// row, the driver hears that, not the same line again.
var askAgain = map[string]string{
	askIdentity:   keyAskIdentityAgain,
	askLast4:      keyAskLast4Again,
	askConnector:  keyAskConnectorAgain,
	askProblem:    keyAskProblemAgain,
	askStartTime:  keyAskTimeAgain,
	askCharger:    keyChargerNotFound,
	askAtCharger:  keyAskAtChargerAgain,
	askStartOK:    keyAskStartOKAgain,
	askCarRelease: keyVehicleLockAgain,
	askPlugIn:     keyPlugInAgain,
	askReplug:     keyReplugAgain,
	askCardFreed:  keyWaitCardFreedAgain,
}

// ask asks the driver something and records that the agent waits for it.
// Asked again right after, the question comes in its other words
// (askAgain), alternating, so that no two answers in a row are the same.
func (s *session) ask(what, key string, args ...any) {
	n := s.d.expect(what)
	s.c.State = stateGathering
	switch what {
	case askReplug, askSchedule, askUnplugged, askCarRelease, askPayConsent, askPaid, askReconnect, askPlugIn, askStartOK, askCardFreed:
		s.c.State = stateWaiting
	}
	if again, ok := askAgain[what]; ok && n%2 == 0 {
		key = again
	}
	s.say(key, args...)
}

// try counts an attempt of step and returns how many there were before.
func (s *session) try(step string) int {
	if s.d.Tries == nil {
		s.d.Tries = map[string]int{}
	}
	n := s.d.Tries[step]
	s.d.Tries[step] = n + 1
	return n
}

// resolved marks the conversation resolved: the charger's state said so.
func (s *session) resolved() {
	s.c.Status, s.c.State = chargedesk.ConversationResolved, stateResolved
	s.d.Ask, s.d.Asked = "", 0
}

// escalated marks the conversation escalated to people (a ticket exists).
func (s *session) escalated() {
	s.c.Status, s.c.State = chargedesk.ConversationEscalated, stateEscalated
	s.d.Ask, s.d.Asked = "", 0
}

// record adds an action to the reply and stores it as an action turn.
func (s *session) record(ctx context.Context, act Action, meta any) error {
	s.actions = append(s.actions, act)
	m, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("agent: encode action: %w", err)
	}
	text := act.Kind + " " + act.Status
	if act.ChargerID != "" {
		text = fmt.Sprintf("%s %s/%d: %s", act.Kind, act.ChargerID, act.ConnectorID, act.Status)
	}
	if act.Detail != "" {
		text += " (" + act.Detail + ")"
	}
	return s.a.store.AppendTurn(context.WithoutCancel(ctx), &chargedesk.Turn{ConversationID: s.c.ID, At: s.a.now(),
		Role: chargedesk.RoleAction, Text: text, Meta: m})
}

// absorb takes what the driver's message says into the conversation:
// language, category, vehicle, connector, identity and charger.
func (s *session) absorb(ctx context.Context) error {
	if letterWords(s.text) == 0 {
		// Numbers and ids ("1", "713 555 0161", "GRP-ORL-0001") answer a
		// question; they do not say what is wrong.
		s.u.Category, s.u.Confidence, s.u.Ranked = "", 0, nil
	}
	u := s.u
	if otherCarOut(s.text) || wantsStop(s.text) {
		// "Another car is plugged in, unplug it", "my session won't
		// stop": a cable held by a running session, which the
		// stuck-cable playbook stops for its owner only.
		u.Category, u.Confidence = chargedesk.CategoryConnectorStuck, max(u.Confidence, 0.6)
	}
	if lang := s.d.language(s.c.Language, u, s.text); lang != s.c.Language {
		// Stored at once, not only with the answer: a phone line that
		// holds while the agent works on the charger holds in the
		// caller's language.
		s.c.Language = lang
		if _, err := s.a.store.UpdateConversation(context.WithoutCancel(ctx), s.c.ID, func(c *chargedesk.Conversation) error {
			c.Language = lang
			return nil
		}); err != nil {
			return fmt.Errorf("agent: store language: %w", err)
		}
	}
	if u.Slots.Vehicle != "" {
		s.d.Vehicle = u.Slots.Vehicle
	}
	s.newIssue = false
	if cat := u.Category; cat != "" && cat != chargedesk.CategoryOther && cat != s.c.Category && u.Confidence >= sureWords {
		s.newIssue = true
	}
	if cat := u.Category; cat != "" && cat != chargedesk.CategoryOther {
		waitingOnDriver := s.d.Ask != "" && s.d.Ask != askProblem
		sure := u.Confidence >= sureWords
		switch {
		case s.c.Category == "" || s.c.Category == chargedesk.CategoryOther:
			s.setCategory(cat)
			s.d.CategorySure, s.d.CategoryConf = sure, u.Confidence
			s.d.Also = secondProblem(u)
		case cat != s.c.Category && !waitingOnDriver && (sure || !s.d.CategorySure && u.Confidence >= actOnWords && u.Confidence > s.d.CategoryConf):
			// Clear words move the conversation; while it is unsure,
			// clearer words than those it rests on do too.
			s.setCategory(cat)
			s.d.CategorySure, s.d.CategoryConf = sure, u.Confidence
		case cat == s.c.Category:
			// The same problem told again adds to what the first words
			// said (as independent evidence: 1-(1-a)(1-b)).
			s.d.CategorySure = s.d.CategorySure || sure
			s.d.CategoryConf = 1 - (1-s.d.CategoryConf)*(1-u.Confidence)
		}
	} else if s.c.Category == "" && u.Confidence >= 0.6 {
		s.c.Category = chargedesk.CategoryOther
	}
	s.choose()
	if clearHazard(s.text) {
		s.d.Hazard = true
	}
	if readerWords(s.text) {
		s.d.ReaderSilent = true
	}
	if err := s.a.identify(ctx, s); err != nil {
		return err
	}
	if err := s.a.resolveCharger(ctx, s); err != nil {
		return err
	}
	if s.c.ChargerID != "" {
		if err := s.a.absorbConnector(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// absorbConnector takes the connector the driver names: in words
// ("connector 2"), or as the short answer to the question which one ("1",
// "the second", a plug type when that names one connector).
func (a *Agent) absorbConnector(ctx context.Context, s *session) error {
	n := s.u.Slots.Connector
	if n == 0 && s.d.Ask == askConnector {
		if v, ok := smallNumber(s.text); ok {
			n = v
		} else if id := connectorOfPlug(s.text, a.specs(ctx, s.c.ChargerID)); id > 0 {
			n = id
		}
	}
	if n <= 0 {
		return nil
	}
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: read charger: %w", err)
	}
	if n > connectorCount(ch, a.specs(ctx, ch.ID)) {
		return nil // not one of this charger's: asked again
	}
	s.c.ConnectorID = n
	s.d.settleIf(askConnector)
	return nil
}

// connectorCount is how many connectors a charger has: as it reported
// them, or as the operator described them when it never did.
func connectorCount(ch *chargedesk.Charger, specs []chargedesk.ConnectorSpec) int {
	return max(len(realConnectors(ch)), len(specs))
}

// plugNames are the words drivers use for each plug type.
var plugNames = map[chargedesk.ConnectorType][]string{
	chargedesk.ConnectorCCS1:    {"ccs", "ccs1", "combo"},
	chargedesk.ConnectorNACS:    {"nacs", "tesla"},
	chargedesk.ConnectorCHAdeMO: {"chademo"},
	chargedesk.ConnectorJ1772:   {"j1772", "type1"},
}

// connectorOfPlug returns the one connector whose plug type the text
// names, or 0.
func connectorOfPlug(text string, specs []chargedesk.ConnectorSpec) int {
	t := fold(text)
	found := 0
	for _, k := range specs {
		for _, w := range plugNames[k.Type] {
			if containsWord(t, w) {
				if found != 0 {
					return 0
				}
				found = k.ID
				break
			}
		}
	}
	return found
}

// setCategory changes the conversation's category and forgets the
// previous diagnosis.
func (s *session) setCategory(cat string) {
	if s.c.Category != cat {
		s.c.Category = cat
		s.d.Cause, s.d.Evidence = "", nil
		switch s.d.Ask {
		case askProblem, "":
		default:
			s.d.Ask, s.d.Asked = "", 0
		}
	}
}

// needsCharger reports whether the category is about a charger.
func needsCharger(cat string) bool {
	switch cat {
	case chargedesk.CategoryBillingDispute, chargedesk.CategoryOther, "":
		return false
	}
	return true
}

// step runs the dialogue one step: continue what the agent waited for,
// gather what is missing, or diagnose and run the playbook.
func (s *session) step(ctx context.Context) error {
	a := s.a
	ended := s.prev == chargedesk.ConversationResolved || s.prev == chargedesk.ConversationEscalated
	if ended && thanksOnly(s.text) {
		// A thank-you after the end closes the conversation.
		return s.goodbye()
	}
	if s.d.StartOK && (s.d.Ask == askIdentity || s.d.Ask == askLast4) && thanksOnly(s.text) && !strings.ContainsAny(s.text, "0123456789") {
		// "ok thanks" instead of the account's phone or card digits, asked
		// only to start the charge the agent offered: the driver does not
		// want it now. Nothing is done; the question stays open for when
		// they write again.
		s.d.Asked = 0
		s.c.Status = chargedesk.ConversationOpen
		if s.d.Ask == askLast4 {
			s.say(keyLast4Later)
		} else {
			s.say(keyIdentityLater)
		}
		return nil
	}
	if done, err := a.resume(ctx, s); done || err != nil {
		return err
	}
	if ended && !s.newIssue && (!stillBroken(s.text) || s.prev == chargedesk.ConversationEscalated) {
		// A question or a remark after the end: nothing to redo. "Still
		// stuck" after a ticket is what the ticket is for: the agent does
		// not try again what it already found it cannot fix.
		s.c.Status = s.prev
		s.d.settle()
		switch {
		case s.prev == chargedesk.ConversationEscalated && asksWhatNow(s.text) && s.c.ChargerID != "":
			// "What do I do now?" after a ticket: where they can charge
			// meanwhile, looked up again (it may have changed).
			if s.c.TicketID != "" {
				s.say(keyTicketMeanwhile, s.c.TicketID)
			}
			return a.sendToNearest(ctx, s)
		case s.prev == chargedesk.ConversationEscalated && s.c.TicketID != "" && s.d.saidLast(keyTicketOpen):
			s.say(keyTicketOpenAgain, s.c.TicketID)
		case s.prev == chargedesk.ConversationEscalated && s.c.TicketID != "":
			s.say(keyTicketOpen, s.c.TicketID)
		default:
			s.say(keyAnythingElse)
		}
		return nil
	}
	cat := s.c.Category
	if s.d.wordsWeak() && s.c.ChargerID != "" {
		// The words did not say for sure what is wrong, but the charger
		// is known: its data may.
		dc, err := a.dataCategory(ctx, s)
		if err != nil {
			return err
		}
		if dc != "" && dc != cat && !(dc == chargedesk.CategorySessionWontStart && s.d.StartDeclined) {
			a.log.InfoContext(ctx, "category from the data", "conversation_id", s.c.ID, "words", cat, "data", dc)
			s.c.Category, cat = dc, dc
		}
	}
	if cat == "" || cat == chargedesk.CategoryOther && s.c.ChargerID == "" {
		if s.d.Ask == askProblem && s.d.Asked >= maxProblemAsks {
			return a.humanHandoff(ctx, s, "the driver's problem could not be understood")
		}
		s.askProblem()
		return nil
	}
	if cat == chargedesk.CategoryBillingDispute {
		if !s.verified() {
			return s.askIdentity(ctx)
		}
		return a.play(ctx, s, PlaybookRouted, func() error { return a.billingDispute(ctx, s) })
	}
	if cat == chargedesk.CategoryPaymentFailure && s.c.ChargerID == "" && s.verified() {
		// Payment problems are the driver's account first; the charger
		// matters only to start the session afterwards.
		return a.play(ctx, s, PlaybookPayment, func() error { return a.paymentPlaybook(ctx, s, "") })
	}
	if needsCharger(cat) && s.c.ChargerID == "" {
		return s.askCharger(ctx)
	}
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: read charger: %w", err)
	}
	specs := a.specs(ctx, ch.ID)
	if s.c.ConnectorID == 0 {
		if id := a.guessConnector(ctx, s, ch); id > 0 {
			s.c.ConnectorID = id
		} else if !ch.Connected && len(realConnectors(ch)) == 0 {
			// A charger that never reported its connectors and is off line
			// now: nothing the driver could say about a connector would
			// change what can be done. The charger as a whole is the case.
			return a.runPlaybook(ctx, s)
		} else {
			return s.askConnector(ctx, ch, specs)
		}
	}
	if ch.Connector(s.c.ConnectorID) == nil && ch.Connected && s.c.ConnectorID > connectorCount(ch, specs) {
		s.c.ConnectorID = 0
		return s.askConnector(ctx, ch, specs)
	}
	return a.runPlaybook(ctx, s)
}

// askConnector asks which connector the driver uses; after two tries in
// vain, a person takes over.
func (s *session) askConnector(ctx context.Context, ch *chargedesk.Charger, specs []chargedesk.ConnectorSpec) error {
	if s.d.Ask == askConnector && s.d.Asked >= 3 {
		return s.a.humanHandoff(ctx, s, fmt.Sprintf("the connector of %s could not be settled with the driver", ch.ID))
	}
	s.ask(askConnector, keyAskConnector, ch.ID, connectorCount(ch, specs))
	return nil
}

// goodbye answers a thank-you after the end and keeps the conversation as
// it ended.
func (s *session) goodbye() error {
	s.c.Status = s.prev
	s.d.settle()
	switch {
	case s.d.saidLast(keyGoodbye) || s.d.saidLast(keyGoodbyeLeave) || s.d.saidLast(keyGoodbyeTicket):
		s.say(keyGoodbyeAgain)
	case s.prev == chargedesk.ConversationEscalated && s.c.TicketID != "":
		s.say(keyGoodbyeTicket, s.c.TicketID)
	case s.d.Unlocked || s.c.Category == chargedesk.CategoryConnectorStuck:
		// A freed cable: the driver is leaving, not charging.
		s.say(keyGoodbyeLeave)
	default:
		s.say(keyGoodbye)
	}
	return nil
}

// verified reports whether the caller is bound to a driver account.
func (s *session) verified() bool {
	return s.c.DriverID != "" && s.c.Verified != chargedesk.VerifiedNone
}

// askIdentity asks the caller to identify themselves, or hands over after
// repeated failures.
func (s *session) askIdentity(ctx context.Context) error {
	if s.d.VerifyLocked {
		return s.a.humanHandoff(ctx, s, "the caller could not be verified (too many failed attempts)")
	}
	if s.d.PendingDriver != "" {
		if s.d.Ask == askLast4 && s.d.Asked >= 3 {
			return s.a.humanHandoff(ctx, s, "the caller could not be verified")
		}
		s.ask(askLast4, keyAskLast4)
		return nil
	}
	if s.d.Ask == askIdentity && s.d.Asked >= 3 {
		return s.a.humanHandoff(ctx, s, "the caller could not be identified")
	}
	s.ask(askIdentity, keyAskIdentity)
	return nil
}

// askCharger asks which charger, offering candidates when there are some.
func (s *session) askCharger(ctx context.Context) error {
	if len(s.d.Candidates) > 1 {
		if s.d.Ask == askChoose && s.d.Asked%2 == 1 {
			// The list was just given: the same list again would not help.
			s.d.expect(askChoose)
			s.say(keyAskChooseAgain, len(s.d.Candidates))
			return nil
		}
		var b strings.Builder
		for i, id := range s.d.Candidates {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%d) %s", i+1, s.a.chargerLabel(ctx, id))
		}
		s.ask(askChoose, keyAskChoose, b.String())
		return nil
	}
	if s.d.Ask == askCharger && s.d.Asked >= 1 {
		if s.d.Asked >= 3 {
			return s.a.humanHandoff(ctx, s, "the charger could not be found from the driver's description")
		}
		s.ask(askCharger, keyChargerNotFound)
		return nil
	}
	s.ask(askCharger, keyAskCharger)
	return nil
}

// realConnectors returns the connectors with an id above 0.
func realConnectors(ch *chargedesk.Charger) []chargedesk.Connector {
	var out []chargedesk.Connector
	for _, k := range ch.Connectors {
		if k.ID > 0 {
			out = append(out, k)
		}
	}
	return out
}

// guessConnector returns the connector the driver means when the charger
// state makes it clear: the only one, the one running the caller's
// session, or the only one not Available.
func (a *Agent) guessConnector(ctx context.Context, s *session, ch *chargedesk.Charger) int {
	ks := realConnectors(ch)
	if len(ks) == 1 {
		return ks[0].ID
	}
	if len(ks) == 0 {
		if specs := a.specs(ctx, ch.ID); len(specs) == 1 {
			return specs[0].ID
		}
		return 0
	}
	if s.c.DriverID != "" {
		if txs, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, ActiveOnly: true}); err == nil {
			tags := a.driverTags(ctx, s.c.DriverID)
			for _, tx := range txs {
				if tags[tx.IDTag] {
					return tx.ConnectorID
				}
			}
		}
	}
	busy := 0
	for _, k := range ks {
		if k.Status != chargedesk.StatusAvailable {
			if busy != 0 {
				return 0
			}
			busy = k.ID
		}
	}
	return busy
}

// driverTags returns the idTags of a driver's tokens.
func (a *Agent) driverTags(ctx context.Context, driverID string) map[string]bool {
	out := map[string]bool{}
	if driverID == "" {
		return out
	}
	toks, err := a.store.Tokens(ctx, chargedesk.TokenFilter{DriverID: driverID, Limit: 100})
	if err != nil {
		return out
	}
	for _, t := range toks {
		out[t.IDTag] = true
	}
	return out
}

// stillBroken reports whether the driver says the problem is not fixed.
func stillBroken(text string) bool {
	t := fold(text)
	for _, w := range []string{"still", "not working", "didn't work", "did not work", "doesn't work", "again", "encore", "toujours",
		"marche pas", "fonctionne pas", "todavia", "sigue", "no funciona", "otra vez"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}
