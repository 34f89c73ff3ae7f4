package sim

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// faultEnv is one charger against the test CSMS.
type faultEnv struct {
	ctx context.Context
	m   *testCSMS
	c   *Charger
	p   chargedesk.Protocol
	id  string
}

func newFaultEnv(t *testing.T, p chargedesk.Protocol, edit func(*ChargerConfig)) *faultEnv {
	t.Helper()
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.tags["DRIVER-1"] = "Accepted"
	m.tags["OLD-DRIVER"] = "Accepted"
	id := "CP-FAULT"
	cfg := baseConfig(m, id, p)
	cfg.CommDropShort = 300 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	c := startCharger(t, cfg)
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	return &faultEnv{ctx: ctx, m: m, c: c, p: p, id: id}
}

func (e *faultEnv) remoteStart(t *testing.T, conn int, tag string) string {
	t.Helper()
	var ans map[string]any
	if e.p == chargedesk.OCPP16 {
		ans = e.m.mustCall(e.ctx, t, e.id, "RemoteStartTransaction", map[string]any{"connectorId": conn, "idTag": tag})
	} else {
		ans = e.m.mustCall(e.ctx, t, e.id, "RequestStartTransaction", map[string]any{"evseId": conn, "remoteStartId": 5,
			"idToken": map[string]any{"idToken": tag, "type": "Central"}})
	}
	return ans["status"].(string)
}

func (e *faultEnv) remoteStop(t *testing.T, txid string) string {
	t.Helper()
	if e.p == chargedesk.OCPP16 {
		n, _ := strconv.Atoi(txid)
		return e.m.mustCall(e.ctx, t, e.id, "RemoteStopTransaction", map[string]any{"transactionId": n})["status"].(string)
	}
	return e.m.mustCall(e.ctx, t, e.id, "RequestStopTransaction", map[string]any{"transactionId": txid})["status"].(string)
}

func (e *faultEnv) reset(t *testing.T) {
	t.Helper()
	typ := map[chargedesk.Protocol]string{chargedesk.OCPP16: "Soft", chargedesk.OCPP201: "Immediate"}[e.p]
	boots := e.c.State().Counters.Boots
	if st := e.m.mustCall(e.ctx, t, e.id, "Reset", map[string]any{"type": typ})["status"]; st != "Accepted" {
		t.Fatalf("reset: %v", st)
	}
	waitState(e.ctx, t, e.c, "reboot", func(s Snapshot) bool { return s.Counters.Boots > boots && s.Connected })
}

func (e *faultEnv) unlock(t *testing.T, conn int) string {
	t.Helper()
	req := map[string]any{"connectorId": conn}
	if e.p == chargedesk.OCPP201 {
		req = map[string]any{"evseId": conn, "connectorId": 1}
	}
	return e.m.mustCall(e.ctx, t, e.id, "UnlockConnector", req)["status"].(string)
}

func (e *faultEnv) waitTx(t *testing.T, conn int) string {
	t.Helper()
	return waitState(e.ctx, t, e.c, "transaction", func(s Snapshot) bool { return s.Connector(conn).TransactionID != "" }).Connector(conn).TransactionID
}

func (e *faultEnv) waitReported(t *testing.T, conn int, st chargedesk.ConnectorStatus) {
	t.Helper()
	waitState(e.ctx, t, e.c, "reported "+string(st), func(s Snapshot) bool { return s.Connector(conn).Reported == st })
}

func (e *faultEnv) inject(t *testing.T, conn int, f Fault, opts FaultOptions) {
	t.Helper()
	if err := e.c.InjectFault(e.ctx, conn, f, opts); err != nil {
		t.Fatalf("inject %s: %v", f, err)
	}
}

func occupiedOr(p chargedesk.Protocol, s16 chargedesk.ConnectorStatus) chargedesk.ConnectorStatus {
	if p == chargedesk.OCPP16 {
		return s16
	}
	return chargedesk.StatusOccupied
}

func TestFaults(t *testing.T) {
	tests := []struct {
		fault Fault
		run   func(t *testing.T, e *faultEnv)
	}{
		{FaultStaleTransaction, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultStaleTransaction, FaultOptions{IDTag: "OLD-DRIVER"})
			stale := e.waitTx(t, 1)
			e.waitReported(t, 1, occupiedOr(e.p, chargedesk.StatusFinishing))
			if e.remoteStart(t, 1, "DRIVER-1") != "Rejected" {
				t.Error("remote start accepted on a connector with a stale transaction")
			}
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil {
				t.Fatal(err)
			}
			if got := e.c.State().Connector(1).TransactionID; got != stale {
				t.Fatalf("tap replaced the stale transaction: %s", got)
			}
			if e.remoteStop(t, stale) != "Accepted" {
				t.Fatal("stale transaction not stoppable")
			}
			e.waitReported(t, 1, chargedesk.StatusAvailable)
			_ = e.c.PlugIn(e.ctx, 1)
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("remote start after the stop")
			}
			if e.waitTx(t, 1) == stale {
				t.Error("same transaction")
			}
		}},
		{FaultControllerHung, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultControllerHung, FaultOptions{})
			e.waitReported(t, 1, occupiedOr(e.p, chargedesk.StatusPreparing))
			_ = e.c.PlugIn(e.ctx, 1)
			if st, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil || st != AuthAccepted {
				t.Fatalf("tap: %q %v", st, err)
			}
			if e.c.State().Connector(1).TransactionID != "" {
				t.Fatal("a hung controller started")
			}
			if e.remoteStart(t, 1, "DRIVER-1") != "Rejected" {
				t.Error("a hung controller accepted a remote start")
			}
			e.reset(t)
			if len(e.c.State().Faults) != 0 {
				t.Errorf("faults after soft reset: %v", e.c.State().Faults)
			}
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("remote start after reset")
			}
			e.waitTx(t, 1)
		}},
		{FaultHandshakeTimeout, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultHandshakeTimeout, FaultOptions{})
			_ = e.c.PlugIn(e.ctx, 1)
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); !errors.Is(err, ErrHandshake) {
				t.Fatalf("first start: %v, want ErrHandshake", err)
			}
			if cs := e.c.State().Connector(1); cs.ErrorCode != "EVCommunicationError" || cs.TransactionID != "" {
				t.Errorf("after handshake failure: %+v", cs)
			}
			if e.p == chargedesk.OCPP16 {
				e.m.waitCall(e.ctx, t, e.id, "StatusNotification", 1, func(q map[string]any) bool { return q["errorCode"] == "EVCommunicationError" })
			}
			// The driver re-seats the cable; a remote start works.
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			_ = e.c.PlugIn(e.ctx, 1)
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("remote start")
			}
			e.waitTx(t, 1)
		}},
		{FaultVehicleSchedule, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultVehicleSchedule, FaultOptions{})
			_ = e.c.PlugIn(e.ctx, 1)
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil {
				t.Fatal(err)
			}
			e.waitTx(t, 1)
			if cs := e.c.State().Connector(1); cs.Status != chargedesk.StatusSuspendedEV || cs.PowerW != 0 {
				t.Errorf("with a vehicle schedule: %+v", cs)
			}
			if e.p == chargedesk.OCPP16 {
				e.waitReported(t, 1, chargedesk.StatusSuspendedEV)
			}
			if err := e.c.ClearFault(e.ctx, 1, FaultVehicleSchedule); err != nil {
				t.Fatal(err)
			}
			if cs := e.c.State().Connector(1); cs.Status != chargedesk.StatusCharging || cs.PowerW == 0 {
				t.Errorf("after the driver disabled the schedule: %+v", cs)
			}
		}},
		{FaultRemoteStartIgnored, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultRemoteStartIgnored, FaultOptions{})
			_ = e.c.PlugIn(e.ctx, 1)
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("the faulty firmware answers Accepted")
			}
			e.m.mustCall(e.ctx, t, e.id, "TriggerMessage", map[string]any{"requestedMessage": "Heartbeat"})
			e.m.waitCall(e.ctx, t, e.id, "Heartbeat", 1, nil)
			if e.c.State().Connector(1).TransactionID != "" {
				t.Fatal("started despite the fault")
			}
			e.reset(t)
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("remote start after reset")
			}
			e.waitTx(t, 1)
		}},
		{FaultHardwareFaultPower, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultHardwareFaultPower, FaultOptions{})
			e.waitReported(t, 1, chargedesk.StatusFaulted)
			if e.p == chargedesk.OCPP16 {
				e.m.waitCall(e.ctx, t, e.id, "StatusNotification", 1, func(q map[string]any) bool {
					return q["status"] == "Faulted" && q["errorCode"] == "InternalError" && q["vendorErrorCode"] != nil
				})
			}
			e.reset(t)
			e.waitReported(t, 1, chargedesk.StatusFaulted)
			if e.remoteStart(t, 1, "DRIVER-1") != "Rejected" {
				t.Error("a faulted connector accepted a remote start")
			}
		}},
		{FaultStaleStatus, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultStaleStatus, FaultOptions{})
			e.waitReported(t, 1, chargedesk.StatusUnavailable)
			if st := e.c.State().Connector(1).Status; st != chargedesk.StatusAvailable {
				t.Errorf("real status %s", st)
			}
			req := map[string]any{"requestedMessage": "StatusNotification", "connectorId": 1}
			if e.p == chargedesk.OCPP201 {
				req = map[string]any{"requestedMessage": "StatusNotification", "evse": map[string]any{"id": 1, "connectorId": 1}}
			}
			e.m.mustCall(e.ctx, t, e.id, "TriggerMessage", req)
			e.waitReported(t, 1, chargedesk.StatusAvailable)
		}},
		{FaultCommDropShort, func(t *testing.T, e *faultEnv) {
			e.inject(t, 0, FaultCommDropShort, FaultOptions{})
			waitState(e.ctx, t, e.c, "back on line", func(s Snapshot) bool { return s.Connected && s.Counters.Connects >= 2 })
		}},
		{FaultCommDropLong, func(t *testing.T, e *faultEnv) {
			e.inject(t, 0, FaultCommDropLong, FaultOptions{})
			waitState(e.ctx, t, e.c, "off line", func(s Snapshot) bool { return !s.Connected && s.Counters.Disconnects >= 1 })
			if _, err := e.m.call(e.ctx, e.id, "Heartbeat", map[string]any{}); err == nil {
				t.Error("a command reached a charger in an outage")
			}
			if err := e.c.ClearFault(e.ctx, 0, FaultCommDropLong); err != nil {
				t.Fatal(err)
			}
			waitState(e.ctx, t, e.c, "back", func(s Snapshot) bool { return s.Connected })
		}},
		{FaultLeftInoperative, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultLeftInoperative, FaultOptions{})
			e.waitReported(t, 1, chargedesk.StatusUnavailable)
			req := map[string]any{"connectorId": 1, "type": "Operative"}
			if e.p == chargedesk.OCPP201 {
				req = map[string]any{"operationalStatus": "Operative", "evse": map[string]any{"id": 1}}
			}
			if st := e.m.mustCall(e.ctx, t, e.id, "ChangeAvailability", req)["status"]; st != "Accepted" {
				t.Errorf("change availability: %v", st)
			}
			e.waitReported(t, 1, chargedesk.StatusAvailable)
		}},
		{FaultLockAfterSession, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultLockAfterSession, FaultOptions{})
			_ = e.c.PlugIn(e.ctx, 1)
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil {
				t.Fatal(err)
			}
			e.waitTx(t, 1)
			if err := e.c.StopLocal(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
				t.Fatalf("unplug after session: %v, want ErrCableLocked", err)
			}
			if cs := e.c.State().Connector(1); cs.ErrorCode != "ConnectorLockFailure" {
				t.Errorf("error code %q", cs.ErrorCode)
			}
			if st := e.unlock(t, 1); st != "Unlocked" {
				t.Fatalf("unlock: %s", st)
			}
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitReported(t, 1, chargedesk.StatusAvailable)
		}},
		{FaultOwnSessionRunning, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultOwnSessionRunning, FaultOptions{IDTag: "DRIVER-1"})
			txid := e.waitTx(t, 1)
			if e.c.State().Connector(1).IDTag != "DRIVER-1" {
				t.Error("wrong owner")
			}
			if e.remoteStop(t, txid) != "Accepted" {
				t.Fatal("stop")
			}
			waitState(e.ctx, t, e.c, "stopped", func(s Snapshot) bool { return s.Connector(1).TransactionID == "" })
			if st := e.unlock(t, 1); st != "Unlocked" {
				t.Fatalf("unlock: %s", st)
			}
		}},
		{FaultSomeoneElsesSession, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultSomeoneElsesSession, FaultOptions{IDTag: "OLD-DRIVER"})
			e.waitTx(t, 1)
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); !errors.Is(err, ErrConnectorBusy) {
				t.Errorf("another driver's tap: %v", err)
			}
		}},
		{FaultLockMechanical, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultLockMechanical, FaultOptions{})
			for range 2 {
				if st := e.unlock(t, 1); st != "UnlockFailed" {
					t.Fatalf("unlock: %s", st)
				}
			}
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
				t.Errorf("unplug: %v", err)
			}
		}},
		{FaultVehicleSideLock, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultVehicleSideLock, FaultOptions{})
			if st := e.unlock(t, 1); st != "Unlocked" {
				t.Fatalf("unlock: %s", st)
			}
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrVehicleLock) {
				t.Fatalf("unplug: %v, want ErrVehicleLock", err)
			}
			if err := e.c.ReleaseVehicleLock(1); err != nil {
				t.Fatal(err)
			}
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
		}},
		{FaultLocalListStale, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultLocalListStale, FaultOptions{IDTag: "DRIVER-1"})
			if st, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil || st != AuthInvalid {
				t.Fatalf("tap with a stale list: %q %v", st, err)
			}
			if n := countOf(e.m.actions(e.id), "Authorize"); n != 0 {
				t.Errorf("%d Authorize sent", n)
			}
			entry := map[string]any{"idTag": "DRIVER-1", "idTagInfo": map[string]any{"status": "Accepted"}}
			req := map[string]any{"listVersion": 1, "updateType": "Differential", "localAuthorizationList": []any{entry}}
			if e.p == chargedesk.OCPP201 {
				entry = map[string]any{"idToken": map[string]any{"idToken": "DRIVER-1", "type": "ISO14443"}, "idTokenInfo": map[string]any{"status": "Accepted"}}
				req = map[string]any{"versionNumber": 1, "updateType": "Differential", "localAuthorizationList": []any{entry}}
			}
			if st := e.m.mustCall(e.ctx, t, e.id, "SendLocalList", req)["status"]; st != "Accepted" {
				t.Fatalf("send local list: %v", st)
			}
			_ = e.c.PlugIn(e.ctx, 1)
			if st, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil || st != AuthAccepted {
				t.Fatalf("tap after the update: %q %v", st, err)
			}
			e.waitTx(t, 1)
		}},
		{FaultReaderFault, func(t *testing.T, e *faultEnv) {
			e.inject(t, 0, FaultReaderFault, FaultOptions{})
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); !errors.Is(err, ErrReaderFault) {
				t.Fatalf("tap: %v", err)
			}
			if n := countOf(e.m.actions(e.id), "Authorize"); n != 0 {
				t.Errorf("%d Authorize sent with a broken reader", n)
			}
			_ = e.c.PlugIn(e.ctx, 1)
			if e.remoteStart(t, 1, "DRIVER-1") != "Accepted" {
				t.Fatal("remote start")
			}
			e.waitTx(t, 1)
		}},
		{FaultSlowCharging, func(t *testing.T, e *faultEnv) {
			e.inject(t, 1, FaultSlowCharging, FaultOptions{})
			_ = e.c.PlugIn(e.ctx, 1)
			if _, err := e.c.TapCard(e.ctx, 1, "DRIVER-1"); err != nil {
				t.Fatal(err)
			}
			e.waitTx(t, 1)
			cs := e.c.State().Connector(1)
			if cs.PowerW <= 0 || cs.PowerW > cs.MaxPowerKW*1000*0.2 {
				t.Errorf("power %v W of %v kW", cs.PowerW, cs.MaxPowerKW)
			}
		}},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(string(p)+"/"+string(tt.fault), func(t *testing.T) {
				t.Parallel()
				tt.run(t, newFaultEnv(t, p, nil))
			})
		}
	}
}

func TestAccountFaultsAreNotChargerFaults(t *testing.T) {
	c := NewCharger(ChargerConfig{ID: "CP-X", Validator: testValidator})
	for _, f := range []Fault{FaultCardExpired, FaultTransientDecline, FaultAppSyncDelay, FaultDuplicateHolds,
		FaultHardDecline, FaultTokenBlocked, FaultTokenExpired, FaultTokenUnknown} {
		t.Run(string(f), func(t *testing.T) {
			if err := c.InjectFault(context.Background(), 1, f, FaultOptions{}); !errors.Is(err, ErrNotChargerFault) {
				t.Errorf("got %v, want ErrNotChargerFault", err)
			}
		})
	}
	if err := c.InjectFault(context.Background(), 1, "no_such_fault", FaultOptions{}); err == nil {
		t.Error("unknown fault accepted")
	}
}

func TestFaultInjectedBeforeRun(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			cfg := baseConfig(m, "CP-PRE", p)
			c := NewCharger(cfg)
			if err := c.InjectFault(ctx, 2, FaultLeftInoperative, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			cfg.Validator = testValidator
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = c.Run(runCtx) }()
			defer func() { cancel(); <-done }()
			m.waitCall(ctx, t, "CP-PRE", "StatusNotification", 1, func(q map[string]any) bool {
				return connectorOf(q) == 2 && statusOf(q) == "Unavailable"
			})
		})
	}
}
