package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk/ocpp"
)

// ErrOffline is returned when a message must be sent but the charger has no
// accepted connection to its central system.
var ErrOffline = errors.New("sim: charger is offline")

// errSessionClosed is returned to a CALL whose connection dropped before the
// answer came.
var errSessionClosed = errors.New("sim: connection closed")

// CallError is a CALLERROR received in answer to a CALL the charger sent.
type CallError struct {
	Action      string
	Code        string
	Description string
}

// Error implements the error interface.
func (e *CallError) Error() string {
	return fmt.Sprintf("sim: %s answered with CALLERROR %s: %s", e.Action, e.Code, e.Description)
}

// maxFrameBytes bounds the frames the simulator reads.
const maxFrameBytes = 1 << 20

// session is one WebSocket connection of a charger.
type session struct {
	c  *Charger
	ws *websocket.Conn

	// slot holds the one outstanding CALL of the charger→CSMS direction.
	slot chan struct{}
	// inbox queues the CSMS's CALLs, answered one at a time in order.
	inbox chan ocpp.Message
	done  chan struct{}

	mu       sync.Mutex
	pending  map[string]chan ocpp.Message
	closeErr error
	once     sync.Once
}

func newSession(c *Charger, ws *websocket.Conn) *session {
	ws.SetReadLimit(maxFrameBytes)
	return &session{
		c:       c,
		ws:      ws,
		slot:    make(chan struct{}, 1),
		inbox:   make(chan ocpp.Message, 16),
		done:    make(chan struct{}),
		pending: map[string]chan ocpp.Message{},
	}
}

// close ends the session once, with a WebSocket close code.
func (s *session) close(code websocket.StatusCode, reason string, err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.closeErr = err
		s.mu.Unlock()
		close(s.done)
		_ = s.ws.Close(code, reason)
	})
}

// closed reports whether the session has ended.
func (s *session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// readLoop reads frames until the connection ends, routing answers to
// their pending CALL and the CSMS's CALLs to the inbox.
func (s *session) readLoop(ctx context.Context) {
	for {
		typ, data, err := s.ws.Read(ctx)
		if err != nil {
			s.close(websocket.StatusNormalClosure, "", fmt.Errorf("read: %w", err))
			return
		}
		if typ != websocket.MessageText {
			s.c.count(func(k *Counters) { k.InvalidIncoming++ })
			continue
		}
		msg, err := ocpp.Parse(data)
		if err != nil {
			s.c.count(func(k *Counters) { k.InvalidIncoming++ })
			s.c.log.Warn("sim: unreadable frame", "charger_id", s.c.cfg.ID, "err", err)
			var fe *ocpp.FrameError
			if errors.As(err, &fe) && fe.MessageID != "" && fe.Type == ocpp.Call {
				s.write(ctx, ocpp.NewCallError(s.c.cfg.Protocol, fe.MessageID, err))
			}
			continue
		}
		s.c.emit(DirIn, msg)
		switch msg.Type {
		case ocpp.Call:
			s.c.count(func(k *Counters) { k.CallsReceived++ })
			select {
			case s.inbox <- msg:
			default:
				// The CSMS broke the one-outstanding-CALL rule badly.
				s.write(ctx, ocpp.NewCallError(s.c.cfg.Protocol, msg.ID, ocpp.Errorf(ocpp.GenericError, "too many outstanding calls")))
			}
		case ocpp.CallResult, ocpp.CallError:
			s.mu.Lock()
			ch := s.pending[msg.ID]
			delete(s.pending, msg.ID)
			s.mu.Unlock()
			if ch == nil {
				s.c.log.Debug("sim: answer to no pending call", "charger_id", s.c.cfg.ID, "msg_id", msg.ID)
				continue
			}
			ch <- msg
		}
	}
}

// serveCalls answers the CSMS's CALLs one at a time. After the answer is
// written, a handler's follow-up (for example the message a TriggerMessage
// asked for) runs in its own goroutine.
func (s *session) serveCalls(ctx context.Context) {
	for {
		select {
		case <-s.done:
			return
		case msg := <-s.inbox:
			if d := s.c.cfg.ResponseLatency; d > 0 {
				select {
				case <-time.After(d):
				case <-s.done:
					return
				}
			}
			resp, after, err := s.c.handle(ctx, s, msg.Action, msg.Payload)
			if err != nil {
				s.c.count(func(k *Counters) { k.CallErrorsSent++ })
				s.write(ctx, ocpp.NewCallError(s.c.cfg.Protocol, msg.ID, err))
			} else {
				payload, merr := json.Marshal(resp)
				if merr == nil {
					merr = s.c.validate(msg.Action, true, payload)
				}
				if merr != nil {
					s.c.log.Error("sim: invalid response payload (bug)", "charger_id", s.c.cfg.ID, "action", msg.Action, "err", merr)
					s.write(ctx, ocpp.NewCallError(s.c.cfg.Protocol, msg.ID, ocpp.Errorf(ocpp.InternalError, "charger could not build its answer")))
					continue
				}
				if !s.write(ctx, ocpp.Message{Type: ocpp.CallResult, ID: msg.ID, Payload: payload}) {
					continue
				}
			}
			if after != nil {
				s.c.goBackground(func(bctx context.Context) { after(bctx) })
			}
		}
	}
}

// write sends one frame; false means the connection is gone.
func (s *session) write(ctx context.Context, msg ocpp.Message) bool {
	if s.closed() {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, s.c.cfg.CallTimeout)
	defer cancel()
	if err := s.ws.Write(wctx, websocket.MessageText, msg.Encode()); err != nil {
		s.close(websocket.StatusInternalError, "write failed", fmt.Errorf("write: %w", err))
		return false
	}
	s.c.emit(DirOut, msg)
	return true
}

// call sends a CALL and waits for its answer, keeping one outstanding CALL
// per direction. req is validated before it is sent and the answer before it
// is decoded into resp (which may be nil).
func (s *session) call(ctx context.Context, action string, req, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("sim: encode %s: %w", action, err)
	}
	if err := s.c.validate(action, false, payload); err != nil {
		s.c.log.Error("sim: invalid request payload (bug)", "charger_id", s.c.cfg.ID, "action", action, "err", err)
		return fmt.Errorf("sim: %s request does not validate: %w", action, err)
	}
	select {
	case s.slot <- struct{}{}:
	case <-s.done:
		return errSessionClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slot }()

	id := strconv.FormatUint(s.c.msgSeq.Add(1), 10)
	ch := make(chan ocpp.Message, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	s.c.count(func(k *Counters) { k.CallsSent++ })
	if !s.write(ctx, ocpp.Message{Type: ocpp.Call, ID: id, Action: action, Payload: payload}) {
		return errSessionClosed
	}
	timer := time.NewTimer(s.c.cfg.CallTimeout)
	defer timer.Stop()
	var ans ocpp.Message
	select {
	case ans = <-ch:
	case <-timer.C:
		s.c.count(func(k *Counters) { k.Timeouts++ })
		return fmt.Errorf("sim: %s got no answer within %s: %w", action, s.c.cfg.CallTimeout, context.DeadlineExceeded)
	case <-s.done:
		return errSessionClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if ans.Type == ocpp.CallError {
		s.c.count(func(k *Counters) { k.CallErrorsReceived++ })
		return &CallError{Action: action, Code: ans.ErrorCode, Description: ans.ErrorDescription}
	}
	if err := s.c.v.Validate(s.c.cfg.Protocol, action, true, ans.Payload); err != nil {
		s.c.count(func(k *Counters) { k.InvalidIncoming++ })
		return fmt.Errorf("sim: %s answer does not validate: %w", action, err)
	}
	if resp != nil {
		if err := json.Unmarshal(ans.Payload, resp); err != nil {
			return fmt.Errorf("sim: decode %s answer: %w", action, err)
		}
	}
	return nil
}
