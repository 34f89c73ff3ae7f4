package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/loadserver"
	"github.com/chargedesk/chargedesk/sim"
)

// chargedeskServer is chargedesk as "sim -load -self" starts it.
type chargedeskServer struct {
	srv  *loadserver.Server
	send func(context.Context, string) error
}

func startChargedesk(ctx context.Context, o options, stderr io.Writer) (*chargedeskServer, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := loadserver.Start(ctx, loadserver.Config{Chargers: o.chargers, IDPrefix: o.prefix, Node: "loadcompare", Logger: log})
	if err != nil {
		return nil, err
	}
	cmd, err := srv.Commander(o.commander)
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	return &chargedeskServer{srv: srv, send: sim.CommanderSend(cmd, o.callTimeout)}, nil
}

func (s *chargedeskServer) URL() string { return s.srv.URL }
func (s *chargedeskServer) Command(ctx context.Context, id string) error {
	return s.send(ctx, id)
}
func (s *chargedeskServer) Close() error { return s.srv.Close() }

// ocppGoServer is the ocpp-go OCPP 1.6 central system with its default
// WebSocket server, accepting every charger.
type ocppGoServer struct {
	cs        ocpp16.CentralSystem
	url       string
	connected atomic.Int64
}

func startOCPPGo(ctx context.Context) (*ocppGoServer, error) {
	// ocpp-go's server listens on ":port" itself (every interface; v0.19.0
	// takes no address): find a free port on loopback first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &ocppGoServer{cs: ocpp16.NewCentralSystem(nil, nil)}
	s.cs.SetCoreHandler(ocppGoCore{})
	// As ocpp-go's own examples do; Close waits for the disconnections.
	s.cs.SetNewChargePointHandler(func(ocpp16.ChargePointConnection) { s.connected.Add(1) })
	s.cs.SetChargePointDisconnectedHandler(func(ocpp16.ChargePointConnection) { s.connected.Add(-1) })
	go s.cs.Start(port, "/ocpp/{id}")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("ocpp-go central system not listening on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.url = "ws://" + addr + "/ocpp"
	return s, nil
}

func (s *ocppGoServer) URL() string { return s.url }

func (s *ocppGoServer) Command(ctx context.Context, id string) error {
	done := make(chan error, 1)
	err := s.cs.GetLocalListVersion(id, func(conf *localauth.GetLocalListVersionConfirmation, err error) {
		if err == nil && conf == nil {
			err = errors.New("no confirmation")
		}
		done <- err
	})
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AfterRun waits, a few seconds at most, for ocpp-go to process the
// chargers' disconnections (the load has closed every connection), and
// tells if it could not: ocpp-go v0.19.0's server dispatcher shares its
// RWMutex with its pending-request state, and a disconnection queues the
// client's removal on a 20-slot channel while holding that lock for
// reading; with more than 20 at once, one waiting to clear its pending
// request (the lock for writing) blocks the message pump (the channel's
// reader, the lock for reading), and the server freezes. Ten thousand
// chargers leaving at the end of a run do that (the same shared lock as
// ocpp-go issue 358; PR 412 gives the state its own lock).
func (s *ocppGoServer) AfterRun() string {
	for deadline := time.Now().Add(5 * time.Second); s.connected.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.connected.Load(); n > 0 {
		return fmt.Sprintf("ocpp-go still held %d closed connections 5 s after the load closed them all (its dispatcher deadlocks on many simultaneous disconnections; measured phases unaffected)", n)
	}
	return ""
}

// Close stops the central system, unless its dispatcher is stuck (see
// AfterRun): Stop would then wait for it forever; the process ends anyway.
func (s *ocppGoServer) Close() error {
	if s.connected.Load() > 0 {
		return nil
	}
	done := make(chan struct{})
	go func() { s.cs.Stop(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("ocpp-go central system did not stop")
	}
}

// ocppGoCore answers the Core profile's CALLs: every boot Accepted.
type ocppGoCore struct{}

func (ocppGoCore) OnAuthorize(string, *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted)), nil
}
func (ocppGoCore) OnBootNotification(string, *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	return core.NewBootNotificationConfirmation(types.NewDateTime(time.Now()), 300, core.RegistrationStatusAccepted), nil
}
func (ocppGoCore) OnDataTransfer(string, *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return core.NewDataTransferConfirmation(core.DataTransferStatusRejected), nil
}
func (ocppGoCore) OnHeartbeat(string, *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	return core.NewHeartbeatConfirmation(types.NewDateTime(time.Now())), nil
}
func (ocppGoCore) OnMeterValues(string, *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	return core.NewMeterValuesConfirmation(), nil
}
func (ocppGoCore) OnStatusNotification(string, *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	return core.NewStatusNotificationConfirmation(), nil
}
func (ocppGoCore) OnStartTransaction(string, *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted), 1), nil
}
func (ocppGoCore) OnStopTransaction(string, *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	return core.NewStopTransactionConfirmation(), nil
}

// floorServer is the least a central system can do: a coder/websocket
// server (net/http, one goroutine per connection reading it) that answers
// each charger CALL with fixed bytes, no parsing beyond the message id and
// action, no validation, no store. Its numbers are what the machine and the
// load generator cost.
type floorServer struct {
	url  string
	http *http.Server

	mu    sync.Mutex
	conns map[string]*floorConn
}

// floorConn is one charger's connection.
type floorConn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	seq     uint64
	pending map[string]chan error // our CALLs awaiting an answer, by message id
}

// Fixed answers, by action.
var floorAnswers = map[string][]byte{
	"BootNotification":   []byte(`{"status":"Accepted","currentTime":"2026-01-01T00:00:00.000Z","interval":300}`),
	"Heartbeat":          []byte(`{"currentTime":"2026-01-01T00:00:00.000Z"}`),
	"StatusNotification": []byte(`{}`),
	"MeterValues":        []byte(`{}`),
}

func startFloor() (*floorServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &floorServer{url: "ws://" + ln.Addr().String() + "/ocpp", conns: map[string]*floorConn{}}
	s.http = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

func (s *floorServer) URL() string { return s.url }

func (s *floorServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx) // hijacked connections are not waited for
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.ws.CloseNow()
	}
	return nil
}

// serve accepts one charger and reads its frames until it goes.
func (s *floorServer) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/ocpp/")
	if !ok || id == "" || strings.Contains(id, "/") {
		http.NotFound(w, r)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{string(chargedesk.OCPP16)}})
	if err != nil {
		return
	}
	if ws.Subprotocol() != string(chargedesk.OCPP16) {
		ws.Close(websocket.StatusProtocolError, "ocpp1.6 only")
		return
	}
	c := &floorConn{ws: ws, pending: map[string]chan error{}}
	s.mu.Lock()
	if old := s.conns[id]; old != nil {
		old.ws.CloseNow()
	}
	s.conns[id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.conns[id] == c {
			delete(s.conns, id)
		}
		s.mu.Unlock()
		ws.CloseNow()
	}()
	ctx := context.Background()
	var in, out []byte
	for {
		_, rd, err := ws.Reader(ctx)
		if err != nil {
			return
		}
		if in, err = readAll(rd, in[:0]); err != nil {
			return
		}
		typ, msgID, action, ok := splitFrame(in)
		if !ok {
			continue
		}
		switch typ {
		case '2':
			if ans, ok := floorAnswers[string(action)]; ok {
				out = append(append(append(append(out[:0], `[3,"`...), msgID...), `",`...), ans...)
				out = append(out, ']')
			} else {
				out = append(append(append(out[:0], `[4,"`...), msgID...), `","NotImplemented","",{}]`...)
			}
			if ws.Write(ctx, websocket.MessageText, out) != nil {
				return
			}
		case '3', '4':
			c.mu.Lock()
			ch := c.pending[string(msgID)]
			delete(c.pending, string(msgID))
			c.mu.Unlock()
			if ch != nil {
				if typ == '3' {
					ch <- nil
				} else {
					ch <- errors.New("CALLERROR")
				}
			}
		}
	}
}

// readAll appends what r holds to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// splitFrame finds an OCPP-J frame's type, message id and (for a CALL)
// action without decoding it: [2,"id","Action",...] or [3,"id",...].
func splitFrame(b []byte) (typ byte, id, action []byte, ok bool) {
	if len(b) < 6 || b[0] != '[' || b[2] != ',' || b[3] != '"' {
		return 0, nil, nil, false
	}
	typ = b[1]
	rest := b[4:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0, nil, nil, false
	}
	id, rest = rest[:end], rest[end+1:]
	if typ != '2' {
		return typ, id, nil, true
	}
	if !bytes.HasPrefix(rest, []byte(`,"`)) {
		return 0, nil, nil, false
	}
	rest = rest[2:]
	if end = bytes.IndexByte(rest, '"'); end < 0 {
		return 0, nil, nil, false
	}
	return typ, id, rest[:end], true
}

// Command writes a GetLocalListVersion CALL to the charger and waits for
// its answer.
func (s *floorServer) Command(ctx context.Context, id string) error {
	s.mu.Lock()
	c := s.conns[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%s is not connected", id)
	}
	ch := make(chan error, 1)
	c.mu.Lock()
	c.seq++
	msgID := "f" + strconv.FormatUint(c.seq, 10)
	c.pending[msgID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, msgID)
		c.mu.Unlock()
	}()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(`[2,"`+msgID+`","GetLocalListVersion",{}]`)); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
