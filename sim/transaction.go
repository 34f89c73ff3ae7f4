package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// Errors of driver actions and transactions.
var (
	ErrUnknownConnector = errors.New("sim: no such connector")
	ErrConnectorBusy    = errors.New("sim: connector is in another transaction")
	ErrUnavailable      = errors.New("sim: connector is unavailable or faulted")
	ErrNoTransaction    = errors.New("sim: no transaction on the connector")
	ErrCableLocked      = errors.New("sim: the charger's lock holds the cable")
	ErrVehicleLock      = errors.New("sim: the vehicle holds the cable")
	ErrHandshake        = errors.New("sim: vehicle handshake failed (EVCommunicationError)")
)

// Stop reasons, spelled as in 1.6; reason201 maps them for 2.0.1.
const (
	reasonLocal          = "Local"
	reasonRemote         = "Remote"
	reasonEVDisconnected = "EVDisconnected"
	reasonSoftReset      = "SoftReset"
	reasonHardReset      = "HardReset"
	reasonUnlockCommand  = "UnlockCommand"
	reasonDeAuthorized   = "DeAuthorized"
	reasonOther          = "Other"
)

func reason201(r string) (v201.Reason, v201.TriggerReason) {
	switch r {
	case reasonLocal:
		return v201.ReasonLocal, v201.TriggerReasonStopAuthorized
	case reasonRemote:
		return v201.ReasonRemote, v201.TriggerReasonRemoteStop
	case reasonEVDisconnected:
		return v201.ReasonEVDisconnected, v201.TriggerReasonEVCommunicationLost
	case reasonSoftReset, reasonHardReset:
		return v201.ReasonImmediateReset, v201.TriggerReasonResetCommand
	case reasonDeAuthorized:
		return v201.ReasonDeAuthorized, v201.TriggerReasonDeauthorized
	case reasonUnlockCommand:
		return v201.ReasonOther, v201.TriggerReasonUnlockCommand
	}
	return v201.ReasonOther, v201.TriggerReasonAbnormalCondition
}

// txSend sends one transaction message on s and handles its answer.
type txSend func(ctx context.Context, s *session) error

// txMsg is one queued transaction message.
type txMsg struct {
	// tx is the transaction the message is about; start marks the
	// message that opens it (StartTransaction, TransactionEvent Started).
	tx    *transaction
	start bool
	send  txSend
	// attempts counts the sends answered with a failure (CALLERROR,
	// timeout, invalid answer); a dropped connection does not count.
	attempts int
	// tried is closed after the first attempt, whatever its outcome.
	tried     chan struct{}
	triedOnce sync.Once
}

func (m *txMsg) markTried() { m.triedOnce.Do(func() { close(m.tried) }) }

// errTxLost is returned for a message about a transaction whose start
// message was given up: the CSMS never learnt its id.
var errTxLost = errors.New("sim: the transaction's start message was never delivered")

// sendTx queues a transaction message for tx (start when it opens tx) and
// has it sent in order on the charger's own running context, never the
// caller's: a message waits off line until the next accepted boot, and a
// failed send (CALLERROR, timeout, invalid answer) is retried up to
// TransactionMessageAttempts times (2.0.1: OCPPCommCtrlr MessageAttempts),
// waiting TransactionMessageRetryInterval (MessageAttemptInterval) times
// the number of attempts so far between them. When the charger is on
// line, sendTx waits (at most until ctx ends) for the message's first
// attempt, so that the caller's later messages follow it on the wire.
func (c *Charger) sendTx(ctx context.Context, tx *transaction, start bool, f txSend) {
	m := &txMsg{tx: tx, start: start, send: f, tried: make(chan struct{})}
	c.mu.Lock()
	c.txQueue = append(c.txQueue, m)
	s := c.sess
	online := s != nil && c.accepted && !s.closed()
	c.mu.Unlock()
	if !online || !c.goBackground(c.flushTxQueue) {
		return
	}
	t := time.NewTimer(2 * c.cfg.CallTimeout)
	defer t.Stop()
	select {
	case <-m.tried:
	case <-s.done:
	case <-ctx.Done():
	case <-t.C:
	}
}

// txRetryLocked returns the configured attempts and retry interval of
// transaction messages; c.mu must be held.
func (c *Charger) txRetryLocked() (int, time.Duration) {
	return max(c.intSetting(keyTransactionMessageAttempts), 1),
		time.Duration(c.intSetting(keyTransactionMessageRetryInterval)) * time.Second
}

// flushTxQueue sends the queued transaction messages in order while the
// charger is on line; one runs at a time.
func (c *Charger) flushTxQueue(ctx context.Context) {
	c.mu.Lock()
	if c.flushing {
		c.mu.Unlock()
		return
	}
	c.flushing = true
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(c.txQueue) == 0 || c.sess == nil || !c.accepted || c.sess.closed() || ctx.Err() != nil {
			// Cleared under the same lock as the check: a message queued
			// after it starts a new flush.
			c.flushing = false
			c.mu.Unlock()
			return
		}
		m, s := c.txQueue[0], c.sess
		lost := m.tx != nil && m.tx.lost
		c.mu.Unlock()
		var err error
		if lost {
			err = errTxLost
		} else if err = m.send(ctx, s); errors.Is(err, errTxLost) {
			lost = true
		}
		if errors.Is(err, errSessionClosed) || ctx.Err() != nil {
			// Kept at the head for the next connection (the loop goes on
			// if that connection is already up).
			m.markTried()
			continue
		}
		c.mu.Lock()
		attempts, iv := c.txRetryLocked()
		if err != nil && !lost {
			m.attempts++
		}
		done := err == nil || lost || m.attempts >= attempts
		if done {
			c.txQueue = c.txQueue[1:]
			if err != nil && m.start && m.tx != nil {
				m.tx.lost = true
			}
			c.notifyLocked()
		}
		c.mu.Unlock()
		m.markTried()
		switch {
		case lost:
			c.log.Warn("sim: transaction message dropped: its transaction was never started at the CSMS", "charger_id", c.cfg.ID)
		case err != nil && done:
			c.log.Warn("sim: transaction message given up", "charger_id", c.cfg.ID, "attempts", m.attempts, "err", err)
		case err != nil:
			c.log.Info("sim: transaction message failed, will retry", "charger_id", c.cfg.ID, "attempt", m.attempts, "err", err)
			c.waitRetry(ctx, s, iv*time.Duration(m.attempts))
		}
	}
}

// waitRetry waits d before a retry, or less when the connection or the
// charger stops first.
func (c *Charger) waitRetry(ctx context.Context, s *session, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	case <-ctx.Done():
	}
}

// meterLocked brings the energy register of cn up to now; c.mu must be held.
func (c *Charger) meterLocked(cn *connector) {
	if cn.tx == nil {
		return
	}
	now := c.now()
	if dt := now.Sub(cn.tx.lastMeterAt); dt > 0 {
		cn.energyWh += c.powerW(cn) * dt.Hours()
	}
	cn.tx.lastMeterAt = now
}

// sampled16 and meter201 build the meter readings of cn; c.mu must be held.
func (c *Charger) sampled16(cn *connector, rc v16.ReadingContext) v16.MeterValue {
	return v16.MeterValue{
		Timestamp: v16.DateTime{Time: c.now()},
		SampledValue: []v16.SampledValue{
			{Value: strconv.Itoa(int(cn.energyWh)), Context: rc, Measurand: v16.MeasurandEnergyActiveImportRegister, Unit: v16.UnitOfMeasureWh},
			{Value: strconv.Itoa(int(c.powerW(cn))), Context: rc, Measurand: v16.MeasurandPowerActiveImport, Unit: v16.UnitOfMeasureW},
		},
	}
}

func (c *Charger) meter201(cn *connector, rc v201.ReadingContext) v201.MeterValue {
	return v201.MeterValue{
		Timestamp: v201.DateTime{Time: c.now()},
		SampledValue: []v201.SampledValue{
			{Value: float64(int(cn.energyWh)), Context: rc, Measurand: v201.MeasurandEnergyActiveImportRegister, UnitOfMeasure: &v201.UnitOfMeasure{Unit: "Wh"}},
			{Value: float64(int(c.powerW(cn))), Context: rc, Measurand: v201.MeasurandPowerActiveImport, UnitOfMeasure: &v201.UnitOfMeasure{Unit: "W"}},
		},
	}
}

func (c *Charger) chargingState201(cn *connector) v201.ChargingState {
	switch {
	case cn.tx == nil && cn.plugged:
		return v201.ChargingStateEVConnected
	case cn.tx == nil:
		return v201.ChargingStateIdle
	case cn.suspendedEV:
		return v201.ChargingStateSuspendedEV
	case cn.suspendedEVSE:
		return v201.ChargingStateSuspendedEVSE
	}
	return v201.ChargingStateCharging
}

// startTx starts a transaction for an authorized token on a connector with
// its cable in, sends StartTransaction (1.6) or TransactionEvent Started
// (2.0.1) and reports the new status.
//
// idType is the token's 2.0.1 IdTokenType ("" for an RFID card): a remote
// start carries the request's type into TransactionEvent Started.
func (c *Charger) startTx(ctx context.Context, id int, idTag, idType string, remote bool, remoteStartID *int) error {
	return c.beginTx(ctx, id, txStart{idTag: idTag, idType: idType, remote: remote, remoteStartID: remoteStartID})
}

// txStart describes a transaction to begin.
type txStart struct {
	idTag, idType string
	remote        bool
	remoteStartID *int
	// at backdates the start (zero: now); a backdated start is reported
	// as it would have been then, meter reading included.
	at time.Time
	// stale begins a transaction the charger has already forgotten to
	// close (stale_transaction): it never meters.
	stale bool
}

// beginTx is startTx with the options of txStart.
func (c *Charger) beginTx(ctx context.Context, id int, o txStart) error {
	idTag, idType, remote, remoteStartID := o.idTag, o.idType, o.remote, o.remoteStartID
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	if cn.tx != nil {
		c.mu.Unlock()
		return ErrConnectorBusy
	}
	if c.handshakeFailsLocked(cn) {
		cn.authTag, cn.authRemote, cn.authRemoteID = "", false, nil
		cn.authSeq++
		c.mu.Unlock()
		c.publishStatuses(ctx)
		return ErrHandshake
	}
	now := c.now()
	if !o.at.IsZero() {
		now = o.at
	}
	tx := &transaction{idTag: idTag, idType: idType, remote: remote, remoteStartID: remoteStartID,
		startWh: cn.energyWh, startedAt: now, lastMeterAt: now, stale: o.stale}
	if c.cfg.Protocol == chargedesk.OCPP201 {
		c.txSeq++
		tx.id = fmt.Sprintf("%08x-%d", rand.Uint32(), c.txSeq)
	}
	cn.tx, cn.authTag, cn.authRemote, cn.authRemoteID, cn.finishing = tx, "", false, nil, false
	cn.authSeq++
	cn.lock = cn.spec.hasChargerLock()
	c.onTxStartedLocked(cn)
	c.counters.TransactionsStarted++
	var started any
	if c.cfg.Protocol == chargedesk.OCPP201 {
		trig := v201.TriggerReasonAuthorized
		if remote {
			trig = v201.TriggerReasonRemoteStart
		}
		tok := idToken201(idTag, idType)
		begin := c.meter201(cn, v201.ReadingContextTransactionBegin)
		begin.Timestamp = v201.DateTime{Time: now}
		started = v201.TransactionEventRequest{
			EventType: v201.TransactionEventStarted, Timestamp: v201.DateTime{Time: now},
			TriggerReason: trig, SeqNo: tx.nextSeq(), Offline: c.offlineFlagLocked(),
			TransactionInfo: v201.Transaction{TransactionID: tx.id, ChargingState: c.chargingState201(cn), RemoteStartID: remoteStartID},
			Evse:            &v201.EVSE{ID: id, ConnectorID: new(1)},
			IDToken:         &tok,
			MeterValue:      []v201.MeterValue{begin},
		}
	}
	c.notifyLocked()
	c.mu.Unlock()

	c.sendTx(ctx, tx, true, func(ctx context.Context, s *session) error {
		var status string
		if c.cfg.Protocol == chargedesk.OCPP16 {
			req := v16.StartTransactionRequest{ConnectorID: id, IDTag: idTag, MeterStart: int(tx.startWh), Timestamp: v16.DateTime{Time: tx.startedAt}}
			var resp v16.StartTransactionResponse
			if err := s.call(ctx, "StartTransaction", req, &resp); err != nil {
				return err
			}
			c.mu.Lock()
			tx.id = strconv.Itoa(resp.TransactionID)
			c.notifyLocked()
			c.mu.Unlock()
			status = string(resp.IDTagInfo.Status)
		} else {
			var resp v201.TransactionEventResponse
			if err := s.call(ctx, "TransactionEvent", started, &resp); err != nil {
				return err
			}
			status = AuthAccepted
			if resp.IDTokenInfo != nil {
				status = string(resp.IDTokenInfo.Status)
			}
		}
		c.mu.Lock()
		stop := status != AuthAccepted && c.boolSetting(keyStopTransactionOnInvalidID)
		c.mu.Unlock()
		if stop {
			// Not from here: the stop queues behind this message.
			c.goBackground(func(ctx context.Context) {
				if err := c.stopTx(ctx, id, tx, reasonDeAuthorized, ""); err != nil && !errors.Is(err, ErrNoTransaction) {
					c.log.Warn("sim: stop deauthorized transaction", "charger_id", c.cfg.ID, "err", err)
				}
			})
		}
		return nil
	})
	c.publishStatuses(ctx)
	c.startMetering(id, tx)
	return nil
}

// startMetering starts the meter loop of tx unless it runs already or the
// charger is not running (serve starts it after the next boot).
func (c *Charger) startMetering(id int, tx *transaction) {
	c.mu.Lock()
	if tx.metering || tx.stale {
		c.mu.Unlock()
		return
	}
	tx.metering = true
	c.mu.Unlock()
	ok := c.goBackground(func(rctx context.Context) {
		tctx, cancel := context.WithCancel(rctx)
		defer cancel()
		c.mu.Lock()
		if c.conn(id).tx != tx {
			c.mu.Unlock()
			return
		}
		tx.cancel = cancel
		c.mu.Unlock()
		c.meterLoop(tctx, id, tx)
		c.mu.Lock()
		tx.metering, tx.cancel = false, nil
		c.mu.Unlock()
	})
	if !ok {
		c.mu.Lock()
		tx.metering = false
		c.mu.Unlock()
	}
}

// ensureMetering starts the meter loops of transactions that run without
// one (started before Run, or across a reboot).
func (c *Charger) ensureMetering() {
	c.mu.Lock()
	type pair struct {
		id int
		tx *transaction
	}
	var ps []pair
	for _, cn := range c.conns {
		if cn.tx != nil && !cn.tx.metering && !cn.tx.stale {
			ps = append(ps, pair{cn.id, cn.tx})
		}
	}
	c.mu.Unlock()
	for _, p := range ps {
		c.startMetering(p.id, p.tx)
	}
}

// offlineFlagLocked is the 2.0.1 offline flag of an event built now; c.mu
// must be held.
func (c *Charger) offlineFlagLocked() *bool {
	if c.sess != nil && c.accepted {
		return nil
	}
	return new(true)
}

// meterLoop sends meter values for tx at the configured sample interval
// until ctx ends.
func (c *Charger) meterLoop(ctx context.Context, id int, tx *transaction) {
	for {
		c.mu.Lock()
		iv := time.Duration(c.intSetting(keyMeterValueSampleInterval)) * time.Second
		c.mu.Unlock()
		if iv <= 0 {
			iv = time.Minute // sampling disabled: look again later
		}
		if !sleep(ctx, iv) {
			return
		}
		c.mu.Lock()
		disabled := c.intSetting(keyMeterValueSampleInterval) <= 0
		c.mu.Unlock()
		if !disabled {
			c.sendMeter(ctx, id, tx, meterPeriodic)
		}
	}
}

// Kinds of meter reports.
const (
	meterPeriodic = iota // a sample during a transaction
	meterTrigger         // TriggerMessage MeterValues
	txTrigger            // TriggerMessage TransactionEvent (2.0.1)
)

// sendMeter reports the meter of connector id (during tx, or any
// transaction when tx is nil): as MeterValues in 1.6; in 2.0.1 as
// TransactionEvent Updated during a transaction, except that a triggered
// MeterValues is a MeterValues message.
func (c *Charger) sendMeter(ctx context.Context, id int, tx *transaction, kind int) {
	periodic := kind == meterPeriodic
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil || (tx != nil && cn.tx != tx) || (cn.tx != nil && cn.tx.stale && kind == meterPeriodic) {
		c.mu.Unlock()
		return
	}
	c.meterLocked(cn)
	cur := cn.tx
	c.counters.MeterValuesSent++
	var action string
	var req any
	if c.cfg.Protocol == chargedesk.OCPP16 {
		rc := v16.ReadingContextSamplePeriodic
		if !periodic {
			rc = v16.ReadingContextTrigger
		}
		r := v16.MeterValuesRequest{ConnectorID: id, MeterValue: []v16.MeterValue{c.sampled16(cn, rc)}}
		if cur != nil && cur.id != "" {
			n, _ := strconv.Atoi(cur.id)
			r.TransactionID = &n
		}
		action, req = "MeterValues", r
	} else if cur != nil && kind != meterTrigger {
		trig, rc := v201.TriggerReasonMeterValuePeriodic, v201.ReadingContextSamplePeriodic
		if !periodic {
			trig, rc = v201.TriggerReasonTrigger, v201.ReadingContextTrigger
		}
		action, req = "TransactionEvent", v201.TransactionEventRequest{
			EventType: v201.TransactionEventUpdated, Timestamp: v201.DateTime{Time: c.now()},
			TriggerReason: trig, SeqNo: cur.nextSeq(), Offline: c.offlineFlagLocked(),
			TransactionInfo: v201.Transaction{TransactionID: cur.id, ChargingState: c.chargingState201(cn)},
			Evse:            &v201.EVSE{ID: id, ConnectorID: new(1)},
			MeterValue:      []v201.MeterValue{c.meter201(cn, rc)},
		}
	} else {
		action, req = "MeterValues", v201.MeterValuesRequest{EvseID: id,
			MeterValue: []v201.MeterValue{c.meter201(cn, v201.ReadingContextTrigger)}}
	}
	c.mu.Unlock()
	if action == "TransactionEvent" {
		c.sendTx(ctx, cur, false, func(ctx context.Context, s *session) error { return s.call(ctx, action, req, nil) })
		return
	}
	if err := c.callOnline(ctx, action, req, nil); err != nil {
		c.log.Debug("sim: meter values not sent", "charger_id", c.cfg.ID, "err", err)
	}
}

// stopTx ends the transaction on connector id (only want, when not nil)
// with a 1.6-spelled reason, sends StopTransaction or TransactionEvent
// Ended, releases the lock and reports the status.
func (c *Charger) stopTx(ctx context.Context, id int, want *transaction, reason, idTag string) error {
	send, err := c.endTx(id, want, reason, idTag)
	if err != nil {
		return err
	}
	send(ctx)
	return nil
}

// endTx ends the transaction in the charger's state at once and returns
// the function that reports it (the stop message, the status, a pending
// reset), so that a command handler can answer before reporting.
func (c *Charger) endTx(id int, want *transaction, reason, idTag string) (func(context.Context), error) {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return nil, ErrUnknownConnector
	}
	tx := cn.tx
	if tx == nil || (want != nil && tx != want) {
		c.mu.Unlock()
		return nil, ErrNoTransaction
	}
	c.meterLocked(cn)
	stopWh := cn.energyWh
	now := c.now()
	var ended any
	if c.cfg.Protocol == chargedesk.OCPP201 {
		r, trig := reason201(reason)
		ev := v201.TransactionEventRequest{
			EventType: v201.TransactionEventEnded, Timestamp: v201.DateTime{Time: now},
			TriggerReason: trig, SeqNo: tx.nextSeq(), Offline: c.offlineFlagLocked(),
			Evse:       &v201.EVSE{ID: id, ConnectorID: new(1)},
			MeterValue: []v201.MeterValue{c.meter201(cn, v201.ReadingContextTransactionEnd)},
		}
		cn.tx = nil
		ev.TransactionInfo = v201.Transaction{TransactionID: tx.id, StoppedReason: r, ChargingState: c.chargingState201(cn)}
		if idTag != "" {
			typ := ""
			if idTag == tx.idTag {
				typ = tx.idType
			}
			tok := idToken201(idTag, typ)
			ev.IDToken = &tok
		}
		ended = ev
	}
	cn.tx, cn.suspendedEV, cn.suspendedEVSE = nil, false, false
	cn.finishing = cn.plugged
	cn.lock = false
	if cn.scheduled != nil {
		cn.inoperative = !*cn.scheduled
		cn.scheduled = nil
	}
	c.onTxEndedLocked(cn, tx)
	if tx.cancel != nil {
		tx.cancel()
	}
	c.counters.TransactionsStopped++
	c.notifyLocked()
	c.mu.Unlock()

	return func(ctx context.Context) {
		c.sendTx(ctx, tx, false, func(ctx context.Context, s *session) error {
			if c.cfg.Protocol == chargedesk.OCPP201 {
				return s.call(ctx, "TransactionEvent", ended, nil)
			}
			c.mu.Lock()
			txid, err := strconv.Atoi(tx.id)
			c.mu.Unlock()
			if err != nil {
				// Never a StopTransaction for a transaction the CSMS did
				// not number.
				return errTxLost
			}
			req := v16.StopTransactionRequest{IDTag: idTag, MeterStop: int(stopWh), Timestamp: v16.DateTime{Time: now},
				TransactionID: txid, Reason: v16.Reason(reason)}
			return s.call(ctx, "StopTransaction", req, nil)
		})
		c.publishStatuses(ctx)
		c.runPendingReset(ctx)
	}, nil
}

// transactionByID finds the connector running the transaction id.
func (c *Charger) transactionByID(id string) (int, *transaction) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cn := range c.conns {
		if cn.tx != nil && cn.tx.id == id && id != "" {
			return cn.id, cn.tx
		}
	}
	return 0, nil
}
