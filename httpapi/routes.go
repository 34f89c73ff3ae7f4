package httpapi

import (
	"net/http"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse"
)

// addRoutes registers every route of the API on mux. The probes and
// /metrics need no key; everything under /api/v1 needs an operator API key.
func addRoutes(mux *http.ServeMux, cfg Config, keys *keyring) {
	store, log := cfg.Store, cfg.Logger
	api := func(pattern string, h http.Handler) {
		mux.Handle(pattern, requireKey(keys, log, h))
	}

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(cfg.Ready, log))
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}

	api("GET /api/v1/chargers", handleChargerList(store, log))
	api("POST /api/v1/chargers", handleChargerRegister(store, log))
	api("GET /api/v1/chargers/{id}", handleChargerGet(store, log))
	api("PATCH /api/v1/chargers/{id}", handleChargerUpdate(store, log))
	api("GET /api/v1/chargers/{id}/transactions", handleChargerTransactions(store, log))
	api("POST /api/v1/chargers/{id}/commands", handleCommandSend(cfg.Commands, log))
	if cfg.Upstream != "" && cfg.UpstreamStore != nil {
		a := upstreamAPI{store: store, up: cfg.UpstreamStore, base: cfg.Upstream, logger: log}
		api("GET /api/v1/chargers/{id}/upstream", a.get())
		api("PUT /api/v1/chargers/{id}/upstream", a.put(false))
		api("DELETE /api/v1/chargers/{id}/upstream", a.put(true))
	}

	api("GET /api/v1/transactions", handleTransactionList(store, log))

	api("GET /api/v1/tokens", handleTokenList(store, log))
	api("GET /api/v1/tokens/{idTag}", handleTokenGet(store, log))
	api("PUT /api/v1/tokens/{idTag}", handleTokenPut(store, log, cfg.Now))
	api("PATCH /api/v1/tokens/{idTag}", handleTokenPatch(store, log, cfg.Now))
	api("DELETE /api/v1/tokens/{idTag}", handleTokenDelete(store, log))

	if cfg.Sim != nil {
		api("GET /api/v1/sim/faults", handleSimFaults(cfg.Sim, log))
		api("GET /api/v1/sim/chargers", handleSimStatus(cfg.Sim, log))
		api("GET /api/v1/sim/chargers/{id}", handleSimStatus(cfg.Sim, log))
		api("POST /api/v1/sim/chargers/{id}/faults", handleSimFault(cfg.Sim, log, true))
		api("DELETE /api/v1/sim/chargers/{id}/faults", handleSimFault(cfg.Sim, log, false))
		api("POST /api/v1/sim/chargers/{id}/connectors/{connector}/actions", handleSimAct(cfg.Sim, log))
	}

	api("GET /api/v1/tickets", handleTicketList(store, log))
	api("GET /api/v1/tickets/{id}", handleTicketGet(store, log))
	api("PATCH /api/v1/tickets/{id}", handleTicketUpdate(store, log))

	if agent := cfg.Agent; agent != nil {
		api("POST /api/v1/conversations", handleConversationStart(agent, store, log,
			chargedesk.ChannelChat, chargedesk.ChannelSMS, chargedesk.ChannelVoice, chargedesk.ChannelAPI))
		api("GET /api/v1/conversations", handleConversationList(store, log))
		api("GET /api/v1/conversations/{id}", handleConversationGet(store, log))
		api("POST /api/v1/conversations/{id}/messages", handleConversationMessage(agent, log))
		api("GET /api/v1/agent", handleAgentSwitch(agent, log))
		api("PUT /api/v1/agent", handleAgentSwitch(agent, log))

		// The web chat for drivers: public, so bounded per client address
		// and per conversation, and showing nothing of the agent's state;
		// a chat conversation's random id is its credential.
		starts := newChatLimiter(10, cfg.Now)
		perClient := newChatLimiter(60, cfg.Now)
		perChat := newChatLimiter(20, cfg.Now)
		byID := func(r *http.Request) string { return r.PathValue("id") }
		mux.Handle("GET /chat", handleChatPage())
		mux.Handle("GET /chat/chat.js", handleChatAsset("chat.js", "text/javascript; charset=utf-8"))
		mux.Handle("GET /chat/chat.css", handleChatAsset("chat.css", "text/css; charset=utf-8"))
		mux.Handle("POST /chat/api/conversations", limited(starts, clientAddr, log, handleChatStart(agent, store, log)))
		mux.Handle("GET /chat/api/conversations/{id}", limited(perClient, clientAddr, log, handleChatTranscript(store, log)))
		mux.Handle("POST /chat/api/conversations/{id}/messages",
			limited(perClient, clientAddr, log, limited(perChat, byID, log, chatOnly(store, log, handleChatMessage(agent, log)))))
		// The chat's receive path: what is said in the conversation,
		// including what nobody asked for (a person of the staff who
		// took it over), as Server-Sent Events.
		streams := sse.NewLimiter(maxChatStreams, maxChatStreamsPer)
		mux.Handle("GET /chat/api/conversations/{id}/events",
			limited(perClient, clientAddr, log, chatOnly(store, log, handleChatEvents(store, cfg.Feed, streams, log))))
	}

	if tw := cfg.Twilio; tw.enabled() && tw.SMS != nil && cfg.Agent != nil {
		// Twilio's webhooks: no key, the account's signature instead.
		guard := newTwilioGuard(tw, cfg.Registerer, log)
		mux.Handle("POST /twilio/sms", handleTwilioSMS(newSMSChannel(cfg.Agent, store, tw, cfg.Now, log), guard))
	}

	api("GET /api/v1/audit", handleAuditList(store, log))
	api("GET /api/v1/audit/verify", handleAuditVerify(store, log))
}
