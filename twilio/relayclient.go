package twilio

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// RelayCall plays Twilio's side of one call against a chargedesk phone
// line: it posts the signed incoming-call webhook, reads the TwiML, opens
// the relay's WebSocket with the signature header, sends what a caller
// says and types as ConversationRelay messages, reads the line's answers,
// and follows the <Connect> callback. `chargedesk call` and the tests'
// fake Twilio use it.
type RelayCall struct {
	// Target is where chargedesk is reached (http://127.0.0.1:8080).
	Target string
	// Public is the base URL Twilio believes it calls, the one signed;
	// empty means Target.
	Public string
	// AuthToken signs the requests; empty sends them unsigned.
	AuthToken string
	// CallSid, From and To describe the call.
	CallSid, From, To string
	// HTTP sends the webhooks; nil means a client with a 30 s timeout.
	HTTP *http.Client

	// Answer is what the incoming-call webhook answered.
	Answer VoiceTwiML

	conn *websocket.Conn
}

// VoiceTwiML is what the phone line's TwiML holds, as Twilio reads it.
type VoiceTwiML struct {
	XMLName xml.Name `xml:"Response"`
	Connect *struct {
		Action string `xml:"action,attr"`
		Relay  struct {
			URL             string `xml:"url,attr"`
			WelcomeGreeting string `xml:"welcomeGreeting,attr"`
			Language        string `xml:"language,attr"`
			Interruptible   string `xml:"interruptible,attr"`
			DTMFDetection   string `xml:"dtmfDetection,attr"`
			Languages       []struct {
				Code string `xml:"code,attr"`
			} `xml:"Language"`
			Parameters []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"Parameter"`
		} `xml:"ConversationRelay"`
	} `xml:"Connect"`
	Gather *struct {
		Input    string     `xml:"input,attr"`
		Action   string     `xml:"action,attr"`
		Language string     `xml:"language,attr"`
		Says     []TwiMLSay `xml:"Say"`
	} `xml:"Gather"`
	Says     []TwiMLSay `xml:"Say"`
	Dial     string     `xml:"Dial"`
	Redirect string     `xml:"Redirect"`
	Hangup   *struct{}  `xml:"Hangup"`
}

// TwiMLSay is one <Say>.
type TwiMLSay struct {
	Language string `xml:"language,attr"`
	Text     string `xml:",chardata"`
}

// ParseVoiceTwiML reads a TwiML answer.
func ParseVoiceTwiML(body string) (VoiceTwiML, error) {
	var t VoiceTwiML
	err := xml.Unmarshal([]byte(body), &t)
	return t, err
}

func (c *RelayCall) public() string {
	if c.Public != "" {
		return strings.TrimRight(c.Public, "/")
	}
	return strings.TrimRight(c.Target, "/")
}

func (c *RelayCall) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Post sends a signed webhook to path (with its query) carrying form, plus
// the call's own parameters, and returns the status and the body.
func (c *RelayCall) Post(ctx context.Context, path string, form url.Values) (int, string, error) {
	if form == nil {
		form = url.Values{}
	}
	for k, v := range map[string]string{"CallSid": c.CallSid, "From": c.From, "To": c.To, "AccountSid": "AC00000000000000000000000000000000", "Direction": "inbound"} {
		if form.Get(k) == "" && v != "" {
			form.Set(k, v)
		}
	}
	path = c.local(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Target, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthToken != "" {
		req.Header.Set(SignatureHeader, Signature(c.AuthToken, c.public()+path, form))
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// local is a URL's path and query, for an absolute URL of the public base
// or a path.
func (c *RelayCall) local(u string) string {
	if p, err := url.Parse(u); err == nil && p.IsAbs() {
		return p.RequestURI()
	}
	return u
}

// Dial posts the incoming-call webhook and keeps its TwiML in Answer.
func (c *RelayCall) Dial(ctx context.Context) error {
	status, body, err := c.Post(ctx, "/twilio/voice", url.Values{"CallStatus": {"ringing"}})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("incoming-call webhook: http %d", status)
	}
	if c.Answer, err = ParseVoiceTwiML(body); err != nil {
		return fmt.Errorf("incoming-call webhook: %w", err)
	}
	return nil
}

// Connect opens the relay WebSocket named by the TwiML (reached at
// Target, signed over the URL as named) and sends setup.
func (c *RelayCall) Connect(ctx context.Context) error {
	if c.Answer.Connect == nil || c.Answer.Connect.Relay.URL == "" {
		return errors.New("the TwiML has no <Connect><ConversationRelay url>")
	}
	relayURL := c.Answer.Connect.Relay.URL
	u, err := url.Parse(relayURL)
	if err != nil {
		return err
	}
	target := "ws" + strings.TrimPrefix(strings.TrimRight(c.Target, "/"), "http") + u.RequestURI()
	h := http.Header{}
	if c.AuthToken != "" {
		h.Set(SignatureHeader, Signature(c.AuthToken, relayURL, nil))
	}
	conn, _, err := websocket.Dial(ctx, target, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return err
	}
	conn.SetReadLimit(1 << 20)
	c.conn = conn
	params := map[string]string{}
	for _, p := range c.Answer.Connect.Relay.Parameters {
		params[p.Name] = p.Value
	}
	return c.Send(ctx, RelayMessage{Type: "setup", SessionID: "VX" + c.CallSid, CallSid: c.CallSid, From: c.From, To: c.To,
		Direction: "inbound", CustomParameters: params})
}

// Send sends one message to the line.
func (c *RelayCall) Send(ctx context.Context, m RelayMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, b)
}

// SendRaw sends bytes as one text message (malformed ones too).
func (c *RelayCall) SendRaw(ctx context.Context, b []byte) error {
	if c.conn == nil {
		return errors.New("not connected")
	}
	return c.conn.Write(ctx, websocket.MessageText, b)
}

// Prompt sends what the caller said, as the transcription's last prompt.
func (c *RelayCall) Prompt(ctx context.Context, text, lang string) error {
	return c.Send(ctx, RelayMessage{Type: "prompt", VoicePrompt: text, Lang: lang, Last: true})
}

// Keys sends keypad keys, one dtmf message each.
func (c *RelayCall) Keys(ctx context.Context, keys string) error {
	for _, k := range keys {
		if err := c.Send(ctx, RelayMessage{Type: "dtmf", Digit: string(k)}); err != nil {
			return err
		}
	}
	return nil
}

// Interrupt tells the line the caller spoke over it after hearing heard.
func (c *RelayCall) Interrupt(ctx context.Context, heard string, ms int) error {
	return c.Send(ctx, RelayMessage{Type: "interrupt", UtteranceUntilInterrupt: heard, DurationUntilInterruptMs: ms})
}

// Next reads the line's next message.
func (c *RelayCall) Next(ctx context.Context) (RelayMessage, error) {
	var m RelayMessage
	if c.conn == nil {
		return m, errors.New("not connected")
	}
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(b, &m)
	return m, err
}

// After posts the <Connect> callback as Twilio does when the session
// ended, and returns its TwiML.
func (c *RelayCall) After(ctx context.Context, handoffData, sessionStatus string) (VoiceTwiML, error) {
	if c.Answer.Connect == nil {
		return VoiceTwiML{}, errors.New("the TwiML has no <Connect action>")
	}
	form := url.Values{"SessionStatus": {sessionStatus}, "CallStatus": {"in-progress"}}
	if handoffData != "" {
		form.Set("HandoffData", handoffData)
	}
	status, body, err := c.Post(ctx, c.Answer.Connect.Action, form)
	if err != nil {
		return VoiceTwiML{}, err
	}
	if status != http.StatusOK {
		return VoiceTwiML{}, fmt.Errorf("connect callback: http %d", status)
	}
	return ParseVoiceTwiML(body)
}

// Hangup closes the relay WebSocket as a caller hanging up does.
func (c *RelayCall) Hangup() {
	if c.conn != nil {
		_ = c.conn.Close(websocket.StatusNormalClosure, "caller hung up")
	}
}

// Drop cuts the relay WebSocket without a closing handshake.
func (c *RelayCall) Drop() {
	if c.conn != nil {
		_ = c.conn.CloseNow()
	}
}

// HoldingLine reports whether text is one of the line's holding lines
// (spoken while the agent works, telling what it does with the charger or
// asking to wait), in any language.
func HoldingLine(text string) bool {
	for _, lang := range []string{"en", "fr", "es"} {
		if HoldingLineIn(text, lang) {
			return true
		}
	}
	return false
}

// HoldingLineIn reports whether text is one of the line's holding lines
// in lang (en, fr or es).
func HoldingLineIn(text, lang string) bool {
	text = strings.TrimSpace(text)
	for _, key := range holdingLines {
		if l, ok := lines[key][lang]; ok && l == text {
			return true
		}
	}
	return false
}
