package csms

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chargedesk/chargedesk"
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
// system over a loopback WebSocket (the charger's side included).
func BenchmarkHeartbeat(b *testing.B) {
	e := newEnv(b, nil)
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
}
