package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
)

// Fault is the stable name of a root cause in the fault catalogue
// (FAULTS.md).
type Fault string

// The faults a simulated charger can carry.
const (
	FaultStaleTransaction    Fault = "stale_transaction"
	FaultControllerHung      Fault = "controller_hung"
	FaultHandshakeTimeout    Fault = "handshake_timeout"
	FaultVehicleSchedule     Fault = "vehicle_schedule"
	FaultRemoteStartIgnored  Fault = "remote_start_ignored"
	FaultHardwareFaultPower  Fault = "hardware_fault_power"
	FaultStaleStatus         Fault = "stale_status"
	FaultCommDropShort       Fault = "comm_drop_short"
	FaultCommDropLong        Fault = "comm_drop_long"
	FaultLeftInoperative     Fault = "left_inoperative"
	FaultLockAfterSession    Fault = "lock_after_session"
	FaultOwnSessionRunning   Fault = "own_session_running"
	FaultSomeoneElsesSession Fault = "someone_elses_session"
	FaultLockMechanical      Fault = "lock_mechanical"
	FaultVehicleSideLock     Fault = "vehicle_side_lock"
	FaultLocalListStale      Fault = "local_list_stale"
	FaultReaderFault         Fault = "reader_fault"
	FaultSlowCharging        Fault = "slow_charging"
)

// The faults of the catalogue that live in the central system or the
// driver's account, not in the charger: the simulated charger behaves
// normally and the CSMS's answers (Authorize, payment) carry the fault.
const (
	FaultCardExpired      Fault = "card_expired"
	FaultTransientDecline Fault = "transient_decline"
	FaultAppSyncDelay     Fault = "app_sync_delay"
	FaultDuplicateHolds   Fault = "duplicate_holds"
	FaultHardDecline      Fault = "hard_decline"
	FaultTokenBlocked     Fault = "token_blocked"
	FaultTokenExpired     Fault = "token_expired"
	FaultTokenUnknown     Fault = "token_unknown"
)

// ErrNoLock is returned when a lock fault (lock_after_session,
// lock_mechanical) is injected into a connector without a charger-side
// lock, such as J1772, whose plug only the vehicle holds.
var ErrNoLock = errors.New("sim: connector has no charger-side lock")

// ErrNotChargerFault is returned when a fault lives in the backend or the
// driver's account rather than in a charger.
var ErrNotChargerFault = errors.New("sim: fault is not injected into a charger")

// chargerFaults lists the faults InjectFault implements.
var chargerFaults = []Fault{
	FaultStaleTransaction, FaultControllerHung, FaultHandshakeTimeout, FaultVehicleSchedule,
	FaultRemoteStartIgnored, FaultHardwareFaultPower, FaultStaleStatus, FaultCommDropShort,
	FaultCommDropLong, FaultLeftInoperative, FaultLockAfterSession, FaultOwnSessionRunning,
	FaultSomeoneElsesSession, FaultLockMechanical, FaultVehicleSideLock, FaultLocalListStale,
	FaultReaderFault, FaultSlowCharging,
}

// ChargerFaults returns the faults that InjectFault implements.
func ChargerFaults() []Fault { return slices.Clone(chargerFaults) }

// IsChargerFault reports whether f is injected into a charger.
func IsChargerFault(f Fault) bool { return slices.Contains(chargerFaults, f) }

// stationWide are the faults of the charger as a whole (connector 0).
func stationWide(f Fault) bool {
	return f == FaultCommDropShort || f == FaultCommDropLong || f == FaultReaderFault
}

// FaultOptions parameterize an injection.
type FaultOptions struct {
	// IDTag is the token the fault is about: the stale or running
	// transaction's token, the token held stale in the local list, or
	// the token of the session that ended before the lock stuck
	// (lock_after_session: given, the charger runs that session first).
	IDTag string
	// InCache puts the local_list_stale entry in the authorization cache
	// instead of the local list (ClearCache then fixes it).
	InCache bool
	// Age is how long ago the stale transaction, or the session before a
	// stuck lock, began (zero: now); the charger reports its start with
	// that time.
	Age time.Duration
}

// ActiveFault is a fault currently injected.
type ActiveFault struct {
	Name Fault `json:"name"`
	// Connector is the connector it is on, 0 for the whole charger.
	Connector int `json:"connector"`
}

type faultKey struct {
	name Fault
	conn int
}

type faultState struct {
	opts  FaultOptions
	fired bool
}

// hasFaultLocked reports whether f is active on connector id or on the
// whole charger; c.mu must be held.
func (c *Charger) hasFaultLocked(f Fault, id int) bool {
	return c.faults[faultKey{f, id}] != nil || c.faults[faultKey{f, 0}] != nil
}

func (c *Charger) faultLocked(f Fault, id int) *faultState {
	if st := c.faults[faultKey{f, id}]; st != nil {
		return st
	}
	return c.faults[faultKey{f, 0}]
}

func (c *Charger) clearFaultLocked(f Fault, id int) {
	delete(c.faults, faultKey{f, id})
	delete(c.faults, faultKey{f, 0})
}

func (c *Charger) activeFaultsLocked() []ActiveFault {
	out := []ActiveFault{}
	for k := range c.faults {
		out = append(out, ActiveFault{Name: k.name, Connector: k.conn})
	}
	slices.SortFunc(out, func(a, b ActiveFault) int {
		if a.Connector != b.Connector {
			return a.Connector - b.Connector
		}
		return strings.Compare(string(a.Name), string(b.Name))
	})
	return out
}

// InjectFault gives connector id (0 for the whole charger) the fault f, as
// FAULTS.md describes it for the charger's protocol version. It may be
// called before Run (the effects are reported at boot) or while running.
// An opts.IDTag longer than the protocol allows is refused with
// ErrTokenTooLong, a lock fault on a connector without a charger-side
// lock with ErrNoLock.
func (c *Charger) InjectFault(ctx context.Context, id int, f Fault, opts FaultOptions) error {
	if !IsChargerFault(f) {
		if f == FaultCardExpired || f == FaultTransientDecline || f == FaultAppSyncDelay || f == FaultDuplicateHolds ||
			f == FaultHardDecline || f == FaultTokenBlocked || f == FaultTokenExpired || f == FaultTokenUnknown {
			return fmt.Errorf("%w: %s is a backend or account fault", ErrNotChargerFault, f)
		}
		return fmt.Errorf("sim: unknown fault %q", f)
	}
	if err := c.checkToken(opts.IDTag); err != nil {
		return fmt.Errorf("sim: inject %s: %w", f, err)
	}
	if stationWide(f) {
		id = 0
	}
	c.mu.Lock()
	if id != 0 && c.conn(id) == nil || id == 0 && !stationWide(f) && len(c.conns) > 1 {
		c.mu.Unlock()
		return fmt.Errorf("sim: fault %s needs a connector (1..%d): %w", f, len(c.conns), ErrUnknownConnector)
	}
	if id == 0 && !stationWide(f) {
		id = 1
	}
	if (f == FaultLockAfterSession || f == FaultLockMechanical) && !c.conn(id).spec.hasChargerLock() {
		c.mu.Unlock()
		return fmt.Errorf("sim: fault %s on connector %d (%s): %w", f, id, c.conn(id).spec.Type, ErrNoLock)
	}
	ownTag := opts.IDTag != ""
	if opts.IDTag == "" {
		opts.IDTag = "SIM" + string(f[:min(len(f), 8)])
		opts.IDTag = sanitizeTag(opts.IDTag)
	}
	c.faults[faultKey{f, id}] = &faultState{opts: opts}
	cn := c.conn(id)
	var after func(context.Context) error
	var drop *session
	switch f {
	case FaultStaleTransaction:
		after = func(ctx context.Context) error {
			var at time.Time
			if opts.Age > 0 {
				at = c.now().Add(-opts.Age)
			}
			c.mu.Lock()
			cn.plugged, cn.finishing, cn.reportAt = true, false, at
			c.mu.Unlock()
			if err := c.beginTx(ctx, id, txStart{idTag: opts.IDTag, at: at, stale: true}); err != nil {
				return err
			}
			c.mu.Lock()
			cn.plugged, cn.lock = false, false
			c.notifyLocked()
			c.mu.Unlock()
			c.publishStatuses(ctx)
			return nil
		}
	case FaultControllerHung:
		cn.override = c.hungStatus()
	case FaultHardwareFaultPower:
		cn.faulted = true
		cn.setProblem(f, string(v16.ChargePointErrorCodeInternalError), "PWR-MOD-07", "power module fault")
		if tx := cn.tx; tx != nil {
			after = func(ctx context.Context) error { return c.stopTx(ctx, id, tx, reasonOther, "") }
		}
	case FaultStaleStatus:
		cn.override = chargedesk.StatusUnavailable
	case FaultCommDropShort, FaultCommDropLong:
		if f == FaultCommDropLong {
			c.offlineFor = true
		} else {
			c.offlineTil = c.now().Add(c.cfg.CommDropShort)
		}
		drop = c.sess
	case FaultLeftInoperative:
		if cn.tx == nil {
			cn.inoperative = true
		} else {
			v := false
			cn.scheduled = &v
		}
	case FaultLockAfterSession:
		switch {
		case cn.tx == nil && ownTag:
			// The session happened: the driver's token started it Age
			// ago with the cable in, it ended now, and the lock stayed
			// (onTxEndedLocked). The CSMS hears both, as it would have.
			after = func(ctx context.Context) error {
				var at time.Time
				if opts.Age > 0 {
					at = c.now().Add(-opts.Age)
				}
				c.mu.Lock()
				cn.plugged, cn.finishing = true, false
				c.mu.Unlock()
				if err := c.beginTx(ctx, id, txStart{idTag: opts.IDTag, at: at}); err != nil {
					return err
				}
				return c.stopTx(ctx, id, nil, reasonLocal, opts.IDTag)
			}
		case cn.tx == nil:
			cn.plugged, cn.finishing, cn.lock = true, true, true
			cn.setProblem(f, string(v16.ChargePointErrorCodeConnectorLockFailure), "", "")
		}
	case FaultLockMechanical:
		if cn.tx == nil {
			cn.plugged, cn.finishing, cn.lock = true, true, true
		}
	case FaultVehicleSideLock:
		cn.plugged, cn.vehicleLock = true, true
		if cn.tx == nil {
			cn.finishing = true
		}
	case FaultOwnSessionRunning, FaultSomeoneElsesSession:
		if cn.tx == nil {
			after = func(ctx context.Context) error {
				c.mu.Lock()
				cn.plugged, cn.finishing = true, false
				c.mu.Unlock()
				return c.startTx(ctx, id, opts.IDTag, "", false, nil)
			}
		}
	case FaultVehicleSchedule:
		if cn.tx != nil {
			after = func(ctx context.Context) error { return c.SetVehicleSuspended(ctx, id, true) }
		}
	case FaultLocalListStale:
		if opts.InCache {
			c.cache[opts.IDTag] = authEntry{status: AuthInvalid}
		} else {
			c.localList[opts.IDTag] = authEntry{status: AuthInvalid}
		}
	case FaultReaderFault:
		for _, k := range c.conns {
			k.setProblem(f, string(v16.ChargePointErrorCodeReaderFailure), "", "RFID reader not responding")
		}
	case FaultSlowCharging:
		c.meterLocked(cn)
	}
	c.notifyLocked()
	c.mu.Unlock()
	if drop != nil {
		drop.close(websocket.StatusGoingAway, "simulated outage", nil)
	}
	if after != nil {
		if err := after(ctx); err != nil {
			return fmt.Errorf("sim: inject %s: %w", f, err)
		}
	}
	if f == FaultStaleStatus {
		// Report the glitch once; the charger then stays silent.
		c.mu.Lock()
		cn.reported = ""
		c.mu.Unlock()
	}
	c.publishStatuses(ctx)
	return nil
}

// sanitizeTag keeps the characters an idTag may hold.
func sanitizeTag(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9') {
			b[i] = 'X'
		}
	}
	return string(b)
}

// hungStatus is the status a hung controller shows.
func (c *Charger) hungStatus() chargedesk.ConnectorStatus {
	if c.cfg.Protocol == chargedesk.OCPP16 {
		return chargedesk.StatusPreparing
	}
	return chargedesk.StatusOccupied
}

// ClearFault removes fault f from connector id (0 for the whole charger)
// and undoes its effect, as a technician or the driver would.
func (c *Charger) ClearFault(ctx context.Context, id int, f Fault) error {
	if stationWide(f) {
		id = 0
	} else if id == 0 {
		id = 1
	}
	c.mu.Lock()
	cn := c.conn(id)
	if cn == nil && id != 0 {
		c.mu.Unlock()
		return ErrUnknownConnector
	}
	st := c.faults[faultKey{f, id}]
	if st == nil {
		c.mu.Unlock()
		return nil
	}
	delete(c.faults, faultKey{f, id})
	var after func(context.Context) error
	switch f {
	case FaultControllerHung, FaultStaleStatus:
		cn.override = ""
	case FaultHardwareFaultPower:
		cn.faulted = false
		cn.clearProblem(f)
	case FaultCommDropShort:
		c.offlineTil = c.now()
	case FaultCommDropLong:
		c.offlineFor = false
	case FaultLockAfterSession, FaultLockMechanical:
		// The transaction's own lock stays, and so does the other lock
		// fault with its error.
		other := FaultLockMechanical
		if f == FaultLockMechanical {
			other = FaultLockAfterSession
		}
		cn.lock = cn.tx != nil && cn.spec.hasChargerLock() || cn.lock && c.faults[faultKey{other, id}] != nil
		cn.clearProblem(f)
	case FaultVehicleSideLock:
		cn.vehicleLock = false
	case FaultHandshakeTimeout:
		cn.clearProblem(f)
	case FaultLeftInoperative:
		cn.inoperative, cn.scheduled = false, nil
	case FaultLocalListStale:
		// The stale entry goes, unless a list update replaced it.
		tag := st.opts.IDTag
		if e, ok := c.localList[tag]; ok && !st.opts.InCache && e.status == AuthInvalid {
			delete(c.localList, tag)
		}
		if e, ok := c.cache[tag]; ok && st.opts.InCache && e.status == AuthInvalid {
			delete(c.cache, tag)
		}
	case FaultVehicleSchedule:
		after = func(ctx context.Context) error { return c.SetVehicleSuspended(ctx, id, false) }
	case FaultReaderFault:
		for _, k := range c.conns {
			k.clearProblem(f)
		}
	case FaultSlowCharging:
		c.meterLocked(cn)
	}
	c.notifyLocked()
	c.mu.Unlock()
	if after != nil {
		if err := after(ctx); err != nil {
			return err
		}
	}
	c.publishStatuses(ctx)
	return nil
}

// Hooks called by the charger's state machine; c.mu is held for each.

// silencedLocked reports whether connector id must not report changes.
func (c *Charger) silencedLocked(id int) bool {
	return c.faults[faultKey{FaultStaleStatus, id}] != nil
}

// handshakeFailsLocked reports whether a start on cn fails with
// EVCommunicationError; the first start fails, and starts keep failing
// until the cable is re-seated.
func (c *Charger) handshakeFailsLocked(cn *connector) bool {
	st := c.faultLocked(FaultHandshakeTimeout, cn.id)
	if st == nil {
		return false
	}
	st.fired = true
	cn.setProblem(FaultHandshakeTimeout, string(v16.ChargePointErrorCodeEVCommunicationError), "", "vehicle handshake timed out")
	return true
}

func (c *Charger) onTxStartedLocked(cn *connector) {
	if c.hasFaultLocked(FaultVehicleSchedule, cn.id) {
		cn.suspendedEV = true
	}
}

func (c *Charger) onTxEndedLocked(cn *connector, tx *transaction) {
	// The session the fault is about has ended: the fault is fixed.
	if tx.stale {
		delete(c.faults, faultKey{FaultStaleTransaction, cn.id})
	}
	delete(c.faults, faultKey{FaultOwnSessionRunning, cn.id})
	delete(c.faults, faultKey{FaultSomeoneElsesSession, cn.id})
	if c.hasFaultLocked(FaultLockAfterSession, cn.id) && cn.plugged {
		cn.lock = true
		cn.setProblem(FaultLockAfterSession, string(v16.ChargePointErrorCodeConnectorLockFailure), "", "")
	}
	if c.hasFaultLocked(FaultLockMechanical, cn.id) && cn.plugged {
		cn.lock = true
	}
	if c.hasFaultLocked(FaultLeftInoperative, cn.id) {
		cn.inoperative = true
	}
}

func (c *Charger) onUnplugLocked(cn *connector) {
	// The car let the plug go and it is out: nothing holds it any more.
	delete(c.faults, faultKey{FaultVehicleSideLock, cn.id})
	// Re-seating the cable clears a failed vehicle handshake.
	if st := c.faultLocked(FaultHandshakeTimeout, cn.id); st != nil && st.fired {
		c.clearFaultLocked(FaultHandshakeTimeout, cn.id)
		cn.clearProblem(FaultHandshakeTimeout)
	}
}

// onAcceptedLocked runs when a boot is accepted: the short outage, over,
// is no longer a fault.
func (c *Charger) onAcceptedLocked() {
	if !c.now().Before(c.offlineTil) {
		delete(c.faults, faultKey{FaultCommDropShort, 0})
	}
}

// onAuthListsChangedLocked drops local_list_stale once the list or the
// cache no longer holds the token invalid (SendLocalList, ClearCache).
func (c *Charger) onAuthListsChangedLocked() {
	for k, st := range c.faults {
		if k.name != FaultLocalListStale {
			continue
		}
		where := c.localList
		if st.opts.InCache {
			where = c.cache
		}
		if e, ok := where[st.opts.IDTag]; !ok || e.status != AuthInvalid {
			delete(c.faults, k)
		}
	}
}

func (c *Charger) onRebootLocked() {
	for k := range c.faults {
		switch k.name {
		case FaultControllerHung, FaultRemoteStartIgnored, FaultStaleStatus:
			delete(c.faults, k)
			if cn := c.conn(k.conn); cn != nil {
				cn.override = ""
			}
		}
	}
}

func (c *Charger) onAvailabilityLocked(cn *connector, operative bool) {
	if !operative {
		return
	}
	if c.faults[faultKey{FaultLeftInoperative, cn.id}] != nil {
		delete(c.faults, faultKey{FaultLeftInoperative, cn.id})
	}
	if c.faults[faultKey{FaultStaleStatus, cn.id}] != nil {
		delete(c.faults, faultKey{FaultStaleStatus, cn.id})
		cn.override = ""
	}
}

func (c *Charger) onUnlockLocked(cn *connector) {
	if c.faults[faultKey{FaultLockAfterSession, cn.id}] != nil {
		delete(c.faults, faultKey{FaultLockAfterSession, cn.id})
	}
}

func (c *Charger) onTriggerStatusLocked(cn *connector) {
	if c.faults[faultKey{FaultStaleStatus, cn.id}] != nil {
		delete(c.faults, faultKey{FaultStaleStatus, cn.id})
		cn.override = ""
	}
}

// powerFactorLocked scales the delivered power (slow_charging).
func (c *Charger) powerFactorLocked(cn *connector) float64 {
	if c.hasFaultLocked(FaultSlowCharging, cn.id) {
		return 0.15
	}
	return 0.9
}
