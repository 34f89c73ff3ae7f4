package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// ConnectorType is the plug standard of a connector.
type ConnectorType string

// The plug standards of North American public chargers.
const (
	CCS1    ConnectorType = "CCS1"
	NACS    ConnectorType = "NACS"
	CHAdeMO ConnectorType = "CHAdeMO"
	J1772   ConnectorType = "J1772"
)

// ConnectorSpec describes one connector of a simulated charger. In 2.0.1 each
// connector is its own EVSE (evseId = position, connectorId 1).
type ConnectorSpec struct {
	Type       ConnectorType `json:"type"`
	MaxPowerKW float64       `json:"maxPowerKW"`
}

// hasChargerLock reports whether the charger holds the plug with its own
// lock during a transaction. J1772 inlets are held by the vehicle only.
func (s ConnectorSpec) hasChargerLock() bool { return s.Type != J1772 }

// ChargerConfig configures a simulated charger. Zero durations take the
// defaults given on each field.
type ChargerConfig struct {
	// ID is the charging station identity, the last path segment of the URL.
	ID string
	// Password is the Basic auth key; empty sends no Authorization header.
	Password string
	// Protocol is chargedesk.OCPP16 or chargedesk.OCPP201.
	Protocol chargedesk.Protocol
	// URL is the CSMS endpoint without the charger id, e.g.
	// ws://127.0.0.1:9000/ocpp.
	URL                             string
	Vendor, Model, Firmware, Serial string
	Connectors                      []ConnectorSpec

	// ResponseLatency delays every answer to a CSMS CALL.
	ResponseLatency time.Duration
	// CallTimeout bounds the wait for the answer to a CALL the charger
	// sends (default 30s).
	CallTimeout time.Duration
	// RebootDelay is how long a reset keeps the charger off line (default 2s).
	RebootDelay time.Duration
	// BackoffMin and BackoffMax bound the exponential reconnect backoff
	// (defaults 1s and 60s); each wait gets up to 50% random jitter.
	BackoffMin, BackoffMax time.Duration
	// BootRetryInterval is the wait before repeating a Pending or Rejected
	// BootNotification when the CSMS gave interval 0 (default 10s).
	BootRetryInterval time.Duration
	// CommDropShort is how long the comm_drop_short fault keeps the charger
	// off line (default 30s).
	CommDropShort time.Duration
	// Settings overrides initial configuration keys by their 1.6 name
	// (for example "MeterValueSampleInterval": "1"); 2.0.1 chargers expose
	// the same values as component variables.
	Settings map[string]string

	// Validator checks every frame; nil compiles one (share one across a
	// fleet: compiling costs tens of milliseconds).
	Validator *ocpp.Validator
	// Logger receives the charger's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// OnFrame, when set, is called with every frame sent and received. It
	// must return quickly.
	OnFrame func(Frame)
}

// Direction says whether a frame was sent or received by the charger.
type Direction string

// Frame directions.
const (
	DirOut Direction = "out"
	DirIn  Direction = "in"
)

// Frame is one OCPP-J frame as the charger sent or received it.
type Frame struct {
	ChargerID string
	Dir       Direction
	Message   ocpp.Message
	At        time.Time
}

// Counters are the running totals of one charger.
type Counters struct {
	Connects           int `json:"connects"`
	Disconnects        int `json:"disconnects"`
	ConnectFailures    int `json:"connectFailures"`
	Boots              int `json:"boots"`
	CallsSent          int `json:"callsSent"`
	CallsReceived      int `json:"callsReceived"`
	CallErrorsReceived int `json:"callErrorsReceived"`
	CallErrorsSent     int `json:"callErrorsSent"`
	Timeouts           int `json:"timeouts"`
	// InvalidOutgoing counts frames the charger built that failed schema
	// validation: each one is a simulator bug.
	InvalidOutgoing int `json:"invalidOutgoing"`
	// InvalidIncoming counts unreadable or invalid frames from the CSMS.
	InvalidIncoming     int `json:"invalidIncoming"`
	FramesIn            int `json:"framesIn"`
	FramesOut           int `json:"framesOut"`
	TransactionsStarted int `json:"transactionsStarted"`
	TransactionsStopped int `json:"transactionsStopped"`
	MeterValuesSent     int `json:"meterValuesSent"`
}

// ConnectorState is the observable state of one connector.
type ConnectorState struct {
	ID         int           `json:"id"`
	Type       ConnectorType `json:"type"`
	MaxPowerKW float64       `json:"maxPowerKW"`
	// Status is the charger's own status in 1.6 terms (Available,
	// Preparing, Charging, ...). Reported is the status last sent on the
	// wire, in the connector's protocol version ("" before the first).
	Status   chargedesk.ConnectorStatus `json:"status"`
	Reported chargedesk.ConnectorStatus `json:"reported"`
	// ErrorCode is the 1.6 ChargePointErrorCode ("NoError" when fine).
	ErrorCode   string `json:"errorCode"`
	Plugged     bool   `json:"plugged"`
	LockEngaged bool   `json:"lockEngaged"`
	VehicleLock bool   `json:"vehicleLock"`
	Operative   bool   `json:"operative"`
	// ScheduledOperative is set when a ChangeAvailability waits for the
	// running transaction to end.
	ScheduledOperative *bool `json:"scheduledOperative,omitempty"`
	// AuthorizedIDTag is a token authorized but not yet in a transaction.
	AuthorizedIDTag string `json:"authorizedIdTag"`
	// TransactionID and IDTag describe the running transaction ("" if none).
	TransactionID string `json:"transactionId"`
	IDTag         string `json:"idTag"`
	// EnergyWh is the connector's energy register.
	EnergyWh float64 `json:"energyWh"`
	PowerW   float64 `json:"powerW"`
}

// Snapshot is the observable state of a charger. In JSON the heartbeat
// interval is heartbeatIntervalS, in seconds, and the lists are never null.
type Snapshot struct {
	ID                string                        `json:"id"`
	Protocol          chargedesk.Protocol           `json:"protocol"`
	Connected         bool                          `json:"connected"`
	BootStatus        chargedesk.RegistrationStatus `json:"bootStatus"`
	HeartbeatInterval time.Duration                 `json:"-"`
	LocalListVersion  int                           `json:"localListVersion"`
	LocalListSize     int                           `json:"localListSize"`
	CacheSize         int                           `json:"cacheSize"`
	Connectors        []ConnectorState              `json:"connectors"`
	Faults            []ActiveFault                 `json:"faults"`
	Counters          Counters                      `json:"counters"`
	// QueuedTx counts the transaction messages waiting to be delivered (or
	// for their answer).
	QueuedTx int `json:"queuedTx"`
}

// MarshalJSON encodes the snapshot with its heartbeat interval in seconds
// (heartbeatIntervalS) and empty lists as [].
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot
	if s.Connectors == nil {
		s.Connectors = []ConnectorState{}
	}
	if s.Faults == nil {
		s.Faults = []ActiveFault{}
	}
	return json.Marshal(struct {
		plain
		HeartbeatIntervalS float64 `json:"heartbeatIntervalS"`
	}{plain(s), s.HeartbeatInterval.Seconds()})
}

// Connector returns the state of connector id, or the zero value.
func (s Snapshot) Connector(id int) ConnectorState {
	for _, c := range s.Connectors {
		if c.ID == id {
			return c
		}
	}
	return ConnectorState{}
}

// Charger is a simulated charging station. Create it with NewCharger, run it
// with Run, act on it as a driver with PlugIn, TapCard, StopLocal and Unplug,
// and observe it with State. All methods are safe for concurrent use.
type Charger struct {
	cfg ChargerConfig
	log *slog.Logger
	v   *ocpp.Validator
	now func() time.Time

	msgSeq atomic.Uint64
	bg     sync.WaitGroup

	mu         sync.Mutex
	runCtx     context.Context
	running    bool
	sess       *session
	accepted   bool // the current session's boot was accepted
	boot       chargedesk.RegistrationStatus
	bootReason string
	hbChanged  chan struct{}
	settings   map[string]string
	listVer    int
	localList  map[string]authEntry
	cache      map[string]authEntry
	conns      []*connector
	counters   Counters
	txQueue    []*txMsg
	flushing   bool
	txSeq      int
	eventSeq   int // eventId of the last 2.0.1 NotifyEvent datum
	faults     map[faultKey]*faultState
	offlineTil time.Time // no connection before this time (comm_drop faults)
	offlineFor bool      // no connection until the fault is cleared
	rebootReq  bool
	// resetOnIdle is a 2.0.1 Reset OnIdle waiting for the transactions to
	// end (then a soft reset).
	resetOnIdle bool
	changed     chan struct{}
}

// NewCharger returns a charger for cfg. It panics if cfg has no validator
// and the embedded schemas fail to compile, which only a broken build can
// cause.
func NewCharger(cfg ChargerConfig) *Charger {
	if cfg.Protocol == "" {
		cfg.Protocol = chargedesk.OCPP16
	}
	if len(cfg.Connectors) == 0 {
		cfg.Connectors = []ConnectorSpec{{Type: CCS1, MaxPowerKW: 150}}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.CallTimeout, 30*time.Second)
	def(&cfg.RebootDelay, 2*time.Second)
	def(&cfg.BackoffMin, time.Second)
	def(&cfg.BackoffMax, 60*time.Second)
	def(&cfg.BootRetryInterval, 10*time.Second)
	def(&cfg.CommDropShort, 30*time.Second)
	if cfg.Vendor == "" {
		cfg.Vendor = "SimVolt"
	}
	if cfg.Model == "" {
		cfg.Model = "SV-1"
	}
	c := &Charger{
		cfg:        cfg,
		log:        cfg.Logger,
		v:          cfg.Validator,
		now:        cfg.Now,
		settings:   defaultSettings(len(cfg.Connectors)),
		localList:  map[string]authEntry{},
		cache:      map[string]authEntry{},
		faults:     map[faultKey]*faultState{},
		hbChanged:  make(chan struct{}, 1),
		changed:    make(chan struct{}),
		bootReason: "PowerUp",
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.v == nil {
		v, err := ocpp.NewValidator()
		if err != nil {
			panic(fmt.Sprintf("sim: compile schemas: %v", err))
		}
		c.v = v
	}
	for k, val := range cfg.Settings {
		c.settings[k] = val
	}
	for i, spec := range cfg.Connectors {
		c.conns = append(c.conns, &connector{id: i + 1, spec: spec})
	}
	return c
}

// ID returns the charger's identity.
func (c *Charger) ID() string { return c.cfg.ID }

// Protocol returns the charger's OCPP version.
func (c *Charger) Protocol() chargedesk.Protocol { return c.cfg.Protocol }

// Changed returns a channel closed at the next change of the charger's
// state; call it again for the change after that. Tests wait on it instead
// of sleeping.
func (c *Charger) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// notifyLocked wakes the waiters of Changed; c.mu must be held.
func (c *Charger) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Charger) notify() {
	c.mu.Lock()
	c.notifyLocked()
	c.mu.Unlock()
}

// State returns a copy of the charger's observable state.
func (c *Charger) State() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{
		ID:                c.cfg.ID,
		Protocol:          c.cfg.Protocol,
		Connected:         c.sess != nil && c.accepted,
		BootStatus:        c.boot,
		HeartbeatInterval: time.Duration(c.intSetting(keyHeartbeatInterval)) * time.Second,
		LocalListVersion:  c.listVer,
		LocalListSize:     len(c.localList),
		CacheSize:         len(c.cache),
		Counters:          c.counters,
		QueuedTx:          len(c.txQueue),
		Faults:            c.activeFaultsLocked(),
		Connectors:        make([]ConnectorState, 0, len(c.conns)),
	}
	for _, cn := range c.conns {
		st := ConnectorState{
			ID: cn.id, Type: cn.spec.Type, MaxPowerKW: cn.spec.MaxPowerKW,
			Status: c.status16(cn), Reported: chargedesk.ConnectorStatus(cn.reported),
			ErrorCode: c.errorCode16(cn), Plugged: cn.plugged, LockEngaged: cn.lock,
			VehicleLock: cn.vehicleLock, Operative: !cn.inoperative,
			AuthorizedIDTag: cn.authTag, EnergyWh: cn.energyWh, PowerW: c.powerW(cn),
		}
		if cn.scheduled != nil {
			v := *cn.scheduled
			st.ScheduledOperative = &v
		}
		if cn.tx != nil {
			st.TransactionID = cn.tx.id
			st.IDTag = cn.tx.idTag
		}
		s.Connectors = append(s.Connectors, st)
	}
	return s
}

// count updates the counters.
func (c *Charger) count(f func(*Counters)) {
	c.mu.Lock()
	f(&c.counters)
	c.notifyLocked()
	c.mu.Unlock()
}

// emit reports a frame to OnFrame and counts it.
func (c *Charger) emit(dir Direction, msg ocpp.Message) {
	c.count(func(k *Counters) {
		if dir == DirIn {
			k.FramesIn++
		} else {
			k.FramesOut++
		}
	})
	if c.cfg.OnFrame != nil {
		c.cfg.OnFrame(Frame{ChargerID: c.cfg.ID, Dir: dir, Message: msg, At: c.now()})
	}
}

// validate checks a payload the charger built; a failure is a bug, logged
// and counted.
func (c *Charger) validate(action string, response bool, payload []byte) error {
	if err := c.v.Validate(c.cfg.Protocol, action, response, payload); err != nil {
		c.count(func(k *Counters) { k.InvalidOutgoing++ })
		return err
	}
	return nil
}

// goBackground runs f in a goroutine bound to the running Run call; it does
// nothing when the charger is not running.
func (c *Charger) goBackground(f func(ctx context.Context)) bool {
	c.mu.Lock()
	ctx := c.runCtx
	ok := c.running && ctx != nil && ctx.Err() == nil
	if ok {
		c.bg.Add(1)
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	go func() {
		defer c.bg.Done()
		f(ctx)
	}()
	return true
}

// Run connects the charger and keeps it connected until ctx ends: it boots,
// heartbeats, reports its connectors, answers the CSMS, and reconnects with
// exponential backoff and jitter after a drop. It returns nil when ctx ends
// and an error only when the charger is misconfigured or already running.
func (c *Charger) Run(ctx context.Context) error {
	if err := chargedesk.ValidateChargerID(c.cfg.ID); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if !c.cfg.Protocol.Valid() {
		return fmt.Errorf("sim: protocol %q is not supported", c.cfg.Protocol)
	}
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("sim: charger is already running")
	}
	c.running, c.runCtx = true, ctx
	c.mu.Unlock()
	defer func() {
		c.bg.Wait()
		c.mu.Lock()
		c.running, c.runCtx = false, nil
		c.mu.Unlock()
	}()

	attempt := 0
	for ctx.Err() == nil {
		if !c.waitReachable(ctx) {
			break
		}
		res := c.runSession(ctx)
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		switch {
		case res.reboot:
			attempt = 0
			wait = c.cfg.RebootDelay
		case res.booted:
			attempt = 0
			wait = c.backoff(0)
		default:
			wait = c.backoff(attempt)
			attempt++
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	return nil
}

// backoff returns the wait before reconnect attempt n: BackoffMin doubled
// n times, capped at BackoffMax, plus up to 50% jitter.
func (c *Charger) backoff(n int) time.Duration {
	d := c.cfg.BackoffMin
	for i := 0; i < n && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffMax)
	return d + time.Duration(rand.Int64N(int64(d)/2+1))
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitReachable waits while a comm_drop fault keeps the charger off line.
func (c *Charger) waitReachable(ctx context.Context) bool {
	for {
		c.mu.Lock()
		forever, until, ch := c.offlineFor, c.offlineTil, c.changed
		c.mu.Unlock()
		now := c.now()
		switch {
		case forever:
			select {
			case <-ch:
			case <-ctx.Done():
				return false
			}
		case now.Before(until):
			t := time.NewTimer(until.Sub(now))
			select {
			case <-t.C:
			case <-ch:
			case <-ctx.Done():
				t.Stop()
				return false
			}
			t.Stop()
		default:
			return true
		}
	}
}

type sessionResult struct {
	booted bool
	reboot bool
}

// dial opens the WebSocket with the charger's subprotocol and credentials.
func (c *Charger) dial(ctx context.Context) (*websocket.Conn, error) {
	url := strings.TrimRight(c.cfg.URL, "/") + "/" + c.cfg.ID
	h := http.Header{}
	if c.cfg.Password != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.cfg.ID+":"+c.cfg.Password)))
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{
		Subprotocols: []string{string(c.cfg.Protocol)},
		HTTPHeader:   h,
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("sim: dial %s: HTTP %d: %w", url, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("sim: dial %s: %w", url, err)
	}
	if ws.Subprotocol() != string(c.cfg.Protocol) {
		ws.Close(websocket.StatusProtocolError, "subprotocol not negotiated")
		return nil, fmt.Errorf("sim: dial %s: server chose subprotocol %q, want %q", url, ws.Subprotocol(), c.cfg.Protocol)
	}
	return ws, nil
}

// runSession connects once and serves the connection until it drops.
func (c *Charger) runSession(ctx context.Context) sessionResult {
	var res sessionResult
	ws, err := c.dial(ctx)
	if err != nil {
		c.count(func(k *Counters) { k.ConnectFailures++ })
		c.log.Info("sim: connect failed", "charger_id", c.cfg.ID, "err", err)
		return res
	}
	s := newSession(c, ws)
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.readLoop(sctx) }()
	go func() { defer wg.Done(); s.serveCalls(sctx) }()

	c.mu.Lock()
	c.sess, c.accepted, c.rebootReq = s, false, false
	c.counters.Connects++
	c.notifyLocked()
	c.mu.Unlock()
	c.log.Info("sim: connected", "charger_id", c.cfg.ID, "protocol", c.cfg.Protocol)

	res.booted = c.serve(sctx, s)

	s.close(websocket.StatusNormalClosure, "", nil)
	cancel()
	wg.Wait()
	c.mu.Lock()
	c.sess, c.accepted = nil, false
	res.reboot = c.rebootReq
	c.rebootReq = false
	c.counters.Disconnects++
	for _, cn := range c.conns {
		cn.reported, cn.notified = "", nil
	}
	c.notifyLocked()
	c.mu.Unlock()
	c.log.Info("sim: disconnected", "charger_id", c.cfg.ID, "reboot", res.reboot)
	return res
}

// serve boots and heartbeats on s until it ends; it reports whether the
// boot was accepted.
func (c *Charger) serve(ctx context.Context, s *session) bool {
	if !c.bootLoop(ctx, s) {
		return false
	}
	c.sendAllStatuses(ctx, s)
	c.goBackground(c.flushTxQueue)
	c.ensureMetering()
	for {
		c.mu.Lock()
		iv := time.Duration(c.intSetting(keyHeartbeatInterval)) * time.Second
		c.mu.Unlock()
		var tick <-chan time.Time
		var t *time.Timer
		if iv > 0 {
			t = time.NewTimer(iv)
			tick = t.C
		}
		select {
		case <-s.done:
			if t != nil {
				t.Stop()
			}
			return true
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return true
		case <-c.hbChanged:
		case <-tick:
			if err := s.call(ctx, "Heartbeat", struct{}{}, nil); err != nil {
				c.log.Debug("sim: heartbeat failed", "charger_id", c.cfg.ID, "err", err)
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// bootLoop sends BootNotification until it is accepted or s ends.
func (c *Charger) bootLoop(ctx context.Context, s *session) bool {
	for {
		status, interval, err := c.sendBoot(ctx, s)
		if err != nil {
			c.log.Info("sim: boot failed", "charger_id", c.cfg.ID, "err", err)
			if s.closed() || ctx.Err() != nil {
				return false
			}
			interval = c.cfg.BootRetryInterval
		}
		c.mu.Lock()
		accepted := err == nil && status == "Accepted"
		if err == nil {
			c.boot = chargedesk.RegistrationStatus(status)
			c.counters.Boots++
			// Accepted gives the heartbeat interval; Pending and
			// Rejected give the wait before the next boot.
			if accepted && interval > 0 {
				c.settings[keyHeartbeatInterval] = fmt.Sprint(int(interval / time.Second))
			}
		}
		if accepted {
			c.accepted = true
			c.bootReason = "PowerUp"
			c.onAcceptedLocked()
		}
		c.notifyLocked()
		c.mu.Unlock()
		if accepted {
			return true
		}
		if interval <= 0 {
			interval = c.cfg.BootRetryInterval
		}
		if c.waitBootRetry(ctx, s, interval) {
			return true
		}
		if s.closed() || ctx.Err() != nil {
			return false
		}
	}
}

// waitBootRetry waits d before the next BootNotification; it returns true
// early when a triggered BootNotification got the session accepted.
func (c *Charger) waitBootRetry(ctx context.Context, s *session, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		c.mu.Lock()
		accepted, ch := c.sess == s && c.accepted, c.changed
		c.mu.Unlock()
		if accepted {
			return true
		}
		select {
		case <-t.C:
			return false
		case <-ch:
		case <-s.done:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// online returns the current session when its boot was accepted.
func (c *Charger) online() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil && c.accepted && !c.sess.closed() {
		return c.sess
	}
	return nil
}

// callOnline sends a CALL on the accepted session, or returns ErrOffline.
func (c *Charger) callOnline(ctx context.Context, action string, req, resp any) error {
	s := c.online()
	if s == nil {
		return ErrOffline
	}
	return s.call(ctx, action, req, resp)
}

// Disconnect drops the current connection as a network failure would; the
// charger reconnects by itself.
func (c *Charger) Disconnect() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.close(websocket.StatusGoingAway, "simulated drop", nil)
	}
}

// handle answers one CSMS CALL: it validates the request and dispatches it
// to the protocol's handler.
func (c *Charger) handle(ctx context.Context, s *session, action string, payload []byte) (any, func(context.Context), error) {
	if err := c.v.Validate(c.cfg.Protocol, action, false, payload); err != nil {
		return nil, nil, err
	}
	if c.cfg.Protocol == chargedesk.OCPP16 {
		return c.handle16(ctx, s, action, payload)
	}
	return c.handle201(ctx, s, action, payload)
}
