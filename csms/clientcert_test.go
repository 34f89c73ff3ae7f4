package csms

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/peertest"
	"github.com/chargedesk/chargedesk/internal/pkitest"
	"github.com/coder/websocket"
)

// testPKI is what a security profile 3 test needs: the CA that chargers'
// certificates chain to, the server's certificate, and a CA nobody trusts.
type testPKI struct {
	ca, rogue *pkitest.CA
	server    pkitest.Cert
}

func newTestPKI(t testing.TB) *testPKI {
	ca := pkitest.NewCA(t, "chargers CA")
	return &testPKI{ca: ca, rogue: pkitest.NewCA(t, "rogue CA"), server: ca.Server(t)}
}

// newTLSEnv starts a central system behind a real TLS listener with the
// PKI's server certificate, verifying client certificates against the
// PKI's CA as clientAuth says (as serve does with -client-ca).
func newTLSEnv(t testing.TB, pki *testPKI, clientAuth tls.ClientAuthType, edit func(*Config)) *env {
	t.Helper()
	return startEnv(t, edit, func(h http.Handler) *httptest.Server {
		hs := httptest.NewUnstartedServer(h)
		hs.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server.TLS}, ClientCAs: pki.ca.Pool(), ClientAuth: clientAuth, MinVersion: tls.VersionTLS12}
		hs.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are expected
		hs.StartTLS()
		return hs
	})
}

// dialTLS connects to a TLS env as charger id, trusting the PKI's CA for
// the server and presenting cert (nil: no certificate) and hdr.
func (e *env) dialTLS(pki *testPKI, id string, cert *pkitest.Cert, hdr http.Header, p chargedesk.Protocol) (*websocket.Conn, *http.Response, error) {
	conf := &tls.Config{RootCAs: pki.ca.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		// Like a charger with its one certificate, send it whatever CAs
		// the server names as acceptable (Go would send none that does
		// not chain to one of them).
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert.TLS, nil }
	}
	tr := &http.Transport{TLSClientConfig: conf}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, e.url+"/"+id, &websocket.DialOptions{Subprotocols: []string{string(p)}, HTTPHeader: hdr, HTTPClient: &http.Client{Transport: tr}})
}

// registerTLSOnly adds a charger without a password, with the given
// registration status.
func (e *env) registerTLSOnly(id string, status chargedesk.RegistrationStatus) {
	e.t.Helper()
	if _, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{ID: id, BootStatus: status}); err != nil {
		e.t.Fatal(err)
	}
}

// bootAnswer sends a BootNotification of the client's version and returns
// the status it was answered.
func bootAnswer(c *client) chargedesk.RegistrationStatus {
	c.t.Helper()
	payload := map[string]any{"chargePointVendor": "Acme", "chargePointModel": "DC-150", "chargePointSerialNumber": "SN1"}
	if c.proto == chargedesk.OCPP201 {
		payload = map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "Acme", "model": "DC-150", "serialNumber": "SN1"}}
	}
	var ans struct{ Status chargedesk.RegistrationStatus }
	if err := json.Unmarshal(c.call("BootNotification", payload), &ans); err != nil {
		c.t.Fatal(err)
	}
	return ans.Status
}

// connectedAuths lists, newest first, how the charger's stored Connected
// events say it authenticated.
func connectedAuths(t testing.TB, e *env, id string) []string {
	t.Helper()
	evs, err := e.store.RecentEvents(context.Background(), id, chargedesk.MaxRecentEvents)
	if err != nil {
		t.Fatal(err)
	}
	var auths []string
	for _, ev := range evs {
		if ev.Type != chargedesk.EventConnected {
			continue
		}
		var p struct{ Auth string }
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatalf("Connected event payload %s: %v", ev.Payload, err)
		}
		auths = append(auths, p.Auth)
	}
	return auths
}

// TestClientCertificates runs security profile 3 beside profile 2 on one
// TLS port (client certificates verified if given), in both OCPP
// versions: a verified certificate authenticates the charger its common
// name names, a password sent with it must still be right, a charger
// without a password needs its certificate, a disabled (Rejected) charger
// is refused however it authenticates, and a certificate from a CA the
// server does not trust fails the TLS handshake.
func TestClientCertificates(t *testing.T) {
	pki := newTestPKI(t)
	certFor := func(cn string) *pkitest.Cert { c := pki.ca.Client(t, cn); return &c }
	rogue := pki.rogue.Client(t, "CP-PW")
	tests := []struct {
		name       string
		id         string
		cert       *pkitest.Cert
		hdr        http.Header
		wantStatus int    // 0: connected; -1: the TLS handshake fails
		wantAuth   string // how a connected charger authenticated
	}{
		{"certificate for its id", "CP-PW", certFor("CP-PW"), nil, 0, "certificate"},
		{"certificate, charger registered without password", "CP-CERT", certFor("CP-CERT"), nil, 0, "certificate"},
		{"certificate and right password", "CP-PW", certFor("CP-PW"), basicAuth("CP-PW", testPassword), 0, "certificate"},
		{"certificate and wrong password", "CP-PW", certFor("CP-PW"), basicAuth("CP-PW", "wrong-password-123"), http.StatusUnauthorized, ""},
		{"certificate and a password for a charger without one", "CP-CERT", certFor("CP-CERT"), basicAuth("CP-CERT", testPassword), http.StatusUnauthorized, ""},
		{"certificate for another charger", "CP-PW", certFor("CP-CERT"), nil, http.StatusForbidden, ""},
		{"certificate for another charger, right password", "CP-PW", certFor("CP-CERT"), basicAuth("CP-PW", testPassword), http.StatusForbidden, ""},
		{"certificate from an unknown CA", "CP-PW", &rogue, nil, -1, ""},
		{"no certificate, right password (profile 2)", "CP-PW", nil, basicAuth("CP-PW", testPassword), 0, "password"},
		{"no certificate, wrong password", "CP-PW", nil, basicAuth("CP-PW", "wrong-password-123"), http.StatusUnauthorized, ""},
		{"no certificate, charger registered without password", "CP-CERT", nil, nil, http.StatusUnauthorized, ""},
		{"disabled charger, certificate", "CP-OFF-CERT", certFor("CP-OFF-CERT"), nil, http.StatusForbidden, ""},
		{"disabled charger, password", "CP-OFF", nil, basicAuth("CP-OFF", testPassword), http.StatusForbidden, ""},
		{"disabled charger, certificate and password", "CP-OFF", certFor("CP-OFF"), basicAuth("CP-OFF", testPassword), http.StatusForbidden, ""},
		{"disabled charger, wrong password", "CP-OFF", nil, basicAuth("CP-OFF", "wrong-password-123"), http.StatusUnauthorized, ""},
	}
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newTLSEnv(t, pki, tls.VerifyClientCertIfGiven, nil)
			e.register("CP-PW")
			e.registerTLSOnly("CP-CERT", chargedesk.RegistrationAccepted)
			e.register("CP-OFF")
			if err := e.store.UpdateRegistration(context.Background(), "CP-OFF", func(r *chargedesk.ChargerRegistration) error {
				r.BootStatus = chargedesk.RegistrationRejected
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			e.registerTLSOnly("CP-OFF-CERT", chargedesk.RegistrationRejected)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := len(connectedAuths(t, e, tt.id))
					ws, resp, err := e.dialTLS(pki, tt.id, tt.cert, tt.hdr, p)
					switch {
					case tt.wantStatus == 0:
						if err != nil {
							t.Fatalf("dial: %v (response %v)", err, resp)
						}
						c := e.attach(tt.id, ws, p)
						defer ws.CloseNow()
						if got := bootAnswer(c); got != chargedesk.RegistrationAccepted {
							t.Fatalf("boot answered %s, want Accepted", got)
						}
						c.call("Heartbeat", map[string]any{})
						var auths []string
						eventually(t, "the connection's Connected event", func() bool {
							auths = connectedAuths(t, e, tt.id)
							return len(auths) > before
						})
						if auths[0] != tt.wantAuth {
							t.Errorf("Connected event says auth %q, want %q", auths[0], tt.wantAuth)
						}
					case err == nil:
						ws.CloseNow()
						t.Fatalf("connected, want refusal")
					case tt.wantStatus < 0:
						if resp != nil {
							t.Fatalf("got HTTP %d, want the TLS handshake to fail", resp.StatusCode)
						}
						if !strings.Contains(err.Error(), "tls") {
							t.Errorf("dial error %v, want a TLS failure", err)
						}
					case resp == nil || resp.StatusCode != tt.wantStatus:
						t.Fatalf("response %v (err %v), want status %d", resp, err, tt.wantStatus)
					}
				})
			}
		})
	}
}

// TestClientCertificatesRequired asks for a client certificate on every
// connection: a charger with only a password fails the TLS handshake, one
// with a certificate connects, and an unknown charger presenting one is
// auto-registered Pending without a password.
func TestClientCertificatesRequired(t *testing.T) {
	pki := newTestPKI(t)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newTLSEnv(t, pki, tls.RequireAndVerifyClientCert, func(c *Config) { c.AutoRegister = true })
			e.register("CP-PW")

			ws, resp, err := e.dialTLS(pki, "CP-PW", nil, basicAuth("CP-PW", testPassword), p)
			if err == nil {
				ws.CloseNow()
				t.Fatal("a charger without a certificate connected")
			}
			if resp != nil {
				t.Fatalf("password only: HTTP %d, want the TLS handshake to fail", resp.StatusCode)
			}

			cert := pki.ca.Client(t, "CP-PW")
			ws, _, err = e.dialTLS(pki, "CP-PW", &cert, nil, p)
			if err != nil {
				t.Fatalf("dial with a certificate: %v", err)
			}
			c := e.attach("CP-PW", ws, p)
			if got := bootAnswer(c); got != chargedesk.RegistrationAccepted {
				t.Fatalf("boot answered %s, want Accepted", got)
			}

			fresh := pki.ca.Client(t, "CP-NEW")
			ws, _, err = e.dialTLS(pki, "CP-NEW", &fresh, nil, p)
			if err != nil {
				t.Fatalf("dial as an unknown charger with a certificate: %v", err)
			}
			c = e.attach("CP-NEW", ws, p)
			if got := bootAnswer(c); got != chargedesk.RegistrationPending {
				t.Fatalf("auto-registered charger's boot answered %s, want Pending", got)
			}
			hash, _, err := e.store.ChargerCredentials(context.Background(), "CP-NEW")
			if err != nil || hash != "" {
				t.Fatalf("auto-registered charger's password hash %q (err %v), want none", hash, err)
			}
		})
	}
}

// TestClientCertificateUnverifiedIsIgnored serves TLS that asks for a
// client certificate without verifying it: whatever the certificate says,
// it authenticates nobody, and the charger needs its password.
func TestClientCertificateUnverifiedIsIgnored(t *testing.T) {
	pki := newTestPKI(t)
	e := newTLSEnv(t, pki, tls.RequestClientCert, nil)
	e.register("CP-PW")
	forged := pki.rogue.Client(t, "CP-PW")
	ws, resp, err := e.dialTLS(pki, "CP-PW", &forged, nil, chargedesk.OCPP16)
	if err == nil {
		ws.CloseNow()
		t.Fatal("an unverified certificate authenticated the charger")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("response %v (err %v), want 401", resp, err)
	}
	ws, _, err = e.dialTLS(pki, "CP-PW", &forged, basicAuth("CP-PW", testPassword), chargedesk.OCPP16)
	if err != nil {
		t.Fatalf("password with an unverified certificate: %v", err)
	}
	ws.CloseNow()
}

// TestClientCertificateOCPPGo connects an independent charge point
// (github.com/lorenzodonini/ocpp-go) over TLS with a client certificate and
// no password, in both OCPP versions, and runs the charging scenario.
func TestClientCertificateOCPPGo(t *testing.T) {
	pki := newTestPKI(t)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newTLSEnv(t, pki, tls.VerifyClientCertIfGiven, nil)
			e.registerTLSOnly("PEER-3", chargedesk.RegistrationAccepted)
			e.putToken("INTEROP-TAG", chargedesk.AuthAccepted)
			cert := pki.ca.Client(t, "PEER-3")
			conf := &tls.Config{RootCAs: pki.ca.Pool(), Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
			peer := peertest.StartOCPPGo(t, peertest.Scenario{URL: e.url, ChargerID: "PEER-3", TLS: conf, Protocol: p,
				IDTag: "INTEROP-TAG", CallTimeout: 10 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done, err := peer.WaitFor(ctx, peertest.Is(peertest.EventScenarioDone, ""))
			if err != nil {
				t.Fatalf("scenario: %v\nevents: %v", err, peer.Events())
			}
			tx, err := e.store.Transaction(ctx, "PEER-3", done.TransactionID)
			if err != nil || tx.Active() || tx.IDTag != "INTEROP-TAG" {
				t.Fatalf("the scenario's transaction %+v: %v", tx, err)
			}
			ch, err := e.store.Charger(ctx, "PEER-3")
			if err != nil || ch.BootStatus != chargedesk.RegistrationAccepted {
				t.Fatalf("charger after the scenario %+v: %v", ch, err)
			}
			var auths []string
			eventually(t, "the Connected event", func() bool { auths = connectedAuths(t, e, "PEER-3"); return len(auths) > 0 })
			if auths[0] != "certificate" {
				t.Fatalf("Connected event says auth %q, want certificate", auths[0])
			}
		})
	}
}
