package httpapi

import (
	_ "embed"
	"log/slog"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// chatPage is the web chat drivers use: one static page that talks to the
// public chat API.
//
//go:embed static/chat.html
var chatPage []byte

// handleChatPage serves the web chat.
func handleChatPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(chatPage)
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

// spoken keeps the turns a driver may see: what they and the agent said.
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
// only the reply, the status and the language.
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
