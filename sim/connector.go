package sim

import (
	"context"
	"time"

	"github.com/chargedesk/chargedesk"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// connector is the state of one connector; guarded by Charger.mu.
type connector struct {
	id   int
	spec ConnectorSpec

	plugged     bool
	lock        bool // the charger's own lock holds the plug
	vehicleLock bool // the vehicle holds the plug
	inoperative bool
	// scheduled is the availability to apply when the transaction ends.
	scheduled *bool

	// authTag is a token authorized and waiting for the cable (or for the
	// start); authSeq invalidates its connection timeout.
	authTag      string
	authRemoteID *int
	authRemote   bool
	authSeq      int

	tx        *transaction
	finishing bool // a transaction ended with the cable still in

	energyWh float64

	// errorCode and vendorErrorCode describe a problem (1.6 terms);
	// faulted makes the status Faulted.
	errorCode       string
	vendorErrorCode string
	info            string
	faulted         bool
	suspendedEV     bool
	suspendedEVSE   bool
	// override, when set, is reported instead of the real status (a
	// stale report the charger never corrects).
	override chargedesk.ConnectorStatus

	// reported is the last status sent on the wire, reportedErr its
	// error code.
	reported    string
	reportedErr string
}

// transaction is a running transaction on a connector.
type transaction struct {
	// id is the CSMS's transactionId (1.6, "" until StartTransaction is
	// answered) or the charger's own id (2.0.1).
	id            string
	idTag         string
	remote        bool
	remoteStartID *int
	startWh       float64
	startedAt     time.Time
	lastMeterAt   time.Time
	seqNo         int
	cancel        context.CancelFunc
	metering      bool
	// stale marks a transaction the charger forgot to close
	// (stale_transaction): no energy flows and the connector shows
	// Finishing.
	stale bool
}

// nextSeq returns the 2.0.1 seqNo of the next event; c.mu must be held.
func (t *transaction) nextSeq() int {
	n := t.seqNo
	t.seqNo++
	return n
}

// conn returns connector id or nil; c.mu must be held.
func (c *Charger) conn(id int) *connector {
	if id < 1 || id > len(c.conns) {
		return nil
	}
	return c.conns[id-1]
}

// status16 is a connector's status in 1.6 terms; c.mu must be held.
func (c *Charger) status16(cn *connector) chargedesk.ConnectorStatus {
	switch {
	case cn.faulted:
		return chargedesk.StatusFaulted
	case cn.tx != nil && cn.tx.stale:
		return chargedesk.StatusFinishing
	case cn.tx != nil && cn.suspendedEV:
		return chargedesk.StatusSuspendedEV
	case cn.tx != nil && cn.suspendedEVSE:
		return chargedesk.StatusSuspendedEVSE
	case cn.tx != nil:
		return chargedesk.StatusCharging
	case cn.inoperative:
		return chargedesk.StatusUnavailable
	case cn.finishing && cn.plugged:
		return chargedesk.StatusFinishing
	case cn.plugged || cn.authTag != "":
		return chargedesk.StatusPreparing
	}
	return chargedesk.StatusAvailable
}

// status201 is a connector's 2.0.1 connectorStatus; c.mu must be held.
func (c *Charger) status201(cn *connector) chargedesk.ConnectorStatus {
	switch {
	case cn.faulted:
		return chargedesk.StatusFaulted
	case cn.tx != nil || cn.plugged:
		return chargedesk.StatusOccupied
	case cn.inoperative:
		return chargedesk.StatusUnavailable
	}
	return chargedesk.StatusAvailable
}

// wireStatus is the status to report for cn; c.mu must be held.
func (c *Charger) wireStatus(cn *connector) chargedesk.ConnectorStatus {
	if cn.override != "" {
		return cn.override
	}
	if c.cfg.Protocol == chargedesk.OCPP16 {
		return c.status16(cn)
	}
	return c.status201(cn)
}

func (c *Charger) errorCode16(cn *connector) string {
	if cn.errorCode == "" {
		return string(v16.ChargePointErrorCodeNoError)
	}
	return cn.errorCode
}

// powerW is the power the connector delivers now; c.mu must be held.
func (c *Charger) powerW(cn *connector) float64 {
	if cn.tx == nil || cn.tx.stale || cn.suspendedEV || cn.suspendedEVSE || cn.faulted {
		return 0
	}
	// A vehicle rarely draws the full rating.
	return cn.spec.MaxPowerKW * 1000 * c.powerFactorLocked(cn)
}

// statusReq builds the StatusNotification payload for cn; c.mu must be held.
func (c *Charger) statusReq(cn *connector, st chargedesk.ConnectorStatus) any {
	now := c.now()
	if c.cfg.Protocol == chargedesk.OCPP16 {
		return v16.StatusNotificationRequest{
			ConnectorID:     cn.id,
			ErrorCode:       v16.ChargePointErrorCode(c.errorCode16(cn)),
			Info:            cn.info,
			Status:          v16.ChargePointStatus(st),
			Timestamp:       v16.DateTime{Time: now},
			VendorErrorCode: cn.vendorErrorCode,
		}
	}
	return v201.StatusNotificationRequest{
		Timestamp:       v201.DateTime{Time: now},
		ConnectorStatus: v201.ConnectorStatus(st),
		EvseID:          cn.id,
		ConnectorID:     1,
	}
}

// publishStatuses sends a StatusNotification for every connector whose
// status or error changed since it was last reported.
func (c *Charger) publishStatuses(ctx context.Context) {
	s := c.online()
	if s == nil {
		c.notify()
		return
	}
	type item struct {
		cn  *connector
		req any
	}
	var items []item
	c.mu.Lock()
	for _, cn := range c.conns {
		st := c.wireStatus(cn)
		ec := c.errorCode16(cn)
		if string(st) == cn.reported && ec == cn.reportedErr {
			continue
		}
		if cn.reported != "" && c.silencedLocked(cn.id) {
			continue
		}
		cn.reported, cn.reportedErr = string(st), ec
		items = append(items, item{cn, c.statusReq(cn, st)})
	}
	c.notifyLocked()
	c.mu.Unlock()
	for _, it := range items {
		if err := s.call(ctx, "StatusNotification", it.req, nil); err != nil {
			c.log.Debug("sim: status notification failed", "charger_id", c.cfg.ID, "err", err)
		}
	}
}

// sendAllStatuses reports every connector (and, in 1.6, connector 0) after
// a boot.
func (c *Charger) sendAllStatuses(ctx context.Context, s *session) {
	c.mu.Lock()
	var reqs []any
	if c.cfg.Protocol == chargedesk.OCPP16 {
		st := v16.ChargePointStatusAvailable
		all := true
		for _, cn := range c.conns {
			all = all && cn.inoperative
		}
		if all {
			st = v16.ChargePointStatusUnavailable
		}
		reqs = append(reqs, v16.StatusNotificationRequest{ConnectorID: 0, ErrorCode: v16.ChargePointErrorCodeNoError,
			Status: st, Timestamp: v16.DateTime{Time: c.now()}})
	}
	for _, cn := range c.conns {
		st := c.wireStatus(cn)
		cn.reported, cn.reportedErr = string(st), c.errorCode16(cn)
		reqs = append(reqs, c.statusReq(cn, st))
	}
	c.notifyLocked()
	c.mu.Unlock()
	for _, r := range reqs {
		if err := s.call(ctx, "StatusNotification", r, nil); err != nil {
			c.log.Debug("sim: status notification failed", "charger_id", c.cfg.ID, "err", err)
			return
		}
	}
}

// sendStatus reports one connector now, whether or not it changed (for
// TriggerMessage).
func (c *Charger) sendStatus(ctx context.Context, id int) error {
	s := c.online()
	if s == nil {
		return ErrOffline
	}
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil {
		c.mu.Unlock()
		return nil
	}
	st := c.wireStatus(cn)
	cn.reported, cn.reportedErr = string(st), c.errorCode16(cn)
	req := c.statusReq(cn, st)
	c.mu.Unlock()
	return s.call(ctx, "StatusNotification", req, nil)
}
