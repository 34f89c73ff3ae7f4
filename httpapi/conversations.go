package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Agent is the support agent as the API uses it: it opens conversations and
// answers drivers' messages (agent.Agent, adapted by the caller).
type Agent interface {
	// Start opens a conversation on a channel; from is the caller's phone
	// number or chat handle, lang a language hint (en, fr, es or "").
	Start(ctx context.Context, channel chargedesk.Channel, from, lang string) (*chargedesk.Conversation, error)
	// Open returns conversation id, started as Start does when it does
	// not exist yet (on any node); started reports whether this call
	// started it.
	Open(ctx context.Context, id string, channel chargedesk.Channel, from, lang string) (c *chargedesk.Conversation, started bool, err error)
	// Reply hands the agent a driver's message and returns its answer and
	// the conversation as it now stands. It may take as long as verifying
	// a fix with the charger takes.
	Reply(ctx context.Context, conversationID, text string) (string, *chargedesk.Conversation, error)
	// SetEnabled is the kill switch for every command of the agent;
	// Enabled reports it.
	SetEnabled(on bool)
	Enabled() bool
}

type startBody struct {
	Channel  chargedesk.Channel `json:"channel"`
	From     string             `json:"from"`
	Language string             `json:"language"`
}

func (b *startBody) validate(channels ...chargedesk.Channel) error {
	ok := false
	for _, c := range channels {
		ok = ok || b.Channel == c
	}
	if !ok {
		return chargedesk.Errorf(chargedesk.EINVALID, "channel must be one of %v", channels)
	}
	if len(b.From) > 64 {
		return chargedesk.Errorf(chargedesk.EINVALID, "from is longer than 64 characters")
	}
	switch b.Language {
	case "", "en", "fr", "es":
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "language must be en, fr or es")
	}
	return nil
}

type messageBody struct {
	Text string `json:"text"`
}

func (b *messageBody) validate() error {
	if strings.TrimSpace(b.Text) == "" || len(b.Text) > chargedesk.MaxMessageLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "text must be 1 to %d characters", chargedesk.MaxMessageLen)
	}
	return nil
}

// conversationView is a conversation with its transcript.
type conversationView struct {
	*chargedesk.Conversation
	Turns []chargedesk.Turn `json:"turns"`
}

// handleConversationStart opens a conversation (operator API: any channel).
func handleConversationStart(agent Agent, store chargedesk.Store, logger *slog.Logger, channels ...chargedesk.Channel) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in startBody
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if in.Channel == "" && len(channels) == 1 {
			in.Channel = channels[0]
		}
		if err := in.validate(channels...); err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := agent.Start(r.Context(), in.Channel, in.From, in.Language)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		turns, err := store.Turns(r.Context(), c.ID)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusCreated, conversationView{c, turns})
	})
}

// handleConversationMessage passes a driver's message to the agent and
// answers with the reply and the whole conversation (operators).
func handleConversationMessage(agent Agent, logger *slog.Logger) http.Handler {
	return handleMessage(agent, logger, func(text string, c *chargedesk.Conversation) any {
		return map[string]any{"reply": text, "conversation": c}
	})
}

// handleMessage reads and validates a driver's message, passes it to the
// agent and answers with view(reply, conversation).
func handleMessage(agent Agent, logger *slog.Logger, view func(string, *chargedesk.Conversation) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in messageBody
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if err := in.validate(); err != nil {
			writeError(w, r, logger, err)
			return
		}
		text, c, err := agent.Reply(r.Context(), r.PathValue("id"), in.Text)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, view(text, c))
	})
}

// handleConversationGet returns a conversation with its transcript.
func handleConversationGet(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := store.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		turns, err := store.Turns(r.Context(), c.ID)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, conversationView{c, turns})
	})
}

// handleConversationList lists conversations, newest first.
func handleConversationList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, err := queryInt(r, "limit", defaultListLimit, 1, maxListLimit)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		f := chargedesk.ConversationFilter{Status: chargedesk.ConversationStatus(q.Get("status")), DriverID: q.Get("driverId"), Limit: limit}
		list, err := store.Conversations(r.Context(), f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if list == nil {
			list = []*chargedesk.Conversation{}
		}
		encode(w, r, logger, http.StatusOK, map[string]any{"conversations": list})
	})
}

// handleAgentSwitch reads (GET) or sets (PUT {"enabled":bool}) the agent's
// kill switch.
func handleAgentSwitch(agent Agent, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			var in struct {
				Enabled *bool `json:"enabled"`
			}
			if err := decode(w, r, &in); err != nil {
				writeError(w, r, logger, err)
				return
			}
			if in.Enabled == nil {
				writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "enabled (true or false) is required"))
				return
			}
			agent.SetEnabled(*in.Enabled)
			logger.Warn("support agent switched", "enabled", *in.Enabled, "by", operatorFrom(r.Context()))
		}
		encode(w, r, logger, http.StatusOK, map[string]any{"enabled": agent.Enabled()})
	})
}

// chatLimiter bounds the public chat: messages per conversation and new
// conversations per client address, per minute.
type chatLimiter struct {
	mu     sync.Mutex
	now    func() time.Time
	counts map[string][]time.Time
	limit  int
}

func newChatLimiter(limit int, now func() time.Time) *chatLimiter {
	return &chatLimiter{now: now, counts: make(map[string][]time.Time), limit: limit}
}

// allow records a request for key and reports whether it is within the
// limit of the last minute.
func (l *chatLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	recent := l.counts[key][:0]
	for _, t := range l.counts[key] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= l.limit {
		l.counts[key] = recent
		return false
	}
	l.counts[key] = append(recent, now)
	if len(l.counts) > 100000 { // forget idle keys rather than grow without bound
		for k, ts := range l.counts {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= time.Minute {
				delete(l.counts, k)
			}
		}
	}
	return true
}

// limited refuses requests over the limit with 429.
func limited(l *chatLimiter, key func(*http.Request) string, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(key(r)) {
			w.Header().Set("Retry-After", "60")
			writeErrorBody(w, http.StatusTooManyRequests, chargedesk.EUNAVAILABLE, "too many messages; wait a minute")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the client's address without port.
func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
