package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// testValidator is compiled once for the package's tests.
var testValidator = func() *ocpp.Validator {
	v, err := ocpp.NewValidator()
	if err != nil {
		panic(err)
	}
	return v
}()

// recv is a CALL the test CSMS received.
type recv struct {
	charger string
	action  string
	payload json.RawMessage
}

// testCSMS is a small central system for the tests: it answers the
// charger's CALLs from a few rules, validates every frame against the
// schemas, records what it received and sends commands.
type testCSMS struct {
	t   *testing.T
	srv *httptest.Server
	url string

	mu         sync.Mutex
	conns      map[string]*testConn
	tags       map[string]string // idTag → authorization status
	bootStatus []string          // statuses for successive boots; the last repeats
	// bootInterval, when set, are the intervals of successive boot
	// answers (the last repeats); otherwise interval.
	bootInterval []int
	boots        int
	interval     int
	txSeq        int
	silent       map[string]bool // actions left unanswered
	// failNext and ignoreNext answer the next n CALLs of an action with a
	// CALLERROR, or not at all.
	failNext   map[string]int
	ignoreNext map[string]int
	calls      []recv
	changed    chan struct{}
	password   string
}

type testConn struct {
	ws    *websocket.Conn
	proto chargedesk.Protocol
	mu    sync.Mutex
	seq   int
	wait  map[string]chan ocpp.Message
}

func newTestCSMS(t *testing.T) *testCSMS {
	t.Helper()
	m := &testCSMS{t: t, conns: map[string]*testConn{}, tags: map[string]string{}, interval: 1,
		bootStatus: []string{"Accepted"}, silent: map[string]bool{}, changed: make(chan struct{}),
		failNext: map[string]int{}, ignoreNext: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	m.url = "ws" + strings.TrimPrefix(m.srv.URL, "http") + "/ocpp"
	t.Cleanup(m.srv.Close)
	return m
}

func (m *testCSMS) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *testCSMS) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/ocpp/")
	m.mu.Lock()
	pw := m.password
	m.mu.Unlock()
	if pw != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+pw))
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6", "ocpp2.0.1"}})
	if err != nil {
		return
	}
	tc := &testConn{ws: ws, proto: chargedesk.Protocol(ws.Subprotocol()), wait: map[string]chan ocpp.Message{}}
	m.mu.Lock()
	m.conns[id] = tc
	m.notifyLocked()
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.conns[id] == tc {
			delete(m.conns, id)
		}
		m.notifyLocked()
		m.mu.Unlock()
	}()
	ctx := r.Context()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		msg, err := ocpp.Parse(data)
		if err != nil {
			m.t.Errorf("csms: charger %s sent an unreadable frame: %v", id, err)
			continue
		}
		switch msg.Type {
		case ocpp.Call:
			if err := testValidator.Validate(tc.proto, msg.Action, false, msg.Payload); err != nil {
				m.t.Errorf("csms: charger %s sent an invalid %s: %v", id, msg.Action, err)
			}
			m.mu.Lock()
			m.calls = append(m.calls, recv{id, msg.Action, msg.Payload})
			silent := m.silent[msg.Action] || m.ignoreNext[msg.Action] > 0
			fail := !silent && m.failNext[msg.Action] > 0
			if silent && m.ignoreNext[msg.Action] > 0 {
				m.ignoreNext[msg.Action]--
			}
			if fail {
				m.failNext[msg.Action]--
			}
			m.notifyLocked()
			m.mu.Unlock()
			if silent {
				continue
			}
			var out ocpp.Message
			if fail {
				out = ocpp.NewCallError(tc.proto, msg.ID, ocpp.Errorf(ocpp.InternalError, "test failure"))
			} else if resp := m.answer(tc.proto, msg.Action, msg.Payload); resp != nil {
				out = ocpp.Message{Type: ocpp.CallResult, ID: msg.ID, Payload: resp}
			} else {
				out = ocpp.NewCallError(tc.proto, msg.ID, ocpp.Errorf(ocpp.NotImplemented, "no"))
			}
			_ = ws.Write(ctx, websocket.MessageText, out.Encode())
		case ocpp.CallResult, ocpp.CallError:
			tc.mu.Lock()
			ch := tc.wait[msg.ID]
			delete(tc.wait, msg.ID)
			tc.mu.Unlock()
			if ch != nil {
				ch <- msg
			}
		}
	}
}

// answer builds the CSMS's answer to a charger CALL.
func (m *testCSMS) answer(p chargedesk.Protocol, action string, payload json.RawMessage) json.RawMessage {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	var req map[string]any
	_ = json.Unmarshal(payload, &req)
	m.mu.Lock()
	defer m.mu.Unlock()
	tagStatus := func(tag string) string {
		if s, ok := m.tags[tag]; ok {
			return s
		}
		return "Invalid"
	}
	var out any
	switch action {
	case "BootNotification":
		st := m.bootStatus[min(m.boots, len(m.bootStatus)-1)]
		iv := m.interval
		if len(m.bootInterval) > 0 {
			iv = m.bootInterval[min(m.boots, len(m.bootInterval)-1)]
		}
		m.boots++
		out = map[string]any{"status": st, "currentTime": now, "interval": iv}
	case "Heartbeat":
		out = map[string]any{"currentTime": now}
	case "StatusNotification", "MeterValues", "FirmwareStatusNotification", "DiagnosticsStatusNotification",
		"LogStatusNotification", "SecurityEventNotification", "NotifyEvent":
		out = map[string]any{}
	case "Authorize":
		if p == chargedesk.OCPP16 {
			out = map[string]any{"idTagInfo": map[string]any{"status": tagStatus(fmt.Sprint(req["idTag"]))}}
		} else {
			tok, _ := req["idToken"].(map[string]any)
			out = map[string]any{"idTokenInfo": map[string]any{"status": tagStatus(fmt.Sprint(tok["idToken"]))}}
		}
	case "StartTransaction":
		m.txSeq++
		out = map[string]any{"transactionId": m.txSeq, "idTagInfo": map[string]any{"status": tagStatus(fmt.Sprint(req["idTag"]))}}
	case "StopTransaction":
		out = map[string]any{}
	case "TransactionEvent":
		if tok, ok := req["idToken"].(map[string]any); ok && req["eventType"] == "Started" {
			out = map[string]any{"idTokenInfo": map[string]any{"status": tagStatus(fmt.Sprint(tok["idToken"]))}}
		} else {
			out = map[string]any{}
		}
	case "DataTransfer":
		out = map[string]any{"status": "Rejected"}
	default:
		return nil
	}
	b, _ := json.Marshal(out)
	if err := testValidator.Validate(p, action, true, b); err != nil {
		m.t.Errorf("csms: own answer to %s is invalid: %v", action, err)
	}
	return b
}

// call sends a command to a connected charger and returns its answer.
func (m *testCSMS) call(ctx context.Context, id, action string, req any) (ocpp.Message, error) {
	m.mu.Lock()
	tc := m.conns[id]
	m.mu.Unlock()
	if tc == nil {
		return ocpp.Message{}, fmt.Errorf("charger %s is not connected", id)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return ocpp.Message{}, err
	}
	if err := testValidator.Validate(tc.proto, action, false, payload); err != nil {
		return ocpp.Message{}, fmt.Errorf("test command %s is invalid: %w", action, err)
	}
	tc.mu.Lock()
	tc.seq++
	mid := "cmd-" + strconv.Itoa(tc.seq)
	ch := make(chan ocpp.Message, 1)
	tc.wait[mid] = ch
	tc.mu.Unlock()
	if err := tc.ws.Write(ctx, websocket.MessageText, ocpp.Message{Type: ocpp.Call, ID: mid, Action: action, Payload: payload}.Encode()); err != nil {
		return ocpp.Message{}, err
	}
	select {
	case ans := <-ch:
		if ans.Type == ocpp.CallResult {
			if err := testValidator.Validate(tc.proto, action, true, ans.Payload); err != nil {
				m.t.Errorf("charger %s answered %s with an invalid payload: %v", id, action, err)
			}
		}
		return ans, nil
	case <-ctx.Done():
		return ocpp.Message{}, ctx.Err()
	}
}

// mustCall sends a command and decodes the CALLRESULT into a map.
func (m *testCSMS) mustCall(ctx context.Context, t *testing.T, id, action string, req any) map[string]any {
	t.Helper()
	ans, err := m.call(ctx, id, action, req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	if ans.Type != ocpp.CallResult {
		t.Fatalf("%s: answered %s %s: %s", action, ans.Type, ans.ErrorCode, ans.ErrorDescription)
	}
	var out map[string]any
	if err := json.Unmarshal(ans.Payload, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// received returns the CALLs received so far.
func (m *testCSMS) received() []recv {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recv(nil), m.calls...)
}

// actions returns the actions received from a charger, in order.
func (m *testCSMS) actions(id string) []string {
	var out []string
	for _, r := range m.received() {
		if r.charger == id {
			out = append(out, r.action)
		}
	}
	return out
}

// waitCall waits for the n-th (1-based) CALL of action from charger id for
// which match (nil: any) holds, and returns its payload.
func (m *testCSMS) waitCall(ctx context.Context, t *testing.T, id, action string, n int, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		m.mu.Lock()
		ch := m.changed
		seen := 0
		for _, r := range m.calls {
			if r.charger != id || r.action != action {
				continue
			}
			var p map[string]any
			_ = json.Unmarshal(r.payload, &p)
			if match == nil || match(p) {
				seen++
				if seen == n {
					m.mu.Unlock()
					return p
				}
			}
		}
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no %d-th %s from %s; received %v", n, action, id, m.actions(id))
			return nil
		}
	}
}

// connected reports whether charger id has a socket.
func (m *testCSMS) connected(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns[id] != nil
}

// dropAll closes every charger socket from the CSMS side.
func (m *testCSMS) dropAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tc := range m.conns {
		tc.ws.Close(websocket.StatusGoingAway, "test drop")
	}
}

// waitState waits until cond holds for the charger's state.
func waitState(ctx context.Context, t *testing.T, c *Charger, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	for {
		ch := c.Changed()
		s := c.State()
		if cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("charger %s: timed out waiting for %s; state %+v", c.ID(), what, s)
			return s
		}
	}
}

// startCharger runs a charger against url for the test's duration.
func startCharger(t *testing.T, cfg ChargerConfig) *Charger {
	t.Helper()
	return startChargerAfter(t, cfg, nil)
}

// startChargerAfter is startCharger calling before, when not nil, on the
// charger before it runs.
func startChargerAfter(t *testing.T, cfg ChargerConfig, before func(*Charger)) *Charger {
	t.Helper()
	if cfg.Validator == nil {
		cfg.Validator = testValidator
	}
	if cfg.RebootDelay == 0 {
		cfg.RebootDelay = 100 * time.Millisecond
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 20*time.Millisecond, 200*time.Millisecond
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 3 * time.Second
	}
	c := NewCharger(cfg)
	if before != nil {
		before(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
		if n := c.State().Counters.InvalidOutgoing; n != 0 {
			t.Errorf("charger %s built %d invalid frames", c.ID(), n)
		}
	})
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}
