package csms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestProxyRoute moves a connected charger to another upstream, with
// credentials of its own, through its stored route (as the API sets it),
// and back to the server's defaults; the link's recorded state follows.
func TestProxyRoute(t *testing.T) {
	a, urlA := startClosingUpstream(t)
	b, urlB := startClosingUpstream(t)
	e := newEnv(t, func(c *Config) {
		c.Upstream = urlA
		c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 30*time.Millisecond
	})
	e.register("PX-R")
	ctx := context.Background()
	ch := e.connect("PX-R", chargedesk.OCPP16)
	eventually(t, "link to A", func() bool { return e.srv.UpstreamUp("PX-R") && len(a.authorizations()) == 1 })
	if got, want := a.authorizations()[0], basicAuth("PX-R", testPassword).Get("Authorization"); got != want {
		t.Fatalf("A saw Authorization %q, want the charger's own %q", got, want)
	}
	eventually(t, "link recorded up", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-R")
		return err == nil && l.Up
	})
	// The first frame relayed on a link is recorded at once, not only
	// with the periodic record.
	ch.call("Heartbeat", map[string]any{})
	eventually(t, "first relay recorded", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-R")
		return err == nil && l.Up && l.URL == urlA+"/PX-R" && l.Node == "test-node" && l.Relayed >= 1 && l.RelayMeanUS > 0
	})

	route := &chargedesk.UpstreamRoute{ChargerID: "PX-R", URL: urlB, Auth: chargedesk.UpstreamAuthBasic, Username: "cp-r", Password: "pw for b", UpdatedBy: "operator:test"}
	if err := e.store.PutUpstreamRoute(ctx, route); err != nil {
		t.Fatal(err)
	}
	eventually(t, "link moved to B", func() bool { return e.srv.UpstreamUp("PX-R") && len(b.authorizations()) == 1 })
	if got, want := b.authorizations()[0], "Basic "+base64.StdEncoding.EncodeToString([]byte("cp-r:pw for b")); got != want {
		t.Fatalf("B saw Authorization %q, want the route's %q", got, want)
	}
	boot := decode[v16.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
	if boot.Interval != 77 || len(b.received()) != 1 || b.received()[0].Action != "BootNotification" {
		t.Fatalf("boot after the move: %+v, B received %d", boot, len(b.received()))
	}
	eventually(t, "link recorded on B", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-R")
		return err == nil && l.Up && l.URL == urlB+"/PX-R"
	})

	// Back to the defaults: A again, with the charger's own credentials.
	if err := e.store.PutUpstreamRoute(ctx, &chargedesk.UpstreamRoute{ChargerID: "PX-R", Auth: chargedesk.UpstreamAuthForward}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "link back on A", func() bool { return e.srv.UpstreamUp("PX-R") && len(a.authorizations()) == 2 })
	if got := a.authorizations()[1]; got != basicAuth("PX-R", testPassword).Get("Authorization") {
		t.Fatalf("A saw %q after the route was reset", got)
	}
	if len(b.authorizations()) != 1 {
		t.Fatalf("B dialled %d times", len(b.authorizations()))
	}
}

// TestProxyDialBackoff: an upstream that refuses the link is dialled less
// and less often, up to UpstreamMaxRetry; the failures show in the link's
// recorded state and in /metrics, and the link comes up once it accepts.
func TestProxyDialBackoff(t *testing.T) {
	up, url := startClosingUpstream(t)
	up.refuse.Store(http.StatusServiceUnavailable)
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *Config) {
		c.Upstream = url
		c.UpstreamTimeout, c.UpstreamRetry, c.UpstreamMaxRetry = 2*time.Second, 20*time.Millisecond, 200*time.Millisecond
		c.Registerer = reg
	})
	e.register("PX-B")
	ctx := context.Background()
	e.connect("PX-B", chargedesk.OCPP16)
	time.Sleep(1500 * time.Millisecond)
	// Without backoff 75 dials; with it 20, 40, 80, 160, then 200 ms
	// apart (±20 %): about 10.
	n := up.dials.Load()
	if n < 5 || n > 16 {
		t.Fatalf("%d dials in 1.5 s", n)
	}
	if v := testutil.ToFloat64(e.srv.metrics.upstreamDialFailures); v < float64(n-1) {
		t.Fatalf("dial failure metric %v after %d refused dials", v, n)
	}
	eventually(t, "failures recorded", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-B")
		return err == nil && !l.Up && l.DialFailures >= 5 && strings.Contains(l.LastError, "503")
	})
	up.refuse.Store(0)
	eventually(t, "link up once accepted", func() bool { return e.srv.UpstreamUp("PX-B") })
	eventually(t, "recorded up, failures reset", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-B")
		return err == nil && l.Up && l.DialFailures == 0 && l.LastError == ""
	})
}

// TestProxyBootPolicy: while the upstream cannot be asked, a boot is
// answered by the UpstreamBoot policy; with "known", a charger the
// upstream accepted before is accepted, one it never did is kept Pending
// until the upstream answers its next boot.
func TestProxyBootPolicy(t *testing.T) {
	boot := func(ch *client) v16.BootNotificationResponse {
		return decode[v16.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"}))
	}
	registerPending := func(e *env, id string) {
		t.Helper()
		_, err := e.store.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{
			ID: id, PasswordHash: chargedesk.HashPassword(testPassword), BootStatus: chargedesk.RegistrationPending,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Run("known", func(t *testing.T) {
		up, url := startClosingUpstream(t)
		up.refuse.Store(http.StatusServiceUnavailable)
		e := newEnv(t, func(c *Config) {
			c.Upstream = url
			c.UpstreamTimeout, c.UpstreamRetry = time.Second, 20*time.Millisecond
		})
		registerPending(e, "PX-K")
		ch := e.connect("PX-K", chargedesk.OCPP16)
		r := boot(ch)
		if r.Status != v16.RegistrationStatusPending || r.Interval < 10 || r.Interval > 60 {
			t.Fatalf("never accepted by the upstream, booted during an outage: %+v, want Pending soon", r)
		}
		if c, _ := e.store.Charger(context.Background(), "PX-K"); c.BootStatus != chargedesk.RegistrationPending {
			t.Fatalf("stored %s", c.BootStatus)
		}
		up.refuse.Store(0)
		eventually(t, "link up", func() bool { return e.srv.UpstreamUp("PX-K") })
		if r := boot(ch); r.Status != v16.RegistrationStatusAccepted || r.Interval != 77 {
			t.Fatalf("boot through the upstream: %+v", r)
		}
		if c, _ := e.store.Charger(context.Background(), "PX-K"); c.BootStatus != chargedesk.RegistrationAccepted {
			t.Fatalf("stored %s after the upstream accepted", c.BootStatus)
		}
		up.refuse.Store(http.StatusServiceUnavailable)
		up.closeLinks(1001)
		eventually(t, "link down", func() bool { return !e.srv.UpstreamUp("PX-K") })
		if r := boot(ch); r.Status != v16.RegistrationStatusAccepted || r.Interval != 300 {
			t.Fatalf("known charger booted during an outage: %+v, want Accepted", r)
		}
	})
	for _, tc := range []struct {
		policy UpstreamBoot
		want   v16.RegistrationStatus
	}{{BootAccept, v16.RegistrationStatusAccepted}, {BootPending, v16.RegistrationStatusPending}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			up, url := startClosingUpstream(t)
			up.refuse.Store(http.StatusServiceUnavailable)
			e := newEnv(t, func(c *Config) {
				c.Upstream, c.UpstreamBoot = url, tc.policy
				c.UpstreamTimeout, c.UpstreamRetry = time.Second, 20*time.Millisecond
			})
			registerPending(e, "PX-P")
			ch := e.connect("PX-P", chargedesk.OCPP16)
			if r := boot(ch); r.Status != tc.want {
				t.Fatalf("boot during an outage: %+v, want %s", r, tc.want)
			}
		})
	}
	if _, err := New(context.Background(), Config{Store: newEnv(t, nil).store, Validator: validator, Upstream: "ws://127.0.0.1:1/ocpp", UpstreamBoot: "maybe"}); err == nil {
		t.Fatal("unknown boot policy accepted")
	}
}

// TestProxyConflict: chargedesk's own command while the upstream's command
// on the same connector is at the charger waits for it (never interleaved)
// or, with ConflictRefuse, is refused at once; a command on another
// connector, or one that changes nothing, is never refused.
func TestProxyConflict(t *testing.T) {
	for _, mode := range []UpstreamConflict{ConflictWait, ConflictRefuse} {
		t.Run(string(mode), func(t *testing.T) {
			up, url := startClosingUpstream(t)
			e := newEnv(t, func(c *Config) {
				c.Upstream, c.UpstreamConflict = url, mode
				c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 20*time.Millisecond
			})
			e.register("PX-C")
			ch := e.connect("PX-C", chargedesk.OCPP16)
			eventually(t, "link up", func() bool { return e.srv.UpstreamUp("PX-C") })

			up.call("up-1", "UnlockConnector", `{"connectorId":1}`)
			held := ch.expectCall("UnlockConnector")
			if held.ID != "up-1" {
				t.Fatalf("charger got %s, want the upstream's up-1", held.ID)
			}
			send := func(cmd chargedesk.Command) chan chargedesk.Result {
				out := make(chan chargedesk.Result, 1)
				cmd.ID, cmd.ChargerID, cmd.Timeout = "cmd-"+string(cmd.Kind), "PX-C", 5*time.Second
				go func() {
					r, err := e.srv.Send(context.Background(), cmd)
					if err != nil {
						r.Status, r.Detail = "error", err.Error()
					}
					out <- r
				}()
				return out
			}
			same := send(chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 1})
			if mode == ConflictRefuse {
				select {
				case r := <-same:
					if r.Status != chargedesk.ResultRefused || !strings.Contains(r.Detail, "UnlockConnector") {
						t.Fatalf("clashing command: %+v, want Refused", r)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("clashing command not refused at once")
				}
				other := send(chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 2})
				read := send(chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: 1, Trigger: "StatusNotification"})
				ch.reply(held, `{"status":"Unlocked"}`)
				if a := up.answer("up-1"); !strings.Contains(string(a.Payload), "Unlocked") {
					t.Fatalf("upstream got %s", a.Payload)
				}
				for range 2 {
					m := <-ch.calls
					if m.Action == "UnlockConnector" {
						ch.reply(m, `{"status":"Unlocked"}`)
					} else {
						ch.reply(m, `{"status":"Accepted"}`)
					}
				}
				if r := <-other; r.Status != chargedesk.ResultUnlocked {
					t.Fatalf("another connector's unlock: %+v", r)
				}
				if r := <-read; r.Status != chargedesk.ResultAccepted {
					t.Fatalf("a trigger: %+v", r)
				}
				return
			}
			// Waiting: nothing else reaches the charger before it answers.
			select {
			case m := <-ch.calls:
				t.Fatalf("charger got %s %s while the upstream's CALL was unanswered", m.Action, m.ID)
			case r := <-same:
				t.Fatalf("own command ended early: %+v", r)
			case <-time.After(300 * time.Millisecond):
			}
			ch.reply(held, `{"status":"Unlocked"}`)
			up.answer("up-1")
			mine := ch.expectCall("UnlockConnector")
			if mine.ID == "up-1" {
				t.Fatal("own command sent with the upstream's id")
			}
			ch.reply(mine, `{"status":"Unlocked"}`)
			if r := <-same; r.Status != chargedesk.ResultUnlocked {
				t.Fatalf("own command after waiting: %+v", r)
			}
			select {
			case a := <-up.answers:
				t.Fatalf("the upstream got the answer to chargedesk's own command: %+v", a)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

func TestCallScope(t *testing.T) {
	for _, c := range []struct {
		action, payload string
		scope           int
		changes         bool
	}{
		{"UnlockConnector", `{"connectorId":2}`, 2, true},
		{"UnlockConnector", `{"evseId":3,"connectorId":1}`, 3, true},
		{"ChangeAvailability", `{"connectorId":0,"type":"Inoperative"}`, 0, true},
		{"ChangeAvailability", `{"evse":{"id":2},"operationalStatus":"Inoperative"}`, 2, true},
		{"Reset", `{"type":"Soft"}`, 0, true},
		{"RemoteStopTransaction", `{"transactionId":5}`, 0, true},
		{"SetChargingProfile", `{"connectorId":1,"csChargingProfiles":{}}`, 1, true},
		{"TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":1}`, 0, false},
		{"GetConfiguration", `{}`, 0, false},
	} {
		scope, changes := callScope(c.action, []byte(c.payload))
		if scope != c.scope || changes != c.changes {
			t.Errorf("%s %s: %d %v, want %d %v", c.action, c.payload, scope, changes, c.scope, c.changes)
		}
	}
	if !clashes(0, 2) || !clashes(2, 2) || clashes(1, 2) {
		t.Error("clashes")
	}
}

// TestProxyChargingProfileTxID: a transaction that started during an
// outage has a local id at the charger; a SetChargingProfile the upstream
// sends for it by its own id reaches the charger with the local one, the
// rest of the profile as sent.
func TestProxyChargingProfileTxID(t *testing.T) {
	up, url := startClosingUpstream(t)
	up.refuse.Store(http.StatusServiceUnavailable)
	e := newEnv(t, func(c *Config) {
		c.Upstream = url
		c.UpstreamTimeout, c.UpstreamRetry, c.UpstreamMaxRetry = time.Second, 20*time.Millisecond, 50*time.Millisecond
	})
	e.register("PX-S")
	ch := e.connect("PX-S", chargedesk.OCPP16)
	st := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": ts(time.Now())}))
	if st.TransactionID < localTxBase {
		t.Fatalf("started with %d during the outage, want a local id", st.TransactionID)
	}
	up.refuse.Store(0)
	eventually(t, "held start delivered", func() bool {
		n, _ := e.store.CountHeldUpstream(context.Background(), "PX-S")
		return n == 0 && e.srv.UpstreamUp("PX-S")
	})
	// The closing upstream numbers from 100.
	profile := `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":7,"transactionId":100,"stackLevel":0,` +
		`"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",` +
		`"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`
	up.call("up-scp", "SetChargingProfile", profile)
	got := ch.expectCall("SetChargingProfile")
	var p struct {
		ConnectorID int `json:"connectorId"`
		Profile     struct {
			ID            int             `json:"chargingProfileId"`
			TransactionID int             `json:"transactionId"`
			Schedule      json.RawMessage `json:"chargingSchedule"`
		} `json:"csChargingProfiles"`
	}
	if err := json.Unmarshal(got.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Profile.TransactionID != st.TransactionID || p.Profile.ID != 7 || p.ConnectorID != 1 ||
		!strings.Contains(string(p.Profile.Schedule), `"limit":16`) || got.ID != "up-scp" {
		t.Fatalf("charger got %s %s, want transaction %d and the profile as sent", got.ID, got.Payload, st.TransactionID)
	}
	ch.reply(got, `{"status":"Accepted"}`)
	if a := up.answer("up-scp"); !strings.Contains(string(a.Payload), "Accepted") {
		t.Fatalf("upstream got %s", a.Payload)
	}
}

// TestProxyChargerReconnects: a charger that leaves takes its upstream link
// with it (recorded down); one that comes back gets a new link, and what
// was held for it before it left is delivered then, in order.
func TestProxyChargerReconnects(t *testing.T) {
	up, url := startClosingUpstream(t)
	e := newEnv(t, func(c *Config) {
		c.Upstream = url
		c.UpstreamTimeout, c.UpstreamRetry, c.UpstreamMaxRetry = time.Second, 20*time.Millisecond, 50*time.Millisecond
	})
	e.register("PX-Q")
	ctx := context.Background()
	ch := e.connect("PX-Q", chargedesk.OCPP16)
	eventually(t, "link up", func() bool { return e.srv.UpstreamUp("PX-Q") && up.open.Load() == 1 })
	ch.ws.CloseNow()
	eventually(t, "link closed with the charger", func() bool { return up.open.Load() == 0 && !e.srv.Connected("PX-Q") })
	eventually(t, "recorded down", func() bool {
		l, err := e.store.UpstreamLink(ctx, "PX-Q")
		return err == nil && !l.Up && l.LastError == "charger disconnected"
	})

	// Back during an outage: held; gone again; back once the upstream is.
	up.refuse.Store(http.StatusServiceUnavailable)
	ch = e.connect("PX-Q", chargedesk.OCPP16)
	st := decode[v16.StartTransactionResponse](t, ch.call("StartTransaction", map[string]any{"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": ts(time.Now())}))
	ch.call("StopTransaction", map[string]any{"transactionId": st.TransactionID, "meterStop": 900, "timestamp": ts(time.Now())})
	if n, _ := e.store.CountHeldUpstream(ctx, "PX-Q"); n != 2 {
		t.Fatalf("%d held", n)
	}
	ch.ws.CloseNow()
	eventually(t, "charger gone", func() bool { return !e.srv.Connected("PX-Q") })
	up.refuse.Store(0)
	before := len(up.received())
	ch = e.connect("PX-Q", chargedesk.OCPP16)
	eventually(t, "held delivered after the charger came back", func() bool {
		n, _ := e.store.CountHeldUpstream(ctx, "PX-Q")
		return n == 0 && len(up.received()) >= before+2
	})
	got := up.received()[before:]
	if got[0].Action != "StartTransaction" || got[1].Action != "StopTransaction" ||
		!strings.Contains(string(got[1].Payload), `"transactionId":100`) {
		t.Fatalf("upstream received %s %s (%s)", got[0].Action, got[1].Action, got[1].Payload)
	}
	ch.call("Heartbeat", map[string]any{})
}
