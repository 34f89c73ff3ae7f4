package sim

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

var protocols = []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201}

func baseConfig(m *testCSMS, id string, p chargedesk.Protocol) ChargerConfig {
	return ChargerConfig{ID: id, Password: "secret-password-123", Protocol: p, URL: m.url,
		Vendor: "TestVolt", Model: "TV-2", Firmware: "1.0.0",
		Connectors: []ConnectorSpec{{Type: CCS1, MaxPowerKW: 150}, {Type: J1772, MaxPowerKW: 7.2}},
		Settings:   map[string]string{keyMeterValueSampleInterval: "1", keyConnectionTimeOut: "30"}}
}

// statusOf reads the status field of a StatusNotification in either version.
func statusOf(p map[string]any) string {
	if s, ok := p["status"].(string); ok {
		return s
	}
	s, _ := p["connectorStatus"].(string)
	return s
}

func connectorOf(p map[string]any) int {
	if v, ok := p["evseId"].(float64); ok {
		return int(v)
	}
	v, _ := p["connectorId"].(float64)
	return int(v)
}

func TestBootHeartbeatAndStatuses(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.password = "secret-password-123"
			c := startCharger(t, baseConfig(m, "CP-BOOT", p))
			s := waitState(ctx, t, c, "boot accepted", func(s Snapshot) bool { return s.Connected })
			if s.BootStatus != chargedesk.RegistrationAccepted {
				t.Errorf("boot status %q", s.BootStatus)
			}
			boot := m.waitCall(ctx, t, "CP-BOOT", "BootNotification", 1, nil)
			if p == chargedesk.OCPP201 && boot["reason"] != "PowerUp" {
				t.Errorf("boot reason %v", boot["reason"])
			}
			for _, id := range []int{1, 2} {
				m.waitCall(ctx, t, "CP-BOOT", "StatusNotification", 1, func(q map[string]any) bool {
					return connectorOf(q) == id && statusOf(q) == "Available"
				})
			}
			m.waitCall(ctx, t, "CP-BOOT", "Heartbeat", 1, nil)
			if got := c.State().HeartbeatInterval.Seconds(); got != 1 {
				t.Errorf("heartbeat interval %vs, want the boot answer's 1s", got)
			}
		})
	}
}

func TestBootPendingThenAccepted(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.bootStatus = []string{"Pending", "Rejected", "Accepted"}
	c := startCharger(t, baseConfig(m, "CP-PEND", chargedesk.OCPP16))
	waitState(ctx, t, c, "accepted", func(s Snapshot) bool { return s.Connected })
	acts := m.actions("CP-PEND")
	if n := countOf(acts, "BootNotification"); n != 3 {
		t.Errorf("%d boots, want 3: %v", n, acts)
	}
	// No status is reported before the boot is accepted.
	first := slices.Index(acts, "StatusNotification")
	if first >= 0 && first < slices.Index(acts, "BootNotification")+2 {
		t.Errorf("status sent before acceptance: %v", acts)
	}
}

// TestPendingIntervalIsNotTheHeartbeat: the interval of a Pending answer
// is the wait before the next boot, not the heartbeat interval.
func TestPendingIntervalIsNotTheHeartbeat(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.bootStatus = []string{"Pending"}
	m.bootInterval = []int{1}
	c := startCharger(t, baseConfig(m, "CP-PENDIV", chargedesk.OCPP16))
	m.waitCall(ctx, t, "CP-PENDIV", "BootNotification", 2, nil)
	if s := c.State(); s.HeartbeatInterval != time.Minute || s.BootStatus != chargedesk.RegistrationPending {
		t.Errorf("heartbeat interval %v, boot %s; want the default 1m0s while Pending", s.HeartbeatInterval, s.BootStatus)
	}
}

// TestTriggeredBootWhilePending: a CSMS that answered Pending triggers a
// BootNotification and accepts it; the charger is then accepted at once
// (not after the Pending interval) with the new heartbeat interval.
func TestTriggeredBootWhilePending(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.bootStatus = []string{"Pending", "Accepted"}
			m.bootInterval = []int{300, 7}
			id := "CP-TRIGBOOT"
			c := startCharger(t, baseConfig(m, id, p))
			m.waitCall(ctx, t, id, "BootNotification", 1, nil)
			waitState(ctx, t, c, "pending", func(s Snapshot) bool { return s.BootStatus == chargedesk.RegistrationPending })
			if ans := m.mustCall(ctx, t, id, "TriggerMessage", map[string]any{"requestedMessage": "BootNotification"}); ans["status"] != "Accepted" {
				t.Fatalf("trigger while Pending: %v", ans)
			}
			s := waitState(ctx, t, c, "accepted by the triggered boot", func(s Snapshot) bool { return s.Connected })
			if s.HeartbeatInterval != 7*time.Second {
				t.Errorf("heartbeat interval %v, want the triggered boot's 7s", s.HeartbeatInterval)
			}
			// Accepted, it reports its connectors as after any boot.
			m.waitCall(ctx, t, id, "StatusNotification", 1, nil)
		})
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestWrongPasswordIsRefused(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.password = "the-right-password"
	c := startCharger(t, baseConfig(m, "CP-PW", chargedesk.OCPP16))
	waitState(ctx, t, c, "two failed connects", func(s Snapshot) bool { return s.Counters.ConnectFailures >= 2 })
	if c.State().Connected || m.connected("CP-PW") {
		t.Error("connected with a wrong password")
	}
}

func TestLocalSession(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["CARD-OK"] = "Accepted"
			m.tags["CARD-BAD"] = "Blocked"
			id := "CP-LOCAL"
			c := startCharger(t, baseConfig(m, id, p))
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })

			if err := c.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			st, err := c.TapCard(ctx, 1, "CARD-BAD")
			if err != nil || st != "Blocked" {
				t.Fatalf("blocked card: %q, %v", st, err)
			}
			if s := c.State().Connector(1); s.TransactionID != "" {
				t.Fatal("a blocked card started a transaction")
			}
			st, err = c.TapCard(ctx, 1, "CARD-OK")
			if err != nil || st != AuthAccepted {
				t.Fatalf("good card: %q, %v", st, err)
			}
			s := waitState(ctx, t, c, "transaction id", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
			cs := s.Connector(1)
			if cs.Status != chargedesk.StatusCharging || !cs.LockEngaged || cs.IDTag != "CARD-OK" {
				t.Errorf("connector after start: %+v", cs)
			}
			if p == chargedesk.OCPP16 {
				m.waitCall(ctx, t, id, "StartTransaction", 1, func(q map[string]any) bool { return q["idTag"] == "CARD-OK" })
				m.waitCall(ctx, t, id, "StatusNotification", 1, func(q map[string]any) bool { return statusOf(q) == "Charging" })
				mv := m.waitCall(ctx, t, id, "MeterValues", 1, nil)
				if mv["transactionId"] == nil {
					t.Errorf("meter values without transactionId: %v", mv)
				}
			} else {
				m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool {
					return q["eventType"] == "Started" && q["seqNo"] == 0.0
				})
				m.waitCall(ctx, t, id, "StatusNotification", 1, func(q map[string]any) bool { return statusOf(q) == "Occupied" })
				m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool {
					return q["eventType"] == "Updated" && q["triggerReason"] == "MeterValuePeriodic" && q["seqNo"] == 1.0
				})
			}
			if err := c.Unplug(ctx, 1); err != ErrCableLocked {
				t.Errorf("unplug during a locked transaction: %v, want ErrCableLocked", err)
			}
			if err := c.StopLocal(ctx, 1); err != nil {
				t.Fatal(err)
			}
			s = c.State()
			if cs := s.Connector(1); cs.TransactionID != "" || cs.LockEngaged || cs.EnergyWh <= 0 {
				t.Errorf("connector after stop: %+v", cs)
			}
			if p == chargedesk.OCPP16 {
				stop := m.waitCall(ctx, t, id, "StopTransaction", 1, nil)
				if stop["reason"] != "Local" || stop["meterStop"].(float64) <= 0 {
					t.Errorf("stop: %v", stop)
				}
				m.waitCall(ctx, t, id, "StatusNotification", 1, func(q map[string]any) bool { return statusOf(q) == "Finishing" })
			} else {
				end := m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool { return q["eventType"] == "Ended" })
				info := end["transactionInfo"].(map[string]any)
				if info["stoppedReason"] != "Local" || end["triggerReason"] != "StopAuthorized" {
					t.Errorf("ended: %v", end)
				}
			}
			if err := c.Unplug(ctx, 1); err != nil {
				t.Fatal(err)
			}
			waitState(ctx, t, c, "available", func(s Snapshot) bool {
				return s.Connector(1).Reported == chargedesk.StatusAvailable
			})
		})
	}
}

func TestJ1772UnplugEndsTransaction(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.tags["T1"] = "Accepted"
	c := startCharger(t, baseConfig(m, "CP-J", chargedesk.OCPP16))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	if _, err := c.TapCard(ctx, 2, "T1"); err != nil {
		t.Fatal(err)
	}
	if got := c.State().Connector(2).Status; got != chargedesk.StatusPreparing {
		t.Errorf("authorized without cable: %s, want Preparing", got)
	}
	if err := c.PlugIn(ctx, 2); err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, c, "tx", func(s Snapshot) bool { return s.Connector(2).TransactionID != "" })
	if err := c.Unplug(ctx, 2); err != nil {
		t.Fatal(err)
	}
	stop := m.waitCall(ctx, t, "CP-J", "StopTransaction", 1, nil)
	if stop["reason"] != "EVDisconnected" {
		t.Errorf("reason %v", stop["reason"])
	}
}

func TestRemoteStartStop(t *testing.T) {
	for _, p := range protocols {
		for _, authFirst := range []bool{false, true} {
			name := string(p) + "/authorize_first=" + map[bool]string{false: "false", true: "true"}[authFirst]
			t.Run(name, func(t *testing.T) {
				ctx := testCtx(t)
				m := newTestCSMS(t)
				m.tags["APP-1"] = "Accepted"
				id := "CP-REMOTE"
				cfg := baseConfig(m, id, p)
				cfg.Settings[keyAuthorizeRemoteTxRequests] = map[bool]string{false: "false", true: "true"}[authFirst]
				c := startCharger(t, cfg)
				waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
				if err := c.PlugIn(ctx, 1); err != nil {
					t.Fatal(err)
				}
				var ans map[string]any
				if p == chargedesk.OCPP16 {
					ans = m.mustCall(ctx, t, id, "RemoteStartTransaction", map[string]any{"connectorId": 1, "idTag": "APP-1"})
				} else {
					ans = m.mustCall(ctx, t, id, "RequestStartTransaction", map[string]any{"evseId": 1, "remoteStartId": 77,
						"idToken": map[string]any{"idToken": "APP-1", "type": "Central"}})
				}
				if ans["status"] != "Accepted" {
					t.Fatalf("remote start answered %v", ans)
				}
				s := waitState(ctx, t, c, "tx", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
				acts := m.actions(id)
				start := "StartTransaction"
				if p == chargedesk.OCPP201 {
					start = "TransactionEvent"
					ev := m.waitCall(ctx, t, id, "TransactionEvent", 1, nil)
					info := ev["transactionInfo"].(map[string]any)
					if ev["triggerReason"] != "RemoteStart" || info["remoteStartId"] != 77.0 {
						t.Errorf("started event: %v", ev)
					}
				} else {
					m.waitCall(ctx, t, id, "StartTransaction", 1, nil)
				}
				acts = m.actions(id)
				auth := slices.Index(acts, "Authorize")
				if authFirst && (auth < 0 || auth > slices.Index(acts, start)) {
					t.Errorf("AuthorizeRemoteTxRequests=true: want Authorize before %s: %v", start, acts)
				}
				if !authFirst && auth >= 0 {
					t.Errorf("AuthorizeRemoteTxRequests=false: unexpected Authorize: %v", acts)
				}
				txid := s.Connector(1).TransactionID
				if p == chargedesk.OCPP16 {
					n := 0
					_ = json.Unmarshal([]byte(txid), &n)
					if got := m.mustCall(ctx, t, id, "RemoteStopTransaction", map[string]any{"transactionId": n + 1000}); got["status"] != "Rejected" {
						t.Errorf("stop of unknown tx: %v", got)
					}
					ans = m.mustCall(ctx, t, id, "RemoteStopTransaction", map[string]any{"transactionId": n})
				} else {
					ans = m.mustCall(ctx, t, id, "RequestStopTransaction", map[string]any{"transactionId": txid})
				}
				if ans["status"] != "Accepted" {
					t.Fatalf("remote stop answered %v", ans)
				}
				waitState(ctx, t, c, "stopped", func(s Snapshot) bool { return s.Connector(1).TransactionID == "" })
				if p == chargedesk.OCPP16 {
					if stop := m.waitCall(ctx, t, id, "StopTransaction", 1, nil); stop["reason"] != "Remote" {
						t.Errorf("stop reason %v", stop["reason"])
					}
				} else {
					end := m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool { return q["eventType"] == "Ended" })
					if end["triggerReason"] != "RemoteStop" {
						t.Errorf("ended: %v", end)
					}
				}
			})
		}
	}
}

func TestResetStopsAndReboots(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["T1"] = "Accepted"
			id := "CP-RESET"
			c := startCharger(t, baseConfig(m, id, p))
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			if err := c.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := c.TapCard(ctx, 1, "T1"); err != nil {
				t.Fatal(err)
			}
			waitState(ctx, t, c, "tx", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
			typ := "Soft"
			if p == chargedesk.OCPP201 {
				typ = "Immediate"
			}
			if ans := m.mustCall(ctx, t, id, "Reset", map[string]any{"type": typ}); ans["status"] != "Accepted" {
				t.Fatalf("reset: %v", ans)
			}
			s := waitState(ctx, t, c, "second boot", func(s Snapshot) bool { return s.Counters.Boots >= 2 && s.Connected })
			if s.Connector(1).TransactionID != "" {
				t.Error("transaction survived the reset")
			}
			if p == chargedesk.OCPP16 {
				if stop := m.waitCall(ctx, t, id, "StopTransaction", 1, nil); stop["reason"] != "SoftReset" {
					t.Errorf("stop reason %v", stop["reason"])
				}
			} else {
				end := m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool { return q["eventType"] == "Ended" })
				if end["transactionInfo"].(map[string]any)["stoppedReason"] != "ImmediateReset" {
					t.Errorf("ended: %v", end)
				}
				if b := m.waitCall(ctx, t, id, "BootNotification", 2, nil); b["reason"] != "RemoteReset" {
					t.Errorf("second boot reason %v", b["reason"])
				}
			}
			if s.Counters.Connects < 2 {
				t.Errorf("connects %d", s.Counters.Connects)
			}
		})
	}
}

func TestUnlockConnector(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["T1"] = "Accepted"
			id := "CP-UNLOCK"
			c := startCharger(t, baseConfig(m, id, p))
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			_ = c.PlugIn(ctx, 1)
			if _, err := c.TapCard(ctx, 1, "T1"); err != nil {
				t.Fatal(err)
			}
			waitState(ctx, t, c, "tx", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
			var req map[string]any
			if p == chargedesk.OCPP16 {
				req = map[string]any{"connectorId": 1}
			} else {
				req = map[string]any{"evseId": 1, "connectorId": 1}
			}
			ans := m.mustCall(ctx, t, id, "UnlockConnector", req)
			if p == chargedesk.OCPP16 {
				if ans["status"] != "Unlocked" {
					t.Errorf("1.6 unlock during tx: %v", ans)
				}
				if stop := m.waitCall(ctx, t, id, "StopTransaction", 1, nil); stop["reason"] != "UnlockCommand" {
					t.Errorf("stop reason %v", stop["reason"])
				}
				if cs := c.State().Connector(1); cs.TransactionID != "" || cs.LockEngaged {
					t.Errorf("after unlock: %+v", cs)
				}
				if bad := m.mustCall(ctx, t, id, "UnlockConnector", map[string]any{"connectorId": 9}); bad["status"] != "NotSupported" {
					t.Errorf("unknown connector: %v", bad)
				}
				return
			}
			if ans["status"] != "OngoingAuthorizedTransaction" {
				t.Errorf("2.0.1 unlock during tx: %v", ans)
			}
			if cs := c.State().Connector(1); cs.TransactionID == "" || !cs.LockEngaged {
				t.Errorf("2.0.1 unlock changed the transaction: %+v", cs)
			}
			if err := c.StopLocal(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if ans := m.mustCall(ctx, t, id, "UnlockConnector", req); ans["status"] != "Unlocked" {
				t.Errorf("unlock after stop: %v", ans)
			}
			if bad := m.mustCall(ctx, t, id, "UnlockConnector", map[string]any{"evseId": 9, "connectorId": 1}); bad["status"] != "UnknownConnector" {
				t.Errorf("unknown evse: %v", bad)
			}
		})
	}
}

// frameLog records frames in order.
type frameLog struct {
	mu     sync.Mutex
	frames []Frame
}

func (l *frameLog) add(f Frame) {
	l.mu.Lock()
	l.frames = append(l.frames, f)
	l.mu.Unlock()
}

func (l *frameLog) list() []Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Frame(nil), l.frames...)
}

func TestTriggerMessageAnswersFirst(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			id := "CP-TRIG"
			log := &frameLog{}
			cfg := baseConfig(m, id, p)
			cfg.OnFrame = log.add
			c := startCharger(t, cfg)
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			// Let the boot's reports finish (connector 2 is reported last).
			m.waitCall(ctx, t, id, "StatusNotification", 1, func(q map[string]any) bool { return connectorOf(q) == 2 })
			req := map[string]any{"requestedMessage": "StatusNotification", "connectorId": 2}
			if p == chargedesk.OCPP201 {
				req = map[string]any{"requestedMessage": "StatusNotification", "evse": map[string]any{"id": 2, "connectorId": 1}}
			}
			if ans := m.mustCall(ctx, t, id, "TriggerMessage", req); ans["status"] != "Accepted" {
				t.Fatalf("trigger: %v", ans)
			}
			// The first StatusNotification after the command comes after
			// the command's answer.
			for {
				ch := c.Changed()
				frames := log.list()
				callIdx, answered, sent := -1, -1, -1
				// A frame is logged once written, so a boot report the
				// CSMS already answered may be logged after cmd-1: those
				// are not the triggered one.
				early := map[string]bool{}
				for i, f := range frames {
					switch {
					case f.Dir == DirIn && f.Message.ID == "cmd-1":
						callIdx = i
					case callIdx < 0 && f.Dir == DirIn && f.Message.Type == ocpp.CallResult:
						early[f.Message.ID] = true
					case f.Dir == DirOut && f.Message.Type == ocpp.CallResult && f.Message.ID == "cmd-1":
						answered = i
					case callIdx >= 0 && sent < 0 && f.Dir == DirOut && f.Message.Action == "StatusNotification" && !early[f.Message.ID]:
						sent = i
					}
				}
				if sent >= 0 {
					if answered < 0 || sent < answered {
						t.Errorf("StatusNotification (frame %d) before the TriggerMessage answer (frame %d)", sent, answered)
					}
					break
				}
				select {
				case <-ch:
				case <-ctx.Done():
					t.Fatal("no triggered StatusNotification")
				}
			}
			for _, msg := range []string{"Heartbeat", "BootNotification", "MeterValues"} {
				want := "Accepted"
				if msg == "BootNotification" && p == chargedesk.OCPP201 {
					want = "Rejected" // F06.FR.17: the boot is already accepted
				}
				if ans := m.mustCall(ctx, t, id, "TriggerMessage", map[string]any{"requestedMessage": msg}); ans["status"] != want {
					t.Errorf("trigger %s: %v, want %s", msg, ans, want)
				}
				if want == "Accepted" {
					m.waitCall(ctx, t, id, msg, map[string]int{"Heartbeat": 1, "BootNotification": 2, "MeterValues": 1}[msg], nil)
				}
			}
			if n := countOf(m.actions(id), "BootNotification"); p == chargedesk.OCPP201 && n != 1 {
				t.Errorf("%d BootNotification after a refused trigger, want 1", n)
			}
		})
	}
}

func TestChangeAvailability(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["T1"] = "Accepted"
			id := "CP-AVAIL"
			c := startCharger(t, baseConfig(m, id, p))
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			_ = c.PlugIn(ctx, 1)
			if _, err := c.TapCard(ctx, 1, "T1"); err != nil {
				t.Fatal(err)
			}
			waitState(ctx, t, c, "tx", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
			inop := func(conn int) map[string]any {
				if p == chargedesk.OCPP16 {
					return map[string]any{"connectorId": conn, "type": "Inoperative"}
				}
				return map[string]any{"operationalStatus": "Inoperative", "evse": map[string]any{"id": conn}}
			}
			if ans := m.mustCall(ctx, t, id, "ChangeAvailability", inop(1)); ans["status"] != "Scheduled" {
				t.Errorf("during tx: %v, want Scheduled", ans)
			}
			if ans := m.mustCall(ctx, t, id, "ChangeAvailability", inop(2)); ans["status"] != "Accepted" {
				t.Errorf("idle: %v, want Accepted", ans)
			}
			if err := c.StopLocal(ctx, 1); err != nil {
				t.Fatal(err)
			}
			_ = c.Unplug(ctx, 1)
			waitState(ctx, t, c, "both unavailable", func(s Snapshot) bool {
				return s.Connector(1).Reported == chargedesk.StatusUnavailable && s.Connector(2).Reported == chargedesk.StatusUnavailable
			})
			// Inoperative persists across a reboot.
			typ := map[chargedesk.Protocol]string{chargedesk.OCPP16: "Hard", chargedesk.OCPP201: "Immediate"}[p]
			m.mustCall(ctx, t, id, "Reset", map[string]any{"type": typ})
			waitState(ctx, t, c, "rebooted", func(s Snapshot) bool { return s.Counters.Boots >= 2 && s.Connected })
			m.waitCall(ctx, t, id, "BootNotification", 2, nil)
			waitState(ctx, t, c, "reported after reboot", func(s Snapshot) bool {
				return s.Connector(1).Reported == chargedesk.StatusUnavailable && s.Connector(2).Reported == chargedesk.StatusUnavailable
			})
			if _, err := c.TapCard(ctx, 1, "T1"); err != ErrUnavailable {
				t.Errorf("tap on an inoperative connector: %v", err)
			}
		})
	}
}

func TestLocalListAndCache(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			id := "CP-LIST"
			cfg := baseConfig(m, id, p)
			cfg.Settings[keyLocalPreAuthorize] = "true"
			c := startCharger(t, cfg)
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			list := func(version int, typ string, entries ...[2]string) map[string]any {
				var l []map[string]any
				for _, e := range entries {
					item := map[string]any{}
					if p == chargedesk.OCPP16 {
						item["idTag"] = e[0]
						if e[1] != "" {
							item["idTagInfo"] = map[string]any{"status": e[1]}
						}
					} else {
						item["idToken"] = map[string]any{"idToken": e[0], "type": "ISO14443"}
						if e[1] != "" {
							item["idTokenInfo"] = map[string]any{"status": e[1]}
						}
					}
					l = append(l, item)
				}
				req := map[string]any{"updateType": typ, "localAuthorizationList": l}
				if p == chargedesk.OCPP16 {
					req["listVersion"] = version
				} else {
					req["versionNumber"] = version
				}
				return m.mustCall(ctx, t, id, "SendLocalList", req)
			}
			tests := []struct {
				name    string
				version int
				typ     string
				entries [][2]string
				want    string
			}{
				{"full", 3, "Full", [][2]string{{"LOCAL-1", "Accepted"}, {"LOCAL-2", "Accepted"}}, "Accepted"},
				{"differential same version", 3, "Differential", [][2]string{{"LOCAL-3", "Accepted"}}, "VersionMismatch"},
				{"differential older version", 2, "Differential", [][2]string{{"LOCAL-3", "Accepted"}}, "VersionMismatch"},
				{"differential add and remove", 4, "Differential", [][2]string{{"LOCAL-3", "Accepted"}, {"LOCAL-2", ""}}, "Accepted"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if got := list(tt.version, tt.typ, tt.entries...); got["status"] != tt.want {
						t.Errorf("got %v, want %s", got, tt.want)
					}
				})
			}
			ver := m.mustCall(ctx, t, id, "GetLocalListVersion", map[string]any{})
			key := map[chargedesk.Protocol]string{chargedesk.OCPP16: "listVersion", chargedesk.OCPP201: "versionNumber"}[p]
			if ver[key] != 4.0 {
				t.Errorf("version %v, want 4", ver)
			}
			if s := c.State(); s.LocalListSize != 2 {
				t.Errorf("list size %d, want 2 (LOCAL-1, LOCAL-3)", s.LocalListSize)
			}
			// LocalPreAuthorize: a listed token starts without Authorize.
			if st, err := c.TapCard(ctx, 1, "LOCAL-3"); err != nil || st != AuthAccepted {
				t.Fatalf("tap LOCAL-3: %q %v", st, err)
			}
			if n := countOf(m.actions(id), "Authorize"); n != 0 {
				t.Errorf("%d Authorize sent for a pre-authorized token", n)
			}
			// A token the CSMS answers goes to the cache; ClearCache empties it.
			m.tags["CACHED"] = "Accepted"
			if _, err := c.TapCard(ctx, 2, "CACHED"); err != nil {
				t.Fatal(err)
			}
			if c.State().CacheSize != 1 {
				t.Errorf("cache size %d", c.State().CacheSize)
			}
			if ans := m.mustCall(ctx, t, id, "ClearCache", map[string]any{}); ans["status"] != "Accepted" {
				t.Errorf("clear cache: %v", ans)
			}
			if c.State().CacheSize != 0 {
				t.Error("cache not cleared")
			}
		})
	}
}

func TestConfiguration16(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	id := "CP-CONF"
	c := startCharger(t, baseConfig(m, id, chargedesk.OCPP16))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	got := m.mustCall(ctx, t, id, "GetConfiguration", map[string]any{"key": []string{"HeartbeatInterval", "NoSuchKey", "AuthorizeRemoteTxRequests"}})
	keys := got["configurationKey"].([]any)
	if len(keys) != 2 || got["unknownKey"].([]any)[0] != "NoSuchKey" {
		t.Errorf("get: %v", got)
	}
	all := m.mustCall(ctx, t, id, "GetConfiguration", map[string]any{})
	if n := len(all["configurationKey"].([]any)); n < 10 {
		t.Errorf("all keys: %d", n)
	}
	tests := []struct{ key, value, want string }{
		{"HeartbeatInterval", "2", "Accepted"},
		{"HeartbeatInterval", "soon", "Rejected"},
		{"AuthorizeRemoteTxRequests", "true", "Accepted"},
		{"AuthorizeRemoteTxRequests", "maybe", "Rejected"},
		{"NumberOfConnectors", "9", "Rejected"},
		{"NoSuchKey", "1", "NotSupported"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			if ans := m.mustCall(ctx, t, id, "ChangeConfiguration", map[string]any{"key": tt.key, "value": tt.value}); ans["status"] != tt.want {
				t.Errorf("got %v, want %s", ans, tt.want)
			}
		})
	}
	if c.State().HeartbeatInterval.Seconds() != 2 {
		t.Errorf("heartbeat interval not applied: %v", c.State().HeartbeatInterval)
	}
	if ans := m.mustCall(ctx, t, id, "DataTransfer", map[string]any{"vendorId": "acme"}); ans["status"] != "UnknownVendorId" {
		t.Errorf("data transfer: %v", ans)
	}
	ans, err := m.call(ctx, id, "ReserveNow", map[string]any{"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "X", "reservationId": 1})
	if err != nil || ans.Type != ocpp.CallError || ans.ErrorCode != "NotSupported" {
		t.Errorf("unsupported action: %+v %v", ans, err)
	}
}

func TestVariables201(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	id := "CP-VARS"
	c := startCharger(t, baseConfig(m, id, chargedesk.OCPP201))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	get := m.mustCall(ctx, t, id, "GetVariables", map[string]any{"getVariableData": []any{
		map[string]any{"component": map[string]any{"name": "OCPPCommCtrlr"}, "variable": map[string]any{"name": "HeartbeatInterval"}},
		map[string]any{"component": map[string]any{"name": "OCPPCommCtrlr"}, "variable": map[string]any{"name": "Nope"}},
		map[string]any{"component": map[string]any{"name": "NoCtrlr"}, "variable": map[string]any{"name": "Enabled"}},
		map[string]any{"component": map[string]any{"name": "AuthCtrlr"}, "variable": map[string]any{"name": "AuthorizeRemoteStart"}, "attributeType": "Target"},
	}})
	res := get["getVariableResult"].([]any)
	want := []string{"Accepted", "UnknownVariable", "UnknownComponent", "NotSupportedAttributeType"}
	for i, w := range want {
		if r := res[i].(map[string]any); r["attributeStatus"] != w {
			t.Errorf("result %d: %v, want %s", i, r, w)
		}
	}
	if v := res[0].(map[string]any)["attributeValue"]; v != "1" {
		t.Errorf("HeartbeatInterval %v, want 1", v)
	}
	set := m.mustCall(ctx, t, id, "SetVariables", map[string]any{"setVariableData": []any{
		map[string]any{"component": map[string]any{"name": "AuthCtrlr"}, "variable": map[string]any{"name": "AuthorizeRemoteStart"}, "attributeValue": "true"},
		map[string]any{"component": map[string]any{"name": "TxCtrlr"}, "variable": map[string]any{"name": "EVConnectionTimeOut"}, "attributeValue": "-5"},
	}})
	sres := set["setVariableResult"].([]any)
	if sres[0].(map[string]any)["attributeStatus"] != "Accepted" || sres[1].(map[string]any)["attributeStatus"] != "Rejected" {
		t.Errorf("set: %v", sres)
	}
	c.mu.Lock()
	v := c.settings[keyAuthorizeRemoteTxRequests]
	c.mu.Unlock()
	if v != "true" {
		t.Errorf("AuthorizeRemoteStart not applied")
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	id := "CP-DROP"
	c := startCharger(t, baseConfig(m, id, chargedesk.OCPP201))
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	m.dropAll()
	s := waitState(ctx, t, c, "reconnected", func(s Snapshot) bool { return s.Connected && s.Counters.Connects >= 2 })
	if s.Counters.Disconnects < 1 {
		t.Errorf("disconnects %d", s.Counters.Disconnects)
	}
	m.waitCall(ctx, t, id, "BootNotification", 2, nil)
}

func TestOfflineTransactionMessagesAreQueued(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.tags["T1"] = "Accepted"
	id := "CP-QUEUE"
	cfg := baseConfig(m, id, chargedesk.OCPP16)
	cfg.Settings[keyLocalAuthorizeOffline] = "true"
	c := NewCharger(cfg)
	// Before Run the charger is off line: a token known in the local list
	// starts a transaction whose StartTransaction waits for the boot.
	c.SetLocalList(1, map[string]string{"T1": AuthAccepted})
	if err := c.PlugIn(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := c.TapCard(ctx, 1, "T1"); err != nil || st != AuthAccepted {
		t.Fatalf("offline tap: %q %v", st, err)
	}
	if err := c.StopLocal(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cfg.Validator = testValidator
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	stop := m.waitCall(ctx, t, id, "StopTransaction", 1, nil)
	acts := m.actions(id)
	if slices.Index(acts, "StartTransaction") > slices.Index(acts, "StopTransaction") {
		t.Errorf("queued messages out of order: %v", acts)
	}
	if stop["transactionId"] != 1.0 {
		t.Errorf("stop names transaction %v, want the id the CSMS gave (1)", stop["transactionId"])
	}
}

func TestCallTimeout(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.silent["Heartbeat"] = true
	cfg := baseConfig(m, "CP-TIMEOUT", chargedesk.OCPP16)
	cfg.CallTimeout = 200 * time.Millisecond
	c := startCharger(t, cfg)
	waitState(ctx, t, c, "a timeout", func(s Snapshot) bool { return s.Counters.Timeouts >= 1 })
	if !c.State().Connected {
		t.Error("a timed-out CALL dropped the connection")
	}
}
