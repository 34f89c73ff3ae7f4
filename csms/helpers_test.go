package csms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/coder/websocket"
)

// testPassword is the password of every charger the tests register.
const testPassword = "correct-horse-battery"

// env is a central system on a real SQLite store behind a real HTTP server.
type env struct {
	t      testing.TB
	srv    *Server
	store  *sqlstore.Store
	url    string // ws://127.0.0.1:port/ocpp
	cancel context.CancelFunc
}

var validator = func() *ocpp.Validator {
	v, err := ocpp.NewValidator()
	if err != nil {
		panic(err)
	}
	return v
}()

// newEnv starts a central system; edit changes its config before start.
func newEnv(t testing.TB, edit func(*Config)) *env {
	t.Helper()
	return startEnv(t, edit, httptest.NewServer)
}

// startEnv is newEnv with the central system served by serve: a plain test
// server, or one behind TLS (the env's url is then wss://).
func startEnv(t testing.TB, edit func(*Config), serve func(http.Handler) *httptest.Server) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Node: "test-node", Store: store, Validator: validator, FlushInterval: 20 * time.Millisecond, Logger: testLogger(t)}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = srv.Run(ctx) }()
	hs := serve(srv.Handler())
	e := &env{t: t, srv: srv, store: store, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp", cancel: cancel}
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		cancel()
		<-runDone
		store.Close()
	})
	return e
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CHARGEDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// register adds an accepted charger with testPassword.
func (e *env) register(id string) {
	e.t.Helper()
	_, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{
		ID: id, PasswordHash: chargedesk.HashPassword(testPassword), BootStatus: chargedesk.RegistrationAccepted,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// putToken stores a token.
func (e *env) putToken(idTag string, status chargedesk.AuthStatus) {
	e.t.Helper()
	if err := e.store.PutToken(context.Background(), &chargedesk.Token{IDTag: idTag, Status: status}); err != nil {
		e.t.Fatal(err)
	}
}

// eventually polls cond until it holds or 10s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is a bare OCPP-J charger for tests: it sends raw frames and shows
// what the central system sends.
type client struct {
	t     testing.TB
	ws    *websocket.Conn
	proto chargedesk.Protocol
	in    chan ocpp.Message // answers to our CALLs
	calls chan ocpp.Message // CALLs from the central system
	raw   chan []byte       // every frame received
	done  chan struct{}
	err   atomic.Value // why the read loop ended
	seq   atomic.Int64
}

func basicAuth(id, pw string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+pw)))
	return h
}

// dialRaw connects and returns the connection and HTTP response as they are.
func (e *env) dialRaw(id string, hdr http.Header, protos ...string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, e.url+"/"+id, &websocket.DialOptions{Subprotocols: protos, HTTPHeader: hdr})
}

// connect dials as charger id with testPassword and the given protocol.
func (e *env) connect(id string, p chargedesk.Protocol) *client {
	e.t.Helper()
	ws, _, err := e.dialRaw(id, basicAuth(id, testPassword), string(p))
	if err != nil {
		e.t.Fatalf("dial %s: %v", id, err)
	}
	return e.attach(id, ws, p)
}

// attach runs a client on ws, a connection open as charger id, and waits
// until the central system holds it.
func (e *env) attach(id string, ws *websocket.Conn, p chargedesk.Protocol) *client {
	e.t.Helper()
	if ws.Subprotocol() != string(p) {
		e.t.Fatalf("subprotocol %q, want %q", ws.Subprotocol(), p)
	}
	c := &client{t: e.t, ws: ws, proto: p, in: make(chan ocpp.Message, 64), calls: make(chan ocpp.Message, 64), raw: make(chan []byte, 256), done: make(chan struct{})}
	ws.SetReadLimit(1 << 20)
	go c.readLoop()
	e.t.Cleanup(func() { ws.CloseNow(); <-c.done })
	eventually(e.t, "charger "+id+" registered", func() bool { return e.srv.Connected(id) })
	return c
}

func (c *client) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err.Store(err)
			return
		}
		select {
		case c.raw <- data:
		default:
		}
		m, err := ocpp.Parse(data)
		if err != nil {
			c.t.Errorf("central system sent a malformed frame %s: %v", data, err)
			continue
		}
		if m.Type == ocpp.Call {
			c.calls <- m
		} else {
			c.in <- m
		}
	}
}

// send writes a raw frame.
func (c *client) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next answer to one of our CALLs.
func (c *client) next() ocpp.Message {
	c.t.Helper()
	select {
	case m := <-c.in:
		return m
	case <-c.done:
		c.t.Fatalf("connection closed: %v", c.err.Load())
	case <-time.After(10 * time.Second):
		c.t.Fatal("no answer within 10s")
	}
	return ocpp.Message{}
}

// call sends a CALL and returns its answer, failing on a CALLERROR.
func (c *client) call(action string, payload any) json.RawMessage {
	c.t.Helper()
	m := c.callRaw(action, payload)
	if m.Type != ocpp.CallResult {
		c.t.Fatalf("%s: %s %s", action, m.ErrorCode, m.ErrorDescription)
	}
	if err := validator.Validate(c.proto, action, true, m.Payload); err != nil {
		c.t.Fatalf("%s answer does not validate: %v", action, err)
	}
	return m.Payload
}

// callRaw sends a CALL and returns whatever answers it.
func (c *client) callRaw(action string, payload any) ocpp.Message {
	c.t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		c.t.Fatal(err)
	}
	id := fmt.Sprintf("t-%d", c.seq.Add(1))
	c.send(string(ocpp.Message{Type: ocpp.Call, ID: id, Action: action, Payload: b}.Encode()))
	m := c.next()
	if m.ID != id {
		c.t.Fatalf("answer id %q, want %q", m.ID, id)
	}
	return m
}

// expectCall returns the next CALL from the central system.
func (c *client) expectCall(action string) ocpp.Message {
	c.t.Helper()
	select {
	case m := <-c.calls:
		if m.Action != action {
			c.t.Fatalf("got CALL %s, want %s", m.Action, action)
		}
		if err := validator.Validate(c.proto, action, false, m.Payload); err != nil {
			c.t.Fatalf("%s CALL does not validate: %v", action, err)
		}
		return m
	case <-c.done:
		c.t.Fatalf("connection closed: %v", c.err.Load())
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no %s CALL within 10s", action)
	}
	return ocpp.Message{}
}

// reply answers a CALL from the central system.
func (c *client) reply(m ocpp.Message, payload string) {
	c.t.Helper()
	c.send(string(ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: json.RawMessage(payload)}.Encode()))
}

// decode unmarshals into v.
func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// ts formats a time as OCPP does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
