package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
	"github.com/chargedesk/chargedesk/policy"
)

// sessionPlaybook handles "my session won't start": a stale transaction,
// a hung controller, a failed vehicle handshake, a car schedule, a charger
// that ignores remote starts, a power fault — or nothing visible, when a
// remote start for the verified caller is the fix to try.
func (a *Agent) sessionPlaybook(ctx context.Context, s *session, v diagnose.View, cause diagnose.Cause) error {
	switch cause.Code {
	case diagnose.CodeHardwareFaultPower:
		return a.fieldService(ctx, s, fmt.Sprintf("Power fault on %s connector %d: no remote fix", s.c.ChargerID, s.c.ConnectorID), keyHardwareFault)
	case diagnose.CodeVehicleSchedule:
		// The charger works; the car refuses energy. No reset, no ticket.
		s.ask(askSchedule, keyVehicleSchedule)
		return nil
	}
	if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
		return err
	}
	if cause.Code != diagnose.CodeStaleTransaction {
		// A live session of someone else holds the connector: nothing the
		// caller asks may touch it.
		mine := a.driverTags(ctx, s.c.DriverID)
		for _, tx := range v.Active {
			if tx.ConnectorID == s.c.ConnectorID && !mine[tx.IDTag] {
				return a.someoneElses(ctx, s, tx)
			}
		}
	}
	switch cause.Code {
	case diagnose.CodeHandshakeTimeout:
		s.ask(askReplug, keyReplug)
		return nil
	case diagnose.CodeStaleTransaction:
		return a.stopStaleThenStart(ctx, s, v)
	case diagnose.CodeControllerHung:
		return a.resetThenStart(ctx, s)
	}
	return a.startSession(ctx, s, true)
}

// stopStaleThenStart ends the stale transaction that holds the connector,
// then starts the caller's session.
func (a *Agent) stopStaleThenStart(ctx context.Context, s *session, v diagnose.View) error {
	mine := a.driverTags(ctx, s.c.DriverID)
	var stale *chargedesk.Transaction
	for _, tx := range v.Active {
		if tx.ConnectorID == s.c.ConnectorID && !mine[tx.IDTag] {
			stale = tx
		}
	}
	if stale == nil {
		return a.startSession(ctx, s, true)
	}
	// Propose only a stop the policy would allow: another driver's session
	// that does not look like a leftover yet is for people to judge.
	ch := v.Charger
	if ch != nil && !policy.Stale(ch, stale, a.now(), policy.DefaultStaleAfter) {
		var err error
		if ch, stale, err = a.freshReading(ctx, s, stale); err != nil {
			return err
		}
		if stale == nil {
			return a.startSession(ctx, s, true) // it ended meanwhile
		}
		if !policy.Stale(ch, stale, a.now(), policy.DefaultStaleAfter) {
			return a.humanHandoff(ctx, s, fmt.Sprintf("transaction %s of another card holds connector %d and does not look stale yet", stale.ID, s.c.ConnectorID))
		}
	}
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: stale.ID},
		"stale transaction "+stale.ID+" holds the connector")
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultAccepted:
	case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
		return a.commDrop(ctx, s)
	default:
		// The policy or the charger would not end it: it may be a live
		// session after all. People decide.
		return a.humanHandoff(ctx, s, fmt.Sprintf("transaction %s blocks connector %d and could not be ended (%s %s)", stale.ID, s.c.ConnectorID, res.Status, res.Detail))
	}
	stopped, err := a.waitStopped(ctx, s.c.ChargerID, stale.ID)
	if err != nil {
		return err
	}
	if !stopped {
		return a.fieldService(ctx, s, fmt.Sprintf("Transaction %s on %s did not end after a remote stop", stale.ID, s.c.ChargerID), keyCouldNotFix)
	}
	return a.startSession(ctx, s, true)
}

// freshReading asks the charger, once, for the current state and meter
// reading of a transaction that claims to charge while no energy has been
// recorded for a while — a 2.0.1 charger that forgot to end a transaction
// keeps its last chargingState, and only a fresh, flat register shows it
// delivers nothing. It returns the charger and the transaction as stored
// afterwards (the transaction nil if it ended meanwhile), or as they were
// when no reading was due or none came.
func (a *Agent) freshReading(ctx context.Context, s *session, tx *chargedesk.Transaction) (*chargedesk.Charger, *chargedesk.Transaction, error) {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: charger: %w", err)
	}
	if tx.ChargingState != "Charging" || a.now().Sub(tx.EnergyRoseAt()) < policy.DefaultStaleAfter || s.try("fresh_reading") > 0 {
		return ch, tx, nil
	}
	t0 := a.now()
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: tx.ConnectorID, Trigger: "TransactionEvent"},
		fmt.Sprintf("transaction %s claims to charge but no energy is recorded since %s: read its meter", tx.ID, tx.EnergyRoseAt().UTC().Format(time.RFC3339)))
	if err != nil || res.Status != chargedesk.ResultAccepted {
		return ch, tx, err
	}
	cur := tx
	if _, err := a.waitOK(ctx, tx.ChargerID, a.verify, func() (bool, error) {
		got, err := a.store.Transaction(ctx, tx.ChargerID, tx.ID)
		if err != nil {
			return false, err
		}
		cur = got
		return !got.Active() || got.UpdatedAt.After(t0), nil
	}); err != nil {
		return nil, nil, err
	}
	if ch, err = a.store.Charger(ctx, s.c.ChargerID); err != nil {
		return nil, nil, fmt.Errorf("agent: charger: %w", err)
	}
	if !cur.Active() {
		return ch, nil, nil
	}
	return ch, cur, nil
}

// usableToken returns the caller's token that the backend accepts now, or
// nil.
func (a *Agent) usableToken(ctx context.Context, s *session) (*chargedesk.Token, error) {
	toks, err := a.usableTokens(ctx, s)
	if err != nil || len(toks) == 0 {
		return nil, err
	}
	return toks[0], nil
}

// usableTokens returns the caller's tokens the backend accepts, those an
// OCPP 1.6 charger can hold (20 characters at most) first.
func (a *Agent) usableTokens(ctx context.Context, s *session) ([]*chargedesk.Token, error) {
	toks, err := a.store.Tokens(ctx, chargedesk.TokenFilter{DriverID: s.c.DriverID, Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("agent: tokens: %w", err)
	}
	now := a.now()
	var short, long []*chargedesk.Token
	for _, t := range toks {
		switch {
		case t.Verdict(now) != chargedesk.AuthAccepted:
		case len(t.IDTag) <= 20:
			short = append(short, t)
		default:
			long = append(long, t)
		}
	}
	return append(short, long...), nil
}

// startSession starts the caller's session remotely with their own valid
// token and verifies it on the charger: a new transaction with that token
// on the connector. Nothing is sent, and so nothing judged, until the
// charger shows a cable in the connector (cableIn). When the charger
// accepts but never starts, and allowReset is set, it soft-resets once and
// tries again (remote start ignored); otherwise a ticket goes to field
// service.
func (a *Agent) startSession(ctx context.Context, s *session, allowReset bool) error {
	if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
		return err
	}
	if pay, err := a.needsPayment(ctx, s); err != nil {
		return err
	} else if pay {
		// Never an unpaid session: the payment playbook authorizes first
		// (or releases stray holds, or offers a pay link).
		return a.paymentPlaybook(ctx, s, "")
	}
	tok, err := a.usableToken(ctx, s)
	if err != nil {
		return err
	}
	if tok == nil {
		return a.tokenProblem(ctx, s)
	}
	if tx, err := a.ownActive(ctx, s); err != nil {
		return err
	} else if tx != nil {
		// Already started (a charger that waited for the cable, or the
		// driver's own tap): nothing to send.
		s.resolved()
		s.say(keyCharging, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
		return nil
	}
	if in, err := a.cableIn(ctx, s); err != nil || !in {
		return err
	}
	if s.d.wordsWeak() && !s.d.Paid && !s.d.StartOK {
		// The driver's words did not say they want a charge started (the
		// charger's data suggested it): ask before sending anything.
		s.ask(askStartOK, keyAskStartOK, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
		return nil
	}
	before, err := a.cardTxIDs(ctx, s.c.ChargerID, tok.IDTag)
	if err != nil {
		return err
	}
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: s.c.ConnectorID, IDTag: tok.IDTag},
		"start the verified caller's session")
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultAccepted:
		tx, err := a.waitStarted(ctx, s, tok.IDTag, before)
		var refused refusedStartError
		if errors.As(err, &refused) {
			// Nothing wrong with the charger: the card is in a session
			// elsewhere. No reset, no ticket; the driver is told.
			s.d.Evidence = append(s.d.Evidence, "remote start refused by the central system: "+string(refused.status))
			s.c.Status = chargedesk.ConversationOpen
			s.ask(askCardFreed, keyCardInUse)
			return nil
		}
		if err != nil {
			return err
		}
		if tx != nil {
			s.resolved()
			s.say(keyCharging, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
			return nil
		}
		// Accepted is not started: the charger's own messages decide.
		s.d.Evidence = append(s.d.Evidence, fmt.Sprintf("remote start accepted but no transaction started within %s", a.verify))
		if k, err := a.connector(ctx, s); err != nil {
			return err
		} else if k != nil && k.Status == chargedesk.StatusAvailable && s.try("plug_in") == 0 {
			// The cable came out since the start was sent: the driver
			// plugs in again; nothing is reset for that.
			s.ask(askPlugIn, keyPlugIn, s.c.ConnectorID)
			return nil
		}
		if allowReset && s.try("replug") == 0 && a.localStartFailed(ctx, s) {
			// The caller's card was accepted at the charger and nothing
			// started either: the car did not answer the charger (a
			// vehicle handshake). Re-seating the plug is the cheap fix;
			// 2.0.1 chargers do not report it otherwise.
			s.d.Cause = diagnose.CodeHandshakeTimeout
			s.ask(askReplug, keyReplug)
			return nil
		}
		s.d.Cause = diagnose.CodeRemoteStartIgnored
		if allowReset {
			return a.resetThenStart(ctx, s)
		}
		return a.fieldService(ctx, s, fmt.Sprintf("%s accepts remote starts but never starts a transaction", s.c.ChargerID), keyCouldNotFix)
	case chargedesk.ResultRejected:
		k, err := a.connector(ctx, s)
		if err != nil {
			return err
		}
		if k != nil && k.Status == chargedesk.StatusAvailable && s.try("plug_in") == 0 {
			s.ask(askPlugIn, keyPlugIn, s.c.ConnectorID)
			return nil
		}
		if k != nil && k.Status != chargedesk.StatusAvailable && allowReset {
			// A cable in and starts refused: a hung controller.
			s.d.Cause = diagnose.CodeControllerHung
			return a.resetThenStart(ctx, s)
		}
		return a.fieldService(ctx, s, fmt.Sprintf("%s connector %d rejects remote starts", s.c.ChargerID, s.c.ConnectorID), keyCouldNotFix)
	case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
		return a.commDrop(ctx, s)
	case chargedesk.ResultRefused:
		return a.humanHandoff(ctx, s, "the policy refused a remote start: "+res.Detail)
	}
	return a.fieldService(ctx, s, fmt.Sprintf("remote start on %s answered %s", s.c.ChargerID, res.Status), keyCouldNotFix)
}

// cableIn reports whether the charger shows a cable in the conversation's
// connector: only then is a remote start sent and judged. A connector
// that shows Available has none, and the driver is asked to plug in.
// When they answer that it is in and the stored status still shows none,
// a fresh status report from the charger decides; after the third answer
// with no cable seen, people take over. When it reports false, the
// driver has been answered.
func (a *Agent) cableIn(ctx context.Context, s *session) (bool, error) {
	k, err := a.connector(ctx, s)
	if err != nil {
		return false, err
	}
	if k == nil || k.Status != chargedesk.StatusAvailable {
		return true, nil
	}
	asked := s.try("plug_in")
	if asked > 0 {
		t0 := a.now()
		res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: s.c.ConnectorID, Trigger: "StatusNotification"},
			"the driver says the cable is in; the last status shows none")
		if err != nil {
			return false, err
		}
		switch res.Status {
		case chargedesk.ResultAccepted:
			k, fresh, err := a.waitStatus(ctx, s, t0, func(chargedesk.Connector) bool { return true })
			if err != nil {
				return false, err
			}
			if fresh && k.Status != chargedesk.StatusAvailable {
				return true, nil
			}
		case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
			return false, a.commDrop(ctx, s)
		}
	}
	if ev := fmt.Sprintf("connector %d shows no cable (Available)", s.c.ConnectorID); !slices.Contains(s.d.Evidence, ev) {
		s.d.Evidence = append(s.d.Evidence, ev)
	}
	if asked >= 2 {
		return false, a.humanHandoff(ctx, s, fmt.Sprintf("the driver says the cable is in, but %s connector %d reports none", s.c.ChargerID, s.c.ConnectorID))
	}
	if asked > 0 {
		// The driver said it is in; the charger, asked just now, says
		// not: they hear what the charger sees, not the same request.
		s.ask(askPlugIn, keyNoCableSeen, s.c.ConnectorID, s.c.ChargerID)
		return false, nil
	}
	s.ask(askPlugIn, keyPlugIn, s.c.ConnectorID)
	return false, nil
}

// resetThenStart soft-resets the charger once, waits for it to boot and
// report its connector, then starts the caller's session — or, when the
// booted charger shows no cable, asks the driver to plug in.
func (a *Agent) resetThenStart(ctx context.Context, s *session) error {
	if s.try("reset") > 0 {
		return a.fieldService(ctx, s, fmt.Sprintf("%s still fails after a soft reset", s.c.ChargerID), keyCouldNotFix)
	}
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: charger: %w", err)
	}
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft}, "soft reset: "+s.d.Cause)
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultAccepted, chargedesk.ResultScheduled:
	case chargedesk.ResultChargerOffline:
		// The charger may drop its socket right after answering; its boot
		// decides below.
	case chargedesk.ResultRefused:
		return a.humanHandoff(ctx, s, "the policy refused a soft reset: "+res.Detail)
	default:
		return a.fieldService(ctx, s, fmt.Sprintf("%s answered %s to a soft reset", s.c.ChargerID, res.Status), keyCouldNotFix)
	}
	booted, err := a.waitBoot(ctx, s, ch.LastBootAt)
	if err != nil {
		return err
	}
	if !booted {
		return a.fieldService(ctx, s, fmt.Sprintf("%s did not come back within %s of a soft reset", s.c.ChargerID, a.verify), keyCouldNotFix)
	}
	return a.startSession(ctx, s, false)
}

// checkScheduleCleared checks, after the driver changed the car's
// settings, whether energy flows.
func (a *Agent) checkScheduleCleared(ctx context.Context, s *session) error {
	ok, err := a.waitOK(ctx, s.c.ChargerID, a.verify, func() (bool, error) { return a.charging(ctx, s) })
	if err != nil {
		return err
	}
	if ok {
		s.resolved()
		s.say(keyChargingResumed, s.c.ConnectorID)
		return nil
	}
	s.ask(askSchedule, keyStillSuspended)
	return nil
}

// charging reports whether energy flows on the conversation's connector:
// 1.6 status Charging, or a 2.0.1 transaction in chargingState Charging.
func (a *Agent) charging(ctx context.Context, s *session) (bool, error) {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return false, err
	}
	k := ch.Connector(s.c.ConnectorID)
	if k == nil {
		return false, nil
	}
	if k.Status == chargedesk.StatusCharging {
		return true, nil
	}
	if k.Status != chargedesk.StatusOccupied {
		return false, nil
	}
	txs, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: s.c.ChargerID, ActiveOnly: true})
	if err != nil {
		return false, err
	}
	for _, tx := range txs {
		if tx.ConnectorID == s.c.ConnectorID && tx.ChargingState == "Charging" {
			return true, nil
		}
	}
	return false, nil
}

// connector returns the conversation's connector as stored now, or nil.
func (a *Agent) connector(ctx context.Context, s *session) (*chargedesk.Connector, error) {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return nil, fmt.Errorf("agent: charger: %w", err)
	}
	return ch.Connector(s.c.ConnectorID), nil
}

// fieldService opens a field-service ticket, tells the driver (key with
// the ticket id) and sends them to the nearest alternative.
func (a *Agent) fieldService(ctx context.Context, s *session, summary, key string) error {
	t, err := a.openTicket(ctx, s, TicketFieldService, summary, nil)
	if err != nil {
		return err
	}
	s.escalated()
	s.say(key, t.ID)
	return a.sendToNearest(ctx, s)
}

// siteName names the charger's site for the driver, or the charger id.
func (a *Agent) siteName(ctx context.Context, chargerID string) string {
	if st := a.siteOf(ctx, chargerID); st != nil {
		return st.Name
	}
	return chargerID
}

// localStartFailed reports whether the charger accepted one of the
// caller's cards recently (an Authorize) without a transaction following.
func (a *Agent) localStartFailed(ctx context.Context, s *session) bool {
	evs, err := a.store.RecentEvents(ctx, s.c.ChargerID, 200)
	if err != nil {
		return false
	}
	tags := a.driverTags(ctx, s.c.DriverID)
	since := a.now().Add(-diagnose.AuthorizeWindow)
	for _, ev := range evs {
		if ev.At.Before(since) {
			break
		}
		if ev.Type != "CALL" || ev.Action != "Authorize" {
			continue
		}
		var p struct {
			IDTag   string `json:"idTag"`
			IDToken struct {
				IDToken string `json:"idToken"`
			} `json:"idToken"`
		}
		if json.Unmarshal(ev.Payload, &p) == nil && (tags[p.IDTag] || tags[p.IDToken.IDToken]) {
			return true
		}
	}
	return false
}
