package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	"github.com/coder/websocket"
)

// RelayMessage is one message of a ConversationRelay session, either way:
// Twilio sends setup, prompt, dtmf, interrupt and error; chargedesk sends
// text, language and end. Only the fields of its type are set.
type RelayMessage struct {
	Type string `json:"type"`
	// setup
	SessionID        string            `json:"sessionId,omitempty"`
	CallSid          string            `json:"callSid,omitempty"`
	From             string            `json:"from,omitempty"`
	To               string            `json:"to,omitempty"`
	Direction        string            `json:"direction,omitempty"`
	CustomParameters map[string]string `json:"customParameters,omitempty"`
	// prompt
	VoicePrompt string `json:"voicePrompt,omitempty"`
	Lang        string `json:"lang,omitempty"`
	// Last ends a prompt (from Twilio) or a spoken answer (to Twilio).
	Last bool `json:"last"`
	// dtmf: one key per message
	Digit string `json:"digit,omitempty"`
	// interrupt
	UtteranceUntilInterrupt  string `json:"utteranceUntilInterrupt,omitempty"`
	DurationUntilInterruptMs any    `json:"durationUntilInterruptMs,omitempty"`
	// error
	Description string `json:"description,omitempty"`
	// text
	Token string `json:"token,omitempty"`
	// language
	TTSLanguage           string `json:"ttsLanguage,omitempty"`
	TranscriptionLanguage string `json:"transcriptionLanguage,omitempty"`
	// end
	HandoffData string `json:"handoffData,omitempty"`
}

// outText, outLanguage and outEnd are what chargedesk sends.
type outText struct {
	Type  string `json:"type"`
	Token string `json:"token"`
	Last  bool   `json:"last"`
}

type outLanguage struct {
	Type                  string `json:"type"`
	TTSLanguage           string `json:"ttsLanguage"`
	TranscriptionLanguage string `json:"transcriptionLanguage"`
}

type outEnd struct {
	Type        string `json:"type"`
	HandoffData string `json:"handoffData"`
}

// maxRelayMessage bounds one relay message; a longer prompt than
// MaxPromptLen inside it is cut, a longer message ends the session.
const maxRelayMessage = 1 << 20

// maxQueued bounds the caller's turns waiting for the agent.
const maxQueued = 16

// verifyUpgrade reports whether a relay upgrade is signed: over its
// wss:// (ws://) URL, or its https:// (http://) form.
func (v *Voice) verifyUpgrade(r *http.Request) bool {
	base := v.base(r)
	ws := "wss" + strings.TrimPrefix(base, "https")
	if strings.HasPrefix(base, "http://") {
		ws = "ws" + strings.TrimPrefix(base, "http")
	}
	return Verify(v.cfg.AuthToken, ws, r, nil) || Verify(v.cfg.AuthToken, base, r, nil)
}

// handleRelay serves one call's ConversationRelay WebSocket.
func (v *Voice) handleRelay(w http.ResponseWriter, r *http.Request) {
	if !v.verifyUpgrade(r) {
		v.refuse(w, r, "relay")
		return
	}
	// A call lasts longer than any request: no server deadline carries
	// over to the connection.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		v.log.Warn("relay upgrade failed", "err", err)
		return
	}
	conn.SetReadLimit(maxRelayMessage)
	s := &relaySession{v: v, conn: conn, turns: make(chan string, maxQueued), lang: "en"}
	s.run(r.Context())
}

// relaySession is one call's relay: a reader of Twilio's messages and a
// worker that hands the caller's turns to the agent one at a time.
type relaySession struct {
	v    *Voice
	conn *websocket.Conn

	mu        sync.Mutex
	convID    string
	lang      string // the language Twilio speaks and listens in
	lastReply string // the agent's last answer: what keys and digits said answer
	digits    []byte
	dtmf      *time.Timer
	closed    bool
	turns     chan string
}

func (s *relaySession) run(ctx context.Context) {
	log := s.v.log
	worker := make(chan struct{})
	go func() {
		defer close(worker)
		for text := range s.turns {
			s.turn(text)
		}
	}()
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			s.mu.Lock()
			id := s.convID
			s.mu.Unlock()
			log.Info("relay session closed", "conversation_id", id, "reason", websocket.CloseStatus(err))
			break
		}
		if typ != websocket.MessageText {
			continue
		}
		var m RelayMessage
		if err := json.Unmarshal(data, &m); err != nil {
			s.v.malformed.Inc()
			log.Warn("relay message is not JSON; skipped", "bytes", len(data))
			continue
		}
		s.handle(ctx, m)
	}
	// The caller hung up or the socket dropped: keys typed so far still
	// count, the agent finishes what it started (its context is not the
	// socket's), and the conversation and any ticket stay as stored.
	s.mu.Lock()
	if s.dtmf != nil {
		s.dtmf.Stop()
	}
	pending := s.takeDigitsLocked()
	s.mu.Unlock()
	if pending != "" {
		s.enqueue(pending)
	}
	s.mu.Lock()
	s.closed = true
	close(s.turns)
	s.mu.Unlock()
	<-worker
	_ = s.conn.CloseNow()
}

// handle takes one message from Twilio.
func (s *relaySession) handle(ctx context.Context, m RelayMessage) {
	log := s.v.log
	s.mu.Lock()
	id := s.convID
	s.mu.Unlock()
	if id == "" && m.Type != "setup" && m.Type != "error" {
		log.Warn("relay message before setup; skipped", "type", m.Type)
		return
	}
	switch m.Type {
	case "setup":
		if id != "" {
			return // one setup per session
		}
		c, err := s.v.open(context.WithoutCancel(ctx), m.CallSid, m.From)
		if err != nil {
			log.Error("relay setup failed", "err", err)
			_ = s.conn.Close(websocket.StatusPolicyViolation, "setup failed")
			return
		}
		if p := m.CustomParameters["conversationId"]; p != "" && p != c.ID {
			log.Warn("relay setup names another conversation than its call's; the call's is used", "conversation_id", c.ID)
		}
		s.mu.Lock()
		s.convID, s.lang = c.ID, c.Language
		s.mu.Unlock()
		log.Info("relay session set up", "conversation_id", c.ID)
	case "prompt":
		if !m.Last {
			return // a partial transcript: the whole one follows
		}
		text := strings.TrimSpace(m.VoicePrompt)
		if len(text) > MaxPromptLen {
			log.Warn("relay prompt too long; cut", "conversation_id", id, "bytes", len(text))
			text = cutUTF8(text, MaxPromptLen)
		}
		if text != "" {
			s.mu.Lock()
			text = heardMean(text, s.lastReply)
			s.mu.Unlock()
			s.enqueue(text)
		}
	case "dtmf":
		s.key(m.Digit)
	case "interrupt":
		s.v.bargeIns.Inc()
		s.interrupted(ctx, id, m)
	case "error":
		log.Warn("relay reported an error", "conversation_id", id, "description", m.Description)
	default:
		log.Debug("relay message of unknown type; skipped", "type", m.Type)
	}
}

// key takes one keypad key: # ends the digits at once, a pause of
// DTMFIdle ends them too.
func (s *relaySession) key(d string) {
	if len(d) != 1 || !strings.Contains("0123456789*#", d) {
		return
	}
	s.mu.Lock()
	if s.dtmf != nil {
		s.dtmf.Stop()
	}
	if d != "#" {
		if len(s.digits) < 32 {
			s.digits = append(s.digits, d[0])
		}
		s.dtmf = time.AfterFunc(s.v.cfg.DTMFIdle, func() {
			s.mu.Lock()
			text := s.takeDigitsLocked()
			s.mu.Unlock()
			if text != "" {
				s.enqueue(text)
			}
		})
		s.mu.Unlock()
		return
	}
	text := s.takeDigitsLocked()
	s.mu.Unlock()
	if text != "" {
		s.enqueue(text)
	}
}

// takeDigitsLocked returns the keys typed so far as what the driver means
// by them, and forgets them.
func (s *relaySession) takeDigitsLocked() string {
	d := strings.ReplaceAll(string(s.digits), "*", "")
	s.digits = nil
	return keysMean(d, s.lastReply, s.lang)
}

// keysMean is what keys typed after reply mean: the digits themselves
// when the reply asked the last 4 digits of a card; 1 and 2 are yes and no
// when the reply asked for one; any other keys are the digits themselves
// (a charger's number, a connector).
func keysMean(digits, reply, lang string) string {
	if asksLast4(reply) {
		return digits
	}
	if (digits == "1" || digits == "2") && asksYesNo(reply) {
		return yesNo[spokenLang(lang)][digits[0]-'1']
	}
	return digits
}

// enqueue hands a turn of the caller to the worker.
func (s *relaySession) enqueue(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.turns <- text:
	default:
		s.v.log.Warn("caller's turns pile up; one dropped", "conversation_id", s.convID)
	}
}

// interrupted keeps in the transcript what the caller heard of the
// agent's answer before speaking over it.
func (s *relaySession) interrupted(ctx context.Context, id string, m RelayMessage) {
	heard := cutUTF8(strings.TrimSpace(m.UtteranceUntilInterrupt), 1000)
	meta, _ := json.Marshal(map[string]any{"bargeIn": true, "heard": heard, "durationUntilInterruptMs": m.DurationUntilInterruptMs})
	t := &chargedesk.Turn{ConversationID: id, At: time.Now(), Role: chargedesk.RoleAction, Text: "the caller spoke over the agent; heard only: " + heard, Meta: meta}
	if err := s.v.cfg.Store.AppendTurn(context.WithoutCancel(ctx), t); err != nil {
		s.v.log.Warn("recording an interruption failed", "conversation_id", id, "err", err)
	}
}

// turn hands one turn of the caller to the agent and speaks its answer,
// with holding lines while it works.
func (s *relaySession) turn(text string) {
	s.mu.Lock()
	id, lang := s.convID, s.lang
	s.mu.Unlock()
	done := make(chan agentAnswer, 1)
	go func() {
		// The agent's work outlives the socket: a dropped call still gets
		// its fix verified and stored.
		reply, c, err := s.v.cfg.Agent.Reply(context.Background(), id, text)
		done <- agentAnswer{reply, c, err}
	}()
	hold := time.NewTimer(s.v.cfg.HoldAfter)
	defer hold.Stop()
	first := true
	for {
		select {
		case r := <-done:
			s.answer(id, r.reply, r.c, r.err)
			return
		case <-hold.C:
			key := lineHoldAgain
			if first {
				key = lineHold
			}
			first = false
			s.v.holdLines.Inc()
			lang = s.holdLanguage(id, lang)
			s.speak(line(key, lang))
			hold.Reset(s.v.cfg.HoldEvery)
		}
	}
}

// holdLanguage is the language to hold in while the agent works on a
// turn: the conversation's as the agent stored it on reading the turn,
// which Twilio is told to speak and listen in when it is another than
// lang.
func (s *relaySession) holdLanguage(id, lang string) string {
	c, err := s.v.cfg.Store.Conversation(context.Background(), id)
	if err != nil || c.Language == lang {
		return lang
	}
	s.mu.Lock()
	s.lang = c.Language
	s.mu.Unlock()
	code := twilioLang(c.Language)
	s.send(outLanguage{Type: "language", TTSLanguage: code, TranscriptionLanguage: code})
	return c.Language
}

// answer speaks the agent's answer; it ends the session when a person
// takes over.
func (s *relaySession) answer(id, reply string, c *chargedesk.Conversation, err error) {
	ctx := context.Background()
	if err != nil {
		s.v.log.Error("agent failed on a call", "conversation_id", id, "err", err)
		s.mu.Lock()
		lang := s.lang
		s.mu.Unlock()
		if chargedesk.ErrorCode(err) == chargedesk.ECONFLICT {
			s.end(handoff{Reason: reasonGoodbye})
			return
		}
		s.speak(line(lineTrouble, lang))
		return
	}
	s.mu.Lock()
	changed := c.Language != s.lang
	s.lang, s.lastReply = c.Language, reply
	s.mu.Unlock()
	if changed {
		code := twilioLang(c.Language)
		s.send(outLanguage{Type: "language", TTSLanguage: code, TranscriptionLanguage: code})
	}
	s.speak(s.v.speech(ctx, c, reply))
	if h, ok := s.v.endOf(ctx, c); ok {
		s.end(h)
	}
}

// speak sends text sentence by sentence, the last one marked last.
func (s *relaySession) speak(text string) {
	sentences := Sentences(text)
	for i, sent := range sentences {
		tok := sent
		if i < len(sentences)-1 {
			tok += " "
		}
		s.send(outText{Type: "text", Token: tok, Last: i == len(sentences)-1})
	}
}

// end ends the relay session with what the <Connect> callback needs.
func (s *relaySession) end(h handoff) {
	data, _ := json.Marshal(h)
	s.send(outEnd{Type: "end", HandoffData: string(data)})
}

// send writes one message; a dropped socket is no error of the call.
func (s *relaySession) send(m any) {
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		s.v.log.Debug("relay write failed", "err", err)
	}
}

// cutUTF8 cuts s to at most n bytes on a character boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
