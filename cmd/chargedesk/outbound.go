package main

import (
	"context"
	"log/slog"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/twilio"
)

// channelOutbound reaches a driver on their conversation's channel for the
// console, when nobody waits on an answer: a takeover's and a hand back's
// notices, what an operator writes.
//
//   - web chat and the conversation API: nothing to send, the page (its
//     event stream) and the API's clients read the transcript;
//   - SMS: a text through Twilio's Messages API, unless the number said
//     STOP;
//   - voice: a takeover transfers the live call to the staff's number
//     (the notice spoken first), a hand back returns it to the line; an
//     operator talks to a caller, they do not write.
type channelOutbound struct {
	// client calls Twilio's REST API; nil without a Twilio account.
	client *twilio.Client
	// threads are the SMS numbers' threads (STOP).
	threads chargedesk.SMSStore
	// human is the staff's number a call is transferred to.
	human string
	// public is the base URL Twilio reaches the line at; "" leaves a call
	// handed back with the person who has it.
	public string
	log    *slog.Logger
}

var _ chargedesk.Outbound = (*channelOutbound)(nil)

// Check reports what cannot reach the driver before anything is stored.
func (o *channelOutbound) Check(c *chargedesk.Conversation, kind chargedesk.OutboundKind) error {
	switch c.Channel {
	case chargedesk.ChannelSMS:
		if o.client == nil {
			return nil // a gateway of the conversation API reads the transcript
		}
		if o.client.Config().From == "" {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "No Twilio number to send from is configured (-twilio-from): the driver cannot be texted.")
		}
		if kind == chargedesk.OutboundMessage && o.stopped(context.Background(), c.From) {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "The driver texted STOP: nothing may be sent to their number.")
		}
	case chargedesk.ChannelVoice:
		switch kind {
		case chargedesk.OutboundMessage:
			return chargedesk.Errorf(chargedesk.EINVALID, "This is a call: you talk to the driver on the phone, nothing can be written to it.")
		case chargedesk.OutboundTakeover:
			if o.human == "" {
				return chargedesk.Errorf(chargedesk.ECONFLICT, "No staff number is configured (-twilio-human-number): a live call cannot be taken over.")
			}
			if o.client == nil {
				return chargedesk.Errorf(chargedesk.ECONFLICT, "No Twilio account is configured: the call cannot be transferred to the staff's number.")
			}
			if _, ok := twilio.CallSid(c.ID); !ok {
				return chargedesk.Errorf(chargedesk.EINVALID, "Conversation %s is not a Twilio call.", c.ID)
			}
		}
	}
	return nil
}

// Send delivers text to the driver of c.
func (o *channelOutbound) Send(ctx context.Context, c *chargedesk.Conversation, kind chargedesk.OutboundKind, text string) error {
	switch c.Channel {
	case chargedesk.ChannelSMS:
		if o.client == nil {
			return nil
		}
		if !chargedesk.ValidPhone(c.From) {
			return chargedesk.Errorf(chargedesk.EINVALID, "The conversation has no phone number to text.")
		}
		if o.stopped(ctx, c.From) {
			o.log.Info("console: nothing texted to a number that said STOP", "conversation_id", c.ID, "kind", kind)
			if kind == chargedesk.OutboundMessage {
				return chargedesk.Errorf(chargedesk.ECONFLICT, "The driver texted STOP: nothing may be sent to their number.")
			}
			return nil
		}
		sid, err := o.client.SendSMS(ctx, c.From, text)
		if err != nil {
			return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "The text could not be sent: %v", err)
		}
		o.log.Info("console: texted the driver", "conversation_id", c.ID, "kind", kind, "message_sid", sid)
	case chargedesk.ChannelVoice:
		sid, ok := twilio.CallSid(c.ID)
		if !ok || o.client == nil {
			return nil
		}
		var twiml string
		switch kind {
		case chargedesk.OutboundTakeover:
			twiml = twilio.TransferTwiML(text, c.Language, o.human)
		case chargedesk.OutboundHandback:
			if o.public == "" {
				return nil // the person on the call ends it
			}
			twiml = twilio.ReturnTwiML(text, c.Language, o.public)
		default:
			return nil
		}
		if err := o.client.UpdateCall(ctx, sid, twiml); err != nil {
			return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "The call could not be updated (has the caller hung up?): %v", err)
		}
		o.log.Info("console: call updated", "conversation_id", c.ID, "kind", kind)
	}
	return nil
}

// stopped reports whether phone said STOP (an unreadable thread counts as
// stopped: nothing is sent on a doubt).
func (o *channelOutbound) stopped(ctx context.Context, phone string) bool {
	if o.threads == nil {
		return false
	}
	th, err := o.threads.SMSThread(ctx, phone)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
		return false
	case err != nil:
		o.log.Warn("console: read an SMS thread", "err", err)
		return true
	}
	return th.Stopped
}
