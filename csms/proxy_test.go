package csms

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// upstream16 is an independent OCPP 1.6 central system (ocpp-go) playing
// the network's existing CSMS. It records what it is sent, raw, by charger.
type upstream16 struct {
	t    *testing.T
	cs   ocpp16.CentralSystem
	port int

	frameLog
	mu     sync.Mutex
	nextTx int
}

// frameLog records the raw frames an upstream receives, by charger.
type frameLog struct {
	fmu    sync.Mutex
	frames []upFrame // in order
}

type upFrame struct {
	charger string
	msg     ocpp.Message
}

// recordingServer records every raw frame the upstream receives.
type recordingServer struct {
	ws.WsServer
	log *frameLog
}

func (r *recordingServer) SetMessageHandler(h func(ws.Channel, []byte) error) {
	r.WsServer.SetMessageHandler(func(ch ws.Channel, data []byte) error {
		if m, err := ocpp.Parse(data); err == nil {
			r.log.fmu.Lock()
			r.log.frames = append(r.log.frames, upFrame{ch.ID(), m})
			r.log.fmu.Unlock()
		}
		return h(ch, data)
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startUpstream16(t *testing.T, user, password string) *upstream16 {
	u := &upstream16{t: t, port: freePort(t), nextTx: 100}
	srv := ws.NewServer()
	srv.SetBasicAuthHandler(func(uu, pw string) bool { return uu == user && pw == password })
	u.cs = ocpp16.NewCentralSystem(nil, &recordingServer{WsServer: srv, log: &u.frameLog})
	u.cs.SetCoreHandler(u)
	go u.cs.Start(u.port, "/ocpp/{id}")
	t.Cleanup(u.cs.Stop)
	listening(t, "upstream", u.port)
	return u
}

// listening waits until something accepts TCP connections on port.
func listening(t *testing.T, what string, port int) {
	t.Helper()
	eventually(t, what+" listening", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// calls returns the CALLs the upstream received, as "charger action".
func (u *frameLog) calls() []upFrame {
	u.fmu.Lock()
	defer u.fmu.Unlock()
	var out []upFrame
	for _, f := range u.frames {
		if f.msg.Type == ocpp.Call {
			out = append(out, f)
		}
	}
	return out
}

func (u *frameLog) sawID(id string) bool {
	u.fmu.Lock()
	defer u.fmu.Unlock()
	for _, f := range u.frames {
		if f.msg.ID == id {
			return true
		}
	}
	return false
}

func (u *upstream16) OnAuthorize(string, *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted)), nil
}
func (u *upstream16) OnBootNotification(string, *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	return core.NewBootNotificationConfirmation(types.NewDateTime(time.Now()), 77, core.RegistrationStatusAccepted), nil
}
func (u *upstream16) OnDataTransfer(string, *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return core.NewDataTransferConfirmation(core.DataTransferStatusRejected), nil
}
func (u *upstream16) OnHeartbeat(string, *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	return core.NewHeartbeatConfirmation(types.NewDateTime(time.Now())), nil
}
func (u *upstream16) OnMeterValues(string, *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	return core.NewMeterValuesConfirmation(), nil
}
func (u *upstream16) OnStatusNotification(string, *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	return core.NewStatusNotificationConfirmation(), nil
}
func (u *upstream16) OnStartTransaction(string, *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	u.mu.Lock()
	id := u.nextTx
	u.nextTx++
	u.mu.Unlock()
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(types.AuthorizationStatusAccepted), id), nil
}
func (u *upstream16) OnStopTransaction(string, *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	return core.NewStopTransactionConfirmation(), nil
}

// tcpGate forwards loopback TCP to a target and can cut every connection
// and refuse new ones: the upstream's network going down and back.
type tcpGate struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func newTCPGate(t *testing.T, target string) *tcpGate {
	g := &tcpGate{t: t, addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), target: target}
	g.up()
	t.Cleanup(g.down)
	return g
}

func (g *tcpGate) up() {
	l, err := net.Listen("tcp", g.addr)
	if err != nil {
		g.t.Fatal(err)
	}
	g.mu.Lock()
	g.l = l
	g.mu.Unlock()
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", g.target)
			if err != nil {
				in.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, in, out)
			g.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

func (g *tcpGate) down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.l != nil {
		g.l.Close()
		g.l = nil
	}
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// TestProxy16 runs chargedesk in proxy mode between a 1.6 charger and an
// independent central system (ocpp-go): relayed traffic both ways, learned
// state, chargedesk's own command kept from the upstream, and an outage
// during a session answered locally, held and replayed in order with the
// transaction id mapped.
func TestProxy16(t *testing.T) {
	up := startUpstream16(t, "PX-1", testPassword)
	gate := newTCPGate(t, "127.0.0.1:"+strconv.Itoa(up.port))
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *Config) {
		c.Upstream = "ws://" + gate.addr + "/ocpp"
		c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 50*time.Millisecond
		c.Registerer = reg
	})
	e.register("PX-1")
	ctx := context.Background()
	ch := e.connect("PX-1", chargedesk.OCPP16)
	eventually(t, "upstream link up", func() bool { return e.srv.UpstreamUp("PX-1") })
	if v := testutil.ToFloat64(e.srv.metrics.upstreamUp.WithLabelValues("PX-1")); v != 1 {
		t.Fatalf("link metric %v", v)
	}

	// Relayed: the answers are the upstream's.
	boot := decode[v16.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
	if boot.Status != v16.RegistrationStatusAccepted || boot.Interval != 77 {
		t.Fatalf("boot answer %+v: not the upstream's", boot)
	}
	ch.call("Heartbeat", map[string]any{})
	now := time.Now()
	ch.call("StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": ts(now)})
	start := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(now)}))
	if start.TransactionID != 100 {
		t.Fatalf("transaction id %d, want the upstream's 100", start.TransactionID)
	}
	ch.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": 100, "meterValue": []any{map[string]any{"timestamp": ts(now.Add(time.Minute)), "sampledValue": []any{map[string]any{"value": "1500"}}}}})
	ch.call("StopTransaction", map[string]any{"transactionId": 100, "meterStop": 2000, "timestamp": ts(now.Add(2 * time.Minute))})

	want := []string{"BootNotification", "Heartbeat", "StatusNotification", "StartTransaction", "MeterValues", "StopTransaction"}
	got := up.calls()
	if len(got) != len(want) {
		t.Fatalf("upstream saw %d CALLs, want %v", len(got), want)
	}
	for i, f := range got {
		if f.charger != "PX-1" || f.msg.Action != want[i] || f.msg.ID != "t-"+strconv.Itoa(i+1) {
			t.Fatalf("upstream CALL %d: %s %s id %s", i, f.charger, f.msg.Action, f.msg.ID)
		}
	}
	// Learned with the same handlers: the transaction under the upstream's id.
	tx, err := e.store.Transaction(ctx, "PX-1", "100")
	if err != nil || tx.Active() || tx.MeterStopWh != 2000 || tx.IDTag != "TAG-1" {
		t.Fatalf("stored transaction %+v %v", tx, err)
	}
	chg, _ := e.store.Charger(ctx, "PX-1")
	if chg.Vendor != "V" || len(chg.Connectors) == 0 || chg.Connectors[0].Status != chargedesk.ConnectorStatus("Preparing") {
		t.Fatalf("stored charger %+v", chg)
	}

	// The upstream's command reaches the charger and its answer the upstream.
	res := make(chan string, 1)
	if err := up.cs.RemoteStartTransaction("PX-1", func(c *core.RemoteStartTransactionConfirmation, err error) {
		if err != nil {
			res <- "error: " + err.Error()
			return
		}
		res <- string(c.Status)
	}, "TAG-2"); err != nil {
		t.Fatal(err)
	}
	rs := ch.expectCall("RemoteStartTransaction")
	ch.reply(rs, `{"status":"Accepted"}`)
	select {
	case s := <-res:
		if s != "Accepted" {
			t.Fatalf("upstream got %s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upstream got no answer to RemoteStartTransaction")
	}

	// chargedesk's own command: to the charger, its answer not upstream.
	done := make(chan chargedesk.Result, 1)
	go func() {
		r, err := e.srv.Send(ctx, chargedesk.Command{ID: "cmd-1", ChargerID: "PX-1", Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft, Timeout: 10 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	rc := ch.expectCall("Reset")
	ch.reply(rc, `{"status":"Accepted"}`)
	if r := <-done; r.Status != chargedesk.ResultAccepted {
		t.Fatalf("reset result %+v", r)
	}
	time.Sleep(100 * time.Millisecond)
	if up.sawID(rc.ID) {
		t.Fatal("the answer to chargedesk's own command reached the upstream")
	}

	// Outage mid-session: answered locally, held, nothing lost.
	gate.down()
	eventually(t, "upstream link down", func() bool { return !e.srv.UpstreamUp("PX-1") })
	before := len(up.calls())
	ch.call("Heartbeat", map[string]any{})
	t2 := now.Add(time.Hour)
	ls := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-3", "meterStart": 5000, "timestamp": ts(t2)}))
	if ls.TransactionID < localTxBase || ls.IDTagInfo.Status != v16.AuthorizationStatusAccepted {
		t.Fatalf("local start answer %+v", ls)
	}
	local := ls.TransactionID
	ch.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": local, "meterValue": []any{map[string]any{"timestamp": ts(t2.Add(time.Minute)), "sampledValue": []any{map[string]any{"value": "5500"}}}}})
	ch.call("StopTransaction", map[string]any{"transactionId": local, "meterStop": 6000, "timestamp": ts(t2.Add(2 * time.Minute)), "idTag": "TAG-3"})
	if v := testutil.ToFloat64(e.srv.metrics.upstreamHeld.WithLabelValues("PX-1")); v != 3 {
		t.Fatalf("held metric %v, want 3", v)
	}
	if n, _ := e.store.CountHeldUpstream(ctx, "PX-1"); n != 3 {
		t.Fatalf("%d held in the store, want 3", n)
	}
	if ltx, err := e.store.Transaction(ctx, "PX-1", strconv.Itoa(local)); err != nil || ltx.Active() || ltx.MeterStopWh != 6000 {
		t.Fatalf("locally numbered transaction %+v %v", ltx, err)
	}

	gate.up()
	eventually(t, "held messages delivered", func() bool {
		n, _ := e.store.CountHeldUpstream(ctx, "PX-1")
		return n == 0 && len(up.calls()) >= before+3
	})
	replayed := up.calls()[before:]
	var acts []string
	for _, f := range replayed {
		acts = append(acts, f.msg.Action)
	}
	if strings.Join(acts, ",") != "StartTransaction,MeterValues,StopTransaction" {
		t.Fatalf("replayed %v", acts)
	}
	for _, f := range replayed[1:] {
		var p struct {
			TransactionID int `json:"transactionId"`
		}
		_ = json.Unmarshal(f.msg.Payload, &p)
		if p.TransactionID != 101 {
			t.Fatalf("replayed %s with transaction id %d, want the upstream's 101", f.msg.Action, p.TransactionID)
		}
	}
	if id, err := e.store.UpstreamTransaction(ctx, "PX-1", strconv.Itoa(local)); err != nil || id != "101" {
		t.Fatalf("mapping %q %v", id, err)
	}
	if v := testutil.ToFloat64(e.srv.metrics.upstreamHeld.WithLabelValues("PX-1")); v != 0 {
		t.Fatalf("held metric %v after delivery", v)
	}
	// After the outage, live traffic is relayed again.
	ch.call("Heartbeat", map[string]any{})
	if c := up.calls(); c[len(c)-1].msg.Action != "Heartbeat" {
		t.Fatalf("after the outage the upstream saw %s last", c[len(c)-1].msg.Action)
	}

	// The upstream stops the transaction by its id; the charger knows it
	// by the local one.
	stop := make(chan string, 1)
	if err := up.cs.RemoteStopTransaction("PX-1", func(c *core.RemoteStopTransactionConfirmation, err error) {
		if err != nil {
			stop <- "error: " + err.Error()
			return
		}
		stop <- string(c.Status)
	}, 101); err != nil {
		t.Fatal(err)
	}
	rst := ch.expectCall("RemoteStopTransaction")
	if p := decode[struct {
		TransactionID int `json:"transactionId"`
	}](t, rst.Payload); p.TransactionID != local {
		t.Fatalf("charger asked to stop transaction %d, want its local %d", p.TransactionID, local)
	}
	ch.reply(rst, `{"status":"Accepted"}`)
	select {
	case s := <-stop:
		if s != "Accepted" {
			t.Fatalf("upstream got %s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upstream got no answer to RemoteStopTransaction")
	}
	// An id the upstream numbered itself goes through as it is.
	if err := up.cs.RemoteStopTransaction("PX-1", func(*core.RemoteStopTransactionConfirmation, error) {}, 100); err != nil {
		t.Fatal(err)
	}
	rst = ch.expectCall("RemoteStopTransaction")
	if p := decode[struct {
		TransactionID int `json:"transactionId"`
	}](t, rst.Payload); p.TransactionID != 100 {
		t.Fatalf("charger asked to stop transaction %d, want 100", p.TransactionID)
	}
	ch.reply(rst, `{"status":"Rejected"}`)
}

// TestProxyBootAsItConnects: a charger's boot, sent the moment it
// connects, reaches the upstream — it waits for the link being set up
// rather than being answered locally.
func TestProxyBootAsItConnects(t *testing.T) {
	up := startUpstream16(t, "PX-B", testPassword)
	// A slow network to the upstream: each connection is passed on after
	// 300 ms, so the charger's boot comes while the link is being set up.
	slow := slowDialer(t, "127.0.0.1:"+strconv.Itoa(up.port), 300*time.Millisecond)
	e := newEnv(t, func(c *Config) {
		c.Upstream = "ws://" + slow + "/ocpp"
		c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 50*time.Millisecond
	})
	e.register("PX-B")
	ch := e.connect("PX-B", chargedesk.OCPP16)
	boot := decode[v16.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
	if boot.Interval != 77 {
		t.Fatalf("boot answered %+v, not by the upstream", boot)
	}
	if calls := up.calls(); len(calls) == 0 || calls[0].msg.Action != "BootNotification" {
		t.Fatalf("the upstream saw %+v", calls)
	}
}

// slowDialer listens on loopback and passes each connection on to target
// after delay; it returns its address.
func slowDialer(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				time.Sleep(delay)
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in); out.Close() }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return l.Addr().String()
}
