package twilio

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk/internal/textcut"

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
	// onAir is the text of the stored agent turn Twilio was last given to
	// speak, the one an interrupt cuts short: the greeting, then each
	// answer. "" when what is spoken is no turn of the transcript (a
	// holding or trouble line), once an interrupt took it, and from the
	// moment the agent starts on the caller's next turn: the latest agent
	// turn may then be the next answer already.
	onAir string
	// held are the holding lines spoken while the agent worked on the
	// caller's turn, before its answer.
	held   []string
	digits []byte
	dtmf   *time.Timer
	closed bool
	turns  chan string
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
		greeting := s.v.greetingTurn(context.WithoutCancel(ctx), c.ID)
		s.mu.Lock()
		s.convID, s.lang = c.ID, c.Language
		s.onAir = greeting // the welcome greeting is what Twilio speaks first
		s.mu.Unlock()
		log.Info("relay session set up", "conversation_id", c.ID)
	case "prompt":
		if !m.Last {
			return // a partial transcript: the whole one follows
		}
		text := strings.TrimSpace(m.VoicePrompt)
		if len(text) > MaxPromptLen {
			log.Warn("relay prompt too long; cut", "conversation_id", id, "bytes", len(text))
			text = textcut.Bytes(text, MaxPromptLen)
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

// maxHeard bounds what an interrupt says was heard, in bytes: the store's
// bound on an agent turn is 8000 characters (sqlstore.MaxAgentTurnLen), and
// as many bytes are never more characters.
const maxHeard = 8000

// interrupted keeps in the transcript only what the caller heard of the
// agent's answer before speaking over it: the answer's stored turn is
// amended to what Twilio says was heard (its spoken rendering, not
// necessarily a prefix of the stored text), its Meta keeping the answer
// that was planned. When the caller spoke at once, nothing was heard and
// the turn keeps no text: an invented filler would be words the caller
// never heard either. An answer is spoken only once the agent returned
// it, and the agent stores it before it returns, so the turn an interrupt
// cuts is always stored already; the store amends it only while it is
// the conversation's latest agent turn with the text spoken, so an
// interrupt that comes after the agent started on the next turn, or of a
// line that is no turn (a holding line), leaves the transcript as it is.
// Twilio may still be speaking a holding line when the answer is sent
// after it: what it reports of the holding lines is no part of the answer
// (answerHeard).
func (s *relaySession) interrupted(ctx context.Context, id string, m RelayMessage) {
	s.mu.Lock()
	planned, held := s.onAir, s.held
	s.onAir, s.held = "", nil
	s.mu.Unlock()
	if planned == "" {
		s.v.log.Debug("the caller spoke over a line that is no turn of the transcript; nothing to amend", "conversation_id", id)
		return
	}
	heard := answerHeard(strings.TrimSpace(m.UtteranceUntilInterrupt), held)
	in := chargedesk.Interruption{Planned: planned, Heard: textcut.Bytes(heard, maxHeard), DurationMs: interruptMs(m.DurationUntilInterruptMs)}
	_, err := s.v.cfg.Store.AmendInterruptedTurn(context.WithoutCancel(ctx), id, in)
	switch {
	case err == nil:
	case chargedesk.ErrorCode(err) == chargedesk.ECONFLICT:
		s.v.log.Info("the answer spoken over is no longer the latest agent turn; the transcript keeps it whole", "conversation_id", id, "err", err)
	default:
		s.v.log.Warn("recording an interruption failed", "conversation_id", id, "err", err)
	}
}

// answerHeard is what heard, the text an interrupt reports, says was heard
// of an answer spoken after the holding lines held: the holding lines it
// starts with are taken off (Twilio may report them with what followed),
// and when it ends within a holding line none of the answer was heard.
// Without holding lines heard is the answer's own, as Twilio reports it.
func answerHeard(heard string, held []string) string {
	if len(held) == 0 || heard == "" {
		return heard
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	h, stripped := words(heard), false
	for cut := true; cut && h != ""; {
		cut = false
		for _, l := range held {
			l = words(l)
			switch {
			case strings.HasPrefix(h, l):
				h, cut, stripped = strings.TrimSpace(h[len(l):]), true, true
			case strings.HasPrefix(l, h):
				return "" // cut short in a holding line
			}
		}
	}
	if !stripped {
		return heard
	}
	return h
}

// interruptMs reads durationUntilInterruptMs, a number or a string of one;
// -1 when it is missing or neither.
func interruptMs(v any) int64 {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return -1
		}
	default:
		return -1
	}
	if f < 0 || f > math.MaxInt32 || math.IsNaN(f) {
		return -1
	}
	return int64(f)
}

// turn hands one turn of the caller to the agent and speaks its answer.
// While the agent works, the caller hears what it is doing: a restart is
// told as it is sent; a quicker command (an unlock, a start) once the
// caller has waited HoldAfter; otherwise a holding line, then another
// every HoldEvery.
func (s *relaySession) turn(text string) {
	s.mu.Lock()
	id, lang := s.convID, s.lang
	s.onAir, s.held = "", nil // the agent may store its next answer from now on
	s.mu.Unlock()
	done := make(chan agentAnswer, 1)
	doing := make(chan chargedesk.Command, 8)
	ctx := chargedesk.WithProgress(context.Background(), func(cmd chargedesk.Command) {
		select {
		case doing <- cmd:
		default:
		}
	})
	go func() {
		// The agent's work outlives the socket: a dropped call still gets
		// its fix verified and stored.
		reply, c, err := s.v.cfg.Agent.Reply(ctx, id, text)
		done <- agentAnswer{reply, c, err}
	}()
	hold := time.NewTimer(s.v.cfg.HoldAfter)
	defer hold.Stop()
	held := false // a holding line was said this turn
	cd := newCallDoing()
	say := func(key string) {
		held = true
		s.v.holdLines.Inc()
		lang = s.holdLanguage(id, lang)
		l := line(key, lang)
		s.mu.Lock()
		s.held = append(s.held, l)
		s.mu.Unlock()
		s.speak(l)
		hold.Reset(s.v.cfg.HoldEvery)
	}
	for {
		select {
		case r := <-done:
			s.answer(id, r.reply, r.c, r.err)
			return
		case cmd := <-doing:
			if cd.note(cmd) && (held || cmd.Kind == chargedesk.CmdReset) {
				say(cd.take(""))
			}
		case <-hold.C:
			otherwise := lineHoldAgain
			if !held {
				otherwise = lineHold
			}
			say(cd.take(otherwise))
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
	// reply is the agent turn just stored: what an interrupt from now on
	// cuts short.
	s.lang, s.lastReply, s.onAir = c.Language, reply, reply
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
