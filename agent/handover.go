package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
)

// A person of the operator's staff may take a conversation over from the
// agent in the console, and hand it back. Who has it is stored in the
// conversation (Conversation.Operator), so that every node's agent sees
// it: Handle reads it under the conversation's lock, and finish checks it
// again in the transaction that stores its state, so that the agent never
// answers once a person has the conversation.

// errUnchanged aborts an update that has nothing to do.
var errUnchanged = errors.New("agent: nothing to change")

// TakeOver gives conversation id to operator (a console username): from
// then on Handle stores the driver's messages and answers none, until
// HandBack. The driver is told in their language: the notice is stored as
// an agent turn, which is returned for the channel to deliver. When the
// agent is storing an answer at that moment (BusyReplying, on any node),
// the notice waits for it, so that the driver reads the answer, then the
// notice, and the agent nothing after. A conversation operator has already
// is returned as it is, without a notice (nil). ECONFLICT when another
// operator has it or it is closed; ENOTFOUND; EINVALID for an empty
// operator.
func (a *Agent) TakeOver(ctx context.Context, id, operator string) (*chargedesk.Conversation, *chargedesk.Turn, error) {
	if operator == "" || len(operator) > 64 {
		return nil, nil, chargedesk.Errorf(chargedesk.EINVALID, "an operator is 1 to 64 characters")
	}
	// Once asked, the takeover and its notice are stored even if the
	// caller goes away.
	ctx = context.WithoutCancel(ctx)
	var replying time.Time
	now := a.now()
	c, err := a.store.UpdateConversation(ctx, id, func(c *chargedesk.Conversation) error {
		switch {
		case c.Operator == operator:
			return errUnchanged
		case c.Operator != "":
			return chargedesk.Errorf(chargedesk.ECONFLICT, "%s has taken conversation %s over already", c.Operator, id)
		case c.Status == chargedesk.ConversationClosed:
			return chargedesk.Errorf(chargedesk.ECONFLICT, "conversation %s is closed", id)
		}
		c.Operator = operator
		if c.Busy == chargedesk.BusyReplying && c.BusyUntil.After(now) {
			replying = c.BusyUntil
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		c, err = a.store.Conversation(ctx, id)
		return c, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	if !replying.IsZero() {
		c = a.awaitAnswer(ctx, c, replying.Sub(now))
	}
	notice, err := a.notice(ctx, c, keyTakenOver, "takeover", operator)
	if err != nil {
		return c, nil, err
	}
	a.log.InfoContext(ctx, "conversation taken over", "conversation_id", id, "operator", operator)
	return c, notice, nil
}

// HandBack gives conversation id back to the agent: by must be the
// operator who has it, unless force (an admin's). The driver is told in
// their language, as TakeOver tells them; the notice is returned. A
// conversation nobody has is returned as it is, without a notice.
// ECONFLICT when another operator has it and not force; ENOTFOUND.
func (a *Agent) HandBack(ctx context.Context, id, by string, force bool) (*chargedesk.Conversation, *chargedesk.Turn, error) {
	ctx = context.WithoutCancel(ctx)
	had := ""
	c, err := a.store.UpdateConversation(ctx, id, func(c *chargedesk.Conversation) error {
		switch {
		case c.Operator == "":
			return errUnchanged
		case c.Operator != by && !force:
			return chargedesk.Errorf(chargedesk.ECONFLICT, "%s has conversation %s, not %s", c.Operator, id, by)
		}
		had, c.Operator = c.Operator, ""
		return nil
	})
	if errors.Is(err, errUnchanged) {
		c, err = a.store.Conversation(ctx, id)
		return c, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	notice, err := a.notice(ctx, c, keyHandedBack, "handback", by)
	if err != nil {
		return c, nil, err
	}
	a.log.InfoContext(ctx, "conversation handed back to the agent", "conversation_id", id, "operator", had, "by", by)
	return c, notice, nil
}

// notice stores the agent turn that tells the driver of a takeover or a
// hand back.
func (a *Agent) notice(ctx context.Context, c *chargedesk.Conversation, key, what, operator string) (*chargedesk.Turn, error) {
	meta, _ := json.Marshal(map[string]string{"handover": what, "operator": operator})
	t := &chargedesk.Turn{ConversationID: c.ID, At: a.now(), Role: chargedesk.RoleAgent, Text: say(c.Language, key), Meta: meta}
	if err := a.store.AppendTurn(ctx, t); err != nil {
		return nil, fmt.Errorf("agent: store the %s notice: %w", what, err)
	}
	return t, nil
}

// awaitAnswer waits, at most wait (and replyLease), for the agent of any
// node to finish storing its answer to conversation c, and returns the
// conversation as it then is.
func (a *Agent) awaitAnswer(ctx context.Context, c *chargedesk.Conversation, wait time.Duration) *chargedesk.Conversation {
	deadline := time.Now().Add(min(max(wait, 0), replyLease))
	for time.Now().Before(deadline) {
		time.Sleep(15 * time.Millisecond)
		now, err := a.store.Conversation(ctx, c.ID)
		if err != nil {
			break
		}
		c = now
		if c.Busy != chargedesk.BusyReplying {
			break
		}
	}
	return c
}

// forPerson stores a driver's message to a conversation a person has,
// card numbers masked, and answers nothing.
func (a *Agent) forPerson(ctx context.Context, s *session, masked string, digits bool) (Reply, error) {
	meta, _ := json.Marshal(map[string]any{"withOperator": s.c.Operator, "cardNumberMasked": digits})
	if err := a.store.AppendTurn(ctx, &chargedesk.Turn{ConversationID: s.c.ID, At: a.now(), Role: chargedesk.RoleDriver, Text: masked, Meta: meta}); err != nil {
		return Reply{}, fmt.Errorf("agent: store driver turn: %w", err)
	}
	c := s.c
	if s.d.CardDigits != digits {
		// The next message is masked more strictly after digits of a card.
		s.d.CardDigits = digits
		data, err := json.Marshal(s.d)
		if err != nil {
			return Reply{}, fmt.Errorf("agent: encode state: %w", err)
		}
		if c, err = a.store.UpdateConversation(context.WithoutCancel(ctx), s.c.ID, func(c *chargedesk.Conversation) error {
			c.Data = data
			return nil
		}); err != nil {
			return Reply{}, fmt.Errorf("agent: store conversation: %w", err)
		}
	}
	a.log.InfoContext(ctx, "driver's message left to the person who has the conversation", "conversation_id", s.c.ID, "operator", s.c.Operator)
	return Reply{Conversation: c}, nil
}

// Findings returns what the agent found and did in c, from the state it
// keeps in c.Data.
func (a *Agent) Findings(c *chargedesk.Conversation) chargedesk.Findings {
	return Findings(c)
}

// Findings returns what the agent found and did in c, from the state it
// keeps in c.Data: nothing personal (no identity being checked, no card).
func Findings(c *chargedesk.Conversation) chargedesk.Findings {
	f := chargedesk.Findings{Category: c.Category}
	var d convData
	if len(c.Data) == 0 || json.Unmarshal(c.Data, &d) != nil {
		return f
	}
	f.Confidence, f.Sure = d.CategoryConf, d.CategorySure
	f.Cause, f.Evidence, f.Asking, f.Nearest = d.Cause, d.Evidence, d.Ask, d.Nearest
	for _, r := range d.Results {
		f.Commands = append(f.Commands, chargedesk.CommandTaken{At: r.At, Kind: string(r.Kind), ChargerID: r.ChargerID,
			ConnectorID: r.ConnectorID, Status: string(r.Status), Detail: r.Detail})
	}
	return f
}
