package peertest

import (
	"context"
	"encoding/json"
	"errors"
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
)

// testCSMS is a throwaway central system, just enough to drive the peers: it
// checks Basic auth, answers every charger CALL with a fixed plausible
// payload, records what it got, and sends commands one at a time. It is not
// chargedesk's CSMS and shares no code with it.
type testCSMS struct {
	t        testing.TB
	srv      *httptest.Server
	password string
	schemas  *schemaSet // nil when the official schemas are not found
	// tolerateNulls drops top-level null fields of charger payloads before
	// schema validation, logging each: ocpp-go writes absent optional
	// objects of some 2.0.1 responses as null (see README).
	tolerateNulls bool
	// answers overrides the answers to some charger CALLs, by action.
	answers map[string]any

	ctx    context.Context // ends when the test ends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[string]*csmsConn
	changed chan struct{}
}

func newTestCSMS(t testing.TB, password string, schemas *schemaSet, tolerateNulls bool) *testCSMS {
	return newTestCSMSAnswering(t, password, schemas, tolerateNulls, nil)
}

// newTestCSMSAnswering is newTestCSMS with some charger CALLs answered by
// the given payloads instead of the usual ones, valid or not.
func newTestCSMSAnswering(t testing.TB, password string, schemas *schemaSet, tolerateNulls bool, answers map[string]any) *testCSMS {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &testCSMS{t: t, password: password, schemas: schemas, tolerateNulls: tolerateNulls, answers: answers, ctx: ctx, cancel: cancel,
		conns: map[string]*csmsConn{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ocpp/{id}", c.serve)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		cancel()
		c.srv.CloseClientConnections()
		c.srv.Close()
		c.wg.Wait()
	})
	return c
}

// URL is the endpoint peers connect to, without the charger id.
func (c *testCSMS) URL() string { return "ws" + strings.TrimPrefix(c.srv.URL, "http") + "/ocpp" }

func (c *testCSMS) serve(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	user, pass, ok := r.BasicAuth()
	if !ok || user != id || pass != c.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="ocpp"`)
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{string(chargedesk.OCPP16), string(chargedesk.OCPP201)}})
	if err != nil {
		return
	}
	proto := chargedesk.Protocol(ws.Subprotocol())
	if !proto.Valid() {
		ws.Close(websocket.StatusProtocolError, "no OCPP subprotocol")
		return
	}
	conn := &csmsConn{csms: c, id: id, proto: proto, ws: ws, pending: map[string]chan csmsAnswer{}, changed: make(chan struct{})}
	c.mu.Lock()
	c.conns[id] = conn
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	c.wg.Add(1)
	defer c.wg.Done()
	conn.readLoop(c.ctx)
}

// conn waits for charger id to connect.
func (c *testCSMS) conn(ctx context.Context, id string) (*csmsConn, error) {
	for {
		c.mu.Lock()
		conn, changed := c.conns[id], c.changed
		c.mu.Unlock()
		if conn != nil {
			return conn, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("charger %s did not connect: %w", id, ctx.Err())
		}
	}
}

// csmsAnswer is a charger's CALLRESULT payload or CALLERROR.
type csmsAnswer struct {
	payload json.RawMessage
	code    string
	desc    string
}

// chargerCall is a CALL a charger sent, as the test CSMS received it.
type chargerCall struct {
	action  string
	payload json.RawMessage
}

type csmsConn struct {
	csms  *testCSMS
	id    string
	proto chargedesk.Protocol
	ws    *websocket.Conn

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	nextTx  int
	pending map[string]chan csmsAnswer
	calls   []chargerCall
	// problems are protocol or schema violations seen on this connection.
	problems []string
	changed  chan struct{}
}

func (c *csmsConn) write(ctx context.Context, msg []any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

func (c *csmsConn) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *csmsConn) readLoop(ctx context.Context) {
	defer c.ws.CloseNow()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		var parts []json.RawMessage
		var typ int
		var id string
		if json.Unmarshal(data, &parts) != nil || len(parts) < 3 ||
			json.Unmarshal(parts[0], &typ) != nil || json.Unmarshal(parts[1], &id) != nil {
			c.problem("malformed frame %s", data)
			continue
		}
		switch {
		case typ == msgCall && len(parts) == 4:
			var action string
			_ = json.Unmarshal(parts[2], &action)
			c.handleCall(ctx, id, action, parts[3])
		case typ == msgCallResult && len(parts) == 3:
			c.deliver(id, csmsAnswer{payload: parts[2]})
		case typ == msgCallError && len(parts) == 5:
			var a csmsAnswer
			_ = json.Unmarshal(parts[2], &a.code)
			_ = json.Unmarshal(parts[3], &a.desc)
			c.deliver(id, a)
		default:
			c.problem("unexpected frame %s", data)
		}
	}
}

func (c *csmsConn) deliver(id string, a csmsAnswer) {
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch == nil {
		c.problem("answer to unknown message id %q", id)
		return
	}
	ch <- a
}

func (c *csmsConn) handleCall(ctx context.Context, msgID, action string, payload json.RawMessage) {
	if err := c.csms.schemas.validate(c.proto, action, false, c.dropNulls(action, payload)); err != nil {
		c.problem("charger sent invalid %s: %v", action, err)
	}
	res, ok := c.answer(action, payload)
	c.mu.Lock()
	c.calls = append(c.calls, chargerCall{action: action, payload: payload})
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	msg := []any{msgCallResult, msgID, res}
	if !ok {
		msg = []any{msgCallError, msgID, "NotImplemented", "test CSMS does not handle " + action, map[string]any{}}
	}
	if err := c.write(ctx, msg); err != nil && ctx.Err() == nil {
		c.problem("write answer to %s: %v", action, err)
	}
}

// csmsTime is the time format the test CSMS writes: what JavaScript's
// toISOString gives, with milliseconds.
const csmsTime = "2006-01-02T15:04:05.000Z07:00"

// answer gives the CSMS's fixed answer to a charger CALL.
func (c *csmsConn) answer(action string, payload json.RawMessage) (any, bool) {
	if res, ok := c.csms.answers[action]; ok {
		return res, true
	}
	now := time.Now().UTC().Format(csmsTime)
	accepted := map[string]any{"status": "Accepted"}
	empty := map[string]any{}
	if c.proto == chargedesk.OCPP16 {
		switch action {
		case "BootNotification":
			return map[string]any{"status": "Accepted", "currentTime": now, "interval": 300}, true
		case "Heartbeat":
			return map[string]any{"currentTime": now}, true
		case "Authorize", "StopTransaction":
			return map[string]any{"idTagInfo": accepted}, true
		case "StartTransaction":
			c.mu.Lock()
			c.nextTx++
			tx := 1000 + c.nextTx
			c.mu.Unlock()
			return map[string]any{"transactionId": tx, "idTagInfo": accepted}, true
		case "StatusNotification", "MeterValues", "DiagnosticsStatusNotification", "FirmwareStatusNotification":
			return empty, true
		case "DataTransfer":
			return accepted, true
		}
		return nil, false
	}
	switch action {
	case "BootNotification":
		return map[string]any{"status": "Accepted", "currentTime": now, "interval": 300}, true
	case "Heartbeat":
		return map[string]any{"currentTime": now}, true
	case "Authorize":
		return map[string]any{"idTokenInfo": accepted}, true
	case "TransactionEvent":
		var req struct {
			IDToken json.RawMessage `json:"idToken"`
		}
		_ = json.Unmarshal(payload, &req)
		if req.IDToken != nil {
			return map[string]any{"idTokenInfo": accepted}, true
		}
		return empty, true
	case "StatusNotification", "MeterValues", "LogStatusNotification", "FirmwareStatusNotification", "NotifyEvent", "NotifyReport":
		return empty, true
	case "DataTransfer":
		return accepted, true
	}
	return nil, false
}

// call sends one command, which must be valid, and waits for the charger's
// answer, which is checked against the schema.
func (c *csmsConn) call(ctx context.Context, action string, payload any) (csmsAnswer, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return csmsAnswer{}, err
	}
	if err := c.csms.schemas.validate(c.proto, action, false, raw); err != nil {
		return csmsAnswer{}, fmt.Errorf("test bug: invalid %s command: %w", action, err)
	}
	a, err := c.send(ctx, action, payload)
	if err == nil && a.code == "" {
		if err := c.csms.schemas.validate(c.proto, action, true, c.dropNulls(action, a.payload)); err != nil {
			c.problem("charger answered %s invalidly: %v", action, err)
		}
	}
	return a, err
}

// send sends one command, valid or not, and waits for the answer.
func (c *csmsConn) send(ctx context.Context, action string, payload any) (csmsAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ch := make(chan csmsAnswer, 1)
	c.mu.Lock()
	c.nextID++
	id := "cmd-" + strconv.Itoa(c.nextID)
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.write(ctx, []any{msgCall, id, action, payload}); err != nil {
		return csmsAnswer{}, fmt.Errorf("send %s: %w", action, err)
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return csmsAnswer{}, fmt.Errorf("no answer to %s: %w", action, ctx.Err())
	}
}

// lastTx is the transaction id the CSMS last assigned (1.6).
func (c *csmsConn) lastTx() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return 1000 + c.nextTx
}

// dropNulls removes top-level null fields when the CSMS tolerates them.
func (c *csmsConn) dropNulls(action string, payload json.RawMessage) json.RawMessage {
	if !c.csms.tolerateNulls {
		return payload
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return payload
	}
	dropped := false
	for k, v := range m {
		if string(v) == "null" {
			c.csms.t.Logf("tolerated: %s payload from %s has %q: null", action, c.id, k)
			delete(m, k)
			dropped = true
		}
	}
	if !dropped {
		return payload
	}
	out, err := json.Marshal(m)
	if err != nil {
		return payload
	}
	return out
}

// received returns a copy of the charger CALLs so far.
func (c *csmsConn) received() []chargerCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chargerCall(nil), c.calls...)
}

func (c *csmsConn) problemsSoFar() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

// waitCall waits for a charger CALL of the action after the first `after`
// calls and returns it and its index.
func (c *csmsConn) waitCall(ctx context.Context, after int, action string) (chargerCall, int, error) {
	for {
		c.mu.Lock()
		for i := after; i < len(c.calls); i++ {
			if c.calls[i].action == action {
				call := c.calls[i]
				c.mu.Unlock()
				return call, i, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return chargerCall{}, 0, fmt.Errorf("charger sent no %s: %w", action, ctx.Err())
		}
	}
}

var errNoSchemas = errors.New("official OCPP schemas not found")
