package httpapi

import "net/http"

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

	api("GET /api/v1/audit", handleAuditList(store, log))
	api("GET /api/v1/audit/verify", handleAuditVerify(store, log))
}
