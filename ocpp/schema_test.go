package ocpp_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// TestValidateCodes pins the CallError code of each kind of schema
// violation. The npm package ocpp-rpc 2.2.1 (strict mode) maps the failing
// ajv keyword as follows; where it and the specifications disagree we follow
// the specifications (OCPP-J 1.6 section 4.2.3, OCPP 2.0.1 part 4 section
// 4.3), whose PropertyConstraintViolation is "a field contains an invalid
// value", OccurrenceConstraintViolation is about how many times a field
// occurs, and TypeConstraintViolation is a wrong data type:
//
//   - maxLength, minLength, maximum, minimum: ocpp-rpc FormatViolation; we
//     answer PropertyConstraintViolation (the value is invalid, the payload
//     is syntactically fine).
//   - enum and format (date-time): ocpp-rpc has no entry and falls back to
//     FormatViolation; we answer PropertyConstraintViolation, as above.
//   - multipleOf: ocpp-rpc OccurrenceConstraintViolation; it constrains a
//     value, not a count, so we answer PropertyConstraintViolation.
//   - required, minItems, maxItems: OccurrenceConstraintViolation in both.
//   - additionalProperties: PropertyConstraintViolation in both (1.6's
//     FormationViolation "not conform the PDU structure" could also be
//     read to cover it; we keep the common reading).
//   - type: TypeConstraintViolation in both.
//   - a payload that is not JSON: FormatViolation (FormationViolation in
//     1.6).
func TestValidateCodes(t *testing.T) {
	v := newValidator(t)
	p16, p201 := chargedesk.OCPP16, chargedesk.OCPP201
	cases := []struct {
		name     string
		p        chargedesk.Protocol
		action   string
		response bool
		payload  string
		code     ocpp.ErrorCode
		desc     string
	}{
		{"valid", p16, "Heartbeat", false, `{}`, "", ""},
		{"valid response", p16, "Heartbeat", true, `{"currentTime":"2024-05-06T07:08:09Z"}`, "", ""},
		{"not JSON", p16, "Heartbeat", false, `{"a":`, ocpp.FormatViolation, "Heartbeat request payload is not valid JSON"},
		{"trailing data", p201, "Heartbeat", false, `{} {}`, ocpp.FormatViolation, "Heartbeat request payload is not valid JSON"},
		{"not an object", p201, "Heartbeat", true, `[1]`, ocpp.FormatViolation, "Heartbeat response payload is not a JSON object"},
		{"unknown action", p16, "TransactionEvent", false, `{}`, ocpp.NotImplemented, `action "TransactionEvent" is not defined in ocpp1.6`},
		{"unknown protocol", "ocpp2.1", "Heartbeat", false, `{}`, ocpp.NotSupported, `protocol "ocpp2.1" is not supported`},
		{"required", p16, "StartTransaction", false, `{"connectorId":1,"idTag":"a","timestamp":"2024-05-06T07:08:09Z"}`,
			ocpp.OccurrenceConstraintViolation, "missing required field meterStart"},
		{"required several", p16, "StartTransaction", false, `{"connectorId":1}`,
			ocpp.OccurrenceConstraintViolation, "missing required field idTag, meterStart, timestamp"},
		{"response schema name is not an action", p16, "AuthorizeResponse", false, `{}`, ocpp.NotImplemented, `action "AuthorizeResponse" is not defined in ocpp1.6`},
		{"required in response", p16, "Authorize", true, `{"idTagInfo":{}}`,
			ocpp.OccurrenceConstraintViolation, "missing required field idTagInfo.status"},
		{"minItems", p201, "MeterValues", false, `{"evseId":1,"meterValue":[]}`,
			ocpp.OccurrenceConstraintViolation, "meterValue: has 0 items, fewer than the minimum 1"},
		{"maxItems", p201, "Authorize", false, `{"idToken":{"idToken":"a","type":"Central"},"iso15118CertificateHashData":[` + strings.Repeat(`{"hashAlgorithm":"SHA256","issuerNameHash":"a","issuerKeyHash":"b","serialNumber":"c","responderURL":"https://x.example/"},`, 4) + `{"hashAlgorithm":"SHA256","issuerNameHash":"a","issuerKeyHash":"b","serialNumber":"c","responderURL":"https://x.example/"}]}`,
			ocpp.OccurrenceConstraintViolation, "iso15118CertificateHashData: has 5 items, more than the maximum 4"},
		{"type", p201, "Heartbeat", true, `{"currentTime":1714979289}`,
			ocpp.TypeConstraintViolation, "currentTime: must be string, not number"},
		{"type integer", p16, "StatusNotification", false, `{"connectorId":1.5,"errorCode":"NoError","status":"Available"}`,
			ocpp.TypeConstraintViolation, "connectorId: must be integer, not number"},
		{"type null", p16, "Authorize", false, `{"idTag":null}`,
			ocpp.TypeConstraintViolation, "idTag: must be string, not null"},
		{"enum", p16, "Reset", false, `{"type":"Medium"}`,
			ocpp.PropertyConstraintViolation, `type: "Medium" is not one of Hard, Soft`},
		{"maxLength", p16, "Authorize", false, `{"idTag":"` + strings.Repeat("é", 21) + `"}`,
			ocpp.PropertyConstraintViolation, "idTag: is 21 characters, longer than the maximum 20"},
		{"maxLength counts characters not bytes", p16, "Authorize", false, `{"idTag":"` + strings.Repeat("é", 20) + `"}`, "", ""},
		{"format", p16, "Heartbeat", true, `{"currentTime":"yesterday"}`,
			ocpp.PropertyConstraintViolation, `currentTime: "yesterday" is not a valid date-time: not RFC 3339: too short`},
		{"maximum", p201, "NotifyEVChargingNeeds", false, `{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":1,"evMaxVoltage":1,"stateOfCharge":101}}}`,
			ocpp.PropertyConstraintViolation, "chargingNeeds.dcChargingParameters.stateOfCharge: 101 is greater than the maximum 100"},
		{"minimum", p201, "NotifyEVChargingNeeds", false, `{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":1,"evMaxVoltage":1,"stateOfCharge":-1}}}`,
			ocpp.PropertyConstraintViolation, "chargingNeeds.dcChargingParameters.stateOfCharge: -1 is less than the minimum 0"},
		{"multipleOf", p16, "SetChargingProfile", false, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.05}]}}}`,
			ocpp.PropertyConstraintViolation, "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit: 16.05 is not a multiple of 0.1"},
		{"multipleOf exact decimal", p16, "SetChargingProfile", false, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.3}]}}}`, "", ""},
		{"additionalProperties", p201, "StatusNotification", false, `{"timestamp":"2024-05-06T07:08:09Z","connectorStatus":"Available","evseId":1,"connectorId":1,"errorCode":"NoError"}`,
			ocpp.PropertyConstraintViolation, `payload: unknown field "errorCode"`},
		{"additionalProperties nested", p201, "Authorize", false, `{"idToken":{"idToken":"a","type":"Central","kind":"x"}}`,
			ocpp.PropertyConstraintViolation, `idToken: unknown field "kind"`},
		{"customData may carry vendor fields", p201, "Authorize", false, `{"idToken":{"idToken":"a","type":"Central","customData":{"vendorId":"v","x":1}}}`, "", ""},
		{"customData needs vendorId", p201, "Authorize", false, `{"idToken":{"idToken":"a","type":"Central","customData":{"x":1}}}`,
			ocpp.OccurrenceConstraintViolation, "missing required field idToken.customData.vendorId"},
		// Occurrence is reported before type, and type before property,
		// then by field path; the rest are counted.
		{"several", p16, "StatusNotification", false, `{"connectorId":"1","errorCode":"Oops","status":"Available","x":1}`,
			ocpp.TypeConstraintViolation, "connectorId: must be integer, not string (+2 more)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Validate(c.p, c.action, c.response, []byte(c.payload))
			if c.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var oe *ocpp.Error
			if !errors.As(err, &oe) {
				t.Fatalf("Validate = %v (%T), want *ocpp.Error", err, err)
			}
			if oe.Code != c.code || oe.Description != c.desc {
				t.Errorf("Validate = %s: %q\n          want %s: %q", oe.Code, oe.Description, c.code, c.desc)
			}
		})
	}
}

// TestValidateDeterministic checks that a payload with several violations
// in one object (whose fields the schema library visits in map order) is
// always reported the same way.
func TestValidateDeterministic(t *testing.T) {
	v := newValidator(t)
	payload := []byte(`{"connectorId":1,"errorCode":"Oops","status":"Nope","info":5,"vendorId":6,"a":1,"b":2,"timestamp":"x"}`)
	first := v.Validate(chargedesk.OCPP16, "StatusNotification", false, payload).Error()
	for range 50 {
		if got := v.Validate(chargedesk.OCPP16, "StatusNotification", false, payload).Error(); got != first {
			t.Fatalf("Validate gave %q, earlier %q", got, first)
		}
	}
}

// TestValidateDescriptionBounded checks that descriptions stay within 255
// bytes of valid UTF-8 whatever the peer sends.
func TestValidateDescriptionBounded(t *testing.T) {
	v := newValidator(t)
	long := strings.Repeat("ü", 400)
	payloads := map[string]string{
		"long unknown field": `{"` + long + `":1}`,
		"long enum value":    `{"type":"` + long + `"}`,
		"many unknown":       `{"` + strings.Repeat(`a":1,"`, 1) + strings.Repeat("b", 300) + `":1,"c` + long + `":2,"type":"Hard"}`,
		"long action":        `{}`,
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			action := "Reset"
			if name == "long action" {
				action = long
			}
			err := v.Validate(chargedesk.OCPP16, action, false, []byte(payload))
			var oe *ocpp.Error
			if !errors.As(err, &oe) {
				t.Fatalf("Validate = %v, want *ocpp.Error", err)
			}
			if len(oe.Description) > 255 || !utf8.ValidString(oe.Description) {
				t.Errorf("description is %d bytes, valid UTF-8 %v: %q", len(oe.Description), utf8.ValidString(oe.Description), oe.Description)
			}
		})
	}
}

// TestDateTimeSpecVersusSchema records how date-time strings are treated
// where the specification text and the schemas disagree. The schemas of
// both versions say "format": "date-time", which is RFC 3339 section 5.6.
//
//   - OCPP 1.6 text says ISO 8601. ISO 8601 also allows local times without
//     an offset, the basic format, a space separator, offsets without a
//     colon and 24:00; RFC 3339 does not. We follow RFC 3339 (the schema):
//     without an offset a time cannot be placed on the timeline, and the
//     other forms are what RFC 3339 exists to exclude.
//   - OCPP 2.0.1 text (part 2, DateTime) says RFC 3339 with at most three
//     fractional digits; the schema sets no digit limit. We follow the text.
//   - RFC 3339 allows lowercase 't' and 'z' and the leap second :60; some
//     parsers (Go's time.RFC3339 among them for :60) refuse them. We accept
//     them, folding :60 into the next second.
func TestDateTimeSpecVersusSchema(t *testing.T) {
	v := newValidator(t)
	cases := []struct {
		value        string
		ok16, ok201  bool
		disagreement string
	}{
		{"2024-05-06T07:08:09Z", true, true, ""},
		{"2024-05-06T07:08:09.123+02:00", true, true, ""},
		{"2024-05-06T07:08:09-00:00", true, true, ""},
		{"2024-05-06t07:08:09z", true, true, "RFC 3339 allows lowercase"},
		{"2016-12-31T23:59:60Z", true, true, "RFC 3339 allows a leap second"},
		{"2024-05-06T07:08:09.123456Z", true, false, "2.0.1 text: at most 3 fractional digits; schema: no limit"},
		{"2024-05-06T07:08:09.1234Z", true, false, "2.0.1 text: at most 3 fractional digits; schema: no limit"},
		{"2024-05-06T07:08:09", false, false, "1.6 text (ISO 8601) allows local time; schema (RFC 3339) does not"},
		{"2024-05-06T07:08:09.123", false, false, "1.6 text (ISO 8601) allows local time; schema (RFC 3339) does not"},
		{"20240506T070809Z", false, false, "ISO 8601 basic format"},
		{"2024-05-06 07:08:09Z", false, false, "space separator (RFC 3339 note, not its grammar)"},
		{"2024-05-06T07:08:09+0200", false, false, "ISO 8601 offset without colon"},
		{"2024-05-06T24:00:00Z", false, false, "ISO 8601 end-of-day 24:00"},
		{"2024-05-06T07:08Z", false, false, "ISO 8601 reduced precision"},
		{"2023-02-29T00:00:00Z", false, false, ""},
		{"2024-02-29T00:00:00Z", true, true, ""},
		{"2024-13-01T00:00:00Z", false, false, ""},
		{"2024-05-06T07:08:09.Z", false, false, ""},
		{"2024-05-06", false, false, ""},
		{"", false, false, ""},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			for _, pc := range []struct {
				p    chargedesk.Protocol
				want bool
			}{{chargedesk.OCPP16, c.ok16}, {chargedesk.OCPP201, c.ok201}} {
				err := v.Validate(pc.p, "Heartbeat", true, []byte(`{"currentTime":"`+c.value+`"}`))
				if (err == nil) != pc.want {
					t.Errorf("%s: Validate = %v, want ok=%v (%s)", pc.p, err, pc.want, c.disagreement)
				}
				var oe *ocpp.Error
				if err != nil && (!errors.As(err, &oe) || oe.Code != ocpp.PropertyConstraintViolation) {
					t.Errorf("%s: Validate = %v, want PropertyConstraintViolation", pc.p, err)
				}
			}
			// ParseDateTime (and so DateTime) accepts exactly RFC 3339,
			// the union of what either version accepts.
			_, err := ocpp.ParseDateTime(c.value)
			if (err == nil) != (c.ok16 || c.ok201) {
				t.Errorf("ParseDateTime(%q) = %v, want ok=%v", c.value, err, c.ok16 || c.ok201)
			}
		})
	}
}

// TestSchemasEmbedded checks that the schema files and their attribution
// ship together, and that the action registry and the schemas agree: every
// action has a request and a response schema and every schema an action.
func TestSchemasEmbedded(t *testing.T) {
	fsys := ocpp.SchemaFS()
	readme, err := fsys.ReadFile("schemas/README.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "Open Charge Alliance") {
		t.Error("schemas/README.txt lacks the attribution")
	}
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			want := map[string]bool{}
			for _, a := range ocpp.Actions(p) {
				want[ocpp.SchemaPath(p, a.Name, false)] = true
				want[ocpp.SchemaPath(p, a.Name, true)] = true
			}
			dir := "schemas/v16"
			if p == chargedesk.OCPP201 {
				dir = "schemas/v201"
			}
			entries, err := fs.ReadDir(fsys, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				path := dir + "/" + e.Name()
				if !want[path] {
					t.Errorf("%s has no action in the registry", path)
				}
				delete(want, path)
			}
			for path := range want {
				t.Errorf("registry action has no schema %s", path)
			}
		})
	}
}
