package ocpp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// codecCase is one frame from a charger in testdata/frames/<dir>/<name>.json.
// want is the CallError code the frame must be answered with, spelled as the
// version writes it, or "" for a valid frame. action names the CALL that a
// CALLRESULT frame answers.
type codecCase struct {
	name   string
	action string
	want   string
}

var codecCases = map[chargedesk.Protocol][]codecCase{
	chargedesk.OCPP16: {
		{name: "boot"},
		{name: "heartbeat"},
		{name: "status"},
		{name: "status_fault"},
		{name: "metervalues"},
		// 1.6 sets no limit on fractional digits; they are kept to the
		// millisecond when re-encoded.
		{name: "start"},
		{name: "stop"},
		{name: "authorize"},
		{name: "datatransfer"},
		// RFC 3339 allows a lowercase 'z'.
		{name: "security_event"},
		// RFC 3339 allows a leap second; it is folded into the next second.
		{name: "leap_second"},
		{name: "result_remotestart", action: "RemoteStartTransaction"},
		{name: "result_getconfiguration", action: "GetConfiguration"},
		{name: "callerror"},
		{name: "bad_json", want: "FormationViolation"},
		{name: "not_array", want: "FormationViolation"},
		{name: "short", want: "FormationViolation"},
		{name: "id_too_long", want: "FormationViolation"},
		// 1.6 has no MessageTypeNotSupported; it is spelled ProtocolError.
		{name: "bad_message_type", want: "ProtocolError"},
		{name: "payload_array", want: "FormationViolation"},
		{name: "unknown_action", want: "NotImplemented"},
		{name: "wrong_direction", want: "NotSupported"},
		{name: "missing_required", want: "OccurenceConstraintViolation"},
		{name: "wrong_type", want: "TypeConstraintViolation"},
		{name: "bad_enum", want: "PropertyConstraintViolation"},
		{name: "too_long", want: "PropertyConstraintViolation"},
		{name: "unknown_field", want: "PropertyConstraintViolation"},
		// The 1.6 specification text says ISO 8601 (which allows local
		// time without an offset); the schema says "date-time" (RFC 3339,
		// offset required). We follow RFC 3339: a time without an offset
		// cannot be placed on the timeline, so it is refused.
		{name: "no_offset", want: "PropertyConstraintViolation"},
		{name: "empty_metervalue", want: "OccurenceConstraintViolation"},
		{name: "empty_sampledvalue", want: "OccurenceConstraintViolation"},
		{name: "result_bad_enum", action: "RemoteStartTransaction", want: "PropertyConstraintViolation"},
		{name: "result_missing", action: "RemoteStartTransaction", want: "OccurenceConstraintViolation"},
	},
	chargedesk.OCPP201: {
		{name: "boot"},
		{name: "heartbeat"},
		{name: "status"},
		{name: "transaction_started"},
		{name: "transaction_ended"},
		{name: "metervalues"},
		{name: "notifyevent"},
		{name: "security_event"},
		// customData allows vendor fields; the schema accepts them and the
		// Go type drops them (see the golden).
		{name: "datatransfer_customdata"},
		{name: "result_getvariables", action: "GetVariables"},
		{name: "result_requeststart", action: "RequestStartTransaction"},
		{name: "callerror"},
		{name: "bad_json", want: "FormatViolation"},
		{name: "bad_message_type", want: "MessageTypeNotSupported"},
		{name: "call_three_elements", want: "FormatViolation"},
		{name: "unknown_action", want: "NotImplemented"},
		// Action names are case sensitive.
		{name: "lowercase_action", want: "NotImplemented"},
		{name: "wrong_direction", want: "NotSupported"},
		{name: "v16_action", want: "NotImplemented"},
		{name: "missing_required", want: "OccurrenceConstraintViolation"},
		{name: "missing_nested", want: "OccurrenceConstraintViolation"},
		{name: "wrong_type", want: "TypeConstraintViolation"},
		{name: "bad_enum", want: "PropertyConstraintViolation"},
		{name: "too_long", want: "PropertyConstraintViolation"},
		{name: "unknown_field", want: "PropertyConstraintViolation"},
		// The 2.0.1 specification text (part 2, DateTime) allows at most
		// three fractional digits; the schema's "date-time" sets no limit.
		// We follow the specification.
		{name: "six_fraction_digits", want: "PropertyConstraintViolation"},
		{name: "no_offset", want: "PropertyConstraintViolation"},
		{name: "empty_eventdata", want: "OccurrenceConstraintViolation"},
		{name: "above_maximum", want: "PropertyConstraintViolation"},
		{name: "result_bad_enum", action: "RequestStartTransaction", want: "PropertyConstraintViolation"},
	},
}

func frameDir(p chargedesk.Protocol) string {
	if p == chargedesk.OCPP16 {
		return filepath.Join("testdata", "frames", "v16")
	}
	return filepath.Join("testdata", "frames", "v201")
}

// answer runs a frame from a charger through the codec as the CSMS does:
// Parse, check the action and its direction, validate the payload, decode
// it into its Go type and encode it again. It returns the CALLERROR frame
// for a bad frame and the re-encoded frame for a good one.
func answer(t *testing.T, v *ocpp.Validator, p chargedesk.Protocol, data []byte, action string) []byte {
	t.Helper()
	m, err := ocpp.Parse(data)
	if err != nil {
		var fe *ocpp.FrameError
		if !errors.As(err, &fe) {
			t.Fatalf("Parse returned %T, want *ocpp.FrameError", err)
		}
		// As csms does: a frame whose id cannot be read is answered
		// with id "-1".
		id := fe.MessageID
		if id == "" {
			id = "-1"
		}
		return ocpp.NewCallError(p, id, fe).Encode()
	}
	response := false
	switch m.Type {
	case ocpp.CallError:
		return m.Encode()
	case ocpp.Call:
		if err := ocpp.CheckIncoming(p, m.Action); err != nil {
			return ocpp.NewCallError(p, m.ID, err).Encode()
		}
		action = m.Action
	case ocpp.CallResult:
		response = true
	}
	if err := v.Validate(p, action, response, m.Payload); err != nil {
		return ocpp.NewCallError(p, m.ID, err).Encode()
	}
	typed := newPayload(p, action, response)
	if err := json.Unmarshal(m.Payload, typed); err != nil {
		t.Fatalf("valid payload does not decode into %T: %v", typed, err)
	}
	out, err := json.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(p, action, response, out); err != nil {
		t.Fatalf("re-encoded %T does not validate: %v", typed, err)
	}
	m.Payload = out
	return m.Encode()
}

func TestCodecGolden(t *testing.T) {
	v := newValidator(t)
	for p, cases := range codecCases {
		// Every frame file has a case, and every case a file.
		files, err := filepath.Glob(filepath.Join(frameDir(p), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, c := range cases {
			names[c.name] = true
		}
		for _, f := range files {
			if n := strings.TrimSuffix(filepath.Base(f), ".json"); !names[n] {
				t.Errorf("%s has no case in codecCases", f)
			}
		}
		for _, c := range cases {
			t.Run(string(p)+"/"+c.name, func(t *testing.T) {
				path := filepath.Join(frameDir(p), c.name)
				in, err := os.ReadFile(path + ".json")
				if err != nil {
					t.Fatal(err)
				}
				got := answer(t, v, p, bytes.TrimSpace(in), c.action)
				m, err := ocpp.Parse(got)
				if err != nil {
					t.Fatalf("answer %s does not parse: %v", got, err)
				}
				switch {
				case c.want == "" && m.Type == ocpp.CallError && !strings.Contains(c.name, "callerror"):
					t.Errorf("valid frame answered with %s: %s", m.ErrorCode, m.ErrorDescription)
				case c.want != "" && m.Type != ocpp.CallError:
					t.Errorf("invalid frame accepted, want %s", c.want)
				case c.want != "" && m.ErrorCode != c.want:
					t.Errorf("code = %s (%s), want %s", m.ErrorCode, m.ErrorDescription, c.want)
				}
				if len(m.ErrorDescription) > 255 {
					t.Errorf("description is %d bytes, more than 255", len(m.ErrorDescription))
				}
				golden := path + ".golden"
				if *update {
					if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
					t.Errorf("answer differs from %s\n got: %s\nwant: %s", golden, got, want)
				}
			})
		}
	}
}
