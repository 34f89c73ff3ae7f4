package sim

import (
	"testing"

	"github.com/chargedesk/chargedesk"
)

// TestSoftResetKeepsCable: a soft reset reboots the controller, not the
// car park: a cable plugged in before the reset is still in afterwards,
// the charger reports it at boot, and a remote start then starts at once.
func TestSoftResetKeepsCable(t *testing.T) {
	st := newStack(t)
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			e := newFaultEnv(t, st, p, by(p, "KEEP16", "KEEP201"), nil)
			plugged := by(p, chargedesk.StatusPreparing, chargedesk.StatusOccupied)
			e.inject(t, FaultControllerHung, FaultOptions{})
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			boot := e.reset(t)
			if !e.c.State().Connector(1).Plugged {
				t.Fatal("the cable is out after a soft reset")
			}
			if k := e.statusAfter(t, boot); k.Status != plugged {
				t.Errorf("status after reboot %s, want %s", k.Status, plugged)
			}
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
		})
	}
}
