package csms

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/peertest"
)

// TestInteropPeers drives chargedesk with OCPP charge points we did not
// write, over real sockets, for both protocol versions: the npm package
// ocpp-rpc in strict mode (it checks every message both ways against the
// official schemas) and github.com/lorenzodonini/ocpp-go. Each runs boot →
// status → authorize → start → meter values → stop, then answers every
// command chargedesk sends.
func TestInteropPeers(t *testing.T) {
	peers := []struct {
		name  string
		start func(testing.TB, peertest.Scenario) peertest.Peer
	}{
		{"ocpp-rpc", peertest.StartOCPPRPC},
		{"ocpp-go", peertest.StartOCPPGo},
	}
	for _, pr := range peers {
		for _, proto := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
			t.Run(pr.name+"/"+string(proto), func(t *testing.T) {
				e := newEnv(t, nil)
				e.register("PEER-1")
				e.putToken("INTEROP-TAG", chargedesk.AuthAccepted)
				p := pr.start(t, peertest.Scenario{URL: e.url, ChargerID: "PEER-1", Password: testPassword, Protocol: proto, IDTag: "INTEROP-TAG", CallTimeout: 10 * time.Second})
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				done, err := p.WaitFor(ctx, peertest.Is(peertest.EventScenarioDone, ""))
				if err != nil {
					t.Fatalf("scenario: %v\nevents: %v", err, p.Events())
				}
				tx, err := e.store.Transaction(ctx, "PEER-1", done.TransactionID)
				if err != nil {
					t.Fatalf("the scenario's transaction %q: %v", done.TransactionID, err)
				}
				if tx.Active() || tx.IDTag != "INTEROP-TAG" || tx.AuthStatus != chargedesk.AuthAccepted {
					t.Fatalf("scenario transaction %+v", tx)
				}
				samples, err := e.store.MeterValues(ctx, "PEER-1", tx.ID, 100)
				if err != nil || len(samples) == 0 {
					t.Fatalf("scenario meter values: %v %v", samples, err)
				}
				ch, _ := e.store.Charger(ctx, "PEER-1")
				if ch.Vendor == "" || ch.BootStatus != chargedesk.RegistrationAccepted || len(ch.Connectors) == 0 {
					t.Fatalf("charger after scenario: %+v", ch)
				}

				send := func(cmd chargedesk.Command) (chargedesk.Result, int) {
					t.Helper()
					seq := len(p.Events())
					cmd.ChargerID, cmd.Timeout = "PEER-1", 10*time.Second
					res, err := e.srv.Send(ctx, cmd)
					if err != nil {
						t.Fatalf("%s: %v", cmd.Kind, err)
					}
					return res, seq
				}
				expect := func(cmd chargedesk.Command, want ...chargedesk.ResultStatus) chargedesk.Result {
					t.Helper()
					res, _ := send(cmd)
					for _, w := range want {
						if res.Status == w {
							return res
						}
					}
					t.Fatalf("%s: %+v, want %v", cmd.Kind, res, want)
					return res
				}

				// Remote start: the peer accepts, then starts a transaction.
				res, seq := send(chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: 1, IDTag: "INTEROP-TAG"})
				if res.Status != chargedesk.ResultAccepted {
					t.Fatalf("remote start: %+v", res)
				}
				startAction := "StartTransaction"
				if proto == chargedesk.OCPP201 {
					startAction = "TransactionEvent"
				}
				if _, err := p.WaitFor(ctx, peertest.After(seq, peertest.Is(peertest.EventResult, startAction))); err != nil {
					t.Fatalf("no transaction after remote start: %v", err)
				}
				var active []*chargedesk.Transaction
				eventually(t, "remote-started transaction", func() bool {
					active, _ = e.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: "PEER-1", ActiveOnly: true})
					return len(active) == 1
				})
				// A transaction's reading on demand: TransactionEvent in
				// 2.0.1, MeterValues (its 1.6 counterpart) in 1.6.
				res, seq = send(chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "TransactionEvent", ConnectorID: 1})
				if res.Status != chargedesk.ResultAccepted {
					t.Fatalf("trigger TransactionEvent during a transaction: %+v", res)
				}
				reading := "MeterValues"
				if proto == chargedesk.OCPP201 {
					reading = "TransactionEvent"
				}
				if _, err := p.WaitFor(ctx, peertest.After(seq, peertest.Is(peertest.EventResult, reading))); err != nil {
					t.Fatalf("triggered TransactionEvent never answered with %s: %v", reading, err)
				}
				res, seq = send(chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: active[0].ID})
				if res.Status != chargedesk.ResultAccepted {
					t.Fatalf("remote stop: %+v", res)
				}
				eventually(t, "remote-stopped transaction", func() bool {
					tx, err := e.store.Transaction(ctx, "PEER-1", active[0].ID)
					return err == nil && !tx.Active()
				})

				for _, trig := range chargedesk.TriggerableMessages {
					if trig == "TransactionEvent" {
						continue // needs a transaction: tested above
					}
					res, seq := send(chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: trig, ConnectorID: 1})
					if res.Status != chargedesk.ResultAccepted {
						t.Fatalf("trigger %s: %+v", trig, res)
					}
					if _, err := p.WaitFor(ctx, peertest.After(seq, peertest.Is(peertest.EventResult, trig))); err != nil {
						t.Fatalf("triggered %s never answered: %v", trig, err)
					}
				}
				expect(chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 1}, chargedesk.ResultUnlocked)
				expect(chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: chargedesk.AvailabilityInoperative}, chargedesk.ResultAccepted, chargedesk.ResultScheduled)
				expect(chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: chargedesk.AvailabilityOperative}, chargedesk.ResultAccepted, chargedesk.ResultScheduled)
				expect(chargedesk.Command{Kind: chargedesk.CmdClearCache}, chargedesk.ResultAccepted)
				expect(chargedesk.Command{Kind: chargedesk.CmdSendLocalList, ListVersion: 5, UpdateType: chargedesk.UpdateFull,
					LocalList: []chargedesk.LocalListEntry{{IDTag: "INTEROP-TAG", Status: chargedesk.AuthAccepted}}}, chargedesk.ResultAccepted)
				if r := expect(chargedesk.Command{Kind: chargedesk.CmdGetLocalListVersion}, chargedesk.ResultAccepted); r.ListVersion != 5 {
					t.Errorf("local list version %d, want 5", r.ListVersion)
				}
				if r := expect(chargedesk.Command{Kind: chargedesk.CmdGetConfiguration, Keys: []string{"HeartbeatInterval"}}, chargedesk.ResultAccepted); len(r.Configuration) != 1 {
					t.Errorf("configuration %+v", r)
				}
				expect(chargedesk.Command{Kind: chargedesk.CmdChangeConfiguration, Key: "HeartbeatInterval", Value: "120"}, chargedesk.ResultAccepted, chargedesk.ResultRebootRequired)
				expect(chargedesk.Command{Kind: chargedesk.CmdDataTransfer, VendorID: "com.example", Data: "ping"}, chargedesk.ResultAccepted, chargedesk.ResultUnknownVendorID, chargedesk.ResultRejected)
				expect(chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft}, chargedesk.ResultAccepted, chargedesk.ResultScheduled)

				for _, ev := range p.Events() {
					if ev.Event == peertest.EventError {
						t.Errorf("peer reported an error: %v", ev)
					}
				}
			})
		}
	}
}
