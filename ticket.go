package chargedesk

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	Status TicketStatus
	// Statuses, when set, keeps tickets in any of them (with Status too,
	// both must hold).
	Statuses  []TicketStatus
	Category  string
	ChargerID string
	// Order is how the tickets come: TicketsNewest (the default) or
	// TicketsByUrgency.
	Order TicketOrder
	// Offset skips that many tickets of the order (paging; at most
	// MaxTicketOffset).
	Offset int
	Limit  int
}

// TicketOrder is the order of a ticket listing.
type TicketOrder string

// Ticket orders: newest first, or the operators' queue — most urgent first
// (Ticket.Urgency), oldest first within a level.
const (
	TicketsNewest    TicketOrder = ""
	TicketsByUrgency TicketOrder = "urgency"
)

// MaxTicketOffset bounds TicketFilter.Offset.
const MaxTicketOffset = 100000

// Urgency is how soon a ticket needs people; lower comes first.
type Urgency int

// Urgency levels: a safety report first (hardware damage, a hazard), then
// the failures that stop a driver charging (a session that will not start,
// a charger offline, a cable stuck, a card or a payment refused), then the
// rest (slow charging, billing disputes, questions).
const (
	UrgencySafety  Urgency = 0
	UrgencyBlocked Urgency = 1
	UrgencyOther   Urgency = 2
)

// String names the level: "safety", "blocked" or "other".
func (u Urgency) String() string {
	switch u {
	case UrgencySafety:
		return "safety"
	case UrgencyBlocked:
		return "blocked"
	}
	return "other"
}

// blockingProblems are the categories that stop a driver charging.
var blockingProblems = map[string]bool{
	CategorySessionWontStart: true, CategoryChargerOffline: true, CategoryConnectorStuck: true,
	CategoryRFIDFailure: true, CategoryPaymentFailure: true,
}

// TicketQueueOutage is the routing queue of a charger that is down: its
// tickets stop drivers charging whatever the conversation was about.
const TicketQueueOutage = "outage"

// Urgency reads the ticket's level from its category and from what its
// evidence (a JSON object) says of the driver's problem: "problem" (the
// conversation's category when the agent wrote the ticket, whatever queue
// it went to) and "hazard" (true when the driver described one). Keys are
// matched exactly; evidence that is not an object says nothing.
func (t *Ticket) Urgency() Urgency {
	var ev map[string]json.RawMessage
	_ = json.Unmarshal(t.Evidence, &ev)
	var problem string
	if raw, ok := ev["problem"]; ok {
		_ = json.Unmarshal(raw, &problem)
	}
	switch {
	case t.Category == CategoryHardwareDamage || problem == CategoryHardwareDamage || string(ev["hazard"]) == "true":
		return UrgencySafety
	case blockingProblems[t.Category] || t.Category == TicketQueueOutage || blockingProblems[problem]:
		return UrgencyBlocked
	}
	return UrgencyOther
}

// TicketComment is an operator's note on a ticket.
type TicketComment struct {
	ID       int64  `json:"id"`
	TicketID string `json:"ticketId"`
	// Author is who wrote it, as the audit log names actors
	// ("console:ada").
	Author string    `json:"author"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// MaxCommentLen bounds a ticket comment's body, in bytes.
const MaxCommentLen = 4000

// Validate checks the comment: a ticket, an author and a body of 1 to
// MaxCommentLen bytes of UTF-8 without control characters other than
// newlines and tabs.
func (c *TicketComment) Validate() error {
	if c.TicketID == "" || len(c.TicketID) > 64 {
		return Errorf(EINVALID, "a comment needs the id of its ticket")
	}
	if c.Author == "" || len(c.Author) > 200 || !utf8.ValidString(c.Author) {
		return Errorf(EINVALID, "a comment needs an author of at most 200 bytes")
	}
	if strings.TrimSpace(c.Body) == "" || len(c.Body) > MaxCommentLen || !utf8.ValidString(c.Body) {
		return Errorf(EINVALID, "a comment is 1 to %d bytes of text", MaxCommentLen)
	}
	for _, r := range c.Body {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return Errorf(EINVALID, "a comment may not hold control characters")
		}
	}
	return nil
}

// TicketCommentStore keeps operators' comments on tickets.
type TicketCommentStore interface {
	// AddTicketComment stores a comment after validating it and writes
	// back its ID and At (now when zero). ENOTFOUND for an unknown ticket,
	// EINVALID.
	AddTicketComment(ctx context.Context, c *TicketComment) error
	// TicketComments lists a ticket's comments oldest first, at most limit
	// (default 100, at most 1000).
	TicketComments(ctx context.Context, ticketID string, limit int) ([]*TicketComment, error)
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
