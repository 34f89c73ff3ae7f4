package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chargedesk/chargedesk"
)

// tokenFaults are the backend faults InjectBackendFault implements: each
// changes the driver's token in the central system's store, and the
// charger, which behaves normally, receives the verdict.
var tokenFaults = []Fault{FaultTokenBlocked, FaultTokenExpired, FaultTokenUnknown}

// paymentFaults live in the payments processor, which chargedesk does not
// have yet.
var paymentFaults = []Fault{FaultCardExpired, FaultTransientDecline, FaultAppSyncDelay, FaultDuplicateHolds, FaultHardDecline}

// BackendFaults returns the faults of the catalogue that live in the
// central system or the driver's account rather than in a charger.
func BackendFaults() []Fault { return slices.Concat(tokenFaults, paymentFaults) }

// InjectBackendFault gives the token idTag in tokens the backend fault f:
// token_blocked stores it Blocked, token_expired gives it an expiry before
// now, token_unknown deletes it. The returned restore puts the token back
// as it was. The token must exist (an ENOTFOUND error otherwise). The
// payment faults need a payments processor and return an ENOTIMPLEMENTED
// error; charger faults and unknown names return an EINVALID error.
func InjectBackendFault(ctx context.Context, tokens chargedesk.TokenStore, now time.Time, idTag string, f Fault) (restore func(context.Context) error, err error) {
	switch {
	case slices.Contains(paymentFaults, f):
		return nil, chargedesk.Errorf(chargedesk.ENOTIMPLEMENTED, "backend fault %s needs a payments processor, which chargedesk does not have yet", f)
	case IsChargerFault(f):
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "%s is a charger fault: inject it with Charger.InjectFault", f)
	case !slices.Contains(tokenFaults, f):
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "unknown fault %q", f)
	}
	orig, err := tokens.Token(ctx, idTag)
	if err != nil {
		return nil, fmt.Errorf("sim: inject %s into token %s: %w", f, idTag, err)
	}
	saved := *orig
	restore = func(ctx context.Context) error {
		t := saved
		if err := tokens.PutToken(ctx, &t); err != nil {
			return fmt.Errorf("sim: restore token %s after %s: %w", idTag, f, err)
		}
		return nil
	}
	changed := *orig
	switch f {
	case FaultTokenBlocked:
		changed.Status = chargedesk.AuthBlocked
	case FaultTokenExpired:
		changed.ExpiresAt = now.Add(-24 * time.Hour)
	case FaultTokenUnknown:
		if err := tokens.DeleteToken(ctx, idTag); err != nil {
			return nil, fmt.Errorf("sim: inject %s into token %s: %w", f, idTag, err)
		}
		return restore, nil
	}
	if err := tokens.PutToken(ctx, &changed); err != nil {
		return nil, fmt.Errorf("sim: inject %s into token %s: %w", f, idTag, err)
	}
	return restore, nil
}
