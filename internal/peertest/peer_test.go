package peertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chargedesk/chargedesk"
)

// peerKinds are the two independent implementations under test.
var peerKinds = []struct {
	name  string
	start func(testing.TB, Scenario) Peer
	// nullOptionals: the peer writes some absent optional fields as null.
	nullOptionals bool
}{
	{"ocpp-rpc", StartOCPPRPC, false},
	{"ocpp-go", StartOCPPGo, true},
}

var protocols = []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201}

func testSchemas(t *testing.T) *schemaSet {
	t.Helper()
	s, err := findSchemas()
	if err != nil {
		t.Logf("payloads not checked against the official schemas: %v (set CHARGEDESK_OCPP_SCHEMAS)", err)
		return nil
	}
	return s
}

// TestPeerScenarioAndCommands runs each peer, in each version, through the
// scenario and then every command, against the test CSMS.
func TestPeerScenarioAndCommands(t *testing.T) {
	schemas := testSchemas(t)
	for _, kind := range peerKinds {
		for _, proto := range protocols {
			t.Run(kind.name+"/"+string(proto), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
				defer cancel()
				csms := newTestCSMS(t, "s3cret:pw", schemas, kind.nullOptionals)
				s := Scenario{URL: csms.URL(), ChargerID: "CP-" + kind.name, Password: "s3cret:pw", Protocol: proto, IDTag: "TAG-0001"}
				peer := kind.start(t, s)

				done, err := peer.WaitFor(ctx, Is(EventScenarioDone, ""))
				if err != nil {
					t.Fatalf("scenario: %v", err)
				}
				conn, err := csms.conn(ctx, s.ChargerID)
				if err != nil {
					t.Fatal(err)
				}
				checkScenario(t, conn, done.TransactionID)

				st := &runState{}
				for _, step := range commandSteps(proto) {
					runStep(ctx, t, conn, peer, st, step)
				}

				for _, p := range conn.problemsSoFar() {
					t.Errorf("test CSMS: %s", p)
				}
				for _, e := range peer.Events() {
					if e.Event == EventError {
						t.Errorf("peer reported %v", e)
					}
				}
			})
		}
	}
}

// describe names a charger CALL for comparison: the action, and for a
// 2.0.1 TransactionEvent its eventType.
func describe(c chargerCall) string {
	if c.action != "TransactionEvent" {
		return c.action
	}
	var ev struct {
		EventType string `json:"eventType"`
	}
	_ = json.Unmarshal(c.payload, &ev)
	return c.action + "/" + ev.EventType
}

func checkScenario(t *testing.T, conn *csmsConn, txID string) {
	t.Helper()
	var got []string
	var calls []chargerCall
	for _, c := range conn.received() {
		if c.action != "Heartbeat" {
			got = append(got, describe(c))
			calls = append(calls, c)
		}
	}
	want := []string{"BootNotification", "StatusNotification", "Authorize", "StartTransaction", "StatusNotification", "MeterValues", "StopTransaction", "StatusNotification"}
	if conn.proto == chargedesk.OCPP201 {
		want = []string{"BootNotification", "StatusNotification", "Authorize", "TransactionEvent/Started", "StatusNotification",
			"TransactionEvent/Updated", "TransactionEvent/Updated", "TransactionEvent/Ended", "StatusNotification"}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("scenario messages (-want +got):\n%s", diff)
	}

	// The transaction is the one the CSMS assigned (1.6) or the charger
	// announced (2.0.1), carried by every message of it.
	if conn.proto == chargedesk.OCPP16 {
		if want := strconv.Itoa(conn.lastTx()); txID != want {
			t.Errorf("scenario_done transactionId = %q, want %q", txID, want)
		}
		for _, i := range []int{5, 6} {
			var m struct {
				TransactionID int `json:"transactionId"`
			}
			_ = json.Unmarshal(calls[i].payload, &m)
			if strconv.Itoa(m.TransactionID) != txID {
				t.Errorf("%s transactionId = %d, want %s", calls[i].action, m.TransactionID, txID)
			}
		}
		return
	}
	seq := 0
	for _, c := range calls {
		if c.action != "TransactionEvent" {
			continue
		}
		var ev struct {
			SeqNo           int `json:"seqNo"`
			TransactionInfo struct {
				TransactionID string `json:"transactionId"`
			} `json:"transactionInfo"`
		}
		_ = json.Unmarshal(c.payload, &ev)
		if ev.SeqNo != seq {
			t.Errorf("%s seqNo = %d, want %d", describe(c), ev.SeqNo, seq)
		}
		if ev.TransactionInfo.TransactionID != txID {
			t.Errorf("%s transactionId = %q, want %q", describe(c), ev.TransactionInfo.TransactionID, txID)
		}
		seq++
	}
}

// runState carries what later commands need from earlier ones.
type runState struct {
	txID any // the transaction started remotely: int (1.6) or string (2.0.1)
}

// step is one command the test CSMS sends, with what must come of it.
type step struct {
	name    string
	action  string
	payload func(*runState) any
	// status, when set, is the "status" the answer must carry.
	status string
	// check, when set, checks the whole answer.
	check func(t *testing.T, res map[string]any)
	// follow lists the CALLs the charger must send, in order, after
	// answering; the next command waits for all of them.
	follow []string
	// onFollow, when set, checks (and may remember) the first follow-up.
	onFollow func(t *testing.T, st *runState, payload json.RawMessage)
}

func fixed(v any) func(*runState) any { return func(*runState) any { return v } }

func runStep(ctx context.Context, t *testing.T, conn *csmsConn, peer Peer, st *runState, s step) {
	t.Helper()
	t.Run(s.name, func(t *testing.T) {
		mark := len(conn.received())
		peerMark := len(peer.Events())
		ans, err := conn.call(ctx, s.action, s.payload(st))
		if err != nil {
			t.Fatal(err)
		}
		if ans.code != "" {
			t.Fatalf("%s answered with CALLERROR %s: %s", s.action, ans.code, ans.desc)
		}
		var res map[string]any
		if err := json.Unmarshal(ans.payload, &res); err != nil {
			t.Fatalf("%s answer %s: %v", s.action, ans.payload, err)
		}
		if s.status != "" && res["status"] != s.status {
			t.Errorf("%s status = %v, want %s (answer %s)", s.action, res["status"], s.status, ans.payload)
		}
		if s.check != nil {
			s.check(t, res)
		}
		// The peer logged the command it answered.
		if _, err := peer.WaitFor(ctx, After(peerMark, Is(EventCall, s.action))); err != nil {
			t.Errorf("peer did not report the %s call: %v", s.action, err)
		}
		if len(s.follow) == 0 {
			return
		}
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		var first chargerCall
		for i, action := range s.follow {
			call, at, err := conn.waitCall(fctx, mark, action)
			if err != nil {
				t.Fatalf("after %s: %v", s.action, err)
			}
			if i == 0 {
				first = call
			}
			mark = at + 1
		}
		if s.onFollow != nil {
			s.onFollow(t, st, first.payload)
		}
	})
}

// field returns a top-level field of a JSON payload.
func field(t *testing.T, payload json.RawMessage, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return m[name]
}

func wantField(name string, want any) func(*testing.T, *runState, json.RawMessage) {
	return func(t *testing.T, _ *runState, payload json.RawMessage) {
		t.Helper()
		if got := field(t, payload, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v in %s", name, got, want, payload)
		}
	}
}

func wantAnswer(name string, want any) func(*testing.T, map[string]any) {
	return func(t *testing.T, res map[string]any) {
		t.Helper()
		if got := res[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v in %v", name, got, want, res)
		}
	}
}

func commandSteps(p chargedesk.Protocol) []step {
	if p == chargedesk.OCPP16 {
		return commandSteps16()
	}
	return commandSteps201()
}

func commandSteps16() []step {
	return []step{
		{name: "GetConfiguration_all", action: "GetConfiguration", payload: fixed(map[string]any{}),
			check: func(t *testing.T, res map[string]any) {
				if keys, _ := res["configurationKey"].([]any); len(keys) < 5 {
					t.Errorf("configurationKey = %v, want the whole configuration", res["configurationKey"])
				}
			}},
		{name: "GetConfiguration_some", action: "GetConfiguration", payload: fixed(map[string]any{"key": []string{"HeartbeatInterval", "NoSuchKey"}}),
			check: func(t *testing.T, res map[string]any) {
				if got := fmt.Sprint(res["unknownKey"]); got != "[NoSuchKey]" {
					t.Errorf("unknownKey = %s, want [NoSuchKey]", got)
				}
				if got := fmt.Sprint(res["configurationKey"]); got != "[map[key:HeartbeatInterval readonly:false value:300]]" {
					t.Errorf("configurationKey = %s", got)
				}
			}},
		{name: "ChangeConfiguration", action: "ChangeConfiguration", payload: fixed(map[string]any{"key": "MeterValueSampleInterval", "value": "30"}), status: "Accepted"},
		{name: "ChangeConfiguration_changed", action: "GetConfiguration", payload: fixed(map[string]any{"key": []string{"MeterValueSampleInterval"}}),
			check: func(t *testing.T, res map[string]any) {
				if got := fmt.Sprint(res["configurationKey"]); got != "[map[key:MeterValueSampleInterval readonly:false value:30]]" {
					t.Errorf("configurationKey = %s", got)
				}
			}},
		{name: "ChangeConfiguration_readonly", action: "ChangeConfiguration", payload: fixed(map[string]any{"key": "NumberOfConnectors", "value": "2"}), status: "Rejected"},
		{name: "ChangeConfiguration_unknown", action: "ChangeConfiguration", payload: fixed(map[string]any{"key": "NoSuchKey", "value": "1"}), status: "NotSupported"},
		{name: "SendLocalList", action: "SendLocalList", payload: fixed(map[string]any{"listVersion": 3, "updateType": "Full",
			"localAuthorizationList": []any{map[string]any{"idTag": "TAG-0001", "idTagInfo": map[string]any{"status": "Accepted"}}}}), status: "Accepted"},
		{name: "GetLocalListVersion", action: "GetLocalListVersion", payload: fixed(map[string]any{}), check: wantAnswer("listVersion", 3)},
		{name: "SendLocalList_stale_differential", action: "SendLocalList", payload: fixed(map[string]any{"listVersion": 2, "updateType": "Differential"}), status: "VersionMismatch"},
		{name: "ClearCache", action: "ClearCache", payload: fixed(map[string]any{}), status: "Accepted"},
		{name: "DataTransfer", action: "DataTransfer", payload: fixed(map[string]any{"vendorId": "chargedesk", "messageId": "echo", "data": "hello"}),
			status: "Accepted", check: wantAnswer("data", "hello")},
		{name: "DataTransfer_unknown_vendor", action: "DataTransfer", payload: fixed(map[string]any{"vendorId": "acme"}), status: "UnknownVendorId"},
		{name: "TriggerMessage_StatusNotification", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "StatusNotification", "connectorId": 1}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("status", "Available")},
		{name: "TriggerMessage_Heartbeat", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "Heartbeat"}), status: "Accepted", follow: []string{"Heartbeat"}},
		{name: "TriggerMessage_BootNotification", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "BootNotification"}), status: "Accepted", follow: []string{"BootNotification"}},
		{name: "ChangeAvailability_Inoperative", action: "ChangeAvailability", payload: fixed(map[string]any{"connectorId": 1, "type": "Inoperative"}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("status", "Unavailable")},
		{name: "RemoteStartTransaction_unavailable", action: "RemoteStartTransaction", payload: fixed(map[string]any{"idTag": "TAG-0001", "connectorId": 1}), status: "Rejected"},
		{name: "ChangeAvailability_Operative", action: "ChangeAvailability", payload: fixed(map[string]any{"connectorId": 1, "type": "Operative"}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("status", "Available")},
		{name: "RemoteStartTransaction", action: "RemoteStartTransaction", payload: fixed(map[string]any{"idTag": "TAG-0002", "connectorId": 1}),
			status: "Accepted", follow: []string{"StartTransaction", "StatusNotification"}, onFollow: wantField("idTag", "TAG-0002")},
		{name: "TriggerMessage_MeterValues", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "MeterValues", "connectorId": 1}),
			status: "Accepted", follow: []string{"MeterValues"}, onFollow: func(t *testing.T, st *runState, payload json.RawMessage) {
				// The transaction id is known only from the StartTransaction
				// answer; the meter values of a running transaction carry it.
				id, ok := field(t, payload, "transactionId").(float64)
				if !ok {
					t.Fatalf("MeterValues during a transaction has no transactionId: %s", payload)
				}
				st.txID = int(id)
			}},
		{name: "RemoteStopTransaction_wrong_id", action: "RemoteStopTransaction", payload: fixed(map[string]any{"transactionId": 999999}), status: "Rejected"},
		{name: "RemoteStopTransaction", action: "RemoteStopTransaction", payload: func(st *runState) any { return map[string]any{"transactionId": st.txID} },
			status: "Accepted", follow: []string{"StopTransaction", "StatusNotification"}, onFollow: func(t *testing.T, st *runState, payload json.RawMessage) {
				wantField("transactionId", st.txID)(t, st, payload)
				wantField("reason", "Remote")(t, st, payload)
			}},
		{name: "UnlockConnector", action: "UnlockConnector", payload: fixed(map[string]any{"connectorId": 1}), status: "Unlocked"},
		{name: "Reset", action: "Reset", payload: fixed(map[string]any{"type": "Soft"}), status: "Accepted"},
	}
}

func cv(component, variable string) map[string]any {
	return map[string]any{"component": map[string]any{"name": component}, "variable": map[string]any{"name": variable}}
}

func commandSteps201() []step {
	idToken := func(tag string) map[string]any { return map[string]any{"idToken": tag, "type": "ISO14443"} }
	return []step{
		{name: "GetVariables", action: "GetVariables", payload: fixed(map[string]any{"getVariableData": []any{
			cv("OCPPCommCtrlr", "HeartbeatInterval"), cv("OCPPCommCtrlr", "NoSuchVariable"), cv("NoSuchCtrlr", "Enabled")}}),
			check: func(t *testing.T, res map[string]any) {
				var got []string
				rs, _ := res["getVariableResult"].([]any)
				for _, r := range rs {
					m, _ := r.(map[string]any)
					got = append(got, fmt.Sprint(m["attributeStatus"], " ", m["attributeValue"]))
				}
				want := []string{"Accepted 300", "UnknownVariable <nil>", "UnknownComponent <nil>"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("getVariableResult (-want +got):\n%s", diff)
				}
			}},
		{name: "SetVariables", action: "SetVariables", payload: fixed(map[string]any{"setVariableData": []any{
			withValue(cv("SampledDataCtrlr", "TxUpdatedInterval"), "30"), withValue(cv("LocalAuthListCtrlr", "Entries"), "5")}}),
			check: func(t *testing.T, res map[string]any) {
				var got []string
				rs, _ := res["setVariableResult"].([]any)
				for _, r := range rs {
					m, _ := r.(map[string]any)
					got = append(got, fmt.Sprint(m["attributeStatus"]))
				}
				if diff := cmp.Diff([]string{"Accepted", "Rejected"}, got); diff != "" {
					t.Errorf("setVariableResult (-want +got):\n%s", diff)
				}
			}},
		{name: "SetVariables_changed", action: "GetVariables", payload: fixed(map[string]any{"getVariableData": []any{cv("SampledDataCtrlr", "TxUpdatedInterval")}}),
			check: func(t *testing.T, res map[string]any) {
				if got := fmt.Sprint(res["getVariableResult"]); got != "[map[attributeStatus:Accepted attributeValue:30 component:map[name:SampledDataCtrlr] variable:map[name:TxUpdatedInterval]]]" {
					t.Errorf("getVariableResult = %s", got)
				}
			}},
		{name: "SendLocalList", action: "SendLocalList", payload: fixed(map[string]any{"versionNumber": 3, "updateType": "Full",
			"localAuthorizationList": []any{map[string]any{"idToken": idToken("TAG-0001"), "idTokenInfo": map[string]any{"status": "Accepted"}}}}), status: "Accepted"},
		{name: "GetLocalListVersion", action: "GetLocalListVersion", payload: fixed(map[string]any{}), check: wantAnswer("versionNumber", 3)},
		{name: "SendLocalList_stale_differential", action: "SendLocalList", payload: fixed(map[string]any{"versionNumber": 2, "updateType": "Differential"}), status: "VersionMismatch"},
		{name: "ClearCache", action: "ClearCache", payload: fixed(map[string]any{}), status: "Accepted"},
		{name: "DataTransfer", action: "DataTransfer", payload: fixed(map[string]any{"vendorId": "chargedesk", "messageId": "echo", "data": "hello"}),
			status: "Accepted", check: wantAnswer("data", "hello")},
		{name: "DataTransfer_unknown_vendor", action: "DataTransfer", payload: fixed(map[string]any{"vendorId": "acme"}), status: "UnknownVendorId"},
		{name: "TriggerMessage_StatusNotification", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "StatusNotification", "evse": map[string]any{"id": 1, "connectorId": 1}}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("connectorStatus", "Available")},
		{name: "TriggerMessage_Heartbeat", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "Heartbeat"}), status: "Accepted", follow: []string{"Heartbeat"}},
		{name: "TriggerMessage_BootNotification", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "BootNotification"}),
			status: "Accepted", follow: []string{"BootNotification"}, onFollow: wantField("reason", "Triggered")},
		{name: "TriggerMessage_TransactionEvent_idle", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "TransactionEvent"}), status: "Rejected"},
		{name: "ChangeAvailability_Inoperative", action: "ChangeAvailability", payload: fixed(map[string]any{"operationalStatus": "Inoperative", "evse": map[string]any{"id": 1}}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("connectorStatus", "Unavailable")},
		{name: "RequestStartTransaction_unavailable", action: "RequestStartTransaction", payload: fixed(map[string]any{"idToken": idToken("TAG-0001"), "remoteStartId": 6}), status: "Rejected"},
		{name: "ChangeAvailability_Operative", action: "ChangeAvailability", payload: fixed(map[string]any{"operationalStatus": "Operative", "evse": map[string]any{"id": 1}}),
			status: "Accepted", follow: []string{"StatusNotification"}, onFollow: wantField("connectorStatus", "Available")},
		{name: "RequestStartTransaction", action: "RequestStartTransaction", payload: fixed(map[string]any{"idToken": idToken("TAG-0002"), "remoteStartId": 7, "evseId": 1}),
			status: "Accepted", follow: []string{"TransactionEvent", "StatusNotification", "TransactionEvent"}, onFollow: func(t *testing.T, st *runState, payload json.RawMessage) {
				var ev struct {
					EventType       string `json:"eventType"`
					TriggerReason   string `json:"triggerReason"`
					TransactionInfo struct {
						TransactionID string `json:"transactionId"`
						RemoteStartID int    `json:"remoteStartId"`
					} `json:"transactionInfo"`
				}
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.EventType != "Started" || ev.TriggerReason != "RemoteStart" || ev.TransactionInfo.RemoteStartID != 7 {
					t.Errorf("TransactionEvent after RequestStartTransaction = %s", payload)
				}
				st.txID = ev.TransactionInfo.TransactionID
			}},
		{name: "TriggerMessage_MeterValues", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "MeterValues", "evse": map[string]any{"id": 1}}),
			status: "Accepted", follow: []string{"MeterValues"}, onFollow: wantField("evseId", 1)},
		{name: "TriggerMessage_TransactionEvent", action: "TriggerMessage", payload: fixed(map[string]any{"requestedMessage": "TransactionEvent", "evse": map[string]any{"id": 1}}),
			status: "Accepted", follow: []string{"TransactionEvent"}, onFollow: wantField("triggerReason", "Trigger")},
		{name: "RequestStopTransaction_wrong_id", action: "RequestStopTransaction", payload: fixed(map[string]any{"transactionId": "no-such-tx"}), status: "Rejected"},
		{name: "RequestStopTransaction", action: "RequestStopTransaction", payload: func(st *runState) any { return map[string]any{"transactionId": st.txID} },
			status: "Accepted", follow: []string{"TransactionEvent", "StatusNotification"}, onFollow: func(t *testing.T, st *runState, payload json.RawMessage) {
				var ev struct {
					EventType       string `json:"eventType"`
					TriggerReason   string `json:"triggerReason"`
					TransactionInfo struct {
						TransactionID string `json:"transactionId"`
						StoppedReason string `json:"stoppedReason"`
					} `json:"transactionInfo"`
				}
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.EventType != "Ended" || ev.TriggerReason != "RemoteStop" || ev.TransactionInfo.StoppedReason != "Remote" || ev.TransactionInfo.TransactionID != st.txID {
					t.Errorf("TransactionEvent after RequestStopTransaction of %v = %s", st.txID, payload)
				}
			}},
		{name: "UnlockConnector", action: "UnlockConnector", payload: fixed(map[string]any{"evseId": 1, "connectorId": 1}), status: "Unlocked"},
		{name: "Reset", action: "Reset", payload: fixed(map[string]any{"type": "OnIdle"}), status: "Accepted"},
	}
}

func withValue(m map[string]any, v string) map[string]any {
	m["attributeValue"] = v
	return m
}

// TestPeerWrongPassword shows the peers send HTTP Basic credentials: with
// the wrong password they are refused and stop.
func TestPeerWrongPassword(t *testing.T) {
	for _, kind := range peerKinds {
		for _, proto := range protocols {
			t.Run(kind.name+"/"+string(proto), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				csms := newTestCSMS(t, "right", nil, false)
				peer := kind.start(t, Scenario{URL: csms.URL(), ChargerID: "CP-1", Password: "wrong", Protocol: proto, IDTag: "TAG-0001"})
				e, err := peer.WaitFor(ctx, Is(EventError, ""))
				if err != nil {
					t.Fatal(err)
				}
				if e.Code != "ConnectFailed" {
					t.Errorf("first error = %v, want ConnectFailed", e)
				}
				// The peer has given up: waiting for more ends without the
				// context's deadline.
				if _, err := peer.WaitFor(ctx, Is(EventScenarioDone, "")); err == nil || ctx.Err() != nil {
					t.Errorf("WaitFor after a refused connection = %v, want the peer to have stopped", err)
				}
			})
		}
	}
}

// TestPeerRefusesInvalidCommands sends commands no charger should accept
// and checks each peer answers with a CALLERROR and reports it. The codes
// are each library's own, pinned here so that a change is noticed: they
// differ from each other and, for ocpp-go, from the specification (see
// interop/README.md).
func TestPeerRefusesInvalidCommands(t *testing.T) {
	type want map[string]string // "peer/protocol" -> CALLERROR code
	cases := []struct {
		name    string
		action  map[chargedesk.Protocol]string
		payload map[string]any
		codes   want
	}{
		{
			name:    "unknown action",
			action:  map[chargedesk.Protocol]string{chargedesk.OCPP16: "NoSuchAction", chargedesk.OCPP201: "NoSuchAction"},
			payload: map[string]any{},
			codes: want{"ocpp-rpc/ocpp1.6": "NotImplemented", "ocpp-rpc/ocpp2.0.1": "NotImplemented",
				"ocpp-go/ocpp1.6": "NotSupported", "ocpp-go/ocpp2.0.1": "NotSupported"},
		},
		{
			name:    "bad enum value",
			action:  map[chargedesk.Protocol]string{chargedesk.OCPP16: "Reset", chargedesk.OCPP201: "Reset"},
			payload: map[string]any{"type": "Sideways"},
			codes: want{"ocpp-rpc/ocpp1.6": "FormationViolation", "ocpp-rpc/ocpp2.0.1": "FormatViolation",
				"ocpp-go/ocpp1.6": "GenericError", "ocpp-go/ocpp2.0.1": "GenericError"},
		},
		{
			name:    "missing required string",
			action:  map[chargedesk.Protocol]string{chargedesk.OCPP16: "ChangeConfiguration", chargedesk.OCPP201: "RequestStopTransaction"},
			payload: map[string]any{},
			codes: want{"ocpp-rpc/ocpp1.6": "OccurrenceConstraintViolation", "ocpp-rpc/ocpp2.0.1": "OccurenceConstraintViolation",
				"ocpp-go/ocpp1.6": "OccurrenceConstraintViolation", "ocpp-go/ocpp2.0.1": "OccurrenceConstraintViolation"},
		},
	}
	for _, kind := range peerKinds {
		for _, proto := range protocols {
			t.Run(kind.name+"/"+string(proto), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				csms := newTestCSMS(t, "pw", nil, false)
				s := Scenario{URL: csms.URL(), ChargerID: "CP-1", Password: "pw", Protocol: proto, IDTag: "TAG-0001", NoScenario: true}
				peer := kind.start(t, s)
				conn, err := csms.conn(ctx, s.ChargerID)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						action, wantCode := c.action[proto], c.codes[kind.name+"/"+string(proto)]
						mark := len(peer.Events())
						ans, err := conn.send(ctx, action, c.payload)
						if err != nil {
							t.Fatal(err)
						}
						if ans.code != wantCode {
							t.Errorf("%s answered %q %q (payload %s), want CALLERROR %s", action, ans.code, ans.desc, ans.payload, wantCode)
						}
						if ans.code == "" {
							return
						}
						wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
						defer cancel()
						e, err := peer.WaitFor(wctx, After(mark, func(e PeerEvent) bool { return e.Event == EventError && e.Sent }))
						if err != nil {
							t.Fatalf("peer did not report its CALLERROR: %v", err)
						}
						if e.Code != ans.code || e.Action != action {
							t.Errorf("peer reported %v, want the %s CALLERROR %s", e, action, ans.code)
						}
					})
				}
			})
		}
	}
}

// TestPeerRejectsInvalidAnswer answers BootNotification with a payload the
// schema forbids; the peer must report it and not go on with the scenario.
func TestPeerRejectsInvalidAnswer(t *testing.T) {
	for _, kind := range peerKinds {
		for _, proto := range protocols {
			t.Run(kind.name+"/"+string(proto), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				bad := map[string]any{"BootNotification": map[string]any{"status": "Accepted", "interval": "often"}}
				csms := newTestCSMSAnswering(t, "pw", nil, false, bad)
				s := Scenario{URL: csms.URL(), ChargerID: "CP-1", Password: "pw", Protocol: proto, IDTag: "TAG-0001", CallTimeout: 3 * time.Second}
				peer := kind.start(t, s)
				e, err := peer.WaitFor(ctx, Is(EventError, "BootNotification"))
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s %s reported %v", kind.name, proto, e)
				if _, err := peer.WaitFor(ctx, func(e PeerEvent) bool {
					return e.Event == EventError && strings.HasPrefix(e.Message, "boot not accepted")
				}); err != nil {
					t.Fatal(err)
				}
				conn, err := csms.conn(ctx, s.ChargerID)
				if err != nil {
					t.Fatal(err)
				}
				// Give the peer the chance to go wrong: a command round trip
				// proves it is alive and has sent whatever it was going to.
				if _, err := conn.send(ctx, "ClearCache", map[string]any{}); err != nil {
					t.Fatal(err)
				}
				for _, c := range conn.received() {
					if c.action != "BootNotification" {
						t.Errorf("peer went on after an invalid boot answer: sent %s", c.action)
					}
				}
				for _, p := range conn.problemsSoFar() {
					t.Logf("%s %s: test CSMS saw: %s", kind.name, proto, p)
				}
			})
		}
	}
}
