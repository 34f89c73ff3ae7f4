package csms

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// request is a domain command as one protocol version's CALL.
type request struct {
	action  string
	payload any
	// decode reads the CALLRESULT payload (already schema-valid).
	decode func(payload []byte) (chargedesk.Result, error)
}

// answer adapts a typed reader of a CALLRESULT payload.
func answer[Resp any](read func(*Resp) chargedesk.Result) func([]byte) (chargedesk.Result, error) {
	return func(payload []byte) (chargedesk.Result, error) {
		var r Resp
		if err := json.Unmarshal(payload, &r); err != nil {
			return chargedesk.Result{}, err
		}
		return read(&r), nil
	}
}

// Send implements chargedesk.Commander for this connection: it maps the
// command to the charger's protocol version, sends it after the commands
// queued before it, and maps the answer back. A timeout, a lost connection,
// a CallError and an answer that breaks the schema are Results, not errors.
func (c *conn) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if err := cmd.Validate(); err != nil {
		return chargedesk.Result{}, err
	}
	res := chargedesk.Result{CommandID: cmd.ID, Protocol: c.proto}
	var req request
	var err error
	if c.proto == chargedesk.OCPP16 {
		req, err = build16(cmd)
	} else {
		req, err = c.build201(ctx, cmd)
	}
	if chargedesk.ErrorCode(err) == chargedesk.ENOTSUPPORTED {
		res.Status, res.Detail = chargedesk.ResultNotSupported, chargedesk.ErrorMessage(err)
		return res, nil
	}
	if err != nil {
		return chargedesk.Result{}, err
	}
	payload, err := json.Marshal(req.payload)
	if err == nil {
		err = c.s.cfg.Validator.Validate(c.proto, req.action, false, payload)
	}
	if err != nil {
		// The command validated but its CALL does not: a bug, or input the
		// domain checks missed. Never send it.
		c.log.Error("command CALL does not validate", "action", req.action, "err", err)
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINVALID, "%s cannot be sent to this charger: %v", cmd.Kind, err)
	}

	if cmd.Kind == chargedesk.CmdTriggerMessage {
		// The charger may send the message right after its answer, before
		// this goroutine sees the answer: allow it from the start, and
		// take the allowance back unless the charger accepted.
		c.allowTriggered(cmd.Trigger)
		defer func(r *chargedesk.Result) {
			if r.Status != chargedesk.ResultAccepted {
				c.takeTriggered(cmd.Trigger)
			}
		}(&res)
	}
	if c.up != nil && c.s.cfg.UpstreamConflict == ConflictRefuse {
		if action := c.up.upstreamClash(req.action, payload); action != "" {
			c.s.metrics.upstreamClashes.Inc()
			res.Status = chargedesk.ResultRefused
			res.Detail = "not sent: the network's central system has a " + action + " in flight at this charger that this command would clash with"
			return res, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cmd.Timeout)
	defer cancel()
	start := time.Now()
	m, err := c.call(ctx, req.action, payload)
	res.Elapsed = time.Since(start)
	switch {
	case errors.Is(err, errOffline):
		res.Status, res.Detail = chargedesk.ResultChargerOffline, "the connection closed before the charger answered"
		return res, nil
	case errors.Is(err, errNotSent):
		res.Status, res.Detail = chargedesk.ResultTimeout, "not sent: the charger was still busy with earlier commands when the deadline passed"
		return res, nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		res.Status, res.Detail = chargedesk.ResultTimeout, "sent, but no answer within "+cmd.Timeout.String()
		return res, nil
	case err != nil:
		return chargedesk.Result{}, err
	case m.Type == ocpp.CallError:
		res.Status, res.ErrorCode, res.Detail = chargedesk.ResultCallError, m.ErrorCode, m.ErrorDescription
		return res, nil
	}
	m.Payload = c.dropNulls(req.action, m.Payload)
	if err := c.s.cfg.Validator.Validate(c.proto, req.action, true, m.Payload); err != nil {
		c.log.Warn("charger's answer does not validate", "action", req.action, "msg_id", m.ID, "err", err)
		res.Status, res.Detail = chargedesk.ResultFailed, "the charger's answer does not validate: "+err.Error()
		return res, nil
	}
	out, err := req.decode(m.Payload)
	if err != nil {
		res.Status, res.Detail = chargedesk.ResultFailed, "the charger's answer does not decode: "+err.Error()
		return res, nil
	}
	out.CommandID, out.Protocol, out.Elapsed = res.CommandID, res.Protocol, res.Elapsed
	res = out
	return res, nil
}

func optInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
