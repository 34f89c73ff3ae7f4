package twiliotest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk/twilio"
)

// RelayPlayer plays Twilio's side of a ConversationRelay call against a
// chargedesk server: the signed incoming-call webhook, the relay WebSocket
// opened with the signature header, setup, prompts, dtmf keys and
// interrupts as Twilio sends them, and the <Connect> callback. A reader
// collects the line's messages in the background.
type RelayPlayer struct {
	*twilio.RelayCall
	msgs chan twilio.RelayMessage
	errc chan error
}

// NewRelayPlayer returns a player for one call to target, signing with
// authToken.
func NewRelayPlayer(target, authToken, callSid, from string) *RelayPlayer {
	return &RelayPlayer{RelayCall: &twilio.RelayCall{Target: target, AuthToken: authToken, CallSid: callSid, From: from, To: "+18005550100"}}
}

// Start places the call: the webhook, then the relay's setup.
func (p *RelayPlayer) Start(ctx context.Context) error {
	if err := p.Dial(ctx); err != nil {
		return err
	}
	if err := p.Connect(ctx); err != nil {
		return err
	}
	p.msgs, p.errc = make(chan twilio.RelayMessage, 256), make(chan error, 1)
	go func() {
		for {
			m, err := p.Next(context.Background())
			if err != nil {
				p.errc <- err
				close(p.msgs)
				return
			}
			p.msgs <- m
		}
	}()
	return nil
}

// Message returns the line's next message.
func (p *RelayPlayer) Message(ctx context.Context) (twilio.RelayMessage, error) {
	select {
	case m, ok := <-p.msgs:
		if !ok {
			return m, <-p.errc
		}
		return m, nil
	case <-ctx.Done():
		return twilio.RelayMessage{}, ctx.Err()
	}
}

// Turn is what the line sent in answer to one turn of the caller.
type Turn struct {
	// Utterances are the texts spoken, each ended by a last token.
	Utterances []string
	// Answer is the agent's answer: the utterances that are not holding
	// lines.
	Answer string
	// Holds counts the holding lines; HoldGaps are the times from the
	// caller's turn to the first holding line, then between holding lines
	// and to the answer.
	Holds    int
	HoldGaps []time.Duration
	// Languages are the ttsLanguage of language messages.
	Languages []string
	// HandoffData is the end message's, when the line ended the session.
	HandoffData string
	Ended       bool
}

// Say sends what the caller said and waits for the answer.
func (p *RelayPlayer) Say(ctx context.Context, text, lang string) (Turn, error) {
	if err := p.Prompt(ctx, text, lang); err != nil {
		return Turn{}, err
	}
	return p.Await(ctx)
}

// Type sends keypad keys and waits for the answer.
func (p *RelayPlayer) Type(ctx context.Context, keys string) (Turn, error) {
	if err := p.Keys(ctx, keys); err != nil {
		return Turn{}, err
	}
	return p.Await(ctx)
}

// Await reads the line's messages until an answer that is not a holding
// line is complete, and an end message that follows it at once.
func (p *RelayPlayer) Await(ctx context.Context) (Turn, error) {
	var t Turn
	var cur strings.Builder
	last := time.Now()
	for {
		m, err := p.Message(ctx)
		if err != nil {
			return t, fmt.Errorf("awaiting the line's answer (so far %q): %w", t.Utterances, err)
		}
		switch m.Type {
		case "language":
			t.Languages = append(t.Languages, m.TTSLanguage)
		case "end":
			t.Ended, t.HandoffData = true, m.HandoffData
			return t, nil
		case "text":
			cur.WriteString(m.Token)
			if !m.Last {
				continue
			}
			u := strings.TrimSpace(cur.String())
			cur.Reset()
			t.Utterances = append(t.Utterances, u)
			t.HoldGaps = append(t.HoldGaps, time.Since(last))
			last = time.Now()
			if twilio.HoldingLine(u) {
				t.Holds++
				continue
			}
			t.Answer = strings.TrimSpace(t.Answer + " " + u)
			// An end follows an answer at once when the line hands off.
			wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			m, err := p.Message(wait)
			cancel()
			if err == nil {
				if m.Type == "end" {
					t.Ended, t.HandoffData = true, m.HandoffData
				} else {
					return t, fmt.Errorf("unexpected %s message after the answer", m.Type)
				}
			} else if !errors.Is(err, context.DeadlineExceeded) {
				return t, err
			}
			return t, nil
		}
	}
}
