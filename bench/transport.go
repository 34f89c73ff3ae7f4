package bench

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/twilio"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

// Transports: how the driver's messages reach the agent (RunConfig.Channel).
const (
	// TransportDirect hands each message to the agent in process
	// (agent.Handle), on the task's channel.
	TransportDirect = "direct"
	// TransportSMS posts each message as a Twilio-signed SMS webhook to
	// /twilio/sms and reads the replies from the TwiML and the Messages
	// API.
	TransportSMS = "twilio-sms"
	// TransportRelay places each task as a ConversationRelay call: the
	// signed /twilio/voice webhook, then prompts over the relay WebSocket.
	TransportRelay = "twilio-relay"
)

// transportOf is the transport of a RunConfig.Channel.
func transportOf(channel chargedesk.Channel) string {
	switch channel {
	case chargedesk.ChannelSMS:
		return TransportSMS
	case chargedesk.ChannelVoice:
		return TransportRelay
	}
	return TransportDirect
}

// The test Twilio account the channel transports sign with.
const (
	benchAccountSID = "AC0123456789abcdef0123456789abcdef"
	benchAuthToken  = "bench-twilio-auth-token"
	benchNumber     = "+18005550199"
)

// errCallEnded is what the voice transport answers once the line ended the
// call (a person takes over): the driver has nothing more to say.
var errCallEnded = errors.New("the call ended")

// transport carries the driver's messages to the agent and its replies
// back.
type transport interface {
	// start opens the conversation as the channel does: a chat starts it,
	// a call dials in; an SMS thread starts with its first message.
	start(ctx context.Context) error
	// say sends one message and returns the reply the driver reads or
	// hears.
	say(ctx context.Context, text string) (string, error)
	// state returns the conversation as it stands after the last reply
	// (nil before there is one) and the actions of that reply when the
	// transport sees them (direct only).
	state(ctx context.Context) (*chargedesk.Conversation, []agent.Action, error)
	close()
	// counts returns what went through the channel's protocol: signed
	// webhooks, relay prompts, texts read from the Messages API.
	counts() (webhooks, prompts, texts int)
}

// newTransport returns the trial's transport for cfg.Channel.
func (w *world) newTransport() (transport, error) {
	switch transportOf(w.cfg.Channel) {
	case TransportSMS:
		return newSMSTransport(w)
	case TransportRelay:
		return newRelayTransport(w)
	}
	return &directTransport{w: w}, nil
}

// directTransport calls the agent in process, as the benchmark always did.
type directTransport struct {
	w    *world
	conv *chargedesk.Conversation
	acts []agent.Action
}

func (t *directTransport) start(ctx context.Context) error {
	task := t.w.task
	from, hint := t.w.phone, ""
	if task.Channel == chargedesk.ChannelChat {
		from, hint = fmt.Sprintf("web-%d", t.w.n), task.Lang
	}
	c, err := t.w.agent.Start(ctx, task.Channel, from, hint)
	t.conv = c
	return err
}

func (t *directTransport) say(ctx context.Context, text string) (string, error) {
	r, err := t.w.agent.Handle(ctx, t.conv.ID, text)
	if err != nil {
		return "", err
	}
	t.conv, t.acts = r.Conversation, r.Actions
	return r.Text, nil
}

func (t *directTransport) state(context.Context) (*chargedesk.Conversation, []agent.Action, error) {
	return t.conv, t.acts, nil
}

func (t *directTransport) close()                  {}
func (t *directTransport) counts() (int, int, int) { return 0, 0, 0 }

// channelAgent is the trial's agent as the HTTP API and the phone line use
// it.
type channelAgent struct{ a *agent.Agent }

func (c channelAgent) Start(ctx context.Context, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, error) {
	return c.a.Start(ctx, ch, from, lang)
}

func (c channelAgent) Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	return c.a.Open(ctx, id, ch, from, lang)
}

func (c channelAgent) Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	r, err := c.a.Handle(ctx, id, text)
	return r.Text, r.Conversation, err
}

func (channelAgent) SetEnabled(bool) {}
func (channelAgent) Enabled() bool   { return true }

// twilioSide is what both channel transports run: a fake of Twilio's REST
// API (it records the messages chargedesk sends) and the trial's own
// chargedesk handler on a loopback listener.
type twilioSide struct {
	api    *twiliotest.API
	client *twilio.Client
	hs     *http.Server
	url    string
	// seen is how many of the fake's messages the driver has read.
	seen int
	// webhooks, prompts and texts count what went through the protocol
	// (Result.Webhooks, Prompts, Texts).
	webhooks, prompts, texts int
}

func newTwilioSide(handler func(*twilio.Client) (http.Handler, error)) (*twilioSide, error) {
	s := &twilioSide{api: twiliotest.NewAPI(benchAccountSID, benchAuthToken)}
	s.client = twilio.NewClient(twilio.Config{AccountSID: benchAccountSID, AuthToken: benchAuthToken, From: benchNumber, APIURL: s.api.URL}, nil)
	h, err := handler(s.client)
	if err != nil {
		s.api.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.api.Close()
		return nil, fmt.Errorf("bench: listen: %w", err)
	}
	s.hs = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	s.url = "http://" + ln.Addr().String()
	return s, nil
}

// read returns the bodies of the messages sent to phone since the last
// call, waiting up to wait for a first one and then, while parts keep
// coming, a little longer for the rest.
func (s *twilioSide) read(phone string, wait time.Duration) []string {
	var out []string
	for {
		msgs := s.api.WaitMessages(s.seen+1, wait)
		if len(msgs) <= s.seen {
			return out
		}
		for _, m := range msgs[s.seen:] {
			if m.To == phone {
				out = append(out, m.Body)
				s.texts++
			}
		}
		s.seen = len(msgs)
		wait = 200 * time.Millisecond
	}
}

func (s *twilioSide) counts() (int, int, int) { return s.webhooks, s.prompts, s.texts }

func (s *twilioSide) close() {
	_ = s.hs.Close()
	s.api.Close()
}

// smsTransport texts the agent: every message is a signed webhook to
// /twilio/sms from the driver's phone.
type smsTransport struct {
	w      *world
	side   *twilioSide
	signer *twiliotest.Signer
	seq    int
}

func newSMSTransport(w *world) (*smsTransport, error) {
	side, err := newTwilioSide(func(c *twilio.Client) (http.Handler, error) {
		return httpapi.New(httpapi.Config{Store: w.st.store, Commands: w.st.gw, Agent: channelAgent{w.agent},
			Twilio: &httpapi.TwilioConfig{Client: c, SMS: w.st.store}, Logger: w.cfg.Logger})
	})
	if err != nil {
		return nil, fmt.Errorf("bench: sms: %w", err)
	}
	return &smsTransport{w: w, side: side, signer: &twiliotest.Signer{AuthToken: benchAuthToken, Target: side.url}}, nil
}

func (t *smsTransport) start(context.Context) error { return nil }

// smsTwiML is a messaging webhook's answer.
type smsTwiML struct {
	Messages []string `xml:"Message"`
}

func (t *smsTransport) say(ctx context.Context, text string) (string, error) {
	t.seq++
	sid := fmt.Sprintf("SM%016x%016x", t.w.n, t.seq)
	resp, err := t.signer.Post(ctx, "/twilio/sms", twiliotest.SMSForm(benchAccountSID, sid, t.w.phone, benchNumber, text))
	t.side.webhooks++
	if err != nil {
		return "", fmt.Errorf("sms webhook: %w", err)
	}
	if resp.Status != http.StatusOK {
		return "", fmt.Errorf("sms webhook: http %d: %s", resp.Status, resp.Body)
	}
	var tw smsTwiML
	if err := xml.Unmarshal([]byte(resp.Body), &tw); err != nil {
		return "", fmt.Errorf("sms webhook: TwiML: %w", err)
	}
	parts := tw.Messages
	if len(parts) == 0 {
		// The agent took longer than the webhook may wait: its reply comes
		// through the Messages API.
		wait := httpapi.DefaultSMSLateTimeout
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		parts = t.side.read(t.w.phone, wait)
		if len(parts) == 0 {
			return "", errors.New("sms: no reply, in the TwiML or later")
		}
	}
	return strings.Join(parts, " "), nil
}

func (t *smsTransport) state(ctx context.Context) (*chargedesk.Conversation, []agent.Action, error) {
	th, err := t.w.st.store.SMSThread(ctx, t.w.phone)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND || err == nil && th.ConversationID == "" {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := t.w.st.store.Conversation(ctx, th.ConversationID)
	return c, nil, err
}

func (t *smsTransport) close()                  { t.side.close() }
func (t *smsTransport) counts() (int, int, int) { return t.side.counts() }

// relayTransport calls the agent: the task is one ConversationRelay call,
// each message a prompt, each reply the text the line speaks up to its
// last token once the holding lines are skipped.
type relayTransport struct {
	w       *world
	side    *twilioSide
	callSid string
	p       *twiliotest.RelayPlayer
	lang    string
	ended   bool
	// firstText and firstHold are the times from a prompt to the line's
	// first text token, for the turns it answered at once and those it
	// opened with a holding line.
	firstText, firstHold []time.Duration
}

func newRelayTransport(w *world) (*relayTransport, error) {
	side, err := newTwilioSide(func(c *twilio.Client) (http.Handler, error) {
		v, err := twilio.NewVoice(twilio.VoiceConfig{AuthToken: benchAuthToken, Agent: channelAgent{w.agent}, Store: w.st.store,
			TextLink: func(ctx context.Context, to, body string) error {
				_, err := c.SendSMS(ctx, to, body)
				return err
			}, Logger: w.cfg.Logger})
		if err != nil {
			return nil, err
		}
		return v.Handler(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: voice: %w", err)
	}
	return &relayTransport{w: w, side: side, callSid: fmt.Sprintf("CA%032x", w.n)}, nil
}

func (t *relayTransport) start(ctx context.Context) error {
	t.p = twiliotest.NewRelayPlayer(t.side.url, benchAuthToken, t.callSid, t.w.phone)
	t.side.webhooks++
	if err := t.p.Start(ctx); err != nil {
		return fmt.Errorf("call: %w", err)
	}
	if c := t.p.Answer.Connect; c != nil {
		t.lang = c.Relay.Language
	}
	return nil
}

func (t *relayTransport) say(ctx context.Context, text string) (string, error) {
	if t.ended {
		return "", errCallEnded
	}
	sent := time.Now()
	if err := t.p.Prompt(ctx, text, t.lang); err != nil {
		return "", fmt.Errorf("relay prompt: %w", err)
	}
	t.side.prompts++
	var cur strings.Builder
	var firstAt time.Duration
	classified := false
	for {
		m, err := t.p.Message(ctx)
		if err != nil {
			return "", fmt.Errorf("relay: awaiting the answer: %w", err)
		}
		switch m.Type {
		case "language":
			// Twilio speaks and listens in the new language from now on.
			t.lang = m.TranscriptionLanguage
		case "end":
			t.hangUp(ctx, m.HandoffData)
			return "", errCallEnded
		case "text":
			if firstAt == 0 {
				firstAt = time.Since(sent)
			}
			cur.WriteString(m.Token)
			if !m.Last {
				continue
			}
			u := strings.TrimSpace(cur.String())
			cur.Reset()
			hold := twilio.HoldingLine(u)
			if !classified {
				// The first words were a holding line (the agent waited on a
				// charger) or the answer itself.
				classified = true
				if hold {
					t.firstHold = append(t.firstHold, firstAt)
				} else {
					t.firstText = append(t.firstText, firstAt)
				}
			}
			if hold {
				continue
			}
			reply := u
			// A link the line texts rather than speaks is on the driver's
			// phone by now.
			for _, s := range t.side.read(t.w.phone, 0) {
				reply += " " + s
			}
			t.awaitEnd(ctx)
			return reply, nil
		}
	}
}

// awaitEnd reads the end message that follows an answer at once when the
// line hands the call to a person (a human-review ticket, as the line
// decides), and follows it.
func (t *relayTransport) awaitEnd(ctx context.Context) {
	c, _, err := t.state(ctx)
	if err != nil || c == nil || c.Status != chargedesk.ConversationEscalated || c.TicketID == "" {
		return
	}
	if tk, err := t.w.st.store.Ticket(ctx, c.TicketID); err != nil || tk.Category != "human_review" {
		return // the line ends only the calls a person takes over
	}
	wait, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if m, err := t.p.Message(wait); err == nil && m.Type == "end" {
		t.hangUp(ctx, m.HandoffData)
	}
}

// hangUp follows the <Connect> callback as Twilio does once the line ended
// the session, and closes the socket.
func (t *relayTransport) hangUp(ctx context.Context, handoffData string) {
	t.ended = true
	t.side.webhooks++
	_, _ = t.p.After(ctx, handoffData, "completed")
	t.p.Hangup()
}

func (t *relayTransport) state(ctx context.Context) (*chargedesk.Conversation, []agent.Action, error) {
	c, err := t.w.st.store.Conversation(ctx, "C-"+t.callSid)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		return nil, nil, nil
	}
	return c, nil, err
}

func (t *relayTransport) counts() (int, int, int) { return t.side.counts() }

func (t *relayTransport) close() {
	if t.p != nil {
		t.p.Hangup()
	}
	t.side.close()
}
