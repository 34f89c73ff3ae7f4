package sim

import (
	"encoding/json"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// TestSnapshotJSON: the state returned to the API is camelCase, with the
// heartbeat interval in seconds and empty lists as [].
func TestSnapshotJSON(t *testing.T) {
	tests := []struct {
		name string
		snap Snapshot
		want map[string]string // key → JSON value
	}{
		{"fresh charger", offlineCharger(t, chargedesk.OCPP16).State(), map[string]string{
			"id": `"CP-UNIT"`, "protocol": `"ocpp1.6"`, "heartbeatIntervalS": "60", "faults": "[]", "connected": "false",
		}},
		{"zero value", Snapshot{}, map[string]string{"connectors": "[]", "faults": "[]", "heartbeatIntervalS": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.snap)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if string(got[k]) != v {
					t.Errorf("%s = %s, want %s (in %s)", k, got[k], v, b)
				}
			}
			if _, ok := got["HeartbeatInterval"]; ok {
				t.Errorf("Go field name in JSON: %s", b)
			}
			var counters map[string]json.RawMessage
			if err := json.Unmarshal(got["counters"], &counters); err != nil || counters["transactionsStarted"] == nil {
				t.Errorf("counters %s", got["counters"])
			}
		})
	}
	t.Run("connector", func(t *testing.T) {
		b, err := json.Marshal(offlineCharger(t, chargedesk.OCPP16).State().Connectors[0])
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "type", "maxPowerKW", "status", "errorCode", "plugged", "lockEngaged", "operative", "transactionId", "idTag", "energyWh", "powerW"} {
			if _, ok := got[k]; !ok {
				t.Errorf("no %s in %s", k, b)
			}
		}
		if _, ok := got["scheduledOperative"]; ok {
			t.Errorf("unset scheduledOperative in %s", b)
		}
	})
	t.Run("fault", func(t *testing.T) {
		b, _ := json.Marshal(ActiveFault{Name: FaultReaderFault})
		if string(b) != `{"name":"reader_fault","connector":0}` {
			t.Errorf("%s", b)
		}
	})
}
