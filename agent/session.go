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
)

// convData is the agent's own state of a conversation, stored as JSON in
// Conversation.Data.
type convData struct {
	// Ask is what the agent waits for from the driver.
	Ask string `json:"ask,omitempty"`
	// Asked counts how often Ask was asked in a row.
	Asked int `json:"asked,omitempty"`
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
	// Hazard is set once the driver described a clear hazard.
	Hazard bool `json:"hazard,omitempty"`
	// CategorySure is set once the driver's words named the category
	// with confidence; an unsure category yields to what the charger's
	// data shows.
	CategorySure bool `json:"categorySure,omitempty"`
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
	actions []Action
	// prev is the conversation's status before this message.
	prev chargedesk.ConversationStatus
	// newIssue is set when the message names another problem.
	newIssue bool
}

// say adds a catalogue reply in the conversation's language.
func (s *session) say(key string, args ...any) {
	s.out = append(s.out, say(s.c.Language, key, args...))
}

// ask asks the driver something and records that the agent waits for it.
func (s *session) ask(what, key string, args ...any) {
	if s.d.Ask == what {
		s.d.Asked++
	} else {
		s.d.Ask, s.d.Asked = what, 1
	}
	s.c.State = stateGathering
	switch what {
	case askReplug, askSchedule, askUnplugged, askCarRelease, askPayConsent, askPaid, askReconnect, askPlugIn:
		s.c.State = stateWaiting
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
	u := s.u
	if u.Lang != "" && len(strings.Fields(s.text)) >= 3 {
		s.c.Language = normLang(u.Lang)
	}
	if u.Slots.Vehicle != "" {
		s.d.Vehicle = u.Slots.Vehicle
	}
	s.newIssue = false
	if cat := u.Category; cat != "" && cat != chargedesk.CategoryOther && cat != s.c.Category && u.Confidence >= 0.6 {
		s.newIssue = true
	}
	if cat := u.Category; cat != "" && cat != chargedesk.CategoryOther {
		waitingOnDriver := s.d.Ask != "" && s.d.Ask != askProblem
		sure := u.Confidence >= 0.6
		switch {
		case s.c.Category == "" || s.c.Category == chargedesk.CategoryOther:
			s.setCategory(cat)
			s.d.CategorySure = sure
		case cat != s.c.Category && !waitingOnDriver && sure:
			s.setCategory(cat)
			s.d.CategorySure = true
		case cat == s.c.Category && sure:
			s.d.CategorySure = true
		}
	} else if s.c.Category == "" && u.Confidence >= 0.6 {
		s.c.Category = chargedesk.CategoryOther
	}
	if clearHazard(s.text) {
		s.d.Hazard = true
	}
	if err := s.a.identify(ctx, s); err != nil {
		return err
	}
	if err := s.a.resolveCharger(ctx, s); err != nil {
		return err
	}
	if n := u.Slots.Connector; n > 0 && s.c.ChargerID != "" {
		s.c.ConnectorID = n
	}
	return nil
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
	if done, err := a.resume(ctx, s); done || err != nil {
		return err
	}
	if (s.prev == chargedesk.ConversationResolved || s.prev == chargedesk.ConversationEscalated) && !s.newIssue && !stillBroken(s.text) {
		// A thank-you or a question after the end: nothing to redo.
		s.c.Status = s.prev
		if s.prev == chargedesk.ConversationEscalated && s.c.TicketID != "" {
			s.say(keyTicketOpen, s.c.TicketID)
		} else {
			s.say(keyAnythingElse)
		}
		return nil
	}
	cat := s.c.Category
	if !s.d.CategorySure && s.c.ChargerID != "" {
		// The words did not say for sure what is wrong, but the charger
		// is known: its data may.
		dc, err := a.dataCategory(ctx, s)
		if err != nil {
			return err
		}
		if dc != "" && dc != cat {
			a.log.InfoContext(ctx, "category from the data", "conversation_id", s.c.ID, "words", cat, "data", dc)
			s.c.Category, cat = dc, dc
		}
	}
	if cat == "" || cat == chargedesk.CategoryOther && s.c.ChargerID == "" {
		if s.d.Ask == askProblem && s.d.Asked >= 2 {
			return a.humanHandoff(ctx, s, "the driver's problem could not be understood")
		}
		s.ask(askProblem, keyAskProblem)
		return nil
	}
	if cat == chargedesk.CategoryBillingDispute {
		if !s.verified() {
			return s.askIdentity(ctx)
		}
		return a.billingDispute(ctx, s)
	}
	if cat == chargedesk.CategoryPaymentFailure && s.c.ChargerID == "" && s.verified() {
		// Payment problems are the driver's account first; the charger
		// matters only to start the session afterwards.
		return a.paymentPlaybook(ctx, s, "")
	}
	if needsCharger(cat) && s.c.ChargerID == "" {
		return s.askCharger(ctx)
	}
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: read charger: %w", err)
	}
	if s.c.ConnectorID == 0 {
		if id := a.guessConnector(ctx, s, ch); id > 0 {
			s.c.ConnectorID = id
		} else {
			s.ask(askConnector, keyAskConnector, ch.ID, len(realConnectors(ch)))
			return nil
		}
	}
	if ch.Connector(s.c.ConnectorID) == nil && ch.Connected {
		s.c.ConnectorID = 0
		s.ask(askConnector, keyAskConnector, ch.ID, len(realConnectors(ch)))
		return nil
	}
	return a.runPlaybook(ctx, s)
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
