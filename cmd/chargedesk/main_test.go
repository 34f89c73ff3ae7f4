package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/coder/websocket"
)

// childEnv makes the test binary run chargedesk instead of the tests, so
// that a test can kill a real process.
const childEnv = "CHARGEDESK_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		ctx, stop := signalContext()
		defer stop()
		if err := run(ctx, strings.Split(args, "\x1f"), os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "chargedesk:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const apiKey = "test-api-key-0123456789"

// proc is chargedesk running as a child process.
type proc struct {
	cmd      *exec.Cmd
	ocppURL  string // ws://127.0.0.1:port/ocpp
	apiURL   string // http://127.0.0.1:port
	stderr   *bytes.Buffer
	waitDone chan struct{}
}

var addrLine = regexp.MustCompile(`^(OCPP endpoint|operator API):\s+(\S+)`)

// startProc runs "chargedesk serve" on :0 ports with dataDir and waits until
// it prints its addresses.
func startProc(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "-http", "127.0.0.1:0", "-ocpp", "127.0.0.1:0", "-data", dataDir, "-api-keys", "test:" + apiKey, "-log-level", "debug"}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, waitDone: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.waitDone) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.waitDone
		if t.Failed() {
			t.Logf("chargedesk stderr:\n%s", p.stderr)
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for p.ocppURL == "" || p.apiURL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("chargedesk exited before it listened; stderr:\n%s", p.stderr)
			}
			if m := addrLine.FindStringSubmatch(line); m != nil {
				if m[1] == "OCPP endpoint" {
					p.ocppURL = strings.TrimSuffix(m[2], "/{chargerId}")
				} else {
					p.apiURL = strings.TrimSuffix(m[2], "/api/v1/chargers")
				}
			}
		case <-deadline:
			t.Fatal("chargedesk did not print its addresses within 30s")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// api calls the operator API and decodes the answer into out.
func (p *proc) api(t *testing.T, method, path string, body any, wantStatus int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.apiURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// charger is a minimal OCPP 1.6 client.
type charger struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func dialCharger(t *testing.T, url, id, pw string) *charger {
	t.Helper()
	return dialChargerWith(t, url, id, pw, nil)
}

func dialChargerWith(t *testing.T, url, id, pw string, client *http.Client) *charger {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+pw)))
	ws, _, err := websocket.Dial(ctx, url+"/"+id, &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}, HTTPHeader: hdr, HTTPClient: client})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &charger{t: t, ws: ws}
}

// call sends a CALL and returns the CALLRESULT payload.
func (c *charger) call(action string, payload string) json.RawMessage {
	c.t.Helper()
	c.n++
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id := fmt.Sprintf("m%d", c.n)
	if err := c.ws.Write(ctx, websocket.MessageText, ocpp.Message{Type: ocpp.Call, ID: id, Action: action, Payload: json.RawMessage(payload)}.Encode()); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("%s: %v", action, err)
		}
		m, err := ocpp.Parse(data)
		if err != nil {
			c.t.Fatal(err)
		}
		if m.ID == id {
			if m.Type != ocpp.CallResult {
				c.t.Fatalf("%s: %s %s", action, m.ErrorCode, m.ErrorDescription)
			}
			return m.Payload
		}
	}
}

// TestAcknowledgedTransactionSurvivesKill starts chargedesk as a process,
// registers a charger through the API, has the charger start a transaction,
// kills the process with SIGKILL right after the acknowledgement, restarts it
// on the same data directory and finds the transaction through the API.
func TestAcknowledgedTransactionSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dataDir := t.TempDir()
	p := startProc(t, dataDir)
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-KILL", "password": "kill-test-password-1"}, http.StatusCreated, nil)
	p.api(t, "PUT", "/api/v1/tokens/CARD-1", map[string]any{"status": "Accepted"}, http.StatusCreated, nil)

	c := dialCharger(t, p.ocppURL, "CP-KILL", "kill-test-password-1")
	c.call("BootNotification", `{"chargePointVendor":"Acme","chargePointModel":"X"}`)
	var start struct {
		TransactionID int `json:"transactionId"`
		IDTagInfo     struct{ Status string }
	}
	raw := c.call("StartTransaction", `{"connectorId":1,"idTag":"CARD-1","meterStart":100,"timestamp":"`+time.Now().UTC().Format(time.RFC3339)+`"}`)
	if err := json.Unmarshal(raw, &start); err != nil || start.TransactionID <= 0 || start.IDTagInfo.Status != "Accepted" {
		t.Fatalf("StartTransaction answer %s: %v", raw, err)
	}
	// Kill at once: no shutdown, no flush.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.waitDone

	p2 := startProc(t, dataDir)
	var txs struct{ Transactions []chargedesk.Transaction }
	p2.api(t, "GET", "/api/v1/chargers/CP-KILL/transactions", nil, http.StatusOK, &txs)
	found := false
	for _, tx := range txs.Transactions {
		if tx.ID == fmt.Sprint(start.TransactionID) && tx.IDTag == "CARD-1" && tx.Active() && tx.MeterStartWh == 100 {
			found = true
		}
	}
	if !found {
		t.Fatalf("transaction %d not found active after the kill; got %+v", start.TransactionID, txs)
	}
	// The charger reconnects and stops it on the restarted process.
	c2 := dialCharger(t, p2.ocppURL, "CP-KILL", "kill-test-password-1")
	c2.call("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":900,"timestamp":"%s"}`, start.TransactionID, time.Now().UTC().Format(time.RFC3339)))
	var ch struct {
		Connected bool `json:"connected"`
	}
	p2.api(t, "GET", "/api/v1/chargers/CP-KILL", nil, http.StatusOK, &ch)
	if !ch.Connected {
		t.Error("charger not shown connected after reconnecting")
	}
}

// get fetches a path of the operator API without a key.
func (p *proc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.apiURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbesAndMetrics(t *testing.T) {
	p := startProc(t, t.TempDir())
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := p.get(t, path); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-M", "password": "metrics-password-123"}, http.StatusCreated, nil)
	c := dialCharger(t, p.ocppURL, "CP-M", "metrics-password-123")
	c.call("BootNotification", `{"chargePointVendor":"Acme","chargePointModel":"X"}`)
	c.call("Heartbeat", `{}`)
	_, body := p.get(t, "/metrics")
	for _, want := range []string{
		"chargedesk_chargers_connected 1",
		`chargedesk_ocpp_messages_total{action="Heartbeat",direction="in",type="CALL"} 1`,
		`chargedesk_ocpp_messages_total{action="BootNotification",direction="out",type="CALLRESULT"} 1`,
		"chargedesk_http_requests_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A command through the API reaches the charger through the bus and is
	// audited.
	go func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, data, err := c.ws.Read(ctx)
			cancel()
			if err != nil {
				return
			}
			m, _ := ocpp.Parse(data)
			if m.Type == ocpp.Call {
				_ = c.ws.Write(context.Background(), websocket.MessageText, ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: json.RawMessage(`{"status":"Unlocked"}`)}.Encode())
			}
		}
	}()
	var res struct{ Status, CommandID string }
	p.api(t, "POST", "/api/v1/chargers/CP-M/commands", map[string]any{"kind": "UnlockConnector", "connectorId": 1, "reason": "test"}, http.StatusOK, &res)
	if res.Status != "Unlocked" {
		t.Fatalf("command result %+v", res)
	}
	if _, body := p.get(t, "/metrics"); !strings.Contains(body, `chargedesk_ocpp_call_duration_seconds_count{action="UnlockConnector"} 1`) {
		t.Error("/metrics lacks the command's round trip")
	}
	var audit struct{ Entries []chargedesk.AuditEntry }
	p.api(t, "GET", "/api/v1/audit?chargerId=CP-M", nil, http.StatusOK, &audit)
	if len(audit.Entries) != 2 || audit.Entries[0].Actor != "operator:test" || audit.Entries[1].Outcome != "Unlocked" {
		t.Fatalf("audit %+v", audit.Entries)
	}
}

// TestTLSProfile2 serves wss:// with a certificate (OCPP security profile 2:
// TLS plus Basic auth) and connects a charger that trusts it.
func TestTLSProfile2(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, filepath.Join(dir, "data"), "-tls-cert", certFile, "-tls-key", keyFile)
	if !strings.HasPrefix(p.ocppURL, "wss://") {
		t.Fatalf("OCPP endpoint %s is not wss://", p.ocppURL)
	}
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-TLS", "password": "tls-password-123456"}, http.StatusCreated, nil)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	c := dialChargerWith(t, p.ocppURL, "CP-TLS", "tls-password-123456", client)
	c.call("Heartbeat", `{}`)
}

// selfSigned makes a certificate for localhost and 127.0.0.1.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}
