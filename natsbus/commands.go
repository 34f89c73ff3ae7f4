package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats.go"
)

// reply is the answer to a command request.
type reply struct {
	Result chargedesk.Result `json:"result"`
	Error  *replyError       `json:"error,omitempty"`
}

// replyError carries a *chargedesk.Error across the bus.
type replyError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// handoverMsg is the body of a hand-over request and of its answer.
type handoverMsg struct {
	Node string `json:"node"`
	Bus  string `json:"bus"`
	// Seq numbers the ServeCharger calls of one Bus.
	Seq uint64 `json:"seq"`
}

// Send implements chargedesk.Commander for a charger connected to any node.
// It validates cmd (EINVALID), then sends it as a request on
// <prefix>.cmd.<escaped charger id> with a deadline of cmd.Timeout plus the
// request margin, or ctx's deadline when that is earlier (the command's
// Timeout is then shortened to fit in it). The answers are:
//
//   - no node serves the charger: Result{Status: ResultChargerOffline}, nil;
//   - the deadline passed: Result{Status: ResultTimeout}, nil;
//   - the serving node's Commander failed: the same *chargedesk.Error (code
//     and message) it returned there;
//   - ctx was cancelled: ctx's error, wrapped;
//   - the bus is closed, or was disconnected until the deadline:
//     EUNAVAILABLE.
func (b *Bus) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if err := cmd.Validate(); err != nil {
		return chargedesk.Result{}, err
	}
	if b.isClosed() {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "send %s: the bus is closed", cmd.Kind)
	}
	start := time.Now()
	deadline := start.Add(cmd.Timeout + b.margin)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		// Leave the margin for the way back when the caller's deadline
		// allows; never ask the charger for less than half what is left.
		left := time.Until(dl)
		cmd.Timeout = max(left-b.margin, left/2, time.Millisecond)
		deadline = dl
	}
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	data, err := json.Marshal(cmd)
	if err != nil {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINVALID, "command cannot be encoded: %v", err)
	}
	local := func(st chargedesk.ResultStatus) chargedesk.Result {
		return chargedesk.Result{CommandID: cmd.ID, Status: st, Elapsed: time.Since(start)}
	}
	msg, err := b.nc.RequestWithContext(rctx, b.subj.cmd+EscapeChargerID(cmd.ChargerID), data)
	switch {
	case err == nil:
	case errors.Is(err, nats.ErrNoResponders):
		return local(chargedesk.ResultChargerOffline), nil
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return chargedesk.Result{}, fmt.Errorf("natsbus: send %s to %s: %w", cmd.Kind, cmd.ChargerID, ctx.Err())
	case !b.nc.IsConnected():
		// Waiting out a reconnection did not help: say where the problem
		// is rather than blame the charger.
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "send %s: the bus is disconnected", cmd.Kind)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return local(chargedesk.ResultTimeout), nil
	default:
		return chargedesk.Result{}, busError("send "+string(cmd.Kind), err)
	}

	var r reply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINTERNAL, "undecodable answer to %s from the bus: %v", cmd.Kind, err)
	}
	if r.Error != nil {
		return r.Result, &chargedesk.Error{Code: r.Error.Code, Message: r.Error.Message}
	}
	if r.Result.CommandID == "" {
		r.Result.CommandID = cmd.ID
	}
	return r.Result, nil
}

// ServeCharger makes this node answer the commands for chargerID, whose
// connection it holds, by calling c.Send. Serving costs two subscriptions
// that deliver into one channel per Bus, read by a single dispatcher, and no
// goroutine while idle. Each request is handled on its own goroutine, so chargers never wait on each other (c serialises what one
// charger receives); c.Send gets a context whose deadline is the command's
// Timeout. At most Config.MaxPending commands per charger are in progress at
// once.
//
// Newest wins. Before it answers, ServeCharger asks whichever node served the
// charger until now (found on the bus, this node included) to let go; that
// node stops answering its commands at once and, if it is another node, calls
// Config.OnReplaced with the charger id, where its caller must close the stale
// connection (and may call its stop, which is then a no-op); ServeCharger
// returns once that is done or Config.HandoverTimeout has passed. On one
// node, the caller replaces its own connection and OnReplaced is not called.
// Commands sent during the hand-over, which lasts a round trip, find the
// charger offline rather than reaching two sockets. Two nodes that take the
// same charger over at the very same moment may both end up serving it; the
// loser is corrected at the charger's next reconnection.
//
// stop makes this node stop answering for the charger: call it when the
// charger disconnects. Commands in progress run to their end. stop is safe to
// call more than once, also after a hand-over or Close.
func (b *Bus) ServeCharger(chargerID string, c chargedesk.Commander) (stop func() error, err error) {
	if err := chargedesk.ValidateChargerID(chargerID); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "serve %s: no commander", chargerID)
	}
	if b.isClosed() {
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "serve %s: the bus is closed", chargerID)
	}
	s := &serving{b: b, id: chargerID, c: c, sem: make(chan struct{}, b.maxPending), seq: b.serveSeq.Add(1)}
	token := EscapeChargerID(chargerID)

	if err := b.takeOver(chargerID, token, s.seq); err != nil {
		return nil, err
	}
	// Register the subscriptions before any message can arrive on them.
	b.subMu.Lock()
	s.cmdSub, err = b.nc.ChanSubscribe(b.subj.cmd+token, b.serveCh)
	if err == nil {
		b.subs[s.cmdSub] = subTarget{s: s, cmd: true}
		s.ctlSub, err = b.nc.ChanSubscribe(b.subj.serve+token, b.serveCh)
		if err == nil {
			b.subs[s.ctlSub] = subTarget{s: s}
		} else {
			_ = s.cmdSub.Unsubscribe()
			delete(b.subs, s.cmdSub)
		}
	}
	b.subMu.Unlock()
	if err != nil {
		return nil, busError("serve "+chargerID, err)
	}
	// The server must know the interest before a command is sent to it.
	if err := b.flush(); err != nil {
		_ = s.release()
		return nil, busError("serve "+chargerID, err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = s.release()
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "serve %s: the bus is closed", chargerID)
	}
	b.serving[s] = struct{}{}
	b.mu.Unlock()
	return s.release, nil
}

// takeOver asks the node now serving chargerID, if any, to let go of it.
func (b *Bus) takeOver(chargerID, token string, seq uint64) error {
	data, _ := json.Marshal(handoverMsg{Node: b.name, Bus: b.id, Seq: seq})
	msg, err := b.nc.Request(b.subj.serve+token, data, b.handover)
	switch {
	case err == nil:
		var from handoverMsg
		_ = json.Unmarshal(msg.Data, &from)
		if from.Bus != b.id {
			b.log.Info("charger taken over", "charger_id", chargerID, "from_node", from.Node)
		}
		return nil
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case errors.Is(err, nats.ErrTimeout):
		b.log.Warn("previous node did not let go of charger in time; serving anyway", "charger_id", chargerID, "timeout", b.handover)
		return nil
	default:
		return busError("serve "+chargerID, err)
	}
}

// serving is one charger served by this node.
type serving struct {
	b              *Bus
	id             string
	c              chargedesk.Commander
	sem            chan struct{}
	seq            uint64 // of this ServeCharger call on its Bus
	cmdSub, ctlSub *nats.Subscription
	once           sync.Once
}

// release stops answering for the charger. It is idempotent.
func (s *serving) release() error { return s.unsubscribe(true) }

// unsubscribe stops answering for the charger; with flush it returns once the
// server knows.
func (s *serving) unsubscribe(flush bool) error {
	var err error
	s.once.Do(func() {
		s.b.mu.Lock()
		delete(s.b.serving, s)
		closed := s.b.closed
		s.b.mu.Unlock()
		err = errors.Join(s.cmdSub.Unsubscribe(), s.ctlSub.Unsubscribe())
		// Messages still queued for the dispatcher are dropped, as an
		// unsubscribed callback would drop them: a released charger's
		// commands must not reach its stale connection.
		s.b.subMu.Lock()
		delete(s.b.subs, s.cmdSub)
		delete(s.b.subs, s.ctlSub)
		s.b.subMu.Unlock()
		if err == nil && flush {
			// Once the server has the UNSUB, requests from any node find
			// the charger offline (or its new node) rather than a
			// subscription that is gone.
			err = s.b.flush()
		}
		if err != nil && (closed || s.b.nc.IsClosed()) {
			err = nil // Close drains or has drained the subscriptions
		}
		if err != nil {
			err = busError("stop serving "+s.id, err)
		}
	})
	return err
}

// subTarget is what a message on a ServeCharger subscription is for.
type subTarget struct {
	s   *serving
	cmd bool // the command subscription; else the hand-over one
}

// dispatch hands each message of the served chargers' subscriptions to its
// serving, in the order the server delivered them, until Close has closed
// the connection. It never blocks for long: commands are handled on
// goroutines of their own (handleCommand), and so are hand-overs, which
// wait for the server.
func (b *Bus) dispatch() {
	defer close(b.dispatchDone)
	for {
		select {
		case m := <-b.serveCh:
			b.route(m)
		case <-b.dispatchStop:
			for {
				select {
				case m := <-b.serveCh:
					b.route(m)
				default:
					return
				}
			}
		}
	}
}

// route handles one message of a ServeCharger subscription.
func (b *Bus) route(m *nats.Msg) {
	b.subMu.RLock()
	t, ok := b.subs[m.Sub]
	b.subMu.RUnlock()
	if !ok {
		return
	}
	if t.cmd {
		t.s.handleCommand(m)
		return
	}
	b.aside.Add(1)
	go func() {
		defer b.aside.Done()
		t.s.handleHandover(m)
	}()
}

// handleHandover lets go of the charger because another Serve of it began,
// on this node or another. OnReplaced runs before the answer, so the new node
// serves only once the old one has had the chance to close its connection.
func (s *serving) handleHandover(m *nats.Msg) {
	var from handoverMsg
	if err := json.Unmarshal(m.Data, &from); err != nil {
		s.b.log.Warn("undecodable hand-over request ignored", "charger_id", s.id, "err", err)
		return
	}
	if from.Bus == s.b.id && from.Seq <= s.seq {
		// Our own request, or an older one of this node, delivered late
		// (it was published while the server was away): it must not undo
		// the newer serving.
		return
	}
	if err := s.release(); err != nil {
		s.b.log.Warn("releasing charger", "charger_id", s.id, "err", err)
	}
	if from.Bus != s.b.id { // on this node the caller replaces its own connection
		s.b.log.Info("charger replaced by another node", "charger_id", s.id, "to_node", from.Node)
		if s.b.onReplaced != nil {
			s.b.onReplaced(s.id)
		}
	}
	data, _ := json.Marshal(handoverMsg{Node: s.b.name, Bus: s.b.id})
	if err := m.Respond(data); err != nil {
		s.b.log.Warn("answering hand-over", "charger_id", s.id, "err", err)
	}
}

// handleCommand starts handling one command request.
func (s *serving) handleCommand(m *nats.Msg) {
	if m.Reply == "" {
		return // a publish, not a request: nobody to answer
	}
	b := s.b
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		s.respond(m, chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "node %s is shutting down", b.name))
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		b.mu.RUnlock()
		s.respond(m, chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "too many commands in progress for %s", s.id))
		return
	}
	b.handlers.Add(1)
	b.mu.RUnlock()
	go func() {
		defer b.handlers.Done()
		defer func() { <-s.sem }()
		res, err := s.run(m.Data)
		s.respond(m, res, err)
	}()
}

// run decodes a command and has the Commander send it.
func (s *serving) run(data []byte) (chargedesk.Result, error) {
	var cmd chargedesk.Command
	if err := json.Unmarshal(data, &cmd); err != nil {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINVALID, "undecodable command: %v", err)
	}
	if cmd.ChargerID != s.id {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINVALID, "command for %q sent to %q", cmd.ChargerID, s.id)
	}
	if err := cmd.Validate(); err != nil {
		return chargedesk.Result{}, err
	}
	ctx, cancel := context.WithTimeout(s.b.ctx, cmd.Timeout)
	defer cancel()
	res, err := s.c.Send(ctx, cmd)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if s.b.ctx.Err() != nil {
			return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "node %s shut down before %s answered", s.b.name, s.id)
		}
		// A Commander should report a silent charger as a Result; accept
		// its context error as the same thing.
		return chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultTimeout, Elapsed: cmd.Timeout}, nil
	}
	if res.CommandID == "" {
		res.CommandID = cmd.ID
	}
	return res, err
}

// respond answers a command request. Errors that are not *chargedesk.Error
// are logged here and sent as EINTERNAL without their text.
func (s *serving) respond(m *nats.Msg, res chargedesk.Result, err error) {
	r := reply{Result: res}
	if err != nil {
		r.Error = &replyError{Code: chargedesk.ErrorCode(err), Message: chargedesk.ErrorMessage(err)}
		if r.Error.Code == chargedesk.EINTERNAL {
			s.b.log.Error("command failed", "charger_id", s.id, "err", err)
		}
	}
	data, mErr := json.Marshal(r)
	if mErr != nil {
		s.b.log.Error("command answer cannot be encoded", "charger_id", s.id, "err", mErr)
		data, _ = json.Marshal(reply{Error: &replyError{Code: chargedesk.EINTERNAL, Message: "internal error"}})
	}
	if err := m.Respond(data); err != nil {
		s.b.log.Warn("answering command", "charger_id", s.id, "err", err)
	}
}
