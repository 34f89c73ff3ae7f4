package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// Ticket categories (routing queues) the agent uses besides the intent
// categories.
const (
	TicketFieldService = "field_service"
	TicketBilling      = "billing"
	TicketOutage       = "outage"
	TicketHumanReview  = "human_review"
	TicketAccount      = "account"
)

// openTicket creates a ticket for what the agent cannot fix, with the
// diagnosis, the evidence (events, command results, extra facts) and the
// transcript, and links it to the conversation. A conversation keeps one
// ticket per category: a second call returns the first.
func (a *Agent) openTicket(ctx context.Context, s *session, category, summary string, extra map[string]any) (*chargedesk.Ticket, error) {
	ctx = context.WithoutCancel(ctx)
	if s.c.TicketID != "" {
		if t, err := a.store.Ticket(ctx, s.c.TicketID); err == nil && t.Category == category {
			return t, nil
		}
	}
	// "problem" and "hazard" tell the operators' queue how urgent the
	// ticket is, whatever queue it goes to (chargedesk.Ticket.Urgency).
	ev := map[string]any{"cause": s.d.Cause, "findings": s.d.Evidence, "commands": s.d.Results, "problem": s.c.Category}
	if s.d.Hazard {
		ev["hazard"] = true
	}
	for k, v := range extra {
		ev[k] = v
	}
	if s.c.ChargerID != "" {
		if events, err := a.store.RecentEvents(ctx, s.c.ChargerID, 20); err == nil {
			ev["events"] = events
		}
		if ch, err := a.store.Charger(ctx, s.c.ChargerID); err == nil {
			ev["charger"] = map[string]any{"connected": ch.Connected, "lastSeenAt": ch.LastSeenAt,
				"disconnectedAt": ch.DisconnectedAt, "connectors": ch.Connectors, "bootStatus": ch.BootStatus}
		}
	}
	evidence, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("agent: ticket evidence: %w", err)
	}
	for len(evidence) > 200<<10 {
		delete(ev, "events")
		evidence, _ = json.Marshal(ev)
		if _, ok := ev["commands"]; !ok {
			break
		}
		delete(ev, "commands")
	}
	diagnosis := s.d.Cause
	if len(s.d.Evidence) > 0 {
		diagnosis += ": " + strings.Join(s.d.Evidence, "; ")
	}
	now := a.now()
	t := &chargedesk.Ticket{ID: newID("T"), Category: category, ChargerID: s.c.ChargerID, ConnectorID: s.c.ConnectorID,
		DriverID: s.c.DriverID, ConversationID: s.c.ID, Summary: textcut.Bytes(summary, 500), Diagnosis: textcut.Bytes(diagnosis, 4000),
		Evidence: evidence, Transcript: a.transcript(ctx, s), Status: chargedesk.TicketOpen, CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateTicket(ctx, t); err != nil {
		return nil, fmt.Errorf("agent: create ticket: %w", err)
	}
	s.c.TicketID = t.ID
	a.log.InfoContext(ctx, "ticket", "conversation_id", s.c.ID, "charger_id", s.c.ChargerID, "ticket", t.ID, "category", category)
	err = s.record(ctx, Action{Kind: "ticket", ChargerID: s.c.ChargerID, ConnectorID: s.c.ConnectorID, Status: category, Detail: t.ID},
		map[string]any{"ticketId": t.ID, "category": category, "summary": t.Summary})
	return t, err
}

// transcript returns the conversation so far, bounded to fit a ticket.
func (a *Agent) transcript(ctx context.Context, s *session) string {
	turns, err := a.store.Turns(ctx, s.c.ID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, t := range turns {
		fmt.Fprintf(&b, "[%s] %s: %s\n", t.At.UTC().Format("15:04:05"), t.Role, t.Text)
	}
	if len(s.out) > 0 {
		fmt.Fprintf(&b, "agent (this reply): %s\n", strings.Join(s.out, " "))
	}
	out := b.String()
	if len(out) > 60000 {
		out = out[len(out)-60000:]
	}
	return out
}

// humanHandoff hands the conversation to the operator's staff.
func (a *Agent) humanHandoff(ctx context.Context, s *session, why string) error {
	t, err := a.openTicket(ctx, s, TicketHumanReview, "Support needed: "+why, nil)
	if err != nil {
		return err
	}
	s.escalated()
	s.say(keyHandoff, t.ID)
	return nil
}
