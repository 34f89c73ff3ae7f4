package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
)

// send proposes a command through the policy gateway as this conversation,
// for the verified driver, and records it. A refusal is a Result with
// status Refused, not an error; an error means the gateway could not
// decide (store down) and the command was not sent.
func (a *Agent) send(ctx context.Context, s *session, cmd chargedesk.Command, reason string) (chargedesk.Result, error) {
	cmd.ID = chargedesk.NewCommandID()
	if cmd.ChargerID == "" {
		cmd.ChargerID = s.c.ChargerID
	}
	cmd.Actor = chargedesk.AgentActorPrefix + s.c.ID
	cmd.Reason = reason
	if s.verified() {
		cmd.DriverID = s.c.DriverID
	}
	if cmd.Timeout == 0 {
		cmd.Timeout = a.timeout
	}
	// What the conversation knows (attempts counted, the command about to
	// go) is stored before the command is sent: an agent that stops while
	// waiting must not forget a reset it already sent.
	s.d.Results = append(s.d.Results, cmdRecord{At: a.now(), Kind: cmd.Kind, ChargerID: cmd.ChargerID, ConnectorID: cmd.ConnectorID,
		Status: resultPending, Detail: cmd.ID})
	pending := len(s.d.Results) - 1
	if err := a.saveState(ctx, s); err != nil {
		return chargedesk.Result{}, err
	}
	if p := chargedesk.ProgressOf(ctx); p != nil {
		p(cmd)
	}
	res, err := a.cmd.Send(ctx, cmd)
	if err != nil {
		code := chargedesk.ErrorCode(err)
		switch code {
		case chargedesk.EOFFLINE:
			res = chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultChargerOffline, Detail: chargedesk.ErrorMessage(err)}
		case chargedesk.ETIMEOUT:
			res = chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultTimeout, Detail: chargedesk.ErrorMessage(err)}
		default:
			s.d.Results = s.d.Results[:pending]
			a.log.WarnContext(ctx, "command not sent", "conversation_id", s.c.ID, "charger_id", cmd.ChargerID, "kind", cmd.Kind, "err", err)
			return chargedesk.Result{}, fmt.Errorf("agent: %s: %w", cmd.Kind, err)
		}
	}
	s.d.Results[pending] = cmdRecord{At: a.now(), Kind: cmd.Kind, ChargerID: cmd.ChargerID, ConnectorID: cmd.ConnectorID, Status: res.Status, Detail: res.Detail}
	if len(s.d.Results) > 30 {
		s.d.Results = s.d.Results[len(s.d.Results)-30:]
	}
	a.log.InfoContext(ctx, "command", "conversation_id", s.c.ID, "charger_id", cmd.ChargerID, "kind", cmd.Kind, "status", res.Status)
	err = s.record(ctx, Action{Kind: string(cmd.Kind), ChargerID: cmd.ChargerID, ConnectorID: cmd.ConnectorID, Status: string(res.Status), Detail: res.Detail},
		map[string]any{"command": cmd, "result": res})
	return res, err
}

// resultPending marks, in the conversation's records, a command sent
// whose result is not known yet.
const resultPending chargedesk.ResultStatus = "Pending"

// saveState stores the conversation's playbook state (Data) and where it
// stands now, before the agent sends a command to a charger; the
// conversation is marked BusyCharger until the answer is stored, on a
// lease the turn renews while it runs (lease.go).
func (a *Agent) saveState(ctx context.Context, s *session) error {
	data, err := json.Marshal(s.d)
	if err != nil {
		return fmt.Errorf("agent: encode state: %w", err)
	}
	now := a.now()
	_, err = a.store.UpdateConversation(context.WithoutCancel(ctx), s.c.ID, func(c *chargedesk.Conversation) error {
		c.Data = data
		c.ChargerID, c.ConnectorID, c.Category, c.DriverID, c.Verified = s.c.ChargerID, s.c.ConnectorID, s.c.Category, s.c.DriverID, s.c.Verified
		c.UpdatedAt = now
		// What follows is a command and the wait for the charger to
		// confirm it: the conversation waits on a charger that long at
		// most (finish clears it sooner).
		c.Busy, c.BusyUntil = chargedesk.BusyCharger, now.Add(chargerLease)
		return nil
	})
	if err != nil {
		return fmt.Errorf("agent: store state: %w", err)
	}
	return nil
}

// cardTxWindow is how many of a card's newest transactions on a charger
// waitStarted looks at.
const cardTxWindow = 20

// cardTxs returns the newest transactions of idTag on a charger.
func (a *Agent) cardTxs(ctx context.Context, chargerID, idTag string) ([]*chargedesk.Transaction, error) {
	txs, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: chargerID, IDTag: idTag, Limit: cardTxWindow})
	if err != nil {
		return nil, fmt.Errorf("agent: transactions: %w", err)
	}
	return txs, nil
}

// cardTxIDs returns the ids of the card's transactions on a charger that
// waitStarted would see, ended or not: those are not the start it waits
// for (an earlier start refused for the card is not this one's verdict).
func (a *Agent) cardTxIDs(ctx context.Context, chargerID, idTag string) (map[string]bool, error) {
	txs, err := a.cardTxs(ctx, chargerID, idTag)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(txs))
	for _, tx := range txs {
		out[tx.ID] = true
	}
	return out, nil
}

// ownActive returns the verified caller's active transaction on the
// conversation's connector, or nil.
func (a *Agent) ownActive(ctx context.Context, s *session) (*chargedesk.Transaction, error) {
	txs, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: s.c.ChargerID, ActiveOnly: true})
	if err != nil {
		return nil, fmt.Errorf("agent: transactions: %w", err)
	}
	mine := a.driverTags(ctx, s.c.DriverID)
	for _, tx := range txs {
		refused := tx.AuthStatus != "" && tx.AuthStatus != chargedesk.AuthAccepted
		if tx.ConnectorID == s.c.ConnectorID && tx.IDTag != "" && mine[tx.IDTag] && !refused {
			// (A start the central system refused, a card charging
			// elsewhere, is not the driver's charge, even while the
			// charger has not closed it yet.)
			return tx, nil
		}
	}
	return nil, nil
}

// waitStarted waits for a new transaction with idTag on the
// conversation's connector, one not among before (cardTxIDs): active, or
// refused by the central system's verdict.
func (a *Agent) waitStarted(ctx context.Context, s *session, idTag string, before map[string]bool) (*chargedesk.Transaction, error) {
	var got *chargedesk.Transaction
	var refused chargedesk.AuthStatus
	_, err := a.waitOK(ctx, s.c.ChargerID, a.verify, func() (bool, error) {
		txs, err := a.cardTxs(ctx, s.c.ChargerID, idTag)
		if err != nil {
			return false, err
		}
		for _, tx := range txs {
			if before[tx.ID] || tx.IDTag != idTag || tx.ConnectorID != s.c.ConnectorID {
				continue
			}
			if tx.AuthStatus != "" && tx.AuthStatus != chargedesk.AuthAccepted {
				// The charger started, and the central system's verdict
				// (the card already charging elsewhere) ended it.
				refused = tx.AuthStatus
				return true, nil
			}
			if tx.Active() {
				got = tx
				return true, nil
			}
		}
		return false, nil
	})
	if err == nil && refused != "" {
		return nil, refusedStartError{refused}
	}
	return got, err
}

// refusedStartError is a start the central system refused for the card
// (ConcurrentTx: the card is charging elsewhere).
type refusedStartError struct{ status chargedesk.AuthStatus }

func (e refusedStartError) Error() string { return "start refused: " + string(e.status) }

// waitStopped waits until transaction id is stored as ended.
func (a *Agent) waitStopped(ctx context.Context, chargerID, id string) (bool, error) {
	return a.waitOK(ctx, chargerID, a.verify, func() (bool, error) {
		tx, err := a.store.Transaction(ctx, chargerID, id)
		if err != nil {
			return false, err
		}
		return !tx.Active(), nil
	})
}

// waitStatus waits until the connector reports, after since, a status for
// which ok is true, and returns the last status read.
func (a *Agent) waitStatus(ctx context.Context, s *session, since time.Time, ok func(chargedesk.Connector) bool) (chargedesk.Connector, bool, error) {
	var last chargedesk.Connector
	done, err := a.waitOK(ctx, s.c.ChargerID, a.verify, func() (bool, error) {
		ch, err := a.store.Charger(ctx, s.c.ChargerID)
		if err != nil {
			return false, err
		}
		k := ch.Connector(s.c.ConnectorID)
		if k == nil || !ch.Connected {
			return false, nil
		}
		last = *k
		return !k.UpdatedAt.Before(since) && ok(*k), nil
	})
	return last, done, err
}

// waitBoot waits until the charger has booted after prev and is connected
// with a status of the conversation's connector stored since that boot.
func (a *Agent) waitBoot(ctx context.Context, s *session, prev time.Time) (bool, error) {
	return a.waitOK(ctx, s.c.ChargerID, a.verify, func() (bool, error) {
		ch, err := a.store.Charger(ctx, s.c.ChargerID)
		if err != nil {
			return false, err
		}
		if !ch.Connected || !ch.LastBootAt.After(prev) || ch.BootStatus != chargedesk.RegistrationAccepted {
			return false, nil
		}
		k := ch.Connector(s.c.ConnectorID)
		return k != nil && !k.UpdatedAt.Before(ch.LastBootAt), nil
	})
}

// waitConnected waits until the charger is connected again.
func (a *Agent) waitConnected(ctx context.Context, s *session, d time.Duration) (bool, error) {
	return a.waitOK(ctx, s.c.ChargerID, d, func() (bool, error) {
		ch, err := a.store.Charger(ctx, s.c.ChargerID)
		if err != nil {
			return false, err
		}
		return ch.Connected, nil
	})
}
