package csms

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
)

// BenchmarkCommandRoundTrip measures one command through the central system
// to a charger on a loopback WebSocket and back: build and validate the CALL,
// write it, the charger's answer, validate and map it.
func BenchmarkCommandRoundTrip(b *testing.B) {
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		b.Run(string(p), func(b *testing.B) {
			e := newEnv(b, nil)
			e.register("CP-B")
			c := e.connect("CP-B", p)
			go func() {
				for m := range c.calls {
					c.send(string(ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: json.RawMessage(`{"status":"Unlocked"}`)}.Encode()))
				}
			}()
			cmd := chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-B", ConnectorID: 1}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := e.srv.Send(ctx, cmd)
				if err != nil || res.Status != chargedesk.ResultUnlocked {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}

// BenchmarkHeartbeat measures a charger's Heartbeat answered by the central
// system over a loopback WebSocket (the charger's side included): without a
// bus, and with an embedded NATS bus that every event goes to (as in
// `chargedesk serve`), with nobody subscribed to events or with one
// subscriber of all chargers' events (a console page open).
func BenchmarkHeartbeat(b *testing.B) {
	for _, sc := range []struct {
		name           string
		bus, subscribe bool
	}{{"no bus", false, false}, {"bus", true, false}, {"bus subscribed", true, true}} {
		b.Run(sc.name, func(b *testing.B) {
			var bus *natsbus.Bus
			if sc.bus {
				var err error
				bus, err = natsbus.Open(context.Background(), natsbus.Config{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = bus.Close() })
				if sc.subscribe {
					if _, err := bus.SubscribeEvents("", func(chargedesk.Event) {}); err != nil {
						b.Fatal(err)
					}
				}
			}
			e := newEnv(b, func(c *Config) {
				if bus != nil {
					c.Bus = bus
				}
			})
			e.register("CP-H")
			c := e.connect("CP-H", chargedesk.OCPP16)
			boot(c)
			frame := `[2,"hb","Heartbeat",{}]`
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.send(frame)
				<-c.in
			}
		})
	}
}
