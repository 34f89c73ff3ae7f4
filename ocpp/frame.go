package ocpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/chargedesk/chargedesk/internal/textcut"
)

// MessageType is the first element of an OCPP-J frame.
type MessageType int

// The three message types of both versions. (2.0.1 reserves 5 and 6 for
// later versions; they are answered as unsupported.)
const (
	Call       MessageType = 2
	CallResult MessageType = 3
	CallError  MessageType = 4
)

func (t MessageType) String() string {
	switch t {
	case Call:
		return "CALL"
	case CallResult:
		return "CALLRESULT"
	case CallError:
		return "CALLERROR"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// MaxMessageIDLen is the longest unique message id (both specs: 36).
const MaxMessageIDLen = 36

// Message is one decoded OCPP-J frame.
type Message struct {
	Type MessageType
	ID   string
	// Action is set for a CALL.
	Action string
	// Payload is the JSON object of a CALL or CALLRESULT.
	Payload json.RawMessage
	// ErrorCode, ErrorDescription and ErrorDetails are set for a CALLERROR.
	// ErrorCode is spelled as on the wire.
	ErrorCode        string
	ErrorDescription string
	ErrorDetails     json.RawMessage
}

// FrameError is a frame that cannot be decoded. Code is the version-neutral
// error code to answer with (FormatViolation or ProtocolError, or
// MessageTypeNotSupported); MessageID is the frame's id when it could be read,
// so the error can still be answered.
type FrameError struct {
	Code      ErrorCode
	MessageID string
	Type      MessageType
	Reason    string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("ocpp frame: %s: %s", e.Code, e.Reason)
}

// Parse decodes one frame. Any failure is a *FrameError.
func Parse(data []byte) (Message, error) {
	var m Message
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return m, &FrameError{Code: FormatViolation, Reason: "frame is not a JSON array"}
	}
	if len(parts) < 3 {
		return m, &FrameError{Code: FormatViolation, Reason: "frame has fewer than 3 elements"}
	}
	var typ int
	if err := json.Unmarshal(parts[0], &typ); err != nil {
		return m, &FrameError{Code: FormatViolation, Reason: "message type is not an integer"}
	}
	m.Type = MessageType(typ)
	// Read the id first so that errors about the rest can still be answered.
	if err := json.Unmarshal(parts[1], &m.ID); err != nil {
		return m, &FrameError{Code: FormatViolation, Type: m.Type, Reason: "message id is not a string"}
	}
	fail := func(code ErrorCode, format string, args ...any) (Message, error) {
		return m, &FrameError{Code: code, MessageID: m.ID, Type: m.Type, Reason: fmt.Sprintf(format, args...)}
	}
	if m.ID == "" || len(m.ID) > MaxMessageIDLen {
		id := m.ID
		m.ID = ""
		if len(id) > MaxMessageIDLen {
			return fail(FormatViolation, "message id is longer than %d characters", MaxMessageIDLen)
		}
		return fail(FormatViolation, "message id is empty")
	}
	switch m.Type {
	case Call:
		if len(parts) != 4 {
			return fail(FormatViolation, "CALL must have 4 elements, has %d", len(parts))
		}
		if err := json.Unmarshal(parts[2], &m.Action); err != nil || m.Action == "" {
			return fail(FormatViolation, "action is not a non-empty string")
		}
		if !isObject(parts[3]) {
			return fail(FormatViolation, "payload of %s is not a JSON object", m.Action)
		}
		m.Payload = parts[3]
	case CallResult:
		if len(parts) != 3 {
			return fail(FormatViolation, "CALLRESULT must have 3 elements, has %d", len(parts))
		}
		if !isObject(parts[2]) {
			return fail(FormatViolation, "CALLRESULT payload is not a JSON object")
		}
		m.Payload = parts[2]
	case CallError:
		if len(parts) != 5 {
			return fail(FormatViolation, "CALLERROR must have 5 elements, has %d", len(parts))
		}
		if err := json.Unmarshal(parts[2], &m.ErrorCode); err != nil {
			return fail(FormatViolation, "CALLERROR code is not a string")
		}
		if err := json.Unmarshal(parts[3], &m.ErrorDescription); err != nil {
			return fail(FormatViolation, "CALLERROR description is not a string")
		}
		if !isObject(parts[4]) {
			return fail(FormatViolation, "CALLERROR details is not a JSON object")
		}
		m.ErrorDetails = parts[4]
	default:
		return fail(MessageTypeNotSupported, "message type %d is not supported", typ)
	}
	return m, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// Encode returns the frame of m. A CALLERROR's description is cut to 255
// bytes (the 2.0.1 limit) on a rune boundary.
func (m Message) Encode() []byte {
	b := make([]byte, 0, 64+len(m.Payload))
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(m.Type), 10)
	b = append(b, ',')
	b = appendString(b, m.ID)
	switch m.Type {
	case Call:
		b = append(b, ',')
		b = appendString(b, m.Action)
		b = append(b, ',')
		b = appendPayload(b, m.Payload)
	case CallResult:
		b = append(b, ',')
		b = appendPayload(b, m.Payload)
	case CallError:
		b = append(b, ',')
		b = appendString(b, m.ErrorCode)
		b = append(b, ',')
		b = appendString(b, textcut.Bytes(m.ErrorDescription, 255))
		b = append(b, ',')
		b = appendPayload(b, m.ErrorDetails)
	}
	return append(b, ']')
}

func appendPayload(b []byte, p json.RawMessage) []byte {
	if len(p) == 0 {
		return append(b, '{', '}')
	}
	return append(b, p...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
