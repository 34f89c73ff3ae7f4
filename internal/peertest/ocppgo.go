package peertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// StartOCPPGo connects an ocpp-go charge point for scenario s and, unless
// s.NoScenario, runs the scenario in the background. It returns once the
// WebSocket handshake is done; a failed handshake is recorded as an
// EventError with Code "ConnectFailed" and ends the peer. The peer is closed
// when the test ends.
func StartOCPPGo(t testing.TB, s Scenario) Peer {
	t.Helper()
	if err := s.validate(); err != nil {
		t.Fatalf("start ocpp-go peer: %v", err)
	}
	p := &goPeer{log: newEventLog(), stopped: make(chan struct{}), callTimeout: s.callTimeout()}
	wsc := ws.NewClient()
	if s.TLS != nil {
		wsc = ws.NewTLSClient(s.TLS)
	}
	cfg := ws.NewClientTimeoutConfig()
	cfg.HandshakeTimeout = 10 * time.Second
	wsc.SetTimeoutConfig(cfg)
	if s.Password != "" {
		wsc.SetBasicAuth(s.ChargerID, s.Password)
	}
	rc := &recordingClient{WsClient: wsc, p: p}

	var (
		start    func(url string) error
		scenario func()
	)
	switch s.Protocol {
	case chargedesk.OCPP16:
		c := newGoCP16(p, s, rc)
		start, scenario, p.stopFn = c.cp.Start, c.scenario, c.cp.Stop
		p.sendAsync = c.cp.SendRequestAsync
	default:
		c := newGoCP201(p, s, rc)
		start, scenario, p.stopFn = c.cs.Start, c.scenario, c.cs.Stop
		p.sendAsync = c.cs.SendRequestAsync
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close ocpp-go peer: %v", err)
		}
		if t.Failed() {
			for _, e := range p.Events() {
				t.Logf("ocpp-go peer %s: %v", s.ChargerID, e)
			}
		}
	})
	if err := start(s.URL); err != nil {
		p.log.add(PeerEvent{Event: EventError, Code: "ConnectFailed", Message: err.Error()})
		p.log.end(fmt.Errorf("ocpp-go peer could not connect: %w", err))
		p.stopFn = func() {}
		return p
	}
	p.log.add(PeerEvent{Event: EventConnected})
	if !s.NoScenario {
		p.spawn(scenario)
	}
	return p
}

// goPeer is what the two ocpp-go charge points share: the event log, the
// frame recorder and a way to send CALLs that never outlives Close.
type goPeer struct {
	log         *eventLog
	callTimeout time.Duration
	sendAsync   func(ocpp.Request, func(ocpp.Response, error)) error
	stopFn      func()

	stopped   chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	mu         sync.Mutex
	outCalls   map[string]string // our CALLs awaiting an answer: id -> action
	inCalls    map[string]inCall // CSMS CALLs we are answering: id -> call
	afterReply func()            // to run once the current CALL is answered
	heartbeat  *time.Ticker      // nil until a boot is accepted
}

type inCall struct {
	action  string
	payload json.RawMessage
}

// spawn runs fn in a goroutine that Close waits for.
func (p *goPeer) spawn(fn func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
}

// afterResponse arranges for fn to run, in its own goroutine, once the
// CALLRESULT to the CALL being handled now has been queued for sending. It
// must be called from a request handler.
func (p *goPeer) afterResponse(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.afterReply = fn
}

// call sends req and waits for its answer. A CALLRESULT is recorded from the
// wire; any failure is recorded here as an EventError.
func (p *goPeer) call(req ocpp.Request) (ocpp.Response, error) {
	type answer struct {
		res ocpp.Response
		err error
	}
	action := req.GetFeatureName()
	ch := make(chan answer, 1)
	err := p.sendAsync(req, func(res ocpp.Response, err error) { ch <- answer{res, err} })
	if err == nil {
		timer := time.NewTimer(p.callTimeout)
		defer timer.Stop()
		select {
		case a := <-ch:
			if a.err == nil {
				return a.res, nil
			}
			err = a.err
		case <-timer.C:
			err = fmt.Errorf("no answer within %v", p.callTimeout)
		case <-p.stopped:
			return nil, errors.New("peer closed")
		}
	}
	e := PeerEvent{Event: EventError, Action: action, Code: "ClientError", Message: err.Error()}
	var oe *ocpp.Error
	if errors.As(err, &oe) {
		e.Code, e.Message = string(oe.Code), oe.Description
	}
	select {
	case <-p.stopped:
	default:
		p.log.add(e)
	}
	return nil, fmt.Errorf("%s: %w", action, err)
}

// startHeartbeat sends Heartbeat every interval until Close.
func (p *goPeer) startHeartbeat(interval time.Duration, beat func()) {
	if interval <= 0 {
		return
	}
	p.mu.Lock()
	if p.heartbeat != nil {
		p.heartbeat.Reset(interval)
		p.mu.Unlock()
		return
	}
	tk := time.NewTicker(interval)
	p.heartbeat = tk
	p.mu.Unlock()
	p.spawn(func() {
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				beat()
			case <-p.stopped:
				return
			}
		}
	})
}

// Events returns a copy of everything the peer has seen so far.
func (p *goPeer) Events() []PeerEvent { return p.log.snapshot() }

// WaitFor returns the first event that matches, waiting for it if need be.
func (p *goPeer) WaitFor(ctx context.Context, match func(PeerEvent) bool) (PeerEvent, error) {
	return p.log.waitFor(ctx, match)
}

// Close disconnects and waits for the peer's goroutines.
func (p *goPeer) Close() error {
	p.closeOnce.Do(func() {
		close(p.stopped)
		p.stopFn()
		done := make(chan struct{})
		go func() {
			p.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(closeTimeout):
			p.closeErr = errors.New("ocpp-go peer goroutines did not stop")
		}
		p.log.add(PeerEvent{Event: EventClosed})
		p.log.end(errors.New("ocpp-go peer closed"))
	})
	return p.closeErr
}

// recordingClient wraps ocpp-go's WebSocket client to record every OCPP
// frame as the peer sends or receives it, and to run follow-up messages only
// after the answer they follow has been queued.
type recordingClient struct {
	ws.WsClient
	p *goPeer
}

// SetMessageHandler records inbound frames before ocpp-go handles them.
// ocpp-go handles an inbound CALL synchronously, answer included, so when
// the handler returns the answer is queued and a follow-up may be sent.
func (c *recordingClient) SetMessageHandler(handler func(data []byte) error) {
	c.WsClient.SetMessageHandler(func(data []byte) error {
		c.p.inbound(data)
		err := handler(data)
		c.p.mu.Lock()
		after := c.p.afterReply
		c.p.afterReply = nil
		c.p.mu.Unlock()
		if after != nil {
			c.p.spawn(after)
		}
		return err
	})
}

// SetDisconnectedHandler records the loss of the connection.
func (c *recordingClient) SetDisconnectedHandler(handler func(err error)) {
	c.WsClient.SetDisconnectedHandler(func(err error) {
		select {
		case <-c.p.stopped:
		default:
			e := PeerEvent{Event: EventDisconnected}
			if err != nil {
				e.Message = err.Error()
			}
			c.p.log.add(e)
		}
		handler(err)
	})
}

// Write records outbound frames.
func (c *recordingClient) Write(data []byte) error {
	c.p.outbound(data)
	return c.WsClient.Write(data)
}

// OCPP-J message type numbers.
const (
	msgCall       = 2
	msgCallResult = 3
	msgCallError  = 4
)

// frame is an OCPP-J message split into its parts.
type frame struct {
	typ     int
	id      string
	action  string          // CALL
	payload json.RawMessage // CALL, CALLRESULT
	code    string          // CALLERROR
	desc    string          // CALLERROR
}

func parseFrame(data []byte) (frame, bool) {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) < 3 {
		return frame{}, false
	}
	var f frame
	if json.Unmarshal(parts[0], &f.typ) != nil || json.Unmarshal(parts[1], &f.id) != nil {
		return frame{}, false
	}
	switch {
	case f.typ == msgCall && len(parts) >= 4:
		if json.Unmarshal(parts[2], &f.action) != nil {
			return frame{}, false
		}
		f.payload = parts[3]
	case f.typ == msgCallResult:
		f.payload = parts[2]
	case f.typ == msgCallError && len(parts) >= 4:
		_ = json.Unmarshal(parts[2], &f.code)
		_ = json.Unmarshal(parts[3], &f.desc)
	default:
		return frame{}, false
	}
	return f, true
}

func (p *goPeer) inbound(data []byte) {
	f, ok := parseFrame(data)
	if !ok {
		p.log.add(PeerEvent{Event: EventError, Code: "BadFrame", Message: string(data)})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outCalls == nil {
		p.outCalls, p.inCalls = map[string]string{}, map[string]inCall{}
	}
	switch f.typ {
	case msgCall:
		p.inCalls[f.id] = inCall{action: f.action, payload: f.payload}
	case msgCallResult:
		action := p.outCalls[f.id]
		delete(p.outCalls, f.id)
		p.log.add(PeerEvent{Event: EventResult, Action: action, Payload: f.payload})
	case msgCallError:
		// Recorded by call, which knows the action for certain.
		delete(p.outCalls, f.id)
	}
}

func (p *goPeer) outbound(data []byte) {
	f, ok := parseFrame(data)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outCalls == nil {
		p.outCalls, p.inCalls = map[string]string{}, map[string]inCall{}
	}
	switch f.typ {
	case msgCall:
		p.outCalls[f.id] = f.action
	case msgCallResult:
		in := p.inCalls[f.id]
		delete(p.inCalls, f.id)
		p.log.add(PeerEvent{Event: EventCall, Action: in.action, Payload: in.payload, Response: f.payload})
	case msgCallError:
		in := p.inCalls[f.id]
		delete(p.inCalls, f.id)
		p.log.add(PeerEvent{Event: EventError, Action: in.action, Payload: in.payload, Code: f.code, Message: f.desc, Sent: true})
	}
}
