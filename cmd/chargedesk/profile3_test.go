package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk/internal/pkitest"
	"github.com/coder/websocket"
)

// TestClientCASettings checks the client certificate settings: the CA file
// and whether a certificate is required, and what each needs.
func TestClientCASettings(t *testing.T) {
	dir := t.TempDir()
	ca := pkitest.NewCA(t, "chargers CA")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.Server(t).Files(t, dir, "server")
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	serverTLS := []string{"-tls-cert", certFile, "-tls-key", keyFile}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantMode string
		wantErr  string
	}{
		{"off by default", nil, serverTLS, "off", ""},
		{"flag", nil, append([]string{"-client-ca", caFile}, serverTLS...), "verified if given", ""},
		{"environment, required", map[string]string{"CHARGEDESK_OCPP_CLIENT_CA": caFile, "CHARGEDESK_OCPP_REQUIRE_CLIENT_CERT": "true"}, serverTLS, "required", ""},
		{"bare required flag", nil, append([]string{"-client-ca", caFile, "-require-client-cert"}, serverTLS...), "required", ""},
		{"CA without server TLS", nil, []string{"-client-ca", caFile}, "", "-client-ca needs -tls-cert"},
		{"required without CA", nil, append([]string{"-require-client-cert"}, serverTLS...), "", "-require-client-cert needs -client-ca"},
		{"CA file missing", nil, append([]string{"-client-ca", filepath.Join(dir, "none.pem")}, serverTLS...), "", "-client-ca"},
		{"CA file without a certificate", nil, append([]string{"-client-ca", junk}, serverTLS...), "", "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig("serve", tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.clientCertMode(); got != tt.wantMode {
				t.Fatalf("client certificates %q, want %q", got, tt.wantMode)
			}
			conf, err := cfg.ocppTLS()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]tls.ClientAuthType{"off": tls.NoClientCert, "verified if given": tls.VerifyClientCertIfGiven, "required": tls.RequireAndVerifyClientCert}[tt.wantMode]
			if conf.ClientAuth != want {
				t.Fatalf("ClientAuth %v, want %v", conf.ClientAuth, want)
			}
		})
	}
}

// profile3 is a chargedesk process serving wss:// with a server
// certificate and client certificates from ca.
type profile3 struct {
	*proc
	ca *pkitest.CA
}

// startProfile3 runs "chargedesk serve" with a CA's server certificate and
// that CA as the client CA, plus extra flags.
func startProfile3(t *testing.T, extra ...string) profile3 {
	t.Helper()
	dir := t.TempDir()
	ca := pkitest.NewCA(t, "chargers CA")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.Server(t).Files(t, dir, "server")
	args := append([]string{"-tls-cert", certFile, "-tls-key", keyFile, "-client-ca", caFile}, extra...)
	p := startProc(t, filepath.Join(dir, "data"), args...)
	if !strings.HasPrefix(p.ocppURL, "wss://") {
		t.Fatalf("OCPP endpoint %s is not wss://", p.ocppURL)
	}
	return profile3{proc: p, ca: ca}
}

// dial connects as charger id with OCPP 1.6, presenting a certificate
// whose common name is certCN (none when empty) and Basic auth with pw
// (none when empty).
func (p profile3) dial(t *testing.T, id, certCN, pw string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	conf := &tls.Config{RootCAs: p.ca.Pool(), ServerName: "localhost"}
	if certCN != "" {
		cert := p.ca.Client(t, certCN)
		conf.Certificates = []tls.Certificate{cert.TLS}
	}
	hdr := http.Header{}
	if pw != "" {
		hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+pw)))
	}
	tr := &http.Transport{TLSClientConfig: conf}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, p.ocppURL+"/"+id, &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}, HTTPHeader: hdr, HTTPClient: &http.Client{Transport: tr}})
}

// connect dials as dial does and fails the test unless it connects.
func (p profile3) connect(t *testing.T, id, certCN, pw string) *charger {
	t.Helper()
	ws, _, err := p.dial(t, id, certCN, pw)
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &charger{t: t, ws: ws}
}

// refused dials as dial does and fails the test unless the handshake is
// refused with status (0: the TLS handshake fails, no HTTP answer).
func (p profile3) refused(t *testing.T, status int, id, certCN, pw string) {
	t.Helper()
	ws, resp, err := p.dial(t, id, certCN, pw)
	if err == nil {
		ws.CloseNow()
		t.Fatalf("%s connected, want refusal %d", id, status)
	}
	got := 0
	if resp != nil {
		got = resp.StatusCode
	}
	if got != status {
		t.Fatalf("%s refused with %d (%v), want %d", id, got, err, status)
	}
}

// TestTLSProfile3 runs chargedesk serve with a client CA (OCPP security
// profile 3 beside profile 2): a charger registered through the API without
// a password connects with its certificate alone and boots; without it,
// or with a certificate for another charger, it is refused; a charger with
// a password still connects with it alone; and once an operator sets a
// charger's bootStatus to Rejected, its certificate no longer lets it in.
func TestTLSProfile3(t *testing.T) {
	p := startProfile3(t)
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-P3"}, http.StatusCreated, nil)
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-P2", "password": "tls-password-123456"}, http.StatusCreated, nil)

	c := p.connect(t, "CP-P3", "CP-P3", "")
	var boot struct{ Status string }
	if err := json.Unmarshal(c.call("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`), &boot); err != nil || boot.Status != "Accepted" {
		t.Fatalf("boot %+v (%v), want Accepted", boot, err)
	}
	c.call("Heartbeat", `{}`)

	p.connect(t, "CP-P2", "", "tls-password-123456").call("Heartbeat", `{}`)
	p.refused(t, http.StatusUnauthorized, "CP-P3", "", "")
	p.refused(t, http.StatusForbidden, "CP-P2", "CP-P3", "")

	p.api(t, "PATCH", "/api/v1/chargers/CP-P3", map[string]any{"bootStatus": "Rejected"}, http.StatusOK, nil)
	p.refused(t, http.StatusForbidden, "CP-P3", "CP-P3", "")
	p.api(t, "PATCH", "/api/v1/chargers/CP-P3", map[string]any{"bootStatus": "Accepted"}, http.StatusOK, nil)
	p.connect(t, "CP-P3", "CP-P3", "").call("Heartbeat", `{}`)
}

// TestTLSProfile3Required runs chargedesk serve requiring client
// certificates: a charger with only its password fails the TLS handshake,
// with its certificate it connects.
func TestTLSProfile3Required(t *testing.T) {
	p := startProfile3(t, "-require-client-cert")
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-P2", "password": "tls-password-123456"}, http.StatusCreated, nil)
	p.refused(t, 0, "CP-P2", "", "tls-password-123456")
	p.connect(t, "CP-P2", "CP-P2", "tls-password-123456").call("Heartbeat", `{}`)
}
