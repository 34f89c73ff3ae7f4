package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Rules is the rule set every command is checked against, whoever sends it.
// It reads live state from the store:
//
//   - the charger must be registered, and a charger whose boot was
//     Rejected gets nothing but a TriggerMessage;
//   - a remote start needs a charger whose boot was accepted and a token
//     whose verdict is Accepted now (never Blocked, Expired, Invalid or
//     unknown);
//   - a remote stop needs an active transaction of that charger;
//   - nothing may end a running session as a side effect: a hard reset is
//     refused while a transaction is active on the charger, and so is a
//     soft reset of a 1.6 charger (1.6 ends transactions on any reset; a
//     2.0.1 OnIdle reset waits for them); an unlock is refused while a
//     transaction is active on that connector (1.6 would end it first) —
//     stop the transaction, then unlock;
//   - a local list may not grant Accepted to a token the backend does not
//     hold as Accepted;
//   - the support agent (Actor "agent:...") is held to more: a kill
//     switch, a short list of kinds (soft reset only, differential lists
//     only, no configuration changes), remote starts only with the verified
//     caller's own token, remote stops only of the caller's own session or a
//     stale one, and rate limits per charger, per conversation and
//     network-wide with at most one retry of the same command.
type Rules struct {
	Store chargedesk.Store
	Now   func() time.Time
	// AgentLimits bound the support agent's commands (see checkAgent).
	AgentLimits AgentLimits
	// Switches, when set, hold the kill switch in the store, one position
	// for every node (read through their short cache); without them the
	// kill switch is this process's own.
	Switches *Switches

	agent agentRules
}

var _ chargedesk.Policy = (*Rules)(nil)

// Check implements chargedesk.Policy. Store errors other than ENOTFOUND are
// returned as errors; a rule that fails is a Decision with Allowed false.
func (r *Rules) Check(ctx context.Context, cmd chargedesk.Command) (chargedesk.Decision, error) {
	ch, err := r.Store.Charger(ctx, cmd.ChargerID)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		return refuse("charger %s is not registered", cmd.ChargerID), nil
	}
	if err != nil {
		return chargedesk.Decision{}, err
	}
	if ch.BootStatus == chargedesk.RegistrationRejected && cmd.Kind != chargedesk.CmdTriggerMessage {
		return refuse("charger %s was rejected at boot; only TriggerMessage may be sent to it", ch.ID), nil
	}
	switch cmd.Kind {
	case chargedesk.CmdRemoteStart:
		if ch.BootStatus != chargedesk.RegistrationAccepted {
			return refuse("charger %s has boot status %q; only an accepted charger can start a transaction", ch.ID, ch.BootStatus), nil
		}
		ok, why, err := r.tokenAccepted(ctx, cmd.IDTag)
		if err != nil || !ok {
			return refuse("%s", why), err
		}
	case chargedesk.CmdRemoteStop:
		tx, err := r.Store.Transaction(ctx, ch.ID, cmd.TransactionID)
		if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
			return refuse("charger %s has no transaction %s", ch.ID, cmd.TransactionID), nil
		}
		if err != nil {
			return chargedesk.Decision{}, err
		}
		if !tx.Active() {
			return refuse("transaction %s has already ended", tx.ID), nil
		}
	case chargedesk.CmdReset:
		if cmd.ResetType == chargedesk.ResetHard || ch.Protocol == chargedesk.OCPP16 {
			active, err := r.active(ctx, ch.ID, 0)
			if err != nil {
				return chargedesk.Decision{}, err
			}
			if active != nil {
				return refuse("%s reset refused: it would end transaction %s on connector %d", cmd.ResetType, active.ID, active.ConnectorID), nil
			}
		}
	case chargedesk.CmdUnlockConnector:
		active, err := r.active(ctx, ch.ID, cmd.ConnectorID)
		if err != nil {
			return chargedesk.Decision{}, err
		}
		if active != nil {
			return refuse("unlock refused: transaction %s is active on connector %d; stop it first", active.ID, active.ConnectorID), nil
		}
	case chargedesk.CmdSendLocalList:
		for _, e := range cmd.LocalList {
			if e.Status != chargedesk.AuthAccepted {
				continue
			}
			ok, why, err := r.tokenAccepted(ctx, e.IDTag)
			if err != nil || !ok {
				return refuse("local list would accept %s", why), err
			}
		}
	}
	if cmd.ByAgent() {
		return r.checkAgent(ctx, ch, cmd)
	}
	return chargedesk.Decision{Allowed: true, Reason: "rules passed"}, nil
}

// active returns an active transaction of the charger (on the connector,
// unless it is 0), or nil.
func (r *Rules) active(ctx context.Context, chargerID string, connector int) (*chargedesk.Transaction, error) {
	txs, err := r.Store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: chargerID, ActiveOnly: true, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, tx := range txs {
		if connector == 0 || tx.ConnectorID == connector {
			return tx, nil
		}
	}
	return nil, nil
}

// tokenAccepted reports whether the backend accepts the token now, and if
// not, why.
func (r *Rules) tokenAccepted(ctx context.Context, idTag string) (bool, string, error) {
	t, err := r.Store.Token(ctx, idTag)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		return false, fmt.Sprintf("token %s is unknown", idTag), nil
	}
	if err != nil {
		return false, "", err
	}
	if v := t.Verdict(r.Now()); v != chargedesk.AuthAccepted {
		return false, fmt.Sprintf("token %s is %s", idTag, v), nil
	}
	return true, "", nil
}

func refuse(format string, args ...any) chargedesk.Decision {
	return chargedesk.Decision{Allowed: false, Reason: fmt.Sprintf(format, args...)}
}
