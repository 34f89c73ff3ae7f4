package diagnose

import (
	"fmt"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Charging states of OCPP 2.0.1 transactions.
const (
	stateCharging    = "Charging"
	stateSuspendedEV = "SuspendedEV"
	stateEVSE        = "SuspendedEVSE"
	stateIdle        = "Idle"
	stateEVConnected = "EVConnected"
)

// hardwareErrors are the 1.6 ChargePointErrorCodes of the power path: a
// reset does not clear them and no remote fix exists.
func hardwareError(ec string) bool {
	switch ec {
	case "InternalError", "GroundFailure", "HighTemperature", "OverCurrentFailure", "OverVoltage",
		"UnderVoltage", "PowerMeterFailure", "PowerSwitchFailure", "OtherError":
		return true
	}
	return false
}

// is201 reports whether the charger speaks 2.0.1 (or shows its statuses).
func is201(ch *chargedesk.Charger) bool {
	if ch.Protocol != "" {
		return ch.Protocol == chargedesk.OCPP201
	}
	for _, c := range ch.Connectors {
		if c.Status == chargedesk.StatusOccupied {
			return true
		}
	}
	return false
}

// plugged reports whether the status says a cable is in.
func plugged(st chargedesk.ConnectorStatus) bool {
	switch st {
	case chargedesk.StatusPreparing, chargedesk.StatusFinishing, chargedesk.StatusCharging,
		chargedesk.StatusSuspendedEV, chargedesk.StatusSuspendedEVSE, chargedesk.StatusOccupied:
		return true
	}
	return false
}

// connectorRules judges one connector of a connected charger; w scales the
// confidence by how sure it is that this is the driver's connector.
func (d *diag) connectorRules(ch *chargedesk.Charger, cn *chargedesk.Connector, w float64) {
	now := d.now
	v201 := is201(ch)
	ec := cn.ErrorCode
	if ec == "NoError" {
		ec = ""
	}
	if ec == "" && v201 {
		if p, _ := d.ev.problem(cn.ID); p != "NoError" {
			ec = p
		}
	}
	since := cn.StatusAt
	if since.IsZero() || cn.UpdatedAt.After(now) {
		since = cn.UpdatedAt
	}
	desc := fmt.Sprintf("connector %d has been %s for %s", cn.ID, cn.Status, dur(now.Sub(since)))
	if since.IsZero() {
		desc = fmt.Sprintf("connector %d shows %s", cn.ID, cn.Status)
	}
	if ec != "" {
		desc += " with error " + ec
	}
	cat := d.v.Category

	specific := ec == "ConnectorLockFailure" || ec == "EVCommunicationError" || ec == "ReaderFailure"
	if hardwareError(ec) || cn.Status == chargedesk.StatusFaulted && !specific {
		conf := 0.8 // Faulted without a code, as 2.0.1 reports it
		switch {
		case cn.Status == chargedesk.StatusFaulted && ec != "":
			conf = 0.92
		case cn.Status != chargedesk.StatusFaulted:
			conf = 0.7
		}
		ev := []string{desc}
		if cn.VendorErrorCode != "" || cn.Info != "" {
			ev = append(ev, fmt.Sprintf("vendor code %q, info %q", cn.VendorErrorCode, cn.Info))
		}
		if r := d.ev.find(time.Time{}, func(x *exchange) bool {
			return x.action == "Reset" && x.status == "Accepted" && x.at.Before(since)
		}); r != nil {
			ev = append(ev, fmt.Sprintf("a %s reset was accepted at %s and the fault came back", r.kind, clock(r.at, now)))
		}
		d.add(CodeHardwareFaultPower, conf*w, false, ev...)
	}

	if tx := d.activeOn(cn.ID); tx != nil {
		d.txRules(ch, cn, tx, desc, w, v201)
		return
	}

	switch ec {
	case "EVCommunicationError":
		d.add(CodeHandshakeTimeout, 0.85*w, true, desc,
			"the car and the charger did not complete their handshake: re-seat the plug, then start remotely")
	case "ReaderFailure":
		d.add(CodeReaderFault, 0.9*w, true, desc, "the card reader reports a failure; a remote start with the caller's account bypasses it")
	}

	if cn.Status == chargedesk.StatusUnavailable && ec == "" {
		d.unavailableRules(ch, cn, desc, w)
	}
	d.remoteStartRules(cn, desc, w)
	if ec == "" && (!v201 && cn.Status == chargedesk.StatusPreparing || v201 && cn.Status == chargedesk.StatusOccupied) {
		d.hungRules(cn, desc, w)
	}
	d.lockRules(cn, ec, desc, w)
	if cn.Status == chargedesk.StatusFinishing && cat != chargedesk.CategoryConnectorStuck && ec == "" {
		d.note(desc + ": the last session ended and the cable is still in")
	}
	if cn.Status == chargedesk.StatusAvailable {
		d.note(desc)
	}
}

// activeOn returns the active transaction on connector id, or nil.
func (d *diag) activeOn(id int) *chargedesk.Transaction {
	for _, tx := range d.v.Active {
		if tx != nil && tx.ConnectorID == id && tx.Active() {
			return tx
		}
	}
	return nil
}

// txRules judges a connector with an active transaction: stale, the car
// suspending, whose session it is, and how fast it charges.
func (d *diag) txRules(ch *chargedesk.Charger, cn *chargedesk.Connector, tx *chargedesk.Transaction, desc string, w float64, v201 bool) {
	now := d.now
	cat := d.v.Category
	lastLife := tx.EnergyRoseAt()
	quiet := now.Sub(lastLife)
	since := statusSince(cn)
	var noLive bool
	conf := 0.9
	if v201 {
		switch {
		case cn.Status == chargedesk.StatusAvailable || cn.Status == chargedesk.StatusUnavailable || cn.Status == chargedesk.StatusFaulted:
			noLive = true
		case tx.ChargingState == stateIdle || tx.ChargingState == stateEVConnected:
			noLive = true
		case tx.ChargingState == stateSuspendedEV || tx.ChargingState == "SuspendedEVSE":
			// Paused by the car or the charger: a session, not a leftover.
		default:
			// Occupied and "Charging" by its last report: only silence
			// tells, and meter intervals vary.
			noLive, conf = true, 0.7
		}
	} else {
		switch cn.Status {
		case chargedesk.StatusCharging, chargedesk.StatusSuspendedEV, chargedesk.StatusSuspendedEVSE:
		default:
			noLive = now.Sub(since) >= StaleAfter || since.IsZero()
		}
	}
	if noLive && quiet >= StaleAfter {
		ev := []string{
			fmt.Sprintf("transaction %s (%s) on connector %d is still open since %s", tx.ID, d.cardName(tx.IDTag), cn.ID, at(tx.StartedAt, now)),
			desc,
			fmt.Sprintf("no energy reported since %s (%s)", clock(lastLife, now), dur(quiet)),
		}
		if x := d.ev.find(now.Add(-AuthorizeWindow), func(x *exchange) bool {
			return x.action == "Authorize" && x.status == string(chargedesk.AuthConcurrentTx)
		}); x != nil {
			ev = append(ev, fmt.Sprintf("an Authorize for %s at %s got ConcurrentTx", d.cardName(x.tag), clock(x.at, now)))
			conf = max(conf, 0.85)
		}
		d.add(CodeStaleTransaction, conf*w, true, ev...)
		return
	}

	own := d.callerTag(tx.IDTag)
	verified := d.v.DriverID != "" || len(d.v.Tokens) > 0
	session := fmt.Sprintf("transaction %s of %s runs on connector %d since %s, %.1f kWh so far",
		tx.ID, d.cardName(tx.IDTag), cn.ID, at(tx.StartedAt, now), float64(max(tx.LastMeterWh-tx.MeterStartWh, 0))/1000)

	if cn.Status == chargedesk.StatusSuspendedEV || tx.ChargingState == stateSuspendedEV {
		c := 0.85
		if verified && !own {
			c = 0.5
		}
		d.add(CodeVehicleSchedule, c*w, false, desc+": the car is refusing energy (a charging schedule in the car, or a full battery)", session)
	}

	switch {
	case own:
		c := 0.45
		switch cat {
		case chargedesk.CategorySlowCharging, chargedesk.CategoryBillingDispute:
			c = 0.3 // the session is the subject, not the fault
		case chargedesk.CategoryConnectorStuck:
			c = 0.9
		case chargedesk.CategorySessionWontStart, chargedesk.CategoryChargerOffline:
			c = 0.6
		}
		d.add(CodeOwnSessionRunning, c*w, true, session, "the card belongs to the caller")
	case verified:
		c := 0.5
		switch cat {
		case chargedesk.CategoryConnectorStuck:
			c = 0.9
		case chargedesk.CategorySessionWontStart, chargedesk.CategoryRFIDFailure, chargedesk.CategoryPaymentFailure:
			c = 0.75
		}
		d.add(CodeSomeoneElsesSess, c*w, false, session, "the card is not one of the caller's")
	default:
		c := 0.45
		if cat == chargedesk.CategoryConnectorStuck {
			c = 0.55 // the session holds the cable either way: verify first
		}
		d.add(CodeSomeoneElsesSess, c*w, false, session,
			"the caller is not verified, so whose session this is cannot be told; it is treated as another driver's until verified")
	}
	if !own && verified {
		return
	}
	d.slowRules(cn, tx, w, v201)
}

// slowRules compares the session's average power with the connector's
// rating.
func (d *diag) slowRules(cn *chargedesk.Connector, tx *chargedesk.Transaction, w float64, v201 bool) {
	charging := cn.Status == chargedesk.StatusCharging || v201 && (tx.ChargingState == stateCharging || tx.ChargingState == "")
	if !charging {
		return
	}
	var rating float64
	for _, s := range d.v.Specs {
		if s.ID == cn.ID {
			rating = s.MaxPowerKW
		}
	}
	span := tx.LastMeterAt.Sub(tx.StartedAt)
	if rating <= 0 || span < StaleAfter {
		return
	}
	kwh := float64(tx.LastMeterWh-tx.MeterStartWh) / 1000
	kw := kwh / span.Hours()
	ratio := kw / rating
	ev := fmt.Sprintf("transaction %s delivered %.1f kWh in %s: %.1f kW on average on a %.0f kW connector (%.0f%%)",
		tx.ID, kwh, dur(span), kw, rating, ratio*100)
	if ratio < 0.3 {
		c := 0.65
		if d.v.Category == chargedesk.CategorySlowCharging {
			c = 0.85
		}
		d.add(CodeSlowCharging, c*w, false, ev, "the car's state of charge, its temperature or a site limit may cap the power")
		return
	}
	d.note(ev)
}

// unavailableRules tells an operator's Inoperative from a stale report.
func (d *diag) unavailableRules(ch *chargedesk.Charger, cn *chargedesk.Connector, desc string, w float64) {
	now := d.now
	ca := d.ev.find(time.Time{}, func(x *exchange) bool {
		return x.action == "ChangeAvailability" && !x.in && (x.conn == cn.ID || x.conn == 0) &&
			(x.status == "Accepted" || x.status == "Scheduled")
	})
	if ca != nil && ca.kind == "Inoperative" {
		d.add(CodeLeftInoperative, 0.9*w, true, desc,
			fmt.Sprintf("ChangeAvailability Inoperative for connector %d was answered %s at %s and never reversed", ca.conn, ca.status, at(ca.at, now)))
		return
	}
	healthy := d.healthy(ch)
	c := 0.6
	why := "no ChangeAvailability in the last " + dur(EventWindow) + " explains it"
	if ca != nil {
		c = 0.75
		why = fmt.Sprintf("ChangeAvailability Operative was accepted at %s, after which it should be Available", clock(ca.at, now))
	}
	if !healthy {
		c -= 0.2
	}
	hb := ""
	if !ch.LastHeartbeatAt.IsZero() {
		hb = ", last heartbeat " + ago(ch.LastHeartbeatAt, now)
	}
	d.add(CodeStaleStatus, c*w, true, desc+" with no error code and no report since", "the charger is connected"+hb, why)
	if ca == nil {
		d.add(CodeLeftInoperative, 0.5*w, true, desc+" with no error code",
			"an operator may have set it Inoperative before the events kept; ChangeAvailability Operative fixes both")
	}
}

// remoteStartRules looks for a remote start that was accepted and never
// started.
func (d *diag) remoteStartRules(cn *chargedesk.Connector, desc string, w float64) {
	now := d.now
	isRS := func(x *exchange) bool {
		return (x.action == "RemoteStartTransaction" || x.action == "RequestStartTransaction") && !x.in &&
			(x.conn == cn.ID || x.conn == 0) && x.status == "Accepted"
	}
	rs := d.ev.find(time.Time{}, isRS)
	if rs == nil || d.startedSince(rs.at, cn.ID) || d.ev.bootedAfter(rs.at) {
		return
	}
	wait := now.Sub(rs.at)
	if wait < RemoteStartDeadline {
		d.note(fmt.Sprintf("a remote start was accepted %s; the transaction may still start", ago(rs.at, now)))
		return
	}
	ignored, resetBetween := 0, false
scan:
	for i := range d.ev.calls {
		x := &d.ev.calls[i]
		switch {
		case x.action == "BootNotification":
			break scan // earlier starts belong to another boot
		case x.action == "Reset" && x.status == "Accepted" && ignored > 0:
			resetBetween = true
		case isRS(x) && !d.startedSince(x.at, cn.ID):
			ignored++
		}
	}
	ev := []string{fmt.Sprintf("%s for %s was accepted at %s but no transaction started within %s",
		rs.action, d.cardName(rs.tag), at(rs.at, now), dur(RemoteStartDeadline))}
	c := 0.85
	if !plugged(cn.Status) {
		c = 0.45
		ev = append(ev, desc+": the cable may not be in")
	} else {
		ev = append(ev, desc)
	}
	fixable := true
	if ignored >= 2 {
		ev = append(ev, fmt.Sprintf("%d accepted remote starts were ignored", ignored))
		c = min(c+0.1, 0.95)
		fixable = !resetBetween
	}
	d.add(CodeRemoteStartIgnored, c*w, fixable, ev...)
}

// startedSince reports whether a transaction started on connector id after
// t, by the frames or by the store.
func (d *diag) startedSince(t time.Time, id int) bool {
	if d.ev.startedAfter(t, id) {
		return true
	}
	for _, txs := range [][]*chargedesk.Transaction{d.v.Active, d.v.Recent} {
		for _, tx := range txs {
			if tx != nil && tx.ConnectorID == id && !tx.StartedAt.Before(t) {
				return true
			}
		}
	}
	return false
}

// usedAfter reports whether a transaction with card tag started after t.
func (d *diag) usedAfter(tag string, t time.Time) bool {
	if d.ev.find(t, func(x *exchange) bool {
		return (x.action == "StartTransaction" || x.action == "TransactionEvent") && strings.EqualFold(x.tag, tag)
	}) != nil {
		return true
	}
	for _, txs := range [][]*chargedesk.Transaction{d.v.Active, d.v.Recent} {
		for _, tx := range txs {
			if tx != nil && strings.EqualFold(tx.IDTag, tag) && !tx.StartedAt.Before(t) {
				return true
			}
		}
	}
	return false
}

// hungRules looks for a connector stuck in Preparing after an accepted
// Authorize.
func (d *diag) hungRules(cn *chargedesk.Connector, desc string, w float64) {
	now := d.now
	// The latest accepted Authorize that no transaction used: one followed
	// by a start with its card, on any connector, was not this connector's.
	au := d.ev.find(now.Add(-EventWindow), func(x *exchange) bool {
		return x.action == "Authorize" && x.in && x.status == string(chargedesk.AuthAccepted) && !d.usedAfter(x.tag, x.at)
	})
	since := statusSince(cn)
	if au == nil {
		if now.Sub(since) >= HungAfter {
			d.waitingForAuth = true
			d.note(desc + " with no accepted Authorize from this charger")
		}
		return
	}
	if now.Sub(au.at) < HungAfter || d.startedSince(au.at, cn.ID) || d.ev.bootedAfter(au.at) {
		return
	}
	c := 0.8
	if d.callerTag(au.tag) {
		c = 0.85
	}
	d.add(CodeControllerHung, c*w, true, desc,
		fmt.Sprintf("an Authorize for %s was accepted at %s and no transaction started", d.cardName(au.tag), at(au.at, now)),
		"the charger still heartbeats: its controller is stuck; a soft reset clears it")
}

// lockRules judges a connector with no transaction that holds a cable.
func (d *diag) lockRules(cn *chargedesk.Connector, ec, desc string, w float64) {
	now := d.now
	cat := d.v.Category
	fails := 0
	var failAt time.Time
	var unlocked *exchange
	for i := range d.ev.calls {
		x := &d.ev.calls[i]
		if x.action != "UnlockConnector" || x.in || x.conn != cn.ID {
			continue
		}
		if x.status == "Unlocked" {
			unlocked = x
			break
		}
		if x.status == "UnlockFailed" {
			if fails == 0 {
				failAt = x.at
			}
			fails++
		}
	}
	ended := ""
	if len(d.v.Recent) > 0 && d.v.Recent[0] != nil && !d.v.Recent[0].StoppedAt.IsZero() {
		r := d.v.Recent[0]
		ended = fmt.Sprintf("its last transaction %s ended at %s", r.ID, at(r.StoppedAt, now))
		if r.StopReason != "" {
			ended += ", reason " + r.StopReason
		}
	}
	with := func(ev ...string) []string {
		if ended != "" {
			ev = append(ev, ended)
		}
		return ev
	}
	switch {
	case fails > 0:
		c, fixable := 0.75, true
		note := "one retry is allowed before a field-service ticket"
		if fails >= 2 {
			c, fixable, note = 0.95, false, "needs field service"
		}
		d.add(CodeLockMechanical, c*w, fixable, with(desc, fmt.Sprintf("UnlockConnector failed %d time(s), last at %s; %s", fails, at(failAt, now), note))...)
	case unlocked != nil && plugged(cn.Status) && (cn.StatusAt.IsZero() || !cn.StatusAt.After(unlocked.at) || cn.Status != chargedesk.StatusAvailable):
		if now.Sub(unlocked.at) > EventWindow {
			return
		}
		d.add(CodeVehicleSideLock, 0.85*w, false, with(desc,
			fmt.Sprintf("UnlockConnector answered Unlocked at %s but the connector still shows %s: the car holds the plug", at(unlocked.at, now), cn.Status))...)
	case ec == "ConnectorLockFailure":
		d.add(CodeLockAfterSession, 0.9*w, true, with(desc, "the charger's lock stayed engaged after the session")...)
	case cat == chargedesk.CategoryConnectorStuck && plugged(cn.Status):
		d.add(CodeLockAfterSession, 0.6*w, true, with(desc, "no transaction is active and the cable is still in; an UnlockConnector tells a charger lock from a car lock")...)
		d.add(CodeVehicleSideLock, 0.45*w, false, with(desc, "some cars hold the plug until they are unlocked")...)
	}
}

// statusSince is when the connector's status began: the charger's own
// timestamp, unless it lies after the moment the status was stored (a
// clock ahead), when the storing time is the better bound.
func statusSince(cn *chargedesk.Connector) time.Time {
	if cn.StatusAt.IsZero() || cn.StatusAt.After(cn.UpdatedAt) {
		return cn.UpdatedAt
	}
	return cn.StatusAt
}
