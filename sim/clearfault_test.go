package sim

import (
	"context"
	"errors"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// offlineCharger is a charger that is never run: its state changes at
// once, with nothing sent.
func offlineCharger(t *testing.T, p chargedesk.Protocol, conns ...ConnectorSpec) *Charger {
	t.Helper()
	return NewCharger(ChargerConfig{ID: "CP-UNIT", Protocol: p, Validator: testValidator, Connectors: conns,
		Settings: map[string]string{keyLocalPreAuthorize: "true"}})
}

// TestClearFaultUndoesOnlyItsOwnEffect: clearing a fault removes exactly
// what it put on the connector and leaves the other faults' errors.
func TestClearFaultUndoesOnlyItsOwnEffect(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setup     func(t *testing.T, c *Charger)
		clear     Fault
		wantError string
		wantState chargedesk.ConnectorStatus
		operative bool
	}{
		{"handshake_timeout after it fired", func(t *testing.T, c *Charger) {
			if err := c.InjectFault(ctx, 1, FaultHandshakeTimeout, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			c.SetLocalList(1, map[string]string{"T1": AuthAccepted})
			if err := c.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := c.TapCard(ctx, 1, "T1"); !errors.Is(err, ErrHandshake) {
				t.Fatalf("tap: %v, want ErrHandshake", err)
			}
			if got := c.State().Connector(1).ErrorCode; got != "EVCommunicationError" {
				t.Fatalf("error code %s after the failed handshake", got)
			}
		}, FaultHandshakeTimeout, "NoError", chargedesk.StatusPreparing, true},
		{"lock fault leaves the reader failure", func(t *testing.T, c *Charger) {
			if err := c.InjectFault(ctx, 0, FaultReaderFault, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := c.InjectFault(ctx, 1, FaultLockAfterSession, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := c.State().Connector(1).ErrorCode; got != "ConnectorLockFailure" {
				t.Fatalf("error code %s with both faults", got)
			}
		}, FaultLockAfterSession, "ReaderFailure", chargedesk.StatusFinishing, true},
		{"reader fault leaves the lock failure", func(t *testing.T, c *Charger) {
			if err := c.InjectFault(ctx, 1, FaultLockAfterSession, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := c.InjectFault(ctx, 0, FaultReaderFault, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
		}, FaultReaderFault, "ConnectorLockFailure", chargedesk.StatusFinishing, true},
		{"left_inoperative", func(t *testing.T, c *Charger) {
			if err := c.InjectFault(ctx, 1, FaultLeftInoperative, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := c.State().Connector(1).Status; got != chargedesk.StatusUnavailable {
				t.Fatalf("status %s with the fault", got)
			}
		}, FaultLeftInoperative, "NoError", chargedesk.StatusAvailable, true},
		{"hardware fault", func(t *testing.T, c *Charger) {
			if err := c.InjectFault(ctx, 1, FaultHardwareFaultPower, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
		}, FaultHardwareFaultPower, "NoError", chargedesk.StatusAvailable, true},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				c := offlineCharger(t, p)
				tt.setup(t, c)
				if err := c.ClearFault(ctx, 1, tt.clear); err != nil {
					t.Fatal(err)
				}
				k := c.State().Connector(1)
				if k.ErrorCode != tt.wantError || k.Status != tt.wantState || k.Operative != tt.operative {
					t.Errorf("after clearing %s: error %s, status %s, operative %v; want %s, %s, %v",
						tt.clear, k.ErrorCode, k.Status, k.Operative, tt.wantError, tt.wantState, tt.operative)
				}
				if listed(c.State(), tt.clear) {
					t.Errorf("%s still listed", tt.clear)
				}
			})
		}
	}
}

// TestLockFaultNeedsChargerLock: a J1772 connector has no charger-side
// lock, so the lock faults are refused there (ErrNoLock) and nothing
// changes; vehicle_side_lock, the car's own, is taken.
func TestLockFaultNeedsChargerLock(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		fault   Fault
		conn    int
		refused bool
	}{
		{FaultLockAfterSession, 2, true},
		{FaultLockMechanical, 2, true},
		{FaultVehicleSideLock, 2, false},
		{FaultLockAfterSession, 1, false},
		{FaultLockMechanical, 1, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault)+"/"+map[int]string{1: "CCS1", 2: "J1772"}[tt.conn], func(t *testing.T) {
			c := offlineCharger(t, chargedesk.OCPP16, ConnectorSpec{Type: CCS1, MaxPowerKW: 150}, ConnectorSpec{Type: J1772, MaxPowerKW: 7.2})
			err := c.InjectFault(ctx, tt.conn, tt.fault, FaultOptions{})
			if got := errors.Is(err, ErrNoLock); got != tt.refused {
				t.Fatalf("inject: %v, refused %v, want %v", err, got, tt.refused)
			}
			s := c.State()
			if tt.refused && (len(s.Faults) != 0 || s.Connector(tt.conn).LockEngaged || s.Connector(tt.conn).Plugged) {
				t.Errorf("a refused injection changed the charger: %+v", s)
			}
		})
	}
}
