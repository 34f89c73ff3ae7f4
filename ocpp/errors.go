package ocpp

import (
	"fmt"

	"github.com/chargedesk/chargedesk"
)

// ErrorCode is a CallError code, named as in 2.0.1. Spell it for the wire
// with Spell: 1.6 says FormationViolation and (sic)
// OccurenceConstraintViolation.
type ErrorCode string

// CallError codes. MessageTypeNotSupported and RpcFrameworkError exist only
// in 2.0.1 and are sent to 1.6 chargers as ProtocolError and GenericError.
const (
	FormatViolation               ErrorCode = "FormatViolation"
	GenericError                  ErrorCode = "GenericError"
	InternalError                 ErrorCode = "InternalError"
	MessageTypeNotSupported       ErrorCode = "MessageTypeNotSupported"
	NotImplemented                ErrorCode = "NotImplemented"
	NotSupported                  ErrorCode = "NotSupported"
	OccurrenceConstraintViolation ErrorCode = "OccurrenceConstraintViolation"
	PropertyConstraintViolation   ErrorCode = "PropertyConstraintViolation"
	ProtocolError                 ErrorCode = "ProtocolError"
	RpcFrameworkError             ErrorCode = "RpcFrameworkError"
	SecurityError                 ErrorCode = "SecurityError"
	TypeConstraintViolation       ErrorCode = "TypeConstraintViolation"
)

// Spell returns the code as the given protocol version writes it.
func (c ErrorCode) Spell(p chargedesk.Protocol) string {
	if p != chargedesk.OCPP16 {
		return string(c)
	}
	switch c {
	case FormatViolation:
		return "FormationViolation"
	case OccurrenceConstraintViolation:
		return "OccurenceConstraintViolation"
	case MessageTypeNotSupported:
		return string(ProtocolError)
	case RpcFrameworkError:
		return string(GenericError)
	}
	return string(c)
}

// ParseErrorCode reads a code as either version spells it; ok is false for a
// code neither version defines.
func ParseErrorCode(s string) (c ErrorCode, ok bool) {
	switch s {
	case "FormationViolation":
		return FormatViolation, true
	case "OccurenceConstraintViolation":
		return OccurrenceConstraintViolation, true
	}
	switch c := ErrorCode(s); c {
	case FormatViolation, GenericError, InternalError, MessageTypeNotSupported, NotImplemented,
		NotSupported, OccurrenceConstraintViolation, PropertyConstraintViolation, ProtocolError,
		RpcFrameworkError, SecurityError, TypeConstraintViolation:
		return c, true
	}
	return GenericError, false
}

// Error is an error to be answered with a CALLERROR.
type Error struct {
	Code        ErrorCode
	Description string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Description) }

// Errorf returns an *Error.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// NewCallError returns the CALLERROR frame answering message id with err,
// spelled for protocol p. An *Error or *FrameError keeps its code; a
// chargedesk error maps by its code; anything else is an InternalError whose
// text is not revealed.
func NewCallError(p chargedesk.Protocol, id string, err error) Message {
	code, desc := InternalError, "internal error"
	switch e := err.(type) {
	case *Error:
		code, desc = e.Code, e.Description
	case *FrameError:
		code, desc = e.Code, e.Reason
	case *chargedesk.Error:
		code, desc = codeOf(e.Code), e.Message
	}
	return Message{Type: CallError, ID: id, ErrorCode: code.Spell(p), ErrorDescription: desc, ErrorDetails: []byte("{}")}
}

// codeOf maps a domain error code to a CallError code: the one place where
// that mapping is made.
func codeOf(code string) ErrorCode {
	switch code {
	case chargedesk.EINVALID:
		return PropertyConstraintViolation
	case chargedesk.ENOTIMPLEMENTED:
		return NotImplemented
	case chargedesk.ENOTSUPPORTED:
		return NotSupported
	case chargedesk.EUNAUTHORIZED, chargedesk.EFORBIDDEN:
		return SecurityError
	case chargedesk.ECONFLICT, chargedesk.ENOTFOUND:
		return GenericError
	}
	return InternalError
}
