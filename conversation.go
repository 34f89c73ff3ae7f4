package chargedesk

import (
	"context"
	"encoding/json"
	"time"
)

// Channel is how a driver reaches support.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
	ChannelChat  Channel = "chat"
	ChannelAPI   Channel = "api"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelSMS, ChannelVoice, ChannelChat, ChannelAPI:
		return true
	}
	return false
}

// Intent categories (DESIGN §4): the fixed names used by understanding, the
// API and the benchmark.
const (
	CategorySessionWontStart = "session_wont_start"
	CategoryPaymentFailure   = "payment_failure"
	CategoryChargerOffline   = "charger_offline"
	CategoryConnectorStuck   = "connector_stuck"
	CategoryRFIDFailure      = "rfid_failure"
	CategorySlowCharging     = "slow_charging"
	CategoryBillingDispute   = "billing_dispute"
	CategoryHardwareDamage   = "hardware_damage"
	CategoryOther            = "other"
)

// Categories lists the intent categories.
var Categories = []string{
	CategorySessionWontStart, CategoryPaymentFailure, CategoryChargerOffline, CategoryConnectorStuck,
	CategoryRFIDFailure, CategorySlowCharging, CategoryBillingDispute, CategoryHardwareDamage, CategoryOther,
}

// ConversationStatus is where a conversation stands.
type ConversationStatus string

// Conversation statuses.
const (
	ConversationOpen      ConversationStatus = "open"
	ConversationResolved  ConversationStatus = "resolved"
	ConversationEscalated ConversationStatus = "escalated"
	ConversationClosed    ConversationStatus = "closed"
)

// Verification says how a caller was bound to a driver account before the
// agent acts on a session: the phone number on file, the last digits of a
// card on file, or the session's connector and start time.
type Verification string

// Verifications.
const (
	VerifiedNone     Verification = ""
	VerifiedPhone    Verification = "phone"
	VerifiedCard     Verification = "card_last4"
	VerifiedSession  Verification = "session"
	VerifiedOperator Verification = "operator"
)

// Conversation is one support conversation with a driver: what is known so
// far and where its playbook stands. Turns are kept apart (Turn).
type Conversation struct {
	ID       string  `json:"id"`
	Channel  Channel `json:"channel"`
	Language string  `json:"language"`
	// From is the caller's address on the channel: a phone number for
	// voice and SMS, a session handle for chat.
	From string `json:"from,omitempty"`
	// DriverID is the driver once identified; Verified says how.
	DriverID    string       `json:"driverId,omitempty"`
	Verified    Verification `json:"verified,omitempty"`
	ChargerID   string       `json:"chargerId,omitempty"`
	ConnectorID int          `json:"connectorId,omitempty"`
	// Category is the detected issue.
	Category string `json:"category,omitempty"`
	// Playbook and State say where the agent stands; Data is the
	// playbook's own state, opaque to everything else.
	Playbook string             `json:"playbook,omitempty"`
	State    string             `json:"state,omitempty"`
	Data     json.RawMessage    `json:"data,omitempty"`
	Status   ConversationStatus `json:"status"`
	TicketID string             `json:"ticketId,omitempty"`
	// Flagged counts messages that tried to make the agent break its rules.
	Flagged   int       `json:"flagged,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Turn is one message of a conversation, or one action the agent took.
type Turn struct {
	ConversationID string    `json:"conversationId"`
	Seq            int64     `json:"seq"`
	At             time.Time `json:"at"`
	// Role is "driver", "agent" or "action".
	Role string `json:"role"`
	Text string `json:"text"`
	// Meta holds what goes with the turn: the understanding of a driver's
	// message, the command and result of an action.
	Meta json.RawMessage `json:"meta,omitempty"`
}

// Turn roles.
const (
	RoleDriver = "driver"
	RoleAgent  = "agent"
	RoleAction = "action"
)

// MaxMessageLen bounds a driver's message.
const MaxMessageLen = 2000

// ConversationFilter selects conversations.
type ConversationFilter struct {
	Status   ConversationStatus
	DriverID string
	Limit    int
}

// ConversationStore keeps conversations and their turns.
type ConversationStore interface {
	// CreateConversation stores a new conversation. ECONFLICT if the id
	// exists, EINVALID.
	CreateConversation(ctx context.Context, c *Conversation) error
	// Conversation returns one conversation. ENOTFOUND.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// UpdateConversation reads, applies fn and writes back in one
	// transaction. ENOTFOUND.
	UpdateConversation(ctx context.Context, id string, fn func(*Conversation) error) (*Conversation, error)
	// Conversations lists conversations, newest first.
	Conversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// AppendTurn stores a turn, assigning Seq (written back). ENOTFOUND for
	// an unknown conversation.
	AppendTurn(ctx context.Context, t *Turn) error
	// Turns returns a conversation's turns in order.
	Turns(ctx context.Context, conversationID string) ([]Turn, error)
	// AmendInterruptedTurn keeps in the transcript only what the driver
	// heard of the agent's answer before speaking over it (a barge-in on
	// a call). It amends the conversation's latest agent turn, and only
	// when that turn's text still is in.Planned and it was not amended
	// before: its Text becomes in.Heard and its Meta records the
	// interruption (see Interruption); Seq, At and Role stay. Driver and
	// action turns, and older agent turns, are never changed. It returns
	// the turn as now stored. ENOTFOUND for an unknown conversation or
	// one without an agent turn; ECONFLICT when the latest agent turn is
	// not in.Planned or was amended already; EINVALID when in.Heard is
	// not valid turn text (not UTF-8, a NUL, or longer than an agent
	// turn may be).
	AmendInterruptedTurn(ctx context.Context, conversationID string, in Interruption) (*Turn, error)
}

// Interruption is what a driver heard of the agent's answer before
// speaking over it.
type Interruption struct {
	// Planned is the answer as stored: the agent turn that is amended.
	Planned string
	// Heard is what the driver heard, as the voice provider reports it:
	// not necessarily a prefix of Planned (the answer was spoken in its
	// spoken rendering). Empty when the driver spoke at once; the turn
	// then keeps no text, and Meta still says what was planned.
	Heard string
	// DurationMs is how long the answer played before the driver spoke,
	// in milliseconds; negative when not known.
	DurationMs int64
}

// Keys an amended agent turn's Meta gains (AmendInterruptedTurn):
// MetaBargeIn is true, MetaPlanned the text the turn had, MetaInterruptMs
// Interruption.DurationMs when known.
const (
	MetaBargeIn     = "bargeIn"
	MetaPlanned     = "planned"
	MetaInterruptMs = "durationUntilInterruptMs"
)

// Progress is told each remote command the agent sends while it works out
// its answer to a driver's message, before the command goes out. A channel
// with a live line (a call) uses it to say what is happening ("I'm
// restarting the charger now") instead of leaving silence; it must not
// block.
type Progress func(Command)

type progressKey struct{}

// WithProgress returns a context that carries p to the agent.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// ProgressOf returns the Progress ctx carries, or nil.
func ProgressOf(ctx context.Context) Progress {
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}
