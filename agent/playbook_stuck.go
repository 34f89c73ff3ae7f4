package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
)

// stuckPlaybook handles "the cable is stuck": a lock left engaged after the
// session (UnlockConnector), the caller's own session still running (stop
// it after verifying them, then unlock), someone else's session (refuse and
// escalate), a lock that fails mechanically (one retry, then field
// service), a car that holds the plug (how to release it from the car).
func (a *Agent) stuckPlaybook(ctx context.Context, s *session, v diagnose.View, cause diagnose.Cause) error {
	var active *chargedesk.Transaction
	for _, tx := range v.Active {
		if tx.ConnectorID == s.c.ConnectorID {
			active = tx
		}
	}
	if active != nil {
		// Whose session it is decides everything: verify first.
		if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
			return err
		}
		if !a.driverTags(ctx, s.c.DriverID)[active.IDTag] {
			return a.someoneElses(ctx, s, active)
		}
		return a.stopOwnThenUnlock(ctx, s, active)
	}
	if cause.Code == diagnose.CodeVehicleSideLock || s.d.Unlocked {
		// The charger's side is open: more unlocks change nothing.
		s.c.Status = chargedesk.ConversationOpen
		s.ask(askCarRelease, keyVehicleLock)
		return nil
	}
	// The session ended: only the caller bound to it may release the
	// cable (someone else's car may be on the other end).
	tx, err := a.lastSession(ctx, s)
	if err != nil {
		return err
	}
	if tx == nil {
		return a.releaseUnbound(ctx, s)
	}
	if !a.bindSession(ctx, s, tx) {
		return a.bindByStartTime(ctx, s, tx)
	}
	return a.unlock(ctx, s)
}

// releaseUnbound handles a cable held by a connector with no session
// running and none on record: releasing it harms no one, as long as
// someone is there to take it out. The driver confirms they are at the
// charger, then the connector is unlocked.
func (a *Agent) releaseUnbound(ctx context.Context, s *session) error {
	if s.d.Ask == askAtCharger {
		answer := yesNo(s.text)
		if stillBroken(s.text) || s.u.Category == chargedesk.CategoryConnectorStuck && s.u.Confidence >= 0.4 {
			// "It's still stuck", or the problem told again: the driver
			// is at the charger with the cable in.
			answer = 1
		}
		switch answer {
		case 1:
			s.d.settle()
			return a.unlock(ctx, s)
		case -1:
			s.d.settle()
			s.c.Status = chargedesk.ConversationOpen
			s.say(keyAtChargerLater, s.c.ChargerID)
			return nil
		}
		if s.d.Asked >= 3 {
			return a.humanHandoff(ctx, s, fmt.Sprintf("cable stuck on %s connector %d, no session on record; the driver did not confirm being at the charger", s.c.ChargerID, s.c.ConnectorID))
		}
	}
	s.c.Status = chargedesk.ConversationOpen
	s.ask(askAtCharger, keyAskAtCharger, s.c.ChargerID, s.c.ConnectorID)
	return nil
}

// bindByStartTime asks the caller when they started charging and binds
// them to tx when the answer is within startTolerance of its start.
func (a *Agent) bindByStartTime(ctx context.Context, s *session, tx *chargedesk.Transaction) error {
	if s.d.Ask != askStartTime {
		s.ask(askStartTime, keyAskStartTime)
		return nil
	}
	given, ok := startTimeMatches(s.text, a.now(), tx.StartedAt)
	if !ok && !given && thanksOnly(s.text) {
		// "ok thanks" instead of a time: the driver is leaving; nothing
		// was released and no one needs to call them back. The question
		// stays open for when they write again.
		s.d.Asked = 0
		s.c.Status = chargedesk.ConversationOpen
		s.say(keyStartTimeLater)
		return nil
	}
	if ok {
		s.d.SessionTx = tx.ID
		if !s.verified() {
			s.c.Verified = chargedesk.VerifiedSession
		}
		s.d.Ask, s.d.Asked = "", 0
		return a.unlock(ctx, s)
	}
	if given && s.try("start_time") >= 1 || s.d.Asked >= 3 {
		return a.humanHandoff(ctx, s, fmt.Sprintf("the caller could not be bound to the last session on %s connector %d (start time did not match)", s.c.ChargerID, s.c.ConnectorID))
	}
	s.ask(askStartTime, keyAskStartTime)
	return nil
}

// someoneElses refuses to touch another driver's live session and hands
// the case to a person.
func (a *Agent) someoneElses(ctx context.Context, s *session, tx *chargedesk.Transaction) error {
	t, err := a.openTicket(ctx, s, TicketHumanReview,
		fmt.Sprintf("Driver asks to free %s connector %d, which runs another driver's session %s", s.c.ChargerID, s.c.ConnectorID, tx.ID),
		map[string]any{"transactionId": tx.ID, "startedAt": tx.StartedAt, "idTag": tx.IDTag})
	if err != nil {
		return err
	}
	s.escalated()
	s.say(keySomeoneElses, t.ID)
	return nil
}

// stopOwnThenUnlock ends the verified caller's own session, waits for the
// charger to report it ended, then unlocks.
func (a *Agent) stopOwnThenUnlock(ctx context.Context, s *session, tx *chargedesk.Transaction) error {
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: tx.ID}, "the verified caller's own session, to free the cable")
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultAccepted:
	case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
		return a.commDrop(ctx, s)
	case chargedesk.ResultRefused:
		return a.humanHandoff(ctx, s, "the policy refused to stop the caller's session: "+res.Detail)
	default:
		return a.fieldService(ctx, s, fmt.Sprintf("%s answered %s to stopping session %s", s.c.ChargerID, res.Status, tx.ID), keyCouldNotFix)
	}
	stopped, err := a.waitStopped(ctx, s.c.ChargerID, tx.ID)
	if err != nil {
		return err
	}
	if !stopped {
		return a.fieldService(ctx, s, fmt.Sprintf("session %s on %s did not end after a remote stop", tx.ID, s.c.ChargerID), keyCouldNotFix)
	}
	s.say(keySessionStopped)
	return a.unlock(ctx, s)
}

// unlock sends UnlockConnector, retrying once at most, and opens a field
// service ticket when the lock fails twice.
func (a *Agent) unlock(ctx context.Context, s *session) error {
	for {
		if s.try("unlock") >= 2 {
			return a.fieldService(ctx, s, fmt.Sprintf("Lock of %s connector %d fails: UnlockFailed twice", s.c.ChargerID, s.c.ConnectorID), keyLockBroken)
		}
		res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: s.c.ConnectorID}, "release the driver's cable")
		if err != nil {
			return err
		}
		switch res.Status {
		case chargedesk.ResultUnlocked:
			s.d.Unlocked = true
			s.resolved()
			s.d.Ask = askUnplugged
			s.say(keyUnlocked, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
			return nil
		case chargedesk.ResultUnlockFailed:
			s.d.Cause = diagnose.CodeLockMechanical
			continue
		case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
			return a.commDrop(ctx, s)
		case chargedesk.ResultRefused, chargedesk.ResultOngoingAuthorizedTransaction:
			return a.humanHandoff(ctx, s, fmt.Sprintf("unlock of %s connector %d not possible: %s %s", s.c.ChargerID, s.c.ConnectorID, res.Status, res.Detail))
		default:
			return a.fieldService(ctx, s, fmt.Sprintf("%s answered %s to UnlockConnector", s.c.ChargerID, res.Status), keyLockBroken)
		}
	}
}

// checkCableOut follows up after an unlock: the cable is out (status
// Available), or the car still holds it (tell how to release it from the
// car; never unlock again).
func (a *Agent) checkCableOut(ctx context.Context, s *session) error {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: charger: %w", err)
	}
	k := ch.Connector(s.c.ConnectorID)
	if k != nil && k.Status == chargedesk.StatusAvailable {
		s.resolved()
		s.say(keyCableOut)
		return nil
	}
	if s.d.Unlocked && thanksOnly(s.text) {
		// "ok thanks" after the unlock and the car's release steps: the
		// driver is leaving content, not reporting the cable still stuck.
		s.prev = chargedesk.ConversationResolved
		return s.goodbye()
	}
	if s.d.Ask == askCarRelease && !triedRelease(s) {
		// The message is about something else (a number, a question):
		// nothing was tried yet, so nothing is concluded.
		if s.d.Asked >= 3 {
			return a.humanHandoff(ctx, s, fmt.Sprintf("cable stuck in %s connector %d; the driver did not say whether releasing the car worked", s.c.ChargerID, s.c.ConnectorID))
		}
		s.c.Status = chargedesk.ConversationOpen
		s.ask(askCarRelease, keyVehicleLock)
		return nil
	}
	if s.d.Ask == askCarRelease && !s.d.Unlocked {
		// The car was released, yet the cable stays: the charger's lock
		// holds it, and with no session to bind the caller to, no unlock
		// is sent. Field service, with what was seen as evidence.
		s.d.Cause = diagnose.CodeLockMechanical
		return a.fieldService(ctx, s, fmt.Sprintf("cable stays stuck in %s connector %d (%s) after the driver released the car; no session on record to allow a remote unlock",
			s.c.ChargerID, s.c.ConnectorID, connStatus(k)), keyLockBroken)
	}
	if s.d.Ask == askCarRelease && s.d.Asked >= 2 {
		return a.fieldService(ctx, s, fmt.Sprintf("cable stays stuck in %s connector %d after unlock and vehicle release", s.c.ChargerID, s.c.ConnectorID), keyLockBroken)
	}
	s.d.Cause = diagnose.CodeVehicleSideLock
	s.c.Status = chargedesk.ConversationOpen
	s.ask(askCarRelease, keyVehicleLock)
	return nil
}

// triedRelease reports whether the driver's message tells how releasing
// the car went: done, still stuck, or the stuck cable told again.
func triedRelease(s *session) bool {
	return yesNo(s.text) != 0 || saysReady(s.text) || stillBroken(s.text) ||
		s.u.Category == chargedesk.CategoryConnectorStuck && s.u.Confidence >= actOnWords
}

// connStatus names a connector's status for ticket text.
func connStatus(k *chargedesk.Connector) string {
	if k == nil {
		return "no status"
	}
	return string(k.Status)
}

// otherCarOut reports whether the driver asks to take another car's cable
// out ("another car is plugged in, unplug it", "débranchez l'autre auto",
// "desconecte el otro carro").
func otherCarOut(text string) bool {
	ws := answerWords(text)
	other, car, act := false, false, false
	for i, w := range ws {
		switch {
		case otherWords[w]:
			other = true
		case carWords[w]:
			car = true
		}
		if i > 0 && ws[i-1] == "quelqu'un" || w == "else's" {
			other = true
		}
		for _, stem := range releaseStems {
			if strings.HasPrefix(w, stem) {
				act = true
			}
		}
	}
	return other && car && act
}

var (
	otherWords = map[string]bool{"another": true, "other": true, "someone": true, "somebody": true, "autre": true,
		"quelqu'un": true, "otro": true, "otra": true, "alguien": true, "ajeno": true}
	carWords = map[string]bool{"car": true, "ev": true, "vehicle": true, "tesla": true, "auto": true, "voiture": true,
		"vehicule": true, "char": true, "carro": true, "coche": true, "vehiculo": true}
	releaseStems = []string{"unplug", "unlock", "remove", "release", "move", "debranch", "retir", "liber", "deverrouill",
		"desconect", "desenchuf", "quit", "saqu", "sacar", "desbloque", "mover"}
)

// stopPhrases ask to end a running session, as folded word sequences.
var stopPhrases = [][]string{
	{"won't", "stop"}, {"wont", "stop"}, {"doesn't", "stop"}, {"can't", "stop"}, {"cant", "stop"}, {"cannot", "stop"},
	{"stop", "my", "session"}, {"stop", "my", "charge"}, {"stop", "my", "charging"}, {"stop", "the", "session"},
	{"end", "my", "session"}, {"stop", "charging"}, {"won't", "end"},
	{"s'arrete", "pas"}, {"arrete", "pas"}, {"arreter", "ma", "recharge"}, {"arreter", "ma", "session"}, {"arreter", "la", "recharge"},
	{"arreter", "la", "session"}, {"terminer", "ma", "session"}, {"terminer", "ma", "recharge"}, {"impossible", "d'arreter"},
	{"peux", "pas", "arreter"}, {"arrive", "pas", "a", "arreter"},
	{"sesion", "no", "para"}, {"carga", "no", "para"}, {"no", "se", "detiene"}, {"sesion", "no", "termina"}, {"parar", "mi", "sesion"}, {"parar", "la", "sesion"},
	{"parar", "la", "carga"}, {"parar", "mi", "carga"}, {"detener", "mi", "sesion"}, {"detener", "la", "carga"},
	{"terminar", "mi", "sesion"}, {"puedo", "parar"}, {"puedo", "detener"},
}

// wantsStop reports whether the driver asks for a running session to end
// ("my session won't stop", "ma session ne s'arrête pas", "no puedo parar
// mi sesión").
func wantsStop(text string) bool {
	ws := answerWords(text)
	for _, p := range stopPhrases {
		for i := 0; i+len(p) <= len(ws); i++ {
			if slices.Equal(ws[i:i+len(p)], p) {
				return true
			}
		}
	}
	return false
}
