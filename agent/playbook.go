package agent

import (
	"context"
	"fmt"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
	"github.com/chargedesk/chargedesk/payments"
)

// view reads everything diagnose needs about the conversation's charger,
// connector and caller.
func (a *Agent) view(ctx context.Context, s *session) (diagnose.View, error) {
	v := diagnose.View{Now: a.now(), Category: s.c.Category, ConnectorID: s.c.ConnectorID, DriverID: s.c.DriverID}
	if !s.verified() {
		v.DriverID = ""
	}
	if s.c.ChargerID != "" {
		ch, err := a.store.Charger(ctx, s.c.ChargerID)
		if err != nil && !notFound(err) {
			return v, fmt.Errorf("agent: charger: %w", err)
		}
		v.Charger = ch
		if ch != nil {
			if v.Active, err = a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, ActiveOnly: true}); err != nil {
				return v, fmt.Errorf("agent: transactions: %w", err)
			}
			all, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, Limit: 20})
			if err != nil {
				return v, fmt.Errorf("agent: transactions: %w", err)
			}
			for _, tx := range all {
				if !tx.Active() && (s.c.ConnectorID == 0 || tx.ConnectorID == s.c.ConnectorID) {
					v.Recent = append(v.Recent, tx)
				}
			}
			if v.Events, err = a.store.RecentEvents(ctx, ch.ID, diagnose.MaxEventsRead); err != nil {
				return v, fmt.Errorf("agent: events: %w", err)
			}
			v.Specs = a.specs(ctx, ch.ID)
		}
	}
	if v.DriverID != "" {
		toks, err := a.store.Tokens(ctx, chargedesk.TokenFilter{DriverID: v.DriverID, Limit: 100})
		if err != nil {
			return v, fmt.Errorf("agent: tokens: %w", err)
		}
		v.Tokens = toks
		if pv, err := a.paymentView(ctx, v.DriverID); err == nil {
			v.Payment = pv
		} else {
			a.log.WarnContext(ctx, "payment state unreadable", "conversation_id", s.c.ID, "err", err)
		}
	}
	return v, nil
}

// paymentView reads a driver's payment state; nil when the driver has no
// payment account or there is no processor.
func (a *Agent) paymentView(ctx context.Context, driverID string) (*diagnose.PaymentView, error) {
	if a.pay == nil {
		return nil, nil
	}
	d, err := a.store.Driver(ctx, driverID)
	if err != nil || d.PaymentAccountID == "" {
		return nil, err
	}
	pv := &diagnose.PaymentView{}
	if pv.Methods, err = a.pay.Methods(ctx, d.PaymentAccountID); err != nil {
		return nil, err
	}
	if pv.LastAuthorization, err = a.pay.LastAuthorization(ctx, d.PaymentAccountID); err != nil && !notFound(err) {
		return nil, err
	}
	if pv.Holds, err = a.pay.Holds(ctx, d.PaymentAccountID, payments.HoldPending); err != nil {
		return nil, err
	}
	return pv, nil
}

// trustData is the confidence from which a diagnosed cause decides the
// conversation's category over words the understanding was unsure of.
const trustData = 0.8

// dataCategory returns the category of what the charger's data shows with
// confidence (trustData), or "".
func (a *Agent) dataCategory(ctx context.Context, s *session) (string, error) {
	v, err := a.view(ctx, s)
	if err != nil || v.Charger == nil {
		return "", err
	}
	return dataCategoryOf(topCause(diagnose.Diagnose(v))), nil
}

// dataCategoryOf is the category a cause decides on the data alone: one
// found with confidence (trustData) whose playbook only mends the charger,
// the card or the payment. A stuck cable and slow charging need the
// driver's own words: their playbooks end sessions and open tickets.
func dataCategoryOf(c diagnose.Cause) string {
	if c.Confidence < trustData {
		return ""
	}
	switch cc := c.Category(); cc {
	case chargedesk.CategorySessionWontStart, chargedesk.CategoryChargerOffline, chargedesk.CategoryRFIDFailure, chargedesk.CategoryPaymentFailure:
		return cc
	}
	return ""
}

// topCause returns the best cause worth acting on: diagnose's list without
// connector_unknown once the connector is settled.
func topCause(causes []diagnose.Cause) diagnose.Cause {
	for _, c := range causes {
		if c.Code == diagnose.CodeConnectorUnknown {
			continue
		}
		return c
	}
	return diagnose.Cause{Code: diagnose.CodeNoFaultSeen}
}

// runPlaybook diagnoses and runs the playbook of the cause found, guided by
// the driver's category when the data shows nothing.
func (a *Agent) runPlaybook(ctx context.Context, s *session) error {
	v, err := a.view(ctx, s)
	if err != nil {
		return err
	}
	if v.Charger == nil {
		s.c.ChargerID = ""
		return s.askCharger(ctx)
	}
	cause := topCause(diagnose.Diagnose(v))
	if cc := dataCategoryOf(cause); cc != "" && cc != s.c.Category && s.d.wordsWeak() &&
		!(cc == chargedesk.CategorySessionWontStart && s.d.StartDeclined) {
		// The driver's words were unsure and the charger's data is not:
		// the conversation is about what the data shows.
		a.log.InfoContext(ctx, "category from the data", "conversation_id", s.c.ID, "words", s.c.Category, "data", cc)
		s.c.Category = cc
	}
	s.d.Cause, s.d.Evidence = cause.Code, cause.Evidence
	a.log.InfoContext(ctx, "diagnosis", "conversation_id", s.c.ID, "charger_id", s.c.ChargerID, "cause", cause.Code, "confidence", cause.Confidence)
	if s.d.Hazard {
		// A described hazard comes first: nothing is unlocked, started or
		// put back in service on a charger someone says is dangerous.
		return a.play(ctx, s, PlaybookRouted, func() error { return a.hardwareDamage(ctx, s) })
	}
	switch cause.Code {
	case diagnose.CodeChargerUnknown:
		s.c.ChargerID = ""
		return s.askCharger(ctx)
	case diagnose.CodeStaleTransaction, diagnose.CodeControllerHung, diagnose.CodeHandshakeTimeout,
		diagnose.CodeVehicleSchedule, diagnose.CodeRemoteStartIgnored, diagnose.CodeHardwareFaultPower:
		return a.play(ctx, s, PlaybookSession, func() error { return a.sessionPlaybook(ctx, s, v, cause) })
	case diagnose.CodeStaleStatus, diagnose.CodeCommDrop, diagnose.CodeLeftInoperative, diagnose.CodeBootPending:
		return a.play(ctx, s, PlaybookOffline, func() error { return a.offlinePlaybook(ctx, s, v, cause) })
	case diagnose.CodeOwnSessionRunning:
		switch s.c.Category {
		case chargedesk.CategoryConnectorStuck:
			return a.play(ctx, s, PlaybookStuck, func() error { return a.stuckPlaybook(ctx, s, v, cause) })
		case chargedesk.CategorySessionWontStart, chargedesk.CategoryChargerOffline,
			chargedesk.CategoryRFIDFailure, chargedesk.CategoryPaymentFailure:
			// What they wanted is happening (a start that went through
			// meanwhile, theirs or the agent's): say so, nothing to send.
			return a.play(ctx, s, PlaybookSession, func() error {
				s.resolved()
				s.say(keyCharging, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
				return nil
			})
		}
		// The caller's own session runs and they did not ask for the
		// cable: nothing is stopped; how it charges is the answer.
		return a.play(ctx, s, PlaybookRouted, func() error { return a.slowCharging(ctx, s, v) })
	case diagnose.CodeLockAfterSession, diagnose.CodeSomeoneElsesSess,
		diagnose.CodeLockMechanical, diagnose.CodeVehicleSideLock:
		return a.play(ctx, s, PlaybookStuck, func() error { return a.stuckPlaybook(ctx, s, v, cause) })
	case diagnose.CodeLocalListStale, diagnose.CodeTokenBlocked, diagnose.CodeTokenExpired, diagnose.CodeTokenUnknown,
		diagnose.CodeReaderFault:
		return a.play(ctx, s, PlaybookRFID, func() error { return a.rfidPlaybook(ctx, s, v, cause) })
	case diagnose.CodeCardExpired, diagnose.CodeTransientDecline, diagnose.CodeAppSyncDelay, diagnose.CodeDuplicateHolds,
		diagnose.CodeHardDecline:
		return a.play(ctx, s, PlaybookPayment, func() error { return a.paymentPlaybook(ctx, s, cause.Code) })
	case diagnose.CodeSlowCharging:
		return a.play(ctx, s, PlaybookRouted, func() error { return a.slowCharging(ctx, s, v) })
	}
	// Nothing convincing in the data: follow the driver's words, once they
	// say clearly enough what is wrong.
	if s.d.wordsWeak() {
		if s.d.Ask == askProblem && s.d.Asked >= maxProblemAsks {
			return a.humanHandoff(ctx, s, "no fault found and the driver's problem is unclear")
		}
		s.c.Status = chargedesk.ConversationOpen
		s.askProblem()
		return nil
	}
	switch s.c.Category {
	case chargedesk.CategorySessionWontStart:
		return a.play(ctx, s, PlaybookSession, func() error { return a.sessionPlaybook(ctx, s, v, cause) })
	case chargedesk.CategoryChargerOffline:
		return a.play(ctx, s, PlaybookOffline, func() error { return a.offlinePlaybook(ctx, s, v, cause) })
	case chargedesk.CategoryConnectorStuck:
		return a.play(ctx, s, PlaybookStuck, func() error { return a.stuckPlaybook(ctx, s, v, cause) })
	case chargedesk.CategoryRFIDFailure:
		return a.play(ctx, s, PlaybookRFID, func() error { return a.rfidPlaybook(ctx, s, v, cause) })
	case chargedesk.CategoryPaymentFailure:
		return a.play(ctx, s, PlaybookPayment, func() error { return a.paymentPlaybook(ctx, s, "") })
	case chargedesk.CategorySlowCharging:
		return a.play(ctx, s, PlaybookRouted, func() error { return a.slowCharging(ctx, s, v) })
	case chargedesk.CategoryHardwareDamage:
		return a.play(ctx, s, PlaybookRouted, func() error { return a.hardwareDamage(ctx, s) })
	case chargedesk.CategoryBillingDispute:
		return a.play(ctx, s, PlaybookRouted, func() error { return a.billingDispute(ctx, s) })
	}
	if s.d.Ask == askProblem && s.d.Asked >= maxProblemAsks {
		return a.humanHandoff(ctx, s, "no fault found and the driver's problem is unclear")
	}
	s.askProblem()
	return nil
}

// Playbook names, as operators switch them (Config.Playbooks).
const (
	PlaybookSession = "session" // a session that will not start
	PlaybookOffline = "offline" // a charger offline or unavailable
	PlaybookStuck   = "stuck"   // a cable that will not come out
	PlaybookRFID    = "rfid"    // a charging card refused
	PlaybookPayment = "payment" // a payment refused
	PlaybookRouted  = "routed"  // slow charging, damage and hazards, billing disputes
)

// Playbooks lists the playbooks' names.
var Playbooks = []string{PlaybookSession, PlaybookOffline, PlaybookStuck, PlaybookRFID, PlaybookPayment, PlaybookRouted}

// playbookOn reports whether operators let the agent run playbook name.
func (a *Agent) playbookOn(name string) bool { return a.playbooks == nil || a.playbooks(name) }

// play runs playbook name (fn), unless operators switched it off: then the
// driver is handed to a person with a ticket and nothing is done.
func (a *Agent) play(ctx context.Context, s *session, name string, fn func() error) error {
	if !a.playbookOn(name) {
		return a.playbookOff(ctx, s, name)
	}
	s.d.Playbook = name
	return fn()
}

// playbookOff hands the driver to a person because playbook name is
// switched off; the ticket carries the diagnosis made so far.
func (a *Agent) playbookOff(ctx context.Context, s *session, name string) error {
	a.log.WarnContext(ctx, "playbook switched off: handing over", "conversation_id", s.c.ID, "playbook", name, "cause", s.d.Cause)
	return a.humanHandoff(ctx, s, fmt.Sprintf("the %s playbook is switched off by an operator (diagnosis: %s)", name, orDash(s.d.Cause)))
}

// resume continues what the agent was waiting for the driver to do. It
// reports whether it handled the message.
func (a *Agent) resume(ctx context.Context, s *session) (bool, error) {
	switch s.d.Ask {
	case askReplug, askPlugIn, askStartOK, askSchedule, askUnplugged, askCarRelease, askPayConsent, askPaid, askReconnect, askCardFreed:
		if s.d.Playbook != "" && !a.playbookOn(s.d.Playbook) {
			// Switched off while the driver was answering: nothing more
			// of it is done.
			s.d.settle()
			return true, a.playbookOff(ctx, s, s.d.Playbook)
		}
	}
	switch s.d.Ask {
	case askReplug, askPlugIn:
		if s.c.ChargerID == "" {
			return false, nil
		}
		return a.resumeStart(ctx, s)
	case askStartOK:
		if s.c.ChargerID == "" {
			return false, nil
		}
		return a.resumeStartOK(ctx, s)
	case askCardFreed:
		if s.c.ChargerID == "" {
			return false, nil
		}
		return a.resumeCardFreed(ctx, s)
	case askSchedule:
		return true, a.checkScheduleCleared(ctx, s)
	case askUnplugged, askCarRelease:
		return true, a.checkCableOut(ctx, s)
	case askPayConsent, askPaid:
		return true, a.paymentFollowUp(ctx, s)
	case askReconnect:
		return true, a.checkReconnected(ctx, s)
	case askAlso:
		s.resumeAlso()
	}
	return false, nil
}

// resumeStart continues when the agent waits for the driver's cable
// (plugged in, or re-seated) to start the session: only a yes or "it's
// in" starts it; "not yet" and a thank-you wait; a new problem goes to
// the ordinary flow; anything else hears the question again, in other
// words.
func (a *Agent) resumeStart(ctx context.Context, s *session) (bool, error) {
	yn := yesNo(s.text)
	switch {
	case saysReady(s.text) && yn >= 0:
		// "ya está, gracias": ready, with thanks.
		s.d.settle()
		s.d.StartOK = true
		return true, a.startSession(ctx, s, true)
	case yn < 0 || thanksOnly(s.text) && s.prev != chargedesk.ConversationResolved:
		s.c.Status = s.prev
		s.d.expect(s.d.Ask)
		s.say(keyWaitPlugIn)
		return true, nil
	case yn > 0 || saysReady(s.text):
		s.d.settle()
		s.d.StartOK = true
		return true, a.startSession(ctx, s, true)
	case s.newIssue || stillBroken(s.text):
		s.d.settle()
		return false, nil
	}
	s.c.Status = s.prev
	if s.d.Ask == askReplug {
		s.ask(askReplug, keyReplug)
	} else {
		s.ask(askPlugIn, keyPlugIn, max(s.c.ConnectorID, 1))
	}
	return true, nil
}

// resumeStartOK continues when the agent proposed a start the driver's
// words had not asked for: yes starts it; no, or another problem told,
// goes back to what the driver says is wrong.
func (a *Agent) resumeStartOK(ctx context.Context, s *session) (bool, error) {
	yn := yesNo(s.text)
	switch {
	case yn > 0 || saysReady(s.text):
		s.d.settle()
		s.d.StartOK = true
		return true, a.startSession(ctx, s, true)
	case yn < 0 || s.newIssue || stillBroken(s.text) || letterWords(s.text) > 3:
		s.d.settle()
		s.d.StartDeclined = true
		if s.c.Category == chargedesk.CategorySessionWontStart {
			s.c.Category = ""
		}
		if letterWords(s.text) > 2 {
			// "No, the plug won't come out": the rest of the message is
			// the problem.
			return false, nil
		}
		s.c.Status = chargedesk.ConversationOpen
		s.ask(askProblem, keyStartDeclined)
		return true, nil
	}
	if s.d.Asked >= 3 {
		return true, a.humanHandoff(ctx, s, "the driver did not say whether to start the session the charger's data suggested")
	}
	s.c.Status = s.prev
	s.ask(askStartOK, keyAskStartOK, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
	return true, nil
}

// resumeCardFreed continues when the driver's card was charging elsewhere
// and the agent waits for that session to end: "done", "stopped it", yes
// or "start it" starts this one; a thank-you or "not yet" waits (nothing is
// sent for an acknowledgement); a new problem goes to the ordinary flow.
func (a *Agent) resumeCardFreed(ctx context.Context, s *session) (bool, error) {
	yn := yesNo(s.text)
	switch {
	case (saysReady(s.text) || matchPhrases(s.text, freedPhrases)) && yn >= 0:
		s.d.settle()
		s.d.StartOK = true
		return true, a.startSession(ctx, s, false)
	case thanksOnly(s.text):
		// "ok thanks": an acknowledgement, not a go.
	case yn > 0:
		s.d.settle()
		s.d.StartOK = true
		return true, a.startSession(ctx, s, false)
	case s.newIssue || stillBroken(s.text):
		s.d.settle()
		return false, nil
	}
	s.c.Status = s.prev
	s.ask(askCardFreed, keyWaitCardFreed)
	return true, nil
}

// freedPhrases say the other session is over.
var freedPhrases = [][]string{
	{"done"}, {"stopped"}, {"ended"}, {"finished"}, {"it", "s", "off"},
	{"fait"}, {"arrete"}, {"arretee"}, {"termine"}, {"terminee"}, {"fini"},
	{"hecho"}, {"detuve"}, {"detenida"}, {"parada"}, {"pare"}, {"termino"}, {"termine"}, {"ya", "esta"},
}

// readyPhrases say the cable is in or the driver wants the start now.
var readyPhrases = [][]string{
	{"plugged"}, {"it", "s", "in"}, {"its", "in"}, {"ready"}, {"start", "it"}, {"go", "ahead"},
	{"branche"}, {"pret"}, {"prete"}, {"demarre"}, {"demarrez"}, {"allez"}, {"vas", "y"},
	{"conectado"}, {"enchufado"}, {"listo"}, {"lista"}, {"inicie"}, {"iniciela"}, {"inicia"}, {"adelante"}, {"ya", "esta"},
}

// saysReady reports whether the driver says the cable is in or asks to
// start now.
func saysReady(text string) bool { return matchPhrases(text, readyPhrases) }

// requireIdentity asks for identity when the caller is not verified and
// reports whether the playbook may go on.
func (a *Agent) requireIdentity(ctx context.Context, s *session) (bool, error) {
	if s.verified() {
		return true, nil
	}
	return false, s.askIdentity(ctx)
}
