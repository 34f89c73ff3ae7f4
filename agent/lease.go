package agent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/textcut"
)

// While the agent waits on a charger (a command and its verification can
// take a minute or more) the conversation is marked BusyCharger on a
// short lease that the turn renews. Any node that gets the driver's next
// message meanwhile answers that the agent is still on it; once the
// lease has run out without the answer, the turn is known to have stopped
// (its node died) and the next message picks up from the stored state,
// with the command it had sent marked interrupted.

const (
	// chargerLease is how long a BusyCharger mark lasts unless renewed.
	chargerLease = 12 * time.Second
	// leaseRenewEvery renews it well within the lease.
	leaseRenewEvery = 4 * time.Second
	// reconnectWait bounds the wait for a charger whose node died to
	// connect to another node before the agent looks at it again.
	reconnectWait = 20 * time.Second
)

// resultInterrupted marks a command whose turn stopped before its result.
const resultInterrupted chargedesk.ResultStatus = "Interrupted"

// workingOnCharger reports whether a live turn is waiting on a charger for
// the conversation.
func workingOnCharger(c *chargedesk.Conversation, now time.Time) bool {
	return c.Operator == "" && c.Busy == chargedesk.BusyCharger && c.BusyUntil.After(now)
}

// renewLease renews the conversation's BusyCharger lease while the turn
// runs; the returned function stops it.
func (a *Agent) renewLease(ctx context.Context, id string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(leaseRenewEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			_, err := a.store.UpdateConversation(context.WithoutCancel(ctx), id, func(c *chargedesk.Conversation) error {
				if c.Busy == chargedesk.BusyCharger {
					c.BusyUntil = a.now().Add(chargerLease)
				}
				return nil
			})
			if err != nil {
				a.log.WarnContext(ctx, "renew the conversation's charger lease", "conversation_id", id, "err", err)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// interruptPending marks the command a stopped turn had sent, its result
// never recorded, as interrupted, and returns it (nil: none).
func (d *convData) interruptPending() *cmdRecord {
	for i := len(d.Results) - 1; i >= 0; i-- {
		if d.Results[i].Status == resultPending {
			d.Results[i].Status = resultInterrupted
			d.Results[i].Detail = "the turn that sent it stopped before the charger's answer"
			return &d.Results[i]
		}
	}
	return nil
}

// stillWorking stores the driver's message and answers that the agent is
// still waiting on the charger, changing nothing else.
func (a *Agent) stillWorking(ctx context.Context, c *chargedesk.Conversation, text string) (Reply, error) {
	var d convData
	if len(c.Data) > 0 {
		_ = json.Unmarshal(c.Data, &d) // only the card-digit flag is read
	}
	masked, _, _ := maskCardNumbers(text, d.CardDigits)
	now := a.now()
	if err := a.store.AppendTurn(ctx, &chargedesk.Turn{ConversationID: c.ID, At: now, Role: chargedesk.RoleDriver,
		Text: textcut.Bytes(masked, chargedesk.MaxMessageLen)}); err != nil {
		return Reply{}, err
	}
	reply := say(c.Language, keyStillWorking)
	if err := a.store.AppendTurn(ctx, &chargedesk.Turn{ConversationID: c.ID, At: now, Role: chargedesk.RoleAgent, Text: reply}); err != nil {
		return Reply{}, err
	}
	return Reply{Text: reply, Conversation: c}, nil
}

// waitFreshConnection waits, up to reconnectWait, until the charger has a
// connection that began after since. It reports whether it has.
func (a *Agent) waitFreshConnection(ctx context.Context, s *session, chargerID string, since time.Time) (bool, error) {
	return a.waitOK(ctx, chargerID, reconnectWait, func() (bool, error) {
		ch, err := a.store.Charger(ctx, chargerID)
		if err != nil {
			return false, err
		}
		return ch.Connected && ch.ConnectedAt.After(since), nil
	})
}
