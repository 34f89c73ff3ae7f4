package csms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
	"github.com/coder/websocket"
)

// Proxy mode. With Config.Upstream set, chargedesk sits between its chargers
// and the central system that runs the network. Each charger connection
// gets an upstream: a WebSocket to Upstream/{id}, dialled as the charger
// (its subprotocol, its Authorization header), redialled while the charger
// stays connected.
//
//   - A charger's CALL goes to the upstream as it came (a 1.6 transaction id
//     numbered locally is rewritten to the upstream's); the upstream's answer
//     goes back to the charger, and the same handlers as in central-system
//     mode learn from the pair (a 1.6 StartTransaction is stored under the
//     upstream's id).
//   - When the upstream is down or does not answer within UpstreamTimeout,
//     chargedesk answers itself: Heartbeat, StatusNotification and
//     BootNotification (Accepted) locally; StartTransaction,
//     StopTransaction, MeterValues and TransactionEvent locally and held in
//     the store (chargedesk.UpstreamStore) before the answer, to be
//     delivered in order once the upstream answers again; anything else
//     gets a CallError. Charger CALLs are handled one at a time, and held
//     messages are delivered before any newer CALL is forwarded.
//   - An upstream CALL is sent to the charger through the connection's one
//     outstanding-CALL slot, in turn with chargedesk's own commands, with
//     the upstream's message id; the charger's answer goes back upstream.
//     chargedesk's own commands use its own ids, and their answers go
//     nowhere else.

// localTxBase is added to a held StartTransaction's seq to number the 1.6
// transaction locally: far from the small integers central systems count
// with, within a signed 32-bit integer.
const localTxBase = 1_500_000_000

// maxUpstreamCalls bounds the upstream's CALLs waiting for the charger.
const maxUpstreamCalls = 8

// upstreamCallTimeout bounds how long an upstream CALL waits for the
// charger (its turn and its answer).
const upstreamCallTimeout = 60 * time.Second

// errUpstreamDown ends a forward when the upstream cannot be reached.
var errUpstreamDown = errors.New("upstream unreachable")

type upstream struct {
	c     *conn
	store chargedesk.UpstreamStore

	mu      sync.Mutex
	ws      *websocket.Conn // nil while down
	pending map[string]chan ocpp.Message

	// sendMu makes the charger's CALLs and the held messages reach the
	// upstream one at a time, held ones first.
	sendMu sync.Mutex
	held   atomic.Int64 // messages held for this charger

	calls chan ocpp.Message // upstream CALLs for the charger

	// tried is closed once the first dial has ended, connected or not: a
	// charger's first CALL (its boot, sent as it connects) waits for it
	// rather than being answered locally while the link is still being
	// set up, which would keep the boot from the upstream.
	tried     chan struct{}
	triedOnce sync.Once
	// redial asks for a dial now (the charger's route changed).
	redial chan struct{}

	// Under mu: the upstream's CALLs not yet answered by the charger, and
	// the link's state as recorded for the API (upstreamlink.go).
	inflight   map[string]inflightCall
	relaying   bool // relayCalls runs
	delivering bool // deliverHeld runs
	url        string
	routeAt    time.Time // UpdatedAt of the route dialled with
	isUp       bool
	rerouted   bool      // the link is being dropped for a new route
	since      time.Time // when isUp last changed
	lastErr    string
	failures   int
	relayed    int64
	relaySum   time.Duration
	relayMax   time.Duration
	changed    bool // a transition not yet recorded
	recordedAt time.Time
}

// inflightCall is an upstream CALL waiting for, or at, the charger.
type inflightCall struct {
	action string
	scope  int
}

func newUpstream(c *conn) *upstream {
	return &upstream{c: c, store: c.s.cfg.Store.(chargedesk.UpstreamStore), pending: make(map[string]chan ocpp.Message),
		calls: make(chan ocpp.Message, maxUpstreamCalls), tried: make(chan struct{}), redial: make(chan struct{}, 1),
		inflight: make(map[string]inflightCall)}
}

// up reports whether the link is connected.
func (u *upstream) up() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ws != nil
}

// run keeps the link while the charger is connected.
func (u *upstream) run() {
	c := u.c
	m := c.s.metrics
	defer func() {
		m.upstreamUp.DeleteLabelValues(c.id)
		m.upstreamHeld.DeleteLabelValues(c.id)
		u.linkDown("charger disconnected", false)
	}()
	m.upstreamUp.WithLabelValues(c.id).Set(0)
	if n, err := u.store.CountHeldUpstream(c.ctx, c.id); err == nil {
		u.setHeld(int64(n))
	}
	for c.ctx.Err() == nil {
		wait := c.s.cfg.UpstreamRetry
		ws, err := u.dial()
		if err != nil {
			u.markTried()
			if c.ctx.Err() != nil {
				return
			}
			n := u.linkDown(err.Error(), true)
			m.upstreamDialFailures.Inc()
			wait = retryAfter(c.s.cfg.UpstreamRetry, c.s.cfg.UpstreamMaxRetry, n)
			c.log.Info("upstream unreachable", "err", err, "failures", n, "retry_in", wait.Round(time.Millisecond))
		} else {
			u.serve(ws)
			wait = retryAfter(c.s.cfg.UpstreamRetry, c.s.cfg.UpstreamRetry, 1)
		}
		select {
		case <-c.ctx.Done():
		case <-u.redial:
		case <-time.After(wait):
		}
	}
}

// markTried says the first dial has ended.
func (u *upstream) markTried() { u.triedOnce.Do(func() { close(u.tried) }) }

func (u *upstream) setHeld(n int64) {
	u.held.Store(n)
	u.c.s.metrics.upstreamHeld.WithLabelValues(u.c.id).Set(float64(n))
}

// dial connects to the upstream as the charger, by its route.
func (u *upstream) dial() (*websocket.Conn, error) {
	c := u.c
	ctx, cancel := context.WithTimeout(c.ctx, c.s.cfg.UpstreamTimeout)
	defer cancel()
	target, auth, routeAt, err := u.route(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the charger's upstream route: %w", err)
	}
	u.mu.Lock()
	u.url = target // shown with a failed dial's error too
	u.mu.Unlock()
	hdr := http.Header{}
	if auth != "" {
		hdr.Set("Authorization", auth)
	}
	ws, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{
		Subprotocols: []string{string(c.proto)}, HTTPHeader: hdr, HTTPClient: c.s.upClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil {
			return nil, errors.New("upstream refused: HTTP " + strconv.Itoa(resp.StatusCode))
		}
		return nil, err
	}
	if ws.Subprotocol() != string(c.proto) {
		ws.Close(websocket.StatusProtocolError, "subprotocol not agreed")
		return nil, errors.New("upstream did not agree to " + string(c.proto))
	}
	ws.SetReadLimit(c.s.cfg.MaxFrameBytes)
	u.linkUp(target, routeAt)
	return ws, nil
}

// serve reads the upstream until the link ends; meanwhile held messages are
// delivered.
func (u *upstream) serve(ws *websocket.Conn) {
	c := u.c
	stop := context.AfterFunc(c.ctx, func() { ws.Close(websocket.StatusNormalClosure, "charger disconnected") })
	defer stop()
	u.mu.Lock()
	u.ws = ws
	u.mu.Unlock()
	u.markTried()
	c.s.metrics.upstreamUp.WithLabelValues(c.id).Set(1)
	c.log.Info("upstream link up")
	why := "closed"
	u.kickDelivery()
	defer func() {
		u.mu.Lock()
		u.ws = nil
		for id, ch := range u.pending {
			close(ch)
			delete(u.pending, id)
		}
		u.mu.Unlock()
		c.s.metrics.upstreamUp.WithLabelValues(c.id).Set(0)
		ws.CloseNow()
		c.log.Info("upstream link down", "why", why)
		u.linkDown(why, false)
	}()
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			why = linkEnd(err)
			u.mu.Lock()
			if u.rerouted {
				why, u.rerouted = "the charger's upstream route changed", false
			}
			u.mu.Unlock()
			return
		}
		if typ != websocket.MessageText {
			why = "the upstream sent a binary frame"
			ws.Close(websocket.StatusUnsupportedData, "OCPP-J frames are text")
			return
		}
		m, err := ocpp.Parse(data)
		if err != nil {
			c.log.Warn("malformed frame from upstream", "err", err)
			continue
		}
		if m.Type == ocpp.Call {
			scope, _ := callScope(m.Action, m.Payload)
			u.mu.Lock()
			u.inflight[m.ID] = inflightCall{action: m.Action, scope: scope}
			u.mu.Unlock()
			select {
			case u.calls <- m:
				u.mu.Lock()
				if !u.relaying {
					u.relaying = true
					go u.relayCalls()
				}
				u.mu.Unlock()
			default:
				u.mu.Lock()
				delete(u.inflight, m.ID)
				u.mu.Unlock()
				u.write(ocpp.NewCallError(c.proto, m.ID, ocpp.Errorf(ocpp.InternalError, "too many CALLs waiting for the charger")))
			}
			continue
		}
		u.mu.Lock()
		ch := u.pending[m.ID]
		delete(u.pending, m.ID)
		u.mu.Unlock()
		if ch == nil {
			c.log.Warn("upstream answer to no outstanding CALL", "msg_id", m.ID)
			continue
		}
		ch <- m
	}
}

// write sends a frame upstream if the link is up.
func (u *upstream) write(m ocpp.Message) error {
	u.mu.Lock()
	ws := u.ws
	u.mu.Unlock()
	if ws == nil {
		return errUpstreamDown
	}
	ctx, cancel := context.WithTimeout(u.c.ctx, u.c.s.cfg.WriteTimeout)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, m.Encode()); err != nil {
		ws.CloseNow()
		return errUpstreamDown
	}
	return nil
}

// forward sends a charger's CALL upstream and waits for its answer. The
// caller holds sendMu.
func (u *upstream) forward(m ocpp.Message) (ocpp.Message, error) {
	ch := make(chan ocpp.Message, 1)
	u.mu.Lock()
	if u.ws == nil {
		u.mu.Unlock()
		return ocpp.Message{}, errUpstreamDown
	}
	u.pending[m.ID] = ch
	u.mu.Unlock()
	drop := func() {
		u.mu.Lock()
		if u.pending[m.ID] == ch {
			delete(u.pending, m.ID)
		}
		u.mu.Unlock()
	}
	start := time.Now()
	if err := u.write(m); err != nil {
		drop()
		return ocpp.Message{}, err
	}
	t := time.NewTimer(u.c.s.cfg.UpstreamTimeout)
	defer t.Stop()
	select {
	case a, ok := <-ch:
		if !ok {
			return ocpp.Message{}, errUpstreamDown
		}
		took := time.Since(start)
		u.c.s.metrics.upstreamLatency.WithLabelValues(metricAction(u.c.proto, m.Action)).Observe(took.Seconds())
		u.noteRelay(took)
		return a, nil
	case <-t.C:
		drop()
		u.c.s.metrics.upstreamTimeouts.Inc()
		return ocpp.Message{}, errors.New("upstream did not answer in time")
	case <-u.c.ctx.Done():
		drop()
		return ocpp.Message{}, errOffline
	}
}

// relayCalls sends the upstream's CALLs to the charger, in order, and their
// answers back; it runs while some wait (serve starts it).
func (u *upstream) relayCalls() {
	c := u.c
	for {
		select {
		default:
			u.mu.Lock()
			if len(u.calls) == 0 {
				u.relaying = false
				u.mu.Unlock()
				return
			}
			u.mu.Unlock()
		case m := <-u.calls:
			ctx, cancel := context.WithTimeout(c.ctx, upstreamCallTimeout)
			a, err := c.callID(ctx, m.ID, m.Action, u.localTxID(m.Action, m.Payload))
			cancel()
			u.mu.Lock()
			delete(u.inflight, m.ID)
			u.mu.Unlock()
			if err != nil {
				// Nothing to say: the upstream's own timeout ends its CALL.
				c.log.Info("upstream CALL not answered by the charger", "action", m.Action, "msg_id", m.ID, "err", err)
				continue
			}
			a.ID = m.ID
			if err := u.write(a); err != nil {
				c.log.Info("answer to upstream CALL not delivered: link down", "action", m.Action, "msg_id", m.ID)
			}
		}
	}
}

// kickDelivery starts delivering held messages, unless none is held, the
// link is down or a delivery runs. (A charger's next CALL delivers them
// too, before itself: this is for a quiet charger.)
func (u *upstream) kickDelivery() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ws == nil || u.delivering || u.held.Load() == 0 {
		return
	}
	u.delivering = true
	go u.deliverHeld()
}

// deliverHeld delivers held messages while the link is up: at once, then
// every UpstreamRetry while some remain.
func (u *upstream) deliverHeld() {
	for {
		u.sendMu.Lock()
		_ = u.drain()
		u.sendMu.Unlock()
		u.mu.Lock()
		if u.ws == nil || u.held.Load() == 0 || u.c.ctx.Err() != nil {
			u.delivering = false
			u.mu.Unlock()
			return
		}
		u.mu.Unlock()
		select {
		case <-u.c.ctx.Done():
		case <-time.After(u.c.s.cfg.UpstreamRetry):
		}
	}
}

// drain delivers the held messages in order and reports whether none is
// left. The caller holds sendMu.
func (u *upstream) drain() error {
	c := u.c
	for u.held.Load() > 0 {
		ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
		batch, err := u.store.HeldUpstream(ctx, c.id, 50)
		cancel()
		if err != nil {
			c.log.Error("read held messages", "err", err)
			return err
		}
		if len(batch) == 0 {
			u.setHeld(0)
			return nil
		}
		for _, h := range batch {
			m := ocpp.Message{Type: ocpp.Call, ID: h.MessageID, Action: h.Action, Payload: u.rewriteTxID(h.Action, h.Payload)}
			a, err := u.forward(m)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
			if a.Type == ocpp.CallError {
				c.s.metrics.upstreamRefused.Inc()
				c.log.Warn("upstream refused a held message; dropped", "action", h.Action, "seq", h.Seq, "code", a.ErrorCode, "reason", a.ErrorDescription)
			} else if c.proto == chargedesk.OCPP16 && h.Action == "StartTransaction" {
				var r struct {
					TransactionID *int64 `json:"transactionId"`
				}
				if json.Unmarshal(a.Payload, &r) == nil && r.TransactionID != nil {
					local := strconv.FormatInt(localTxBase+h.Seq, 10)
					if err := u.store.MapUpstreamTransaction(ctx, c.id, local, strconv.FormatInt(*r.TransactionID, 10)); err != nil {
						cancel()
						c.log.Error("map upstream transaction", "err", err)
						return err
					}
					c.log.Info("transaction numbered locally is the upstream's", "local", local, "upstream", *r.TransactionID)
				}
			}
			err = u.store.ReleaseUpstream(ctx, c.id, h.Seq)
			cancel()
			if err != nil {
				c.log.Error("release held message", "err", err)
				return err
			}
			u.setHeld(max(u.held.Load()-1, 0))
		}
	}
	return nil
}

// rewriteTxID replaces a locally numbered 1.6 transaction id by the
// upstream's in a StopTransaction or MeterValues payload.
func (u *upstream) rewriteTxID(action string, payload json.RawMessage) json.RawMessage {
	if u.c.proto != chargedesk.OCPP16 || (action != "StopTransaction" && action != "MeterValues") {
		return payload
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil {
		return payload
	}
	var id int64
	if json.Unmarshal(fields["transactionId"], &id) != nil || id < localTxBase {
		return payload
	}
	ctx, cancel := context.WithTimeout(u.c.ctx, handlerTimeout)
	defer cancel()
	up, err := u.store.UpstreamTransaction(ctx, u.c.id, strconv.FormatInt(id, 10))
	if err != nil {
		if chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			u.c.log.Error("read upstream transaction id", "err", err)
		}
		return payload
	}
	fields["transactionId"] = json.RawMessage(up)
	out, err := json.Marshal(fields)
	if err != nil {
		return payload
	}
	return out
}

// localTxID replaces, in a 1.6 upstream CALL, the upstream's id of a
// transaction chargedesk numbered locally (it started while the upstream
// was unreachable) by the local id the charger knows it by: the
// transactionId of RemoteStopTransaction, and of SetChargingProfile's
// csChargingProfiles.
func (u *upstream) localTxID(action string, payload json.RawMessage) json.RawMessage {
	if u.c.proto != chargedesk.OCPP16 || (action != "RemoteStopTransaction" && action != "SetChargingProfile") {
		return payload
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil {
		return payload
	}
	holder, key := fields, "transactionId"
	var profile map[string]json.RawMessage
	if action == "SetChargingProfile" {
		if json.Unmarshal(fields["csChargingProfiles"], &profile) != nil {
			return payload
		}
		holder = profile
	}
	var id int64
	if json.Unmarshal(holder[key], &id) != nil || id >= localTxBase {
		return payload
	}
	ctx, cancel := context.WithTimeout(u.c.ctx, handlerTimeout)
	defer cancel()
	local, err := u.store.LocalTransaction(ctx, u.c.id, strconv.FormatInt(id, 10))
	if err != nil {
		if chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			u.c.log.Error("read local transaction id", "err", err)
		}
		return payload
	}
	holder[key] = json.RawMessage(local)
	if profile != nil {
		b, err := json.Marshal(profile)
		if err != nil {
			return payload
		}
		fields["csChargingProfiles"] = b
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return payload
	}
	u.c.log.Info("upstream's transaction id is the charger's local one", "action", action, "upstream", id, "local", local)
	return out
}

// proxyCall answers a charger's CALL in proxy mode (see the top of the file).
func (c *conn) proxyCall(m ocpp.Message) {
	u := c.up
	u.sendMu.Lock()
	defer u.sendMu.Unlock()
	// The link may still be being set up (the charger's first CALL, its
	// boot): wait for the first dial, which UpstreamTimeout bounds.
	select {
	case <-u.tried:
	case <-c.ctx.Done():
		return
	}
	if u.up() && u.drain() == nil {
		a, err := u.forward(ocpp.Message{Type: ocpp.Call, ID: m.ID, Action: m.Action, Payload: u.rewriteTxID(m.Action, m.Payload)})
		if err == nil {
			c.learn(m, a)
			a.ID = m.ID
			_ = c.writeMessage(c.s.now(), m.Action, a)
			return
		}
		c.log.Info("upstream did not answer; answering locally", "action", m.Action, "msg_id", m.ID, "err", err)
	}
	c.answerLocally(m)
}

// learn runs the local handler of a CALL the upstream answered, for what
// chargedesk stores; its own answer is dropped.
func (c *conn) learn(m ocpp.Message, a ocpp.Message) {
	if a.Type != ocpp.CallResult {
		return // the charger will retry or give up; nothing happened
	}
	txID := ""
	if c.proto == chargedesk.OCPP16 && m.Action == "StartTransaction" {
		var r struct {
			TransactionID *int64 `json:"transactionId"`
		}
		if err := json.Unmarshal(a.Payload, &r); err != nil || r.TransactionID == nil {
			c.log.Warn("upstream's StartTransaction answer has no transaction id", "msg_id", m.ID)
			return
		}
		txID = strconv.FormatInt(*r.TransactionID, 10)
	}
	if _, err := c.dispatch(m, txID); err != nil {
		c.log.Warn("could not learn from a relayed CALL", "action", m.Action, "msg_id", m.ID, "err", err)
		return
	}
	if m.Action == "BootNotification" {
		// The charger is registered as the upstream says, not as
		// chargedesk would have answered.
		var r struct {
			Status chargedesk.RegistrationStatus `json:"status"`
		}
		if json.Unmarshal(a.Payload, &r) == nil {
			switch r.Status {
			case chargedesk.RegistrationAccepted, chargedesk.RegistrationPending, chargedesk.RegistrationRejected:
				c.putBootStatus(r.Status)
			}
		}
	}
}

// putBootStatus records the charger's registration status, in the store
// and on the connection, unless the connection has it already (the boot
// handler, just run, stored its own).
func (c *conn) putBootStatus(status chargedesk.RegistrationStatus) {
	if c.bootStatus() == status {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
	defer cancel()
	err := c.s.chargers.update(ctx, c.id, func(ch *chargedesk.Charger) error {
		ch.BootStatus = status
		return nil
	})
	if err != nil {
		c.log.Warn("record registration status", "status", status, "err", err)
	}
	c.setBootStatus(status)
}

// bootLocally answers a BootNotification while the upstream cannot be asked,
// by the UpstreamBoot policy.
func (c *conn) bootLocally(m ocpp.Message) {
	status := chargedesk.RegistrationAccepted
	switch c.s.cfg.UpstreamBoot {
	case BootPending:
		status = chargedesk.RegistrationPending
	case BootKnown:
		// What the upstream answered the charger's last boot, read before
		// this boot is recorded.
		ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
		ch, err := c.s.cfg.Store.Charger(ctx, c.id)
		cancel()
		if err != nil || ch.BootStatus != chargedesk.RegistrationAccepted {
			status = chargedesk.RegistrationPending
		}
	}
	resp, err := c.dispatch(m, "")
	if err != nil {
		c.answer(m, nil, err)
		return
	}
	c.putBootStatus(status)
	interval := c.s.cfg.HeartbeatInterval
	if status != chargedesk.RegistrationAccepted {
		// Soon: the next boot may reach the upstream.
		interval = min(c.s.cfg.PendingRetryInterval, max(c.s.cfg.UpstreamRetry, 10*time.Second))
	}
	secs := int(interval / time.Second)
	switch r := resp.(type) {
	case v16.BootNotificationResponse:
		r.Status, r.Interval = v16.RegistrationStatus(status), secs
		resp = r
	case v201.BootNotificationResponse:
		r.Status, r.Interval = v201.RegistrationStatus(status), secs
		resp = r
	}
	c.log.Info("boot answered locally: the upstream cannot be asked", "status", status, "policy", c.s.cfg.UpstreamBoot)
	c.answer(m, resp, nil)
}

// answerLocally answers a charger's CALL while the upstream is unreachable.
func (c *conn) answerLocally(m ocpp.Message) {
	switch {
	case transactionActions[m.Action]:
		h := &chargedesk.HeldMessage{ChargerID: c.id, Protocol: c.proto, MessageID: m.ID, Action: m.Action, Payload: m.Payload}
		ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
		err := c.up.store.HoldUpstream(ctx, h)
		cancel()
		if err != nil {
			c.answer(m, nil, err)
			return
		}
		c.up.setHeld(c.up.held.Load() + 1)
		defer c.up.kickDelivery() // held with the link up: the upstream was slow
		txID := ""
		if c.proto == chargedesk.OCPP16 && m.Action == "StartTransaction" {
			txID = strconv.FormatInt(localTxBase+h.Seq, 10)
		}
		resp, err := c.dispatch(m, txID)
		if err != nil {
			// Not acknowledged: the charger sends it again, and that one
			// is held.
			ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
			if rerr := c.up.store.ReleaseUpstream(ctx, c.id, h.Seq); rerr == nil {
				c.up.setHeld(max(c.up.held.Load()-1, 0))
			}
			cancel()
			c.answer(m, nil, err)
			return
		}
		c.answer(m, acceptLocally(resp), nil)
	case m.Action == "BootNotification":
		c.bootLocally(m)
	case m.Action == "Heartbeat" || m.Action == "StatusNotification":
		resp, err := c.dispatch(m, "")
		c.answer(m, resp, err)
	default:
		c.answer(m, nil, ocpp.Errorf(ocpp.InternalError, "the central system is unreachable; try again later"))
	}
}

// acceptLocally turns chargedesk's own verdicts on a transaction's token
// into acceptance while the upstream, which decides on the network's
// tokens, cannot be asked: it judges the token when the held message
// reaches it.
func acceptLocally(resp any) any {
	switch r := resp.(type) {
	case v16.StartTransactionResponse:
		r.IDTagInfo.Status = v16.AuthorizationStatusAccepted
		r.IDTagInfo = v16.IDTagInfo{Status: v16.AuthorizationStatusAccepted}
		return r
	case v16.StopTransactionResponse:
		if r.IDTagInfo != nil {
			r.IDTagInfo = &v16.IDTagInfo{Status: v16.AuthorizationStatusAccepted}
		}
		return r
	case v201.TransactionEventResponse:
		if r.IDTokenInfo != nil {
			r.IDTokenInfo = &v201.IDTokenInfo{Status: v201.AuthorizationStatusAccepted}
		}
		return r
	}
	return resp
}
