package csms

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/coder/websocket"
)

func TestSubprotocolNegotiation(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	tests := []struct {
		name    string
		offered []string
		want    string
	}{
		{"1.6 only", []string{"ocpp1.6"}, "ocpp1.6"},
		{"2.0.1 only", []string{"ocpp2.0.1"}, "ocpp2.0.1"},
		{"both prefers 2.0.1", []string{"ocpp1.6", "ocpp2.0.1"}, "ocpp2.0.1"},
		{"unknown ones skipped", []string{"ocpp1.5", "ocpp1.6"}, "ocpp1.6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, _, err := e.dialRaw("CP-1", basicAuth("CP-1", testPassword), tt.offered...)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			if got := ws.Subprotocol(); got != tt.want {
				t.Fatalf("subprotocol %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("neither is accepted then closed", func(t *testing.T) {
		// Both specs: the handshake completes without a subprotocol and the
		// server closes the connection at once.
		ws, _, err := e.dialRaw("CP-1", basicAuth("CP-1", testPassword), "ocpp1.5", "mqtt")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		if ws.Subprotocol() != "" {
			t.Fatalf("subprotocol %q, want none", ws.Subprotocol())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err = ws.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
			t.Fatalf("close status %v (err %v), want %v", got, err, websocket.StatusProtocolError)
		}
	})
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*Config)
		id         string
		hdr        http.Header
		wantStatus int // 0: connected
	}{
		{"right password", nil, "CP-1", basicAuth("CP-1", testPassword), 0},
		{"wrong password", nil, "CP-1", basicAuth("CP-1", "wrong-password-123"), http.StatusUnauthorized},
		{"no credentials", nil, "CP-1", nil, http.StatusUnauthorized},
		{"user is another charger", nil, "CP-1", basicAuth("CP-2", testPassword), http.StatusUnauthorized},
		{"unknown charger", nil, "CP-9", basicAuth("CP-9", testPassword), http.StatusNotFound},
		{"invalid id", nil, "CP%201", basicAuth("CP 1", testPassword), http.StatusBadRequest},
		{"unknown charger auto-registered", func(c *Config) { c.AutoRegister = true }, "CP-NEW", basicAuth("CP-NEW", "a-new-password-1234"), 0},
		{"auto-register needs a valid password", func(c *Config) { c.AutoRegister = true }, "CP-NEW", basicAuth("CP-NEW", "short"), http.StatusUnauthorized},
		{"no password registered, profile 0 off", nil, "CP-OPEN", nil, http.StatusUnauthorized},
		{"no password registered, profile 0 on", func(c *Config) { c.AllowUnauthenticated = true }, "CP-OPEN", nil, 0},
		{"disabled (Rejected), right password", nil, "CP-OFF", basicAuth("CP-OFF", testPassword), http.StatusForbidden},
		{"disabled (Rejected), wrong password", nil, "CP-OFF", basicAuth("CP-OFF", "wrong-password-123"), http.StatusUnauthorized},
		{"disabled (Rejected), no password registered, profile 0 on", func(c *Config) { c.AllowUnauthenticated = true }, "CP-OFF-OPEN", nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.edit)
			e.register("CP-1")
			e.register("CP-2")
			if _, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{ID: "CP-OPEN", BootStatus: chargedesk.RegistrationAccepted}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{ID: "CP-OFF",
				PasswordHash: chargedesk.HashPassword(testPassword), BootStatus: chargedesk.RegistrationRejected}); err != nil {
				t.Fatal(err)
			}
			e.registerTLSOnly("CP-OFF-OPEN", chargedesk.RegistrationRejected)
			ws, resp, err := e.dialRaw(tt.id, tt.hdr, "ocpp1.6")
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				ws.CloseNow()
				return
			}
			if err == nil {
				ws.CloseNow()
				t.Fatal("connected, want refusal")
			}
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("response %v, want status %d", resp, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAutoRegisteredChargerIsPending(t *testing.T) {
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.AutoRegister = true })
			c := e.connect("CP-NEW", p)
			var boot string
			if p == chargedesk.OCPP16 {
				boot = string(c.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
			} else {
				boot = string(c.call("BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}}))
			}
			if !strings.Contains(boot, `"status":"Pending"`) || !strings.Contains(boot, `"interval":60`) {
				t.Fatalf("boot answer %s, want Pending with the 60s retry interval", boot)
			}
			// A Pending charger may not send anything but its boot and
			// transaction messages.
			m := c.callRaw("Heartbeat", map[string]any{})
			if m.ErrorCode != "SecurityError" {
				t.Fatalf("Heartbeat while Pending: %+v, want SecurityError", m)
			}
		})
	}
}

func TestMalformedFrames(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		// wantID is the id of the CALLERROR; wantCode its code per version.
		wantID         string
		want16, want20 string
	}{
		{"not json", `hello`, "-1", "", "RpcFrameworkError"},
		{"not an array", `{"a":1}`, "-1", "", "RpcFrameworkError"},
		{"too few elements", `[2,"m1","Heartbeat"]`, "m1", "FormationViolation", "FormatViolation"},
		{"payload not an object", `[2,"m2","Heartbeat",[]]`, "m2", "FormationViolation", "FormatViolation"},
		{"unknown message type", `[7,"m3","Heartbeat",{}]`, "m3", "ProtocolError", "MessageTypeNotSupported"},
		{"unknown action", `[2,"m4","MakeCoffee",{}]`, "m4", "NotImplemented", "NotImplemented"},
		{"action the CSMS sends", `[2,"m5","Reset",{"type":"Soft"}]`, "m5", "NotSupported", "NotSupported"},
		{"required field missing 1.6", `[2,"m6","Authorize",{}]`, "m6", "OccurenceConstraintViolation", "OccurrenceConstraintViolation"},
		{"wrong type", `[2,"m7","Authorize",{"idTag":5,"idToken":5}]`, "m7", "TypeConstraintViolation", "TypeConstraintViolation"},
		{"too long", `[2,"m8","Authorize",{"idTag":"` + strings.Repeat("x", 40) + `","idToken":{"idToken":"` + strings.Repeat("x", 40) + `","type":"ISO14443"}}]`, "m8", "PropertyConstraintViolation", "PropertyConstraintViolation"},
	}
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t, nil)
			e.register("CP-1")
			c := e.connect("CP-1", p)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					want := tt.want20
					if p == chargedesk.OCPP16 {
						want = tt.want16
					}
					c.send(tt.frame)
					if want == "" {
						// 1.6 has no way to answer a frame without an id;
						// the connection stays up (checked below).
						return
					}
					m := c.next()
					if m.ID != tt.wantID || m.ErrorCode != want {
						t.Fatalf("got %s %q %q, want CALLERROR %q %q", m.Type, m.ID, m.ErrorCode, tt.wantID, want)
					}
					if m.ErrorDescription == "" {
						t.Error("CALLERROR without description")
					}
				})
			}
			// The connection survives all of it.
			c.call("Heartbeat", map[string]any{})
		})
	}
}

func TestOversizedFrameClosesOnlyThatCharger(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFrameBytes = 4096 })
	e.register("CP-BIG")
	e.register("CP-OK")
	big := e.connect("CP-BIG", chargedesk.OCPP16)
	ok := e.connect("CP-OK", chargedesk.OCPP16)
	big.send(`[2,"x","DataTransfer",{"vendorId":"v","data":"` + strings.Repeat("a", 8000) + `"}]`)
	<-big.done
	if got := websocket.CloseStatus(big.err.Load().(error)); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status %v, want %v", got, websocket.StatusMessageTooBig)
	}
	ok.call("Heartbeat", map[string]any{})
	eventually(t, "CP-BIG disconnected", func() bool { return !e.srv.Connected("CP-BIG") })
}

func TestReconnectReplacesStaleConnection(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	old := e.connect("CP-1", chargedesk.OCPP16)
	// The charger lost its link silently and comes back: the new socket is
	// accepted at once and the old one is closed.
	fresh := e.connect("CP-1", chargedesk.OCPP201)
	select {
	case <-old.done:
	case <-time.After(5 * time.Second):
		t.Fatal("old connection not closed")
	}
	if got := websocket.CloseStatus(old.err.Load().(error)); got != websocket.StatusPolicyViolation {
		t.Errorf("old connection closed with %v, want %v", got, websocket.StatusPolicyViolation)
	}
	fresh.call("Heartbeat", map[string]any{})
	if !e.srv.Connected("CP-1") || e.srv.ConnectedCount() != 1 {
		t.Fatalf("connected %v count %d", e.srv.Connected("CP-1"), e.srv.ConnectedCount())
	}
	// The stored state shows the new connection, not the old one's end.
	eventually(t, "stored as connected over 2.0.1", func() bool {
		ch, err := e.store.Charger(context.Background(), "CP-1")
		return err == nil && ch.Connected && ch.Protocol == chargedesk.OCPP201
	})
}

func TestDisconnectIsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-1")
	c := e.connect("CP-1", chargedesk.OCPP16)
	c.ws.Close(websocket.StatusNormalClosure, "bye")
	eventually(t, "stored as disconnected", func() bool {
		ch, err := e.store.Charger(context.Background(), "CP-1")
		return err == nil && !ch.Connected && !ch.DisconnectedAt.IsZero()
	})
	eventually(t, "Connected and Disconnected events", func() bool {
		evs, err := e.store.RecentEvents(context.Background(), "CP-1", 10)
		if err != nil {
			return false
		}
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
		s := strings.Join(types, ",")
		return strings.Contains(s, chargedesk.EventDisconnected) && strings.Contains(s, chargedesk.EventConnected)
	})
}

func TestServerCloseDisconnectsEveryone(t *testing.T) {
	e := newEnv(t, nil)
	var clients []*client
	for _, id := range []string{"A", "B", "C"} {
		e.register(id)
		clients = append(clients, e.connect(id, chargedesk.OCPP16))
	}
	e.srv.Close()
	for _, c := range clients {
		<-c.done
		var ce websocket.CloseError
		if err := c.err.Load().(error); !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
			t.Errorf("closed with %v, want going away", err)
		}
	}
	if n := e.srv.ConnectedCount(); n != 0 {
		t.Fatalf("%d still connected", n)
	}
}
