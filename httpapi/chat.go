package httpapi

import (
	"context"
	"embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse"
)

// chatAssets are the web chat drivers use: one static page, its script
// and its style, that talk to the public chat API.
//
//go:embed static/chat.html static/chat.js static/chat.css
var chatAssets embed.FS

// chatCSP lets the chat page run its own script and style only.
const chatCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// handleChatPage serves the web chat.
func handleChatPage() http.Handler {
	return handleChatAsset("chat.html", "text/html; charset=utf-8")
}

// handleChatAsset serves one of the chat's static files.
func handleChatAsset(name, contentType string) http.Handler {
	body, err := chatAssets.ReadFile("static/" + name)
	if err != nil {
		panic("httpapi: chat asset " + name + " is not embedded")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Security-Policy", chatCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	})
}

// publicConversation is what the public chat shows of a conversation:
// nothing of the agent's working state (identities, candidates, evidence).
type publicConversation struct {
	ID       string                        `json:"id"`
	Status   chargedesk.ConversationStatus `json:"status"`
	Language string                        `json:"language"`
	Turns    []chargedesk.Turn             `json:"turns,omitempty"`
}

// spoken keeps the turns a driver may see: what they, the agent and a
// person of the staff said, without the turns' details (Meta).
func spoken(turns []chargedesk.Turn) []chargedesk.Turn {
	shown := []chargedesk.Turn{}
	for _, t := range turns {
		if t.Role != chargedesk.RoleAction {
			t.Meta = nil
			shown = append(shown, t)
		}
	}
	return shown
}

// handleChatStart opens a chat conversation for the public web chat.
func handleChatStart(agent Agent, store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in startBody
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		in.Channel, in.From = chargedesk.ChannelChat, ""
		if err := in.validate(chargedesk.ChannelChat); err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := agent.Start(r.Context(), chargedesk.ChannelChat, "", in.Language)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		turns, err := store.Turns(r.Context(), c.ID)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusCreated, publicConversation{ID: c.ID, Status: c.Status, Language: c.Language, Turns: spoken(turns)})
	})
}

// handleChatMessage passes a driver's chat message to the agent and returns
// only the reply, the status and the language. The reply is empty while a
// person of the staff has the conversation: what they write reaches the
// page through the event stream (handleChatEvents).
func handleChatMessage(agent Agent, logger *slog.Logger) http.Handler {
	return handleMessage(agent, logger, func(text string, c *chargedesk.Conversation) any {
		return map[string]any{"reply": text, "status": c.Status, "language": c.Language}
	})
}

// handleChatTranscript returns a chat conversation's turns (the id, 128
// random bits, is the driver's only credential for it). Only what the
// driver and the agent said is shown, not the agent's actions.
func handleChatTranscript(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := store.Conversation(r.Context(), r.PathValue("id"))
		if err == nil && c.Channel != chargedesk.ChannelChat {
			err = chargedesk.Errorf(chargedesk.ENOTFOUND, "no such chat")
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		turns, err := store.Turns(r.Context(), c.ID)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, publicConversation{ID: c.ID, Status: c.Status, Language: c.Language, Turns: spoken(turns)})
	})
}

// chatOnly lets the public chat API reach only chat conversations.
func chatOnly(store chargedesk.Store, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := store.Conversation(r.Context(), r.PathValue("id"))
		if err == nil && c.Channel != chargedesk.ChannelChat {
			err = chargedesk.Errorf(chargedesk.ENOTFOUND, "no such chat")
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Bounds of the chat's event streams: open at once in all, and per client
// address and per conversation; a stream lives at most sse.DefaultMaxAge
// (the page's EventSource reconnects).
const (
	maxChatStreams    = 2000
	maxChatStreamsPer = 4
	// chatPoll is how often a stream reads the store without a feed, and
	// at the latest with one (a change lost on the bus is late, not lost).
	chatPoll       = time.Second
	chatPollOnFeed = 15 * time.Second
)

// handleChatEvents streams what is said in a chat conversation from the
// turn after the one the page has (Last-Event-ID, or ?after=): event
// "turn", id its Seq, data the turn as the transcript shows it (no
// actions, no details). It wakes on the feed's changes of the
// conversation, on any node.
func handleChatEvents(store chargedesk.Store, feed chargedesk.ConversationFeed, streams *sse.Limiter, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		after, err := sse.LastEventID(r)
		if err != nil {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "after must be a turn's number"))
			return
		}
		release, ok := streams.Acquire("client:"+clientAddr(r), "chat:"+id)
		if !ok {
			w.Header().Set("Retry-After", "30")
			writeErrorBody(w, http.StatusTooManyRequests, chargedesk.EUNAVAILABLE, "too many open streams")
			return
		}
		defer release()
		wake := sse.NewWake()
		poll := chatPoll
		if feed != nil {
			unsub, err := feed.SubscribeConversations(id, func(chargedesk.ConversationChange) { wake.Notify() })
			if err != nil {
				writeError(w, r, logger, err)
				return
			}
			defer unsub()
			poll = chatPollOnFeed
		}
		stream, err := sse.Start(w, sse.Limits{})
		if err != nil {
			logger.Warn("chat: event stream cannot start", "err", err)
			return
		}
		ctx := r.Context()
		go wake.Every(ctx, poll)
		err = stream.Run(ctx, wake, func() error {
			turns, err := store.Turns(context.WithoutCancel(ctx), id)
			if err != nil {
				return err
			}
			for _, t := range spoken(turns) {
				if t.Seq <= after {
					continue
				}
				data, err := json.Marshal(t)
				if err != nil {
					return err
				}
				if err := stream.Event("turn", strconv.FormatInt(t.Seq, 10), data); err != nil {
					return err
				}
				after = t.Seq
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			logger.Debug("chat: event stream ended", "conversation_id", id, "err", err)
		}
	})
}
