package csms

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// handlerFunc answers one charger-initiated CALL with a response payload or
// an error (an *ocpp.Error, or a domain error mapped by ocpp.NewCallError).
type handlerFunc func(ctx context.Context, c *conn, payload json.RawMessage) (any, error)

// handle adapts a typed handler: it decodes the payload into Req. Integers
// written as integral decimals ("meterStart": 1000.0) are accepted, as JSON
// Schema counts them as integers.
func handle[Req any](fn func(ctx context.Context, c *conn, req *Req) (any, error)) handlerFunc {
	return func(ctx context.Context, c *conn, payload json.RawMessage) (any, error) {
		var req Req
		if err := json.Unmarshal(payload, &req); err != nil {
			norm, changed := integralNumbers(payload)
			if !changed || json.Unmarshal(norm, &req) != nil {
				return nil, ocpp.Errorf(ocpp.TypeConstraintViolation, "payload does not decode: %v", err)
			}
		}
		return fn(ctx, c, &req)
	}
}

// integralNumbers rewrites numbers with an integral value and a fraction or
// exponent (1000.0, 1e3) as plain integers, and reports whether it changed
// anything.
func integralNumbers(payload json.RawMessage) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return payload, false
	}
	changed := false
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		case json.Number:
			if _, err := t.Int64(); err == nil {
				return t
			}
			if f, err := t.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				changed = true
				return json.Number(strconv.FormatInt(int64(f), 10))
			}
		}
		return x
	}
	v = walk(v)
	if !changed {
		return payload, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return payload, false
	}
	return out, true
}

// handlerTimeout bounds the work for one incoming CALL (mostly store writes).
const handlerTimeout = 15 * time.Second

// transactionActions are the messages of a charger's transaction queue.
// Refusing one would stall that queue on retries (and lose the session's
// billing data), so they are answered even when they break the schema, as
// long as they decode, and even before the charger's boot is accepted.
var transactionActions = map[string]bool{
	"StartTransaction": true, "StopTransaction": true, "TransactionEvent": true, "MeterValues": true,
}

// handleCall validates and answers one incoming CALL.
func (c *conn) handleCall(m ocpp.Message) {
	now := c.s.now()
	c.s.record(frameEvent(c.id, now, chargedesk.DirIn, m, m.Action))
	c.s.metrics.message(metricAction(c.proto, m.Action), "in", "CALL").Inc()

	if c.up != nil {
		c.proxyCall(m)
		return
	}
	resp, err := c.dispatch(m, "")
	c.answer(m, resp, err)
}

// answer writes the answer to a charger's CALL: resp, or err as a CallError.
func (c *conn) answer(m ocpp.Message, resp any, err error) {
	var out ocpp.Message
	if err != nil {
		out = ocpp.NewCallError(c.proto, m.ID, err)
		if ocpp.ErrorCode(out.ErrorCode) == ocpp.InternalError {
			c.log.Error("handle CALL", "action", m.Action, "msg_id", m.ID, "err", err)
		} else {
			c.log.Info("CALL refused", "action", m.Action, "msg_id", m.ID, "code", out.ErrorCode, "reason", out.ErrorDescription)
		}
	} else if pre, ok := resp.(preEncoded); ok {
		out = ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: json.RawMessage(pre)}
	} else {
		payload, err := json.Marshal(resp)
		if err == nil {
			err = c.s.cfg.Validator.Validate(c.proto, m.Action, true, payload)
		}
		if err != nil {
			// Our own answer does not validate: a bug. Never send it.
			c.log.Error("answer does not validate", "action", m.Action, "msg_id", m.ID, "err", err)
			out = ocpp.NewCallError(c.proto, m.ID, ocpp.Errorf(ocpp.InternalError, "chargedesk could not build a valid answer"))
		} else {
			out = ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: payload}
		}
	}
	_ = c.writeMessage(c.s.now(), m.Action, out)
}

// preEncoded is an answer payload a handler built itself, of a fixed shape
// that its tests validate against the schemas (TestHeartbeatAnswerValid):
// answer sends it as it is, without encoding or validating it again.
type preEncoded []byte

// heartbeat answers a Heartbeat of either version with the current time:
// {"currentTime":"..."} is the whole answer in 1.6 and 2.0.1 alike. It reads
// neither ctx nor the payload (dispatch passes none).
func heartbeat(_ context.Context, c *conn, _ json.RawMessage) (any, error) {
	now := c.heartbeat()
	b := make([]byte, 0, 48)
	b = append(b, `{"currentTime":`...)
	b = ocpp.AppendDateTime(b, now)
	return preEncoded(append(b, '}')), nil
}

// dispatch runs the handler of a charger's CALL. txID, when set, is the id a
// 1.6 StartTransaction is stored under (proxy mode: the upstream's, or one
// numbered locally) instead of one the store assigns.
func (c *conn) dispatch(m ocpp.Message, txID string) (any, error) {
	a, known := ocpp.Lookup(c.proto, m.Action)
	if !known {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "unknown action %q in %s", m.Action, c.proto)
	}
	h := handlersFor(c.proto)[m.Action]
	if h == nil || !a.SentByCharger() {
		return nil, ocpp.Errorf(ocpp.NotSupported, "chargedesk does not accept %s from a charger", m.Action)
	}
	// B02.FR.09 (and 1.6 §4.2): until its boot is accepted a charger sends
	// nothing unsolicited but BootNotification; a message it was asked for
	// with TriggerMessage is allowed once.
	// In proxy mode the upstream decides on registration.
	if st := c.bootStatus(); c.up == nil && st != chargedesk.RegistrationAccepted && m.Action != "BootNotification" &&
		!transactionActions[m.Action] && !c.takeTriggered(m.Action) {
		return nil, ocpp.Errorf(ocpp.SecurityError, "charger is not accepted (boot status %s); send BootNotification first", st)
	}
	payload := c.dropNulls(m.Action, m.Payload)
	if err := c.s.validateIncoming(c.proto, m.Action, payload); err != nil {
		if !transactionActions[m.Action] {
			return nil, err
		}
		c.log.Warn("transaction message breaks the schema; handled all the same", "action", m.Action, "msg_id", m.ID, "err", err)
		c.s.metrics.errors.WithLabelValues("TolerantTransactionMessage", "in").Inc()
	}
	if m.Action == "Heartbeat" {
		// Needs neither the payload (it has no field chargedesk reads) nor
		// a context (it touches no store).
		return h(context.Background(), c, nil)
	}
	ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
	defer cancel()
	if txID != "" {
		ctx = context.WithValue(ctx, txIDKey{}, txID)
	}
	return h(ctx, c, payload)
}

// txIDKey carries dispatch's txID to the handler.
type txIDKey struct{}

// dropNulls removes top-level nulls from a received payload (see
// ocpp.DropNulls), logging the charger's deviation.
func (c *conn) dropNulls(action string, payload json.RawMessage) json.RawMessage {
	out, dropped := ocpp.DropNulls(payload)
	if dropped {
		c.log.Debug("dropped null fields the schema forbids", "action", action)
	}
	return out
}

// metricAction keeps the action label's cardinality bounded: an action that
// no version defines is counted as "unknown".
func metricAction(p chargedesk.Protocol, action string) string {
	if _, ok := ocpp.Lookup(p, action); !ok {
		return "unknown"
	}
	return action
}

func handlersFor(p chargedesk.Protocol) map[string]handlerFunc {
	if p == chargedesk.OCPP16 {
		return handlers16
	}
	return handlers201
}

// maxValidCached bounds the payloads validCache remembers, and
// maxValidCachedLen the length of one.
const (
	maxValidCached    = 4096
	maxValidCachedLen = 256
)

// validCache remembers small incoming payloads that passed validation, by
// protocol, action and exact bytes: the same bytes always get the same
// verdict, and a fleet repeats a few payloads (every Heartbeat is "{}")
// millions of times. Only passing verdicts are kept, so every refusal is
// described afresh.
type validCache struct {
	mu sync.RWMutex
	n  int
	m  map[validKey]map[string]struct{}
}

type validKey struct {
	proto  chargedesk.Protocol
	action string
}

func (v *validCache) valid(p chargedesk.Protocol, action string, payload []byte) bool {
	if len(payload) > maxValidCachedLen {
		return false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.m[validKey{p, action}][string(payload)]
	return ok
}

func (v *validCache) add(p chargedesk.Protocol, action string, payload []byte) {
	if len(payload) > maxValidCachedLen {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n >= maxValidCached {
		// Full: start over rather than track use.
		v.m, v.n = nil, 0
	}
	if v.m == nil {
		v.m = make(map[validKey]map[string]struct{})
	}
	k := validKey{p, action}
	byPayload := v.m[k]
	if byPayload == nil {
		byPayload = make(map[string]struct{})
		v.m[k] = byPayload
	}
	if _, ok := byPayload[string(payload)]; !ok {
		byPayload[string(payload)] = struct{}{}
		v.n++
	}
}

// validateIncoming validates a charger's CALL payload, remembering small
// payloads that pass.
func (s *Server) validateIncoming(p chargedesk.Protocol, action string, payload []byte) error {
	if s.validIn.valid(p, action, payload) {
		return nil
	}
	if err := s.cfg.Validator.Validate(p, action, false, payload); err != nil {
		return err
	}
	s.validIn.add(p, action, payload)
	return nil
}
