package peertest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Scenario says where a peer connects and how it identifies itself.
type Scenario struct {
	// URL is the CSMS endpoint without the charger id, for example
	// "ws://127.0.0.1:9000/ocpp"; the peer connects to URL + "/" + ChargerID.
	URL       string
	ChargerID string
	// Password is sent with HTTP Basic auth as ChargerID:Password; empty
	// sends no Authorization header.
	Password string
	// TLS configures a wss:// URL: the CAs trusted for the CSMS and the
	// client certificate presented (security profile 3). Only the ocpp-go
	// peer takes it; nil uses the system's roots and no certificate.
	TLS      *tls.Config
	Protocol chargedesk.Protocol
	// IDTag is the token the scenario authorizes and charges with.
	IDTag string
	// NoScenario makes the peer connect and only answer commands.
	NoScenario bool
	// CallTimeout bounds the wait for the answer to each of the peer's
	// CALLs; zero means 30 seconds.
	CallTimeout time.Duration
}

func (s Scenario) callTimeout() time.Duration {
	if s.CallTimeout > 0 {
		return s.CallTimeout
	}
	return 30 * time.Second
}

func (s Scenario) validate() error {
	if s.URL == "" {
		return errors.New("scenario has no URL")
	}
	if err := chargedesk.ValidateChargerID(s.ChargerID); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	if !s.Protocol.Valid() {
		return fmt.Errorf("scenario protocol %q is not ocpp1.6 or ocpp2.0.1", s.Protocol)
	}
	if s.IDTag == "" {
		return errors.New("scenario has no IDTag")
	}
	return nil
}

// Kinds of PeerEvent.
const (
	// EventConnected: the WebSocket is open and the subprotocol agreed.
	EventConnected = "connected"
	// EventResult: the peer got a CALLRESULT (Payload) for its CALL Action.
	EventResult = "result"
	// EventCall: the peer got a CALL Action with Payload from the CSMS and
	// answered it with Response.
	EventCall = "call"
	// EventError: something failed: a CALLERROR either way, a schema
	// violation, a call that timed out. Code and Message say what.
	EventError = "error"
	// EventScenarioDone: the scenario finished; TransactionID is the
	// transaction it ran.
	EventScenarioDone = "scenario_done"
	// EventDisconnected: the CSMS closed the connection.
	EventDisconnected = "disconnected"
	// EventClosed: the peer shut down.
	EventClosed = "closed"
)

// PeerEvent is one thing a peer saw. The ocpp-rpc peer prints these as JSON
// lines; the ocpp-go peer records them from the frames on its socket.
type PeerEvent struct {
	// Seq numbers the events of one peer from 1, in the order recorded.
	Seq    int    `json:"-"`
	Event  string `json:"event"`
	Action string `json:"action,omitempty"`
	// Payload is the CALLRESULT payload of a result, the CALL payload of a
	// call, or the offending payload of a validation error.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Response is what the peer answered to a call.
	Response      json.RawMessage `json:"response,omitempty"`
	TransactionID string          `json:"transactionId,omitempty"`
	Code          string          `json:"code,omitempty"`
	Message       string          `json:"message,omitempty"`
	// Sent is true for a CALLERROR the peer sent in answer to a CSMS call.
	Sent bool `json:"sent,omitempty"`
}

// String renders the event compactly for test logs.
func (e PeerEvent) String() string {
	s := fmt.Sprintf("#%d %s", e.Seq, e.Event)
	if e.Action != "" {
		s += " " + e.Action
	}
	if e.Sent {
		s += " (sent)"
	}
	if e.Code != "" || e.Message != "" {
		s += fmt.Sprintf(" [%s] %s", e.Code, e.Message)
	}
	if len(e.Payload) > 0 {
		s += " payload=" + string(e.Payload)
	}
	if len(e.Response) > 0 {
		s += " response=" + string(e.Response)
	}
	if e.TransactionID != "" {
		s += " tx=" + e.TransactionID
	}
	return s
}

// Peer is a running charge point.
type Peer interface {
	// Events returns a copy of everything the peer has seen so far.
	Events() []PeerEvent
	// WaitFor returns the first event, past or future, for which match is
	// true. It fails when ctx ends or the peer has stopped without one.
	WaitFor(ctx context.Context, match func(PeerEvent) bool) (PeerEvent, error)
	// Close disconnects the peer and releases everything it holds. It is
	// safe to call more than once; tests need not call it, as the peer is
	// closed when the test ends.
	Close() error
}

// Is returns a matcher for events of the given kind and, when action is not
// empty, that action.
func Is(kind, action string) func(PeerEvent) bool {
	return func(e PeerEvent) bool {
		return e.Event == kind && (action == "" || e.Action == action)
	}
}

// After returns a matcher for events after seq that also satisfy match, for
// waiting on what follows a command.
func After(seq int, match func(PeerEvent) bool) func(PeerEvent) bool {
	return func(e PeerEvent) bool { return e.Seq > seq && match(e) }
}

// eventLog is the record of a peer's events that WaitFor watches.
type eventLog struct {
	mu      sync.Mutex
	events  []PeerEvent
	changed chan struct{} // closed and replaced at every change
	ended   error         // set when the peer has stopped
}

func newEventLog() *eventLog {
	return &eventLog{changed: make(chan struct{})}
}

func (l *eventLog) add(e PeerEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Seq = len(l.events) + 1
	l.events = append(l.events, e)
	close(l.changed)
	l.changed = make(chan struct{})
}

// end marks the log complete: waiters that find nothing stop waiting.
func (l *eventLog) end(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended != nil {
		return
	}
	if err == nil {
		err = errors.New("peer stopped")
	}
	l.ended = err
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *eventLog) snapshot() []PeerEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]PeerEvent(nil), l.events...)
}

func (l *eventLog) waitFor(ctx context.Context, match func(PeerEvent) bool) (PeerEvent, error) {
	next := 0
	for {
		l.mu.Lock()
		for ; next < len(l.events); next++ {
			if match(l.events[next]) {
				e := l.events[next]
				l.mu.Unlock()
				return e, nil
			}
		}
		ended, changed := l.ended, l.changed
		l.mu.Unlock()
		if ended != nil {
			return PeerEvent{}, fmt.Errorf("no matching event: %w", ended)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return PeerEvent{}, fmt.Errorf("no matching event: %w", ctx.Err())
		}
	}
}

// closeTimeout bounds how long Close waits for a peer to stop.
const closeTimeout = 10 * time.Second
