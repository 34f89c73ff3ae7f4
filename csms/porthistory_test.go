package csms

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/coder/websocket"
)

// portHistory returns the charger's rows of the port history from start,
// leaving out the state before it (connectors with no earlier row).
func (e *env) portHistory(charger string, start time.Time) []chargedesk.PortEvent {
	e.t.Helper()
	var out []chargedesk.PortEvent
	err := e.store.PortHistory(context.Background(), start, time.Now().Add(time.Hour), false, func(ev chargedesk.PortEvent) error {
		if ev.ChargerID == charger && !ev.At.IsZero() {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

type histRow struct {
	connector int
	status    chargedesk.ConnectorStatus
}

func rowsOf(evs []chargedesk.PortEvent) []histRow {
	out := make([]histRow, len(evs))
	for i, ev := range evs {
		out[i] = histRow{ev.ConnectorID, ev.Status}
	}
	return out
}

func sameRows(a, b []histRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A real charger's connection, status changes and disconnection each
// leave one row of the port history (what NEVI uptime is computed from);
// a repeated status, a heartbeat and a reconnection that replaces a live
// connection leave none.
func TestPortHistoryFromACharger(t *testing.T) {
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t, nil)
			e.register("CP-1")
			start := time.Now().Add(-time.Minute)
			c := e.connect("CP-1", p)
			status := func(connector int, st string) {
				t.Helper()
				if p == chargedesk.OCPP16 {
					c.call("StatusNotification", map[string]any{"connectorId": connector, "status": st, "errorCode": "NoError", "timestamp": ts(time.Now())})
					return
				}
				c.call("StatusNotification", map[string]any{"evseId": connector, "connectorId": 1, "connectorStatus": st, "timestamp": ts(time.Now())})
			}
			status(1, "Available")
			status(2, "Available")
			status(1, "Available") // no change
			c.call("Heartbeat", map[string]any{})
			status(1, "Faulted")
			status(1, "Available")
			want := []histRow{
				{chargedesk.PortHistoryConnection, chargedesk.ConnectionOnline},
				{1, chargedesk.StatusAvailable}, {2, chargedesk.StatusAvailable},
				{1, chargedesk.StatusFaulted}, {1, chargedesk.StatusAvailable},
			}
			if got := rowsOf(e.portHistory("CP-1", start)); !sameRows(got, want) {
				t.Fatalf("history while connected %v, want %v", got, want)
			}

			// A second connection replaces the first: the charger never
			// went offline.
			c2 := e.connect("CP-1", p)
			eventually(t, "the first connection closed", func() bool {
				select {
				case <-c.done:
					return true
				default:
					return false
				}
			})
			if got := rowsOf(e.portHistory("CP-1", start)); !sameRows(got, want) {
				t.Fatalf("history after a replacing connection %v, want %v", got, want)
			}

			// The charger goes away: its ports are down from then on.
			before := time.Now()
			c2.ws.Close(websocket.StatusNormalClosure, "bye")
			want = append(want, histRow{chargedesk.PortHistoryConnection, chargedesk.ConnectionOffline})
			eventually(t, "the disconnection in the port history", func() bool {
				return sameRows(rowsOf(e.portHistory("CP-1", start)), want)
			})
			last := e.portHistory("CP-1", start)[len(want)-1]
			if last.At.Before(before.Add(-time.Second)) || last.At.After(time.Now()) {
				t.Fatalf("disconnection at %v, around %v", last.At, before)
			}
			// The report sees the charger offline now.
			r, err := chargedesk.ComputeUptime(context.Background(), e.store, start, time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Ports) != 2 || r.Ports[0].Outage <= 0 || r.Ports[1].Outage <= 0 {
				t.Fatalf("after the disconnection both ports are down: %+v", r.Ports)
			}
		})
	}
}
