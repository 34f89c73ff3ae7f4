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
	Flagged int `json:"flagged,omitempty"`
	// Operator is the console operator (their username) who took the
	// conversation over from the agent; "" while the agent answers. While
	// it is set the agent stores the driver's messages and answers none,
	// on every node, until the operator hands it back.
	Operator string `json:"operator,omitempty"`
	// Busy says what the agent is doing with the conversation right now,
	// until BusyUntil (a lease: a node that stops mid-way leaves it to run
	// out): BusyCharger while a command it sent to a charger or the
	// verification on the charger's messages is in flight, BusyReplying
	// while it stores its answer. "" when it is doing nothing.
	Busy      string    `json:"busy,omitempty"`
	BusyUntil time.Time `json:"busyUntil,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// ActiveAt is when the conversation last had something happen: a turn
	// stored or the conversation changed. The store keeps it.
	ActiveAt time.Time `json:"activeAt,omitzero"`
}

// What the agent may be busy with (Conversation.Busy).
const (
	BusyCharger  = "charger"
	BusyReplying = "replying"
)

// ConversationPhase is where a conversation stands as the people
// watching it see it: who has it and what it waits on.
type ConversationPhase string

// Conversation phases.
const (
	// PhaseAgent: open, with the agent, which waits on the driver or
	// works out its answer.
	PhaseAgent ConversationPhase = "agent"
	// PhaseCharger: open, with the agent, which has a command or the
	// verification of a fix in flight on a charger.
	PhaseCharger ConversationPhase = "charger"
	// PhaseEscalated: the agent wrote a ticket for people.
	PhaseEscalated ConversationPhase = "escalated"
	// PhasePerson: a console operator took it over.
	PhasePerson ConversationPhase = "person"
	// PhaseDone: resolved or closed.
	PhaseDone ConversationPhase = "done"
)

// Phases lists the conversation phases.
var Phases = []ConversationPhase{PhaseAgent, PhaseCharger, PhaseEscalated, PhasePerson, PhaseDone}

// Valid reports whether p is a known phase.
func (p ConversationPhase) Valid() bool {
	for _, q := range Phases {
		if p == q {
			return true
		}
	}
	return false
}

// Phase is where c stands at now: with a person when an operator has it
// (whatever its status), else done when resolved or closed, else
// escalated, else waiting on a charger while the agent's lease on one
// runs, else with the agent.
func (c *Conversation) Phase(now time.Time) ConversationPhase {
	switch {
	case c.Operator != "":
		return PhasePerson
	case c.Status == ConversationResolved || c.Status == ConversationClosed:
		return PhaseDone
	case c.Status == ConversationEscalated:
		return PhaseEscalated
	case c.Busy == BusyCharger && c.BusyUntil.After(now):
		return PhaseCharger
	}
	return PhaseAgent
}

// Turn is one message of a conversation, or one action the agent took.
type Turn struct {
	ConversationID string    `json:"conversationId"`
	Seq            int64     `json:"seq"`
	At             time.Time `json:"at"`
	// Role is "driver", "agent", "operator" or "action".
	Role string `json:"role"`
	Text string `json:"text"`
	// Meta holds what goes with the turn: the understanding of a driver's
	// message, the command and result of an action.
	Meta json.RawMessage `json:"meta,omitempty"`
}

// Turn roles: what the driver wrote or said, what the agent answered
// (and the notices of a takeover and a hand back), what a console
// operator wrote while they had the conversation (RoleOperatorTurn: the
// name RoleOperator is the console account's role), and what the agent
// did.
const (
	RoleDriver       = "driver"
	RoleAgent        = "agent"
	RoleOperatorTurn = "operator"
	RoleAction       = "action"
)

// MaxMessageLen bounds a driver's message.
const MaxMessageLen = 2000

// MaxOperatorMessageLen bounds an operator's message, in characters: what
// one SMS can carry (1,600) with room to spare.
const MaxOperatorMessageLen = 1000

// ConversationFilter selects conversations. Every field set narrows the
// list.
type ConversationFilter struct {
	Status   ConversationStatus
	DriverID string
	Channel  Channel
	Language string
	Category string
	// Phase selects by where conversations stand now (the store's clock
	// decides whether a lease on a charger still runs).
	Phase ConversationPhase
	// ByActivity lists by ActiveAt, newest activity first, instead of by
	// CreatedAt, newest first.
	ByActivity bool
	// After continues a listing after the conversation of this cursor:
	// the last one of the previous page (see Conversation.Cursor).
	After *ConversationCursor
	Limit int
}

// ConversationCursor is a conversation's place in a listing: its
// CreatedAt or its ActiveAt (with ByActivity), then its id (listings
// order by both, descending).
type ConversationCursor struct {
	At time.Time
	ID string
}

// Cursor is c's place in a listing by activity (byActivity) or by
// creation.
func (c *Conversation) Cursor(byActivity bool) ConversationCursor {
	if byActivity {
		return ConversationCursor{At: c.ActiveAt, ID: c.ID}
	}
	return ConversationCursor{At: c.CreatedAt, ID: c.ID}
}

// ConversationStore keeps conversations and their turns.
type ConversationStore interface {
	// CreateConversation stores a new conversation. ECONFLICT if the id
	// exists, EINVALID.
	CreateConversation(ctx context.Context, c *Conversation) error
	// Conversation returns one conversation. ENOTFOUND.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// UpdateConversation reads, applies fn and writes back in one
	// transaction; ActiveAt becomes now (it never goes back). ENOTFOUND.
	UpdateConversation(ctx context.Context, id string, fn func(*Conversation) error) (*Conversation, error)
	// Conversations lists conversations, newest first (created or, with
	// ByActivity, active).
	Conversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// AppendTurn stores a turn, assigning Seq (written back), and moves
	// the conversation's ActiveAt to the turn's time when later. ENOTFOUND
	// for an unknown conversation.
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
