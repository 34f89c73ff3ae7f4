package agent

import (
	"context"
	"time"

	"github.com/chargedesk/chargedesk"
)

// waitOK waits until cond reports true (true), the deadline d passes
// (false, after a last look), cond fails or ctx ends (the error). cond
// reads the store, which stays the source of truth; the wait only decides
// when to read it again.
//
// With an event source, the wait subscribes to chargerID's events before
// its first look and looks again when an event may have changed what cond
// reads (wakes), and otherwise every safetyPoll. Without one, or when
// subscribing fails, it looks every poll.
func (a *Agent) waitOK(ctx context.Context, chargerID string, d time.Duration, cond func() (bool, error)) (bool, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	every := a.poll
	var woken <-chan struct{}
	if a.events != nil {
		w, stop, err := a.wakes(chargerID)
		if err != nil {
			a.log.WarnContext(ctx, "cannot hear the charger's events; reading the store on a timer", "charger_id", chargerID, "err", err)
		} else {
			defer stop()
			woken, every = w, a.safetyPoll
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return cond()
		case <-tick.C:
		case <-woken: // nil without events: never ready
		}
	}
}

// wakes subscribes to a charger's events and returns a channel that is
// ready after each event that may follow a change in the store. It holds
// one wake at most: a burst of events while the store is being read costs
// one more read, not one per event. stop ends the subscription.
//
// Which events wake. The central system publishes a charger's incoming
// CALL as it arrives, before its handler stores what the CALL says; a
// look then would read the state from before it. The handler's answer
// (CALLRESULT or CALLERROR out, also in proxy mode) is published after the
// handler returned, when what it stored is committed, because the central
// system stores before it acknowledges; a connection's Connected and
// Disconnected events are published after the charger's row is written.
// So every write cond reads is followed by an event published after its
// commit, and every event but an incoming CALL wakes the wait: that
// event, not the CALL, is the one whose look sees the change (waking on
// the CALL too would only add a read of the old state). Since the
// subscription is in place before the first look (SubscribeEvents returns
// once the bus has it), a change committed after that look is always
// followed by a wake.
//
// What a wake can still miss — an event dropped for a slow subscriber, a
// write whose connection dropped before its answer, interest not yet
// known to the other servers of a NATS cluster — is caught by the safety
// poll.
func (a *Agent) wakes(chargerID string) (<-chan struct{}, func(), error) {
	ch := make(chan struct{}, 1)
	unsubscribe, err := a.events.SubscribeEvents(chargerID, func(ev chargedesk.Event) {
		if ev.Direction == chargedesk.DirIn && ev.Type == "CALL" {
			return
		}
		select {
		case ch <- struct{}{}:
		default: // a wake is already pending
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return ch, func() { _ = unsubscribe() }, nil
}
