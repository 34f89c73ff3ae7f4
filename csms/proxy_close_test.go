package csms

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// closingUpstream is a minimal 1.6 central system that can close its links
// with a chosen close code and refuse handshakes with a chosen HTTP status.
type closingUpstream struct {
	t      *testing.T
	refuse atomic.Int32 // HTTP status to refuse handshakes with; 0 accepts
	// dropOn, when set, is an action the upstream takes in but answers by
	// closing the link with 1011.
	dropOn atomic.Value
	dials  atomic.Int32 // handshakes attempted
	open   atomic.Int32 // links open now
	nextTx atomic.Int32

	mu      sync.Mutex
	links   []*websocket.Conn
	calls   []ocpp.Message
	auths   []string          // Authorization header of each accepted handshake
	answers chan ocpp.Message // the charger's answers to the upstream's CALLs
}

func startClosingUpstream(t *testing.T) (*closingUpstream, string) {
	u := &closingUpstream{t: t, answers: make(chan ocpp.Message, 16)}
	u.nextTx.Store(100)
	hs := httptest.NewServer(http.HandlerFunc(u.serveHTTP))
	t.Cleanup(hs.Close)
	return u, "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"
}

func (u *closingUpstream) serveHTTP(w http.ResponseWriter, r *http.Request) {
	u.dials.Add(1)
	if code := u.refuse.Load(); code != 0 {
		http.Error(w, http.StatusText(int(code)), int(code))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6"}})
	if err != nil {
		return
	}
	u.mu.Lock()
	u.links = append(u.links, ws)
	u.auths = append(u.auths, r.Header.Get("Authorization"))
	u.mu.Unlock()
	u.open.Add(1)
	defer u.open.Add(-1)
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		m, err := ocpp.Parse(data)
		if err != nil {
			continue
		}
		if m.Type != ocpp.Call {
			u.answers <- m
			continue
		}
		u.mu.Lock()
		u.calls = append(u.calls, m)
		u.mu.Unlock()
		if a, _ := u.dropOn.Load().(string); a == m.Action {
			ws.Close(websocket.StatusInternalError, "crashed on "+a)
			return
		}
		payload := `{}`
		switch m.Action {
		case "BootNotification":
			payload = `{"status":"Accepted","currentTime":"` + ts(time.Now()) + `","interval":77}`
		case "Heartbeat":
			payload = `{"currentTime":"` + ts(time.Now()) + `"}`
		case "StartTransaction":
			payload = `{"transactionId":` + strconv.Itoa(int(u.nextTx.Add(1)-1)) + `,"idTagInfo":{"status":"Accepted"}}`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ws.Write(ctx, websocket.MessageText, ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: json.RawMessage(payload)}.Encode())
		cancel()
	}
}

// closeLinks closes every open link with code.
func (u *closingUpstream) closeLinks(code websocket.StatusCode) {
	u.mu.Lock()
	links := u.links
	u.links = nil
	u.mu.Unlock()
	for _, ws := range links {
		go ws.Close(code, "upstream says goodbye")
	}
}

// call sends a CALL to the charger on the newest link.
func (u *closingUpstream) call(id, action, payload string) {
	u.t.Helper()
	u.mu.Lock()
	ws := u.links[len(u.links)-1]
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, ocpp.Message{Type: ocpp.Call, ID: id, Action: action, Payload: json.RawMessage(payload)}.Encode()); err != nil {
		u.t.Fatal(err)
	}
}

// answer waits for the charger's answer to the upstream's CALL id.
func (u *closingUpstream) answer(id string) ocpp.Message {
	u.t.Helper()
	select {
	case m := <-u.answers:
		if m.ID != id {
			u.t.Fatalf("upstream got an answer to %s, want %s", m.ID, id)
		}
		return m
	case <-time.After(10 * time.Second):
		u.t.Fatalf("upstream got no answer to %s", id)
	}
	return ocpp.Message{}
}

// authorizations returns the Authorization header of each accepted link.
func (u *closingUpstream) authorizations() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auths...)
}

func (u *closingUpstream) received() []ocpp.Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]ocpp.Message(nil), u.calls...)
}

// TestProxyUpstreamCloses has the upstream end the link in the ways a
// central system does — a close frame with various codes, then refused
// handshakes while it restarts, or refused handshakes from the start of a
// redial (401, 404) — and checks each time that the charger stays
// connected to chargedesk, the link shows down, transaction messages are
// answered locally and held, and the link is redialled and the held
// messages delivered once the upstream accepts again.
func TestProxyUpstreamCloses(t *testing.T) {
	cases := []struct {
		name    string
		close   websocket.StatusCode // the upstream closes its link with
		refuse  int                  // HTTP status of the handshakes meanwhile
		minDial int32                // refused handshakes to see before accepting
	}{
		{"1000 normal", websocket.StatusNormalClosure, http.StatusServiceUnavailable, 1},
		{"1001 going away", websocket.StatusGoingAway, http.StatusServiceUnavailable, 1},
		{"1008 policy", websocket.StatusPolicyViolation, http.StatusServiceUnavailable, 1},
		{"1011 internal error", websocket.StatusInternalError, http.StatusServiceUnavailable, 1},
		{"refused 401", websocket.StatusInternalError, http.StatusUnauthorized, 3},
		{"refused 404", websocket.StatusGoingAway, http.StatusNotFound, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up, url := startClosingUpstream(t)
			reg := prometheus.NewRegistry()
			e := newEnv(t, func(c *Config) {
				c.Upstream = url
				c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 20*time.Millisecond
				c.Registerer = reg
			})
			e.register("PX-3")
			ctx := context.Background()
			ch := e.connect("PX-3", chargedesk.OCPP16)
			linkMetric := func() float64 { return testutil.ToFloat64(e.srv.metrics.upstreamUp.WithLabelValues("PX-3")) }
			eventually(t, "upstream link up", func() bool { return e.srv.UpstreamUp("PX-3") && linkMetric() == 1 })
			boot := decode[v16.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
			if boot.Interval != 77 {
				t.Fatalf("boot answer %+v: not the upstream's", boot)
			}

			up.refuse.Store(int32(tc.refuse))
			dialsBefore := up.dials.Load()
			up.closeLinks(tc.close)
			eventually(t, "upstream link down", func() bool { return !e.srv.UpstreamUp("PX-3") && linkMetric() == 0 })
			if !e.srv.Connected("PX-3") {
				t.Fatal("the charger was disconnected with the upstream")
			}

			// Answered locally and held.
			now := time.Now()
			ch.call("Heartbeat", map[string]any{})
			st := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(now)}))
			if st.TransactionID < localTxBase {
				t.Fatalf("start answered with %d, not a local id", st.TransactionID)
			}
			ch.call("MeterValues", map[string]any{"connectorId": 1, "transactionId": st.TransactionID, "meterValue": []any{map[string]any{"timestamp": ts(now.Add(time.Minute)), "sampledValue": []any{map[string]any{"value": "1500"}}}}})
			if n, _ := e.store.CountHeldUpstream(ctx, "PX-3"); n != 2 {
				t.Fatalf("%d held, want 2", n)
			}
			if v := testutil.ToFloat64(e.srv.metrics.upstreamHeld.WithLabelValues("PX-3")); v != 2 {
				t.Fatalf("held metric %v, want 2", v)
			}
			// Redialled, and refused, while the charger stays.
			eventually(t, "redials refused", func() bool { return up.dials.Load()-dialsBefore >= tc.minDial })
			if e.srv.UpstreamUp("PX-3") || !e.srv.Connected("PX-3") {
				t.Fatal("link up while refused, or charger gone")
			}

			up.refuse.Store(0)
			eventually(t, "link back and held messages delivered", func() bool {
				n, _ := e.store.CountHeldUpstream(ctx, "PX-3")
				return n == 0 && e.srv.UpstreamUp("PX-3") && linkMetric() == 1
			})
			var acts []string
			for _, m := range up.received() {
				acts = append(acts, m.Action)
			}
			if s := strings.Join(acts, ","); s != "BootNotification,StartTransaction,MeterValues" {
				t.Fatalf("upstream received %s", s)
			}
			mv := decode[struct {
				TransactionID int `json:"transactionId"`
			}](t, up.received()[2].Payload)
			if mv.TransactionID != 100 {
				t.Fatalf("held MeterValues delivered with transaction %d, want the upstream's 100", mv.TransactionID)
			}
			ch.call("Heartbeat", map[string]any{})
			if r := up.received(); r[len(r)-1].Action != "Heartbeat" {
				t.Fatal("live traffic not relayed after the link came back")
			}
		})
	}
}

// TestProxyUpstreamClosesMidCall has the upstream take in a charger's
// StartTransaction and close the link instead of answering: the charger is
// answered locally, the message held and delivered again once the link is
// back (at least once: the upstream sees the same message id twice).
func TestProxyUpstreamClosesMidCall(t *testing.T) {
	up, url := startClosingUpstream(t)
	e := newEnv(t, func(c *Config) {
		c.Upstream = url
		c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 20*time.Millisecond
		c.Registerer = prometheus.NewRegistry()
	})
	e.register("PX-5")
	ctx := context.Background()
	ch := e.connect("PX-5", chargedesk.OCPP16)
	eventually(t, "upstream link up", func() bool { return e.srv.UpstreamUp("PX-5") })
	up.dropOn.Store("StartTransaction")
	up.refuse.Store(http.StatusServiceUnavailable)
	st := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(time.Now())}))
	if st.TransactionID < localTxBase {
		t.Fatalf("start answered with %d, not a local id", st.TransactionID)
	}
	if n, _ := e.store.CountHeldUpstream(ctx, "PX-5"); n != 1 || !e.srv.Connected("PX-5") {
		t.Fatalf("%d held (want 1), charger connected %v", n, e.srv.Connected("PX-5"))
	}
	up.dropOn.Store("")
	up.refuse.Store(0)
	eventually(t, "held start delivered", func() bool {
		n, _ := e.store.CountHeldUpstream(ctx, "PX-5")
		return n == 0 && e.srv.UpstreamUp("PX-5")
	})
	r := up.received()
	if len(r) != 2 || r[0].Action != "StartTransaction" || r[1].ID != r[0].ID {
		t.Fatalf("upstream received %+v", r)
	}
	if id, err := e.store.UpstreamTransaction(ctx, "PX-5", strconv.Itoa(st.TransactionID)); err != nil || id != "100" {
		t.Fatalf("mapping %q %v", id, err)
	}
}
