package chargedesk

import (
	"context"
	"time"
)

// SMSThread is where one phone number stands with the SMS channel: the
// conversation its messages go to, the language it last wrote in and
// whether it opted out of messages (STOP).
type SMSThread struct {
	// Phone is the driver's number as the carrier gives it (E.164).
	Phone string `json:"phone"`
	// ConversationID is the conversation the number's messages go to; a
	// new one is opened after an idle time.
	ConversationID string `json:"conversationId,omitempty"`
	// Language is the language of the number's last message (en, fr, es).
	Language string `json:"language,omitempty"`
	// Stopped is set by STOP and cleared by START: nothing is sent to a
	// stopped number.
	Stopped bool `json:"stopped"`
	// LastAt is when the number last wrote.
	LastAt    time.Time `json:"lastAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// SMSMessage is an incoming message as the SMS channel keeps it: its
// carrier id, the number it came from, when it came and when its answer
// went (zero: not yet).
type SMSMessage struct {
	SID        string    `json:"sid"`
	Phone      string    `json:"phone"`
	ReceivedAt time.Time `json:"receivedAt"`
	AnsweredAt time.Time `json:"answeredAt,omitzero"`
}

// SMSStore keeps the SMS channel's small state: each number's thread and
// the ids of the messages already handled, so that a restart or a second
// node neither answers a message twice nor writes to a number that said
// STOP.
type SMSStore interface {
	// ClaimMessage records that the message with the carrier's id sid,
	// from phone, is being handled and reports whether it was new; false
	// means it was claimed before (a replay). Ids older than the retention
	// are forgotten. EINVALID for an empty or too long id.
	ClaimMessage(ctx context.Context, sid, phone string, at time.Time) (bool, error)
	// AnswerMessage records that message sid has had its answer (or that
	// the caller takes on giving one) and reports whether this call did:
	// false when it was answered before, or is unknown. Of two nodes that
	// would answer a forgotten message, one wins.
	AnswerMessage(ctx context.Context, sid string, at time.Time) (bool, error)
	// UnansweredMessages lists, oldest first, at most limit messages
	// claimed before before and never answered: a node stopped while the
	// agent worked on them.
	UnansweredMessages(ctx context.Context, before time.Time, limit int) ([]SMSMessage, error)
	// SMSThread returns a number's thread. ENOTFOUND.
	SMSThread(ctx context.Context, phone string) (*SMSThread, error)
	// PutSMSThread creates or replaces a number's thread; UpdatedAt becomes
	// now. EINVALID.
	PutSMSThread(ctx context.Context, t *SMSThread) error
	// SwapSMSConversation points a number's thread at conversation next,
	// creating the thread when there is none, provided its conversation is
	// still prev ("" for none); it returns the thread's conversation after
	// the call: next when this call set it, else what another writer (on
	// any node) set first. EINVALID.
	SwapSMSConversation(ctx context.Context, phone, prev, next string, at time.Time) (string, error)
}
