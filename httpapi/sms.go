package httpapi

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/twilio"
)

// Defaults of TwilioConfig's SMS settings.
const (
	DefaultSMSIdle        = 30 * time.Minute
	DefaultSMSReplyWait   = 10 * time.Second
	DefaultSMSLateTimeout = 3 * time.Minute
)

// SMS bounds: a driver's message is cut to maxSMSIn characters (the most a
// carrier delivers as one message); a reply is sent as at most
// maxSMSParts messages of at most maxSMSChars characters each.
const (
	maxSMSIn    = 1600
	maxSMSChars = 320
	maxSMSParts = 3
)

// smsChannel is the SMS adapter around the agent: one conversation per
// driver number, the carrier's keywords, replies cut to SMS size.
type smsChannel struct {
	agent  Agent
	convs  chargedesk.ConversationStore
	store  chargedesk.SMSStore
	client *twilio.Client
	idle   time.Duration
	wait   time.Duration
	late   time.Duration
	now    func() time.Time
	log    *slog.Logger

	// locks serializes the messages of one number in this process, so
	// that two quick messages do not open two conversations.
	mu    sync.Mutex
	locks map[string]*numberLock
}

type numberLock struct {
	mu  sync.Mutex
	ref int
}

func newSMSChannel(agent Agent, convs chargedesk.ConversationStore, cfg *TwilioConfig, now func() time.Time, log *slog.Logger) *smsChannel {
	s := &smsChannel{agent: agent, convs: convs, store: cfg.SMS, client: cfg.Client, idle: cfg.SMSIdle, wait: cfg.SMSReplyWait,
		late: cfg.SMSLateTimeout, now: now, log: log, locks: map[string]*numberLock{}}
	if s.idle <= 0 {
		s.idle = DefaultSMSIdle
	}
	if s.wait <= 0 {
		s.wait = DefaultSMSReplyWait
	}
	if s.late <= 0 {
		s.late = DefaultSMSLateTimeout
	}
	return s
}

// lock takes the lock of a phone number and returns its release.
func (s *smsChannel) lock(phone string) func() {
	s.mu.Lock()
	l := s.locks[phone]
	if l == nil {
		l = &numberLock{}
		s.locks[phone] = l
	}
	l.ref++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.ref--; l.ref == 0 {
			delete(s.locks, phone)
		}
		s.mu.Unlock()
	}
}

// handleTwilioSMS is the incoming-message webhook: it verifies the
// signature, ignores a message already handled, honours the carrier's
// keywords and hands anything else to the agent, answering with the
// agent's reply as TwiML, or, when the agent takes longer than the webhook
// may wait, with an empty answer and the reply sent later.
func handleTwilioSMS(s *smsChannel, g *twilioGuard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := g.form(w, r)
		if !ok {
			return
		}
		sid, from := form.Get("MessageSid"), strings.TrimSpace(form.Get("From"))
		if sid == "" || from == "" || len(sid) > 64 || len(from) > 64 {
			writeErrorBody(w, http.StatusBadRequest, chargedesk.EINVALID, "MessageSid and From are required")
			return
		}
		ctx := r.Context()
		fresh, err := s.store.ClaimMessage(ctx, sid, from, s.now())
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if !fresh {
			s.log.Info("sms replayed: ignored", "message_sid", sid)
			writeTwiML(w)
			return
		}
		// The message is answered when this request ends, unless its
		// answer is left to come later (then that marks it): a node that
		// stops in between leaves it to RecoverSMS.
		later := false
		defer func() {
			if !later {
				s.answered(context.WithoutCancel(ctx), sid)
			}
		}()
		body := cutRunes(strings.TrimSpace(form.Get("Body")), maxSMSIn)

		unlock := s.lock(from)
		th, err := s.store.SMSThread(ctx, from)
		if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
			th, err = &chargedesk.SMSThread{Phone: from}, nil
		}
		if err != nil {
			unlock()
			writeError(w, r, s.log, err)
			return
		}
		if kw, lang := keyword(body); kw != "" && (kw != kwStart || !isYes(body) || th.Stopped) {
			defer unlock()
			s.keyword(w, r, th, kw, lang, sid)
			return
		}
		if th.Stopped {
			unlock()
			s.log.Info("sms from a number that said STOP: not handled", "message_sid", sid)
			writeTwiML(w)
			return
		}
		if body == "" {
			unlock()
			writeTwiML(w)
			return
		}
		convID, err := s.conversation(ctx, th)
		unlock()
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}

		// The agent's work outlives this request when it is slow: it runs
		// on its own bounded context and its reply is sent later.
		type result struct {
			text string
			c    *chargedesk.Conversation
			err  error
		}
		done := make(chan result, 1)
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.late)
		go func() {
			text, c, err := s.agent.Reply(actx, convID, body)
			done <- result{text, c, err}
		}()
		timer := time.NewTimer(s.wait)
		defer timer.Stop()
		select {
		case res := <-done:
			cancel()
			if res.err != nil {
				s.log.Error("sms: agent failed", "message_sid", sid, "conversation_id", convID, "err", res.err)
				writeTwiML(w, smsTexts[smsTrouble][smsLang(th.Language)])
				return
			}
			s.remember(ctx, from, res.c)
			writeTwiML(w, splitSMS(res.text)...)
		case <-timer.C:
			s.log.Info("sms: the agent's reply will be sent later", "message_sid", sid, "conversation_id", convID)
			writeTwiML(w)
			later = true
			go func() {
				defer cancel()
				defer s.answered(context.WithoutCancel(actx), sid)
				res := <-done
				if res.err != nil {
					// The driver was told nothing yet: they hear that it
					// failed rather than wait for an answer that never
					// comes.
					s.log.Error("sms: agent failed", "message_sid", sid, "conversation_id", convID, "err", res.err)
					s.sendLate(context.WithoutCancel(actx), from, sid, smsTexts[smsTrouble][smsLang(th.Language)])
					return
				}
				s.remember(actx, from, res.c)
				s.sendLate(actx, from, sid, res.text)
			}()
		}
	})
}

// answered marks message sid answered.
func (s *smsChannel) answered(ctx context.Context, sid string) {
	if _, err := s.store.AnswerMessage(ctx, sid, s.now()); err != nil {
		s.log.Warn("sms: mark a message answered", "message_sid", sid, "err", err)
	}
}

// RecoverSMS answers, every interval until ctx ends, the messages a node
// took and never answered because it stopped while the agent worked on
// them (claimed longer ago than the agent may take): each number is told,
// in its language, that its message was not answered and asked to send it
// again — nothing after STOP. Of several nodes, one answers each message.
// Without a Twilio client there is nothing to send with and it returns.
func RecoverSMS(ctx context.Context, cfg *TwilioConfig, interval time.Duration, now func() time.Time, log *slog.Logger) {
	if cfg == nil || cfg.SMS == nil || cfg.Client == nil {
		return
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := newSMSChannel(nil, nil, cfg, now, log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.recoverUnanswered(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recoverUnanswered answers the messages left unanswered.
func (s *smsChannel) recoverUnanswered(ctx context.Context) {
	// Past the webhook's wait and the agent's longest work, with a margin.
	before := s.now().Add(-(s.wait + s.late + time.Minute))
	msgs, err := s.store.UnansweredMessages(ctx, before, 100)
	if err != nil {
		s.log.Warn("sms: list unanswered messages", "err", err)
		return
	}
	for _, m := range msgs {
		mine, err := s.store.AnswerMessage(ctx, m.SID, s.now())
		if err != nil || !mine {
			continue // another node has it, or the store is down: next round
		}
		lang := ""
		if th, err := s.store.SMSThread(ctx, m.Phone); err == nil {
			lang = th.Language
		}
		s.log.Warn("sms: a message was left unanswered by a stopped node; the driver is asked to send it again",
			"message_sid", m.SID, "received_at", m.ReceivedAt)
		// Taken on: sent even if the node is stopping meanwhile (the
		// client's timeout bounds it).
		s.sendLate(context.WithoutCancel(ctx), m.Phone, m.SID, smsTexts[smsTrouble][smsLang(lang)])
	}
}

// conversation returns the conversation th's next message goes to: the
// thread's own while it is open and recent, else a new one. It stores the
// thread.
func (s *smsChannel) conversation(ctx context.Context, th *chargedesk.SMSThread) (string, error) {
	now := s.now()
	id := th.ConversationID
	if id != "" && now.Sub(th.LastAt) >= s.idle {
		id = ""
	}
	if id != "" {
		c, err := s.convs.Conversation(ctx, id)
		switch {
		case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
			id = ""
		case err != nil:
			return "", err
		case c.Status == chargedesk.ConversationClosed:
			id = ""
		}
	}
	if id == "" {
		// A new conversation: the thread is pointed at it first, so that
		// of two messages from the number handled at once on two nodes
		// (the lock above is this process's only) one sets it and both
		// use it.
		cur, err := s.store.SwapSMSConversation(ctx, th.Phone, th.ConversationID, chargedesk.NewConversationID(), now)
		if err != nil {
			return "", err
		}
		c, _, err := s.agent.Open(ctx, cur, chargedesk.ChannelSMS, th.Phone, th.Language)
		if err != nil {
			return "", err
		}
		id = c.ID
	}
	th.ConversationID, th.LastAt = id, now
	if err := s.store.PutSMSThread(ctx, th); err != nil {
		return "", err
	}
	return id, nil
}

// remember keeps the language the conversation now speaks in the number's
// thread, for the keywords' answers.
func (s *smsChannel) remember(ctx context.Context, phone string, c *chargedesk.Conversation) {
	if c == nil || c.Language == "" {
		return
	}
	unlock := s.lock(phone)
	defer unlock()
	th, err := s.store.SMSThread(ctx, phone)
	if err != nil || th.Language == c.Language {
		return
	}
	th.Language = c.Language
	if err := s.store.PutSMSThread(ctx, th); err != nil {
		s.log.Warn("sms: keep the thread's language", "err", err)
	}
}

// sendLate sends a reply that came after the webhook was answered, unless
// the number said STOP in the meantime.
func (s *smsChannel) sendLate(ctx context.Context, phone, sid, text string) {
	th, err := s.store.SMSThread(ctx, phone)
	if err != nil {
		s.log.Error("sms: late reply not sent: read the thread", "message_sid", sid, "err", err)
		return
	}
	if th.Stopped {
		s.log.Info("sms: late reply not sent: the number said STOP", "message_sid", sid)
		return
	}
	for i, part := range splitSMS(text) {
		out, err := s.client.SendSMS(ctx, phone, part)
		if err != nil {
			s.log.Error("sms: late reply not sent", "message_sid", sid, "part", i+1, "err", err)
			return
		}
		s.log.Info("sms: late reply sent", "message_sid", sid, "part", i+1, "sent_sid", out)
	}
}

// The carrier's keywords.
const (
	kwStop  = "stop"
	kwStart = "start"
	kwHelp  = "help"
)

// keyword returns the keyword a whole message is (after trimming spaces
// and punctuation, in any case) and the language it is a word of ("" when
// it belongs to no one language).
func keyword(body string) (kw, lang string) {
	w := strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!¡?¿ "))
	switch w {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT":
		return kwStop, ""
	case "ARRET", "ARRÊT":
		return kwStop, "fr"
	case "ALTO", "PARAR", "PARE":
		return kwStop, "es"
	case "START", "UNSTOP", "YES":
		return kwStart, ""
	case "HELP", "INFO":
		return kwHelp, ""
	case "AIDE":
		return kwHelp, "fr"
	case "AYUDA":
		return kwHelp, "es"
	}
	return "", ""
}

// isYes reports whether the message is the word YES, which is a keyword
// only for a number that said STOP (else it answers the agent).
func isYes(body string) bool {
	return strings.EqualFold(strings.Trim(strings.TrimSpace(body), ".!¡?¿ "), "yes")
}

// smsTrouble keys the answer to a message the agent failed on.
const smsTrouble = "trouble"

// smsLang is lang, or English when the number's language is not known.
func smsLang(lang string) string {
	if _, ok := smsTexts[smsTrouble][lang]; ok {
		return lang
	}
	return "en"
}

// smsTexts are the keywords' answers, and the answer to a message the
// agent failed on, by language.
var smsTexts = map[string]map[string]string{
	smsTrouble: {
		"en": "EV charging support: sorry, something went wrong on our side and your message was not answered. Please send it again.",
		"fr": "Soutien à la recharge : désolé, un problème de notre côté a empêché de répondre à votre message. Renvoyez-le, s'il vous plaît.",
		"es": "Soporte de carga: perdón, algo falló de nuestro lado y su mensaje no se respondió. Envíelo de nuevo, por favor.",
	},
	kwStop: {
		"en": "You will get no more messages from EV charging support. Reply START to resume.",
		"fr": "Vous ne recevrez plus de messages du soutien à la recharge. Répondez START pour reprendre.",
		"es": "No recibirá más mensajes del soporte de carga. Responda START para reanudar.",
	},
	kwStart: {
		"en": "EV charging support: you will get our messages again. Tell us what is wrong and the charger's id.",
		"fr": "Soutien à la recharge : vous recevrez de nouveau nos messages. Dites-nous le problème et le numéro de la borne.",
		"es": "Soporte de carga: volverá a recibir nuestros mensajes. Díganos el problema y el número del cargador.",
	},
	kwHelp: {
		"en": "EV charging support: text us what is wrong and the charger's id (on its label). Reply STOP to stop messages.",
		"fr": "Soutien à la recharge : écrivez-nous le problème et le numéro de la borne (sur son étiquette). Répondez ARRET pour ne plus recevoir de messages.",
		"es": "Soporte de carga: escríbanos el problema y el número del cargador (en su etiqueta). Responda PARAR para no recibir más mensajes.",
	},
}

// keyword handles a carrier keyword: STOP and START are stored and
// confirmed, HELP answered, each in the driver's language.
func (s *smsChannel) keyword(w http.ResponseWriter, r *http.Request, th *chargedesk.SMSThread, kw, lang, sid string) {
	if lang == "" {
		lang = th.Language
	}
	if lang == "" {
		lang = "en"
	}
	switch kw {
	case kwStop, kwStart:
		th.Stopped = kw == kwStop
		if th.Language == "" || lang != th.Language && kw == kwStop {
			th.Language = lang
		}
		th.LastAt = s.now()
		if err := s.store.PutSMSThread(r.Context(), th); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		s.log.Info("sms: "+kw, "message_sid", sid)
	}
	writeTwiML(w, smsTexts[kw][lang])
}

// writeTwiML answers a messaging webhook with a <Message> per text (none:
// an empty answer, nothing sent).
func writeTwiML(w http.ResponseWriter, texts ...string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	if len(texts) == 0 {
		b.WriteString("<Response/>")
	} else {
		b.WriteString("<Response>")
		for _, t := range texts {
			b.WriteString("<Message>")
			_ = xml.EscapeText(&b, []byte(t))
			b.WriteString("</Message>")
		}
		b.WriteString("</Response>")
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// splitSMS cuts a reply into at most maxSMSParts messages of at most
// maxSMSChars characters, between sentences where it can and else between
// words, so that no URL or id is ever cut. A reply longer than that loses
// its last words, marked with an ellipsis.
func splitSMS(text string) []string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return nil
	}
	var parts []string
	cur := ""
	add := func(piece string) {
		switch {
		case cur == "":
			cur = piece
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(piece) <= maxSMSChars:
			cur += " " + piece
		default:
			parts = append(parts, cur)
			cur = piece
		}
	}
	for _, sentence := range sentences(text) {
		if utf8.RuneCountInString(sentence) <= maxSMSChars {
			add(sentence)
			continue
		}
		for _, word := range strings.Fields(sentence) {
			add(cutRunes(word, maxSMSChars))
		}
	}
	if cur != "" {
		parts = append(parts, cur)
	}
	if len(parts) <= maxSMSParts {
		return parts
	}
	// Too long: the last message ends with as many whole words as fit
	// before the ellipsis.
	parts = parts[:maxSMSParts]
	words := strings.Fields(parts[maxSMSParts-1])
	for len(words) > 0 && utf8.RuneCountInString(strings.Join(words, " "))+2 > maxSMSChars {
		words = words[:len(words)-1]
	}
	parts[maxSMSParts-1] = strings.Join(append(words, "…"), " ")
	return parts
}

// sentences splits text after each '.', '!' or '?' followed by a space,
// keeping the marks (a URL's or an id's dots are never followed by one).
func sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(text); i++ {
		switch text[i] {
		case '.', '!', '?':
			if text[i+1] == ' ' {
				out = append(out, text[start:i+1])
				start = i + 2
			}
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// cutRunes returns s cut to at most n characters.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}
