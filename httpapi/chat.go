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
		shown := []chargedesk.Turn{}
		for _, t := range turns {
			if t.Role != chargedesk.RoleAction {
				t.Meta = nil
				shown = append(shown, t)
			}
		}
		encode(w, r, logger, http.StatusOK, map[string]any{"id": c.ID, "status": c.Status, "turns": shown})
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
