package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// TestLockAfterSessionWithItsSession: lock_after_session given a token
// first plays the session that ended, on a charger already running or
// before it runs (as the demo injects it): the central system stores a
// transaction of that token on the connector, started Age ago and ended,
// and the cable stays locked (ConnectorLockFailure) until UnlockConnector.
func TestLockAfterSessionWithItsSession(t *testing.T) {
	st := newStack(t)
	const age = 5 * time.Minute
	for _, p := range protocols {
		for _, beforeRun := range []bool{false, true} {
			name, id := string(p)+"/running", by(p, "LS16-R", "LS201-R")
			if beforeRun {
				name, id = string(p)+"/before-run", by(p, "LS16-B", "LS201-B")
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				inject := func(e *faultEnv) {
					if err := e.c.InjectFault(e.ctx, 1, FaultLockAfterSession, FaultOptions{IDTag: e.drv, Age: age}); err != nil {
						t.Fatalf("inject: %v", err)
					}
				}
				var e *faultEnv
				if beforeRun {
					e = newFaultEnvAfter(t, st, p, id, nil, inject)
				} else {
					e = newFaultEnv(t, st, p, id, nil)
					inject(e)
				}
				tx := e.waitTx(t, "the driver's ended session", func(x *chargedesk.Transaction) bool {
					return x.IDTag == e.drv && x.ConnectorID == 1 && !x.Active()
				})
				if ago := time.Since(tx.StartedAt); ago < age-time.Minute || ago > age+time.Minute {
					t.Errorf("session started %s ago, want %s", ago, age)
				}
				if time.Since(tx.StoppedAt) > time.Minute {
					t.Errorf("session stopped at %v, want just now", tx.StoppedAt)
				}
				if n := len(e.txs(t, false)); n != 1 {
					t.Errorf("%d transactions stored, want 1", n)
				}
				e.waitStatus(t, by(p, chargedesk.StatusFinishing, chargedesk.StatusOccupied), "ConnectorLockFailure")
				if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
					t.Fatalf("unplug after the session: %v, want ErrCableLocked", err)
				}
				was := listed(e.c.State(), FaultLockAfterSession)
				e.want(t, unlock(), chargedesk.ResultUnlocked)
				e.fixed(t, FaultLockAfterSession, was)
				if err := e.c.Unplug(e.ctx, 1); err != nil {
					t.Fatal(err)
				}
				e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
			})
		}
	}
}
