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

// SMSStore keeps the SMS channel's small state: each number's thread and
// the ids of the messages already handled, so that a restart or a second
// node neither answers a message twice nor writes to a number that said
// STOP.
type SMSStore interface {
	// ClaimMessage records that the message with the carrier's id sid is
	// being handled and reports whether it was new; false means it was
	// claimed before (a replay). Ids older than the retention are
	// forgotten. EINVALID for an empty or too long id.
	ClaimMessage(ctx context.Context, sid string, at time.Time) (bool, error)
	// SMSThread returns a number's thread. ENOTFOUND.
	SMSThread(ctx context.Context, phone string) (*SMSThread, error)
	// PutSMSThread creates or replaces a number's thread; UpdatedAt becomes
	// now. EINVALID.
	PutSMSThread(ctx context.Context, t *SMSThread) error
}
