package policy

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/chargedesk/chargedesk"
)

// sendMargin is added to a command's timeout for the bus round trip.
const sendMargin = 5 * time.Second

// Gateway sends commands through a policy and records each decision and
// outcome in the audit log. It implements chargedesk.Commander.
type Gateway struct {
	Policy chargedesk.Policy
	Audit  chargedesk.AuditLog
	// Next delivers allowed commands (the bus, or a node's central system).
	Next   chargedesk.Commander
	Logger *slog.Logger
	Now    func() time.Time
}

var _ chargedesk.Commander = (*Gateway)(nil)

// Send validates cmd, asks the policy, writes the decision to the audit log
// and, when allowed, sends the command and writes its outcome. A command
// whose decision cannot be audited is not sent (EUNAVAILABLE). A refused
// command is a Result with status Refused and the policy's reason.
func (g *Gateway) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if cmd.ID == "" {
		cmd.ID = chargedesk.NewCommandID()
	}
	if cmd.Actor == "" {
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EINVALID, "command has no actor")
	}
	if err := cmd.Validate(); err != nil {
		return chargedesk.Result{}, err
	}
	detail, _ := json.Marshal(cmd)
	d, err := g.Policy.Check(ctx, cmd)
	if err != nil {
		// The policy could not decide (its store is down): nothing is sent,
		// and that is recorded too when possible.
		_ = g.Audit.AppendAudit(context.WithoutCancel(ctx), &chargedesk.AuditEntry{
			At: g.Now(), Actor: cmd.Actor, CommandID: cmd.ID, Kind: string(cmd.Kind), ChargerID: cmd.ChargerID,
			Stage: chargedesk.AuditDecision, Allowed: false, Outcome: string(chargedesk.ResultRefused),
			Reason: "policy could not decide: " + chargedesk.ErrorMessage(err), Detail: detail,
		})
		return chargedesk.Result{}, err
	}
	entry := &chargedesk.AuditEntry{
		At: g.Now(), Actor: cmd.Actor, CommandID: cmd.ID, Kind: string(cmd.Kind), ChargerID: cmd.ChargerID,
		Stage: chargedesk.AuditDecision, Allowed: d.Allowed, Reason: d.Reason, Detail: detail,
	}
	if !d.Allowed {
		entry.Outcome = string(chargedesk.ResultRefused)
	}
	if err := g.Audit.AppendAudit(ctx, entry); err != nil {
		g.Logger.Error("audit decision; command not sent", "charger_id", cmd.ChargerID, "command_id", cmd.ID, "err", err)
		return chargedesk.Result{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the audit log cannot be written; command not sent")
	}
	if !d.Allowed {
		g.Logger.Info("command refused", "charger_id", cmd.ChargerID, "command_id", cmd.ID, "kind", cmd.Kind, "actor", cmd.Actor, "reason", d.Reason)
		return chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultRefused, Detail: d.Reason}, nil
	}

	// Once allowed, the command runs to its charger's answer even if the
	// caller goes away, so that the outcome recorded is the charger's.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmd.Timeout+sendMargin)
	defer cancel()
	res, sendErr := g.Next.Send(sendCtx, cmd)
	res.CommandID = cmd.ID
	out := &chargedesk.AuditEntry{
		At: g.Now(), Actor: cmd.Actor, CommandID: cmd.ID, Kind: string(cmd.Kind), ChargerID: cmd.ChargerID,
		Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: string(res.Status),
	}
	if sendErr != nil {
		out.Outcome, out.Reason = "Error", chargedesk.ErrorCode(sendErr)+": "+chargedesk.ErrorMessage(sendErr)
	} else {
		out.Detail, _ = json.Marshal(res)
	}
	// The outcome is recorded even when the caller has gone away.
	if err := g.Audit.AppendAudit(context.WithoutCancel(ctx), out); err != nil {
		g.Logger.Error("audit outcome", "charger_id", cmd.ChargerID, "command_id", cmd.ID, "err", err)
	}
	g.Logger.Info("command sent", "charger_id", cmd.ChargerID, "command_id", cmd.ID, "kind", cmd.Kind, "actor", cmd.Actor, "outcome", out.Outcome)
	return res, sendErr
}
