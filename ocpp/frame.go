package ocpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/chargedesk/chargedesk"
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
//
// The Message's Payload and ErrorDetails may share data's memory: data must
// not be changed afterwards.
func Parse(data []byte) (Message, error) {
	if m, ok := parseFast(data); ok {
		return m, nil
	}
	return parseFull(data)
}

// parseFull is Parse through the generic JSON decoder: every frame, the
// malformed ones included.
func parseFull(data []byte) (Message, error) {
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

// parseFast decodes the two frames a fleet sends most, [2,"id","Action",{...}]
// and [3,"id",{...}], without the generic decoder: it reports false for
// anything else, or anything unusual (an escape or a non-ASCII byte in the
// id or action, an empty or overlong id), which parseFull then decodes. What
// it accepts, parseFull accepts as the same Message (FuzzParseFast).
func parseFast(data []byte) (Message, bool) {
	var m Message
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return m, false
	}
	i = skipSpace(data, i+1)
	if i+1 >= len(data) {
		return m, false
	}
	switch data[i] {
	case '2':
		m.Type = Call
	case '3':
		m.Type = CallResult
	default:
		return m, false
	}
	i = skipSpace(data, i+1) // a digit after the type is no ',': refused below
	var ok bool
	if i, ok = comma(data, i); !ok {
		return m, false
	}
	var id []byte
	if id, i, ok = plainString(data, i); !ok || len(id) == 0 || len(id) > MaxMessageIDLen {
		return m, false
	}
	if i, ok = comma(data, i); !ok {
		return m, false
	}
	var action []byte
	if m.Type == Call {
		if action, i, ok = plainString(data, i); !ok || len(action) == 0 {
			return m, false
		}
		if i, ok = comma(data, i); !ok {
			return m, false
		}
	}
	// The rest is the payload object, then ']' and nothing but space: the
	// object ends at the last '}' before that ']'.
	end := len(data)
	for end > i && isSpace(data[end-1]) {
		end--
	}
	if end <= i || data[end-1] != ']' {
		return m, false
	}
	end--
	for end > i && isSpace(data[end-1]) {
		end--
	}
	payload := data[i:end]
	if len(payload) < 2 || payload[0] != '{' || payload[len(payload)-1] != '}' || !json.Valid(payload) {
		return m, false
	}
	m.ID = string(id)
	if m.Type == Call {
		m.Action = internAction(action)
	}
	m.Payload = payload[:len(payload):len(payload)]
	return m, true
}

// skipSpace returns the index of the first byte from i on that is not JSON
// white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// comma expects a ',' at i (after white space) and returns the index of the
// next value.
func comma(data []byte, i int) (int, bool) {
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ',' {
		return i, false
	}
	return skipSpace(data, i+1), true
}

// plainString reads a JSON string at i made only of printable ASCII with no
// escape, whose bytes are then its value, and returns them and the index
// after the closing quote.
func plainString(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return nil, i, false
		}
	}
	return nil, i, false
}

// actionNames are the actions of both versions, so that a parsed CALL's
// action need not be allocated.
var actionNames = func() map[string]string {
	m := make(map[string]string)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		for _, a := range Actions(p) {
			m[a.Name] = a.Name
		}
	}
	return m
}()

// internAction returns the action's name, shared when it is a known one.
func internAction(b []byte) string {
	if s, ok := actionNames[string(b)]; ok { // no allocation for the lookup
		return s
	}
	return string(b)
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

// appendString appends s as json.Marshal quotes it. Message ids, actions
// and error codes are plain printable ASCII, copied as they are; anything
// else goes through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
