package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// statusBody is the body of the probes.
type statusBody struct {
	Status string `json:"status"`
}

// handleHealthz answers 200 while the process serves HTTP at all.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// handleReadyz answers 200 when ready reports no error and otherwise 503
// with code "unavailable".
// The reason is logged, not shown: /readyz needs no key.
func handleReadyz(ready func(context.Context) error, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			logger.WarnContext(r.Context(), "not ready", "err", err)
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "not ready"))
			return
		}
		encode(w, r, logger, http.StatusOK, statusBody{Status: "ok"})
	})
}
