package natsbus

import (
	"encoding/json"
	"sync"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats.go"
)

// PublishEvent publishes ev as JSON on <prefix>.events.<escaped charger
// id>.<type>. It does not wait for subscribers: NATS publication is
// asynchronous, and a slow subscriber loses messages (logged on its node)
// rather than slowing the publisher. An event with an invalid charger id or
// type (or payload) is EINVALID; a closed bus is EUNAVAILABLE.
//
// On an embedded server, an event that no subscription matches (none of
// this process's, nor of any client connected to its port) is neither
// encoded nor sent: the server would drop it. With no port and no
// SubscribeEvents subscription in place, that costs one atomic load. A subscription counts from
// the moment SubscribeEvents returns (it waits until the server has it).
// With an external server every event is sent, as other nodes' interest is
// not known here.
func (b *Bus) PublishEvent(ev chargedesk.Event) error {
	if err := chargedesk.ValidateChargerID(ev.ChargerID); err != nil {
		return err
	}
	if !validToken(ev.Type) {
		return chargedesk.Errorf(chargedesk.EINVALID, "event type %q must be 1 to 64 letters, digits, '-' or '_'", ev.Type)
	}
	if b.private && b.eventSubs.Load() == 0 {
		return b.unheard(ev)
	}
	subj := b.subj.events + EscapeChargerID(ev.ChargerID) + "." + ev.Type
	if b.acc != nil && !b.acc.SubscriptionInterest(subj) {
		return b.unheard(ev)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "event for %s cannot be encoded: %v", ev.ChargerID, err)
	}
	if err := b.nc.Publish(subj, data); err != nil {
		return busError("publish event", err)
	}
	return nil
}

// unheard answers PublishEvent for an event nobody listens to, which is not
// sent: as a publication would, for a payload that is not JSON or a bus
// that is closed.
func (b *Bus) unheard(ev chargedesk.Event) error {
	if len(ev.Payload) > 0 && !json.Valid(ev.Payload) {
		return chargedesk.Errorf(chargedesk.EINVALID, "event for %s cannot be encoded: payload is not JSON", ev.ChargerID)
	}
	switch {
	case b.nc.IsClosed():
		return busError("publish event", nats.ErrConnectionClosed)
	case b.nc.IsDraining():
		return busError("publish event", nats.ErrConnectionDraining)
	}
	return nil
}

// SubscribeEvents calls fn with every event published, from any node, for
// the charger chargerID, or for all chargers when chargerID is "". Calls for
// one subscription are made one at a time on a goroutine of their own, in the
// order the server delivered them; a subscriber that falls far behind loses
// events rather than slowing publishers. unsubscribe stops further calls (a
// call in progress finishes) and is safe to call more than once; Close
// drains every subscription.
func (b *Bus) SubscribeEvents(chargerID string, fn func(chargedesk.Event)) (unsubscribe func() error, err error) {
	token := "*"
	if chargerID != "" {
		if err := chargedesk.ValidateChargerID(chargerID); err != nil {
			return nil, err
		}
		token = EscapeChargerID(chargerID)
	}
	if fn == nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "event subscriber has no function")
	}
	if b.isClosed() {
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "subscribe events: the bus is closed")
	}
	// Counted before the subscription exists, so that PublishEvent asks
	// the server from then on (see Bus.private).
	b.eventSubs.Add(1)
	sub, err := b.nc.Subscribe(b.subj.events+token+".*", func(m *nats.Msg) {
		var ev chargedesk.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			b.log.Warn("undecodable event dropped", "subject", m.Subject, "err", err)
			return
		}
		fn(ev)
	})
	if err != nil {
		b.eventSubs.Add(-1)
		return nil, busError("subscribe events", err)
	}
	// Make sure the server has the interest before returning, so that an
	// event published right after is seen.
	if err := b.flush(); err != nil {
		_ = sub.Unsubscribe()
		b.eventSubs.Add(-1)
		return nil, busError("subscribe events", err)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			if e := sub.Unsubscribe(); e != nil && !b.isClosed() {
				err = busError("unsubscribe events", e)
			}
			b.eventSubs.Add(-1)
		})
		return err
	}, nil
}
