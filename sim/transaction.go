package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
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

// sendTx sends a transaction message now, or queues it until the next
// accepted boot when the charger is off line or older messages wait: the
// CSMS receives transaction messages in order and never loses one.
func (c *Charger) sendTx(ctx context.Context, f txSend) {
	c.mu.Lock()
	s := c.sess
	direct := s != nil && c.accepted && !c.flushing && len(c.txQueue) == 0
	if !direct {
		c.txQueue = append(c.txQueue, f)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := f(ctx, s); errors.Is(err, errSessionClosed) {
		c.mu.Lock()
		c.txQueue = append([]txSend{f}, c.txQueue...)
		c.mu.Unlock()
	} else if err != nil {
		c.log.Warn("sim: transaction message failed", "charger_id", c.cfg.ID, "err", err)
	}
}

// flushTxQueue sends the queued transaction messages in order.
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
		if len(c.txQueue) == 0 || c.sess == nil || !c.accepted || ctx.Err() != nil {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		f, s := c.txQueue[0], c.sess
		c.txQueue = c.txQueue[1:]
		c.mu.Unlock()
		if err := f(ctx, s); errors.Is(err, errSessionClosed) || ctx.Err() != nil {
			c.mu.Lock()
			c.txQueue = append([]txSend{f}, c.txQueue...)
			c.flushing = false
			c.mu.Unlock()
			return
		} else if err != nil {
			c.log.Warn("sim: queued transaction message failed", "charger_id", c.cfg.ID, "err", err)
		}
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
func (c *Charger) startTx(ctx context.Context, id int, idTag string, remote bool, remoteStartID *int) error {
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
	tx := &transaction{idTag: idTag, remote: remote, remoteStartID: remoteStartID,
		startWh: cn.energyWh, startedAt: now, lastMeterAt: now}
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
		tok := idToken201(idTag, remote)
		started = v201.TransactionEventRequest{
			EventType: v201.TransactionEventStarted, Timestamp: v201.DateTime{Time: now},
			TriggerReason: trig, SeqNo: tx.nextSeq(), Offline: c.offlineFlagLocked(),
			TransactionInfo: v201.Transaction{TransactionID: tx.id, ChargingState: c.chargingState201(cn), RemoteStartID: remoteStartID},
			Evse:            &v201.EVSE{ID: id, ConnectorID: new(1)},
			IDToken:         &tok,
			MeterValue:      []v201.MeterValue{c.meter201(cn, v201.ReadingContextTransactionBegin)},
		}
	}
	c.notifyLocked()
	c.mu.Unlock()

	c.sendTx(ctx, func(ctx context.Context, s *session) error {
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
			if err := c.stopTx(ctx, id, tx, reasonDeAuthorized, ""); err != nil && !errors.Is(err, ErrNoTransaction) {
				c.log.Warn("sim: stop deauthorized transaction", "charger_id", c.cfg.ID, "err", err)
			}
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
		c.sendTx(ctx, func(ctx context.Context, s *session) error { return s.call(ctx, action, req, nil) })
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
			tok := idToken201(idTag, false)
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
	c.onTxEndedLocked(cn)
	if tx.cancel != nil {
		tx.cancel()
	}
	c.counters.TransactionsStopped++
	c.notifyLocked()
	c.mu.Unlock()

	return func(ctx context.Context) {
		c.sendTx(ctx, func(ctx context.Context, s *session) error {
			if c.cfg.Protocol == chargedesk.OCPP201 {
				return s.call(ctx, "TransactionEvent", ended, nil)
			}
			c.mu.Lock()
			txid, _ := strconv.Atoi(tx.id)
			c.mu.Unlock()
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
