package csms

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/peertest"
)

// rpcUpstream is interop/ocpprpc/centralsystem.js: ocpp-rpc's RPCServer in
// strict mode, under Node, as the upstream central system.
type rpcUpstream struct {
	t      *testing.T
	port   int
	stdin  io.WriteCloser
	events chan rpcEvent
}

type rpcEvent struct {
	Event     string          `json:"event"`
	Port      int             `json:"port"`
	Identity  string          `json:"identity"`
	Protocol  string          `json:"protocol"`
	MessageID string          `json:"messageId"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Ref       string          `json:"ref"`
	Result    json.RawMessage `json:"result"`
	Error     string          `json:"error"`
}

func startRPCUpstream(t *testing.T, password string) *rpcUpstream {
	t.Helper()
	unavailable := t.Skipf
	if os.Getenv(peertest.RequireOCPPRPCEnv) != "" {
		unavailable = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("ocpp-rpc upstream needs Node.js: %v", err)
	}
	dir := peertest.OCPPRPCDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ocpp-rpc", "package.json")); err != nil {
		unavailable("ocpp-rpc is not installed; run `npm ci --prefix interop/ocpprpc` (%v)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "centralsystem.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OCPP_PASSWORD="+password)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &rpcUpstream{t: t, stdin: stdin, events: make(chan rpcEvent, 256)}
	go func() {
		defer close(u.events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev rpcEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				u.events <- ev
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close() // the script exits when stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	u.port = u.next("listening").Port
	return u
}

// next returns the next event of kind ev, skipping others.
func (u *rpcUpstream) next(ev string) rpcEvent {
	u.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-u.events:
			if !ok {
				u.t.Fatalf("ocpp-rpc upstream ended before %s", ev)
			}
			if e.Event == ev {
				return e
			}
		case <-deadline:
			u.t.Fatalf("no %s from the ocpp-rpc upstream within 10s", ev)
		}
	}
}

// send asks the upstream to send a CALL to a charger.
func (u *rpcUpstream) send(ref, identity, method string, params any) {
	u.t.Helper()
	b, _ := json.Marshal(map[string]any{"ref": ref, "identity": identity, "method": method, "params": params})
	if _, err := u.stdin.Write(append(b, '\n')); err != nil {
		u.t.Fatal(err)
	}
}

// TestProxyOCPPRPCUpstream puts ocpp-rpc's strict-mode server behind
// chargedesk: what chargedesk relays, both ways, must pass its schema
// validation, under the charger's identity and message ids.
func TestProxyOCPPRPCUpstream(t *testing.T) {
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			up := startRPCUpstream(t, testPassword)
			e := newEnv(t, func(c *Config) {
				c.Upstream = "ws://127.0.0.1:" + strconv.Itoa(up.port)
				c.UpstreamTimeout, c.UpstreamRetry = 5*time.Second, 50*time.Millisecond
			})
			e.register("PX-4")
			ch := e.connect("PX-4", p)
			if c := up.next("connected"); c.Identity != "PX-4" || c.Protocol != string(p) {
				t.Fatalf("upstream saw %+v", c)
			}
			eventually(t, "upstream link up", func() bool { return e.srv.UpstreamUp("PX-4") })
			now := time.Now()
			expectUp := func(method, id string) rpcEvent {
				t.Helper()
				c := up.next("call")
				if c.Identity != "PX-4" || c.Method != method || c.MessageID != id {
					t.Fatalf("upstream got %s %s id %s, want %s %s", c.Identity, c.Method, c.MessageID, method, id)
				}
				return c
			}
			var remote, remoteParams = "RemoteStartTransaction", map[string]any{"idTag": "TAG-2"}
			if p == chargedesk.OCPP16 {
				boot := decode[struct{ Interval int }](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
				if boot.Interval != 88 {
					t.Fatalf("boot interval %d: not the upstream's", boot.Interval)
				}
				expectUp("BootNotification", "t-1")
				st := decode[struct {
					TransactionID int `json:"transactionId"`
				}](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(now)}))
				if st.TransactionID != 200 {
					t.Fatalf("transaction %d, want the upstream's 200", st.TransactionID)
				}
				expectUp("StartTransaction", "t-2")
				ch.call("StopTransaction", map[string]any{"transactionId": 200, "meterStop": 2000, "timestamp": ts(now.Add(time.Minute))})
				expectUp("StopTransaction", "t-3")
			} else {
				boot := decode[struct{ Interval int }](t, ch.call("BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}}))
				if boot.Interval != 88 {
					t.Fatalf("boot interval %d: not the upstream's", boot.Interval)
				}
				expectUp("BootNotification", "t-1")
				ch.call("TransactionEvent", txEvent201("Started", now, 0, "TX-R", 1000, map[string]any{"idToken": map[string]any{"idToken": "TAG-1", "type": "ISO14443"}}))
				expectUp("TransactionEvent", "t-2")
				ch.call("TransactionEvent", txEvent201("Ended", now.Add(time.Minute), 1, "TX-R", 2000, nil))
				expectUp("TransactionEvent", "t-3")
				remote, remoteParams = "RequestStartTransaction", map[string]any{"idToken": map[string]any{"idToken": "TAG-2", "type": "ISO14443"}, "remoteStartId": 7}
			}
			tx, err := e.store.Transaction(context.Background(), "PX-4", map[bool]string{true: "200", false: "TX-R"}[p == chargedesk.OCPP16])
			if err != nil || tx.Active() || tx.MeterStopWh != 2000 {
				t.Fatalf("learned transaction %+v %v", tx, err)
			}

			up.send("r1", "PX-4", remote, remoteParams)
			rs := ch.expectCall(remote)
			ch.reply(rs, `{"status":"Accepted"}`)
			r := up.next("result")
			if r.Ref != "r1" || string(r.Result) != `{"status":"Accepted"}` {
				t.Fatalf("upstream's %s ended with %+v", remote, r)
			}
		})
	}
}
