package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// csmsCommander sends operator commands straight to the test CSMS's
// connections, as the bus would to a real central system.
type csmsCommander struct{ m *testCSMS }

func (c csmsCommander) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if cmd.Kind != chargedesk.CmdGetLocalListVersion {
		return chargedesk.Result{Status: chargedesk.ResultNotSupported}, nil
	}
	ans, err := c.m.call(ctx, cmd.ChargerID, "GetLocalListVersion", struct{}{})
	if err != nil {
		return chargedesk.Result{}, err
	}
	if ans.Type != ocpp.CallResult {
		return chargedesk.Result{Status: chargedesk.ResultCallError, ErrorCode: ans.ErrorCode}, nil
	}
	return chargedesk.Result{Status: chargedesk.ResultAccepted}, nil
}

func TestRunLoad(t *testing.T) {
	tests := []struct {
		name      string
		protocols []chargedesk.Protocol
	}{
		{"ocpp16", nil},
		{"ocpp201", []chargedesk.Protocol{chargedesk.OCPP201}},
		{"mix", []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestCSMS(t)
			const n = 12
			rep, err := RunLoad(t.Context(), LoadConfig{
				URL: m.url, Chargers: n, ConnectRate: 500, Protocols: tt.protocols,
				HeartbeatRate: 200, StatusRate: 100, MeterRate: 100, CommandRate: 50,
				Commander: csmsCommander{m}, Duration: 300 * time.Millisecond, CallTimeout: 5 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Connected != n || rep.ConnectFailures != 0 {
				t.Errorf("connected %d, failures %d; want %d, 0", rep.Connected, rep.ConnectFailures, n)
			}
			if rep.Errors != 0 {
				t.Errorf("errors %d: %v", rep.Errors, rep.ErrorSamples)
			}
			if rep.Boot.Count != n {
				t.Errorf("boot round trips %d, want %d", rep.Boot.Count, n)
			}
			for name, l := range map[string]Latency{"heartbeat": rep.Heartbeat, "status": rep.Status, "meter": rep.Meter, "command": rep.Command} {
				if l.Count == 0 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
					t.Errorf("%s latency %+v: want samples in order", name, l)
				}
			}
			if int64(rep.Command.Count) != rep.CommandsAnswered {
				t.Errorf("commands measured %d, answered by chargers %d", rep.Command.Count, rep.CommandsAnswered)
			}
			if rep.Messages != int64(rep.Heartbeat.Count+rep.Status.Count+rep.Meter.Count) {
				t.Errorf("messages %d do not add up: %+v", rep.Messages, rep)
			}

			// What the CSMS received: boots from every charger, and only
			// the actions of a load run (the schemas were checked there).
			m.mu.Lock()
			defer m.mu.Unlock()
			boots := map[string]bool{}
			for _, c := range m.calls {
				switch c.action {
				case "BootNotification":
					boots[c.charger] = true
				case "Heartbeat", "StatusNotification", "MeterValues":
				default:
					t.Errorf("unexpected %s from %s", c.action, c.charger)
				}
				if !strings.HasPrefix(c.charger, DefaultLoadIDPrefix) {
					t.Errorf("charger id %q lacks the prefix", c.charger)
				}
			}
			if len(boots) != n {
				t.Errorf("%d chargers booted, want %d", len(boots), n)
			}
		})
	}
}

func TestRunLoadRefusedBoot(t *testing.T) {
	m := newTestCSMS(t)
	m.bootStatus = []string{"Rejected"}
	rep, err := RunLoad(t.Context(), LoadConfig{URL: m.url, Chargers: 3, Duration: time.Millisecond, CallTimeout: 5 * time.Second})
	if err == nil {
		t.Fatalf("RunLoad succeeded with every boot rejected: %+v", rep)
	}
	if rep.Connected != 0 || rep.ConnectFailures != 3 || rep.Errors < 3 {
		t.Errorf("report %+v: want 0 connected, 3 failures and errors", rep)
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  LoadConfig
	}{
		{"no url", LoadConfig{Chargers: 1}},
		{"http url", LoadConfig{URL: "http://127.0.0.1:1/ocpp", Chargers: 1}},
		{"no chargers", LoadConfig{URL: "ws://127.0.0.1:1/ocpp"}},
		{"too many chargers", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: MaxLoadChargers + 1}},
		{"negative rate", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: 1, HeartbeatRate: -1}},
		{"commands without commander", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: 1, CommandRate: 1}},
		{"too long", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: 1, Duration: 2 * MaxLoadDuration}},
		{"bad protocol", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: 1, Protocols: []chargedesk.Protocol{"ocpp1.5"}}},
		{"bad prefix", LoadConfig{URL: "ws://127.0.0.1:1/ocpp", Chargers: 1, IDPrefix: "a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunLoad(t.Context(), tt.cfg)
			if chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("RunLoad: %v, want EINVALID", err)
			}
		})
	}
}

func TestLoadPayloadsValidate(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		for kind := range numKinds {
			for status := range 2 {
				t.Run(string(p)+"/"+kindActions[kind], func(t *testing.T) {
					if err := testValidator.Validate(p, kindActions[kind], false, loadPayload(p, kind, status, now)); err != nil {
						t.Error(err)
					}
				})
			}
		}
		for _, action := range []string{"GetLocalListVersion", "TriggerMessage", "ChangeAvailability", "ClearCache"} {
			t.Run(string(p)+"/answer/"+action, func(t *testing.T) {
				if err := testValidator.Validate(p, action, true, []byte(loadAnswer(p, action))); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
