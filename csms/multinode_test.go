package csms

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/coder/websocket"
)

// node is one chargedesk node: its own central system and bus connection,
// sharing the store and the NATS server with the other nodes.
type node struct {
	srv *Server
	bus *natsbus.Bus
	url string
}

func startNode(t *testing.T, name string, store chargedesk.Store, natsURL string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var srv *Server
	bus, err := natsbus.Open(ctx, natsbus.Config{URL: natsURL, Name: name, Listen: listenIfFirst(natsURL),
		OnReplaced: func(id string) { srv.DropCharger(id) }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = New(ctx, Config{Node: name, Store: store, Validator: validator, Bus: bus, FlushInterval: 20 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		cancel()
		<-done
		bus.Close()
	})
	return &node{srv: srv, bus: bus, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"}
}

// listenIfFirst makes the first node's embedded NATS server accept the
// other nodes.
func listenIfFirst(url string) string {
	if url == "" {
		return "127.0.0.1:0"
	}
	return ""
}

// TestCommandsReachTheNodeHoldingTheCharger runs two nodes on one store and
// one NATS server: a command sent on node A's bus reaches a charger
// connected to node B, and when the charger reconnects to node A, node B
// closes its stale socket and commands follow the charger.
func TestCommandsReachTheNodeHoldingTheCharger(t *testing.T) {
	store, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "nodes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a := startNode(t, "node-a", store, "")
	b := startNode(t, "node-b", store, a.bus.ClientURL())
	e := &env{t: t, store: store}
	e.register("CP-1")

	e.srv, e.url = b.srv, b.url
	onB := e.connect("CP-1", chargedesk.OCPP16)
	res := make(chan chargedesk.Result, 1)
	go func() {
		r, err := a.bus.Send(context.Background(), chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-1", Timeout: 5 * time.Second})
		if err != nil {
			r.Detail = err.Error()
		}
		res <- r
	}()
	onB.reply(onB.expectCall("ClearCache"), `{"status":"Accepted"}`)
	if r := waitResult(t, res); r.Status != chargedesk.ResultAccepted {
		t.Fatalf("command from node A to a charger on node B: %+v", r)
	}

	// The charger comes back on node A without closing its old socket.
	e.srv, e.url = a.srv, a.url
	onA := e.connect("CP-1", chargedesk.OCPP201)
	select {
	case <-onB.done:
		if got := websocket.CloseStatus(onB.err.Load().(error)); got != websocket.StatusPolicyViolation {
			t.Errorf("stale socket on node B closed with %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node B kept its stale socket")
	}
	go func() {
		r, err := b.bus.Send(context.Background(), chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-1", Timeout: 5 * time.Second})
		if err != nil {
			r.Detail = err.Error()
		}
		res <- r
	}()
	onA.reply(onA.expectCall("ClearCache"), `{"status":"Accepted"}`)
	if r := waitResult(t, res); r.Status != chargedesk.ResultAccepted || r.Protocol != chargedesk.OCPP201 {
		t.Fatalf("command after the move: %+v", r)
	}
	ch, err := store.Charger(context.Background(), "CP-1")
	if err != nil || !ch.Connected || ch.Node != "node-a" {
		t.Fatalf("stored charger after the move: %+v %v", ch, err)
	}
}
