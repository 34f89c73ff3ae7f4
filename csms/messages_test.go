package csms

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

func boot(c *client) {
	c.t.Helper()
	if c.proto == chargedesk.OCPP16 {
		c.call("BootNotification", map[string]any{"chargePointVendor": "Acme", "chargePointModel": "DC-150", "firmwareVersion": "1.2.3", "chargePointSerialNumber": "SN1"})
		return
	}
	c.call("BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "Acme", "model": "DC-150", "firmwareVersion": "1.2.3", "serialNumber": "SN1"}})
}

func TestBootHeartbeatStatus16(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.HeartbeatInterval = 120 * time.Second })
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	resp := decode[v16.BootNotificationResponse](t, c.call("BootNotification", map[string]any{"chargePointVendor": "Acme", "chargePointModel": "DC-150", "firmwareVersion": "1.2.3"}))
	if resp.Status != v16.RegistrationStatusAccepted || resp.Interval != 120 {
		t.Fatalf("boot answer %+v", resp)
	}
	hb := decode[v16.HeartbeatResponse](t, c.call("Heartbeat", map[string]any{}))
	if time.Since(hb.CurrentTime.Time) > time.Minute {
		t.Fatalf("heartbeat time %v", hb.CurrentTime)
	}
	at := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
	c.call("StatusNotification", map[string]any{"connectorId": 1, "status": "Faulted", "errorCode": "ConnectorLockFailure", "info": "lock stuck", "vendorErrorCode": "E42", "timestamp": ts(at)})
	c.call("StatusNotification", map[string]any{"connectorId": 2, "status": "Available", "errorCode": "NoError"})

	ch, err := e.store.Charger(context.Background(), "CP-1")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Vendor != "Acme" || ch.Model != "DC-150" || ch.FirmwareVersion != "1.2.3" || ch.BootStatus != chargedesk.RegistrationAccepted || ch.LastBootAt.IsZero() {
		t.Fatalf("charger after boot: %+v", ch)
	}
	k := ch.Connector(1)
	if k == nil || k.Status != chargedesk.StatusFaulted || k.ErrorCode != "ConnectorLockFailure" || k.Info != "lock stuck" || k.VendorErrorCode != "E42" || !k.StatusAt.Equal(at) {
		t.Fatalf("connector 1: %+v", k)
	}
	if k := ch.Connector(2); k == nil || k.Status != chargedesk.StatusAvailable {
		t.Fatalf("connector 2: %+v", k)
	}
	eventually(t, "heartbeat flushed", func() bool {
		ch, err := e.store.Charger(context.Background(), "CP-1")
		return err == nil && !ch.LastHeartbeatAt.IsZero()
	})
}

func TestAuthorize(t *testing.T) {
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t, nil)
			e.register("CP-1")
			e.putToken("GOOD", chargedesk.AuthAccepted)
			e.putToken("BLOCKED", chargedesk.AuthBlocked)
			e.putToken("INVALID", chargedesk.AuthInvalid)
			if err := e.store.PutToken(context.Background(), &chargedesk.Token{IDTag: "OLD", Status: chargedesk.AuthAccepted, ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			c := e.connect("CP-1", p)
			boot(c)
			unknown := "Invalid" // 1.6 has no Unknown
			if p == chargedesk.OCPP201 {
				unknown = "Unknown"
			}
			tests := []struct{ tag, want string }{
				{"GOOD", "Accepted"}, {"BLOCKED", "Blocked"}, {"INVALID", "Invalid"}, {"OLD", "Expired"}, {"NOBODY", unknown},
			}
			for _, tt := range tests {
				t.Run(tt.tag, func(t *testing.T) {
					var got string
					if p == chargedesk.OCPP16 {
						got = string(decode[v16.AuthorizeResponse](t, c.call("Authorize", map[string]any{"idTag": tt.tag})).IDTagInfo.Status)
					} else {
						got = string(decode[v201.AuthorizeResponse](t, c.call("Authorize", map[string]any{"idToken": map[string]any{"idToken": tt.tag, "type": "ISO14443"}})).IDTokenInfo.Status)
					}
					if got != tt.want {
						t.Fatalf("verdict %s, want %s", got, tt.want)
					}
				})
			}
		})
	}
}

func TestTransaction16(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	e.register("CP-2")
	e.putToken("GOOD", chargedesk.AuthAccepted)
	e.putToken("BLOCKED", chargedesk.AuthBlocked)
	c := e.connect("CP-1", chargedesk.OCPP16)
	boot(c)
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	startReq := map[string]any{"connectorId": 1, "idTag": "GOOD", "meterStart": 1000, "timestamp": ts(start)}
	st := decode[v16.StartTransactionResponse](t, c.call("StartTransaction", startReq))
	if st.IDTagInfo.Status != "Accepted" || st.TransactionID <= 0 {
		t.Fatalf("start answer %+v", st)
	}
	id := strconv.Itoa(st.TransactionID)
	// The charger did not get our answer and sends the same start again: it
	// gets the same transaction, not a second one.
	again := decode[v16.StartTransactionResponse](t, c.call("StartTransaction", startReq))
	if again.TransactionID != st.TransactionID || again.IDTagInfo.Status != "Accepted" {
		t.Fatalf("retried start answer %+v, want transaction %d Accepted", again, st.TransactionID)
	}
	tx, err := e.store.Transaction(context.Background(), "CP-1", id)
	if err != nil || !tx.Active() || tx.IDTag != "GOOD" || tx.MeterStartWh != 1000 || !tx.StartedAt.Equal(start) {
		t.Fatalf("stored transaction %+v %v", tx, err)
	}

	// Tapping the same card on the charger that runs its session is a stop,
	// not a concurrent transaction.
	if got := decode[v16.AuthorizeResponse](t, c.call("Authorize", map[string]any{"idTag": "GOOD"})).IDTagInfo.Status; got != "Accepted" {
		t.Fatalf("authorize on own charger: %s", got)
	}

	// The same card on another charger is a concurrent transaction; the
	// start is still answered with an id.
	c2 := e.connect("CP-2", chargedesk.OCPP16)
	boot(c2)
	con := decode[v16.StartTransactionResponse](t, c2.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": ts(time.Now())}))
	if con.IDTagInfo.Status != "ConcurrentTx" || con.TransactionID == st.TransactionID || con.TransactionID <= 0 {
		t.Fatalf("concurrent start answer %+v", con)
	}
	// A blocked card still gets a transaction id: the verdict is in idTagInfo.
	bl := decode[v16.StartTransactionResponse](t, c2.call("StartTransaction", map[string]any{"connectorId": 2, "idTag": "BLOCKED", "meterStart": 0, "timestamp": ts(time.Now())}))
	if bl.IDTagInfo.Status != "Blocked" || bl.TransactionID <= 0 {
		t.Fatalf("blocked start answer %+v", bl)
	}

	mvAt := start.Add(30 * time.Second)
	c.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": st.TransactionID, "meterValue": []any{map[string]any{
		"timestamp": ts(mvAt), "sampledValue": []any{
			map[string]any{"value": "2.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
			map[string]any{"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
		}}}})
	tx, _ = e.store.Transaction(context.Background(), "CP-1", id)
	if tx.LastMeterWh != 2500 || !tx.LastMeterAt.Equal(mvAt) {
		t.Fatalf("after meter values: last meter %d Wh at %v", tx.LastMeterWh, tx.LastMeterAt)
	}
	stopAt := start.Add(time.Minute)
	stop := map[string]any{"transactionId": st.TransactionID, "meterStop": 3000, "timestamp": ts(stopAt), "idTag": "GOOD", "reason": "EVDisconnected"}
	sp := decode[v16.StopTransactionResponse](t, c.call("StopTransaction", stop))
	if sp.IDTagInfo == nil || sp.IDTagInfo.Status != "Accepted" {
		t.Fatalf("stop answer %+v", sp)
	}
	c.call("StopTransaction", stop) // a retried stop changes nothing
	tx, _ = e.store.Transaction(context.Background(), "CP-1", id)
	if tx.Active() || tx.MeterStopWh != 3000 || tx.StopReason != "EVDisconnected" || !tx.StoppedAt.Equal(stopAt) {
		t.Fatalf("stopped transaction %+v", tx)
	}
	// The start refused as ConcurrentTx on CP-2 is still open (its
	// charger has not stopped it yet): it is no session of the card's, so
	// the card starts again once its real session ended.
	if again := decode[v16.StartTransactionResponse](t, c.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "GOOD", "meterStart": 3000, "timestamp": ts(time.Now())})); again.IDTagInfo.Status != "Accepted" {
		t.Fatalf("start after the session ended, beside a refused one still open: %+v", again)
	}
	samples, err := e.store.MeterValues(context.Background(), "CP-1", id, 100)
	if err != nil || len(samples) != 2 {
		t.Fatalf("meter values %v %v", samples, err)
	}
	// A stop for a transaction chargedesk never saw is acknowledged all the
	// same: refusing it would stall the charger's queue.
	c.call("StopTransaction", map[string]any{"transactionId": 987654, "meterStop": 1, "timestamp": ts(time.Now())})
}

func TestTransaction201(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	e.putToken("GOOD", chargedesk.AuthAccepted)
	c := e.connect("CP-1", chargedesk.OCPP201)
	boot(c)
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	mv := func(at time.Time, wh float64) []any {
		return []any{map[string]any{"timestamp": ts(at), "sampledValue": []any{map[string]any{"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": map[string]any{"unit": "Wh"}}}}}
	}
	tok := map[string]any{"idToken": "GOOD", "type": "ISO14443"}
	// Plug in first: the transaction starts before it is authorized.
	c.call("TransactionEvent", map[string]any{"eventType": "Started", "timestamp": ts(start), "triggerReason": "CablePluggedIn", "seqNo": 0,
		"transactionInfo": map[string]any{"transactionId": "tx-201-a", "chargingState": "EVConnected"}, "evse": map[string]any{"id": 2, "connectorId": 1}, "meterValue": mv(start, 500)})
	r := decode[v201.TransactionEventResponse](t, c.call("TransactionEvent", map[string]any{"eventType": "Updated", "timestamp": ts(start.Add(time.Second)), "triggerReason": "Authorized", "seqNo": 1,
		"transactionInfo": map[string]any{"transactionId": "tx-201-a", "chargingState": "Charging"}, "idToken": tok}))
	if r.IDTokenInfo == nil || r.IDTokenInfo.Status != "Accepted" {
		t.Fatalf("authorized event answer %+v", r)
	}
	// Events queued offline arrive late and out of order: seqNo 3 before 2.
	c.call("TransactionEvent", map[string]any{"eventType": "Updated", "timestamp": ts(start.Add(20 * time.Second)), "triggerReason": "MeterValuePeriodic", "seqNo": 3, "offline": true,
		"transactionInfo": map[string]any{"transactionId": "tx-201-a", "chargingState": "SuspendedEV"}, "meterValue": mv(start.Add(20*time.Second), 1500)})
	c.call("TransactionEvent", map[string]any{"eventType": "Updated", "timestamp": ts(start.Add(10 * time.Second)), "triggerReason": "MeterValuePeriodic", "seqNo": 2, "offline": true,
		"transactionInfo": map[string]any{"transactionId": "tx-201-a", "chargingState": "Charging"}, "meterValue": mv(start.Add(10*time.Second), 1000)})
	tx, err := e.store.Transaction(context.Background(), "CP-1", "tx-201-a")
	if err != nil {
		t.Fatal(err)
	}
	if tx.ConnectorID != 2 || tx.IDTag != "GOOD" || tx.AuthStatus != chargedesk.AuthAccepted || tx.MeterStartWh != 500 || tx.SeqNo != 3 || tx.ChargingState != "SuspendedEV" || tx.LastMeterWh != 1500 {
		t.Fatalf("transaction after updates: %+v", tx)
	}
	c.call("TransactionEvent", map[string]any{"eventType": "Ended", "timestamp": ts(start.Add(time.Minute)), "triggerReason": "EVDeparted", "seqNo": 4,
		"transactionInfo": map[string]any{"transactionId": "tx-201-a", "stoppedReason": "EVDisconnected"}, "meterValue": mv(start.Add(time.Minute), 2000)})
	tx, _ = e.store.Transaction(context.Background(), "CP-1", "tx-201-a")
	if tx.Active() || tx.StopReason != "EVDisconnected" || tx.MeterStopWh != 2000 {
		t.Fatalf("ended transaction %+v", tx)
	}
	samples, _ := e.store.MeterValues(context.Background(), "CP-1", "tx-201-a", 100)
	if len(samples) != 4 {
		t.Fatalf("%d meter samples, want 4", len(samples))
	}
	// A transaction seen first by its Ended event (its earlier events were
	// lost) is recorded, ended.
	c.call("TransactionEvent", map[string]any{"eventType": "Ended", "timestamp": ts(time.Now()), "triggerReason": "StopAuthorized", "seqNo": 7,
		"transactionInfo": map[string]any{"transactionId": "tx-201-b", "stoppedReason": "Local"}, "idToken": tok})
	tx, err = e.store.Transaction(context.Background(), "CP-1", "tx-201-b")
	if err != nil || tx.Active() {
		t.Fatalf("transaction seen only at its end: %+v %v", tx, err)
	}
}

func TestOtherChargerMessages(t *testing.T) {
	tests := []struct {
		proto   chargedesk.Protocol
		action  string
		payload map[string]any
		check   func(*chargedesk.Charger) bool
	}{
		{chargedesk.OCPP16, "DiagnosticsStatusNotification", map[string]any{"status": "Uploading"}, func(c *chargedesk.Charger) bool { return c.DiagnosticsStatus == "Uploading" }},
		{chargedesk.OCPP16, "FirmwareStatusNotification", map[string]any{"status": "Downloading"}, func(c *chargedesk.Charger) bool { return c.FirmwareStatus == "Downloading" }},
		{chargedesk.OCPP16, "DataTransfer", map[string]any{"vendorId": "com.acme"}, nil},
		{chargedesk.OCPP201, "FirmwareStatusNotification", map[string]any{"status": "Installed"}, func(c *chargedesk.Charger) bool { return c.FirmwareStatus == "Installed" }},
		{chargedesk.OCPP201, "LogStatusNotification", map[string]any{"status": "Uploaded"}, func(c *chargedesk.Charger) bool { return c.DiagnosticsStatus == "Uploaded" }},
		{chargedesk.OCPP201, "SecurityEventNotification", map[string]any{"type": "FirmwareUpdated", "timestamp": ts(time.Now())}, nil},
		{chargedesk.OCPP201, "NotifyEvent", map[string]any{"generatedAt": ts(time.Now()), "seqNo": 0, "eventData": []any{map[string]any{
			"eventId": 1, "timestamp": ts(time.Now()), "trigger": "Delta", "actualValue": "Faulted", "eventNotificationType": "HardWiredNotification",
			"component": map[string]any{"name": "Connector"}, "variable": map[string]any{"name": "AvailabilityState"}}}}, nil},
		{chargedesk.OCPP201, "NotifyReport", map[string]any{"requestId": 1, "generatedAt": ts(time.Now()), "seqNo": 0}, nil},
		{chargedesk.OCPP201, "MeterValues", map[string]any{"evseId": 1, "meterValue": []any{map[string]any{"timestamp": ts(time.Now()), "sampledValue": []any{map[string]any{"value": 12.5}}}}}, nil},
		{chargedesk.OCPP201, "DataTransfer", map[string]any{"vendorId": "com.acme", "data": map[string]any{"x": 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto)+"/"+tt.action, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register("CP-1")
			c := e.connect("CP-1", tt.proto)
			boot(c)
			resp := c.call(tt.action, tt.payload)
			if tt.action == "DataTransfer" && string(resp) != `{"status":"UnknownVendorId"}` {
				t.Fatalf("DataTransfer answer %s", resp)
			}
			if tt.check != nil {
				ch, err := e.store.Charger(context.Background(), "CP-1")
				if err != nil || !tt.check(ch) {
					t.Fatalf("charger after %s: %+v %v", tt.action, ch, err)
				}
			}
		})
	}
}
