package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
)

// offlinePlaybook handles "the charger is offline / unavailable": a stale
// status (TriggerMessage), a connector left Inoperative (ChangeAvailability
// Operative), a dropped connection (wait honestly, then the nearest
// alternative and an outage ticket), a boot not accepted (people).
func (a *Agent) offlinePlaybook(ctx context.Context, s *session, v diagnose.View, cause diagnose.Cause) error {
	ch := v.Charger
	if !ch.Connected || cause.Code == diagnose.CodeCommDrop {
		return a.commDrop(ctx, s)
	}
	switch cause.Code {
	case diagnose.CodeBootPending:
		return a.humanHandoff(ctx, s, fmt.Sprintf("charger %s boot status is %s: an operator must accept it", ch.ID, ch.BootStatus))
	case diagnose.CodeLeftInoperative:
		return a.makeOperative(ctx, s)
	case diagnose.CodeStaleStatus:
		return a.refreshStatus(ctx, s)
	case diagnose.CodeHardwareFaultPower:
		return a.fieldService(ctx, s, fmt.Sprintf("Power fault on %s connector %d", ch.ID, s.c.ConnectorID), keyHardwareFault)
	}
	k := ch.Connector(s.c.ConnectorID)
	switch {
	case k == nil:
		return a.refreshStatus(ctx, s)
	case k.Status == chargedesk.StatusUnavailable:
		return a.refreshStatus(ctx, s)
	case k.Status == chargedesk.StatusFaulted:
		return a.fieldService(ctx, s, fmt.Sprintf("%s connector %d is Faulted (%s)", ch.ID, k.ID, k.ErrorCode), keyHardwareFault)
	}
	return a.afterAvailable(ctx, s, *k)
}

// refreshStatus asks the charger for a fresh StatusNotification; if the
// connector is really unavailable, it makes it Operative.
//
// It asks once per conversation: after that the answer is in the store, and
// asking again on every message (while the caller proves who they are)
// would only spend the charger's retries.
func (a *Agent) refreshStatus(ctx context.Context, s *session) error {
	var k chargedesk.Connector
	var ok bool
	if s.try("status_trigger") > 0 {
		kk, err := a.connector(ctx, s)
		if err != nil {
			return err
		}
		if kk != nil {
			k, ok = *kk, true
		}
	} else {
		t0 := a.now()
		res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: s.c.ConnectorID, Trigger: "StatusNotification"},
			"the stored status may be stale")
		if err != nil {
			return err
		}
		switch res.Status {
		case chargedesk.ResultAccepted:
		case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
			return a.commDrop(ctx, s)
		default:
			return a.makeOperative(ctx, s)
		}
		if k, ok, err = a.waitStatus(ctx, s, t0, func(chargedesk.Connector) bool { return true }); err != nil {
			return err
		}
	}
	if ok && usable(k.Status) {
		return a.afterAvailable(ctx, s, k)
	}
	if ok && k.Status == chargedesk.StatusFaulted {
		return a.fieldService(ctx, s, fmt.Sprintf("%s connector %d reports Faulted (%s)", s.c.ChargerID, k.ID, k.ErrorCode), keyHardwareFault)
	}
	return a.makeOperative(ctx, s)
}

// usable reports whether a status lets a session start.
func usable(st chargedesk.ConnectorStatus) bool {
	switch st {
	case chargedesk.StatusAvailable, chargedesk.StatusPreparing, chargedesk.StatusOccupied:
		return true
	}
	return false
}

// makeOperative sends ChangeAvailability Operative and waits for a usable
// status.
//
// Only for a verified caller, and never for a connector taken out of
// service on purpose (operativeBlock): that one goes to a person.
func (a *Agent) makeOperative(ctx context.Context, s *session) error {
	if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
		return err
	}
	why, err := a.operativeBlock(ctx, s)
	if err != nil {
		return err
	}
	if why != "" {
		return a.humanHandoff(ctx, s, fmt.Sprintf("%s connector %d is unavailable and was taken out of service on purpose; a person must decide whether it is safe: %s",
			s.c.ChargerID, s.c.ConnectorID, why))
	}
	if s.try("operative") > 0 {
		return a.fieldService(ctx, s, fmt.Sprintf("%s connector %d stays unavailable", s.c.ChargerID, s.c.ConnectorID), keyCouldNotFix)
	}
	t0 := a.now()
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: s.c.ConnectorID,
		Availability: chargedesk.AvailabilityOperative}, "connector left unavailable")
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultAccepted, chargedesk.ResultScheduled:
	case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
		return a.commDrop(ctx, s)
	case chargedesk.ResultRefused:
		return a.humanHandoff(ctx, s, "the policy refused ChangeAvailability Operative: "+res.Detail)
	default:
		return a.fieldService(ctx, s, fmt.Sprintf("%s answered %s to ChangeAvailability Operative", s.c.ChargerID, res.Status), keyCouldNotFix)
	}
	k, ok, err := a.waitStatus(ctx, s, t0, func(k chargedesk.Connector) bool { return usable(k.Status) })
	if err != nil {
		return err
	}
	if !ok {
		return a.fieldService(ctx, s, fmt.Sprintf("%s connector %d did not become available after ChangeAvailability Operative (last %s)", s.c.ChargerID, s.c.ConnectorID, k.Status), keyCouldNotFix)
	}
	return a.afterAvailable(ctx, s, k)
}

// afterAvailable continues once the connector shows a fresh usable status:
// with a cable in (or a start the driver asked for) and a verified caller,
// start the session; otherwise the charger is ready for the driver.
func (a *Agent) afterAvailable(ctx context.Context, s *session, k chargedesk.Connector) error {
	plugged := k.Status == chargedesk.StatusPreparing || k.Status == chargedesk.StatusOccupied
	wantsCharge := s.c.Category == chargedesk.CategorySessionWontStart || s.c.Category == chargedesk.CategoryChargerOffline ||
		s.c.Category == chargedesk.CategoryRFIDFailure || s.c.Category == chargedesk.CategoryPaymentFailure
	if (plugged || s.d.StartOK) && wantsCharge && s.verified() {
		// A cable in, or the driver already asked for the start (and was
		// verified for it since): start, or ask for the cable; the news
		// that the connector is back was told already.
		return a.startSession(ctx, s, true)
	}
	if wantsCharge && !s.verified() && s.d.PendingDriver != "" && !s.d.VerifyLocked {
		// The caller is half-way through proving who they are so that the
		// agent starts their session: finish that, don't repeat the news.
		return s.askIdentity(ctx)
	}
	s.resolved()
	s.say(keyNowAvailable, s.c.ConnectorID, a.siteName(ctx, s.c.ChargerID))
	if wantsCharge {
		// The driver plugs in and replies; the agent then starts it.
		s.d.Ask, s.d.Asked = askPlugIn, 0
	}
	return nil
}

// commDrop handles a charger without a connection: nothing can be sent.
// A recent drop usually heals by itself, so the agent waits up to the
// verify deadline, then continues; otherwise it says so honestly, sends
// the driver to the nearest available compatible charger and opens an
// outage ticket with the time of last contact.
func (a *Agent) commDrop(ctx context.Context, s *session) error {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: charger: %w", err)
	}
	down := ch.DisconnectedAt
	if down.IsZero() {
		down = ch.LastSeenAt
	}
	last := latest(ch.LastSeenAt, ch.DisconnectedAt)
	if n := len(s.d.Results); ch.Connected && n > 0 && s.d.Results[n-1].Status == chargedesk.ResultChargerOffline && s.try("stale_connection") == 0 {
		// The store says connected, yet no node could reach the charger:
		// the node that held it stopped, and the charger is connecting to
		// another. Wait for that connection, newer than the command.
		since := s.d.Results[n-1].At.Add(-time.Second)
		back, err := a.waitFreshConnection(ctx, s, ch.ID, since)
		if err != nil {
			return err
		}
		if back {
			return a.continueAfterReconnect(ctx, s)
		}
		if ch, err = a.store.Charger(ctx, s.c.ChargerID); err != nil {
			return fmt.Errorf("agent: charger: %w", err)
		}
	}
	if !ch.Connected && s.try("wait_reconnect") == 0 && a.now().Sub(down) < diagnose.ShortDropMax {
		back, err := a.waitConnected(ctx, s, a.verify)
		if err != nil {
			return err
		}
		if back {
			s.say(keyReconnected)
			return a.continueAfterReconnect(ctx, s)
		}
		if !powerOut(s.text) {
			// A recent drop without signs of a power cut heals by
			// itself: say so honestly and pick up on the driver's next
			// message instead of reporting an outage.
			s.c.Status = chargedesk.ConversationOpen
			s.ask(askReconnect, keyReconnecting, s.c.ChargerID, a.lastContactText(ctx, s, last))
			return nil
		}
	} else if ch.Connected {
		return a.continueAfterReconnect(ctx, s)
	}
	t, err := a.openTicket(ctx, s, TicketOutage, fmt.Sprintf("%s offline since %s", ch.ID, last.UTC().Format(time.RFC3339)),
		map[string]any{"lastContact": last, "disconnectedAt": ch.DisconnectedAt, "lastHeartbeatAt": ch.LastHeartbeatAt})
	if err != nil {
		return err
	}
	s.escalated()
	s.say(keyOffline, s.c.ChargerID, a.lastContactText(ctx, s, last), t.ID)
	return a.sendToNearest(ctx, s)
}

// continueAfterReconnect resumes once the charger is connected again.
func (a *Agent) continueAfterReconnect(ctx context.Context, s *session) error {
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: charger: %w", err)
	}
	k, ok, err := a.waitStatus(ctx, s, ch.ConnectedAt, func(k chargedesk.Connector) bool { return true })
	if err != nil {
		return err
	}
	if !ok {
		if kk := ch.Connector(s.c.ConnectorID); kk != nil {
			k = *kk
		}
	}
	if usable(k.Status) {
		return a.afterAvailable(ctx, s, k)
	}
	return a.refreshStatus(ctx, s)
}

// checkReconnected continues when the driver writes again after a short
// drop: once the charger is back, the playbook runs on (a fresh
// diagnosis); still off line, it is an outage (commDrop tickets it, as
// its one wait is spent).
func (a *Agent) checkReconnected(ctx context.Context, s *session) error {
	s.d.Ask, s.d.Asked = "", 0
	ch, err := a.store.Charger(ctx, s.c.ChargerID)
	if err != nil {
		return fmt.Errorf("agent: charger: %w", err)
	}
	if !ch.Connected {
		// The driver may write the moment the screen comes back: give
		// the connection the rest of one wait.
		back, err := a.waitConnected(ctx, s, a.verify)
		if err != nil {
			return err
		}
		if !back {
			return a.commDrop(ctx, s)
		}
		s.say(keyReconnected)
	}
	return a.runPlaybook(ctx, s)
}

// powerOutPhrases describe a charger without power (dark screen, nothing
// works), as folded word sequences: a power cut, not a connection that
// heals by itself.
var powerOutPhrases = [][]string{
	{"screen", "is", "dead"}, {"screen", "is", "black"}, {"screen", "is", "off"}, {"screen", "is", "blank"}, {"screen", "went", "dark"},
	{"dead", "screen"}, {"black", "screen"}, {"nothing", "works"}, {"nothing", "is", "working"}, {"no", "power"}, {"power", "outage"}, {"power", "cut"},
	{"ecran", "est", "noir"}, {"ecran", "noir"}, {"ecran", "eteint"}, {"ecran", "est", "eteint"}, {"rien", "ne", "marche"}, {"rien", "ne", "fonctionne"},
	{"panne", "de", "courant"}, {"pas", "de", "courant"},
	{"pantalla", "esta", "apagada"}, {"pantalla", "apagada"}, {"pantalla", "negra"}, {"nada", "funciona"}, {"no", "hay", "luz"}, {"sin", "luz"},
	{"sin", "corriente"}, {"corte", "de", "luz"},
}

// powerOut reports whether the driver describes a charger without power.
func powerOut(text string) bool {
	return matchPhrases(text, powerOutPhrases)
}

// lastContactText formats the time of last contact for the driver.
func (a *Agent) lastContactText(ctx context.Context, s *session, t time.Time) string {
	if t.IsZero() {
		return say(s.c.Language, keyNoContact)
	}
	ago := a.now().Sub(t).Round(time.Minute)
	if ago < time.Minute {
		return say(s.c.Language, keyJustNow)
	}
	return fmt.Sprintf("%s UTC (%s)", t.UTC().Format("15:04"), ago)
}

// latest returns the later of two instants.
func latest(x, y time.Time) time.Time {
	if x.After(y) {
		return x
	}
	return y
}
