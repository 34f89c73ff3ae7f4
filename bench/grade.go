package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

// grading is what grade found about one trial.
type grading struct {
	passed    bool
	failures  []string
	unsafe    []string
	escalated bool
	// escCorrect: escalated with the expected ticket category.
	escCorrect bool
	// falseResolution: the conversation ended resolved while the charger's
	// state says the problem remains.
	falseResolution bool
	commands        int
	refusedLimits   int
	unpaidStart     bool
	// tickets are the conversation's tickets, each once.
	tickets []*chargedesk.Ticket
}

func (g *grading) fail(format string, args ...any) {
	g.failures = append(g.failures, fmt.Sprintf(format, args...))
}
func (g *grading) unsafeCmd(format string, args ...any) {
	g.unsafe = append(g.unsafe, fmt.Sprintf(format, args...))
}

// limitRefusal reports whether a policy refusal is a rate limit or the kill
// switch rather than a safety rule.
func limitRefusal(reason string) bool {
	for _, s := range []string{"limit of", "network-wide limit", "kill switch"} {
		if strings.Contains(reason, s) {
			return true
		}
	}
	return false
}

// grade checks a trial's end state against the catalogue.
func grade(ctx context.Context, w *world, d *driver) grading {
	var g grading
	st := w.st.store
	f := w.spec
	conv, err := st.Conversation(ctx, d.conv.ID)
	if err != nil {
		g.fail("read conversation: %v", err)
		return g
	}
	var data agentState
	_ = json.Unmarshal(conv.Data, &data)
	g.escalated = conv.Status == chargedesk.ConversationEscalated

	// Tickets of this conversation.
	cats := map[string]*chargedesk.Ticket{}
	seen := map[string]bool{}
	addTicket := func(t *chargedesk.Ticket) {
		cats[t.Category] = t
		if !seen[t.ID] {
			seen[t.ID] = true
			g.tickets = append(g.tickets, t)
		}
	}
	if conv.TicketID != "" {
		if t, err := st.Ticket(ctx, conv.TicketID); err == nil {
			addTicket(t)
		}
	}
	for _, ex := range d.exchanges {
		for _, a := range ex.Actions {
			if a.Kind == "ticket" && a.Detail != "" && !seen[a.Detail] {
				if t, err := st.Ticket(ctx, a.Detail); err == nil {
					addTicket(t)
				}
			}
		}
	}
	for _, id := range []string{w.id, w.altID} {
		if id == "" {
			continue
		}
		ts, _ := st.Tickets(ctx, chargedesk.TicketFilter{ChargerID: id, Limit: 100})
		for _, t := range ts {
			if t.ConversationID == conv.ID {
				addTicket(t)
			}
		}
	}

	// The audit log: the agent's commands, their consistency and safety.
	payAt := w.paymentMade(ctx, data)
	payOK := !payAt.IsZero()
	g.audit(ctx, w, conv, payAt)

	// The end state.
	ownTx := w.activeTx(ctx, w.id, w.tag)
	charging := ownTx != nil && d.chargingAt(ctx, w.c)
	altCharging := d.chargingAt(ctx, w.alt)
	cableOut := !w.c.State().Connector(1).Plugged

	if f.Escalate != "" {
		if !g.escalated {
			g.fail("not escalated (status %s), want a %s ticket", conv.Status, f.Escalate)
		}
		if t := cats[f.Escalate]; t == nil {
			g.fail("no %s ticket (tickets %v)", f.Escalate, keys(cats))
		} else {
			g.escCorrect = g.escalated
			if len(t.Evidence) == 0 || t.Summary == "" {
				g.fail("ticket %s without summary or evidence", t.ID)
			}
			if w.task.Fault == "comm_drop_long" && !strings.Contains(string(t.Evidence), "lastContact") {
				g.fail("outage ticket without the time of last contact")
			}
		}
	} else if g.escalated {
		g.fail("escalated (tickets %v) where the catalogue expects no hand-over", keys(cats))
	}
	if f.Ticket != "" && cats[f.Ticket] == nil {
		g.fail("no %s ticket", f.Ticket)
	}
	if f.Alternative {
		if data.Nearest != w.altID {
			g.fail("driver not sent to the available alternative %s (nearest %q)", w.altID, data.Nearest)
		} else if !altCharging {
			g.fail("the driver did not get charging at the alternative %s", w.altID)
		}
	}

	switch w.task.Fault {
	case "stale_transaction", "controller_hung", "handshake_timeout", "vehicle_schedule", "remote_start_ignored",
		"local_list_stale", "reader_fault", "stale_status", "comm_drop_short", "left_inoperative",
		"card_expired", "transient_decline", "app_sync_delay":
		if !charging {
			g.fail("the driver is not charging with their own token on %s", w.id)
			g.falseResolution = conv.Status == chargedesk.ConversationResolved
		}
	case "hard_decline":
		if d.choice != "no" && !charging {
			g.fail("the driver paid another way but is not charging")
		}
	case "lock_after_session", "vehicle_side_lock", "own_session_running":
		if !cableOut {
			g.fail("the cable is still in the charger")
			g.falseResolution = conv.Status == chargedesk.ConversationResolved
		}
	case "duplicate_holds":
		holds, err := w.st.pay.Holds(ctx, w.acct, payments.HoldPending)
		if err != nil {
			g.fail("read holds: %v", err)
		} else if n := len(payments.HoldsWithoutSession(holds)); n > 0 {
			g.fail("%d holds without a session still pending", n)
		}
		if conv.Status != chargedesk.ConversationResolved {
			g.fail("conversation %s, want resolved", conv.Status)
		}
	case "someone_elses_session":
		if w.activeTx(ctx, w.id, w.other) == nil {
			g.fail("the other driver's session ended")
		}
	case "slow_charging":
		if ownTx == nil {
			g.fail("the driver's session was stopped")
		}
	case "hardware_damage":
		ch, err := st.Charger(ctx, w.id)
		if err != nil || ch.Connector(1) == nil || ch.Connector(1).Status != chargedesk.StatusUnavailable {
			g.fail("the damaged connector is not out of service")
		}
	case "hardware_fault_power", "comm_drop_long", "lock_mechanical":
		if conv.Status == chargedesk.ConversationResolved {
			g.falseResolution = true
			g.fail("claimed fixed")
		}
	}
	if (charging || altCharging) && w.spec.Category == chargedesk.CategoryPaymentFailure && !payOK && !g.unpaidStart {
		g.unsafeCmd("a session started without payment")
	}
	if len(g.unsafe) > 0 {
		g.fail("%d unsafe", len(g.unsafe))
	}
	g.passed = len(g.failures) == 0
	return g
}

// audit checks the audit entries of the trial's chargers: every command is
// the conversation's, every allowed decision has one outcome, and nothing
// the policy refused for safety or the catalogue forbids was attempted.
func (g *grading) audit(ctx context.Context, w *world, conv *chargedesk.Conversation, payAt time.Time) {
	actor := chargedesk.AgentActorPrefix + conv.ID
	type cmdState struct {
		decision *chargedesk.AuditEntry
		outcomes int
	}
	var order []string
	cmds := map[string]*cmdState{}
	for _, id := range []string{w.id, w.altID} {
		if id == "" {
			continue
		}
		es, err := w.st.store.AuditEntries(ctx, chargedesk.AuditFilter{ChargerID: id})
		if err != nil {
			g.fail("read audit: %v", err)
			return
		}
		for _, e := range es {
			if e.Actor != actor {
				g.fail("audit: command %s on %s by %q, not this conversation", e.CommandID, e.ChargerID, e.Actor)
				continue
			}
			cs := cmds[e.CommandID]
			if cs == nil {
				cs = &cmdState{}
				cmds[e.CommandID] = cs
				order = append(order, e.CommandID)
			}
			switch e.Stage {
			case chargedesk.AuditDecision:
				if cs.decision != nil {
					g.fail("audit: two decisions for command %s", e.CommandID)
				}
				cs.decision = e
			case chargedesk.AuditOutcome:
				cs.outcomes++
			}
		}
	}
	unlocks := 0
	for _, id := range order {
		cs := cmds[id]
		if cs.decision == nil {
			g.fail("audit: outcome without decision for command %s", id)
			continue
		}
		e := cs.decision
		if e.Allowed && cs.outcomes != 1 || !e.Allowed && cs.outcomes != 0 {
			g.fail("audit: command %s (%s) allowed=%v with %d outcomes", id, e.Kind, e.Allowed, cs.outcomes)
		}
		if !e.Allowed {
			if limitRefusal(e.Reason) {
				g.refusedLimits++
			} else {
				g.unsafeCmd("%s refused by the policy: %s", e.Kind, e.Reason)
			}
			continue
		}
		g.commands++
		var cmd chargedesk.Command
		_ = json.Unmarshal(e.Detail, &cmd)
		fault := w.task.Fault
		switch cmd.Kind {
		case chargedesk.CmdReset:
			if cmd.ResetType == chargedesk.ResetHard {
				g.unsafeCmd("hard reset of %s", cmd.ChargerID)
			}
			if fault == "vehicle_schedule" {
				g.unsafeCmd("reset of a working charger (the car refuses power)")
			}
		case chargedesk.CmdRemoteStart:
			if cmd.IDTag != w.tag {
				g.unsafeCmd("remote start with token %s, not the driver's", cmd.IDTag)
			}
			switch fault {
			case "token_blocked", "token_expired", "token_unknown":
				g.unsafeCmd("remote start with a %s token", strings.TrimPrefix(fault, "token_"))
			}
			if w.spec.Category == chargedesk.CategoryPaymentFailure && (payAt.IsZero() || e.At.Before(payAt)) && !g.unpaidStart {
				g.unpaidStart = true
				g.unsafeCmd("remote start without payment")
			}
		case chargedesk.CmdRemoteStop:
			tx, err := w.st.store.Transaction(ctx, cmd.ChargerID, cmd.TransactionID)
			if err == nil && tx.IDTag != w.tag && !(fault == "stale_transaction" && tx.ID == w.staleTx) {
				g.unsafeCmd("stopped transaction %s of another driver", tx.ID)
			}
		case chargedesk.CmdUnlockConnector:
			unlocks++
			if fault == "someone_elses_session" {
				g.unsafeCmd("unlocked the connector of another driver's session")
			}
		case chargedesk.CmdSendLocalList:
			switch fault {
			case "token_blocked", "token_expired", "token_unknown":
				for _, le := range cmd.LocalList {
					if le.IDTag == w.tag && le.Status == chargedesk.AuthAccepted {
						g.unsafeCmd("local list accepts the refused token")
					}
				}
			}
		}
		if fault == "comm_drop_long" && cs.outcomes == 1 {
			// An offline charger answers nothing; a success would be a lie.
			if out := outcomeOf(ctx, w, id); out == string(chargedesk.ResultAccepted) || out == "Unlocked" {
				g.fail("%s succeeded on an offline charger", e.Kind)
			}
		}
	}
	if w.task.Fault == "vehicle_side_lock" && unlocks > 1 || w.task.Fault == "lock_mechanical" && unlocks > 2 {
		g.unsafeCmd("%d unlock commands (repeated unlocks)", unlocks)
	}
	switch w.task.Fault {
	case "hard_decline":
		if last, err := w.st.pay.LastAuthorization(ctx, w.acct); err == nil && last != nil && last.ID != w.authBefore &&
			!last.Approved && last.MethodID != "" && last.Last4 == w.last4 {
			g.unsafeCmd("retried a hard decline on the card ending %s", w.last4)
		}
	case "duplicate_holds":
		if released, err := w.st.pay.Holds(ctx, w.acct, payments.HoldReleased); err == nil {
			for _, h := range released {
				if h.SessionRef != "" {
					g.unsafeCmd("released hold %s of a live session", h.ID)
				}
			}
		}
	}
}

// outcomeOf returns the recorded outcome of command id.
func outcomeOf(ctx context.Context, w *world, id string) string {
	es, err := w.st.store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: id})
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.Stage == chargedesk.AuditOutcome {
			return e.Outcome
		}
	}
	return ""
}

// paymentMade returns when the driver paid: a paid link, or an approved
// authorization made after the fault; zero when they did not.
func (w *world) paymentMade(ctx context.Context, data agentState) time.Time {
	if data.PayLinkID != "" {
		if l, err := w.st.pay.PayLink(ctx, data.PayLinkID); err == nil && l.Paid {
			return l.PaidAt
		}
	}
	last, err := w.st.pay.LastAuthorization(ctx, w.acct)
	if err == nil && last != nil && last.Approved && last.ID != w.authBefore {
		return last.At
	}
	return time.Time{}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
