package csms

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/coder/websocket"
)

// pipeListener serves connections made of net.Pipe, which buffers nothing:
// a frame written to a peer that does not read blocks at once.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.conns <- b:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, errors.New("listener closed")
	}
}

// TestStalledWriteDropsCharger: a charger that stops reading while
// chargedesk writes to it is dropped once WriteTimeout has passed.
func TestStalledWriteDropsCharger(t *testing.T) {
	l := newPipeListener()
	e := startEnv(t, func(c *Config) { c.WriteTimeout = 100 * time.Millisecond; c.PingInterval = -1 }, func(h http.Handler) *httptest.Server {
		hs := httptest.NewUnstartedServer(h)
		hs.Listener = l
		hs.Start()
		return hs
	})
	e.register("CP-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, e.url+"/CP-1", &websocket.DialOptions{
		Subprotocols: []string{string(chargedesk.OCPP16)}, HTTPHeader: basicAuth("CP-1", testPassword),
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: l.dial}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	eventually(t, "connected", func() bool { return e.srv.Connected("CP-1") })
	// The answer to this Heartbeat is never read.
	start := time.Now()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`[2,"1","Heartbeat",{}]`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dropped after the write timeout", func() bool { return !e.srv.Connected("CP-1") })
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("dropped after %v, before the write timeout", d)
	}
}

// TestWriteDeadlineCleared: the deadline of a frame write does not outlive
// it: pings sent long after (with a write timeout far shorter than the
// ping interval) still go out, and the charger stays connected.
func TestWriteDeadlineCleared(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.WriteTimeout = 20 * time.Millisecond; c.PingInterval = 100 * time.Millisecond })
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	c.call("Heartbeat", map[string]any{})
	time.Sleep(600 * time.Millisecond) // several pings, all written well after the deadline above
	if !e.srv.Connected("CP-1") {
		t.Fatal("charger dropped: a ping met a stale write deadline")
	}
	c.call("Heartbeat", map[string]any{})
}
