package csms

import (
	"context"
	"time"

	"github.com/chargedesk/chargedesk"
)

// verdict is the authorization answer for a token.
type verdict struct {
	status    chargedesk.AuthStatus
	expiresAt time.Time
	parent    string
}

// authorize looks the token up and returns its verdict. An unknown token is
// Invalid in 1.6 and Unknown in 2.0.1. When the token is Accepted but already
// has an active transaction that ignore does not excuse, and that was not
// itself refused at its start, the verdict is ConcurrentTx.
func (c *conn) authorize(ctx context.Context, idTag string, ignore func(*chargedesk.Transaction) bool) (verdict, error) {
	if idTag == "" {
		// No token to judge: 1.6 has none; a 2.0.1 NoAuthorization token
		// (free vend) is authorized by the charger's own configuration.
		return verdict{status: chargedesk.AuthAccepted}, nil
	}
	t, err := c.s.cfg.Store.Token(ctx, idTag)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		if c.proto == chargedesk.OCPP16 {
			return verdict{status: chargedesk.AuthInvalid}, nil
		}
		return verdict{status: chargedesk.AuthUnknown}, nil
	}
	if err != nil {
		return verdict{}, err
	}
	v := verdict{status: t.Verdict(c.s.now()), expiresAt: t.ExpiresAt, parent: t.ParentIDTag}
	if v.status != chargedesk.AuthAccepted {
		return v, nil
	}
	active, err := c.s.cfg.Store.Transactions(ctx, chargedesk.TransactionFilter{IDTag: idTag, ActiveOnly: true, Limit: 10})
	if err != nil {
		return verdict{}, err
	}
	for _, tx := range active {
		if tx.AuthStatus != "" && tx.AuthStatus != chargedesk.AuthAccepted {
			// A start refused for this token (and being stopped by its
			// charger) is no session of the token's.
			continue
		}
		if ignore == nil || !ignore(tx) {
			v.status = chargedesk.AuthConcurrentTx
			break
		}
	}
	return v, nil
}
