package natsbus

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
)

// eventSink collects events from a subscription.
type eventSink chan chargedesk.Event

func (s eventSink) add(ev chargedesk.Event) { s <- ev }

// next returns the next event, failing the test if none comes in time.
func (s eventSink) next(t *testing.T) chargedesk.Event {
	t.Helper()
	select {
	case ev := <-s:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event arrived")
		return chargedesk.Event{}
	}
}

// until returns the events received up to and including the one with
// MessageID mark. Events of one subscription arrive in publication order, so
// everything published before the mark has arrived by then.
func (s eventSink) until(t *testing.T, mark string) []chargedesk.Event {
	t.Helper()
	var evs []chargedesk.Event
	for {
		ev := s.next(t)
		evs = append(evs, ev)
		if ev.MessageID == mark {
			return evs
		}
	}
}

func subscribe(t *testing.T, b *Bus, chargerID string) eventSink {
	t.Helper()
	sink := make(eventSink, 100)
	unsub, err := b.SubscribeEvents(chargerID, sink.add)
	if err != nil {
		t.Fatalf("SubscribeEvents(%q): %v", chargerID, err)
	}
	t.Cleanup(func() {
		if err := unsub(); err != nil {
			t.Errorf("unsubscribe: %v", err)
		}
		if err := unsub(); err != nil {
			t.Errorf("second unsubscribe: %v", err)
		}
	})
	return sink
}

func event(chargerID, msgID string) chargedesk.Event {
	return chargedesk.Event{
		ChargerID: chargerID,
		At:        time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Direction: chargedesk.DirIn,
		Type:      "CALL",
		MessageID: msgID,
		Action:    "StatusNotification",
		Payload:   json.RawMessage(`{"connectorId":1,"status":"Available"}`),
	}
}

func msgIDs(evs []chargedesk.Event) []string {
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.ChargerID+"/"+ev.MessageID)
	}
	return ids
}

func TestEvents(t *testing.T) {
	// Events are published on node b and received on node a, so they cross
	// the server.
	a, b := twoNodes(t, Config{}, Config{})

	t.Run("fields survive", func(t *testing.T) {
		sink := subscribe(t, a, "CP-fields")
		want := event("CP-fields", "m1")
		want.Seq = 42
		want.Direction = chargedesk.DirOut
		if err := b.PublishEvent(want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, sink.next(t)); diff != "" {
			t.Errorf("event changed on the bus (-want +got):\n%s", diff)
		}
	})

	t.Run("one charger and all chargers", func(t *testing.T) {
		// Ids chosen so that unescaped subjects would overlap: "a" is a
		// prefix token of "a.b", and "a.b.c" has as many tokens as
		// "a.b" plus a type.
		ids := []string{"a", "a.b", "a.b.c", "a_b", "a-b", "a_2Eb"}
		sinks := map[string]eventSink{}
		for _, id := range ids {
			sinks[id] = subscribe(t, a, id)
		}
		all := subscribe(t, a, "")
		for _, id := range ids {
			for _, typ := range []string{"CALL", "CALLRESULT", chargedesk.EventConnected} {
				ev := event(id, typ)
				ev.Type = typ
				if err := b.PublishEvent(ev); err != nil {
					t.Fatalf("PublishEvent(%s, %s): %v", id, typ, err)
				}
			}
		}
		const mark = "mark"
		for _, id := range ids {
			if err := b.PublishEvent(event(id, mark)); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			got := msgIDs(sinks[id].until(t, mark))
			want := []string{id + "/CALL", id + "/CALLRESULT", id + "/Connected", id + "/mark"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("subscriber of %q (-want +got):\n%s", id, diff)
			}
		}
		var got []string
		for len(got) < len(ids)*4 {
			got = append(got, msgIDs([]chargedesk.Event{all.next(t)})...)
		}
		var want []string
		for _, id := range ids {
			want = append(want, id+"/CALL", id+"/CALLRESULT", id+"/Connected")
		}
		for _, id := range ids {
			want = append(want, id+"/mark")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("subscriber of all chargers (-want +got):\n%s", diff)
		}
	})

	t.Run("subject layout", func(t *testing.T) {
		nc, err := nats.Connect(a.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		sub, err := nc.SubscribeSync("chargedesk.events.>")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		ev := event("CP_01.a", "m1")
		ev.Type = "CALLERROR"
		if err := b.PublishEvent(ev); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := "chargedesk.events.CP_5F01_2Ea.CALLERROR"; m.Subject != want {
			t.Errorf("subject = %q, want %q", m.Subject, want)
		}
	})

	t.Run("unsubscribed", func(t *testing.T) {
		unsub, err := a.SubscribeEvents("CP-gone", func(chargedesk.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		subject := "chargedesk.events.CP-gone.CALL"
		// With the subscription in place a request finds an interested
		// party (it waits for an answer that never comes)...
		if _, err := b.nc.Request(subject, nil, 50*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("request with a subscriber: %v, want a timeout", err)
		}
		if err := unsub(); err != nil {
			t.Fatal(err)
		}
		if err := a.nc.Flush(); err != nil {
			t.Fatal(err)
		}
		// ...and once it is gone the server knows nobody listens.
		if _, err := b.nc.Request(subject, nil, 10*time.Second); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("request after unsubscribe: %v, want no responders", err)
		}
	})
}

func TestEventsInvalid(t *testing.T) {
	b := openBus(t, Config{})
	tests := []struct {
		name string
		ev   chargedesk.Event
	}{
		{"no charger", chargedesk.Event{Type: "CALL"}},
		{"charger with wildcard", chargedesk.Event{ChargerID: "a*", Type: "CALL"}},
		{"charger with space", chargedesk.Event{ChargerID: "a b", Type: "CALL"}},
		{"no type", chargedesk.Event{ChargerID: "CP1"}},
		{"type with dot", chargedesk.Event{ChargerID: "CP1", Type: "CALL.x"}},
		{"type wildcard", chargedesk.Event{ChargerID: "CP1", Type: ">"}},
		{"bad payload", chargedesk.Event{ChargerID: "CP1", Type: "CALL", Payload: json.RawMessage(`{`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.PublishEvent(tt.ev); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("PublishEvent = %v, want EINVALID", err)
			}
		})
	}
	t.Run("subscribe bad id", func(t *testing.T) {
		if _, err := b.SubscribeEvents("a>", func(chargedesk.Event) {}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("SubscribeEvents = %v, want EINVALID", err)
		}
	})
	t.Run("subscribe no function", func(t *testing.T) {
		if _, err := b.SubscribeEvents("CP1", nil); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("SubscribeEvents = %v, want EINVALID", err)
		}
	})
}

// TestEventsInterest: on an embedded server an event nobody subscribes to is
// not sent, and every kind of subscriber still gets its events from the
// moment its subscription is in place: one of this process, one of another
// client connected to the server's port (another node, a tool), and one of
// a single charger.
func TestEventsInterest(t *testing.T) {
	a := openBus(t, Config{Listen: "127.0.0.1:0"})
	sent := func() uint64 { return a.nc.Stats().OutMsgs }

	before := sent()
	for i := range 10 {
		if err := a.PublishEvent(event("CP-1", fmt.Sprint("quiet", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := sent() - before; got != 0 {
		t.Errorf("%d events sent with no subscriber, want 0", got)
	}

	t.Run("in-process subscriber", func(t *testing.T) {
		sink := subscribe(t, a, "")
		if err := a.PublishEvent(event("CP-1", "m1")); err != nil {
			t.Fatal(err)
		}
		if ev := sink.next(t); ev.MessageID != "m1" {
			t.Errorf("got %s, want m1", ev.MessageID)
		}
	})

	t.Run("one charger's subscriber", func(t *testing.T) {
		sink := subscribe(t, a, "CP-2")
		before := sent()
		if err := a.PublishEvent(event("CP-1", "other")); err != nil {
			t.Fatal(err)
		}
		if err := a.PublishEvent(event("CP-2", "m2")); err != nil {
			t.Fatal(err)
		}
		if ev := sink.next(t); ev.MessageID != "m2" {
			t.Errorf("got %s, want m2", ev.MessageID)
		}
		if got := sent() - before; got != 1 {
			t.Errorf("%d events sent, want only CP-2's", got)
		}
	})

	t.Run("client on the port", func(t *testing.T) {
		nc, err := nats.Connect(a.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		sub, err := nc.SubscribeSync("chargedesk.events.*.CALL")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := a.PublishEvent(event("CP-3", "m3")); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ev chargedesk.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.MessageID != "m3" {
			t.Errorf("got %s (%v), want m3", m.Data, err)
		}
	})

	// Every subscriber above is gone (the subtests' cleanups ran, the
	// client closed): nothing is sent again.
	for deadline := time.Now().Add(10 * time.Second); a.acc.SubscriptionInterest("chargedesk.events.CP-3.CALL"); {
		if time.Now().After(deadline) {
			t.Fatal("subscriptions still registered 10s after they ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	before = sent()
	if err := a.PublishEvent(event("CP-3", "quiet")); err != nil {
		t.Fatal(err)
	}
	if got := sent() - before; got != 0 {
		t.Errorf("%d events sent after every subscriber left, want 0", got)
	}
}

// TestEventsInterestPrivate: an embedded server without a port has only
// this Bus as a client: with no SubscribeEvents subscription in place no
// event is sent, and from the moment one is in place every matching event
// is.
func TestEventsInterestPrivate(t *testing.T) {
	a := openBus(t, Config{})
	sent := func() uint64 { return a.nc.Stats().OutMsgs }
	before := sent()
	if err := a.PublishEvent(event("CP-1", "quiet")); err != nil {
		t.Fatal(err)
	}
	sink := make(eventSink, 10)
	unsub, err := a.SubscribeEvents("CP-1", sink.add)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PublishEvent(event("CP-2", "other charger")); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishEvent(event("CP-1", "m1")); err != nil {
		t.Fatal(err)
	}
	if ev := sink.next(t); ev.MessageID != "m1" {
		t.Errorf("got %s, want m1", ev.MessageID)
	}
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishEvent(event("CP-1", "quiet again")); err != nil {
		t.Fatal(err)
	}
	if got := sent() - before; got != 1 {
		t.Errorf("%d events sent, want only m1", got)
	}
	if n := a.eventSubs.Load(); n != 0 {
		t.Errorf("%d event subscriptions counted after unsubscribing", n)
	}
}
