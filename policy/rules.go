package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Rules is the rule set every command is checked against, whoever sends it.
// It reads live state from the store:
//
//   - the charger must be registered;
//   - a remote start needs a charger whose boot was accepted and a token
//     whose verdict is Accepted now (never Blocked, Expired, Invalid or
//     unknown);
//   - a hard reset is refused while a transaction is active on the charger
//     (it would cut the session); a soft reset waits for idle by itself;
//   - a local list may not grant Accepted to a token the backend does not
//     hold as Accepted.
type Rules struct {
	Store chargedesk.Store
	Now   func() time.Time
}

var _ chargedesk.Policy = (*Rules)(nil)

// Check implements chargedesk.Policy. Store errors other than ENOTFOUND are
// returned as errors; a rule that fails is a Decision with Allowed false.
func (r *Rules) Check(ctx context.Context, cmd chargedesk.Command) (chargedesk.Decision, error) {
	ch, err := r.Store.Charger(ctx, cmd.ChargerID)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		return refuse("charger %s is not registered", cmd.ChargerID), nil
	}
	if err != nil {
		return chargedesk.Decision{}, err
	}
	switch cmd.Kind {
	case chargedesk.CmdRemoteStart:
		if ch.BootStatus != chargedesk.RegistrationAccepted {
			return refuse("charger %s has boot status %q; only an accepted charger can start a transaction", ch.ID, ch.BootStatus), nil
		}
		ok, why, err := r.tokenAccepted(ctx, cmd.IDTag)
		if err != nil || !ok {
			return refuse("%s", why), err
		}
	case chargedesk.CmdReset:
		if cmd.ResetType == chargedesk.ResetHard {
			active, err := r.Store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, ActiveOnly: true, Limit: 1})
			if err != nil {
				return chargedesk.Decision{}, err
			}
			if len(active) > 0 {
				return refuse("hard reset refused: transaction %s is active on connector %d", active[0].ID, active[0].ConnectorID), nil
			}
		}
	case chargedesk.CmdSendLocalList:
		for _, e := range cmd.LocalList {
			if e.Status != chargedesk.AuthAccepted {
				continue
			}
			ok, why, err := r.tokenAccepted(ctx, e.IDTag)
			if err != nil || !ok {
				return refuse("local list would accept %s", why), err
			}
		}
	}
	return chargedesk.Decision{Allowed: true, Reason: "rules passed"}, nil
}

// tokenAccepted reports whether the backend accepts the token now, and if
// not, why.
func (r *Rules) tokenAccepted(ctx context.Context, idTag string) (bool, string, error) {
	t, err := r.Store.Token(ctx, idTag)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		return false, fmt.Sprintf("token %s is unknown", idTag), nil
	}
	if err != nil {
		return false, "", err
	}
	if v := t.Verdict(r.Now()); v != chargedesk.AuthAccepted {
		return false, fmt.Sprintf("token %s is %s", idTag, v), nil
	}
	return true, "", nil
}

func refuse(format string, args ...any) chargedesk.Decision {
	return chargedesk.Decision{Allowed: false, Reason: fmt.Sprintf(format, args...)}
}
