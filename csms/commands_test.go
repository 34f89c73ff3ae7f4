package csms

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/google/go-cmp/cmp"
)

// sendAsync sends a command from another goroutine.
func (e *env) sendAsync(cmd chargedesk.Command) <-chan chargedesk.Result {
	ch := make(chan chargedesk.Result, 1)
	go func() {
		res, err := e.srv.Send(context.Background(), cmd)
		if err != nil {
			res = chargedesk.Result{Status: "error", Detail: err.Error()}
		}
		ch <- res
	}()
	return ch
}

func waitResult(t *testing.T, ch <-chan chargedesk.Result) chargedesk.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no result within 15s")
	}
	return chargedesk.Result{}
}

func TestCommands(t *testing.T) {
	list := []chargedesk.LocalListEntry{{IDTag: "GOOD", Status: chargedesk.AuthAccepted}, {IDTag: "GONE"}}
	tests := []struct {
		name   string
		proto  chargedesk.Protocol
		cmd    chargedesk.Command
		action string
		// wantPayload is the CALL payload with random fields removed.
		wantPayload string
		reply       string
		want        chargedesk.Result
	}{
		{"remote start", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: 1, IDTag: "GOOD"},
			"RemoteStartTransaction", `{"connectorId":1,"idTag":"GOOD"}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"remote start", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: 1, IDTag: "GOOD"},
			"RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"GOOD","type":"Central"}}`, `{"status":"Rejected","statusInfo":{"reasonCode":"Occupied"}}`,
			chargedesk.Result{Status: "Rejected", Detail: "Occupied"}},
		{"remote stop", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: "42"},
			"RemoteStopTransaction", `{"transactionId":42}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"remote stop", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: "tx-9"},
			"RequestStopTransaction", `{"transactionId":"tx-9"}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"soft reset", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft},
			"Reset", `{"type":"Soft"}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"soft reset is OnIdle", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft},
			"Reset", `{"type":"OnIdle"}`, `{"status":"Scheduled"}`, chargedesk.Result{Status: "Scheduled"}},
		{"hard reset is Immediate", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetHard},
			"Reset", `{"type":"Immediate"}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"unlock", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 2},
			"UnlockConnector", `{"connectorId":2}`, `{"status":"UnlockFailed"}`, chargedesk.Result{Status: "UnlockFailed"}},
		{"unlock", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 2},
			"UnlockConnector", `{"evseId":2,"connectorId":1}`, `{"status":"OngoingAuthorizedTransaction"}`, chargedesk.Result{Status: "OngoingAuthorizedTransaction"}},
		{"trigger status", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "StatusNotification", ConnectorID: 1},
			"TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":1}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"trigger status names the connector", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "StatusNotification", ConnectorID: 2},
			"TriggerMessage", `{"requestedMessage":"StatusNotification","evse":{"id":2,"connectorId":1}}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"remote start authorizes a running transaction", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: 1, IDTag: "GOOD"},
			"RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"GOOD","type":"Central"}}`, `{"status":"Accepted","transactionId":"tx-plugged"}`,
			chargedesk.Result{Status: "Accepted", TransactionID: "tx-plugged"}},
		{"trigger heartbeat", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "Heartbeat"},
			"TriggerMessage", `{"requestedMessage":"Heartbeat"}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"change availability", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: "Operative"},
			"ChangeAvailability", `{"connectorId":1,"type":"Operative"}`, `{"status":"Scheduled"}`, chargedesk.Result{Status: "Scheduled"}},
		{"change availability", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: "Inoperative"},
			"ChangeAvailability", `{"operationalStatus":"Inoperative","evse":{"id":1}}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"clear cache", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdClearCache},
			"ClearCache", `{}`, `{"status":"Rejected"}`, chargedesk.Result{Status: "Rejected"}},
		{"clear cache", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdClearCache},
			"ClearCache", `{}`, `{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"send local list", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdSendLocalList, ListVersion: 7, UpdateType: "Differential", LocalList: list},
			"SendLocalList", `{"listVersion":7,"localAuthorizationList":[{"idTag":"GOOD","idTagInfo":{"status":"Accepted"}},{"idTag":"GONE"}],"updateType":"Differential"}`,
			`{"status":"VersionMismatch"}`, chargedesk.Result{Status: "VersionMismatch"}},
		{"send local list", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdSendLocalList, ListVersion: 7, UpdateType: "Differential", LocalList: list},
			"SendLocalList", `{"localAuthorizationList":[{"idToken":{"idToken":"GOOD","type":"Central"},"idTokenInfo":{"status":"Accepted"}},{"idToken":{"idToken":"GONE","type":"ISO14443"}}],"versionNumber":7,"updateType":"Differential"}`,
			`{"status":"Accepted"}`, chargedesk.Result{Status: "Accepted"}},
		{"local list version", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdGetLocalListVersion},
			"GetLocalListVersion", `{}`, `{"listVersion":6}`, chargedesk.Result{Status: "Accepted", ListVersion: 6}},
		{"local list version", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdGetLocalListVersion},
			"GetLocalListVersion", `{}`, `{"versionNumber":3}`, chargedesk.Result{Status: "Accepted", ListVersion: 3}},
		{"get configuration", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdGetConfiguration, Keys: []string{"HeartbeatInterval", "Nope"}},
			"GetConfiguration", `{"key":["HeartbeatInterval","Nope"]}`, `{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}],"unknownKey":["Nope"]}`,
			chargedesk.Result{Status: "Accepted", Configuration: []chargedesk.ConfigurationValue{{Key: "HeartbeatInterval", Value: "300"}}, UnknownKeys: []string{"Nope"}}},
		{"get variables", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdGetConfiguration, Keys: []string{"HeartbeatInterval", "Foo[2].Bar"}},
			"GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},{"component":{"name":"Foo","instance":"2"},"variable":{"name":"Bar"}}]}`,
			`{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"300","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},{"attributeStatus":"UnknownComponent","component":{"name":"Foo","instance":"2"},"variable":{"name":"Bar"}}]}`,
			chargedesk.Result{Status: "Accepted", Configuration: []chargedesk.ConfigurationValue{{Key: "OCPPCommCtrlr.HeartbeatInterval", Value: "300"}}, UnknownKeys: []string{"Foo[2].Bar"}}},
		{"change configuration", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdChangeConfiguration, Key: "HeartbeatInterval", Value: "60"},
			"ChangeConfiguration", `{"key":"HeartbeatInterval","value":"60"}`, `{"status":"RebootRequired"}`, chargedesk.Result{Status: "RebootRequired"}},
		{"set variables", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdChangeConfiguration, Key: "AuthorizeRemoteTxRequests", Value: "false"},
			"SetVariables", `{"setVariableData":[{"attributeValue":"false","component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`,
			`{"setVariableResult":[{"attributeStatus":"UnknownVariable","component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`,
			chargedesk.Result{Status: "NotSupported", Detail: "UnknownVariable"}},
		{"data transfer", chargedesk.OCPP16, chargedesk.Command{Kind: chargedesk.CmdDataTransfer, VendorID: "com.acme", MessageID: "diag", Data: "x=1"},
			"DataTransfer", `{"vendorId":"com.acme","messageId":"diag","data":"x=1"}`, `{"status":"Accepted","data":"ok"}`, chargedesk.Result{Status: "Accepted", Data: "ok"}},
		{"data transfer", chargedesk.OCPP201, chargedesk.Command{Kind: chargedesk.CmdDataTransfer, VendorID: "com.acme", Data: "x=1"},
			"DataTransfer", `{"data":"x=1","vendorId":"com.acme"}`, `{"status":"UnknownVendorId"}`, chargedesk.Result{Status: "UnknownVendorId"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto)+"/"+tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register("CP-1")
			if err := e.store.PutToken(context.Background(), &chargedesk.Token{IDTag: "GOOD", Type: "Central", Status: chargedesk.AuthAccepted}); err != nil {
				t.Fatal(err)
			}
			c := e.connect("CP-1", tt.proto)
			cmd := tt.cmd
			cmd.ChargerID, cmd.ID = "CP-1", "cmd-1"
			ch := e.sendAsync(cmd)
			m := c.expectCall(tt.action)
			var got map[string]any
			if err := json.Unmarshal(m.Payload, &got); err != nil {
				t.Fatal(err)
			}
			rsid, _ := got["remoteStartId"].(float64) // random; must come back in the result
			delete(got, "remoteStartId")
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.wantPayload), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CALL payload (-want +got):\n%s", diff)
			}
			c.reply(m, tt.reply)
			res := waitResult(t, ch)
			want2 := tt.want
			want2.CommandID, want2.Protocol, want2.RemoteStartID = "cmd-1", tt.proto, int(rsid)
			res.Elapsed = 0
			if diff := cmp.Diff(want2, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandOutcomes(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	unlock := chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", ConnectorID: 1}

	t.Run("timeout", func(t *testing.T) {
		cmd := unlock
		cmd.Timeout = 100 * time.Millisecond
		ch := e.sendAsync(cmd)
		m := c.expectCall("UnlockConnector") // never answered in time
		if r := waitResult(t, ch); r.Status != chargedesk.ResultTimeout {
			t.Fatalf("status %s, want Timeout", r.Status)
		}
		// The late answer is dropped and the next command works.
		c.reply(m, `{"status":"Unlocked"}`)
		ch = e.sendAsync(unlock)
		c.reply(c.expectCall("UnlockConnector"), `{"status":"Unlocked"}`)
		if r := waitResult(t, ch); r.Status != chargedesk.ResultUnlocked {
			t.Fatalf("after a timeout: %+v", r)
		}
	})
	t.Run("call error", func(t *testing.T) {
		ch := e.sendAsync(unlock)
		m := c.expectCall("UnlockConnector")
		c.send(string(ocpp.Message{Type: ocpp.CallError, ID: m.ID, ErrorCode: "NotSupported", ErrorDescription: "no lock", ErrorDetails: json.RawMessage(`{}`)}.Encode()))
		r := waitResult(t, ch)
		if r.Status != chargedesk.ResultCallError || r.ErrorCode != "NotSupported" || r.Detail != "no lock" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("answer breaks the schema", func(t *testing.T) {
		ch := e.sendAsync(unlock)
		c.reply(c.expectCall("UnlockConnector"), `{"status":"Maybe"}`)
		r := waitResult(t, ch)
		if r.Status != chargedesk.ResultFailed || !strings.Contains(r.Detail, "status") {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("not connected", func(t *testing.T) {
		e.register("CP-2")
		r := waitResult(t, e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-2"}))
		if r.Status != chargedesk.ResultChargerOffline {
			t.Fatalf("status %s, want ChargerOffline", r.Status)
		}
	})
	t.Run("invalid command", func(t *testing.T) {
		_, err := e.srv.Send(context.Background(), chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1"})
		if chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("err %v, want invalid", err)
		}
		_, err = e.srv.Send(context.Background(), chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: strings.Repeat("T", 25)})
		if chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("1.6 idTag of 25 characters: err %v, want invalid", err)
		}
	})
	t.Run("connection lost mid-call", func(t *testing.T) {
		e.register("CP-3")
		c3 := e.connect("CP-3", chargedesk.OCPP201)
		ch := e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-3"})
		c3.expectCall("ClearCache")
		c3.ws.CloseNow()
		if r := waitResult(t, ch); r.Status != chargedesk.ResultChargerOffline {
			t.Fatalf("status %s, want ChargerOffline", r.Status)
		}
	})
}

func TestOneOutstandingCallInOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	var results []<-chan chargedesk.Result
	for i := 1; i <= 3; i++ {
		results = append(results, e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", ConnectorID: i}))
		time.Sleep(20 * time.Millisecond) // let each reach the queue in order
	}
	for i := 1; i <= 3; i++ {
		m := c.expectCall("UnlockConnector")
		if want := `{"connectorId":` + string(rune('0'+i)) + `}`; string(m.Payload) != want {
			t.Fatalf("CALL %d payload %s, want %s", i, m.Payload, want)
		}
		// Nothing else is sent while this CALL is outstanding.
		select {
		case extra := <-c.calls:
			t.Fatalf("second CALL %s sent before the first was answered", extra.Payload)
		case <-time.After(50 * time.Millisecond):
		}
		c.reply(m, `{"status":"Unlocked"}`)
		if r := waitResult(t, results[i-1]); r.Status != chargedesk.ResultUnlocked {
			t.Fatalf("command %d: %+v", i, r)
		}
	}
}

func TestCommandsToDifferentChargersDoNotWait(t *testing.T) {
	e := newEnv(t, nil)
	e.register("SLOW")
	e.register("FAST")
	slow := e.connect("SLOW", chargedesk.OCPP16)
	fast := e.connect("FAST", chargedesk.OCPP201)
	slowRes := e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "SLOW"})
	m := slow.expectCall("ClearCache") // left unanswered for now
	fastRes := e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "FAST"})
	fast.reply(fast.expectCall("ClearCache"), `{"status":"Accepted"}`)
	if r := waitResult(t, fastRes); r.Status != chargedesk.ResultAccepted {
		t.Fatalf("fast charger: %+v", r)
	}
	slow.reply(m, `{"status":"Accepted"}`)
	waitResult(t, slowRes)
}

func TestChargerCallsWhileCommandOutstanding(t *testing.T) {
	// CALLs of the two directions may cross: a charger's message is
	// answered while our command waits for its answer.
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	res := e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-1", Trigger: "Heartbeat"})
	m := c.expectCall("TriggerMessage")
	boot(c)
	c.call("Heartbeat", map[string]any{})
	c.reply(m, `{"status":"Accepted"}`)
	if r := waitResult(t, res); r.Status != chargedesk.ResultAccepted {
		t.Fatalf("%+v", r)
	}
}
