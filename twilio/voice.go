package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/prometheus/client_golang/prometheus"
)

// VoiceAgent is the support agent as the phone line uses it.
type VoiceAgent interface {
	// Open returns the conversation with id, started on channel with the
	// caller's number (a hint: caller ID can be spoofed) when it does not
	// exist yet.
	Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error)
	// Reply hands the agent what the driver said and returns its answer
	// and the conversation as it now stands. The answer is stored, as
	// returned, as the conversation's latest agent turn before Reply
	// returns: a barge-in amends that turn (VoiceStore.AmendInterruptedTurn).
	Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error)
}

// VoiceStore is what the phone line reads and writes of the store.
type VoiceStore interface {
	Conversation(ctx context.Context, id string) (*chargedesk.Conversation, error)
	Turns(ctx context.Context, conversationID string) ([]chargedesk.Turn, error)
	AmendInterruptedTurn(ctx context.Context, conversationID string, in chargedesk.Interruption) (*chargedesk.Turn, error)
	Ticket(ctx context.Context, id string) (*chargedesk.Ticket, error)
}

// Voice modes.
const (
	// VoiceRelay streams the call through ConversationRelay (the default).
	VoiceRelay = "relay"
	// VoiceGather answers turn by turn with <Gather>.
	VoiceGather = "gather"
)

// Defaults of VoiceConfig.
const (
	DefaultHoldAfter  = 800 * time.Millisecond
	DefaultHoldEvery  = 6 * time.Second
	DefaultDTMFIdle   = 2 * time.Second
	DefaultGatherWait = time.Second
	// MaxPromptLen bounds what one prompt hands the agent; longer
	// transcripts are cut.
	MaxPromptLen = chargedesk.MaxMessageLen
)

// VoiceConfig configures the phone line. AuthToken, Agent and Store are
// required.
type VoiceConfig struct {
	// AuthToken is the Twilio account's auth token: every webhook and the
	// relay's WebSocket upgrade must be signed with it.
	AuthToken string
	// PublicBaseURL is the scheme and host under which Twilio reaches
	// chargedesk (https://support.example.com); empty means each request's
	// own host. Signatures are checked against it and the TwiML's URLs are
	// built from it.
	PublicBaseURL string
	// Mode is VoiceRelay ("" too) or VoiceGather.
	Mode string
	// HumanNumber is the operator's number a call is handed to when the
	// agent escalates to a person; empty: the driver is told the team
	// follows up, and the call ends.
	HumanNumber string
	Agent       VoiceAgent
	Store       VoiceStore
	// TextLink, when set, texts a link the agent gives (a payment link) to
	// the caller's number instead of leaving it out of the speech.
	TextLink func(ctx context.Context, to, body string) error
	Logger   *slog.Logger
	// Registerer, when set, receives the line's counters.
	Registerer prometheus.Registerer
	// HoldAfter is how long the agent may work before a holding line is
	// spoken; HoldEvery how long silence may last after it
	// (DefaultHoldAfter, DefaultHoldEvery).
	HoldAfter, HoldEvery time.Duration
	// DTMFIdle ends a run of keypad digits (DefaultDTMFIdle); # ends it
	// at once.
	DTMFIdle time.Duration
	// GatherWait is how long a <Gather> answer waits for the agent before
	// it holds and redirects (DefaultGatherWait; Twilio allows 15 s).
	GatherWait time.Duration
}

// Voice is the phone line: the incoming-call webhook, the relay's
// WebSocket, the <Connect> callback and the <Gather> fallback.
type Voice struct {
	cfg       VoiceConfig
	log       *slog.Logger
	refused   *prometheus.CounterVec
	malformed prometheus.Counter
	bargeIns  prometheus.Counter
	holdLines prometheus.Counter
	handoffs  prometheus.Counter
	doing     doing
}

// NewVoice returns the phone line for cfg.
func NewVoice(cfg VoiceConfig) (*Voice, error) {
	if cfg.AuthToken == "" || cfg.Agent == nil || cfg.Store == nil {
		return nil, errors.New("twilio: the phone line needs an auth token, an agent and a store")
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = VoiceRelay
	case VoiceRelay, VoiceGather:
	default:
		return nil, fmt.Errorf("twilio: voice mode %q is not relay or gather", cfg.Mode)
	}
	if cfg.PublicBaseURL != "" {
		u, err := url.Parse(cfg.PublicBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("twilio: public base URL %q is not http(s)://host", cfg.PublicBaseURL)
		}
		cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	}
	if cfg.HumanNumber != "" && !chargedesk.ValidPhone(cfg.HumanNumber) {
		return nil, fmt.Errorf("twilio: human number %q is not a phone number in E.164 form", cfg.HumanNumber)
	}
	if cfg.HoldAfter <= 0 {
		cfg.HoldAfter = DefaultHoldAfter
	}
	if cfg.HoldEvery <= 0 {
		cfg.HoldEvery = DefaultHoldEvery
	}
	if cfg.DTMFIdle <= 0 {
		cfg.DTMFIdle = DefaultDTMFIdle
	}
	if cfg.GatherWait <= 0 {
		cfg.GatherWait = DefaultGatherWait
	}
	v := &Voice{cfg: cfg, log: cfg.Logger}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	// The refusal counter is the one the SMS webhook counts in too.
	v.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chargedesk_twilio_signature_failures_total",
		Help: "Requests to the Twilio webhooks refused because their X-Twilio-Signature did not verify, by route."}, []string{"route"})
	v.malformed = prometheus.NewCounter(prometheus.CounterOpts{Name: "chargedesk_twilio_relay_malformed_total",
		Help: "Relay messages skipped because they were not JSON."})
	v.bargeIns = prometheus.NewCounter(prometheus.CounterOpts{Name: "chargedesk_twilio_relay_interrupts_total",
		Help: "Times a caller spoke over the agent."})
	v.holdLines = prometheus.NewCounter(prometheus.CounterOpts{Name: "chargedesk_twilio_voice_hold_lines_total",
		Help: "Holding lines spoken while the agent waited on a charger."})
	v.handoffs = prometheus.NewCounter(prometheus.CounterOpts{Name: "chargedesk_twilio_voice_handoffs_total",
		Help: "Calls handed to a person."})
	if cfg.Registerer != nil {
		var already prometheus.AlreadyRegisteredError
		if err := cfg.Registerer.Register(v.refused); errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
				v.refused = existing
			}
		} else if err != nil {
			return nil, fmt.Errorf("twilio: register metrics: %w", err)
		}
		for _, c := range []prometheus.Collector{v.malformed, v.bargeIns, v.holdLines, v.handoffs} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("twilio: register metrics: %w", err)
			}
		}
	}
	return v, nil
}

// Handler serves the phone line's routes: POST /twilio/voice, POST
// /twilio/voice/after, GET /twilio/relay, POST /twilio/gather and POST
// /twilio/gather/poll.
func (v *Voice) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/voice", v.signed("voice", v.handleIncoming))
	mux.Handle("POST /twilio/voice/after", v.signed("after", v.handleAfter))
	mux.Handle("GET /twilio/relay", http.HandlerFunc(v.handleRelay))
	mux.Handle("POST /twilio/gather", v.signed("gather", v.handleGather))
	mux.Handle("POST /twilio/gather/poll", v.signed("poll", v.handlePoll))
	return mux
}

// maxFormBytes bounds a webhook's body.
const maxFormBytes = 64 << 10

// signed parses a webhook's form and refuses it with 403 unless its
// signature is right.
func (v *Voice) signed(route string, next func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if !Verify(v.cfg.AuthToken, v.cfg.PublicBaseURL, r, r.PostForm) {
			v.refuse(w, r, route)
			return
		}
		next(w, r)
	})
}

func (v *Voice) refuse(w http.ResponseWriter, r *http.Request, route string) {
	v.refused.WithLabelValues(route).Inc()
	v.log.Warn("twilio request refused: bad or missing signature", "route", route, "path", r.URL.Path, "remote", r.RemoteAddr)
	http.Error(w, "forbidden", http.StatusForbidden)
}

// base is the public base URL of r.
func (v *Voice) base(r *http.Request) string {
	if v.cfg.PublicBaseURL != "" {
		return v.cfg.PublicBaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// callSidRe is the shape of a call's id.
var callSidRe = regexp.MustCompile(`^[A-Za-z0-9]{2,60}$`)

// conversationID is the conversation of a call: one per CallSid, so a
// retried webhook or another node finds the same one.
func conversationID(callSid string) (string, error) {
	if !callSidRe.MatchString(callSid) {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "CallSid is missing or malformed")
	}
	return "C-" + callSid, nil
}

// open returns the call's conversation, started on its first webhook.
func (v *Voice) open(ctx context.Context, callSid, from string) (*chargedesk.Conversation, error) {
	id, err := conversationID(callSid)
	if err != nil {
		return nil, err
	}
	if !chargedesk.ValidPhone(from) {
		from = "" // an anonymous or malformed caller ID is no hint at all
	}
	c, started, err := v.cfg.Agent.Open(ctx, id, chargedesk.ChannelVoice, from, "")
	if err != nil {
		return nil, err
	}
	if started {
		v.log.InfoContext(ctx, "call answered", "conversation_id", c.ID, "verified_by_caller_id", c.Verified != "")
	}
	return c, nil
}

// greeting is what the call opens with: the agent's greeting, spoken, and
// the offer of the other languages.
func (v *Voice) greeting(ctx context.Context, c *chargedesk.Conversation) string {
	text := v.greetingTurn(ctx, c.ID)
	return strings.TrimSpace(Spoken(text, c.Language, false) + " " + line(lineOffers, c.Language))
}

// greetingTurn is the text of the conversation's first agent turn, its
// greeting; "" when there is none or the store fails.
func (v *Voice) greetingTurn(ctx context.Context, id string) string {
	turns, err := v.cfg.Store.Turns(ctx, id)
	if err != nil {
		return ""
	}
	for _, t := range turns {
		if t.Role == chargedesk.RoleAgent {
			return t.Text
		}
	}
	return ""
}

// handleIncoming answers an incoming call.
func (v *Voice) handleIncoming(w http.ResponseWriter, r *http.Request) {
	c, err := v.open(r.Context(), r.PostForm.Get("CallSid"), r.PostForm.Get("From"))
	if err != nil {
		v.fail(w, r, err)
		return
	}
	base := v.base(r)
	greeting := v.greeting(r.Context(), c)
	if v.cfg.Mode == VoiceGather {
		writeTwiML(w, gatherTwiML(base, c.Language, greeting, gatherAttempt{}))
		return
	}
	wsBase := "wss" + strings.TrimPrefix(base, "https")
	if strings.HasPrefix(base, "http://") {
		wsBase = "ws" + strings.TrimPrefix(base, "http")
	}
	var b twiml
	b.open("Response")
	b.open("Connect", "action", base+"/twilio/voice/after")
	b.open("ConversationRelay", "url", wsBase+"/twilio/relay", "welcomeGreeting", greeting, "welcomeGreetingInterruptible", "any",
		"language", twilioLang(c.Language), "interruptible", "any", "dtmfDetection", "true")
	for _, l := range []string{"en", "fr", "es"} {
		b.empty("Language", "code", twilioLang(l), "ttsProvider", "Google", "transcriptionProvider", "Google")
	}
	// Parameters hold the call's context only: no card or personal data.
	b.empty("Parameter", "name", "conversationId", "value", c.ID)
	b.empty("Parameter", "name", "language", "value", c.Language)
	b.close("ConversationRelay")
	b.close("Connect")
	b.close("Response")
	writeTwiML(w, b.String())
}

// handoff is what an ended relay session hands the <Connect> callback:
// why it ended and the ticket a person picks up. Nothing personal.
type handoff struct {
	Reason   string `json:"reason"`
	TicketID string `json:"ticketId,omitempty"`
}

// Handoff reasons.
const (
	reasonHuman   = "human"
	reasonGoodbye = "goodbye"
)

// handleAfter is the <Connect> callback: the relay session ended, by our
// end message (handoff data) or otherwise.
func (v *Voice) handleAfter(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	lang := "en"
	id, err := conversationID(f.Get("CallSid"))
	if err != nil {
		v.fail(w, r, err)
		return
	}
	if c, err := v.cfg.Store.Conversation(r.Context(), id); err == nil {
		lang = c.Language
	}
	var h handoff
	if data := f.Get("HandoffData"); data != "" {
		if err := json.Unmarshal([]byte(data), &h); err != nil {
			v.log.Warn("relay handoff data is not JSON", "conversation_id", id)
		}
	}
	switch {
	case h.Reason == reasonHuman:
		writeTwiML(w, v.personTwiML(id, lang, h.TicketID))
	case h.Reason == "" && (f.Get("ErrorCode") != "" || f.Get("SessionStatus") == "failed"):
		// The relay dropped while the caller is still on the line: carry
		// on turn by turn.
		v.log.Warn("relay session failed; the call goes on with <Gather>", "conversation_id", id,
			"error_code", f.Get("ErrorCode"), "session_status", f.Get("SessionStatus"))
		writeTwiML(w, gatherTwiML(v.base(r), lang, line(lineDropped, lang), gatherAttempt{}))
	default:
		writeTwiML(w, goodbyeTwiML(lang))
	}
}

// personTwiML hands the call to the operator's people, or says they will
// follow up when no number is configured.
func (v *Voice) personTwiML(id, lang, ticketID string) string {
	v.handoffs.Inc()
	v.log.Info("call handed to a person", "conversation_id", id, "ticket_id", ticketID, "dialled", v.cfg.HumanNumber != "")
	var b twiml
	b.open("Response")
	if v.cfg.HumanNumber == "" {
		b.text("Say", line(lineNoHuman, lang), "language", twilioLang(lang))
		b.empty("Hangup")
	} else {
		b.text("Say", line(lineConnecting, lang), "language", twilioLang(lang))
		b.text("Dial", v.cfg.HumanNumber)
	}
	b.close("Response")
	return b.String()
}

func goodbyeTwiML(lang string) string {
	var b twiml
	b.open("Response")
	b.text("Say", line(lineGoodbye, lang), "language", twilioLang(lang))
	b.empty("Hangup")
	b.close("Response")
	return b.String()
}

// endOf reports whether the agent's answer ends the automated call: a
// person takes the case over (a human-review ticket is written).
func (v *Voice) endOf(ctx context.Context, c *chargedesk.Conversation) (handoff, bool) {
	if c == nil || c.Status != chargedesk.ConversationEscalated || c.TicketID == "" {
		return handoff{}, false
	}
	t, err := v.cfg.Store.Ticket(ctx, c.TicketID)
	if err != nil || t.Category != "human_review" {
		return handoff{}, false
	}
	return handoff{Reason: reasonHuman, TicketID: c.TicketID}, true
}

// speech renders the agent's answer for the call, texting a link it holds
// when the line can.
func (v *Voice) speech(ctx context.Context, c *chargedesk.Conversation, reply string) string {
	texted := false
	if v.cfg.TextLink != nil && urlRe.MatchString(reply) && chargedesk.ValidPhone(c.From) {
		if err := v.cfg.TextLink(ctx, c.From, strings.Join(urlRe.FindAllString(reply, 3), " ")); err != nil {
			v.log.Warn("texting a link to the caller failed", "conversation_id", c.ID, "err", err)
		} else {
			texted = true
		}
	}
	return Spoken(reply, c.Language, texted)
}

// fail answers a webhook that could not be served: a TwiML apology so the
// caller is not left with Twilio's error message.
func (v *Voice) fail(w http.ResponseWriter, r *http.Request, err error) {
	v.log.Error("voice webhook failed", "path", r.URL.Path, "err", err)
	var b twiml
	b.open("Response")
	b.text("Say", "Sorry, charging support can't take your call right now. Please try again in a few minutes.", "language", "en-US")
	b.empty("Hangup")
	b.close("Response")
	writeTwiML(w, b.String())
}

func writeTwiML(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + s))
}

// twiml builds a TwiML document.
type twiml struct{ strings.Builder }

func (b *twiml) tag(name string, attrs []string, end string) {
	b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		b.WriteString(" " + attrs[i] + `="` + xmlEscape(attrs[i+1]) + `"`)
	}
	b.WriteString(end)
}

func (b *twiml) open(name string, attrs ...string)  { b.tag(name, attrs, ">") }
func (b *twiml) empty(name string, attrs ...string) { b.tag(name, attrs, "/>") }
func (b *twiml) close(name string)                  { b.WriteString("</" + name + ">") }
func (b *twiml) text(name, text string, attrs ...string) {
	b.tag(name, attrs, ">")
	b.WriteString(xmlEscape(text))
	b.close(name)
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlEscape(s string) string { return xmlEscaper.Replace(s) }

// agentAnswer is the agent's answer to one turn of a call, handed from the
// goroutine that waits on it.
type agentAnswer struct {
	reply string
	c     *chargedesk.Conversation
	err   error
}

// CallSid returns the call of a voice conversation: its id is
// "C-{CallSid}" (conversationID).
func CallSid(conversationID string) (string, bool) {
	sid, ok := strings.CutPrefix(conversationID, "C-")
	if !ok || !callSidRe.MatchString(sid) {
		return "", false
	}
	return sid, true
}

// TransferTwiML is what a live call is given, through the REST API
// (Client.UpdateCall), when a person of the staff takes it over: notice
// spoken in lang, then the call dialled to number, the staff's line.
func TransferTwiML(notice, lang, number string) string {
	var b twiml
	b.open("Response")
	b.text("Say", Spoken(notice, lang, false), "language", twilioLang(lang))
	b.text("Dial", number)
	b.close("Response")
	return b.String()
}

// ReturnTwiML is what a call a person had is given when they hand it back
// to the agent: notice spoken in lang, then the call redirected to the
// line's incoming-call webhook under base, where the agent picks the
// call's conversation up again.
func ReturnTwiML(notice, lang, base string) string {
	var b twiml
	b.open("Response")
	b.text("Say", Spoken(notice, lang, false), "language", twilioLang(lang))
	b.text("Redirect", strings.TrimRight(base, "/")+"/twilio/voice", "method", "POST")
	b.close("Response")
	return b.String()
}
