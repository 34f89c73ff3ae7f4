package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// This file holds the behaviour shared by the 1.6 and 2.0.1 command
// handlers: boot, remote start, reset, availability and unlock.

// sendBoot sends a BootNotification on s.
func (c *Charger) sendBoot(ctx context.Context, s *session) (string, time.Duration, error) {
	c.mu.Lock()
	reason := c.bootReason
	c.mu.Unlock()
	if c.cfg.Protocol == chargedesk.OCPP16 {
		req := v16.BootNotificationRequest{ChargePointVendor: c.cfg.Vendor, ChargePointModel: c.cfg.Model,
			ChargePointSerialNumber: c.cfg.Serial, FirmwareVersion: c.cfg.Firmware}
		var resp v16.BootNotificationResponse
		if err := s.call(ctx, "BootNotification", req, &resp); err != nil {
			return "", 0, err
		}
		return string(resp.Status), time.Duration(resp.Interval) * time.Second, nil
	}
	req := v201.BootNotificationRequest{Reason: v201.BootReason(reason), ChargingStation: v201.ChargingStation{
		VendorName: c.cfg.Vendor, Model: c.cfg.Model, SerialNumber: c.cfg.Serial, FirmwareVersion: c.cfg.Firmware}}
	var resp v201.BootNotificationResponse
	if err := s.call(ctx, "BootNotification", req, &resp); err != nil {
		return "", 0, err
	}
	return string(resp.Status), time.Duration(resp.Interval) * time.Second, nil
}

// triggeredBoot sends a BootNotification asked for by TriggerMessage and
// applies its answer as a boot's: Accepted makes the session accepted
// (bootLoop stops waiting) with the answer's heartbeat interval.
func (c *Charger) triggeredBoot(ctx context.Context, s *session) {
	c.mu.Lock()
	c.bootReason = "Triggered"
	c.mu.Unlock()
	status, interval, err := c.sendBoot(ctx, s)
	c.mu.Lock()
	c.bootReason = "PowerUp"
	hb := false
	if err == nil {
		c.boot = chargedesk.RegistrationStatus(status)
		c.counters.Boots++
		if status == "Accepted" && c.sess == s {
			c.accepted = true
			c.onAcceptedLocked()
			if interval > 0 {
				c.settings[keyHeartbeatInterval] = fmt.Sprint(int(interval / time.Second))
				hb = true
			}
		}
	}
	c.notifyLocked()
	c.mu.Unlock()
	if hb {
		c.heartbeatChanged()
	}
}

// bootAccepted reports whether the boot of the current session s has been
// accepted (by the 2.0.1 rule F06.FR.17, a triggered BootNotification is
// then refused).
func (c *Charger) bootAccepted(s *session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess == s && c.accepted
}

// pickRemoteConnector chooses the connector of a remote start: the one
// asked for, else the first idle one with a cable in, else the first idle
// one. It returns 0 when none can start.
func (c *Charger) pickRemoteConnector(asked *int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := func(cn *connector) bool {
		return cn != nil && cn.tx == nil && !cn.faulted && !cn.inoperative && cn.authTag == ""
	}
	if asked != nil {
		if cn := c.conn(*asked); ok(cn) {
			return cn.id
		}
		return 0
	}
	for _, cn := range c.conns {
		if ok(cn) && cn.plugged {
			return cn.id
		}
	}
	for _, cn := range c.conns {
		if ok(cn) {
			return cn.id
		}
	}
	return 0
}

// remoteStart is the follow-up of an accepted remote start: Authorize
// first when the configuration says so, then wait for the cable and start.
func (c *Charger) remoteStart(ctx context.Context, id int, idTag, idType string, remoteStartID *int) {
	c.mu.Lock()
	ignored := c.hasFaultLocked(FaultRemoteStartIgnored, id)
	authFirst := c.boolSetting(keyAuthorizeRemoteTxRequests)
	c.mu.Unlock()
	if ignored {
		c.log.Info("sim: remote start ignored (fault)", "charger_id", c.cfg.ID, "connector", id)
		return
	}
	if authFirst {
		status, err := c.authorize(ctx, id, idTag, idType)
		if err != nil || status != AuthAccepted {
			c.log.Info("sim: remote start not authorized", "charger_id", c.cfg.ID, "status", status, "err", err)
			return
		}
	}
	c.authorizeForStart(ctx, id, idTag, idType, remoteStartID)
}

// busy reports whether any transaction runs.
func (c *Charger) busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cn := range c.conns {
		if cn.tx != nil {
			return true
		}
	}
	return false
}

// doReset stops every transaction, drops the connection and reboots after
// RebootDelay (Run reconnects and boots with reason RemoteReset).
// Configuration, the local list, the cache and Inoperative connectors
// persist; authorizations and the faults a reboot clears do not.
func (c *Charger) doReset(ctx context.Context, hard bool) {
	reason := reasonSoftReset
	if hard {
		reason = reasonHardReset
	}
	c.mu.Lock()
	c.resetOnIdle = false
	ids := make([]int, 0, len(c.conns))
	for _, cn := range c.conns {
		if cn.tx != nil {
			ids = append(ids, cn.id)
		}
	}
	c.mu.Unlock()
	for _, id := range ids {
		send, err := c.endTx(id, nil, reason, "")
		if err == nil {
			send(ctx)
		}
	}
	c.mu.Lock()
	for _, cn := range c.conns {
		cn.authTag, cn.authRemote, cn.authRemoteID = "", false, nil
		cn.authSeq++
		cn.suspendedEVSE = false
	}
	c.onRebootLocked()
	c.rebootReq = true
	c.bootReason = "RemoteReset"
	s := c.sess
	c.notifyLocked()
	c.mu.Unlock()
	if s != nil {
		s.close(websocket.StatusServiceRestart, "rebooting", nil)
	}
}

// runPendingReset runs a scheduled reset once no transaction is left.
func (c *Charger) runPendingReset(ctx context.Context) {
	c.mu.Lock()
	pending := c.resetOnIdle
	c.mu.Unlock()
	if !pending || c.busy() {
		return
	}
	c.doReset(ctx, false)
}

// changeAvailability applies an availability change to connector id (0 for
// all). It returns "Accepted", "Scheduled" (a transaction runs: applied when
// it ends) or "Rejected" (no such connector).
func (c *Charger) changeAvailability(id int, operative bool) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var targets []*connector
	if id == 0 {
		targets = c.conns
	} else if cn := c.conn(id); cn != nil {
		targets = []*connector{cn}
	} else {
		return "Rejected"
	}
	status := "Accepted"
	for _, cn := range targets {
		if cn.tx != nil && !operative {
			v := operative
			cn.scheduled = &v
			status = "Scheduled"
			continue
		}
		cn.scheduled = nil
		cn.inoperative = !operative
		c.onAvailabilityLocked(cn, operative)
	}
	c.notifyLocked()
	return status
}

// unlock releases connector id's lock; it reports false when the actuator
// fails.
func (c *Charger) unlock(id int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cn := c.conn(id)
	if c.hasFaultLocked(FaultLockMechanical, id) {
		// The actuator failed: 1.6 reports it as ConnectorLockFailure
		// (2.0.1 StatusNotification has no error code).
		cn.lock = true
		cn.setProblem(FaultLockMechanical, string(v16.ChargePointErrorCodeConnectorLockFailure), "", "unlock failed")
		c.notifyLocked()
		return false
	}
	cn.lock = false
	cn.clearProblem(FaultLockAfterSession)
	c.onUnlockLocked(cn)
	c.notifyLocked()
	return true
}

// triggerStatus answers a triggered StatusNotification for connector id (0
// for all).
func (c *Charger) triggerStatus(ctx context.Context, id int) {
	c.mu.Lock()
	var ids []int
	for _, cn := range c.conns {
		if id == 0 || cn.id == id {
			c.onTriggerStatusLocked(cn)
			ids = append(ids, cn.id)
		}
	}
	c.mu.Unlock()
	if id == 0 && c.cfg.Protocol == chargedesk.OCPP16 {
		c.mu.Lock()
		st := c.station16Locked()
		c.mu.Unlock()
		_ = c.callOnline(ctx, "StatusNotification", st, nil)
	}
	for _, i := range ids {
		if err := c.sendStatus(ctx, i); err != nil {
			c.log.Debug("sim: triggered status failed", "charger_id", c.cfg.ID, "err", err)
		}
	}
}

// triggerMeter answers a triggered MeterValues (kind meterTrigger) or
// TransactionEvent (kind txTrigger) for connector id (0 for all).
func (c *Charger) triggerMeter(ctx context.Context, id, kind int) {
	for i := 1; i <= len(c.cfg.Connectors); i++ {
		if id != 0 && id != i {
			continue
		}
		c.mu.Lock()
		idle := c.conn(i).tx == nil
		c.mu.Unlock()
		if kind == txTrigger && idle {
			continue
		}
		c.sendMeter(ctx, i, nil, kind)
	}
}
