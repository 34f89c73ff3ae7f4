package sim

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// TestTriggeredStationStatus16: a triggered StatusNotification for the
// whole 1.6 charger reports connector 0 as it is (Unavailable once every
// connector is), not a fixed Available.
func TestTriggeredStationStatus16(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	id := "CP-STATION"
	c := startCharger(t, baseConfig(m, id, chargedesk.OCPP16))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	if ans := m.mustCall(ctx, t, id, "ChangeAvailability", map[string]any{"connectorId": 0, "type": "Inoperative"}); ans["status"] != "Accepted" {
		t.Fatalf("change availability: %v", ans)
	}
	if ans := m.mustCall(ctx, t, id, "TriggerMessage", map[string]any{"requestedMessage": "StatusNotification"}); ans["status"] != "Accepted" {
		t.Fatalf("trigger: %v", ans)
	}
	// The trigger's report is the last for connector 0 (the change may
	// report it too, before or after the trigger was sent: timing): once
	// two have come, the last must say Unavailable; a trigger reporting a
	// fixed Available would leave Available last.
	m.waitCall(ctx, t, id, "StatusNotification", 2, func(q map[string]any) bool { return connectorOf(q) == 0 })
	lastStation := func() string {
		last := ""
		for _, r := range m.received() {
			var q map[string]any
			if r.charger == id && r.action == "StatusNotification" && json.Unmarshal(r.payload, &q) == nil && connectorOf(q) == 0 {
				last = statusOf(q)
			}
		}
		return last
	}
	waitState(ctx, t, c, "connector 0 reported Unavailable last", func(Snapshot) bool { return lastStation() == "Unavailable" })
}

// TestLocalListEntriesVariable201: LocalAuthListCtrlr.Entries is the
// number of tokens in the list now, and read only.
func TestLocalListEntriesVariable201(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	id := "CP-ENTRIES"
	c := startCharger(t, baseConfig(m, id, chargedesk.OCPP201))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	c.SetLocalList(3, map[string]string{"A": AuthAccepted, "B": AuthBlocked})
	entries := map[string]any{"component": map[string]any{"name": "LocalAuthListCtrlr"}, "variable": map[string]any{"name": "Entries"}}
	ans := m.mustCall(ctx, t, id, "GetVariables", map[string]any{"getVariableData": []any{entries}})
	res := ans["getVariableResult"].([]any)[0].(map[string]any)
	if res["attributeStatus"] != "Accepted" || res["attributeValue"] != "2" {
		t.Errorf("Entries: %v, want Accepted 2", res)
	}
	set := map[string]any{"component": entries["component"], "variable": entries["variable"], "attributeValue": "9"}
	ans = m.mustCall(ctx, t, id, "SetVariables", map[string]any{"setVariableData": []any{set}})
	if res := ans["setVariableResult"].([]any)[0].(map[string]any); res["attributeStatus"] != "Rejected" {
		t.Errorf("setting Entries: %v, want Rejected", res)
	}
}

// TestFleetStatsCountsOnlyDelivering: a stale transaction (0 W, status
// Finishing) is not counted as charging; a session delivering energy is.
func TestFleetStatsCountsOnlyDelivering(t *testing.T) {
	ctx := context.Background()
	spec := func(id string) ChargerSpec {
		return ChargerSpec{ID: id, Protocol: chargedesk.OCPP16, Connectors: []ConnectorSpec{{Type: CCS1, MaxPowerKW: 150}}}
	}
	f, err := NewFleet(FleetConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: []ChargerSpec{spec("CP-STALE"), spec("CP-LIVE")},
		Validator: testValidator, Tune: func(c *ChargerConfig) { c.Settings = map[string]string{keyLocalPreAuthorize: "true"} }})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Charger("CP-STALE").InjectFault(ctx, 1, FaultStaleTransaction, FaultOptions{IDTag: "OLD"}); err != nil {
		t.Fatal(err)
	}
	live := f.Charger("CP-LIVE")
	live.SetLocalList(1, map[string]string{"T1": AuthAccepted})
	if err := live.PlugIn(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := live.TapCard(ctx, 1, "T1"); err != nil || st != AuthAccepted {
		t.Fatalf("tap: %q %v", st, err)
	}
	if st := f.Stats(); st.Charging != 1 || st.Counters.TransactionsStarted != 2 {
		t.Errorf("charging %d of %d transactions, want 1 of 2", st.Charging, st.Counters.TransactionsStarted)
	}
}
