package chargedesk

import (
	"errors"
	"fmt"
)

// Error codes. Each transport maps them in exactly one place: httpapi to an
// HTTP status, csms to an OCPP CallError code.
const (
	EINVALID        = "invalid"         // the input is malformed or out of range
	ENOTFOUND       = "not_found"       // the thing asked for does not exist
	ECONFLICT       = "conflict"        // the thing exists already, or state forbids the change
	EUNAUTHORIZED   = "unauthorized"    // the caller did not prove who it is
	EFORBIDDEN      = "forbidden"       // the caller is known but may not do this
	EOFFLINE        = "charger_offline" // the charger has no connection to any node
	ETIMEOUT        = "timeout"         // the peer did not answer within the deadline
	ENOTIMPLEMENTED = "not_implemented" // chargedesk does not do this (yet)
	ENOTSUPPORTED   = "not_supported"   // the charger's protocol version cannot do this
	EUNAVAILABLE    = "unavailable"     // a dependency (store, bus) is not reachable
	EINTERNAL       = "internal"        // a bug or an unexpected failure
)

// Error is the error type of the domain. Code is one of the E* constants;
// Message is safe to show to an operator or a peer.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("chargedesk error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text for any other error so that internals never leak to a peer.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
