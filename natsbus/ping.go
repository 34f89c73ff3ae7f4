package natsbus

import (
	"context"

	"github.com/chargedesk/chargedesk"
)

// Ping reports whether the bus is connected and its server answers a round
// trip, for readiness checks. EUNAVAILABLE otherwise.
func (b *Bus) Ping(ctx context.Context) error {
	if b.isClosed() || !b.nc.IsConnected() {
		return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the bus is not connected")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the bus does not answer: %v", err)
	}
	return nil
}
