package csms

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// handlerFunc answers one charger-initiated CALL with a response payload or
// an error (an *ocpp.Error, or a domain error mapped by ocpp.NewCallError).
type handlerFunc func(ctx context.Context, c *conn, payload json.RawMessage) (any, error)

// handle adapts a typed handler: it decodes the (already validated) payload
// into Req.
func handle[Req any](fn func(ctx context.Context, c *conn, req *Req) (any, error)) handlerFunc {
	return func(ctx context.Context, c *conn, payload json.RawMessage) (any, error) {
		var req Req
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, ocpp.Errorf(ocpp.TypeConstraintViolation, "payload does not decode: %v", err)
		}
		return fn(ctx, c, &req)
	}
}

// handlerTimeout bounds the work for one incoming CALL (mostly store writes).
const handlerTimeout = 15 * time.Second

// allowedBeforeBoot are the actions a charger whose boot is not Accepted may
// still send: its boot, and the transaction messages, which are never
// refused.
var allowedBeforeBoot = map[string]bool{
	"BootNotification": true, "StartTransaction": true, "StopTransaction": true,
	"TransactionEvent": true, "MeterValues": true,
}

// handleCall validates and answers one incoming CALL.
func (c *conn) handleCall(m ocpp.Message) {
	now := c.s.now()
	c.s.record(frameEvent(c.id, now, chargedesk.DirIn, m, m.Action))
	c.s.metrics.messages.WithLabelValues(metricAction(c.proto, m.Action), "in", "CALL").Inc()

	resp, err := c.dispatch(m)
	var out ocpp.Message
	if err != nil {
		out = ocpp.NewCallError(c.proto, m.ID, err)
		if ocpp.ErrorCode(out.ErrorCode) == ocpp.InternalError {
			c.log.Error("handle CALL", "action", m.Action, "msg_id", m.ID, "err", err)
		} else {
			c.log.Info("CALL refused", "action", m.Action, "msg_id", m.ID, "code", out.ErrorCode, "reason", out.ErrorDescription)
		}
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

func (c *conn) dispatch(m ocpp.Message) (any, error) {
	a, known := ocpp.Lookup(c.proto, m.Action)
	if !known {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "unknown action %q in %s", m.Action, c.proto)
	}
	h := handlersFor(c.proto)[m.Action]
	if h == nil || !a.SentByCharger() {
		return nil, ocpp.Errorf(ocpp.NotSupported, "chargedesk does not accept %s from a charger", m.Action)
	}
	payload := c.dropNulls(m.Action, m.Payload)
	if err := c.s.cfg.Validator.Validate(c.proto, m.Action, false, payload); err != nil {
		return nil, err
	}
	if c.bootStatus() != chargedesk.RegistrationAccepted && !allowedBeforeBoot[m.Action] {
		return nil, ocpp.Errorf(ocpp.SecurityError, "charger is not accepted (boot status %s); send BootNotification first", c.bootStatus())
	}
	ctx, cancel := context.WithTimeout(c.ctx, handlerTimeout)
	defer cancel()
	return h(ctx, c, payload)
}

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
