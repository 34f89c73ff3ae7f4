package csms

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// TestTransactionMessagesAreNeverRefused: a charger's transaction messages
// that break the schema in ways that can still be read are answered, so
// that its queue does not stall on retries and the session is kept.
func TestTransactionMessagesAreNeverRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	e.putToken("GOOD", chargedesk.AuthAccepted)
	c := e.connect("CP-1", chargedesk.OCPP16)
	boot(c)
	now := time.Now().UTC().Truncate(time.Second)
	// An integer written as a decimal, as some firmware does.
	raw := c.callRaw("StartTransaction", json.RawMessage(`{"connectorId":1,"idTag":"GOOD","meterStart":1000.0,"timestamp":"`+ts(now)+`"}`))
	if raw.Type != ocpp.CallResult {
		t.Fatalf("StartTransaction with meterStart 1000.0: %s %s", raw.ErrorCode, raw.ErrorDescription)
	}
	st := decode[v16.StartTransactionResponse](t, raw.Payload)
	// Garbage meter values (NaN, infinite) are dropped, not refused.
	c.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": st.TransactionID, "meterValue": []any{map[string]any{
		"timestamp": ts(now.Add(time.Second)), "sampledValue": []any{map[string]any{"value": "NaN"}, map[string]any{"value": "1e400"}, map[string]any{"value": "1500"}}}}})
	// An idTag too long and a reason outside the enum: still a stop.
	stop := c.callRaw("StopTransaction", map[string]any{"transactionId": st.TransactionID, "meterStop": 2000, "timestamp": ts(now.Add(time.Minute)),
		"idTag": strings.Repeat("T", 21), "reason": "Cosmic"})
	if stop.Type != ocpp.CallResult {
		t.Fatalf("StopTransaction: %s %s", stop.ErrorCode, stop.ErrorDescription)
	}
	if err := validator.Validate(chargedesk.OCPP16, "StopTransaction", true, stop.Payload); err != nil {
		t.Fatalf("answer does not validate: %v", err)
	}
	tx, err := e.store.Transaction(context.Background(), "CP-1", strconv.Itoa(st.TransactionID))
	if err != nil || tx.Active() || tx.MeterStartWh != 1000 || tx.MeterStopWh != 2000 {
		t.Fatalf("transaction %+v %v", tx, err)
	}
	samples, _ := e.store.MeterValues(context.Background(), "CP-1", tx.ID, 10)
	if len(samples) != 1 || samples[0].Value != 1500 {
		t.Fatalf("samples %+v, want only the readable one", samples)
	}
	// A message that is not a transaction message is refused as before.
	if m := c.callRaw("Authorize", map[string]any{"idTag": strings.Repeat("T", 21)}); m.ErrorCode != "PropertyConstraintViolation" {
		t.Fatalf("Authorize with a long idTag: %+v", m)
	}
}

func TestMeterMultiplierIsBounded(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP201)
	boot(c)
	now := time.Now().UTC().Truncate(time.Millisecond)
	start := time.Now()
	c.call("MeterValues", map[string]any{"evseId": 1, "meterValue": []any{map[string]any{"timestamp": ts(now), "sampledValue": []any{
		map[string]any{"value": 5, "unitOfMeasure": map[string]any{"unit": "Wh", "multiplier": 2000000000}},
		map[string]any{"value": 5, "unitOfMeasure": map[string]any{"unit": "Wh", "multiplier": 3}},
	}}}})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a huge multiplier took %v", d) // it used to take seconds of CPU per value
	}
}

func TestFreeVendTokenIsAccepted(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP201)
	boot(c)
	got := decode[v201.AuthorizeResponse](t, c.call("Authorize", map[string]any{"idToken": map[string]any{"idToken": "", "type": "NoAuthorization"}}))
	if got.IDTokenInfo.Status != "Accepted" {
		t.Fatalf("NoAuthorization: %s", got.IDTokenInfo.Status)
	}
}

func TestPendingChargerMaySendWhatWasTriggered(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{
		ID: "CP-P", PasswordHash: chargedesk.HashPassword(testPassword), BootStatus: chargedesk.RegistrationPending}); err != nil {
		t.Fatal(err)
	}
	c := e.connect("CP-P", chargedesk.OCPP16)
	boot(c)
	if m := c.callRaw("StatusNotification", map[string]any{"connectorId": 1, "status": "Available", "errorCode": "NoError"}); m.ErrorCode != "SecurityError" {
		t.Fatalf("unsolicited status while Pending: %+v", m)
	}
	res := e.sendAsync(chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-P", Trigger: "StatusNotification", ConnectorID: 1})
	c.reply(c.expectCall("TriggerMessage"), `{"status":"Accepted"}`)
	// The charger sends what it was asked for: answered, once.
	c.call("StatusNotification", map[string]any{"connectorId": 1, "status": "Available", "errorCode": "NoError"})
	if r := waitResult(t, res); r.Status != chargedesk.ResultAccepted {
		t.Fatal(r)
	}
	if m := c.callRaw("StatusNotification", map[string]any{"connectorId": 1, "status": "Available", "errorCode": "NoError"}); m.ErrorCode != "SecurityError" {
		t.Fatalf("second status while Pending: %+v", m)
	}
}

func TestSilentChargerIsDropped(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PingInterval = 50 * time.Millisecond })
	e.register("CP-1")
	// A client that never reads never answers pings: a dead peer.
	ws, _, err := e.dialRaw("CP-1", basicAuth("CP-1", testPassword), "ocpp1.6")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	eventually(t, "connected", func() bool { return e.srv.Connected("CP-1") })
	eventually(t, "dropped after unanswered pings", func() bool { return !e.srv.Connected("CP-1") })
	eventually(t, "recorded as disconnected", func() bool {
		ch, err := e.store.Charger(context.Background(), "CP-1")
		return err == nil && !ch.Connected
	})
}

func TestAnsweringChargerIsKept(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PingInterval = 200 * time.Millisecond })
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16) // its read loop answers pings
	time.Sleep(1500 * time.Millisecond)       // seven ping intervals
	if !e.srv.Connected("CP-1") {
		t.Fatal("a charger that answers pings was dropped")
	}
	c.call("Heartbeat", map[string]any{})
}
