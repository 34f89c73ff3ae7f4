package csms

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/coder/websocket"
)

// conn is one charger's WebSocket connection.
//
// Goroutines: the HTTP handler's goroutine runs the read loop; incoming CALLs
// are handled, in order, by a worker goroutine that exists only while CALLs
// wait; commands are sent from their callers' goroutines, one at a time in
// arrival order (a channel's waiters are woken first in, first out); the
// keepalive runs from a timer. So an idle charger costs one goroutine.
type conn struct {
	s     *Server
	id    string
	seq   uint64 // order of arrival among connections of this server
	proto chargedesk.Protocol
	ws    *websocket.Conn
	// raw is the socket under ws, when known: writes are bounded by its
	// write deadline (set and cleared under wmu) rather than by a context
	// per frame, which coder/websocket would watch with a callback and a
	// timer of its own.
	raw net.Conn
	wmu sync.Mutex
	log *slog.Logger
	// auth is how the charger proved its identity for this connection.
	auth credential

	ctx    context.Context
	cancel context.CancelFunc

	// boot is the registration status last given (or to give) to the
	// charger; triggered the actions it was asked for by TriggerMessage
	// while not accepted.
	bootMu    sync.Mutex
	boot      chargedesk.RegistrationStatus
	triggered map[string]bool

	// Outgoing CALLs: callSlot holds the one outstanding CALL.
	callSlot chan struct{}
	queued   atomic.Int32
	pmu      sync.Mutex
	pending  *pendingCall

	// Incoming CALLs waiting for the worker.
	inMu   sync.Mutex
	inQ    []ocpp.Message
	inBusy bool

	lastRx atomic.Int64 // unix nanos of the last frame received
	// connectedAt, as stored, tells this connection's record from a newer
	// one's when it ends.
	connectedAt time.Time
	ready       atomic.Bool // recorded in the store and reachable on the bus
	stopBus     func() error
	pingTime    *time.Timer

	// up is the link to the upstream central system in proxy mode (nil
	// otherwise); upAuth the charger's Authorization header, forwarded.
	up     *upstream
	upAuth string
}

type pendingCall struct {
	id     string
	action string
	done   chan ocpp.Message // buffered, 1
}

func newConn(s *Server, id string, proto chargedesk.Protocol, ws *websocket.Conn, boot chargedesk.RegistrationStatus, log *slog.Logger) *conn {
	c := &conn{s: s, id: id, proto: proto, ws: ws, boot: boot, log: log, callSlot: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	// Ending c.ctx drops the socket, which ends the read loop: reads then
	// need no context of their own (coder/websocket registers and removes
	// one per Read otherwise).
	context.AfterFunc(c.ctx, func() { c.ws.CloseNow() })
	return c
}

// run records the connection, serves it until it ends, then records the
// disconnection.
func (c *conn) run(ctx context.Context) {
	now := c.s.now()
	c.connectedAt = now.UTC().Truncate(time.Microsecond)
	c.lastRx.Store(time.Now().UnixNano())
	err := c.s.chargers.update(ctx, c.id, func(ch *chargedesk.Charger) error {
		ch.Connected, ch.Node, ch.ConnectedAt, ch.Protocol, ch.LastSeenAt = true, c.s.cfg.Node, c.connectedAt, c.proto, now
		return nil
	})
	if err != nil {
		c.log.Error("record connection", "err", err)
		c.ws.Close(websocket.StatusInternalError, "cannot record connection")
		c.s.unregister(c)
		c.cancel()
		return
	}
	if c.s.cfg.Bus != nil {
		stop, err := c.s.cfg.Bus.ServeCharger(c.id, c)
		if err != nil {
			// Commands could not reach the charger: let it reconnect
			// rather than look connected and answer nothing.
			c.log.Error("serve commands on bus; closing", "err", err)
			c.ws.Close(websocket.StatusTryAgainLater, "cannot route commands now")
			c.markDisconnected(ctx)
			return
		}
		c.stopBus = stop
	}
	c.ready.Store(true)
	if c.up != nil {
		go c.up.run()
	}
	c.s.recordConnEvent(c.id, now, chargedesk.EventConnected, map[string]any{"protocol": c.proto, "node": c.s.cfg.Node, "auth": c.auth})
	if c.s.cfg.PingInterval > 0 {
		c.pingTime = time.AfterFunc(c.s.cfg.PingInterval, c.keepalive)
	}
	c.log.Info("charger connected")

	reason := c.readLoop()

	c.cancel()
	if c.pingTime != nil {
		c.pingTime.Stop()
	}
	if c.stopBus != nil {
		if err := c.stopBus(); err != nil {
			c.log.Warn("stop serving commands on bus", "err", err)
		}
	}
	current := c.markDisconnected(ctx)
	c.s.recordConnEvent(c.id, c.s.now(), chargedesk.EventDisconnected, map[string]any{"reason": reason, "replaced": !current})
	c.log.Info("charger disconnected", "reason", reason)
}

// markDisconnected unregisters the connection and, unless a newer
// connection of the charger (on this node or another) has been recorded
// since, records the disconnection. It reports whether c was current.
func (c *conn) markDisconnected(ctx context.Context) bool {
	if !c.s.unregister(c) {
		return false
	}
	now := c.s.now()
	err := c.s.chargers.update(ctx, c.id, func(ch *chargedesk.Charger) error {
		if ch.Node == c.s.cfg.Node && ch.ConnectedAt.Equal(c.connectedAt) {
			ch.Connected, ch.DisconnectedAt = false, now
		}
		return nil
	})
	if err != nil {
		c.log.Error("record disconnection", "err", err)
	}
	return true
}

// closeGrace is how long a close handshake may take before the socket is
// dropped.
const closeGrace = time.Second

// close ends the connection from our side with a close frame; the read loop
// then ends and run cleans up. A charger that does not answer the close
// within closeGrace is dropped, so that a dead socket does not linger.
func (c *conn) close(code websocket.StatusCode, reason string) {
	go func() {
		t := time.AfterFunc(closeGrace, func() { c.ws.CloseNow() })
		defer t.Stop()
		c.ws.Close(code, reason)
	}()
}

func (c *conn) readLoop() string {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 {
				return "closed by charger: " + s.String()
			}
			if c.ctx.Err() != nil {
				return "closed by chargedesk"
			}
			return err.Error()
		}
		now := c.s.now()
		c.lastRx.Store(time.Now().UnixNano())
		c.s.touches.seen(c.id, now)
		if typ != websocket.MessageText {
			c.ws.Close(websocket.StatusUnsupportedData, "OCPP-J frames are text")
			return "binary frame"
		}
		m, err := ocpp.Parse(data)
		if err != nil {
			c.badFrame(now, data, err.(*ocpp.FrameError))
			continue
		}
		switch {
		case m.Type == ocpp.Call && m.Action == "Heartbeat" && c.up == nil && c.idle():
			// A Heartbeat touches no store: answered here, without a
			// worker goroutine. Nothing else is read meanwhile, so CALLs
			// stay in order.
			c.handleCall(m)
		case m.Type == ocpp.Call:
			c.enqueue(m)
		default:
			c.deliver(now, m)
		}
	}
}

// badFrame answers a frame that could not be decoded.
func (c *conn) badFrame(now time.Time, data []byte, fe *ocpp.FrameError) {
	raw, _ := json.Marshal(string(data[:min(len(data), 1024)]))
	c.s.record(chargedesk.Event{ChargerID: c.id, At: now, Direction: chargedesk.DirIn, Type: "Invalid", MessageID: fe.MessageID, Payload: raw})
	c.s.metrics.errors.WithLabelValues(string(fe.Code), "in").Inc()
	c.log.Warn("malformed frame", "msg_id", fe.MessageID, "err", fe)
	switch {
	case fe.MessageID != "" && (fe.Type == ocpp.CallResult || fe.Type == ocpp.CallError):
		// A malformed answer to our CALL still ends that CALL.
		c.deliver(now, ocpp.Message{Type: ocpp.CallError, ID: fe.MessageID, ErrorCode: string(fe.Code), ErrorDescription: "malformed answer: " + fe.Reason})
	case fe.MessageID != "":
		c.writeMessage(now, "", ocpp.NewCallError(c.proto, fe.MessageID, fe))
	case c.proto == chargedesk.OCPP201:
		// 2.0.1: an unreadable message id is answered with id "-1".
		c.writeMessage(now, "", ocpp.NewCallError(c.proto, "-1", &ocpp.Error{Code: ocpp.RpcFrameworkError, Description: fe.Reason}))
	}
}

// enqueue hands an incoming CALL to the worker, starting it if idle.
func (c *conn) enqueue(m ocpp.Message) {
	c.inMu.Lock()
	if len(c.inQ) >= c.s.cfg.MaxIncomingQueue {
		c.inMu.Unlock()
		c.s.record(chargedesk.Event{ChargerID: c.id, At: c.s.now(), Direction: chargedesk.DirIn, Type: ocpp.Call.String(), MessageID: m.ID, Action: m.Action, Payload: m.Payload})
		c.writeMessage(c.s.now(), m.Action, ocpp.NewCallError(c.proto, m.ID, ocpp.Errorf(ocpp.ProtocolError, "too many CALLs outstanding; send one at a time")))
		return
	}
	c.inQ = append(c.inQ, m)
	if c.inBusy {
		c.inMu.Unlock()
		return
	}
	c.inBusy = true
	c.inMu.Unlock()
	go c.work()
}

// idle reports whether no incoming CALL is waiting or being handled.
func (c *conn) idle() bool {
	c.inMu.Lock()
	defer c.inMu.Unlock()
	return !c.inBusy && len(c.inQ) == 0
}

func (c *conn) work() {
	for {
		c.inMu.Lock()
		if len(c.inQ) == 0 || c.ctx.Err() != nil {
			c.inQ, c.inBusy = nil, false
			c.inMu.Unlock()
			return
		}
		m := c.inQ[0]
		c.inQ = c.inQ[1:]
		c.inMu.Unlock()
		c.handleCall(m)
	}
}

// deliver hands a CALLRESULT or CALLERROR to the outstanding CALL.
func (c *conn) deliver(now time.Time, m ocpp.Message) {
	// The answer is handed over under the lock (done is buffered), so that
	// once call has cleared its pending CALL, an answer is either in done
	// or will never come.
	c.pmu.Lock()
	p := c.pending
	if p != nil && p.id == m.ID {
		c.pending = nil
		p.done <- m
	} else {
		p = nil
	}
	c.pmu.Unlock()
	action := ""
	if p != nil {
		action = p.action
	}
	c.s.record(frameEvent(c.id, now, chargedesk.DirIn, m, action))
	c.s.metrics.message(action, "in", m.Type.String()).Inc()
	if p == nil {
		c.log.Warn("answer to no outstanding CALL (late or unknown id)", "msg_id", m.ID)
	}
}

// writeMessage encodes, records and writes a frame. action names the CALL a
// CALLRESULT or CALLERROR answers.
func (c *conn) writeMessage(now time.Time, action string, m ocpp.Message) error {
	if m.Type == ocpp.Call {
		action = m.Action
	}
	c.s.record(frameEvent(c.id, now, chargedesk.DirOut, m, action))
	c.s.metrics.message(metricAction(c.proto, action), "out", m.Type.String()).Inc()
	if m.Type == ocpp.CallError {
		c.s.metrics.errors.WithLabelValues(m.ErrorCode, "out").Inc()
	}
	if err := c.write(m.Encode()); err != nil {
		c.log.Info("write failed; closing", "msg_id", m.ID, "err", err)
		c.cancel()
		return err
	}
	return nil
}

// write writes one text frame within the write timeout. Ending c.ctx
// closes the socket, which ends a write in progress too.
func (c *conn) write(frame []byte) error {
	if c.raw == nil {
		ctx, cancel := context.WithTimeout(c.ctx, c.s.cfg.WriteTimeout)
		defer cancel()
		return c.ws.Write(ctx, websocket.MessageText, frame)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.raw.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
		return err
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, frame)
	// Cleared, so that the keepalive's pings and the close handshake (with
	// contexts of their own) do not meet a stale deadline. Its error is not
	// the write's: the frame went out, and a charger that closed the
	// socket since (one that restarts on the command just written) shows
	// on the read side.
	_ = c.raw.SetWriteDeadline(time.Time{})
	return err
}

// errOffline ends a CALL whose connection went away.
var errOffline = errors.New("connection closed")

// errNotSent ends a CALL whose deadline passed while earlier CALLs to the
// charger were outstanding: it never reached the charger.
var errNotSent = errors.New("not sent")

// call sends one CALL and waits for its answer, after the CALLs queued
// before it. It returns the answer, or ctx's error, or errOffline.
func (c *conn) call(ctx context.Context, action string, payload []byte) (ocpp.Message, error) {
	return c.callID(ctx, c.s.nextMessageID(), action, payload)
}

// callID is call with a given message id (an upstream's CALL relayed as it
// came).
func (c *conn) callID(ctx context.Context, msgID, action string, payload []byte) (ocpp.Message, error) {
	if int(c.queued.Add(1)) > c.s.cfg.MaxQueuedCommands {
		c.queued.Add(-1)
		return ocpp.Message{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "charger %s has %d commands waiting; try again later", c.id, c.s.cfg.MaxQueuedCommands)
	}
	defer c.queued.Add(-1)
	select {
	case c.callSlot <- struct{}{}:
	case <-ctx.Done():
		return ocpp.Message{}, errNotSent
	case <-c.ctx.Done():
		return ocpp.Message{}, errOffline
	}
	defer func() { <-c.callSlot }()

	p := &pendingCall{id: msgID, action: action, done: make(chan ocpp.Message, 1)}
	c.pmu.Lock()
	c.pending = p
	c.pmu.Unlock()
	clear := func() {
		c.pmu.Lock()
		if c.pending == p {
			c.pending = nil
		}
		c.pmu.Unlock()
	}
	start := time.Now()
	if err := c.writeMessage(c.s.now(), action, ocpp.Message{Type: ocpp.Call, ID: p.id, Action: action, Payload: payload}); err != nil {
		clear()
		return ocpp.Message{}, errOffline
	}
	answered := func(m ocpp.Message) (ocpp.Message, error) {
		c.s.metrics.roundTrip.WithLabelValues(action).Observe(time.Since(start).Seconds())
		return m, nil
	}
	select {
	case m := <-p.done:
		return answered(m)
	case <-ctx.Done():
	case <-c.ctx.Done():
	}
	// The answer may have arrived together with the end (a charger answers
	// Reset, then closes its socket to reboot): an answer always wins.
	clear()
	select {
	case m := <-p.done:
		return answered(m)
	default:
	}
	if ctx.Err() != nil {
		return ocpp.Message{}, ctx.Err()
	}
	return ocpp.Message{}, errOffline
}

// keepalive pings a charger that has been silent for a ping interval and
// closes the connection when the ping goes unanswered.
func (c *conn) keepalive() {
	if c.ctx.Err() != nil {
		return
	}
	iv := c.s.cfg.PingInterval
	idle := time.Since(time.Unix(0, c.lastRx.Load()))
	if idle >= iv {
		ctx, cancel := context.WithTimeout(c.ctx, iv)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			if c.ctx.Err() == nil {
				// A peer that does not answer pings will not answer a close
				// handshake either.
				c.log.Info("ping unanswered; dropping the connection", "err", err)
				c.ws.CloseNow()
			}
			return
		}
		c.lastRx.Store(time.Now().UnixNano())
	}
	c.pingTime.Reset(iv)
}

func (c *conn) bootStatus() chargedesk.RegistrationStatus {
	c.bootMu.Lock()
	defer c.bootMu.Unlock()
	return c.boot
}

// allowTriggered lets a charger that is not accepted send action once, as
// a TriggerMessage asked it to.
func (c *conn) allowTriggered(action string) {
	c.bootMu.Lock()
	defer c.bootMu.Unlock()
	if c.triggered == nil {
		c.triggered = make(map[string]bool)
	}
	c.triggered[action] = true
}

// takeTriggered reports whether action was triggered, and forgets it.
func (c *conn) takeTriggered(action string) bool {
	c.bootMu.Lock()
	defer c.bootMu.Unlock()
	ok := c.triggered[action]
	delete(c.triggered, action)
	return ok
}

func (c *conn) setBootStatus(s chargedesk.RegistrationStatus) {
	c.bootMu.Lock()
	c.boot = s
	c.bootMu.Unlock()
}

func frameEvent(chargerID string, at time.Time, dir chargedesk.Direction, m ocpp.Message, action string) chargedesk.Event {
	ev := chargedesk.Event{ChargerID: chargerID, At: at, Direction: dir, Type: m.Type.String(), MessageID: m.ID, Action: action, Payload: m.Payload}
	if m.Type == ocpp.CallError {
		ev.Payload, _ = json.Marshal(map[string]any{"code": m.ErrorCode, "description": m.ErrorDescription, "details": m.ErrorDetails})
	}
	return ev
}
