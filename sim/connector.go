package sim

import (
	"context"
	"fmt"
	"strings"
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
	authType     string // 2.0.1 IdTokenType of authTag ("" for ISO14443)
	authRemoteID *int
	authRemote   bool
	authSeq      int

	tx        *transaction
	finishing bool // a transaction ended with the cable still in
	// reportAt backdates the next status report: the status it reports
	// began then (a fault injected with a past).
	reportAt time.Time

	energyWh float64

	// problems are the errors faults put on the connector, one slot per
	// fault so that clearing one leaves the others; faulted makes the
	// status Faulted.
	problems      map[Fault]problem
	faulted       bool
	suspendedEV   bool
	suspendedEVSE bool
	// override, when set, is reported instead of the real status (a
	// stale report the charger never corrects).
	override chargedesk.ConnectorStatus

	// reported is the last status sent on the wire, reportedErr its
	// error code; notified holds the problems announced by a 2.0.1
	// NotifyEvent on the current connection.
	reported    string
	reportedErr string
	notified    map[Fault]problem
}

// problem is an error a fault puts on a connector: a 1.6
// ChargePointErrorCode with the vendor's code and text.
type problem struct {
	code, vendor, info string
}

// problemOrder ranks the faults' errors: a connector reports the first it
// has (1.6 StatusNotification carries one error code).
var problemOrder = []Fault{FaultHardwareFaultPower, FaultLockMechanical, FaultLockAfterSession,
	FaultHandshakeTimeout, FaultReaderFault}

// setProblem puts fault f's error on the connector; c.mu must be held.
func (cn *connector) setProblem(f Fault, code, vendor, info string) {
	if cn.problems == nil {
		cn.problems = map[Fault]problem{}
	}
	cn.problems[f] = problem{code: code, vendor: vendor, info: info}
}

// clearProblem removes fault f's error only; c.mu must be held.
func (cn *connector) clearProblem(f Fault) { delete(cn.problems, f) }

// problem returns the error the connector reports (zero when none); c.mu
// must be held.
func (cn *connector) problem() problem {
	for _, f := range problemOrder {
		if p, ok := cn.problems[f]; ok {
			return p
		}
	}
	return problem{}
}

// transaction is a running transaction on a connector.
type transaction struct {
	// id is the CSMS's transactionId (1.6, "" until StartTransaction is
	// answered) or the charger's own id (2.0.1).
	id            string
	idTag         string
	idType        string // 2.0.1 IdTokenType ("" for ISO14443)
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
	// lost marks a transaction whose start message was given up after
	// its attempts: its later messages are dropped, never sent with an
	// id the CSMS does not know.
	lost bool
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
	if p := cn.problem(); p.code != "" {
		return p.code
	}
	return string(v16.ChargePointErrorCodeNoError)
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
	if !cn.reportAt.IsZero() {
		now, cn.reportAt = cn.reportAt, time.Time{}
	}
	if c.cfg.Protocol == chargedesk.OCPP16 {
		p := cn.problem()
		return v16.StatusNotificationRequest{
			ConnectorID:     cn.id,
			ErrorCode:       v16.ChargePointErrorCode(c.errorCode16(cn)),
			Info:            p.info,
			Status:          v16.ChargePointStatus(st),
			Timestamp:       v16.DateTime{Time: now},
			VendorErrorCode: p.vendor,
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
	events := c.problemEventsLocked()
	c.notifyLocked()
	c.mu.Unlock()
	for _, it := range items {
		if err := s.call(ctx, "StatusNotification", it.req, nil); err != nil {
			c.log.Debug("sim: status notification failed", "charger_id", c.cfg.ID, "err", err)
		}
	}
	c.sendEvents(ctx, s, events)
}

// problemEventsLocked returns the 2.0.1 NotifyEvent data for the problems
// raised or cleared since they were last announced, and marks them
// announced; nil for a 1.6 charger (its StatusNotification carries the
// error code). c.mu must be held.
//
// A connector problem is reported on component Connector of its EVSE, the
// reader fault on component TokenReader; the variable is Problem
// (actualValue "true" or "false") and techCode the 1.6 error code, with the
// vendor's code and text as techInfo.
func (c *Charger) problemEventsLocked() []v201.EventData {
	if c.cfg.Protocol != chargedesk.OCPP201 {
		return nil
	}
	now := c.now()
	var out []v201.EventData
	event := func(cn *connector, f Fault, p problem, raised bool) {
		c.eventSeq++
		d := v201.EventData{
			EventID: c.eventSeq, Timestamp: v201.DateTime{Time: now}, Trigger: v201.EventTriggerDelta,
			ActualValue: fmt.Sprint(raised), TechCode: p.code,
			Component:             v201.Component{Name: "Connector", Evse: &v201.EVSE{ID: cn.id, ConnectorID: new(1)}},
			Variable:              v201.Variable{Name: "Problem"},
			EventNotificationType: v201.EventNotificationTypeHardWiredNotification,
		}
		if f == FaultReaderFault {
			d.Component = v201.Component{Name: "TokenReader"}
		}
		if p.vendor != "" || p.info != "" {
			d.TechInfo = strings.TrimPrefix(p.vendor+": "+p.info, ": ")
		}
		if !raised {
			d.Cleared = new(true)
		}
		if cn.tx != nil {
			d.TransactionID = cn.tx.id
		}
		out = append(out, d)
	}
	for _, cn := range c.conns {
		for _, f := range problemOrder {
			if f == FaultReaderFault && cn != c.conns[0] {
				continue // one reader for the whole station
			}
			p, has := cn.problems[f]
			was, told := cn.notified[f]
			switch {
			case has && (!told || was != p):
				event(cn, f, p, true)
				if cn.notified == nil {
					cn.notified = map[Fault]problem{}
				}
				cn.notified[f] = p
			case !has && told:
				event(cn, f, was, false)
				delete(cn.notified, f)
			}
		}
	}
	return out
}

// sendEvents sends one NotifyEvent with events, if any.
func (c *Charger) sendEvents(ctx context.Context, s *session, events []v201.EventData) {
	if len(events) == 0 {
		return
	}
	req := v201.NotifyEventRequest{GeneratedAt: v201.DateTime{Time: c.now()}, SeqNo: 0, EventData: events}
	if err := s.call(ctx, "NotifyEvent", req, nil); err != nil {
		c.log.Debug("sim: notify event failed", "charger_id", c.cfg.ID, "err", err)
	}
}

// sendAllStatuses reports every connector (and, in 1.6, connector 0) after
// a boot.
func (c *Charger) sendAllStatuses(ctx context.Context, s *session) {
	c.mu.Lock()
	var reqs []any
	if c.cfg.Protocol == chargedesk.OCPP16 {
		reqs = append(reqs, c.station16Locked())
	}
	for _, cn := range c.conns {
		st := c.wireStatus(cn)
		cn.reported, cn.reportedErr = string(st), c.errorCode16(cn)
		reqs = append(reqs, c.statusReq(cn, st))
	}
	events := c.problemEventsLocked()
	c.notifyLocked()
	c.mu.Unlock()
	for _, r := range reqs {
		if err := s.call(ctx, "StatusNotification", r, nil); err != nil {
			c.log.Debug("sim: status notification failed", "charger_id", c.cfg.ID, "err", err)
			return
		}
	}
	c.sendEvents(ctx, s, events)
}

// station16Locked is the 1.6 StatusNotification of connector 0, the
// charger as a whole: Unavailable when every connector is, with the
// station-wide reader fault as its error; c.mu must be held.
func (c *Charger) station16Locked() v16.StatusNotificationRequest {
	st := v16.ChargePointStatusAvailable
	all := true
	for _, cn := range c.conns {
		all = all && cn.inoperative
	}
	if all {
		st = v16.ChargePointStatusUnavailable
	}
	req := v16.StatusNotificationRequest{ConnectorID: 0, ErrorCode: v16.ChargePointErrorCodeNoError,
		Status: st, Timestamp: v16.DateTime{Time: c.now()}}
	if st := c.faults[faultKey{FaultReaderFault, 0}]; st != nil {
		req.ErrorCode = v16.ChargePointErrorCodeReaderFailure
	}
	return req
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
