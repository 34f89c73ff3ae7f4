package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// eventsFunc is an EventSource made of a function.
type eventsFunc func(chargerID string, fn func(chargedesk.Event)) (func() error, error)

func (f eventsFunc) SubscribeEvents(chargerID string, fn func(chargedesk.Event)) (func() error, error) {
	return f(chargerID, fn)
}

var _ EventSource = eventsFunc(nil)

// waitLong is the deadline of the waits below: far longer than any of
// them should take, so that a wait ended by its deadline fails the test
// instead of passing late.
const waitLong = 30 * time.Second

// waited is how a wait of waitForStatus ended: when, after how many
// looks at the store, and the error when it did not see the status
// before its deadline.
type waited struct {
	at    time.Time
	reads int
	err   error
}

// waitForStatus runs a.waitOK on connector 1 of the env's charger until
// it shows want, and returns a channel that gets how it ended; it returns
// once the wait has made its first check (and, with events, subscribed).
func waitForStatus(e *env, a *Agent, want chargedesk.ConnectorStatus) <-chan waited {
	e.t.Helper()
	first := make(chan struct{})
	var once sync.Once
	out := make(chan waited, 1)
	start := time.Now()
	go func() {
		var w waited
		ok, err := a.waitOK(e.ctx, e.id, waitLong, func() (bool, error) {
			defer once.Do(func() { close(first) })
			w.reads++
			ch, err := e.st.store.Charger(e.ctx, e.id)
			if err != nil {
				return false, err
			}
			k := ch.Connector(1)
			return k != nil && k.Status == want, nil
		})
		w.at = time.Now()
		switch {
		case err != nil:
			w.err = err
		case !ok:
			w.err = fmt.Errorf("no %s within %s", want, waitLong)
		case w.at.Sub(start) >= waitLong:
			w.err = fmt.Errorf("%s seen only at the deadline", want)
		}
		out <- w
	}()
	select {
	case <-first:
	case <-e.ctx.Done():
		e.t.Fatal("the wait made no first check")
	}
	return out
}

// toggle plugs a cable into connector 1 of the env's charger when plugged
// is false, out otherwise; it returns once the charger's StatusNotification
// is answered.
func toggle(e *env, plugged bool) {
	e.t.Helper()
	if plugged {
		must(e.t, e.c.Unplug(e.ctx, 1))
	} else {
		must(e.t, e.c.PlugIn(e.ctx, 1))
	}
}

// nextStatus is the status connector 1 reports after toggle(plugged).
func nextStatus(plugged bool) chargedesk.ConnectorStatus {
	if plugged {
		return chargedesk.StatusAvailable
	}
	return chargedesk.StatusPreparing
}

// TestWaitWakes checks that a status the charger reports after a wait
// began ends it: woken by the charger's events from the bus with no timer
// short enough to have found it, by the safety poll when the events are
// lost, and by the poll without events (or when subscribing fails).
func TestWaitWakes(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	silent := eventsFunc(func(string, func(chargedesk.Event)) (func() error, error) {
		return func() error { return nil }, nil
	})
	broken := eventsFunc(func(string, func(chargedesk.Event)) (func() error, error) {
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the bus is closed")
	})
	tests := []struct {
		name       string
		events     EventSource
		poll, safe time.Duration
	}{
		// Neither timer fires within waitLong: only an event can end it.
		{"events from the bus", st.bus, time.Minute, time.Minute},
		{"events lost: the safety poll", silent, time.Minute, 20 * time.Millisecond},
		{"no event source: the poll", nil, 20 * time.Millisecond, time.Minute},
		{"subscription failed: the poll", broken, 20 * time.Millisecond, time.Minute},
	}
	plugged := false
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := st.cfg
			cfg.Events, cfg.Poll, cfg.SafetyPoll = tt.events, tt.poll, tt.safe
			a, err := New(cfg)
			must(t, err)
			done := waitForStatus(e, a, nextStatus(plugged))
			toggle(e, plugged)
			plugged = !plugged
			if w := <-done; w.err != nil {
				t.Fatal(w.err)
			}
		})
	}
}

// TestWakes checks which events wake a wait: not a charger's incoming
// CALL (published before its handler stores anything), every other; and
// that a burst leaves one wake.
func TestWakes(t *testing.T) {
	var deliver func(chargedesk.Event)
	var unsubscribed bool
	a := &Agent{events: eventsFunc(func(id string, fn func(chargedesk.Event)) (func() error, error) {
		if id != "CP-1" {
			t.Errorf("subscribed to %q", id)
		}
		deliver = fn
		return func() error { unsubscribed = true; return nil }, nil
	})}
	woken, stop, err := a.wakes("CP-1")
	must(t, err)
	ready := func() bool {
		select {
		case <-woken:
			return true
		default:
			return false
		}
	}
	tests := []struct {
		name string
		evs  []chargedesk.Event
		want bool
	}{
		{"incoming CALL", []chargedesk.Event{{Direction: chargedesk.DirIn, Type: "CALL", Action: "StatusNotification"}}, false},
		{"its answer", []chargedesk.Event{{Direction: chargedesk.DirOut, Type: "CALLRESULT", Action: "StatusNotification"}}, true},
		{"an error answer", []chargedesk.Event{{Direction: chargedesk.DirOut, Type: "CALLERROR", Action: "StartTransaction"}}, true},
		{"connected", []chargedesk.Event{{Direction: chargedesk.DirIn, Type: chargedesk.EventConnected}}, true},
		{"disconnected", []chargedesk.Event{{Direction: chargedesk.DirIn, Type: chargedesk.EventDisconnected}}, true},
		{"a burst", []chargedesk.Event{
			{Direction: chargedesk.DirOut, Type: "CALLRESULT"}, {Direction: chargedesk.DirOut, Type: "CALL"}, {Direction: chargedesk.DirIn, Type: "CALLRESULT"},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ev := range tt.evs {
				deliver(ev) // never blocks, however many come
			}
			if got := ready(); got != tt.want {
				t.Errorf("woken = %v, want %v", got, tt.want)
			}
			if ready() {
				t.Error("more than one wake pending")
			}
		})
	}
	stop()
	if !unsubscribed {
		t.Error("stop did not unsubscribe")
	}
}

// TestEventsFollowCommits checks what the wait relies on in the central
// system: when the answer to a charger's StatusNotification is on the bus,
// the status is in the store; when a Connected event is, the connection
// is; when a Disconnected one is, the disconnection.
func TestEventsFollowCommits(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	type seen struct {
		ev  chargedesk.Event
		ch  *chargedesk.Charger
		err error
	}
	got := make(chan seen, 1024)
	unsubscribe, err := st.bus.SubscribeEvents(e.id, func(ev chargedesk.Event) {
		var ch *chargedesk.Charger
		var err error
		if ev.Direction != chargedesk.DirIn || ev.Type != "CALL" {
			// The store, read as the event arrives.
			ch, err = st.store.Charger(context.Background(), e.id)
		}
		select {
		case got <- seen{ev, ch, err}:
		default:
		}
	})
	must(t, err)
	defer unsubscribe()
	next := func(match func(chargedesk.Event) bool) seen {
		t.Helper()
		for {
			select {
			case s := <-got:
				if s.err != nil {
					t.Fatal(s.err)
				}
				if match(s.ev) {
					return s
				}
			case <-e.ctx.Done():
				t.Fatal("event not seen")
			}
		}
	}

	must(t, e.c.PlugIn(e.ctx, 1))
	call := next(func(ev chargedesk.Event) bool {
		var p struct {
			ConnectorID int    `json:"connectorId"`
			Status      string `json:"status"`
		}
		return ev.Direction == chargedesk.DirIn && ev.Type == "CALL" && ev.Action == "StatusNotification" &&
			json.Unmarshal(ev.Payload, &p) == nil && p.ConnectorID == 1 && p.Status == string(chargedesk.StatusPreparing)
	})
	s := next(func(ev chargedesk.Event) bool {
		return ev.Direction == chargedesk.DirOut && ev.Type == "CALLRESULT" && ev.MessageID == call.ev.MessageID
	})
	if k := s.ch.Connector(1); k == nil || k.Status != chargedesk.StatusPreparing {
		t.Errorf("store at the StatusNotification's answer: connector %+v, want Preparing", k)
	}

	dropped := time.Now().Add(-time.Millisecond)
	e.c.Disconnect()
	s = next(func(ev chargedesk.Event) bool { return ev.Type == chargedesk.EventDisconnected })
	var why struct {
		Replaced bool `json:"replaced"`
	}
	must(t, json.Unmarshal(s.ev.Payload, &why))
	if !why.Replaced && s.ch.DisconnectedAt.Before(dropped) {
		t.Errorf("store at Disconnected: disconnected at %v, before the drop at %v", s.ch.DisconnectedAt, dropped)
	}
	s = next(func(ev chargedesk.Event) bool { return ev.Type == chargedesk.EventConnected })
	if !s.ch.Connected || s.ch.ConnectedAt.Before(dropped) {
		t.Errorf("store at Connected: connected %v at %v, want connected after %v", s.ch.Connected, s.ch.ConnectedAt, dropped)
	}
}
