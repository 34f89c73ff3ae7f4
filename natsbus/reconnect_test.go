package natsbus

import (
	"net/url"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats.go"
)

// TestReconnect restarts the server under a node: serving a charger while
// the server is away works, and commands reach it once the server is back.
func TestReconnect(t *testing.T) {
	first, err := Open(t.Context(), Config{Listen: "127.0.0.1:0", Name: "server-1", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := first.ClientURL()
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}

	down := make(chan struct{}, 1)
	up := make(chan struct{}, 1)
	node := openBus(t, Config{
		URL: addr, Name: "node", HandoverTimeout: 100 * time.Millisecond, RequestMargin: 50 * time.Millisecond,
		Options: []nats.Option{
			nats.DisconnectErrHandler(func(*nats.Conn, error) { signal(down) }),
			nats.ReconnectHandler(func(*nats.Conn) { signal(up) }),
		},
	})
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatalf("node never %s", what)
		}
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	wait(down, "saw the server go")

	if _, err := node.ServeCharger("CP1", answer("node")); err != nil {
		t.Fatalf("ServeCharger while the server is away: %v", err)
	}
	if err := node.PublishEvent(event("CP1", "m1")); err != nil {
		t.Errorf("PublishEvent while the server is away: %v", err)
	}
	cmd := clearCache("CP1")
	cmd.Timeout = 50 * time.Millisecond
	if _, err := node.Send(t.Context(), cmd); chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Errorf("Send while the server is away = %v, want EUNAVAILABLE", err)
	}

	second := openBus(t, Config{Listen: u.Host, Name: "server-2"})
	wait(up, "reconnected")
	if err := node.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	res, err := second.Send(t.Context(), clearCache("CP1"))
	if err != nil || res.Status != chargedesk.ResultAccepted || res.Detail != "node:CP1" {
		t.Errorf("Send after the reconnection = %+v, %v", res, err)
	}
}

// signal notes an event on ch without ever blocking the client's callbacks.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
