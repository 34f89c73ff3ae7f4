package sim

import (
	"context"
	"time"

	"github.com/chargedesk/chargedesk"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// PlugIn puts a vehicle's cable into connector id. If a token is already
// authorized there, the transaction starts.
func (c *Charger) PlugIn(ctx context.Context, id int) error {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	if cn.plugged {
		c.mu.Unlock()
		return nil
	}
	cn.plugged, cn.finishing = true, false
	tag, typ, remote, rid := cn.authTag, cn.authType, cn.authRemote, cn.authRemoteID
	start := tag != "" && cn.tx == nil && !cn.faulted && !cn.inoperative && !c.hasFaultLocked(FaultControllerHung, id)
	c.notifyLocked()
	c.mu.Unlock()
	c.publishStatuses(ctx)
	if start {
		return c.startTx(ctx, id, tag, typ, remote, rid)
	}
	return nil
}

// Unplug takes the cable out of connector id. It fails while the charger's
// lock (during a transaction on a locking connector, or a lock fault) or
// the vehicle holds the cable. On a J1772 connector, which has no charger
// lock, unplugging ends a running transaction (EVDisconnected).
func (c *Charger) Unplug(ctx context.Context, id int) error {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	if !cn.plugged {
		c.mu.Unlock()
		return nil
	}
	if cn.vehicleLock {
		c.mu.Unlock()
		return ErrVehicleLock
	}
	if cn.lock {
		c.mu.Unlock()
		return ErrCableLocked
	}
	tx := cn.tx
	cn.plugged, cn.finishing = false, false
	cn.authTag, cn.authRemote, cn.authRemoteID = "", false, nil
	cn.authSeq++
	c.onUnplugLocked(cn)
	c.notifyLocked()
	c.mu.Unlock()
	if tx != nil {
		if err := c.stopTx(ctx, id, tx, reasonEVDisconnected, ""); err != nil {
			return err
		}
		return nil
	}
	c.publishStatuses(ctx)
	return nil
}

// TapCard presents an RFID token at connector id. It returns the
// authorization status (from the local list, the cache or an Authorize, as
// the configuration says). On Accepted the transaction starts when the
// cable is in (or when it is plugged in within ConnectionTimeOut).
// Presenting the token of the running transaction stops it.
//
// A token longer than the protocol allows (20 characters in 1.6, 36 in
// 2.0.1) is refused with ErrTokenTooLong.
func (c *Charger) TapCard(ctx context.Context, id int, idTag string) (string, error) {
	if err := c.checkToken(idTag); err != nil {
		return "", err
	}
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return "", ErrUnknownConnector
	}
	if c.hasFaultLocked(FaultReaderFault, id) {
		c.mu.Unlock()
		return "", ErrReaderFault
	}
	if tx := cn.tx; tx != nil && tx.stale {
		// The charger still believes in a transaction it never closed:
		// it asks the CSMS, but cannot start.
		c.mu.Unlock()
		return c.authorize(ctx, id, idTag, "")
	}
	if tx := cn.tx; tx != nil {
		c.mu.Unlock()
		if tx.idTag == idTag {
			return AuthAccepted, c.stopTx(ctx, id, tx, reasonLocal, idTag)
		}
		return "", ErrConnectorBusy
	}
	if cn.faulted || cn.inoperative {
		c.mu.Unlock()
		return "", ErrUnavailable
	}
	c.mu.Unlock()

	status, err := c.authorize(ctx, id, idTag, "")
	if err != nil || status != AuthAccepted {
		return status, err
	}
	c.mu.Lock()
	if c.hasFaultLocked(FaultControllerHung, id) {
		// The controller shows Preparing and never starts.
		c.mu.Unlock()
		return status, nil
	}
	cn.authTag, cn.authType, cn.authRemote, cn.authRemoteID = idTag, "", false, nil
	cn.authSeq++
	seq, plugged := cn.authSeq, cn.plugged
	c.notifyLocked()
	c.mu.Unlock()
	if plugged {
		return status, c.startTx(ctx, id, idTag, "", false, nil)
	}
	c.publishStatuses(ctx)
	c.expireAuthorization(id, seq)
	return status, nil
}

// authorizeForStart records a token (of 2.0.1 type idType) authorized by
// the CSMS (remote start) and starts when the cable is in.
func (c *Charger) authorizeForStart(ctx context.Context, id int, idTag, idType string, remoteStartID *int) {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil || cn.tx != nil {
		c.mu.Unlock()
		return
	}
	cn.authTag, cn.authType, cn.authRemote, cn.authRemoteID = idTag, idType, true, remoteStartID
	cn.authSeq++
	seq, plugged := cn.authSeq, cn.plugged
	c.notifyLocked()
	c.mu.Unlock()
	if plugged {
		if err := c.startTx(ctx, id, idTag, idType, true, remoteStartID); err != nil {
			c.log.Info("sim: remote start failed", "charger_id", c.cfg.ID, "connector", id, "err", err)
		}
		return
	}
	c.publishStatuses(ctx)
	c.expireAuthorization(id, seq)
}

// expireAuthorization drops an authorization that found no cable within
// ConnectionTimeOut.
func (c *Charger) expireAuthorization(id, seq int) {
	c.goBackground(func(ctx context.Context) {
		c.mu.Lock()
		d := time.Duration(c.intSetting(keyConnectionTimeOut)) * time.Second
		c.mu.Unlock()
		if !sleep(ctx, d) {
			return
		}
		c.mu.Lock()
		cn := c.conn(id)
		expired := cn.authSeq == seq && cn.authTag != "" && cn.tx == nil && !cn.plugged
		if expired {
			cn.authTag, cn.authRemote, cn.authRemoteID = "", false, nil
			cn.authSeq++
		}
		c.mu.Unlock()
		if expired {
			c.publishStatuses(ctx)
		}
	})
}

// StopLocal stops the transaction on connector id as the driver would on
// the charger's screen.
func (c *Charger) StopLocal(ctx context.Context, id int) error {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	tx := cn.tx
	c.mu.Unlock()
	if tx == nil {
		return ErrNoTransaction
	}
	return c.stopTx(ctx, id, tx, reasonLocal, tx.idTag)
}

// SetVehicleSuspended makes the vehicle on connector id refuse (true) or
// accept (false) energy during a transaction: status SuspendedEV.
func (c *Charger) SetVehicleSuspended(ctx context.Context, id int, suspended bool) error {
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	c.meterLocked(cn)
	changed := cn.suspendedEV != suspended
	cn.suspendedEV = suspended
	var ev any
	tx := cn.tx
	if changed && tx != nil && c.cfg.Protocol == chargedesk.OCPP201 {
		ev = v201.TransactionEventRequest{
			EventType: v201.TransactionEventUpdated, Timestamp: v201.DateTime{Time: c.now()},
			TriggerReason: v201.TriggerReasonChargingStateChanged, SeqNo: cn.tx.nextSeq(), Offline: c.offlineFlagLocked(),
			TransactionInfo: v201.Transaction{TransactionID: cn.tx.id, ChargingState: c.chargingState201(cn)},
			Evse:            &v201.EVSE{ID: id, ConnectorID: new(1)},
		}
	}
	c.notifyLocked()
	c.mu.Unlock()
	if ev != nil {
		c.sendTx(ctx, tx, false, func(ctx context.Context, s *session) error { return s.call(ctx, "TransactionEvent", ev, nil) })
	}
	c.publishStatuses(ctx)
	return nil
}

// ReleaseVehicleLock unlocks the cable from the vehicle side (doors
// unlocked, app or button), as the driver would.
func (c *Charger) ReleaseVehicleLock(id int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cn := c.conn(id)
	if cn == nil {
		return ErrUnknownConnector
	}
	cn.vehicleLock = false
	c.notifyLocked()
	return nil
}
