package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
	"github.com/chargedesk/chargedesk/payments"
)

// preAuthCents is the pre-authorization hold taken before a session.
const preAuthCents = 3000

// paymentPlaybook handles payment authorization failures: retry a
// transient decline once, re-sync an account whose new card is only in the
// app, release holds that belong to no session, and for an expired card or
// a hard decline explain (which card, why) and offer a pay-by-link with the
// driver's consent. No session starts before a payment is authorized.
func (a *Agent) paymentPlaybook(ctx context.Context, s *session, code string) error {
	if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
		return err
	}
	if s.d.Paid {
		return a.startAfterPayment(ctx, s)
	}
	acct, err := a.paymentAccount(ctx, s)
	if err != nil {
		return err
	}
	if acct == "" {
		return a.billingTicket(ctx, s, "Driver reports a payment failure; no payment account or processor to check")
	}
	ms, err := a.pay.Methods(ctx, acct)
	if err != nil {
		return a.payUnavailable(ctx, s, err)
	}
	last, err := a.pay.LastAuthorization(ctx, acct)
	if err != nil && !notFound(err) {
		return a.payUnavailable(ctx, s, err)
	}
	holds, err := a.pay.Holds(ctx, acct, payments.HoldPending)
	if err != nil {
		return a.payUnavailable(ctx, s, err)
	}
	if code == "" {
		code = paymentCause(s, ms, last, holds, a)
	}
	s.d.Cause = code
	switch code {
	case diagnose.CodeDuplicateHolds:
		return a.releaseHolds(ctx, s, acct, holds)
	case diagnose.CodeTransientDecline:
		if s.try("auth_retry") == 0 {
			return a.authorizeThenStart(ctx, s, acct, "", "retry after a transient decline")
		}
	case diagnose.CodeAppSyncDelay:
		changed, ok, err := a.syncAccount(ctx, s, acct)
		if !ok || err != nil {
			return err
		}
		if changed != "" {
			return a.authorizeThenStart(ctx, s, acct, changed, "after re-syncing the account")
		}
		// Nothing new came in: the card that failed is not tried again.
	case "":
		// Nothing wrong on the account: authorize now, which either works
		// (then start) or shows the decline.
		return a.authorizeThenStart(ctx, s, acct, "", "no payment fault visible")
	}
	// card_expired, hard_decline, a repeated transient decline: the card
	// cannot pay. Say which card and why, and offer a pay link.
	last4, why := "", ""
	if last != nil {
		last4 = last.Last4
		if last.Decline != nil {
			why = last.Decline.Code
		}
	}
	if last4 == "" {
		for _, m := range ms {
			if m.Default {
				last4 = m.Last4
			}
		}
	}
	s.d.Methods = ms
	if code == diagnose.CodeCardExpired {
		s.say(keyCardExpired, orDash(last4))
	} else {
		s.say(keyHardDecline, orDash(last4), say(s.c.Language, declineReason(why)))
	}
	s.ask(askPayConsent, keyOfferPayLink)
	return nil
}

// paymentCause reads the payment fault from the account's state when the
// diagnosis did not name one.
func paymentCause(s *session, ms []payments.Method, last *payments.Authorization, holds []payments.Hold, a *Agent) string {
	if len(payments.HoldsWithoutSession(holds)) > 0 && (last == nil || last.Approved || s.c.Category == chargedesk.CategoryBillingDispute) {
		return diagnose.CodeDuplicateHolds
	}
	for _, m := range ms {
		if !m.Synced {
			return diagnose.CodeAppSyncDelay
		}
	}
	if last != nil && !last.Approved && last.Decline != nil {
		switch {
		case last.Decline.Transient:
			return diagnose.CodeTransientDecline
		case last.Decline.Code == payments.DeclineExpiredCard:
			return diagnose.CodeCardExpired
		default:
			return diagnose.CodeHardDecline
		}
	}
	for _, m := range ms {
		if m.Default && m.Expired(a.now()) {
			return diagnose.CodeCardExpired
		}
	}
	if len(payments.HoldsWithoutSession(holds)) > 0 {
		return diagnose.CodeDuplicateHolds
	}
	return ""
}

// paymentAccount returns the caller's payment account id, or "".
func (a *Agent) paymentAccount(ctx context.Context, s *session) (string, error) {
	if a.pay == nil {
		return "", nil
	}
	d, err := a.store.Driver(ctx, s.c.DriverID)
	if err != nil {
		return "", fmt.Errorf("agent: driver: %w", err)
	}
	return d.PaymentAccountID, nil
}

// authorizeThenStart takes a pre-authorization hold (a new attempt, never
// a replay) and, once approved, starts the session.
func (a *Agent) authorizeThenStart(ctx context.Context, s *session, acct, methodID, why string) error {
	if s.try("authorize") >= maxAuthPerConversation {
		return a.billingTicket(ctx, s, fmt.Sprintf("payment still failing after %d authorization attempts in this conversation", maxAuthPerConversation))
	}
	n, err := a.paymentActions(ctx, acct, payAuthorize)
	if err != nil {
		return err
	}
	if n >= maxAuthPerAccount {
		return a.billingTicket(ctx, s, fmt.Sprintf("the agent already tried %d authorizations on this account in %s", n, payWindow))
	}
	var res *payments.AuthResult
	ok, err := a.payGate(ctx, s, payAuthorize, acct, why, func() (string, error) {
		var err error
		res, err = a.pay.Authorize(ctx, payments.AuthRequest{AccountID: acct, MethodID: methodID, AmountCents: preAuthCents,
			IdempotencyKey: newID("auth")})
		switch {
		case err != nil:
			return "", err
		case res.Approved:
			return "approved", nil
		case res.Decline != nil:
			return "declined " + res.Decline.Code, nil
		}
		return "declined", nil
	})
	if !ok {
		return err
	}
	if err != nil {
		if chargedesk.ErrorCode(err) == chargedesk.ECONFLICT {
			s.say(keyCardNotUsable)
			s.ask(askPayConsent, keyOfferPayLink)
			return nil
		}
		return a.payUnavailable(ctx, s, err)
	}
	status := "approved"
	if !res.Approved {
		status = "declined"
		if res.Decline != nil {
			status += " " + res.Decline.Code
		}
	}
	if err := s.record(ctx, Action{Kind: "authorize", Status: status, Detail: why + ", card ending " + res.Last4},
		map[string]any{"approved": res.Approved, "last4": res.Last4, "decline": res.Decline}); err != nil {
		return err
	}
	if !res.Approved {
		if res.Decline != nil && res.Decline.Code == payments.DeclineExpiredCard {
			s.d.Cause = diagnose.CodeCardExpired
			s.say(keyCardExpired, res.Last4)
		} else {
			s.d.Cause = diagnose.CodeHardDecline
			code := ""
			if res.Decline != nil {
				code = res.Decline.Code
			}
			s.say(keyHardDecline, res.Last4, say(s.c.Language, declineReason(code)))
		}
		s.ask(askPayConsent, keyOfferPayLink)
		return nil
	}
	s.d.Paid = true
	s.say(keyPaymentOK, res.Last4)
	return a.startAfterPayment(ctx, s)
}

// startAfterPayment starts the session once a payment is authorized, or
// asks for the charger.
func (a *Agent) startAfterPayment(ctx context.Context, s *session) error {
	if s.c.ChargerID == "" {
		return s.askCharger(ctx)
	}
	if s.c.ConnectorID == 0 {
		ch, err := a.store.Charger(ctx, s.c.ChargerID)
		if err != nil {
			return fmt.Errorf("agent: charger: %w", err)
		}
		if s.c.ConnectorID = a.guessConnector(ctx, s, ch); s.c.ConnectorID == 0 {
			s.ask(askConnector, keyAskConnector, ch.ID, len(realConnectors(ch)))
			return nil
		}
	}
	return a.startSession(ctx, s, true)
}

// releaseHolds gives back the pending holds that belong to no session,
// never a live session's, and verifies on the processor that they are gone.
func (a *Agent) releaseHolds(ctx context.Context, s *session, acct string, holds []payments.Hold) error {
	free := payments.HoldsWithoutSession(holds)
	var total int64
	var cur payments.Currency
	for _, h := range free {
		var got *payments.Hold
		ok, err := a.payGate(ctx, s, payReleaseHold, acct, "hold "+h.ID+" belongs to no session", func() (string, error) {
			var err error
			if got, err = a.pay.Release(ctx, h.ID); err != nil {
				return "", err
			}
			return string(got.Status), nil
		})
		if !ok {
			return err
		}
		if err != nil {
			return a.payUnavailable(ctx, s, err)
		}
		total += h.AmountCents
		cur = h.Currency
		if err := s.record(ctx, Action{Kind: "release_hold", Status: string(got.Status), Detail: h.ID}, got); err != nil {
			return err
		}
	}
	left, err := a.pay.Holds(ctx, acct, payments.HoldPending)
	if err != nil {
		return a.payUnavailable(ctx, s, err)
	}
	if n := len(payments.HoldsWithoutSession(left)); n > 0 {
		return a.billingTicket(ctx, s, fmt.Sprintf("%d holds without a session could not be released", n))
	}
	s.resolved()
	s.say(keyHoldsReleased, len(free), fmt.Sprintf("%.2f %s", float64(total)/100, cur))
	return nil
}

// paymentFollowUp handles the driver's answer to the pay-link offer and
// the payment of the link.
func (a *Agent) paymentFollowUp(ctx context.Context, s *session) error {
	acct, err := a.paymentAccount(ctx, s)
	if err != nil || acct == "" {
		return err
	}
	if s.d.Ask == askPaid {
		l, err := a.pay.PayLink(ctx, s.d.PayLinkID)
		if err != nil {
			return a.payUnavailable(ctx, s, err)
		}
		if !l.Paid {
			s.ask(askPaid, keyNotPaidYet)
			return nil
		}
		s.d.Paid = true
		s.d.Ask, s.d.Asked = "", 0
		s.say(keyPayLinkPaid)
		return a.startAfterPayment(ctx, s)
	}
	if updatedCard(s.text) {
		s.d.Ask, s.d.Asked = "", 0
		changed, ok, err := a.syncAccount(ctx, s, acct)
		if !ok || err != nil {
			return err
		}
		if changed == "" {
			// A hard decline is never retried on the same card: only a
			// new or changed method is worth another authorization.
			s.say(keyNewCardNotSeen)
			s.ask(askPayConsent, keyOfferPayLink)
			return nil
		}
		return a.authorizeThenStart(ctx, s, acct, changed, "after the driver updated the card")
	}
	switch yesNo(s.text) {
	case 1:
		var l *payments.PayLink
		ok, err := a.payGate(ctx, s, payLink, acct, "the driver agreed to receive a pay link", func() (string, error) {
			var err error
			if l, err = a.pay.CreatePayLink(ctx, acct, preAuthCents, ""); err != nil {
				return "", err
			}
			return "sent " + l.ID, nil
		})
		if !ok {
			return err
		}
		if err != nil {
			return a.payUnavailable(ctx, s, err)
		}
		s.d.PayLinkID, s.d.ConsentAt = l.ID, a.now()
		if err := s.record(ctx, Action{Kind: "pay_link", Status: "sent", Detail: l.ID},
			map[string]any{"payLinkId": l.ID, "consent": true, "consentAt": s.d.ConsentAt, "channel": s.c.Channel, "to": s.c.From}); err != nil {
			return err
		}
		s.ask(askPaid, keyPayLinkSent, l.URL)
	case -1:
		s.d.Ask, s.d.Asked = "", 0
		s.c.State = stateWaiting
		s.say(keyPayAlternatives)
	default:
		s.ask(askPayConsent, keyOfferPayLink)
	}
	return nil
}

// Payment action kinds, as audited.
const (
	payAuthorize   = "payment.authorize"
	payReleaseHold = "payment.release_hold"
	paySync        = "payment.sync_account"
	payLink        = "payment.pay_link"
)

// Payment limits: authorizations the agent tries per conversation, and
// per account within payWindow across conversations.
const (
	maxAuthPerConversation = 2
	maxAuthPerAccount      = 3
	payWindow              = 24 * time.Hour
)

// payKey is the audit CommandID of an account's payment actions.
func payKey(acct string) string { return "payment:" + acct }

// payGate runs one payment action of the agent: refused while the kill
// switch is off (the audit records the refusal and a person takes the
// case), otherwise recorded in the audit log before (the decision) and
// after (the outcome). It reports whether the action ran; err is the
// action's error, or the handoff's when it did not run.
func (a *Agent) payGate(ctx context.Context, s *session, kind, acct, why string, do func() (string, error)) (bool, error) {
	actx := context.WithoutCancel(ctx)
	id := newID("pay")
	detail, _ := json.Marshal(map[string]string{"action": id, "account": acct, "conversation": s.c.ID})
	entry := func(stage string, allowed bool, outcome, reason string) error {
		e := &chargedesk.AuditEntry{At: a.now(), Actor: chargedesk.AgentActorPrefix + s.c.ID, CommandID: payKey(acct), Kind: kind,
			Stage: stage, Allowed: allowed, Outcome: outcome, Reason: reason, Detail: detail}
		if err := a.store.AppendAudit(actx, e); err != nil {
			return fmt.Errorf("agent: audit %s: %w", kind, err)
		}
		return nil
	}
	if !a.on() {
		if err := entry(chargedesk.AuditDecision, false, "", "the support agent is switched off"); err != nil {
			return false, err
		}
		t, err := a.openTicket(ctx, s, TicketBilling, "payment action "+kind+" not taken: the support agent is switched off", nil)
		if err != nil {
			return false, err
		}
		s.escalated()
		s.say(keyAgentPaused, t.ID)
		return false, nil
	}
	if err := entry(chargedesk.AuditDecision, true, "", why); err != nil {
		return false, err
	}
	out, err := do()
	if err != nil {
		out = "error: " + chargedesk.ErrorMessage(err)
	}
	if aerr := entry(chargedesk.AuditOutcome, true, out, why); aerr != nil && err == nil {
		err = aerr
	}
	return true, err
}

// paymentActions counts the agent's allowed payment actions of a kind on
// an account within payWindow.
func (a *Agent) paymentActions(ctx context.Context, acct, kind string) (int, error) {
	since := a.now().Add(-payWindow)
	n := 0
	var after int64
	for {
		es, err := a.store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: payKey(acct), AfterSeq: after, Limit: 1000})
		if err != nil {
			return 0, fmt.Errorf("agent: read payment actions: %w", err)
		}
		for _, e := range es {
			if e.Kind == kind && e.Stage == chargedesk.AuditDecision && e.Allowed && e.At.After(since) {
				n++
			}
		}
		if len(es) < 1000 {
			return n, nil
		}
		after = es[len(es)-1].Seq
	}
}

// syncAccount pulls the cards added in the app and reports whether the
// account now has a new or changed payment method. ok is false when the
// sync did not run (kill switch, processor down: the case went to people).
func (a *Agent) syncAccount(ctx context.Context, s *session, acct string) (changed string, ok bool, err error) {
	before, err := a.pay.Methods(ctx, acct)
	if err != nil {
		return "", false, a.payUnavailable(ctx, s, err)
	}
	if s.d.Methods != nil {
		// Compare with the methods seen when the card failed: a card added
		// since then is new too.
		before = s.d.Methods
	}
	var synced []payments.Method
	ran, err := a.payGate(ctx, s, paySync, acct, "pull cards added in the app", func() (string, error) {
		var err error
		if synced, err = a.pay.SyncAccount(ctx, acct); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d synced", len(synced)), nil
	})
	if !ran {
		return "", false, err
	}
	if err != nil {
		return "", false, a.payUnavailable(ctx, s, err)
	}
	if err := s.record(ctx, Action{Kind: "sync_account", Status: fmt.Sprintf("%d synced", len(synced))}, synced); err != nil {
		return "", false, err
	}
	after, err := a.pay.Methods(ctx, acct)
	if err != nil {
		return "", false, a.payUnavailable(ctx, s, err)
	}
	s.d.Methods = after
	return methodsChanged(before, after), true, nil
}

// methodsChanged returns the id of the newest usable method of after that
// before did not have as it is now (new, newly synced, or with another
// number or expiry), or "".
func methodsChanged(before, after []payments.Method) string {
	old := map[string]payments.Method{}
	for _, m := range before {
		old[m.ID] = m
	}
	id := ""
	for _, m := range after {
		if !m.Synced {
			continue
		}
		o, ok := old[m.ID]
		if !ok || o.Last4 != m.Last4 || o.ExpMonth != m.ExpMonth || o.ExpYear != m.ExpYear || !o.Synced {
			id = m.ID
		}
	}
	return id
}

// payUnavailable tells the driver the payment system cannot be reached and
// routes to billing.
func (a *Agent) payUnavailable(ctx context.Context, s *session, err error) error {
	a.log.WarnContext(ctx, "payments", "conversation_id", s.c.ID, "err", err)
	return a.billingTicket(ctx, s, "payments processor error: "+chargedesk.ErrorMessage(err))
}

// billingTicket opens a billing ticket and tells the driver.
func (a *Agent) billingTicket(ctx context.Context, s *session, summary string) error {
	t, err := a.openTicket(ctx, s, TicketBilling, summary, nil)
	if err != nil {
		return err
	}
	s.escalated()
	s.say(keyBillingTicket, t.ID)
	return nil
}

// holdsPhrases are the words of a driver who sees several pending charges
// on their card: stray pre-authorization holds, not a charging fault.
var holdsPhrases = [][]string{
	{"pending", "charges"}, {"pending", "charge"}, {"pending", "holds"}, {"several", "charges"}, {"multiple", "charges"},
	{"charged", "multiple", "times"}, {"charged", "several", "times"}, {"holds", "on", "my", "card"},
	{"cargos", "pendientes"}, {"varios", "cargos"}, {"retenciones"}, {"cobraron", "varias", "veces"},
	{"frais", "en", "attente"}, {"montants", "en", "attente"}, {"plusieurs", "montants"}, {"facture", "plusieurs", "fois"},
	{"prelevements", "en", "attente"},
}

// holdsComplaint reports whether the driver describes several pending
// charges or holds on their card.
func holdsComplaint(text string) bool { return matchPhrases(text, holdsPhrases) }

// noteHolds files a complaint about several pending charges under payment
// failures, whatever the message's category read as: the payment playbook
// releases the holds that belong to no session. A billing dispute keeps
// its own route, which releases such holds too.
func noteHolds(s *session) {
	if s.c.Category == chargedesk.CategoryBillingDispute || s.c.Category == chargedesk.CategoryPaymentFailure {
		return
	}
	if holdsComplaint(s.text) {
		s.setCategory(chargedesk.CategoryPaymentFailure)
	}
}

// needsPayment reports whether a remote start must wait for a payment:
// a processor is configured, the conversation is about a payment failure
// (by the driver's words or the diagnosis) or the driver's account's last
// authorization was declined, and no authorization was approved, nor pay
// link paid, in this conversation.
func (a *Agent) needsPayment(ctx context.Context, s *session) (bool, error) {
	if a.pay == nil || s.d.Paid {
		return false, nil
	}
	if s.c.Category == chargedesk.CategoryPaymentFailure {
		return true, nil
	}
	switch s.d.Cause {
	case diagnose.CodeCardExpired, diagnose.CodeTransientDecline, diagnose.CodeAppSyncDelay, diagnose.CodeDuplicateHolds,
		diagnose.CodeHardDecline:
		return true, nil
	}
	// Whatever the driver called it ("my card was refused" may mean the
	// charging card or the bank card), an account whose last payment was
	// declined gets no session until a payment goes through.
	pv, err := a.paymentView(ctx, s.c.DriverID)
	if err != nil || pv == nil {
		return false, err
	}
	// Nor does an account in the middle of a card change (a card the
	// processor does not know yet) or whose default card has expired.
	for i := range pv.Methods {
		m := &pv.Methods[i]
		if !m.Synced || m.Default && m.Expired(a.now()) {
			return true, nil
		}
	}
	return pv.LastAuthorization != nil && !pv.LastAuthorization.Approved, nil
}

// updatedCard reports whether the driver says they added or updated a card.
func updatedCard(text string) bool {
	t := fold(text)
	for _, w := range []string{"updated", "added", "new card", "ajoute", "mis a jour", "nouvelle carte", "agregue", "actualice", "nueva tarjeta"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// declineReason is the reply key that tells the driver, in their language,
// why the bank declined: a stolen-card or unknown code reads as a decline
// with no reason, as card networks require.
func declineReason(code string) string {
	switch code {
	case payments.DeclineInsufficientFunds:
		return keyDeclineFunds
	case payments.DeclineDoNotHonor:
		return keyDeclineIssuer
	case payments.DeclineProcessingError:
		return keyDeclineProcessing
	}
	return keyDeclineGeneric
}
