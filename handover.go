package chargedesk

import (
	"context"
	"time"
)

// ConversationChange says that a conversation changed, without saying
// how: whoever listens reads the store. It is what a node publishes on the
// bus when it stores a turn or updates a conversation, so that the live
// views on every node (the console's transcript and list, the web chat)
// show it at once.
type ConversationChange struct {
	ID string `json:"id"`
	// Kind is ChangeCreated, ChangeTurn, ChangeAmended or ChangeUpdated.
	Kind string `json:"kind"`
	// Seq is the turn stored or amended; 0 when the conversation itself
	// changed.
	Seq int64     `json:"seq,omitempty"`
	At  time.Time `json:"at"`
}

// Kinds of ConversationChange.
const (
	ChangeCreated = "created"
	ChangeTurn    = "turn"
	ChangeAmended = "amended"
	ChangeUpdated = "updated"
)

// ConversationFeed carries conversation changes between nodes.
type ConversationFeed interface {
	// PublishConversation tells every subscriber on every node; it does
	// not wait for them.
	PublishConversation(ch ConversationChange) error
	// SubscribeConversations calls fn with each change of conversation
	// id, or of every conversation when id is "", one call at a time;
	// unsubscribe stops the calls. fn must not block: a subscriber that
	// falls behind loses changes rather than slowing the publishers.
	SubscribeConversations(id string, fn func(ConversationChange)) (unsubscribe func() error, err error)
}

// OutboundKind says why something is sent to a driver outside a reply to
// their message.
type OutboundKind string

// Outbound kinds.
const (
	// OutboundTakeover: a person takes the conversation over; the text is
	// the notice the driver is told.
	OutboundTakeover OutboundKind = "takeover"
	// OutboundHandback: the agent answers again; the text is the notice.
	OutboundHandback OutboundKind = "handback"
	// OutboundMessage: what an operator wrote.
	OutboundMessage OutboundKind = "message"
)

// Outbound reaches the driver of a conversation on its channel when
// nobody is waiting on an answer: a takeover's and a hand back's notices,
// an operator's messages. Each channel does it its own way (an SMS sent
// through the provider's API, a call transferred to a person, nothing for
// the web chat, whose page receives every turn stored).
type Outbound interface {
	// Check reports, before anything is stored, whether kind can reach
	// the driver of c: an error (EINVALID, ECONFLICT) says why not (a call
	// cannot be taken over without a number to transfer it to; an
	// operator talks to a caller on the phone, not in writing).
	Check(c *Conversation, kind OutboundKind) error
	// Send delivers text, already stored as a turn of c, to its driver.
	Send(ctx context.Context, c *Conversation, kind OutboundKind, text string) error
}

// Findings are what the agent found and did in a conversation, for people
// to read: the problem and how sure the words were, the cause it acts on
// and its evidence, the commands it sent and how they ended, the question
// it waits on. Nothing personal: no card or phone numbers.
type Findings struct {
	Category   string  `json:"category,omitempty"`
	Confidence float64 `json:"confidence"`
	// Sure: the driver's words named the category with confidence.
	Sure     bool           `json:"sure"`
	Cause    string         `json:"cause,omitempty"`
	Evidence []string       `json:"evidence,omitempty"`
	Commands []CommandTaken `json:"commands,omitempty"`
	// Asking is the question the agent waits on the driver for.
	Asking string `json:"asking,omitempty"`
	// Nearest is the alternative charger the driver was sent to.
	Nearest string `json:"nearest,omitempty"`
}

// CommandTaken is one command the agent sent and its result ("Pending"
// while it is in flight).
type CommandTaken struct {
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	ChargerID   string    `json:"chargerId"`
	ConnectorID int       `json:"connectorId,omitempty"`
	Status      string    `json:"status"`
	Detail      string    `json:"detail,omitempty"`
}
