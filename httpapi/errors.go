package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// errorBody is the JSON body of every error answer:
// {"error":{"code":"not_found","message":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusOf maps a domain error code to its HTTP status. It is the only place
// where codes become statuses.
//
// EOFFLINE is 409: an offline charger is a state of the resource the request
// is about, not a failure of this server, and clients and proxies must not
// retry it blindly as they would a 503. ENOTSUPPORTED (the charger's protocol
// version cannot do this) is 501 like ENOTIMPLEMENTED: neither is a bug.
func statusOf(code string) int {
	switch code {
	case chargedesk.EINVALID:
		return http.StatusBadRequest
	case chargedesk.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case chargedesk.EFORBIDDEN:
		return http.StatusForbidden
	case chargedesk.ENOTFOUND:
		return http.StatusNotFound
	case chargedesk.ECONFLICT, chargedesk.EOFFLINE:
		return http.StatusConflict
	case chargedesk.ETIMEOUT:
		return http.StatusGatewayTimeout
	case chargedesk.ENOTIMPLEMENTED, chargedesk.ENOTSUPPORTED:
		return http.StatusNotImplemented
	case chargedesk.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers a request with err as a JSON error. A body over
// MaxBodyBytes is 413 with code "invalid". A *chargedesk.Error is answered
// with its own code and message; any other error, and EINTERNAL, is 500
// with a generic message and is logged, so internals never reach the caller.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeErrorBody(w, http.StatusRequestEntityTooLarge, chargedesk.EINVALID,
			fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
		return
	}
	code := chargedesk.ErrorCode(err)
	status := statusOf(code)
	msg := chargedesk.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		logger.ErrorContext(r.Context(), "http api internal error",
			"method", r.Method, "path", r.URL.Path, "err", err)
		code, msg = chargedesk.EINTERNAL, "internal error"
	}
	writeErrorBody(w, status, code, msg)
}

// writeErrorBody writes the JSON error body with the given status.
func writeErrorBody(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorDetail{Code: code, Message: msg}})
}
