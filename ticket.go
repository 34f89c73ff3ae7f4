package chargedesk

import (
	"context"
	"encoding/json"
	"time"
)

// TicketStatus is where a ticket stands: open → assigned → closed.
type TicketStatus string

// Ticket statuses.
const (
	TicketOpen     TicketStatus = "open"
	TicketAssigned TicketStatus = "assigned"
	TicketClosed   TicketStatus = "closed"
)

// Ticket routes what the agent cannot fix remotely to people: field
// service, billing, the operator's support staff — with the diagnosis and
// evidence already written.
type Ticket struct {
	ID string `json:"id"`
	// Category is an intent category or a routing queue such as
	// "field_service", "billing", "outage", "human_review".
	Category       string `json:"category"`
	ChargerID      string `json:"chargerId,omitempty"`
	ConnectorID    int    `json:"connectorId,omitempty"`
	DriverID       string `json:"driverId,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	Summary        string `json:"summary"`
	Diagnosis      string `json:"diagnosis,omitempty"`
	// Evidence holds the events and command results the diagnosis rests on.
	Evidence   json.RawMessage `json:"evidence,omitempty"`
	Transcript string          `json:"transcript,omitempty"`
	Status     TicketStatus    `json:"status"`
	Assignee   string          `json:"assignee,omitempty"`
	Resolution string          `json:"resolution,omitempty"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
}

// Validate checks the ticket.
func (t *Ticket) Validate() error {
	if t.ID == "" || len(t.ID) > 64 || t.Category == "" || len(t.Category) > 64 {
		return Errorf(EINVALID, "ticket needs an id and a category of at most 64 characters")
	}
	if t.Summary == "" || len(t.Summary) > 500 || len(t.Diagnosis) > 4000 || len(t.Transcript) > 64000 || len(t.Evidence) > 256<<10 {
		return Errorf(EINVALID, "ticket %s: summary is required; summary, diagnosis, transcript and evidence are bounded", t.ID)
	}
	switch t.Status {
	case TicketOpen, TicketClosed:
	case TicketAssigned:
		if t.Assignee == "" {
			return Errorf(EINVALID, "ticket %s: an assigned ticket needs an assignee", t.ID)
		}
	default:
		return Errorf(EINVALID, "ticket %s: status %q is not open, assigned or closed", t.ID, t.Status)
	}
	return nil
}

// CanMove reports whether a ticket may go from one status to another:
// open → assigned → closed, open → closed, and reopening a closed ticket.
func (s TicketStatus) CanMove(to TicketStatus) bool {
	switch s {
	case TicketOpen:
		return to == TicketAssigned || to == TicketClosed
	case TicketAssigned:
		return to == TicketAssigned || to == TicketClosed || to == TicketOpen
	case TicketClosed:
		return to == TicketOpen
	}
	return false
}

// TicketFilter selects tickets.
type TicketFilter struct {
	Status    TicketStatus
	Category  string
	ChargerID string
	Limit     int
}

// TicketStore keeps tickets.
type TicketStore interface {
	// CreateTicket stores a new ticket. EINVALID, ECONFLICT.
	CreateTicket(ctx context.Context, t *Ticket) error
	// Ticket returns one ticket. ENOTFOUND.
	Ticket(ctx context.Context, id string) (*Ticket, error)
	// UpdateTicket reads, applies fn and writes back after validating.
	// ENOTFOUND, EINVALID.
	UpdateTicket(ctx context.Context, id string, fn func(*Ticket) error) (*Ticket, error)
	// Tickets lists tickets, newest first.
	Tickets(ctx context.Context, f TicketFilter) ([]*Ticket, error)
}
