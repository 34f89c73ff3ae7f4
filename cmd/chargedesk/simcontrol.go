package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
)

// fleetControl drives a simulated fleet for the operator API and the sim
// command's prompt: it implements httpapi.SimControl.
type fleetControl struct {
	fleet  *sim.Fleet
	tokens chargedesk.TokenStore
	now    func() time.Time
	// store and payments, when set, take the payment faults: the card's
	// token leads to the driver and their payment account.
	store    chargedesk.Store
	payments *payments.Builtin

	mu           sync.Mutex
	restores     map[string]func(context.Context) error // backend faults by card
	restoreNames map[string]string                      // and their names
}

var _ httpapi.SimControl = (*fleetControl)(nil)

func newFleetControl(fleet *sim.Fleet, store chargedesk.Store, now func() time.Time) *fleetControl {
	f := &fleetControl{fleet: fleet, now: now, restores: make(map[string]func(context.Context) error), restoreNames: make(map[string]string)}
	if store != nil {
		f.tokens, f.store = store, store
	}
	return f
}

// Faults lists every fault of the catalogue: charger faults, then backend
// ones.
func (f *fleetControl) Faults() []string {
	var out []string
	for _, x := range sim.ChargerFaults() {
		out = append(out, string(x))
	}
	for _, x := range sim.BackendFaults() {
		out = append(out, string(x))
	}
	return out
}

// Status returns one charger's snapshot, or all of them for "".
func (f *fleetControl) Status(_ context.Context, id string) (any, error) {
	if id == "" {
		var all []sim.Snapshot
		for _, c := range f.fleet.Chargers() {
			all = append(all, c.State())
		}
		return map[string]any{"chargers": all}, nil
	}
	c, err := f.charger(id)
	if err != nil {
		return nil, err
	}
	return c.State(), nil
}

func (f *fleetControl) charger(id string) (*sim.Charger, error) {
	c := f.fleet.Charger(id)
	if c == nil {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not in the simulated fleet", id)
	}
	return c, nil
}

// fault parses a fault name.
func parseFault(name string) (sim.Fault, error) {
	f := sim.Fault(name)
	if sim.IsChargerFault(f) || slices.Contains(sim.BackendFaults(), f) {
		return f, nil
	}
	return "", chargedesk.Errorf(chargedesk.EINVALID, "%q is not a fault of the catalogue", name)
}

// staleTransactionAge is how long ago an injected stale transaction began:
// a session forgotten half an hour ago, as a driver finds it.
const staleTransactionAge = 30 * time.Minute

// lockSessionAge is how long ago the session before an injected
// lock_after_session began, when the fault is given a card: the card's
// driver charged for a few minutes, stopped, and the cable stayed locked.
const lockSessionAge = 5 * time.Minute

// InjectFault gives a charger's connector a charger fault, or a token (the
// idTag, on that charger's account) a backend fault.
func (f *fleetControl) InjectFault(ctx context.Context, id string, connector int, name, idTag string) error {
	fault, err := parseFault(name)
	if err != nil {
		return err
	}
	c, err := f.charger(id)
	if err != nil {
		return err
	}
	if sim.IsChargerFault(fault) {
		opts := sim.FaultOptions{IDTag: idTag}
		switch {
		case fault == sim.FaultStaleTransaction:
			opts.Age = staleTransactionAge
		case fault == sim.FaultLockAfterSession && idTag != "":
			opts.Age = lockSessionAge
		}
		return simError(c.InjectFault(ctx, connector, fault, opts))
	}
	if f.tokens == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s lives in the central system's token store, which this fleet cannot reach", name)
	}
	if idTag == "" {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s is a fault of a token: give its idTag", name)
	}
	// One backend fault per card at a time, so that clearing it restores
	// the card exactly as it was.
	key := idTag
	f.mu.Lock()
	defer f.mu.Unlock()
	if other, ok := f.restoreNames[key]; ok {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "card %s already has %s; clear it first", idTag, other)
	}
	if slices.Contains(payments.Faults(), name) {
		restore, err := f.injectPaymentFault(ctx, idTag, name)
		if err != nil {
			return err
		}
		f.restores[key] = func(context.Context) error { return restore() }
		f.restoreNames[key] = name
		return nil
	}
	restore, err := sim.InjectBackendFault(ctx, f.tokens, f.now(), idTag, fault)
	if err != nil {
		return err
	}
	f.restores[key] = restore
	f.restoreNames[key] = name
	return nil
}

// injectPaymentFault puts a payment fault into the account of the driver
// who owns the card idTag.
func (f *fleetControl) injectPaymentFault(ctx context.Context, idTag, name string) (func() error, error) {
	if f.payments == nil {
		return nil, chargedesk.Errorf(chargedesk.ENOTIMPLEMENTED, "%s needs the payments processor, which this fleet has not", name)
	}
	t, err := f.tokens.Token(ctx, idTag)
	if err != nil {
		return nil, err
	}
	d, err := f.store.Driver(ctx, t.DriverID)
	if err != nil {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "card %s belongs to no driver account", idTag)
	}
	return f.payments.InjectFault(d.PaymentAccountID, name)
}

// ClearFault removes a fault injected before.
func (f *fleetControl) ClearFault(ctx context.Context, id string, connector int, name, idTag string) error {
	fault, err := parseFault(name)
	if err != nil {
		return err
	}
	c, err := f.charger(id)
	if err != nil {
		return err
	}
	if sim.IsChargerFault(fault) {
		return simError(c.ClearFault(ctx, connector, fault))
	}
	key := idTag
	f.mu.Lock()
	defer f.mu.Unlock()
	restore, ok := f.restores[key]
	if !ok || f.restoreNames[key] != name {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "%s is not injected for %q", name, idTag)
	}
	if err := restore(ctx); err != nil {
		return err
	}
	delete(f.restores, key)
	delete(f.restoreNames, key)
	return nil
}

// Act performs a driver action at a connector.
func (f *fleetControl) Act(ctx context.Context, id string, connector int, action, idTag string) (string, error) {
	c, err := f.charger(id)
	if err != nil {
		return "", err
	}
	switch action {
	case "plug":
		return "plugged in", simError(c.PlugIn(ctx, connector))
	case "unplug":
		return "unplugged", simError(c.Unplug(ctx, connector))
	case "stop":
		return "stopped", simError(c.StopLocal(ctx, connector))
	case "release-vehicle-lock":
		return "vehicle lock released", simError(c.ReleaseVehicleLock(connector))
	case "tap":
		verdict, err := c.TapCard(ctx, connector, idTag)
		if err != nil {
			return "", simError(err)
		}
		return "card " + idTag + ": " + verdict, nil
	}
	return "", chargedesk.Errorf(chargedesk.EINVALID, "unknown action %q", action)
}

// simError turns the simulator's errors into domain errors with codes, so
// the API answers them precisely.
func simError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sim.ErrUnknownConnector):
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "%v", err)
	case errors.Is(err, sim.ErrNoLock):
		return chargedesk.Errorf(chargedesk.EINVALID, "%v", err)
	case errors.Is(err, sim.ErrOffline):
		return chargedesk.Errorf(chargedesk.EOFFLINE, "%v", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return chargedesk.Errorf(chargedesk.ETIMEOUT, "%v", err)
	}
	var de *chargedesk.Error
	if errors.As(err, &de) {
		return err
	}
	// The rest say why the action cannot happen in the charger's state
	// (cable locked, connector busy, reader broken, ...).
	return chargedesk.Errorf(chargedesk.ECONFLICT, "%s", fmt.Sprint(err))
}
